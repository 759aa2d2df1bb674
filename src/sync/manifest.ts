import { createHmac, timingSafeEqual } from 'node:crypto'
import {
  isLinePath,
  MANIFEST_HEADER,
  manifestLine,
  parseManifestLine,
  type ManifestEntry,
  type SealClaim
} from '../remote/manifest-lines.js'
import { sha256Hex } from '../util/sha256.js'

/**
 * The manifest the action leaves beside the files it deployed: one line per file, its sha256, mode
 * and the stamp (inode, size, ctime) it had right after it was verified, then a seal: an HMAC, with
 * a key derived from the deploy key (which the instance never sees), of the folder and the sha256
 * of every line above it. On the next sync an entry counts only when the seal is intact and the
 * file's stamp is unchanged; anything else is hashed on the instance. With one-time keys there is
 * no lasting secret, so no manifest is written or trusted.
 *
 * The seal covers the lines' digest rather than the lines so the instance can do the comparing
 * (remote/sync-snapshot.ts): it reports the digest, and the lines themselves never cross the network. The
 * digest then comes from the instance's sha256sum, which the upload's verification trusts already.
 */

/** The sealing key, or undefined when no lasting private key was given. */
export function manifestKey(privateKey: string | undefined): Buffer | undefined {
  if (!privateKey) return undefined
  return createHmac('sha256', 'ec2-push manifest key v1').update(privateKey.trim()).digest()
}

function seal(key: Buffer, dir: string, bodyDigest: string): string {
  return createHmac('sha256', key).update(`${dir}\n${bodyDigest}`).digest('hex')
}

/** A manifest's lines and seal, in the order given (paths the format cannot hold are left out). */
export function formatManifest(key: Buffer, dir: string, entries: Map<string, ManifestEntry>): string {
  const lines = [MANIFEST_HEADER]
  for (const [rel, e] of entries) if (isLinePath(rel)) lines.push(manifestLine(rel, e))
  const body = lines.join('\n') + '\n'
  return `${body}${sealLine(key, dir, sha256Hex(Buffer.from(body, 'utf8')))}\n`
}

export function sealLine(key: Buffer, dir: string, bodyDigest: string): string {
  return `hmac ${seal(key, dir, bodyDigest)}`
}

/** Whether a manifest with these parts may be trusted; `reason` says why not. */
export function checkSeal(
  claim: SealClaim | undefined,
  key: Buffer | undefined,
  dir: string
): { reason?: string } {
  if (!claim) return { reason: 'no manifest' }
  if (!key) return { reason: 'no lasting key to check a manifest with (one-time keys)' }
  if (claim.header !== MANIFEST_HEADER) {
    return {
      reason: /^ec2-push-manifest \d+$/.test(claim.header)
        ? 'the manifest was written by an older ec2-push (rewritten by this deploy)'
        : 'the manifest is malformed'
    }
  }
  const given = Buffer.from(claim.sealLine.replace(/^hmac /, ''), 'hex')
  const want = Buffer.from(seal(key, dir, claim.bodyDigest), 'hex')
  if (!claim.sealLine.startsWith('hmac ') || given.length !== want.length || !timingSafeEqual(given, want)) {
    return {
      reason: 'the manifest seal does not match (edited, copied from elsewhere, or written with another key)'
    }
  }
  return {}
}

/** Parse and check a whole manifest (where the instance could not compare); `reason` says why it is not trusted. */
export function parseManifest(
  text: string,
  key: Buffer | undefined,
  dir: string
): { entries?: Map<string, ManifestEntry>; reason?: string } {
  if (!text) return { reason: 'no manifest' }
  const trimmed = text.endsWith('\n') ? text.slice(0, -1) : text
  const at = trimmed.lastIndexOf('\n')
  const body = text.slice(0, at + 1)
  const claim = {
    header: text.slice(0, text.indexOf('\n') >>> 0),
    bodyDigest: sha256Hex(Buffer.from(body, 'utf8')),
    sealLine: trimmed.slice(at + 1)
  }
  const { reason } = checkSeal(at < 0 ? undefined : claim, key, dir)
  if (reason) return { reason: at < 0 ? 'the manifest is malformed' : reason }
  const entries = new Map<string, ManifestEntry>()
  for (const line of body.split('\n').slice(1)) {
    const e = parseManifestLine(line)
    if (e) entries.set(e[0], e[1])
  }
  return { entries }
}
