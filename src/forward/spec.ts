import { UserError } from '../errors.js'

/**
 * A port forward as `forward` (the input) and `ec2-push forward` take it, ssh -L style:
 * `[local-port:]host:port`. `host` is `localhost` for a port on the instance itself, else a host the
 * instance reaches (a database, an internal service), which only Session Manager can forward to
 * (AWS-StartPortForwardingSessionToRemoteHost). A local port of 0 (or none) picks a free one.
 */
export interface ForwardSpec {
  /** 0: any free port. */
  localPort: number
  host: string
  port: number
  /** As given, for messages. */
  text: string
}

/** Names the instance itself: forwarded over any path, as a port on the instance. */
export function isInstanceItself(host: string): boolean {
  return /^(localhost|127\.0\.0\.1|::1)$/i.test(host)
}

// Host names and IPv4/IPv6 addresses; nothing a shell or the document's parameter pattern refuses.
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]+)$/

function port(text: string, what: string, spec: string, min: number): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < min || Number(text) > 65535) {
    throw new UserError(
      `forward '${spec}': the ${what} '${text}' is not a port number (${min}-65535); write [local-port:]host:port, e.g. 5432:db.internal:5432`
    )
  }
  return Number(text)
}

export function parseForwardSpec(text: string): ForwardSpec {
  const spec = text.trim()
  // [local:]host:port, where host may be a bracketed IPv6 address.
  const m = /^(?:(\d+):)?(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(spec)
  if (!m) {
    throw new UserError(
      `forward '${spec}' is not [local-port:]host:port: e.g. 5432:db.internal:5432, or 8080:localhost:80 for a port on the instance`
    )
  }
  const host = m[2].replace(/^\[(.*)\]$/, '$1')
  if (!HOST.test(host)) {
    throw new UserError(`forward '${spec}': '${host}' is not a host name or IP address`)
  }
  return {
    localPort: m[1] === undefined ? 0 : port(m[1], 'local port', spec, 0),
    host,
    port: port(m[3], 'port', spec, 1),
    text: spec
  }
}

/** One spec a line or comma-separated; blank lines and # comments are skipped. Two on one local port is an error. */
export function parseForwardSpecs(raw: string): ForwardSpec[] {
  const specs = raw
    .split(/[\n,]/)
    .map(s => s.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
    .map(parseForwardSpec)
  const seen = new Map<number, string>()
  for (const s of specs) {
    if (s.localPort === 0) continue
    const other = seen.get(s.localPort)
    if (other)
      throw new UserError(`forward: '${other}' and '${s.text}' both ask for local port ${s.localPort}`)
    seen.set(s.localPort, s.text)
  }
  return specs
}
