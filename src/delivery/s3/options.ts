import { UserError } from '../../errors.js'

/**
 * The inputs of `delivery: s3`: the bucket and key prefix, and how Run Command fans out:
 * max-parallel-targets as MaxConcurrency (a count or a percentage) and MaxErrors (0 with fail-fast,
 * else `max-errors`, default all). MaxConcurrency defaults to Run Command's own 50, not push's 1:
 * each instance verifies every file before it publishes and keeps its current release when a fetch
 * or a check fails, and a rolling 1 would make a fleet take as long as N script runs in a row.
 */
export interface S3DeliveryConfig {
  bucket: string
  prefix: string
  maxConcurrency: string
  maxErrors: string
}

/** Run Command's own default MaxConcurrency. */
export const DEFAULT_MAX_CONCURRENCY = '50'

const COUNT_OR_PERCENT = /^([1-9][0-9]{0,5}|[1-9][0-9]?%|100%)$/
const ERRORS = /^(0|[1-9][0-9]{0,5}|[0-9]{1,2}%|100%)$/
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export function parseS3Delivery(input: (name: string) => string, failFast: boolean): S3DeliveryConfig {
  const bucket = input('s3-bucket').trim()
  if (!bucket)
    throw new UserError(
      "Input 's3-bucket' is required with delivery: s3: the bucket the runner uploads to and the instances fetch from."
    )
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw new UserError(
      `Input 's3-bucket' '${bucket}' is not a bucket name (3-63 lower-case letters, digits, '.' and '-').`
    )
  const prefix =
    input('s3-prefix')
      .trim()
      .replace(/^\/+|\/+$/g, '') || 'ec2-push'
  if (/[\\"\s]/.test(prefix) || prefix.split('/').some(p => p === '' || p === '.' || p === '..'))
    throw new UserError(
      `Input 's3-prefix' '${prefix}' must be a key prefix like 'deploys/web' (no spaces, quotes, backslashes, empty or '..' parts).`
    )
  const parallel = input('max-parallel-targets').trim() || DEFAULT_MAX_CONCURRENCY
  if (!COUNT_OR_PERCENT.test(parallel))
    throw new UserError(
      `Input 'max-parallel-targets' with delivery: s3 is a count (e.g. 8) or a percentage (e.g. 10%), got '${parallel}'.`
    )
  const rawErrors = input('max-errors').trim()
  if (rawErrors && failFast)
    throw new UserError(
      "Input 'max-errors' needs fail-fast: false (fail-fast stops at the first failed instance, MaxErrors 0)."
    )
  const maxErrors = failFast ? '0' : rawErrors || '100%'
  if (!ERRORS.test(maxErrors))
    throw new UserError(
      `Input 'max-errors' is a count (e.g. 2) or a percentage (e.g. 10%), got '${maxErrors}'.`
    )
  return { bucket, prefix, maxConcurrency: parallel, maxErrors }
}
