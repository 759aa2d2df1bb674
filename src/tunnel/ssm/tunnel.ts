import { randomUUID } from 'node:crypto'
import type { Duplex } from 'node:stream'
import {
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand
} from '@aws-sdk/client-ssm'
import type { AwsContext } from '../../aws/credentials.js'
import { errorMessage, TransientError, UserError } from '../../errors.js'
import type { Logger } from '../../log.js'
import type { Tunnel } from '../types.js'
import { DataChannelStats, DataChannelTimeouts, SsmDataChannel } from './data-channel.js'
import { sdkProxyConfig } from '../../net/proxy-agent.js'

export type SsmDocument =
  'AWS-StartSSHSession' | 'AWS-StartPortForwardingSession' | 'AWS-StartPortForwardingSessionToRemoteHost'

export interface SsmTunnelOptions {
  instanceId: string
  port: number
  /** AWS-StartPortForwardingSessionToRemoteHost: the host the instance connects to (port is on it). */
  host?: string
  document: SsmDocument
  /** Largest payload per data-channel message (ssm-frame-size). */
  frameSize: number
  /** Bound on unacknowledged upload bytes (ssm-window-bytes). */
  windowBytes: number
  aws: AwsContext
  logger: Logger
  /** Overrides for tests (handshake / no-progress limits). */
  timeouts?: Partial<DataChannelTimeouts>
}

const statsOf = new WeakMap<Duplex, DataChannelStats>()

/** Reliability counters of a stream returned by an ssm tunnel (retransmits, reconnects...), for logs and tests. */
export function ssmStreamStats(stream: Duplex): DataChannelStats | undefined {
  return statsOf.get(stream)
}

/** Our ClientId: one per process, the same on every reconnect of every session (like the plugin). */
const CLIENT_ID = randomUUID()

/**
 * ssm: one Session Manager port session per open(), its data channel spoken natively over a
 * WebSocket (no AWS CLI, no session-manager-plugin). Every session started is terminated through
 * the API when its stream ends, when opening fails, and on close().
 */
export function createSsmTunnel(opts: SsmTunnelOptions): Tunnel {
  const { instanceId, document, logger } = opts
  // The endpoint comes from AWS_ENDPOINT_URL_SSM when set (the SDK reads it), else the region's.
  const client = new SSMClient({
    region: opts.aws.region,
    credentials: opts.aws.credentials,
    ...sdkProxyConfig()
  })
  const live = new Map<string, SsmDataChannel | undefined>()
  let closed = false

  /** TerminateSession calls under way: close() waits for them (a stream's own close may have started one). */
  const terminating = new Set<Promise<void>>()
  const terminate = (sessionId: string): Promise<void> => {
    if (!live.has(sessionId)) return Promise.resolve()
    live.delete(sessionId)
    const call = (async () => {
      try {
        await client.send(new TerminateSessionCommand({ SessionId: sessionId }))
        logger.debug(`ssm ${instanceId}: session ${sessionId} terminated`)
      } catch (err) {
        logger.warning(`ssm ${instanceId}: could not terminate session ${sessionId}: ${errorMessage(err)}`)
      }
    })()
    terminating.add(call)
    void call.finally(() => terminating.delete(call))
    return call
  }

  const parameters: Record<string, string[]> = { portNumber: [String(opts.port)] }
  // The agent ignores localPortNumber in our basic mode; the document requires a value.
  if (document !== 'AWS-StartSSHSession') parameters.localPortNumber = ['0']
  if (document === 'AWS-StartPortForwardingSessionToRemoteHost') {
    if (!opts.host) throw new Error('AWS-StartPortForwardingSessionToRemoteHost needs a host')
    parameters.host = [opts.host]
  }
  const where = opts.host ? `${opts.host}:${opts.port}` : `port ${opts.port}`
  const start = async (signal?: AbortSignal) => {
    try {
      return await client.send(
        new StartSessionCommand({ Target: instanceId, DocumentName: document, Parameters: parameters }),
        { abortSignal: signal }
      )
    } catch (err) {
      throw await explainStartError(mapStartError(err, opts), opts)
    }
  }

  return {
    description: `ssm ${instanceId} (${document}, ${where})`,
    async check(signal?: AbortSignal): Promise<void> {
      // A session started and ended before its data channel opens: the agent never dials the port.
      const { SessionId: sessionId, TokenValue: token } = await start(signal)
      if (token) logger.setSecret(token)
      if (!sessionId) return
      live.set(sessionId, undefined)
      await terminate(sessionId)
    },
    async open(signal?: AbortSignal): Promise<Duplex> {
      if (closed) throw new Error('the ssm tunnel is closed')
      const started = await start(signal)
      const { SessionId: sessionId, TokenValue: token, StreamUrl: streamUrl } = started
      if (token) logger.setSecret(token)
      if (streamUrl) logger.setSecret(streamUrl)
      if (!sessionId) throw new TransientError(`ssm ${instanceId}: StartSession returned no SessionId`)
      live.set(sessionId, undefined)
      if (!token || !streamUrl) {
        await terminate(sessionId)
        throw new TransientError(`ssm ${instanceId}: StartSession returned no TokenValue/StreamUrl`)
      }
      logger.debug(`ssm ${instanceId}: session ${sessionId} started`)
      const channel = new SsmDataChannel({
        streamUrl,
        tokenValue: token,
        clientId: CLIENT_ID,
        frameSize: opts.frameSize,
        windowBytes: opts.windowBytes,
        logger,
        label: `ssm ${instanceId}`,
        timeouts: opts.timeouts,
        channelClosedError: output => channelClosedError(output, opts),
        resumeSession: async () => {
          try {
            const resumed = await client.send(new ResumeSessionCommand({ SessionId: sessionId }))
            if (resumed.TokenValue) logger.setSecret(resumed.TokenValue)
            if (resumed.StreamUrl) logger.setSecret(resumed.StreamUrl)
            return resumed.TokenValue
          } catch (err) {
            const name = (err as { name?: string }).name
            if (name === 'AccessDeniedException') {
              throw new UserError(
                `ssm ${instanceId}: the data channel dropped and resuming it was denied: allow ssm:ResumeSession on your own sessions (${errorMessage(err)})`
              )
            }
            if (name === 'DoesNotExistException') return undefined
            throw err
          }
        }
      })
      live.set(sessionId, channel)
      // A safety net (errors can come before anyone listens); the SSH layer's own listener still gets them.
      channel.stream.on('error', err => logger.debug(`ssm ${instanceId}: stream error: ${err.message}`))
      try {
        await channel.connect(signal)
      } catch (err) {
        await terminate(sessionId)
        if (signal?.aborted) throw new Error('cancelled')
        throw err
      }
      channel.stream.once('close', () => void terminate(sessionId))
      statsOf.set(channel.stream, channel.stats)
      if (channel.failure) {
        await terminate(sessionId)
        throw channel.failure
      }
      if (closed) {
        channel.stream.destroy()
        throw new Error('the ssm tunnel is closed')
      }
      return channel.stream
    },
    async close(): Promise<void> {
      closed = true
      const ids = [...live.keys()]
      for (const id of ids) live.get(id)?.stream.destroy()
      await Promise.all([...ids.map(terminate), ...terminating])
      client.destroy()
    }
  }
}

/** TargetNotConnected from StartSession: its wording until we know more (see explainStartError). */
class NotConnectedError extends UserError {}

function notConnected(id: string, msg: string): NotConnectedError {
  // Session Manager answers the same for an id that does not exist (a wrong id, Region or account)
  // as for an instance whose agent is offline; explainStartError asks EC2 which it is.
  return new NotConnectedError(
    `ssm: ${id} is not connected to Session Manager (${msg}): check that ${id} exists in this Region and account; if it does, check that its SSM Agent is online (Fleet Manager / DescribeInstanceInformation) and that the instance reaches the ssm and ssmmessages endpoints (a NAT gateway, or VPC interface endpoints).`
  )
}

/**
 * For an EC2 instance id that Session Manager calls not connected, ask EC2 whether it exists and
 * runs, so the line says which: it does not exist, it is stopped, or its agent is not connected.
 * When EC2 cannot be asked (no ec2:DescribeInstances), the line names both possibilities.
 */
async function explainStartError(err: Error, opts: SsmTunnelOptions): Promise<Error> {
  const id = opts.instanceId
  if (!(err instanceof NotConnectedError) || !id.startsWith('i-')) return err
  const { instanceExistence, notRunning } = await import('../../aws/instances.js')
  const found = await instanceExistence(id, opts.aws)
  if ('missing' in found) return new UserError(`ssm: ${found.missing.message}`)
  if ('unknown' in found) {
    opts.logger.debug(`ssm ${id}: could not ask EC2 whether it exists: ${found.unknown}`)
    return err
  }
  const stopped = notRunning(found.info)
  if (stopped) return new UserError(`ssm: ${stopped.message}`)
  return new UserError(
    `ssm: ${id} is running but not connected to Session Manager: check that its SSM Agent is online (Fleet Manager / DescribeInstanceInformation) and that the instance reaches the ssm and ssmmessages endpoints (a NAT gateway, or VPC interface endpoints for ssm and ssmmessages).`
  )
}

function mapStartError(err: unknown, opts: SsmTunnelOptions): Error {
  if (err instanceof UserError) return err // e.g. a proxy that refuses: its message names it
  const name = (err as { name?: string }).name ?? ''
  const msg = errorMessage(err)
  const id = opts.instanceId
  switch (name) {
    case 'TargetNotConnected':
      return notConnected(id, msg)
    case 'AccessDeniedException':
      return new UserError(
        `ssm: not allowed to start a session on ${id} (${msg}): the role needs ssm:StartSession on arn:aws:ec2:${opts.aws.region}:<account>:instance/${id} and on the document arn:aws:ssm:${opts.aws.region}::document/${opts.document}, plus ssm:TerminateSession and ssm:ResumeSession.`
      )
    case 'InvalidDocument':
      return new UserError(
        `ssm: the session document ${opts.document} cannot be used (${msg}): check the ssm-document input and that the document exists in ${opts.aws.region}.`
      )
    case 'InvalidTarget':
    case 'InvalidInstanceId':
      return new UserError(
        `ssm: ${id} is not a valid Session Manager target (${msg}): check the instance id and region ${opts.aws.region}.`
      )
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'MissingAuthenticationTokenException':
      return new UserError(
        `ssm: AWS rejected the credentials (${name}: ${msg}): check the configured role/credentials and region.`
      )
    case 'CredentialsProviderError':
      return new UserError(
        `ssm: no AWS credentials found (${msg}): configure credentials (e.g. aws-actions/configure-aws-credentials or role-to-assume).`
      )
    default:
      return new TransientError(`ssm: StartSession on ${id} failed: ${name ? `${name}: ` : ''}${msg}`, {
        cause: err
      })
  }
}

function channelClosedError(output: string, opts: SsmTunnelOptions): Error {
  const text = output
    .replace(/-{3,}ERROR-{3,}/g, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
  return new UserError(
    `ssm: Session Manager closed the session on ${opts.instanceId}: ${text} (check that the SSM Agent is online and up to date and that ${opts.host ? `the instance reaches ${opts.host}:${opts.port}` : `something listens on port ${opts.port} on the instance`})`
  )
}
