import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { field, isValidUuid } from '../../src/tunnel/ssm/message.js'
import { AgentSession, SessionSpec } from './agent-session.js'
import type { SsmSimFaults } from './faults.js'
import { watchPeers } from '../peer-gate.js'

/**
 * The simulated `ssmmessages` endpoint: WebSocket upgrades at /v1/data-channel/<SessionId>, the
 * text open message with its single-use token, then one AgentSession per session.
 */
export interface DataChannelServer {
  /** ws://127.0.0.1:<port> */
  url: string
  createSession(spec: SessionSpec): AgentSession
  session(sessionId: string): AgentSession | undefined
  sessions: Map<string, AgentSession>
  /** Problems with what clients sent (frames, open messages, protocol order). Tests expect none. */
  violations: string[]
  setFaults(faults: SsmSimFaults): void
  close(): Promise<void>
}

const OPEN_MESSAGE_TIMEOUT_MS = 10000

export async function startDataChannelServer(initialFaults: SsmSimFaults = {}): Promise<DataChannelServer> {
  let faults: SsmSimFaults = { ...initialFaults }
  const sessions = new Map<string, AgentSession>()
  const violations: string[] = []
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' })
    res.end('Upgrade Required')
  })
  const wss = new WebSocketServer({ server, perMessageDeflate: false })
  watchPeers(server, 'ssmmessages')
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const match = /^\/v1\/data-channel\/([^/]+)$/.exec(url.pathname)
    const session = match ? sessions.get(decodeURIComponent(match[1])) : undefined
    if (!session || url.searchParams.get('role') !== 'publish_subscribe') {
      violations.push(`connection to unknown data channel ${url.pathname}${url.search}`)
      ws.close(1008, 'unknown session')
      return
    }
    if (req.headers['sec-websocket-extensions']) {
      session.violation(
        `client offered WebSocket extensions (${req.headers['sec-websocket-extensions']}); the reference client offers none`
      )
    }
    // Pings may come before the open message; ws answers them itself.
    const timer = setTimeout(() => ws.close(1008, 'no open message'), OPEN_MESSAGE_TIMEOUT_MS)
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer)
      const refuse = (why: string) => {
        session.violation(`open message: ${why}`)
        ws.close(1008, 'authentication failed')
      }
      if (isBinary) return refuse('first frame is binary, expected the text open message')
      let open: Record<string, unknown>
      try {
        open = JSON.parse(data.toString('utf8'))
      } catch {
        return refuse('not JSON')
      }
      const token = field(open, 'TokenValue')
      if (field(open, 'MessageSchemaVersion') !== '1.0') return refuse('MessageSchemaVersion must be "1.0"')
      if (!isValidUuid(String(field(open, 'RequestId') ?? ''))) return refuse('RequestId is not a UUID')
      const clientId = String(field(open, 'ClientId') ?? '')
      if (!isValidUuid(clientId)) return refuse('ClientId is not a UUID')
      const clientVersion = field(open, 'ClientVersion')
      if (clientVersion !== undefined && !/^\d+(\.\d+)*$/.test(String(clientVersion)))
        return refuse(`ClientVersion '${clientVersion}' is not numeric`)
      if (session.isEnded) return void ws.close(1000, 'session terminated')
      // A wrong or reused token is refused like the service would: the socket closes, nothing is said.
      if (typeof token !== 'string' || !token || token !== session.currentToken)
        return void ws.close(1008, 'authentication failed')
      session.attach(ws, {
        ClientId: clientId,
        ClientVersion: clientVersion === undefined ? undefined : String(clientVersion)
      })
    })
  })

  return {
    url: `ws://127.0.0.1:${port}`,
    sessions,
    violations,
    createSession(spec) {
      const s = new AgentSession(
        spec,
        () => faults,
        () => {}
      )
      sessions.set(spec.sessionId, s)
      return s
    },
    session: id => sessions.get(id),
    setFaults(f) {
      faults = { ...f }
    },
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sessions.values()) s.dispose()
        for (const c of wss.clients) c.terminate()
        wss.close(() => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      })
  }
}
