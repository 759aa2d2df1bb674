import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import path from 'node:path'
import { MANIFEST_NAME } from '../release/layout.js'
import { execChannel, shellQuote } from '../release/shell.js'
import type { SshConnection } from '../ssh/connection.js'
import { PassThrough } from 'node:stream'
import type { ListingRefresh, RemoteEntry } from './listing.js'

/**
 * The manifest the action leaves beside the files it deployed: each file's sha256 with the stamp
 * (inode, size, mtime, ctime) it had right after it was verified, sealed with an HMAC. On the next
 * sync an entry is trusted only when the seal is intact (a key derived from the deploy key, which
 * the instance never sees) and the file's stamp is unchanged; anything else is hashed on the
 * instance. With one-time keys there is no lasting secret, so no manifest is written or trusted.
 */

const HEADER = 'ec2-push-manifest 1'

export interface ManifestEntry {
  sha256: string
  mode: number
  stamp: string
}

/** The sealing key, or undefined when no lasting private key was given. */
export function manifestKey(privateKey: string | undefined): Buffer | undefined {
  if (!privateKey) return undefined
  return createHmac('sha256', 'ec2-push manifest key v1').update(privateKey.trim()).digest()
}

function seal(key: Buffer, dir: string, body: string): string {
  return createHmac('sha256', key).update(`${dir}\n${body}`).digest('hex')
}

export function formatManifest(key: Buffer, dir: string, entries: Map<string, ManifestEntry>): string {
  const lines = [HEADER]
  for (const [rel, e] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`${e.sha256} ${e.mode.toString(8)} ${e.stamp} ${JSON.stringify(rel)}`)
  }
  const body = lines.join('\n') + '\n'
  return `${body}hmac ${seal(key, dir, body)}\n`
}

/** Parse and check a manifest; `reason` says why it is not trusted when it is not. */
export function parseManifest(
  text: string,
  key: Buffer | undefined,
  dir: string
): { entries?: Map<string, ManifestEntry>; reason?: string } {
  if (!text) return { reason: 'no manifest' }
  if (!key) return { reason: 'no lasting key to check a manifest with (one-time keys)' }
  const at = text.lastIndexOf('hmac ')
  if (!text.startsWith(HEADER + '\n') || at < 0) return { reason: 'the manifest is malformed' }
  const body = text.slice(0, at)
  const given = Buffer.from(text.slice(at + 5).trim(), 'hex')
  const want = Buffer.from(seal(key, dir, body), 'hex')
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return {
      reason: 'the manifest seal does not match (edited, copied from elsewhere, or written with another key)'
    }
  }
  const entries = new Map<string, ManifestEntry>()
  for (const line of body.split('\n').slice(1)) {
    const m = /^([0-9a-f]{64}) ([0-7]+) (\d+ \d+ [\d.]+ [\d.]+) (".*")$/.exec(line)
    if (!m) continue
    entries.set(JSON.parse(m[4]) as string, { sha256: m[1], mode: parseInt(m[2], 8), stamp: m[3] })
  }
  return { entries }
}

/** Write the manifest for the files now in `dir` (their digests are the verified local ones). */
export async function writeManifest(
  conn: SshConnection,
  key: Buffer,
  dir: string,
  digests: Map<string, string>,
  /** The files' stamps now, or how to list them (then in the same exec as the write). */
  listing: Map<string, RemoteEntry> | ListingRefresh,
  /** A script to run in the same exec once the manifest is in place. */
  after = ''
): Promise<void> {
  const final = path.posix.join(dir, MANIFEST_NAME)
  const tmp = path.posix.join(dir, `.${MANIFEST_NAME}.ec2-push-${randomBytes(6).toString('hex')}.tmp`)
  const write = `cat > ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(final)} || exit 1\n${after}`
  const manifestFor = (now: Map<string, RemoteEntry>) => {
    const entries = new Map<string, ManifestEntry>()
    for (const [rel, sha256] of digests) {
      const e = now.get(rel)
      if (e?.type === 'file') entries.set(rel, { sha256, mode: e.mode, stamp: e.stamp })
    }
    return formatManifest(key, dir, entries)
  }
  let r
  if (listing instanceof Map) {
    r = await execChannel(conn, `sh -c ${shellQuote(write)}`, { stdin: manifestFor(listing) })
  } else {
    // One exec, one conversation: the instance lists, the listing comes back, the manifest sealed
    // from it goes in on stdin (a round trip fewer than listing and writing separately).
    const stdin = new PassThrough()
    const out: Buffer[] = []
    let answered = false
    const onStdout = (d: Buffer) => {
      if (answered) return
      out.push(d)
      const all = Buffer.concat(out)
      const at = all.indexOf(LISTED)
      if (at < 0) return
      answered = true
      try {
        stdin.end(manifestFor(listing.parse(all.subarray(0, at).toString('utf8'))))
      } catch (err) {
        stdin.destroy(err as Error)
      }
    }
    r = await execChannel(conn, `sh -c ${shellQuote(`${listing.script}echo ${LISTED}\n${write}`)}`, {
      stdin,
      onStdout
    }).finally(() => stdin.end())
    if (!answered) throw new Error(`listing ${dir} failed: ${r.stderr.trim() || 'no listing came back'}`)
  }
  if (r.code !== 0) throw new Error(`writing ${final} failed: ${r.stderr.trim()}`)
}

/** Ends the listing part of writeManifest's exec. */
const LISTED = '--ec2-push-listed--'
