import { createHash, createHmac } from 'node:crypto'
import { UserError } from '../errors.js'

/** Which host keys a connection accepts. `any` only when the user turned strict checking off. */
export type HostKeyPolicy =
  | { kind: 'fingerprint'; fingerprint: string }
  | { kind: 'known-hosts'; keys: Buffer[]; source: string }
  | { kind: 'any' }

/** OpenSSH's SHA256 fingerprint of a raw public key blob: `SHA256:` + unpadded base64. */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')
}

export function normaliseFingerprint(fp: string): string {
  const body = fp
    .trim()
    .replace(/^SHA256:/, '')
    .replace(/=+$/, '')
  return `SHA256:${body}`
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`, 'i')
}

/** Does one known_hosts host field (comma list, wildcards, `!` negation, or a hashed `|1|` entry) name one of these? */
function hostFieldMatches(field: string, names: string[]): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|')
    const key = Buffer.from(salt, 'base64')
    return names.some(n => createHmac('sha1', key).update(n).digest('base64') === hash)
  }
  let matched = false
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!')
    const re = globToRegExp(negated ? raw.slice(1) : raw)
    if (names.some(n => re.test(n))) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

/**
 * The keys that known_hosts text allows for a target, which may be named several ways
 * (`host`, `[host]:port`, instance id, private IP). Lines with a marker (@cert-authority,
 * @revoked) are not supported and are said so.
 */
export function keysFromKnownHosts(text: string, names: string[]): Buffer[] {
  const keys: Buffer[] = []
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim()
    if (!l || l.startsWith('#')) continue
    if (l.startsWith('@')) {
      throw new UserError(
        `known-hosts: markers like '${l.split(/\s+/)[0]}' are not supported; give plain 'host keytype key' lines.`
      )
    }
    const parts = l.split(/\s+/)
    // A bare `keytype base64` line (no host field) applies to every target.
    const [hostField, , b64] =
      parts[0].startsWith('ssh-') || parts[0].startsWith('ecdsa-') ? ['*', ...parts] : parts
    if (!b64)
      throw new UserError(
        `known-hosts: cannot read the line '${l.slice(0, 60)}'; expected 'host keytype base64key'.`
      )
    if (hostFieldMatches(hostField, names)) keys.push(Buffer.from(b64, 'base64'))
  }
  return keys
}

/** The names a target goes by, for matching known_hosts lines. */
export function targetNames(host: string, port: number, extra: string[] = []): string[] {
  const names = [host, ...extra]
  if (port !== 22) names.push(`[${host}]:${port}`, ...extra.map(e => `[${e}]:${port}`))
  return names
}
