import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { SSMClient } from '@aws-sdk/client-ssm'
import { createHash, randomBytes } from 'node:crypto'
import os from 'node:os'
import type { DeployConfig } from '../../config.js'
import type { TargetResult } from '../../deploy/types.js'
import { errorMessage, UserError } from '../../errors.js'
import { planFiles, type FilePlan } from '../../files/plan.js'
import type { Logger } from '../../log.js'
import { releaseDir } from '../../remote/names.js'
import { runLabel } from '../../remote/releases.js'
import {
  MANIFEST_HEADER,
  manifestLine,
  packLine,
  protectRegex,
  renderS3ReleaseScript
} from '../../remote/s3-release.js'
import { summarise } from '../../report/results.js'
import type { DeployRun } from '../../run-deploy.js'
import { hashLocalFiles } from '../../sync/local-hash.js'
import { currentCredentials, resolveAwsContext, type ResolveAwsOptions } from '../../aws/credentials.js'
import { s3Failure } from './errors.js'
import { objectKey, uploadObjects } from './objects.js'
import { buildPack, packable } from './pack.js'
import type { S3DeliveryConfig } from './options.js'
import { createPresigner } from './presign.js'
import { describeOutcomes, summaryTable } from './results.js'
import {
  Interrupted,
  SendCommandFailure,
  sendCommands,
  stopCommands,
  waitForInvocations,
  type InvocationOutcome
} from './run-command.js'
import { sdkProxyConfig } from '../../net/proxy-agent.js'
import { awsErrorCode, awsErrorMessage } from '../../aws/ec2.js'

/**
 * `delivery: s3`, the whole of it: match and hash the files, upload each distinct one once to S3
 * (content-addressed; small files in one pack), put a manifest listing them with presigned GET URLs, then one Run Command
 * (per 50 ids or per tag target) whose parameters hold only the release script and the manifest's
 * presigned URL. Each instance fetches, verifies and publishes by itself; the runner polls, then
 * reports per instance. Never throws, like runDeploy.
 */
export async function runS3Delivery(
  config: DeployConfig,
  s3: S3DeliveryConfig,
  logger: Logger,
  opts: {
    cwd?: string
    aws?: ResolveAwsOptions
    pollMs?: number
    offlineAfterMs?: number
    /** Aborted on SIGINT/SIGTERM: uploads stop, and a command already sent is cancelled. */
    cancel?: AbortSignal
    /** How long cancelled invocations get to end before they are reported as not confirmed. */
    confirmCancelMs?: number
  } = {}
): Promise<DeployRun> {
  const started = Date.now()
  const mode = 's3'
  const releasePath =
    config.release === 'atomic' && !config.rollback
      ? releaseDir(config.remotePath, config.releaseId)
      : config.remotePath
  let results: TargetResult[] = []
  let filesTotal = 0
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error('timeout')), config.timeoutSeconds * 1000)
  const cancel = opts.cancel ?? new AbortController().signal
  const signal = AbortSignal.any([controller.signal, cancel])
  try {
    if (!config.remotePath.startsWith('/'))
      throw new UserError(
        `With delivery: s3, 'remote-path' must be absolute (Run Command scripts run as root in the agent's folder), got '${config.remotePath}'.`
      )
    const aws = await logger.group('AWS credentials', () => resolveAwsContext(config.aws, logger, opts.aws))
    const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION
    if (!region) throw new UserError("No AWS region: set 'aws-region' (or AWS_REGION).")
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined
    const s3Client = new S3Client({
      region,
      credentials: aws.credentials,
      forcePathStyle: !!endpoint,
      ...sdkProxyConfig()
    })
    const ssm = new SSMClient({ region, credentials: aws.credentials, ...sdkProxyConfig() })

    const plan: FilePlan = config.rollback
      ? { root: '', files: [], totalBytes: 0 }
      : await logger.group('Files', () =>
          planFiles({
            patterns: config.files,
            baseDir: config.baseDir,
            includeHiddenFiles: config.includeHiddenFiles,
            ifNoFilesFound: config.ifNoFilesFound,
            logger,
            cwd: opts.cwd
          })
        )
    filesTotal = plan.files.length
    const awkward = plan.files.find(f => [...f.relativePath].some(c => c < ' ' || c === '\x7f'))
    if (awkward)
      throw new UserError(
        `delivery: s3 cannot carry the file name ${JSON.stringify(awkward.relativePath)} (a control character: the manifest is one line per file, tab-separated); rename it or use delivery: push.`
      )
    if (!config.rollback && plan.files.length === 0)
      return { outputs: summarise([], Date.now() - started, 0, mode), releasePath }

    const token = randomBytes(8).toString('hex')
    // The URLs live no longer than the step may run: the command cannot outlive them usefully.
    const presigner = createPresigner(
      { bucket: s3.bucket, region, endpoint },
      () => currentCredentials(aws),
      config.timeoutSeconds
    )
    let manifestUrl = ''
    if (!config.rollback) {
      const digests = await hashLocalFiles(plan.files)
      const objects = plan.files.map(f => ({ ...f, sha256: digests.get(f.relativePath)! }))
      const inPack = packable(objects)
      const pack = await buildPack(inPack)
      const packed = new Set(pack ? inPack.map(f => f.relativePath) : [])
      const own = objects.filter(o => !packed.has(o.relativePath))
      if (!config.dryRun) {
        const up = await logger.group('Upload to S3', () =>
          uploadObjects(
            s3Client,
            s3.bucket,
            s3.prefix,
            [...own, ...(pack ? [{ sha256: pack.sha256, size: pack.body.length, body: pack.body }] : [])],
            signal
          )
        )
        logger.info(
          `s3://${s3.bucket}/${s3.prefix}/objects: ${up.uploaded} objects uploaded (${up.bytes} bytes), ${up.skipped} already there${pack ? `; ${packed.size} small files travel in one pack of ${pack.body.length} bytes` : ''}`
        )
      }
      const lines = [
        MANIFEST_HEADER,
        packLine(
          pack && {
            sha256: pack.sha256,
            size: pack.body.length,
            url: await presigner.url(objectKey(s3.prefix, pack.sha256))
          }
        )
      ]
      for (const o of objects) {
        const at = packed.has(o.relativePath) ? pack!.members.get(o.sha256)! : undefined
        lines.push(
          manifestLine({
            sha256: o.sha256,
            mode: o.mode,
            size: o.size,
            path: o.relativePath,
            source: at
              ? `${at.path === o.relativePath ? '=' : '+'}${at.offset}`
              : await presigner.url(objectKey(s3.prefix, o.sha256))
          })
        )
      }
      const body = Buffer.from(lines.join('\n') + '\n')
      const manifestKey = `${s3.prefix}/manifests/${config.releaseId}-${token}.tsv`
      try {
        await s3Client.send(
          new PutObjectCommand({
            Bucket: s3.bucket,
            Key: manifestKey,
            Body: body,
            ContentType: 'text/tab-separated-values',
            ChecksumSHA256: createHash('sha256').update(body).digest('base64')
          }),
          { abortSignal: signal }
        )
      } catch (err) {
        throw s3Failure(err, 'PutObject', s3.bucket, manifestKey)
      }
      manifestUrl = await presigner.url(manifestKey)
      logger.setSecret(manifestUrl)
      logger.setSecret(new URL(manifestUrl).searchParams.get('X-Amz-Signature') ?? '')
      // S3 refuses a presigned URL once the session that signed it has expired, whatever its X-Amz-Expires.
      const expires = (await currentCredentials(aws)).expiration
      const deadline = started + config.timeoutSeconds * 1000
      if (expires && expires.getTime() < deadline)
        logger.warning(
          `The presigned URLs are signed with credentials that expire at ${expires.toISOString()}, ${Math.round((deadline - expires.getTime()) / 1000)} s before timeout-seconds (${config.timeoutSeconds} s) runs out: an instance whose command starts after that cannot fetch (S3 answers 403). Raise role-duration-seconds (or the lifetime of the credentials given), or lower timeout-seconds.`
        )
    }

    const script = renderS3ReleaseScript({
      remotePath: config.remotePath,
      manifestUrl,
      release: config.release,
      releaseId: config.releaseId,
      keepReleases: config.keepReleases,
      sync: config.sync,
      delete: config.delete,
      protectRegex: protectRegex(config.protect),
      dryRun: config.dryRun,
      rollback: config.rollback,
      preCommand: config.preCommand,
      postCommand: config.postCommand,
      token,
      run: runLabel(),
      lockTtlSeconds: config.timeoutSeconds + 60,
      // The lock's owner as push writes it, so either delivery reads the other's holder.
      owner: {
        token,
        repo: process.env.GITHUB_REPOSITORY ?? '',
        run: process.env.GITHUB_RUN_ID ?? 'local',
        attempt: process.env.GITHUB_RUN_ATTEMPT ?? '',
        runner: process.env.RUNNER_NAME ?? '',
        host: os.hostname(),
        pid: process.pid,
        ttl: config.timeoutSeconds + 60
      }
    })
    // From what is left of the step's limit once the files are in S3, so a command that hangs
    // times out while the runner is still there to say which instance it was.
    const commandTimeout = executionTimeout(config.timeoutSeconds - Math.ceil((Date.now() - started) / 1000))
    const sent: string[] = []
    const { outcomes, stop } = await logger.group('Run Command', async () => {
      try {
        await sendCommands(
          ssm,
          {
            targets: config.targets,
            script,
            executionTimeoutSeconds: commandTimeout,
            maxConcurrency: s3.maxConcurrency,
            maxErrors: s3.maxErrors,
            comment: `ec2-push ${config.rollback ? 'rollback' : config.releaseId}`,
            signal
          },
          sent
        )
        logger.info(
          `SendCommand: ${sent.join(', ')} (MaxConcurrency ${s3.maxConcurrency}, MaxErrors ${s3.maxErrors})`
        )
        let last = -1
        const outcomes = await waitForInvocations(ssm, sent, {
          signal,
          pollMs: opts.pollMs ?? 250,
          offlineAfterMs: opts.offlineAfterMs,
          onProgress: (done, total) => {
            if (done !== last) logger.info(`${done} of ${total} instances done`)
            last = done
          }
        })
        return { outcomes, stop: undefined }
      } catch (err) {
        if (!sent.length) throw err
        // Whatever stopped the step (a cancellation, its time limit, a later batch refused, polling
        // failed), the commands already out are cancelled: no instance goes on deploying after it.
        const why = cancel.aborted
          ? 'the deploy was cancelled'
          : controller.signal.aborted
            ? `the step ran out of time, timeout-seconds ${config.timeoutSeconds}`
            : err instanceof SendCommandFailure
              ? 'SendCommand failed for a later batch'
              : 'the runner could not follow the command'
        const confirmMs = opts.confirmCancelMs ?? (cancel.aborted ? CONFIRM_AFTER_SIGNAL_MS : CONFIRM_MS)
        logger.info(`Cancelling ${sent.join(', ')}: ${why}`)
        const stopped = await stopCommands(ssm, sent, {
          last: err instanceof Interrupted ? err : undefined,
          pollMs: opts.pollMs ?? 250,
          confirmMs
        })
        return { outcomes: stopped.outcomes, stop: { why, err, confirmMs, cancelError: stopped.cancelError } }
      }
    })
    if (outcomes.length === 0 && !stop)
      throw new UserError(
        `No instance matched the targets (${config.targets.map(t => t.label).join(', ')}): check the tag key and value and that the instances are managed by Systems Manager.`
      )
    results = describeOutcomes(
      outcomes,
      plan.files.length,
      { ...config, timeoutSeconds: commandTimeout },
      line => logger.mask?.(line) ?? line,
      stop?.why
    )
    for (const line of summaryTable(results)) logger.info(line)
    const outputs = summarise(results, Date.now() - started, filesTotal, mode)
    const finalPath = results.find(r => r.status === 'success' && r.releasePath)?.releasePath ?? releasePath
    if (stop) {
      const line = stopLine(outcomes, stop.confirmMs, stop.cancelError)
      const first = cancel.aborted
        ? `The deploy was cancelled: ${line}`
        : controller.signal.aborted
          ? `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s): ${line}; raise 'timeout-seconds'`
          : stop.err instanceof SendCommandFailure
            ? `${stop.err.message}; ${line}`
            : `Run Command could not be followed: ${followError(stop.err)}; ${line}`
      // A refused batch is the one line asked for; otherwise the instances that failed follow it.
      const failedLines = results
        .filter(r => r.status === 'failure')
        .map(r => `  ${r.target}: ${r.error ?? 'failed'}`)
      const error = stop.err instanceof SendCommandFailure ? first : [first, ...failedLines].join('\n')
      return { outputs, releasePath: finalPath, error }
    }
    const failed = results.filter(r => r.status === 'failure')
    if (failed.length === 0 && !results.some(r => r.status === 'cancelled' || r.status === 'skipped'))
      return {
        outputs,
        releasePath: finalPath,
        ...(config.dryRun
          ? { plan: JSON.stringify({ dryRun: true, delivery: 's3', releasePath, targets: results }) }
          : {})
      }
    return { outputs, releasePath: finalPath, error: failureReport(results) }
  } catch (err) {
    let message = errorMessage(err)
    if (cancel.aborted && !(err instanceof UserError))
      message = 'The deploy was cancelled before Run Command was sent; no instance was changed.'
    else if (controller.signal.aborted && !cancel.aborted)
      message = `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s) and Run Command was not sent; no instance was changed; raise 'timeout-seconds'.`
    if (!(err instanceof UserError)) logger.debug(err instanceof Error ? (err.stack ?? message) : message)
    return {
      outputs: summarise(results, Date.now() - started, filesTotal, mode),
      releasePath,
      error: message
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * After a cancellation signal the process exits 6.5 s later (cancellation.ts): 3 s to confirm, then
 * at most half that to read outputs.
 */
const CONFIRM_AFTER_SIGNAL_MS = 3000
/** Otherwise, how long cancelled invocations get to end before they are reported as not confirmed. */
const CONFIRM_MS = 15_000

/**
 * What stopping did, in one line: the instances cancelled while running and before starting (a
 * few named), and those whose end Run Command had not confirmed when the wait gave up.
 */
export function stopLine(outcomes: InvocationOutcome[], confirmMs: number, cancelError?: string): string {
  const running = outcomes.filter(o => o.stopped === 'running').map(o => o.instanceId)
  const waiting = outcomes.filter(o => o.stopped === 'waiting').map(o => o.instanceId)
  const open = outcomes.filter(o => o.unconfirmed).map(o => `${o.instanceId} (${o.status})`)
  const parts = [
    running.length && `${running.length} while running (${some(running)})`,
    waiting.length && `${waiting.length} before starting (${some(waiting)})`
  ].filter(Boolean)
  const said = [
    parts.length
      ? `Run Command cancelled ${running.length + waiting.length} instances: ${parts.join(', ')}`
      : 'Run Command was asked to cancel the commands sent, and no instance was still running them'
  ]
  if (open.length)
    said.push(
      `cancellation not confirmed after ${Math.round(confirmMs / 1000)} s on ${open.length} (${some(open)}): their scripts may still be running`
    )
  if (cancelError) said.push(`CancelCommand failed: ${cancelError}`)
  return said.join('; ')
}

/** Why polling Run Command failed, as the service said it. */
function followError(err: unknown): string {
  const cause = err instanceof Interrupted ? err.reason : err
  const code = awsErrorCode(cause)
  const hint =
    code === 'AccessDeniedException'
      ? " (the runner's role needs ssm:ListCommandInvocations and ssm:GetCommandInvocation)"
      : ''
  return `${code && code !== 'Error' ? code + ': ' : ''}${awsErrorMessage(cause)}${hint}`
}

const some = (items: string[], n = 5) =>
  items.length <= n ? items.join(', ') : `${items.slice(0, n).join(', ')} and ${items.length - n} more`

/**
 * The command's executionTimeout: the time the step has left less a margin (a quarter, at most
 * 60 s), so the runner is still there to read a timed-out instance's output and say which one it was.
 */
export function executionTimeout(timeoutSeconds: number): number {
  return Math.min(172800, Math.max(5, timeoutSeconds - Math.min(60, Math.floor(timeoutSeconds / 4))))
}

/** The step's error: how many failed, then one line per instance that failed or was cancelled, with why. */
export function failureReport(results: TargetResult[]): string {
  const failed = results.filter(r => r.status === 'failure')
  const notRun = results.filter(r => r.status === 'skipped').length
  const cancelled = results.filter(r => r.status === 'cancelled')
  const besides = [
    ...(notRun ? [`${notRun} not run: MaxErrors reached`] : []),
    ...(cancelled.length ? [`${cancelled.length} cancelled`] : [])
  ]
  const head = `${failed.length} of ${results.length} instances failed${besides.length ? ` (${besides.join(', ')})` : ''}:`
  return [head, ...[...failed, ...cancelled].map(r => `  ${r.target}: ${r.error ?? r.status}`)].join('\n')
}
