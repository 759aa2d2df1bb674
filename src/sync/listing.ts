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
  const out = await runScriptOk(
    conn,
    `cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
find . -mindepth 1 -path ./${LOCK_NAME} -prune -o \\( -type f -o -type l \\) -printf '%y %i %s %T@ %C@ %m %P\\0'
`,
    `Listing ${dir}`
  )
  return parseListing(out)
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
