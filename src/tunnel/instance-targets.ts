import { chooseMode } from '../aws/auto-mode.js'
import type { AwsContext } from '../aws/credentials.js'
import { describeTargets, type InstanceInfo } from '../aws/instances.js'
import { ssmManagedStatus } from '../aws/ssm-info.js'
import type { DeployConfig, TargetSpec } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { findEndpoint } from './eice/endpoint.js'
import { createEiceTunnel } from './eice/tunnel.js'
import type { ResolveContext, ResolvedTarget } from './index.js'
import { createSsmTunnel } from './ssm/tunnel.js'

/** Instance ids and tag filters -> ssm or eice tunnels (and the choice between them for `auto`). */
export async function resolveInstanceTargets(
  config: DeployConfig,
  instanceSpecs: TargetSpec[],
  ctx: ResolveContext
): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = []
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
