import { randomUUID } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Ec2Inventory, SimEndpoint } from '../ec2/inventory.js'
import { parseRawQuery, verifyPresignedUrl, type SecretTable } from '../sigv4-verify.js'
import { watchPeers } from '../peer-gate.js'

/**
 * The EC2 Instance Connect Endpoint's tunnel service: `wss://<dnsName>/openTunnel?<presigned query>`.
 * It checks the request in the order of eice-protocol.md 11.2 (SigV4 presignature and its expiry
 * against the simulator's keys, endpoint, port, address, duration, concurrency), answers rejections
 * with `{"ErrorCode","Message"}` JSON, then relays raw bytes between binary frames and a TCP
 * connection to the routed target (the local sshd).
 */

export interface EiceKnobs {
  /** Refuse upgrades with this error; `times` bounds how many (default: all). */
  rejectUpgrade?: { status: number; errorCode: string; message: string; times?: number }
  /** 403 AccessDeniedException: the caller's policy lacks ec2-instance-connect:OpenTunnel. */
  denyOpenTunnel: boolean
  /** Ports the service tunnels to (the real one: 22 and 3389). */
  allowedPorts: number[]
  /** An IAM condition capping maxTunnelDuration (absent or larger -> AccessDenied). */
  maxTunnelDurationCap?: number
  /** After the upgrade, close with 4000 "Unable to connect to target" (e.g. the instance SG blocks 22). */
  unableToConnect: boolean
  /** Drop the TCP connection (no close frame) once a tunnel has carried this many client bytes ... */
  cutAfterBytes?: number
  /** ... for this many tunnels (then the knob is spent). */
  cutTimes: number
  /** Called at each cut, before the tunnel's sockets go (a test changes the world at that moment). */
  onCut?: () => void
  /** Open tunnels per endpoint (the service: 20); one more gets 429 ThrottlingException. */
  maxConnections: number
  /** Wall-clock milliseconds per tunnel-second of maxTunnelDuration (1000 = real time). */
  msPerTunnelSecond: number
  /** Per-tunnel bandwidth, each direction (undefined: unlimited). */
  throttleBytesPerSecond?: number
  /** Largest binary frame sent to the client, or 'random' (1 byte .. 64 KiB) to test reassembly. */
  serverFrameBytes: number | 'random'
  /** How long the endpoint tries to reach the target before giving up. */
  connectTimeoutMs: number
  /** Hold the 101 answer this long (tests the client's handshake timeout). */
  delayUpgradeMs?: number
  /** Send one text frame right after the upgrade (the protocol only uses binary frames). */
  sendTextFrame: boolean
  /** The service clock (for the presignature's validity window). */
  now: () => number
}

export const DEFAULT_KNOBS: EiceKnobs = {
  denyOpenTunnel: false,
  allowedPorts: [22, 3389],
  unableToConnect: false,
  sendTextFrame: false,
  cutTimes: 1,
  maxConnections: 20,
  msPerTunnelSecond: 1000,
  serverFrameBytes: 16 * 1024,
  connectTimeoutMs: 10_000,
  now: () => Date.now()
}

export interface EiceCounters {
  /** Successful upgrades. */
  opened: number
  rejected: number
  active: number
  peakConcurrent: number
  closedByDuration: number
  cuts: number
  bytesFromClient: number
  bytesToClient: number
}

/** Like the CloudTrail OpenTunnel event: one per attempt, with the outcome. */
export interface OpenTunnelEvent {
  time: Date
  requestId: string
  endpointId?: string
  remotePort?: string
  privateIpAddress?: string
  maxTunnelDuration?: string
  accessKeyId?: string
  status: number
  errorCode?: string
  message?: string
}

export interface EiceServerOptions {
  key: string
  cert: string
  region: string
  inventory: Ec2Inventory
  secrets: SecretTable
  knobs: EiceKnobs
  /** Where (ip, port) leads, or undefined when nothing answers there. */
  route(ip: string, port: number): { host: string; port: number } | undefined
  host?: string
}

export interface EiceServer {
  port: number
  counters: EiceCounters
  events: OpenTunnelEvent[]
  close(): Promise<void>
}

const ACCESS_DENIED = 'AccessDeniedException'
const INVALID_PARAMETER = 'InvalidParameter'
const THROTTLING = 'ThrottlingException'
const USABLE = new Set(['create-complete', 'update-in-progress', 'update-failed', 'update-complete'])
const REQUIRED = [
  'instanceConnectEndpointId',
  'remotePort',
  'privateIpAddress',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature'
]

class Reject extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string
  ) {
    super(message)
  }
}

function writeRejection(
  socket: Duplex,
  status: number,
  errorCode: string,
  message: string,
  requestId: string
) {
  const body = JSON.stringify({ ErrorCode: errorCode, Message: message })
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amzn-RequestId: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body
  )
}

export async function startEiceEndpointServer(opts: EiceServerOptions): Promise<EiceServer> {
  const { knobs, inventory } = opts
  const counters: EiceCounters = {
    opened: 0,
    rejected: 0,
    active: 0,
    peakConcurrent: 0,
    closedByDuration: 0,
    cuts: 0,
    bytesFromClient: 0,
    bytesToClient: 0
  }
  const events: OpenTunnelEvent[] = []
  const perEndpoint = new Map<string, number>()
  const sockets = new Set<WebSocket>()
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false })
  wss.on('headers', (headers, req) =>
    headers.push(`x-amzn-RequestId: ${(req as http.IncomingMessage & { requestId?: string }).requestId}`)
  )

  // AWS's TLS stack (s2n) prefers AES-128-GCM for TLS 1.3; so does the simulator.
  const ciphers = [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384'
  ].join(':')
  const server = https.createServer(
    { key: opts.key, cert: opts.cert, ciphers, honorCipherOrder: true },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      const [status, code, message] =
        path === '/openTunnel' && req.method === 'GET'
          ? [400, INVALID_PARAMETER, 'openTunnel needs a WebSocket upgrade.']
          : [404, 'NotFound', `No route for ${req.method} ${path}.`]
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() })
      res.end(JSON.stringify({ ErrorCode: code, Message: message }))
    }
  )

  server.on('upgrade', (req: http.IncomingMessage & { requestId?: string }, socket: Duplex, head: Buffer) => {
    const requestId = randomUUID()
    req.requestId = requestId
    const pathAndQuery = req.url ?? '/'
    const params = new Map(
      parseRawQuery(pathAndQuery.includes('?') ? pathAndQuery.slice(pathAndQuery.indexOf('?')) : '')
    )
    const event: OpenTunnelEvent = {
      time: new Date(),
      requestId,
      endpointId: params.get('instanceConnectEndpointId'),
      remotePort: params.get('remotePort'),
      privateIpAddress: params.get('privateIpAddress'),
      maxTunnelDuration: params.get('maxTunnelDuration'),
      status: 101
    }
    events.push(event)
    let endpoint: SimEndpoint
    let duration: number
    try {
      ;({ endpoint, duration } = validate(req, pathAndQuery, params, event))
    } catch (err) {
      if (!(err instanceof Reject)) throw err
      counters.rejected++
      Object.assign(event, { status: err.status, errorCode: err.errorCode, message: err.message })
      writeRejection(socket, err.status, err.errorCode, err.message, requestId)
      return
    }
    const open = (perEndpoint.get(endpoint.endpointId) ?? 0) + 1
    perEndpoint.set(endpoint.endpointId, open)
    counters.active++
    counters.peakConcurrent = Math.max(counters.peakConcurrent, counters.active)
    let released = false
    const release = () => {
      if (released) return
      released = true
      perEndpoint.set(endpoint.endpointId, (perEndpoint.get(endpoint.endpointId) ?? 1) - 1)
      counters.active--
    }
    socket.once('close', release)
    const upgrade = () =>
      wss.handleUpgrade(req, socket, head, ws => {
        counters.opened++
        sockets.add(ws)
        ws.once('close', () => {
          sockets.delete(ws)
          release()
        })
        if (knobs.sendTextFrame) ws.send('{"unexpected":"text"}')
        relay(ws, params.get('privateIpAddress')!, Number(params.get('remotePort')), duration)
      })
    if (knobs.delayUpgradeMs) setTimeout(() => !socket.destroyed && upgrade(), knobs.delayUpgradeMs)
    else upgrade()
  })

  function validate(
    req: http.IncomingMessage,
    pathAndQuery: string,
    params: Map<string, string>,
    event: OpenTunnelEvent
  ): { endpoint: SimEndpoint; duration: number } {
    const path = pathAndQuery.split('?')[0]
    if (path !== '/openTunnel' || req.method !== 'GET')
      throw new Reject(404, 'NotFound', `No route for ${req.method} ${path}.`)
    const missing = REQUIRED.filter(k => !params.get(k))
    if (missing.length)
      throw new Reject(400, INVALID_PARAMETER, `Missing required parameter(s): ${missing.join(', ')}.`)
    const host = req.headers.host ?? ''
    const v = verifyPresignedUrl({
      pathAndQuery,
      host,
      service: 'ec2-instance-connect',
      region: opts.region,
      secrets: opts.secrets,
      now: knobs.now()
    })
    if (!v.ok) throw new Reject(403, ACCESS_DENIED, v.message)
    event.accessKeyId = v.accessKeyId
    const id = params.get('instanceConnectEndpointId')!
    const endpoint = inventory.endpoints.find(e => e.endpointId === id)
    if (!endpoint || !USABLE.has(endpoint.state))
      throw new Reject(
        400,
        INVALID_PARAMETER,
        `The instance connect endpoint ${id} does not exist or is not available.`
      )
    if (endpoint.dnsName !== host)
      throw new Reject(
        400,
        INVALID_PARAMETER,
        `The host ${host} does not belong to instance connect endpoint ${id}.`
      )
    const port = Number(params.get('remotePort'))
    if (!knobs.allowedPorts.includes(port)) {
      throw new Reject(
        400,
        INVALID_PARAMETER,
        'The specified RemotePort is not valid. Specify either 22 or 3389 as the RemotePort and retry your request.'
      )
    }
    const ip = params.get('privateIpAddress')!
    const family = net.isIP(ip)
    if (!family)
      throw new Reject(
        400,
        INVALID_PARAMETER,
        `The specified PrivateIpAddress ${ip} is not a valid IP address.`
      )
    if (
      (family === 4 && endpoint.ipAddressType === 'ipv6') ||
      (family === 6 && endpoint.ipAddressType === 'ipv4')
    ) {
      throw new Reject(
        400,
        INVALID_PARAMETER,
        `The instance connect endpoint ${id} (${endpoint.ipAddressType}) cannot connect to IPv${family} address ${ip}.`
      )
    }
    const rawDuration = params.get('maxTunnelDuration')
    const duration = rawDuration === undefined ? 3600 : Number(rawDuration)
    if (!Number.isInteger(duration) || duration < 1 || duration > 3600) {
      throw new Reject(
        400,
        INVALID_PARAMETER,
        `The specified MaxTunnelDuration ${rawDuration} is not valid. Specify a value from 1 to 3600 seconds.`
      )
    }
    const principal = `arn:aws:iam::${inventory.accountId}:user/sandbox`
    const resource = `arn:aws:ec2:${opts.region}:${inventory.accountId}:instance-connect-endpoint/${id}`
    const denied = `User: ${principal} is not authorized to perform: ec2-instance-connect:OpenTunnel on resource: ${resource}`
    if (knobs.denyOpenTunnel)
      throw new Reject(
        403,
        ACCESS_DENIED,
        `${denied} because no identity-based policy allows the ec2-instance-connect:OpenTunnel action`
      )
    if (
      knobs.maxTunnelDurationCap !== undefined &&
      (rawDuration === undefined || duration > knobs.maxTunnelDurationCap)
    ) {
      throw new Reject(403, ACCESS_DENIED, `${denied} with an explicit deny in an identity-based policy`)
    }
    const r = knobs.rejectUpgrade
    if (r && (r.times === undefined || r.times > 0)) {
      if (r.times !== undefined) r.times--
      throw new Reject(r.status, r.errorCode, r.message)
    }
    if ((perEndpoint.get(id) ?? 0) >= knobs.maxConnections) {
      throw new Reject(
        429,
        THROTTLING,
        `The instance connect endpoint ${id} has reached its limit of ${knobs.maxConnections} concurrent connections.`
      )
    }
    return { endpoint, duration }
  }

  function relay(ws: WebSocket, ip: string, remotePort: number, duration: number) {
    const dest = knobs.unableToConnect ? undefined : opts.route(ip, remotePort)
    if (!dest) {
      ws.close(4000, 'Unable to connect to target')
      return
    }
    const target = net.connect({ host: dest.host, port: dest.port })
    target.setNoDelay(true)
    target.setTimeout(knobs.connectTimeoutMs, () => {
      if (!connected) fail('Unable to connect to target', 4000)
    })
    let connected = false
    let fromClient = 0
    const pending: Buffer[] = []
    const cutAt = knobs.cutAfterBytes !== undefined && knobs.cutTimes > 0 ? knobs.cutAfterBytes : undefined
    if (cutAt !== undefined) knobs.cutTimes--
    const up = pacer(
      () => ws.pause(),
      () => ws.resume()
    )
    const down = pacer(
      () => target.pause(),
      () => target.resume()
    )
    const durationTimer = setTimeout(() => {
      // The tests' client shares this event loop, so a stall can make its own end and this cut due
      // at once: read what has arrived first, and leave a tunnel whose client already closed it.
      setImmediate(() => {
        if (ws.readyState !== ws.OPEN) return
        counters.closedByDuration++
        target.destroy()
        ws.close(1000, 'Maximum tunnel duration reached')
      })
    }, duration * knobs.msPerTunnelSecond)
    const fail = (reason: string, code: number) => {
      target.destroy()
      if (ws.readyState === ws.OPEN) ws.close(code, reason)
    }

    target.once('connect', () => {
      connected = true
      target.setTimeout(0)
      for (const b of pending.splice(0)) target.write(b)
    })
    target.on('error', () =>
      fail(connected ? 'Connection to target reset' : 'Unable to connect to target', connected ? 1011 : 4000)
    )
    target.on('end', () => {
      if (ws.readyState === ws.OPEN) ws.close(1000)
    })
    ws.on('close', () => {
      clearTimeout(durationTimer)
      up.stop()
      down.stop()
      target.end()
      setTimeout(() => target.destroy(), 1000).unref()
    })
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return fail('Text frames are not supported', 1003)
      const buf = data as Buffer
      if (!buf.length) return
      fromClient += buf.length
      counters.bytesFromClient += buf.length
      if (cutAt !== undefined && fromClient >= cutAt) {
        counters.cuts++
        knobs.onCut?.()
        target.destroy()
        ws.terminate()
        return
      }
      if (!connected) pending.push(buf)
      else if (!target.write(buf)) {
        up.hold('drain')
        target.once('drain', () => up.release('drain'))
      }
      up.account(buf.length)
    })
    let inFlight = 0
    target.on('data', (chunk: Buffer) => {
      for (let off = 0; off < chunk.length;) {
        const size =
          knobs.serverFrameBytes === 'random' ? 1 + Math.floor(Math.random() * 65536) : knobs.serverFrameBytes
        const piece = chunk.subarray(off, off + size)
        off += piece.length
        inFlight += piece.length
        counters.bytesToClient += piece.length
        ws.send(piece, { binary: true }, () => {
          inFlight -= piece.length
          if (inFlight < 256 * 1024) down.release('ws')
        })
      }
      if (inFlight > 1024 * 1024) down.hold('ws')
      down.account(chunk.length)
    })
  }

  /** Pause a source while any reason holds it (back-pressure, the bandwidth throttle). */
  function pacer(pause: () => void, resume: () => void) {
    const reasons = new Set<string>()
    const start = Date.now()
    let bytes = 0
    let timer: NodeJS.Timeout | undefined
    const p = {
      hold(reason: string) {
        if (!reasons.size) pause()
        reasons.add(reason)
      },
      release(reason: string) {
        if (reasons.delete(reason) && !reasons.size) resume()
      },
      account(n: number) {
        const rate = knobs.throttleBytesPerSecond
        if (!rate) return
        bytes += n
        const wait = start + (bytes / rate) * 1000 - Date.now()
        if (wait > 5 && !timer) {
          p.hold('throttle')
          timer = setTimeout(() => {
            timer = undefined
            p.release('throttle')
          }, wait)
        }
      },
      stop() {
        if (timer) clearTimeout(timer)
      }
    }
    return p
  }

  watchPeers(server, 'eice endpoint')
  await new Promise<void>(resolve => server.listen(0, opts.host ?? '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    counters,
    events,
    close: async () => {
      for (const ws of sockets) ws.terminate()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
