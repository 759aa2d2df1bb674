import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { watchPeers } from '../peer-gate.js'

/**
 * One loopback HTTP server for every simulated AWS API. Services plug in as handlers:
 * - JSON 1.1 services (SSM, EC2 Instance Connect) are picked by the `X-Amz-Target` prefix
 *   (`AmazonSSM.StartSession` -> target prefix `AmazonSSM`, operation `StartSession`);
 * - query services (EC2, STS) by the form body's `Action`.
 * Each handler returns a status, headers and body in the service's own wire format.
 */

export interface SimRequest {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** Operation name (from X-Amz-Target or Action). */
  operation: string
  /** Parsed form fields, for query-protocol requests. */
  form?: URLSearchParams
  /** Parsed JSON body, for JSON 1.1 requests. */
  json?: Record<string, unknown>
  /** The access key whose SigV4 signature the authenticator accepted (unset for unsigned requests). */
  accessKeyId?: string
  /** The error code the authenticator refused the request with (e.g. SignatureDoesNotMatch). */
  authError?: string
}

export interface SimResponse {
  status: number
  headers?: Record<string, string>
  body: string
}

export type SimHandler = (req: SimRequest) => Promise<SimResponse> | SimResponse

/** An authenticator's verdict: let the request through (naming the key that signed it), or refuse it. */
export type SimAuthOutcome = { accessKeyId?: string } | { reject: SimResponse; code: string }

/** Sees every request before its handler (see sim/aws/sigv4-verify.ts). */
export type SimAuthenticator = (req: SimRequest) => Promise<SimAuthOutcome> | SimAuthOutcome

export interface AwsSimServer {
  url: string
  port: number
  /** Route JSON 1.1 calls whose X-Amz-Target starts with `prefix.` */
  addJsonService(targetPrefix: string, handler: SimHandler): void
  /** Route query-protocol calls by Action name. */
  addQueryActions(actions: string[], handler: SimHandler): void
  /** Plain HTTP routes (e.g. the Actions OIDC token endpoint). */
  addRoute(method: string, pathPrefix: string, handler: SimHandler): void
  /** Verify requests (SigV4) before their handlers run; undefined (the default) lets everything through. */
  setAuthenticator(authenticator: SimAuthenticator | undefined): void
  /** Every request seen, for tests that assert what the client sent. */
  calls: SimRequest[]
  close(): Promise<void>
}

export function jsonError(status: number, type: string, message: string): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message })
  }
}

export function jsonOk(body: unknown): SimResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(body)
  }
}

/** `host`: the address to listen on and name in `url` (default 127.0.0.1). */
export async function startAwsSimServer(opts: { host?: string } = {}): Promise<AwsSimServer> {
  const host = opts.host ?? '127.0.0.1'
  const json = new Map<string, SimHandler>()
  const query = new Map<string, SimHandler>()
  const routes: { method: string; prefix: string; handler: SimHandler }[] = []
  const calls: SimRequest[] = []
  let authenticator: SimAuthenticator | undefined

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks)
      const url = new URL(req.url ?? '/', 'http://localhost')
      const target = req.headers['x-amz-target']
      let handler: SimHandler | undefined
      const simReq: SimRequest = {
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        headers: req.headers,
        body,
        operation: ''
      }
      try {
        if (typeof target === 'string') {
          const dot = target.lastIndexOf('.')
          simReq.operation = target.slice(dot + 1)
          handler = json.get(target.slice(0, dot))
          simReq.json = body.length ? JSON.parse(body.toString('utf8')) : {}
        } else if (
          req.method === 'POST' &&
          String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')
        ) {
          simReq.form = new URLSearchParams(body.toString('utf8'))
          simReq.operation = simReq.form.get('Action') ?? ''
          handler = query.get(simReq.operation)
        }
        if (!handler) {
          const route = routes.find(r => r.method === req.method && url.pathname.startsWith(r.prefix))
          if (route) {
            simReq.operation = `${req.method} ${url.pathname}`
            handler = route.handler
          }
        }
        calls.push(simReq)
        if (authenticator) {
          const outcome = await authenticator(simReq)
          if ('reject' in outcome) {
            simReq.authError = outcome.code
            res.writeHead(outcome.reject.status, outcome.reject.headers ?? {})
            res.end(outcome.reject.body)
            return
          }
          simReq.accessKeyId = outcome.accessKeyId
        }
        const out = handler
          ? await handler(simReq)
          : {
              status: 400,
              body: JSON.stringify({
                __type: 'UnknownOperationException',
                message: `no simulator for ${target ?? simReq.operation ?? url.pathname}`
              })
            }
        res.writeHead(out.status, out.headers ?? {})
        res.end(out.body)
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ __type: 'InternalFailure', message: (err as Error).message }))
      }
    })
  })
  watchPeers(server, 'aws api')
  await new Promise<void>(resolve => server.listen(0, host, resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    calls,
    addJsonService: (prefix, h) => void json.set(prefix, h),
    addQueryActions: (actions, h) => actions.forEach(a => query.set(a, h)),
    addRoute: (method, prefix, handler) => void routes.push({ method, prefix, handler }),
    setAuthenticator: fn => void (authenticator = fn),
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
