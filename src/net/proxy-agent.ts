import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import { UserError } from '../errors.js'
import { anyProxyConfigured, proxyFor, proxyPort, type ProxySetting } from './proxy-env.js'

/**
 * HTTP agents that reach their hosts through the proxy the environment names (proxy-env.ts), by an
 * HTTP CONNECT tunnel, and go direct where NO_PROXY says so or no proxy is set. The AWS SDK clients
 * get them through their request handler, the Session Manager and EICE WebSockets through ws's
 * `agent` option. Node's own http and https, the only dependencies allowed here, have no proxy
 * support, and the proxy-agent packages are not among the allowed dependencies.
 */

/** How long the proxy may take to answer CONNECT before the attempt fails. */
const CONNECT_TIMEOUT_MS = 30_000

type Callback = (err: Error | null, stream: Duplex) => void

/** Open a CONNECT tunnel to host:port through the proxy; resolves with the raw socket. */
export function connectThroughProxy(proxy: ProxySetting, host: string, port: number): Promise<net.Socket> {
  const { url } = proxy
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`
  const headers: Record<string, string> = { Host: authority }
  if (url.username) {
    const user = decodeURIComponent(url.username)
    const password = decodeURIComponent(url.password)
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  }
  const request = url.protocol === 'https:' ? https.request : http.request
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: proxyPort(url),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
      ...(url.protocol === 'https:' ? { servername: url.hostname } : {})
    })
    req.once('connect', (res, socket, head) => {
      if (res.statusCode === 200) {
        if (head.length) socket.unshift(head)
        resolve(socket)
        return
      }
      socket.destroy()
      reject(refused(proxy, authority, res.statusCode ?? 0, res.statusMessage ?? ''))
    })
    // A proxy that answers CONNECT with something other than a CONNECT reply (an HTTP server).
    req.once('response', res => {
      res.resume()
      reject(refused(proxy, authority, res.statusCode ?? 0, res.statusMessage ?? ''))
    })
    req.once('timeout', () =>
      req.destroy(new Error(`no answer to CONNECT within ${CONNECT_TIMEOUT_MS / 1000} s`))
    )
    req.once('error', err =>
      reject(
        new ProxyError(
          `cannot reach the proxy ${proxy.label}: ${err.message}: check the proxy variable and that the proxy runs`
        )
      )
    )
    req.end()
  })
}

/** A proxy failure: one line naming the proxy (password masked) and what to check. */
export class ProxyError extends UserError {
  constructor(message: string) {
    super(message)
    this.name = 'ProxyError'
  }
}

function refused(proxy: ProxySetting, authority: string, status: number, text: string): ProxyError {
  const what = `${status}${text ? ` ${text}` : ''}`
  // 407 is the standard answer; tinyproxy answers a CONNECT without valid credentials with 401.
  if (status === 407 || status === 401) {
    return new ProxyError(
      proxy.url.username
        ? `the proxy ${proxy.label} refused the credentials in its URL (${what}) for CONNECT to ${authority}: check the user and password (URL-encoded) in the proxy variable`
        : `the proxy ${proxy.label} needs credentials (${what}) for CONNECT to ${authority}: put them in the proxy variable (http://user:password@host:port) or list the host in NO_PROXY`
    )
  }
  return new ProxyError(
    `the proxy ${proxy.label} refused CONNECT to ${authority} (${what}): allow that host and port on the proxy, or list the host in NO_PROXY`
  )
}

/** Hands a failure to the agent's callback (its type wants a stream even then). */
const failWith = (cb: Callback | undefined, err: Error) => cb?.(err, undefined as unknown as Duplex)

/** http: (and ws:) through HTTP_PROXY by CONNECT, or direct. */
export class ProxyHttpAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs, cb?: Callback): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? 'localhost'
    const port = Number(options.port ?? 80)
    const proxy = proxyFor(host, port, false)
    if (!proxy) return super.createConnection(options)
    connectThroughProxy(proxy, host, port).then(
      socket => cb?.(null, socket),
      err => failWith(cb, err)
    )
    return undefined
  }
}

/** https: (and wss:) through HTTPS_PROXY by CONNECT then TLS to the host itself, or direct. */
export class ProxyHttpsAgent extends https.Agent {
  override createConnection(options: https.RequestOptions, cb?: Callback): Duplex | null | undefined {
    const host = options.host ?? options.hostname ?? 'localhost'
    const port = Number(options.port ?? 443)
    const proxy = proxyFor(host, port, true)
    if (!proxy) return super.createConnection(options)
    connectThroughProxy(proxy, host, port).then(
      socket => {
        const secure = tls.connect({ ...(options as tls.ConnectionOptions), socket })
        cb?.(null, secure)
      },
      err => failWith(cb, err)
    )
    return undefined
  }
}

/**
 * Extra AWS SDK client configuration: the proxy-aware agents when a proxy variable is set (keep-alive,
 * as the SDK's own agents), nothing otherwise, so runs without a proxy are unchanged. New agents for
 * each client: a client's destroy() destroys its agents' sockets, in-flight requests included.
 */
export function sdkProxyConfig(): { requestHandler?: { httpAgent: http.Agent; httpsAgent: https.Agent } } {
  if (!anyProxyConfigured()) return {}
  return {
    requestHandler: {
      httpAgent: new ProxyHttpAgent({ keepAlive: true, maxSockets: 50 }),
      httpsAgent: new ProxyHttpsAgent({ keepAlive: true, maxSockets: 50 })
    }
  }
}

/** ws's `agent` option for a WebSocket to `url`: a proxy-aware agent when a proxy variable is set. */
export function webSocketAgent(url: string): http.Agent | undefined {
  if (!anyProxyConfigured()) return undefined
  return new URL(url).protocol === 'wss:' ? new ProxyHttpsAgent() : new ProxyHttpAgent()
}
