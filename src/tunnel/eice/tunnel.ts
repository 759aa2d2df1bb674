import WebSocket from 'ws'
import type { AwsContext } from '../../aws/credentials.js'
import { ec2ClientFor } from '../../aws/ec2.js'
import type { InstanceInfo } from '../../aws/instances.js'
import { TransientError, UserError } from '../../errors.js'
import type { Logger } from '../../log.js'
import { webSocketAgent } from '../../net/proxy-agent.js'
import type { Tunnel } from '../types.js'
import { maskOptions, type FrameMask } from '../ws-mask.js'
import { findEndpoint, targetAddress, type EndpointInfo } from './endpoint.js'
import { connectFailed, readBody, tunnelClosed, upgradeRejected, type TunnelFacts } from './errors.js'
import { acquireTunnelSlot } from './limiter.js'
import { MAX_TUNNEL_SECONDS, presignOpenTunnelUrl } from './signer.js'
import { MAX_FRAME_BYTES, WsByteStream } from './ws-stream.js'

export interface EiceTunnelOptions {
  instance: InstanceInfo
  /** The instance's SSH port (the service only tunnels to 22 and 3389). */
  port: number
  /** `eice-endpoint-id` input; else the endpoint is found from the instance's VPC and subnet. */
  endpointId?: string
  aws: AwsContext
  logger: Logger
  /** Open tunnels through one endpoint, process-wide (the service allows 20 per endpoint, shared). */
  maxTunnelsPerEndpoint: number
  /** Lifetime of each tunnel in seconds, 1..3600 (default 3600), sent as maxTunnelDuration. */
  maxTunnelDurationSeconds?: number
  /** WebSocket opening-handshake timeout (default 20 s). */
  handshakeTimeoutMs?: number
  /** How long open() waits for the instance's first bytes (the SSH banner) before handing over the stream. */
  firstByteTimeoutMs?: number
  /** Largest frame sent (default and maximum 65,000 bytes, the AWS CLI's). */
  maxFrameBytes?: number
  /** WebSocket frame masking: see ../ws-mask.ts (default 'zero'). */
  frameMask?: FrameMask
  /**
   * TEST ONLY: trust this CA (PEM) for the endpoint's TLS certificate instead of Node's default store.
   * In-process tests need it because Node reads NODE_EXTRA_CA_CERTS only at process start; the action
   * and the CLI never set it (the simulator's CA reaches them through NODE_EXTRA_CA_CERTS).
   */
  tlsCaForTests?: string
}

/** Seconds before maxTunnelDuration at which a tunnel ends itself (so it ends cleanly, not by the service's cut). */
export function expiryMarginSeconds(duration: number): number {
  return Math.min(30, duration * 0.1)
}

/**
 * eice: each open() signs a fresh `wss://<endpoint>/openTunnel` URL (valid 60 s), waits for a slot
 * under the per-endpoint limit, opens the WebSocket and returns its byte stream once the instance's
 * sshd has answered. The endpoint lookup is done once and reused by later opens (reconnects).
 */
export function createEiceTunnel(opts: EiceTunnelOptions): Tunnel {
  const { instance, logger } = opts
  const duration = opts.maxTunnelDurationSeconds ?? MAX_TUNNEL_SECONDS
  if (!Number.isInteger(duration) || duration < 1 || duration > MAX_TUNNEL_SECONDS) {
    throw new UserError(
      `The EICE tunnel duration must be a whole number of seconds from 1 to 3600, got ${duration}.`
    )
  }
  let target: Promise<{ endpoint: EndpointInfo; address: string }> | undefined
  const open = new Set<WsByteStream>()
  let closed = false

  const resolveTarget = () => {
    target ??= (async () => {
      const endpoint = await findEndpoint(instance, opts.aws, opts.endpointId)
      const address = targetAddress(instance, endpoint)
      const crossAz =
        endpoint.availabilityZone &&
        instance.availabilityZone &&
        endpoint.availabilityZone !== instance.availabilityZone
      logger.info(
        `eice: ${instance.instanceId} via ${endpoint.endpointId} (${endpoint.state}, ${endpoint.subnetId === instance.subnetId ? 'same subnet' : `subnet ${endpoint.subnetId}`}${crossAz ? ', cross-AZ' : ''}) to ${address}:${opts.port}`
      )
      if (opts.port !== 22 && opts.port !== 3389)
        logger.warning(
          `eice: EC2 Instance Connect Endpoints only tunnel to ports 22 and 3389; port ${opts.port} will likely be refused.`
        )
      if (endpoint.vpcId && instance.vpcId && endpoint.vpcId !== instance.vpcId) {
        logger.warning(
          `eice: endpoint ${endpoint.endpointId} is in ${endpoint.vpcId}, but ${instance.instanceId} is in ${instance.vpcId}; the tunnel works only if routing allows it.`
        )
      }
      return { endpoint, address }
    })()
    // A failed lookup is not cached: the next open() asks again.
    target.catch(() => (target = undefined))
    return target
  }

  return {
    description: `eice ${instance.instanceId}${opts.endpointId ? ` via ${opts.endpointId}` : ''}`,
    open: async signal => {
      if (closed) throw new TransientError('the EICE tunnel was closed')
      const { endpoint, address } = await resolveTarget()
      const facts: TunnelFacts = {
        instanceId: instance.instanceId,
        endpointId: endpoint.endpointId,
        endpointArn: endpoint.arn,
        endpointSecurityGroups: endpoint.securityGroupIds,
        dnsName: endpoint.dnsName,
        address,
        port: opts.port,
        maxTunnelDuration: duration
      }
      const release = await acquireTunnelSlot(endpoint.endpointId, opts.maxTunnelsPerEndpoint, signal)
      try {
        const stream = await openOnce(opts, facts, duration, signal)
        open.add(stream)
        stream.once('close', () => {
          open.delete(stream)
          release()
        })
        return stream
      } catch (err) {
        release()
        throw err
      }
    },
    close: async () => {
      closed = true
      for (const s of open) s.destroy()
      open.clear()
    }
  }
}

async function openOnce(
  opts: EiceTunnelOptions,
  f: TunnelFacts,
  duration: number,
  signal?: AbortSignal
): Promise<WsByteStream> {
  const client = ec2ClientFor(opts.aws)
  const credentials = await client.config.credentials()
  const region = opts.aws.region || (await client.config.region())
  // Signed after the slot wait: the URL is only valid for 60 s.
  const url = await presignOpenTunnelUrl({
    dnsName: f.dnsName,
    endpointId: f.endpointId,
    remotePort: f.port,
    privateIpAddress: f.address,
    maxTunnelDuration: duration,
    region,
    credentials
  })
  opts.logger.setSecret(url)
  opts.logger.setSecret(new URL(url).searchParams.get('X-Amz-Signature') ?? '')
  opts.logger.debug(
    `eice: opening a tunnel to ${f.instanceId} ${f.address}:${f.port} through ${f.endpointId} (maxTunnelDuration ${duration} s)`
  )

  // The service starts counting maxTunnelDuration when it accepts the tunnel, which is after this
  // request leaves: counting from here keeps the whole margin, whatever sshd's banner takes.
  const requestedAt = Date.now()
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: opts.handshakeTimeoutMs ?? 20_000,
    headers: { 'User-Agent': 'ec2-push' },
    followRedirects: false,
    agent: webSocketAgent(url),
    ...maskOptions(opts.frameMask),
    ...(opts.tlsCaForTests ? { ca: opts.tlsCaForTests } : {})
  })
  const stream = new WsByteStream(ws, {
    maxFrameBytes: opts.maxFrameBytes ?? MAX_FRAME_BYTES,
    label: `EICE tunnel to ${f.instanceId} through ${f.endpointId}`,
    closeError: (code, reason) => tunnelClosed(f, code, reason)
  })

  // Until the caller has the stream, its errors are reported through open()'s rejection.
  const quiet = () => {}
  stream.on('error', quiet)
  await new Promise<void>((resolve, reject) => {
    let settled = false
    const settle = (err?: Error) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      ws.off('open', onOpen)
      ws.off('error', onError)
      ws.off('unexpected-response', onRejected)
      if (err) {
        stream.destroy()
        reject(err)
      } else resolve()
    }
    const onAbort = () => settle(new Error('cancelled while opening the EICE tunnel'))
    const onOpen = () => {
      ws.off('error', onError)
      waitForFirstBytes()
    }
    const onError = (err: Error & { code?: string }) =>
      settle(err instanceof UserError ? err : connectFailed(f, scrub(err, url)))
    const onRejected = (_req: unknown, res: import('node:http').IncomingMessage) => {
      const rid = res.headers['x-amzn-requestid']
      void readBody(res).then(body =>
        settle(upgradeRejected(f, res.statusCode ?? 0, body, Array.isArray(rid) ? rid[0] : rid))
      )
    }
    // "Unable to connect to target" arrives as a close right after the upgrade; sshd speaks first,
    // so the first binary message (or that close) tells whether the instance was reached.
    const waitForFirstBytes = () => {
      const timer = setTimeout(() => settle(), opts.firstByteTimeoutMs ?? 15_000)
      const onMessage = (_data: unknown, isBinary: boolean) => {
        // A text frame is the stream's protocol error, reported through onStreamError.
        if (!isBinary || stream.destroyed) return
        ws.off('message', onMessage)
        clearTimeout(timer)
        stream.off('error', onStreamError)
        stream.off('end', onEnd)
        settle()
      }
      const onStreamError = (err: Error) => {
        ws.off('message', onMessage)
        clearTimeout(timer)
        settle(err)
      }
      const onEnd = () => {
        clearTimeout(timer)
        settle(
          new TransientError(
            `EC2 Instance Connect Endpoint ${f.endpointId} closed the tunnel to ${f.instanceId} before sshd answered.`
          )
        )
      }
      ws.on('message', onMessage)
      stream.once('error', onStreamError)
      ws.once('close', (code: number) => {
        if (code === 1000 || code === 1005) onEnd()
      })
    }
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    ws.once('open', onOpen)
    ws.once('error', onError)
    ws.once('unexpected-response', onRejected)
  })
  stream.off('error', quiet)

  // End before the service's cut, cleanly: the engine sees end-of-stream and reopens.
  const marginMs = expiryMarginSeconds(duration) * 1000
  const expiry = setTimeout(
    () => {
      opts.logger.debug(
        `eice: tunnel to ${f.instanceId} is near its ${duration} s limit; ending it so the next one can take over`
      )
      stream.endTunnel('tunnel reached its maximum duration')
    },
    Math.max(0, requestedAt + duration * 1000 - marginMs - Date.now())
  )
  expiry.unref()
  stream.once('close', () => clearTimeout(expiry))
  return stream
}

/** `ws` errors do not include the URL today; make sure a presigned one can never leak through them. */
function scrub<E extends Error>(err: E, url: string): E {
  if (err.message.includes(url)) err.message = err.message.split(url).join('***')
  return err
}
