import { chooseMode } from '../aws/auto-mode.js'
import type { AwsContext } from '../aws/credentials.js'
import { describeTargets, type InstanceInfo } from '../aws/instances.js'
import { ssmManagedStatus } from '../aws/ssm-info.js'
import type { DeployConfig, TargetSpec } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { findEndpoint } from './eice/endpoint.js'
import { createEiceTunnel } from './eice/tunnel.js'
import { createNlbTunnel } from './nlb.js'
import { createSsmTunnel } from './ssm/tunnel.js'
import type { Tunnel } from './types.js'

export type PathMode = 'ssm' | 'eice' | 'nlb'

/** One target made concrete: how to reach it and what the logs and results call it. */
export interface ResolvedTarget {
  label: string
  mode: PathMode
  tunnel: Tunnel
  /** The instance behind the target, when known (for one-time keys and host-key names). */
  instanceId?: string
  availabilityZone?: string
  /** The names known_hosts lines may use for this target. */
  host?: string
  port?: number
  aliases?: string[]
  /** Why `auto` chose this path. */
  reason?: string
}

export interface ResolveContext {
  logger: Logger
  /** Resolves the AWS region and credentials the first time a target needs them. */
  aws: () => Promise<AwsContext>
}

/** Does this configuration need AWS at all? (nlb to host names does not.) */
export function needsAws(config: DeployConfig): boolean {
  return config.targets.some(t => t.kind !== 'host' || (t.instanceId !== undefined && !config.sshPrivateKey))
}

/** Turn the configured targets into tunnels, choosing the path for `auto`. */
export async function resolveTargets(config: DeployConfig, ctx: ResolveContext): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = []
  const hosts = config.targets.filter(t => t.kind === 'host')
  for (const spec of hosts) out.push(hostTarget(config, spec))
  const instanceSpecs = config.targets.filter(t => t.kind !== 'host')
  if (instanceSpecs.length === 0) return out
  const aws = await ctx.aws()

  // ssm reaches instance ids (and mi- managed nodes) without EC2 at all; only tag filters need a lookup.
  if (config.mode === 'ssm') {
    const ids = instanceSpecs.filter(t => t.kind === 'instance')
    const tags = instanceSpecs.filter(t => t.kind === 'tag')
    for (const spec of ids) out.push(ssmTarget(config, spec.instanceId, spec.label, aws, ctx.logger))
    if (tags.length) {
      for (const i of await describeTargets(tags, aws))
        out.push(ssmTarget(config, i.instanceId, label(i), aws, ctx.logger, i))
    }
    return out
  }

  const instances = await describeTargets(instanceSpecs, aws)
  for (const instance of instances) {
    if (config.mode === 'eice') {
      out.push(eiceTarget(config, instance, aws, ctx.logger))
      continue
    }
    out.push(await autoTarget(config, instance, aws, ctx.logger))
  }
  return out
}

function label(i: InstanceInfo): string {
  return i.target === i.instanceId ? i.instanceId : `${i.instanceId} (${i.target})`
}

function hostTarget(config: DeployConfig, spec: Extract<TargetSpec, { kind: 'host' }>): ResolvedTarget {
  if (config.mode !== 'nlb' && config.mode !== 'auto') {
    throw new UserError(
      `mode '${config.mode}' needs instance ids (i-...) or tag filters; '${spec.label}' is a host name (use mode 'nlb').`
    )
  }
  return {
    label: spec.label,
    mode: 'nlb',
    tunnel: createNlbTunnel(spec.host, spec.port),
    instanceId: spec.instanceId,
    host: spec.host,
    port: spec.port,
    aliases: spec.instanceId ? [spec.instanceId] : [],
    reason: config.mode === 'auto' ? 'the target is a host name' : undefined
  }
}

function ssmTarget(
  config: DeployConfig,
  instanceId: string,
  targetLabel: string,
  aws: AwsContext,
  logger: Logger,
  instance?: InstanceInfo,
  reason?: string
): ResolvedTarget {
  return {
    label: targetLabel,
    mode: 'ssm',
    instanceId,
    availabilityZone: instance?.availabilityZone,
    host: instanceId,
    port: config.port,
    aliases: instance?.privateIpAddress ? [instance.privateIpAddress] : [],
    reason,
    tunnel: createSsmTunnel({
      instanceId,
      port: config.port,
      document: config.ssmDocument,
      frameSize: config.ssmFrameSize,
      windowBytes: config.ssmWindowBytes,
      aws,
      logger
    })
  }
}

function eiceTarget(
  config: DeployConfig,
  instance: InstanceInfo,
  aws: AwsContext,
  logger: Logger,
  endpointId = config.eiceEndpointId,
  reason?: string
): ResolvedTarget {
  return {
    label: label(instance),
    mode: 'eice',
    instanceId: instance.instanceId,
    availabilityZone: instance.availabilityZone,
    host: instance.instanceId,
    port: config.port,
    aliases: instance.privateIpAddress ? [instance.privateIpAddress] : [],
    reason,
    tunnel: createEiceTunnel({
      instance,
      port: config.port,
      endpointId,
      aws,
      logger,
      maxTunnelsPerEndpoint: config.eiceMaxTunnels
    })
  }
}

/** `auto` for an instance: eice when its VPC has a usable endpoint, else ssm when managed and Online. */
async function autoTarget(config: DeployConfig, instance: InstanceInfo, aws: AwsContext, logger: Logger) {
  let endpointId: string | undefined
  let endpointCheckError: string | undefined
  try {
    endpointId = (await findEndpoint(instance, aws, config.eiceEndpointId)).endpointId
  } catch (err) {
    // "None usable" is a finding, not a failure; anything else (permissions) is reported as not checked.
    if (!(err instanceof UserError) || /denied|not authorized|permission/i.test(err.message)) {
      endpointCheckError = errorMessage(err)
    }
  }
  let ssm: Awaited<ReturnType<typeof ssmManagedStatus>> | undefined
  let ssmCheckError: string | undefined
  if (!endpointId) {
    try {
      ssm = await ssmManagedStatus(instance.instanceId, aws)
    } catch (err) {
      ssmCheckError = errorMessage(err)
    }
  }
  const decision = chooseMode({
    isHost: false,
    target: label(instance),
    instance,
    usableEndpoint: endpointCheckError ? undefined : !!endpointId,
    endpointId,
    endpointCheckError,
    ssmManagedOnline: ssm,
    ssmCheckError
  })
  if ('error' in decision) throw new UserError(decision.error)
  logger.info(`${label(instance)}: mode auto chose ${decision.mode}: ${decision.reason}`)
  if (decision.mode === 'eice') return eiceTarget(config, instance, aws, logger, endpointId, decision.reason)
  return ssmTarget(config, instance.instanceId, label(instance), aws, logger, instance, decision.reason)
}
