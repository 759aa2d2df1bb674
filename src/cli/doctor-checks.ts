import {
  DescribeInstanceConnectEndpointsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  type Instance,
  type SecurityGroup
} from '@aws-sdk/client-ec2'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { chooseMode, type AutoModeFacts } from '../aws/auto-mode.js'
import type { AwsContext } from '../aws/credentials.js'
import { awsErrorCode, awsErrorMessage, ec2ClientFor } from '../aws/ec2.js'
import { mapDescribeError, NoSuchInstanceError, toInfo, type InstanceInfo } from '../aws/instances.js'
import { ssmManagedStatus, type SsmManagedStatus } from '../aws/ssm-info.js'
import { parseTarget } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import {
  findEndpoint,
  targetAddress,
  USABLE_ENDPOINT_STATES,
  type EndpointInfo
} from '../tunnel/eice/endpoint.js'
import { portAllowed } from './security-groups.js'
import { sdkProxyConfig } from '../net/proxy-agent.js'

/**
 * `ec2-push doctor`: what each path needs, checked with the caller's credentials, one row per fact.
 * Read-only: Describe* calls and EC2 dry runs; nothing is started unless the caller asks to connect.
 */

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'info'

export interface Check {
  area: 'credentials' | 'permissions' | 'instance' | 'ssm' | 'eice' | 'auto' | 'connect'
  check: string
  status: CheckStatus
  detail: string
}

export interface DoctorReport {
  target: string
  region: string
  instanceId?: string
  checks: Check[]
  /** What `mode: auto` would do. */
  auto: { mode?: 'ssm' | 'eice'; reason?: string; error?: string }
  /** Whether each path looks usable from these checks. */
  paths: { ssm: boolean; eice: boolean }
  instance?: InstanceInfo
  endpoint?: EndpointInfo
  /** EC2 says the instance does not exist: this line says so, and nothing else was checked. */
  missing?: string
}

export async function runDoctor(
  target: string,
  aws: AwsContext,
  opts: { endpointId?: string; port?: number } = {}
) {
  const checks: Check[] = []
  const add = (area: Check['area'], check: string, status: CheckStatus, detail: string) =>
    void checks.push({ area, check, status, detail })
  const report: DoctorReport = {
    target,
    region: aws.region,
    checks,
    auto: {},
    paths: { ssm: false, eice: false }
  }

  const spec = parseTarget(target)
  if (spec.kind === 'host') {
    throw new UserError(
      `doctor checks instances (i-..., mi-..., tag:Key=Value); '${target}' is a host name, which needs no AWS path`
    )
  }
  await identity(aws, add)
  await dryRuns(aws, add)

  // mi- managed nodes are not EC2 instances: only Session Manager reaches them.
  const instance =
    spec.kind === 'instance' && spec.instanceId.startsWith('mi-') ? undefined : await lookUp(spec, aws, add)
  if (instance instanceof NoSuchInstanceError) {
    // Nothing else to check: no agent, endpoint or path can help an instance that does not exist.
    report.missing = instance.message
    report.auto = { error: instance.message }
    return report
  }
  if (instance) report.instance = instance
  const instanceId = instance?.instanceId ?? (spec.kind === 'instance' ? spec.instanceId : undefined)
  report.instanceId = instanceId
  if (!instanceId) return report
  const running = !instance || instance.state === 'running'

  // Session Manager
  let ssm: SsmManagedStatus | undefined
  let ssmError: string | undefined
  try {
    ssm = await ssmManagedStatus(instanceId, aws)
    add(
      'ssm',
      'managed node',
      ssm.managed ? 'ok' : 'fail',
      ssm.managed ? 'yes' : 'no: run the SSM Agent and attach a role with AmazonSSMManagedInstanceCore'
    )
    if (ssm.managed) {
      const online = (ssm.pingStatus ?? '').toLowerCase() === 'online'
      add(
        'ssm',
        'agent ping status',
        online ? 'ok' : 'fail',
        online
          ? 'Online'
          : `${ssm.pingStatus ?? 'unknown'}: the agent must be running and reach the ssm and ssmmessages endpoints`
      )
      add('ssm', 'agent version', ssm.agentVersion ? 'info' : 'warn', ssm.agentVersion ?? 'unknown')
      report.paths.ssm = online && running
    }
  } catch (err) {
    ssmError = errorMessage(err)
    add('ssm', 'managed node', 'fail', `could not check: ${ssmError} (allow ssm:DescribeInstanceInformation)`)
  }

  // EC2 Instance Connect Endpoint
  let endpointError: string | undefined
  if (instance) {
    try {
      const endpoint = await findEndpoint(instance, aws, opts.endpointId)
      report.endpoint = endpoint
      const where =
        endpoint.subnetId === instance.subnetId
          ? `the instance's subnet ${endpoint.subnetId}`
          : `${endpoint.vpcId} (subnet ${endpoint.subnetId})`
      add('eice', 'endpoint', 'ok', `${endpoint.endpointId} in ${where}`)
      add('eice', 'endpoint state', 'ok', endpoint.state)
      let addressOk = true
      try {
        add(
          'eice',
          'IP address type',
          'ok',
          `${endpoint.ipAddressType}; connects to ${targetAddress(instance, endpoint)}`
        )
      } catch (err) {
        addressOk = false
        add('eice', 'IP address type', 'fail', errorMessage(err))
      }
      const sgOk = await securityGroups(instance, endpoint, opts.port ?? 22, aws, add)
      report.paths.eice = running && addressOk && sgOk
    } catch (err) {
      endpointError = errorMessage(err)
      const denied = /not call|denied|not authorized/i.test(endpointError)
      add(
        'eice',
        'endpoint',
        'fail',
        denied ? endpointError : await noEndpointDetail(instance, aws, endpointError)
      )
    }
  } else {
    add('eice', 'endpoint', 'info', 'not applicable: EC2 Instance Connect Endpoints reach EC2 instances only')
  }

  // What auto would choose.
  const facts: AutoModeFacts = {
    isHost: false,
    target,
    instance: { instanceId, vpcId: instance?.vpcId, subnetId: instance?.subnetId },
    usableEndpoint:
      endpointError && /not call|denied|not authorized/i.test(endpointError) ? undefined : !!report.endpoint,
    endpointId: report.endpoint?.endpointId,
    endpointCheckError:
      endpointError && /not call|denied|not authorized/i.test(endpointError) ? endpointError : undefined,
    ssmManagedOnline: ssm,
    ssmCheckError: ssmError
  }
  const decision = running
    ? chooseMode(facts)
    : { error: `${instanceId} is ${instance?.state}: start it first` }
  if ('error' in decision) {
    report.auto = { error: decision.error }
    add('auto', 'mode auto', 'fail', decision.error)
  } else {
    const mode = decision.mode as 'ssm' | 'eice'
    report.auto = { mode, reason: decision.reason }
    const blocked = mode === 'eice' && !report.paths.eice
    add(
      'auto',
      'mode auto',
      blocked ? 'warn' : 'ok',
      blocked
        ? `would choose eice (${decision.reason}), but the checks above say eice cannot connect${report.paths.ssm ? ': set mode ssm, or fix them' : ': fix them'}`
        : `would choose ${mode}: ${decision.reason}`
    )
  }
  return report
}

type Add = (area: Check['area'], check: string, status: CheckStatus, detail: string) => void

async function identity(aws: AwsContext, add: Add) {
  const sts = new STSClient({ region: aws.region, credentials: aws.credentials, ...sdkProxyConfig() })
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}))
    add('credentials', 'identity', 'ok', `${me.Arn} (account ${me.Account})`)
  } catch (err) {
    const code = awsErrorCode(err)
    add(
      'credentials',
      'identity',
      code === 'CredentialsProviderError' ? 'fail' : 'warn',
      code === 'CredentialsProviderError'
        ? 'no AWS credentials found: use --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID'
        : `sts:GetCallerIdentity failed: ${code || 'error'}: ${awsErrorMessage(err)}`
    )
  } finally {
    sts.destroy()
  }
}

/** EC2 offers DryRun: DryRunOperation means allowed, UnauthorizedOperation means denied. */
async function dryRuns(aws: AwsContext, add: Add) {
  const ec2 = ec2ClientFor(aws)
  const calls = [
    ['ec2:DescribeInstances', () => ec2.send(new DescribeInstancesCommand({ DryRun: true }))],
    [
      'ec2:DescribeInstanceConnectEndpoints',
      () => ec2.send(new DescribeInstanceConnectEndpointsCommand({ DryRun: true }))
    ],
    ['ec2:DescribeSecurityGroups', () => ec2.send(new DescribeSecurityGroupsCommand({ DryRun: true }))]
  ] as const
  for (const [action, call] of calls) {
    try {
      await call()
      add(
        'permissions',
        action,
        'warn',
        'the dry run was not refused nor confirmed (no DryRunOperation answer)'
      )
    } catch (err) {
      const code = awsErrorCode(err)
      if (code === 'DryRunOperation') add('permissions', action, 'ok', 'allowed (dry run)')
      else if (code === 'UnauthorizedOperation')
        add('permissions', action, 'fail', `denied (dry run): allow "${action}" on "*"`)
      else add('permissions', action, 'warn', `dry run failed: ${code || 'error'}: ${awsErrorMessage(err)}`)
    }
  }
  add(
    'permissions',
    'ssm:StartSession, ec2-instance-connect:OpenTunnel, SendSSHPublicKey',
    'info',
    'AWS offers no dry run for these; --connect tries a real connection'
  )
}

async function lookUp(
  spec: ReturnType<typeof parseTarget>,
  aws: AwsContext,
  add: Add
): Promise<InstanceInfo | NoSuchInstanceError | undefined> {
  const input =
    spec.kind === 'instance'
      ? { InstanceIds: [spec.instanceId] }
      : spec.kind === 'tag'
        ? { Filters: [{ Name: `tag:${spec.key}`, Values: [spec.value] }] }
        : {}
  let found: Instance[]
  try {
    const res = await ec2ClientFor(aws).send(new DescribeInstancesCommand(input))
    found = (res.Reservations ?? []).flatMap(r => r.Instances ?? [])
  } catch (err) {
    const mapped = mapDescribeError(
      err,
      ('InstanceIds' in input && input.InstanceIds) || [],
      aws.region,
      spec.label
    )
    add('instance', 'lookup', 'fail', errorMessage(mapped))
    return mapped instanceof NoSuchInstanceError ? mapped : undefined
  }
  if (found.length !== 1) {
    add(
      'instance',
      'lookup',
      'fail',
      found.length === 0
        ? `no instance matches '${spec.label}' in ${aws.region}`
        : `'${spec.label}' matches ${found.length} instances (${found
            .slice(0, 5)
            .map(i => i.InstanceId)
            .join(', ')}): give one instance id`
    )
    return undefined
  }
  const i = found[0]
  const info = toInfo(i, spec.label)
  const where = [info.vpcId, info.subnetId, info.privateIpAddress ?? info.ipv6Address, info.availabilityZone]
    .filter(Boolean)
    .join(', ')
  add(
    'instance',
    'state',
    info.state === 'running' ? 'ok' : 'fail',
    `${info.instanceId}${info.name ? ` (${info.name})` : ''} is ${info.state} (${where})`
  )
  return info
}

/** Why no endpoint was usable: none in the VPC, or one in a state that does not carry tunnels. */
async function noEndpointDetail(instance: InstanceInfo, aws: AwsContext, message: string): Promise<string> {
  try {
    const res = await ec2ClientFor(aws).send(
      new DescribeInstanceConnectEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [instance.vpcId] }] })
    )
    const other = (res.InstanceConnectEndpoints ?? []).find(
      e => !USABLE_ENDPOINT_STATES.includes(e.State ?? '')
    )
    if (other)
      return `${other.InstanceConnectEndpointId} in ${instance.vpcId} is ${other.State}, which carries no tunnels (needs create-complete)`
  } catch {
    // the first lookup's message says enough
  }
  return message
}

async function securityGroups(
  instance: InstanceInfo,
  endpoint: EndpointInfo,
  port: number,
  aws: AwsContext,
  add: Add
): Promise<boolean> {
  const ids = [...new Set([...instance.securityGroupIds, ...endpoint.securityGroupIds])]
  let groups: SecurityGroup[]
  try {
    const res = await ec2ClientFor(aws).send(new DescribeSecurityGroupsCommand({ GroupIds: ids }))
    groups = res.SecurityGroups ?? []
  } catch (err) {
    add(
      'eice',
      `port ${port} from the endpoint`,
      'warn',
      `could not check the security groups (${awsErrorCode(err) || 'error'}: ${awsErrorMessage(err)}); allow ec2:DescribeSecurityGroups to check`
    )
    return true
  }
  const of = (gids: string[]) => groups.filter(g => g.GroupId && gids.includes(g.GroupId))
  const inbound = portAllowed(
    of(instance.securityGroupIds).flatMap(g => g.IpPermissions ?? []),
    port,
    endpoint.securityGroupIds,
    'from'
  )
  const outbound = portAllowed(
    of(endpoint.securityGroupIds).flatMap(g => g.IpPermissionsEgress ?? []),
    port,
    instance.securityGroupIds,
    'to'
  )
  const show = (v: typeof inbound, who: string, fix: string) =>
    v.verdict === 'yes'
      ? `${who} allow ${v.via}`
      : v.verdict === 'maybe'
        ? `${who} allow ${v.via} (make sure that range includes the endpoint's subnet)`
        : fix
  add(
    'eice',
    `port ${port} into the instance`,
    inbound.verdict === 'no' ? 'fail' : inbound.verdict === 'maybe' ? 'warn' : 'ok',
    show(
      inbound,
      `the instance's groups (${instance.securityGroupIds.join(', ')})`,
      `no inbound rule of ${instance.securityGroupIds.join(', ') || 'the instance'} allows tcp ${port} from the endpoint's group ${endpoint.securityGroupIds.join(', ')}: add one`
    )
  )
  add(
    'eice',
    `port ${port} out of the endpoint`,
    outbound.verdict === 'no' ? 'fail' : outbound.verdict === 'maybe' ? 'warn' : 'ok',
    show(
      outbound,
      `the endpoint's groups (${endpoint.securityGroupIds.join(', ')})`,
      `no outbound rule of the endpoint's group ${endpoint.securityGroupIds.join(', ')} allows tcp ${port} to ${instance.securityGroupIds.join(', ')}: add one`
    )
  )
  return inbound.verdict !== 'no' && outbound.verdict !== 'no'
}
