import type { SshConnection } from '../ssh/connection.js'
import { LOCK_NAME, MANIFEST_NAME, RELEASE_MARKER } from '../release/layout.js'
import { runScriptOk, shellQuote } from '../release/shell.js'

/** One file (or symlink) found under a remote folder, with what identifies its content cheaply. */
export interface RemoteEntry {
  path: string
  type: 'file' | 'link'
  size: number
  mode: number
  /** `inode size mtime ctime`: changes whenever the content could have changed (ctime cannot be set back). */
  stamp: string
}

/** Our own bookkeeping files and temporaries, never part of a deploy's set nor deleted by `delete`. */
export function isOwnFile(rel: string): boolean {
  if (rel === MANIFEST_NAME || rel === RELEASE_MARKER || rel === LOCK_NAME || rel.startsWith(`${LOCK_NAME}/`))
    return true
  const base = rel.slice(rel.lastIndexOf('/') + 1)
  return /^\..*\.ec2-push-[0-9a-f]+\.tmp$/.test(base)
}

/** Every file and symlink under `dir` (not following links), in one exec with GNU find. */
export async function listRemote(conn: SshConnection, dir: string): Promise<Map<string, RemoteEntry>> {
  return parseListing(await runScriptOk(conn, listingScript(dir), `Listing ${dir}`))
}

export function listingScript(dir: string): string {
  return `( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
find . -mindepth 1 -path ./${LOCK_NAME} -prune -o \\( -type f -o -type l \\) -printf '%y %i %s %T@ %C@ %m %P\\0' || true )
`
}

const MANIFEST_SEPARATOR = '\0--ec2-push-manifest--\0'

/** What sync compares against: the listing of `dir` and the manifest there, in one exec. */
export interface RemoteSnapshot {
  listing: Map<string, RemoteEntry>
  manifestText: string
}

export function snapshotScript(dir: string): string {
  return `${listingScript(dir)}printf '\\0--ec2-push-manifest--\\0'
cat -- ${shellQuote(`${dir}/${MANIFEST_NAME}`)} 2>/dev/null || true
`
}

export function parseSnapshot(out: string): RemoteSnapshot {
  const at = out.indexOf(MANIFEST_SEPARATOR)
  if (at < 0) return { listing: parseListing(out), manifestText: '' }
  return { listing: parseListing(out.slice(0, at)), manifestText: out.slice(at + MANIFEST_SEPARATOR.length) }
}

export async function readSnapshot(conn: SshConnection, dir: string): Promise<RemoteSnapshot> {
  return parseSnapshot(await runScriptOk(conn, snapshotScript(dir), `Reading ${dir}`))
}

export function parseListing(out: string): Map<string, RemoteEntry> {
  const map = new Map<string, RemoteEntry>()
  for (const rec of out.split('\0')) {
    const m = /^([fl]) (\d+) (\d+) ([\d.]+) ([\d.]+) ([0-7]+) (.+)$/s.exec(rec)
    if (!m) continue
    const [, y, inode, size, mtime, ctime, mode, rel] = m
    if (isOwnFile(rel)) continue
    map.set(rel, {
      path: rel,
      type: y === 'f' ? 'file' : 'link',
      size: Number(size),
      mode: parseInt(mode, 8),
      stamp: `${inode} ${size} ${mtime} ${ctime}`
    })
  }
  return map
}
