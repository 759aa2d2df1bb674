import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { DUMMY_LONG_TERM_KEY, SIM_ACCOUNT_ID, SimCredentialStore } from '../aws/credential-store.js'
import type { AwsSimServer, SimRequest, SimResponse } from '../aws/server.js'
import { jsonError, jsonOk } from '../aws/server.js'
import { createSigV4Authenticator } from '../aws/sigv4-verify.js'
import { AGENT_VERSION, SessionTarget } from './agent-session.js'
import type { DataChannelServer } from './data-channel-server.js'

/**
 * The SSM JSON 1.1 API (`AmazonSSM.*`) as the session path uses it: StartSession, ResumeSession,
 * TerminateSession, DescribeInstanceInformation. Every call must be SigV4-signed. Sessions started
 * here get their data channel on the DataChannelServer. Every StartSession / TerminateSession is
 * recorded so tests can check that no session is left behind.
 */

export type InstanceState = 'online' | 'offline' | 'unmanaged'

export interface SsmSimInstance {
  instanceId: string
  state: InstanceState
  /** Where the agent's dial of localhost:<sshPortOnInstance> leads (the test sshd). */
  target?: SessionTarget
  /** The port sshd listens on "on the instance" (default 22); other ports refuse connections. */
  sshPortOnInstance?: number
  /**
   * Other services the agent reaches, by `host:port` as the session names them: `localhost:<port>`
   * for a port on the instance, `<host>:<port>` for AWS-StartPortForwardingSessionToRemoteHost.
   */
  routes?: Map<string, SessionTarget>
}

export interface StartRecord {
  sessionId: string
  target: string
  document: string
  parameters: Record<string, string[]>
  accessKeyId?: string
}

export interface SsmSessionsRecord {
  started: StartRecord[]
  terminated: string[]
  resumed: string[]
  /** Started sessions with no TerminateSession call yet. */
  unterminated(): string[]
}

export interface SsmApiSim {
  sessions: SsmSessionsRecord
  instances: Map<string, SsmSimInstance>
  /** Instances / documents for which StartSession is refused with AccessDeniedException. */
  denied: Set<string>
  /** Serve more AmazonSSM operations (Run Command: sim/run-command/) behind the same signature check. */
  addOperation(name: string, handler: (req: SimRequest) => SimResponse): void
}

export interface SsmApiOptions {
  region: string
  dataChannel: DataChannelServer
  instances: SsmSimInstance[]
}

/** The documents' parameters: default ('' = required) and allowed pattern, as in their definitions. */
const PORT = /^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$/
const LOCAL_PORT =
  /^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$/
const HOST = /^[^,$^&()!;'"<>`{}[\]|#=\s]{3,}$/
type Param = { dflt: string; pattern: RegExp }
const DOCUMENTS: Record<string, { params: Record<string, Param>; type?: string }> = {
  'AWS-StartSSHSession': { params: { portNumber: { dflt: '22', pattern: PORT } } },
  'AWS-StartPortForwardingSession': {
    params: {
      portNumber: { dflt: '80', pattern: PORT },
      localPortNumber: { dflt: '0', pattern: LOCAL_PORT }
    },
    type: 'LocalPortForwarding'
  },
  'AWS-StartPortForwardingSessionToRemoteHost': {
    params: {
      host: { dflt: '', pattern: HOST },
      portNumber: { dflt: '80', pattern: PORT },
      localPortNumber: { dflt: '0', pattern: LOCAL_PORT }
    },
    type: 'LocalPortForwarding'
  }
}

export function addSsmApi(server: AwsSimServer, opts: SsmApiOptions): SsmApiSim {
  const instances = new Map(opts.instances.map(i => [i.instanceId, { ...i }]))
  const denied = new Set<string>()
  const started: StartRecord[] = []
  const terminated: string[] = []
  const resumed: string[] = []
  // Used only when the shared server has no authenticator of its own: the dummy key must sign.
  const fallbackStore = new SimCredentialStore()
  fallbackStore.addLongTermKey({ ...DUMMY_LONG_TERM_KEY, account: SIM_ACCOUNT_ID })
  const fallbackAuth = createSigV4Authenticator(fallbackStore)

  const streamUrl = (sessionId: string) =>
    `${opts.dataChannel.url}/v1/data-channel/${sessionId}?role=publish_subscribe&cell-number=${randomBytes(24).toString('base64url')}`

  const startSession = (req: SimRequest): SimResponse => {
    const body = req.json ?? {}
    const target = body.Target
    const document = typeof body.DocumentName === 'string' ? body.DocumentName : 'SSM-SessionManagerRunShell'
    if (typeof target !== 'string' || !target)
      return jsonError(
        400,
        'ValidationException',
        "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null"
      )
    if (denied.has(target) || denied.has(document)) {
      const resource = denied.has(target)
        ? `arn:aws:ec2:${opts.region}:${SIM_ACCOUNT_ID}:instance/${target}`
        : `arn:aws:ssm:${opts.region}::document/${document}`
      return jsonError(
        400,
        'AccessDeniedException',
        `User: arn:aws:sts::${SIM_ACCOUNT_ID}:assumed-role/ec2-push-deploy/sandbox is not authorized to perform: ssm:StartSession on resource: ${resource} because no identity-based policy allows the ssm:StartSession action`
      )
    }
    const doc = DOCUMENTS[document]
    if (!doc) return jsonError(400, 'InvalidDocument', `Document with name ${document} does not exist.`)
    const given = (body.Parameters ?? {}) as Record<string, unknown>
    const parameters: Record<string, string[]> = {}
    for (const [k, v] of Object.entries(given)) {
      if (!(k in doc.params))
        return jsonError(400, 'InvalidParameters', `Parameter "${k}" is not defined in document ${document}.`)
      if (!Array.isArray(v) || v.length !== 1 || typeof v[0] !== 'string')
        return jsonError(400, 'InvalidParameters', `Parameter "${k}" must be a list of one string.`)
      if (!doc.params[k].pattern.test(v[0]))
        return jsonError(
          400,
          'InvalidParameters',
          `Parameter "${k}" value ${v[0]} does not match the allowed pattern.`
        )
      parameters[k] = v as string[]
    }
    const instance = instances.get(target)
    if (!instance || instance.state !== 'online')
      return jsonError(400, 'TargetNotConnected', `${target} is not connected.`)
    const properties: Record<string, string> = {}
    for (const [k, { dflt }] of Object.entries(doc.params)) {
      const value = parameters[k]?.[0] ?? dflt
      if (!value)
        return jsonError(400, 'InvalidParameters', `Parameter "${k}" is required by document ${document}.`)
      properties[k] = value
    }
    if (doc.type) properties.type = doc.type
    const sessionId = `sandbox-${randomBytes(9).toString('hex').slice(0, 17)}`
    const port = Number(properties.portNumber)
    const host = properties.host ?? 'localhost'
    const onInstance = host === 'localhost' || host === '127.0.0.1'
    const route =
      onInstance && port === (instance.sshPortOnInstance ?? 22)
        ? instance.target
        : instance.routes?.get(`${onInstance ? 'localhost' : host}:${port}`)
    // What the instance's resolver knows: localhost, addresses, and the names the test routed.
    const hostResolves =
      onInstance ||
      net.isIP(host) !== 0 ||
      [...(instance.routes?.keys() ?? [])].some(k => k.startsWith(`${host}:`))
    const session = opts.dataChannel.createSession({
      sessionId,
      instanceId: target,
      document,
      properties,
      target: route,
      hostResolves
    })
    started.push({ sessionId, target, document, parameters, accessKeyId: req.accessKeyId })
    return jsonOk({ SessionId: sessionId, TokenValue: session.currentToken, StreamUrl: streamUrl(sessionId) })
  }

  const resumeSession = (req: SimRequest): SimResponse => {
    const sessionId = String(req.json?.SessionId ?? '')
    const session = opts.dataChannel.session(sessionId)
    if (!session) return jsonError(400, 'DoesNotExistException', `Session ${sessionId} does not exist.`)
    resumed.push(sessionId)
    // A session that is over resumes with no token (the reference client then gives up).
    if (session.isEnded) return jsonOk({ SessionId: sessionId })
    return jsonOk({ SessionId: sessionId, TokenValue: session.issueToken(), StreamUrl: streamUrl(sessionId) })
  }

  const terminateSession = (req: SimRequest): SimResponse => {
    const sessionId = String(req.json?.SessionId ?? '')
    if (!sessionId)
      return jsonError(
        400,
        'ValidationException',
        "Value null at 'sessionId' failed to satisfy constraint: Member must not be null"
      )
    terminated.push(sessionId)
    opts.dataChannel.session(sessionId)?.end('')
    return jsonOk({ SessionId: sessionId })
  }

  const describeInstanceInformation = (req: SimRequest): SimResponse => {
    const body = req.json ?? {}
    const wanted = new Set<string>()
    for (const f of (body.Filters ?? []) as { Key?: string; Values?: string[] }[]) {
      if (f.Key === 'InstanceIds') f.Values?.forEach(v => wanted.add(v))
    }
    for (const f of (body.InstanceInformationFilterList ?? []) as { key?: string; valueSet?: string[] }[]) {
      if (f.key === 'InstanceIds') f.valueSet?.forEach(v => wanted.add(v))
    }
    const list = [...instances.values()]
      .filter(i => i.state !== 'unmanaged' && (wanted.size === 0 || wanted.has(i.instanceId)))
      .map(i => ({
        InstanceId: i.instanceId,
        PingStatus: i.state === 'online' ? 'Online' : 'ConnectionLost',
        LastPingDateTime: Math.floor(Date.now() / 1000) - (i.state === 'online' ? 30 : 3600),
        AgentVersion: AGENT_VERSION,
        IsLatestVersion: true,
        PlatformType: 'Linux',
        PlatformName: 'Amazon Linux',
        PlatformVersion: '2023',
        ResourceType: 'EC2Instance',
        IPAddress: '10.0.1.23',
        ComputerName: `ip-10-0-1-23.${opts.region}.compute.internal`
      }))
    return jsonOk({ InstanceInformationList: list })
  }

  const handlers: Record<string, (req: SimRequest) => SimResponse> = {
    StartSession: startSession,
    ResumeSession: resumeSession,
    TerminateSession: terminateSession,
    DescribeInstanceInformation: describeInstanceInformation
  }

  server.addJsonService('AmazonSSM', async req => {
    // The server's own authenticator (if any) already checked the signature; otherwise check it here.
    if (!req.accessKeyId) {
      const outcome = await fallbackAuth(req)
      if ('reject' in outcome) return outcome.reject
      req.accessKeyId = outcome.accessKeyId
    }
    const handler = handlers[req.operation]
    if (!handler)
      return jsonError(
        400,
        'UnknownOperationException',
        `simulator does not implement AmazonSSM.${req.operation}`
      )
    return handler(req)
  })

  return {
    sessions: {
      started,
      terminated,
      resumed,
      unterminated: () => started.map(s => s.sessionId).filter(id => !terminated.includes(id))
    },
    instances,
    denied,
    addOperation: (name, handler) => void (handlers[name] = handler)
  }
}
