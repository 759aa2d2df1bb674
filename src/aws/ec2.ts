import { EC2Client } from '@aws-sdk/client-ec2'
import type { AwsContext } from './credentials.js'
import { sdkProxyConfig } from '../net/proxy-agent.js'

const clients = new WeakMap<AwsContext, EC2Client>()

/**
 * One EC2 client per AWS context (the SDK honours AWS_ENDPOINT_URL_EC2, which points it at the
 * simulator in tests and the sandbox). Its credential provider also signs the EICE tunnel URLs.
 */
export function ec2ClientFor(aws: AwsContext): EC2Client {
  let client = clients.get(aws)
  if (!client) {
    client = new EC2Client({
      region: aws.region || undefined,
      credentials: aws.credentials,
      ...sdkProxyConfig()
    })
    clients.set(aws, client)
  }
  return client
}

/** The SDK's error code (`name`) of a failed call, or '' for non-service errors. */
export function awsErrorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown }
    for (const v of [e.Code, e.name, e.code]) if (typeof v === 'string' && v) return v
  }
  return ''
}

/** The first sentence-sized piece of an AWS error message (IAM messages run long). */
export function awsErrorMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return m.replace(/\s+/g, ' ').trim()
}

/** Bound on the pages one EC2 Describe* lookup reads (1000 instances, or many endpoints, a page). */
export const MAX_PAGES = 20
