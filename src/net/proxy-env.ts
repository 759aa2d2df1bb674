import net from 'node:net'
import { UserError } from '../errors.js'

/**
 * Which HTTP proxy, if any, a connection to host:port should go through, read from the environment
 * the way curl reads it: `https_proxy`/`HTTPS_PROXY` for TLS (https, wss), `http_proxy`/`HTTP_PROXY`
 * for plain http and ws, the lower-case name first; `no_proxy`/`NO_PROXY` lists what goes direct.
 */

export type ProxyEnv = Record<string, string | undefined>

export interface ProxySetting {
  /** The proxy's URL, credentials included (never log it: use `label`). */
  url: URL
  /** The URL with its password replaced by ***, and the variable it came from, for messages. */
  label: string
}

function envValue(env: ProxyEnv, name: string): { name: string; value: string } | undefined {
  for (const n of [name.toLowerCase(), name.toUpperCase()]) {
    const value = env[n]?.trim()
    if (value) return { name: n, value }
  }
  return undefined
}

/** The proxy URL with its password (if any) masked: what every message names the proxy by. */
export function maskedProxyUrl(url: URL): string {
  const auth = url.username ? `${url.username}${url.password ? ':***' : ''}@` : ''
  return `${url.protocol}//${auth}${url.host}`
}

/** Parse a proxy variable's value as curl does: no scheme means http://; no port means 1080 (443 for https://). */
export function parseProxyUrl(value: string, variable: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UserError(
      `${variable} is not a proxy URL ('${value.replace(/:[^:@/]*@/, ':***@')}'): use http://host:port`
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(
      `${variable} names a ${url.protocol.slice(0, -1)} proxy (${maskedProxyUrl(url)}); only http:// and https:// proxies are supported`
    )
  }
  const portGiven = /:\d+(\/|$)/.test(text.replace(/^[a-z]+:\/\/([^@/]*@)?/i, ''))
  if (url.protocol === 'http:' && !portGiven) url.port = '1080'
  return url
}

/** The proxy's port (URL drops a scheme's default port from `port`). */
export function proxyPort(url: URL): number {
  return Number(url.port) || (url.protocol === 'https:' ? 443 : 80)
}

/** The proxy for a connection to host:port over TLS (`secure`) or not, or undefined to go direct. */
export function proxyFor(
  host: string,
  port: number,
  secure: boolean,
  env: ProxyEnv = process.env
): ProxySetting | undefined {
  const found = envValue(env, secure ? 'https_proxy' : 'http_proxy')
  if (!found) return undefined
  if (bypassesProxy(host, port, envValue(env, 'no_proxy')?.value ?? '')) return undefined
  const url = parseProxyUrl(found.value, found.name)
  return { url, label: `${maskedProxyUrl(url)} (${found.name})` }
}

/** True when any proxy variable is set (so connections need the proxy-aware agents at all). */
export function anyProxyConfigured(env: ProxyEnv = process.env): boolean {
  return envValue(env, 'https_proxy') !== undefined || envValue(env, 'http_proxy') !== undefined
}

/**
 * curl's NO_PROXY matching: entries separated by commas (or spaces); `*` alone matches every host; a
 * name matches itself and its subdomains (`example.com` and `.example.com` both match example.com and
 * www.example.com, not notexample.com); an IP address matches that address, a CIDR (10.0.0.0/8) its
 * range; names compare without case and without a trailing dot. As in Go and @actions/http-client, an
 * entry with a port (`host:8443`, `[::1]:8443`) matches only connections to that port.
 */
export function bypassesProxy(host: string, port: number, noProxy: string): boolean {
  const target = normaliseHost(host)
  for (const raw of noProxy.split(/[\s,]+/)) {
    if (!raw) continue
    if (raw === '*') return true
    const { name, port: entryPort } = splitEntry(raw)
    if (entryPort !== undefined && entryPort !== port) continue
    if (!name) continue
    if (name.includes('/')) {
      if (net.isIP(target) && inCidr(target, name)) return true
      continue
    }
    if (net.isIP(name) || net.isIP(target)) {
      if (net.isIP(name) && net.isIP(target) && sameAddress(name, target)) return true
      continue
    }
    const domain = name.replace(/^\*?\./, '')
    if (target === domain || target.endsWith(`.${domain}`)) return true
  }
  return false
}

function normaliseHost(host: string): string {
  return host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase()
}

function splitEntry(entry: string): { name: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracketed)
    return { name: bracketed[1].toLowerCase(), port: bracketed[2] ? Number(bracketed[2]) : undefined }
  // A bare IPv6 address (two colons or more) carries no port.
  if ((entry.match(/:/g) ?? []).length >= 2) return { name: normaliseHost(entry) }
  const withPort = /^(.*):(\d+)$/.exec(entry)
  if (withPort) return { name: normaliseHost(withPort[1]), port: Number(withPort[2]) }
  return { name: normaliseHost(entry) }
}

/** CIDR ranges and single addresses, compared by Node's BlockList (IPv4 and IPv6 alike). */
function inCidr(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/')
  const family = net.isIPv4(base) ? 'ipv4' : net.isIPv6(base) ? 'ipv6' : undefined
  if (!family || !/^\d+$/.test(bitsText) || Number(bitsText) > (family === 'ipv4' ? 32 : 128)) return false
  const list = new net.BlockList()
  list.addSubnet(base, Number(bitsText), family)
  return list.check(address, net.isIPv4(address) ? 'ipv4' : 'ipv6')
}

function sameAddress(a: string, b: string): boolean {
  return inCidr(b, `${a}/${net.isIPv4(a) ? 32 : 128}`)
}
