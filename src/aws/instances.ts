import { paginateDescribeInstances, type Filter, type Instance } from '@aws-sdk/client-ec2'
import type { TargetSpec } from '../config.js'
import { TransientError, UserError } from '../errors.js'
import type { AwsContext } from './credentials.js'
import { awsErrorCode, awsErrorMessage, ec2ClientFor, MAX_PAGES } from './ec2.js'

/** What the tunnels need to know about one target instance. */
export interface InstanceInfo {
  instanceId: string
  /** EC2 state name; describeTargets only returns `running` instances. */
  state: string
  privateIpAddress?: string
  ipv6Address?: string
  vpcId: string
  subnetId: string
  securityGroupIds: string[]
  /** The Name tag, when set. */
  name?: string
  availabilityZone?: string
  /** The target spec (its label: an id or `tag:Key=Value`) that selected this instance. */
  target: string
}

/**
 * Look up the instance targets: each id must exist and be running; each `tag:Key=Value` expands to
 * every running instance carrying that tag (at least one). Host specs need no lookup and are skipped.
 * Duplicates (an instance named twice) are returned once, in first-mention order.
 */
export async function describeTargets(specs: TargetSpec[], aws: AwsContext): Promise<InstanceInfo[]> {
  const out: InstanceInfo[] = []
  const seen = new Set<string>()
  const add = (i: InstanceInfo) => {
    if (!seen.has(i.instanceId)) {
      seen.add(i.instanceId)
      out.push(i)
    }
  }
  const idSpecs = specs.filter((s): s is Extract<TargetSpec, { kind: 'instance' }> => s.kind === 'instance')
  const hybrid = idSpecs.find(s => s.instanceId.startsWith('mi-'))
  if (hybrid) {
    throw new UserError(
      `${hybrid.instanceId} is a Systems Manager hybrid node (mi-), not an EC2 instance: only mode 'ssm' can reach it, and it has no EC2 details to look up.`
    )
  }
  if (idSpecs.length) {
    const ids = [...new Set(idSpecs.map(s => s.instanceId))]
    const found = await describe(aws, { InstanceIds: ids }, `instance ${ids.join(', ')}`)
    const byId = new Map(found.map(i => [i.InstanceId, i]))
    for (const spec of specs) {
      if (spec.kind === 'instance') {
        const inst = byId.get(spec.instanceId)
        if (!inst) throw notFound([spec.instanceId], aws.region)
        const info = toInfo(inst, spec.label)
        const stopped = notRunning(info)
        if (stopped) throw stopped
        add(info)
      } else if (spec.kind === 'tag') {
        for (const info of await describeTag(spec, aws)) add(info)
      }
    }
    return out
  }
  for (const spec of specs)
    if (spec.kind === 'tag') for (const info of await describeTag(spec, aws)) add(info)
  return out
}

async function describeTag(
  spec: Extract<TargetSpec, { kind: 'tag' }>,
  aws: AwsContext
): Promise<InstanceInfo[]> {
  const all = (
    await describe(aws, { Filters: [{ Name: `tag:${spec.key}`, Values: [spec.value] }] }, spec.label)
  ).map(i => toInfo(i, spec.label))
  const running = all.filter(i => i.state === 'running')
  if (running.length) return running
  const where = aws.region ? ` in ${aws.region}` : ''
  if (!all.length) {
    throw new UserError(
      `No instance${where} has the tag ${spec.key}=${spec.value} (target '${spec.label}'): check the tag key and value (both case-sensitive) and the region.`
    )
  }
  const states = all
    .slice(0, 5)
    .map(i => `${label(i)} is ${i.state}`)
    .join(', ')
  throw new UserError(
    `No running instance has the tag ${spec.key}=${spec.value}${where} (${states}${all.length > 5 ? ', ...' : ''}): start one, or fix the target '${spec.label}'.`
  )
}

async function describe(
  aws: AwsContext,
  input: { InstanceIds?: string[]; Filters?: Filter[] },
  what: string
): Promise<Instance[]> {
  const instances: Instance[] = []
  let pages = 0
  try {
    for await (const page of paginateDescribeInstances({ client: ec2ClientFor(aws) }, input)) {
      for (const r of page.Reservations ?? []) instances.push(...(r.Instances ?? []))
      if (++pages >= MAX_PAGES) break
    }
  } catch (err) {
    throw mapDescribeError(err, input.InstanceIds ?? [], aws.region, what)
  }
  return instances
}

/** What the tunnels need from one DescribeInstances item (`target`: the spec label that selected it). */
export function toInfo(i: Instance, target: string): InstanceInfo {
  const name = i.Tags?.find(t => t.Key === 'Name')?.Value
  return {
    instanceId: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    privateIpAddress: i.PrivateIpAddress || undefined,
    ipv6Address: i.Ipv6Address || undefined,
    vpcId: i.VpcId ?? '',
    subnetId: i.SubnetId ?? '',
    securityGroupIds: (i.SecurityGroups ?? []).map(g => g.GroupId ?? '').filter(Boolean),
    name: name || undefined,
    availabilityZone: i.Placement?.AvailabilityZone,
    target
  }
}

function label(i: InstanceInfo): string {
  return i.name ? `${i.instanceId} (${i.name})` : i.instanceId
}

function notRunningMessage(i: InstanceInfo): string {
  const who = `Instance ${label(i)}`
  switch (i.state) {
    case 'stopped':
      return `${who} is stopped: start it (aws ec2 start-instances --instance-ids ${i.instanceId}) and run the deploy again.`
    case 'stopping':
      return `${who} is stopping: start it again once it has stopped, then run the deploy again.`
    case 'pending':
      return `${who} is still starting (pending): wait until it is running, then run the deploy again.`
    case 'shutting-down':
    case 'terminated':
      return `${who} is ${i.state}: it can no longer be deployed to; remove it from 'targets'.`
    default:
      return `${who} is ${i.state}, not running: deploys need a running instance.`
  }
}

/** EC2 says the instance does not exist (a wrong id, Region or account): no retry or other path helps. */
export class NoSuchInstanceError extends UserError {}

/** The one line for instance ids that EC2 says do not exist. */
export function notFound(ids: string[], region: string): NoSuchInstanceError {
  const where = region ? ` in ${region}` : ''
  const what =
    ids.length > 1 ? `Instances ${ids.join(', ')} do not exist` : `Instance ${ids.join(', ')} does not exist`
  return new NoSuchInstanceError(
    `${what}${where} for these credentials: check the instance id, the region (aws-region; instances are regional) and the AWS account the credentials belong to.`
  )
}

/**
 * What EC2 says of one instance id: it does not exist (`missing`), or it exists (with its state), or
 * the question could not be answered (`unknown`, with why: a permission, say).
 */
export async function instanceExistence(
  instanceId: string,
  aws: AwsContext
): Promise<{ missing: NoSuchInstanceError } | { info: InstanceInfo } | { unknown: string }> {
  try {
    const found = await describe(aws, { InstanceIds: [instanceId] }, `instance ${instanceId}`)
    const inst = found.find(i => i.InstanceId === instanceId)
    return inst ? { info: toInfo(inst, instanceId) } : { missing: notFound([instanceId], aws.region) }
  } catch (err) {
    if (err instanceof NoSuchInstanceError) return { missing: err }
    return { unknown: err instanceof Error ? err.message : String(err) }
  }
}

/** Why an instance that exists cannot be deployed to, or undefined when it is running. */
export function notRunning(info: InstanceInfo): UserError | undefined {
  return info.state === 'running' ? undefined : new UserError(notRunningMessage(info))
}

/** Turn the SDK's failures into one-line errors that say which permission or input to fix. */
export function mapDescribeError(err: unknown, ids: string[], region: string, what: string): Error {
  if (err instanceof UserError) return err // e.g. a proxy that refuses: its message names it
  const code = awsErrorCode(err)
  const msg = awsErrorMessage(err)
  switch (code) {
    case 'UnauthorizedOperation':
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new UserError(
        `The AWS credentials may not call ec2:DescribeInstances (${code}): allow "ec2:DescribeInstances" on resource "*" in the role's policy.`
      )
    case 'InvalidInstanceID.NotFound': {
      const listed = [...msg.matchAll(/i-[0-9a-f]+/g)].map(m => m[0])
      return notFound(listed.length ? listed : ids, region)
    }
    case 'InvalidInstanceID.Malformed':
      return new UserError(
        `EC2 rejected the instance id in ${what} as malformed (${msg}): instance ids look like i-0123456789abcdef0.`
      )
    case 'AuthFailure':
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
    case 'SignatureDoesNotMatch':
    case 'IncompleteSignature':
      return new UserError(
        `EC2 did not accept the AWS credentials (${code}: ${msg}): check the credentials step (role-to-assume or the access keys).`
      )
    case 'RequestExpired':
      return new UserError(
        `EC2 says the request has expired (${msg}): the runner's clock is probably wrong, or the session credentials expired.`
      )
    case 'CredentialsProviderError':
      return new UserError(
        `No AWS credentials were found for ec2:DescribeInstances: set role-to-assume (OIDC) or run aws-actions/configure-aws-credentials first.`
      )
    case 'InvalidParameterValue':
    case 'InvalidParameterCombination':
      return new UserError(`EC2 rejected the lookup of ${what} (${code}: ${msg}).`)
    default:
      return new TransientError(
        `ec2:DescribeInstances for ${what} failed${code ? ` (${code})` : ''}: ${msg}`,
        { cause: err }
      )
  }
}
