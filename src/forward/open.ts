import type { DeployConfig } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import { resolveOneTarget, type ResolveContext, type ResolvedTarget } from '../tunnel/index.js'
import type { Tunnel } from '../tunnel/types.js'
import { listenForward, type ForwardListener } from './listener.js'
import { isInstanceItself, type ForwardSpec } from './spec.js'

/**
 * Open the local listeners of `forward` against the one target of `config`: a port on the instance
 * itself over whichever path the target takes (ssm: AWS-StartPortForwardingSession; eice: the
 * endpoint, which AWS limits to ports 22 and 3389; nlb: the load balancer's listener on that port),
 * or a host behind the instance over ssm (AWS-StartPortForwardingSessionToRemoteHost).
 */
export async function openForwards(
  config: DeployConfig,
  specs: ForwardSpec[],
  ctx: ResolveContext
): Promise<{ target: ResolvedTarget; listeners: ForwardListener[] }> {
  if (config.targets.length !== 1) {
    throw new UserError(
      `forward needs exactly one target, got ${config.targets.length}: give one instance id or host`
    )
  }
  const listeners: ForwardListener[] = []
  let first: ResolvedTarget | undefined
  try {
    for (const spec of specs) {
      const { target, tunnel } = await tunnelFor(config, spec, ctx)
      first ??= target
      try {
        // A target that cannot be reached (an instance that does not exist, say) fails here, in one
        // line, rather than leaving a listener whose every connection fails.
        await tunnel.check?.()
        listeners.push(await listenForward(spec, tunnel, ctx.logger))
      } catch (err) {
        await tunnel.close()
        throw err
      }
      ctx.logger.info(
        `forward: 127.0.0.1:${listeners[listeners.length - 1].localPort} -> ${spec.host}:${spec.port} through ${tunnel.description}`
      )
    }
  } catch (err) {
    await Promise.all(listeners.map(l => l.close().catch(() => {})))
    throw err
  }
  return { target: first!, listeners }
}

async function tunnelFor(
  config: DeployConfig,
  spec: ForwardSpec,
  ctx: ResolveContext
): Promise<{ target: ResolvedTarget; tunnel: Tunnel }> {
  if (isInstanceItself(spec.host)) {
    // The port on the instance (nlb: on the load balancer) takes the place of the SSH port.
    const target = await resolveOneTarget(
      {
        ...config,
        port: spec.port,
        ssmDocument: 'AWS-StartPortForwardingSession',
        targets: config.targets.map(t => (t.kind === 'host' ? { ...t, port: spec.port } : t))
      },
      ctx,
      'forward'
    )
    return { target, tunnel: target.tunnel }
  }
  const target = await resolveOneTarget(config, ctx, 'forward')
  await target.tunnel.close().catch(err => ctx.logger.debug(`forward: ${errorMessage(err)}`))
  if (target.mode !== 'ssm' || !target.instanceId) {
    throw new UserError(
      `forward ${spec.text}: only Session Manager reaches a host behind the instance (AWS-StartPortForwardingSessionToRemoteHost), and ${target.label} goes over ${target.mode}: use mode ssm, or forward to localhost:<port> on the instance`
    )
  }
  const { createSsmTunnel } = await import('../tunnel/ssm/tunnel.js')
  const tunnel = createSsmTunnel({
    instanceId: target.instanceId,
    host: spec.host,
    port: spec.port,
    document: 'AWS-StartPortForwardingSessionToRemoteHost',
    frameSize: config.ssmFrameSize,
    windowBytes: config.ssmWindowBytes,
    aws: await ctx.aws(),
    logger: ctx.logger
  })
  return { target, tunnel }
}
