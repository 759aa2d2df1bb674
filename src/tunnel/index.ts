import type { DeployConfig, TargetSpec } from '../config.js'
import { UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { createNlbTunnel } from './nlb.js'
import type { Tunnel } from './types.js'

/** One target made concrete: how to reach it and what the logs and results call it. */
export interface ResolvedTarget {
  label: string
  mode: 'ssm' | 'eice' | 'nlb'
  tunnel: Tunnel
  /** The names known_hosts lines may use for this target. */
  host?: string
  port?: number
  aliases?: string[]
  /** Called right before every SSH connection (e.g. to push a one-time key). */
  beforeConnect?: () => Promise<void>
}

export interface ResolveContext {
  logger: Logger
}

/** Turn the configured targets into tunnels, choosing the path for `auto`. */
export async function resolveTargets(config: DeployConfig, ctx: ResolveContext): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = []
  for (const spec of config.targets) out.push(...(await resolveOne(config, spec, ctx)))
  return out
}

async function resolveOne(config: DeployConfig, spec: TargetSpec, _ctx: ResolveContext): Promise<ResolvedTarget[]> {
  if (spec.kind === 'host' && (config.mode === 'nlb' || config.mode === 'auto')) {
    return [
      { label: spec.label, mode: 'nlb', tunnel: createNlbTunnel(spec.host, spec.port), host: spec.host, port: spec.port }
    ]
  }
  if (spec.kind === 'host') {
    throw new UserError(`mode '${config.mode}' needs instance ids (i-...) or tag filters; '${spec.label}' is a host name (use mode 'nlb').`)
  }
  throw new UserError(
    `mode '${config.mode}' for instance targets is not available in this version: use mode 'nlb' with the load balancer's host[:port].`
  )
}
