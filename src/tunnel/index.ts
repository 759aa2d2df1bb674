import type { AwsContext } from '../aws/credentials.js'
import type { DeployConfig, TargetSpec } from '../config.js'
import { UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { createNlbTunnel } from './nlb.js'
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
  for (const spec of config.targets) if (spec.kind === 'host') out.push(hostTarget(config, spec))
  const instanceSpecs = config.targets.filter(t => t.kind !== 'host')
  if (instanceSpecs.length === 0) return out
  // Loaded only when needed: the AWS SDK clients cost about a second of start-up and 100 MB.
  const { resolveInstanceTargets } = await import('./instance-targets.js')
  out.push(...(await resolveInstanceTargets(config, instanceSpecs, ctx)))
  return out
}

/**
 * The one target a command serves (proxy, forward): an instance id, a host, or a tag filter that
 * matches exactly one instance; any other number closes what was resolved and says so.
 */
export async function resolveOneTarget(
  config: DeployConfig,
  ctx: ResolveContext,
  command: string
): Promise<ResolvedTarget> {
  const targets = await resolveTargets(config, ctx)
  if (targets.length !== 1) {
    await Promise.all(targets.map(t => t.tunnel.close()))
    throw new UserError(
      `${command} needs exactly one instance, but '${config.targets[0].label}' matched ${targets.length}: give an instance id`
    )
  }
  return targets[0]
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
