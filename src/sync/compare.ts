import type { PlannedFile } from '../files/plan.js'
import { nulList, runScript, shellQuote } from '../release/shell.js'
import type { SshConnection } from '../ssh/connection.js'
import { parseSha256sum } from '../transfer/remote-path.js'
import { readSnapshot, type RemoteEntry, type RemoteSnapshot } from './listing.js'
import { parseManifest } from './manifest.js'

export interface SyncComparison {
  /** Files that differ from (or are missing in) the compared folder. */
  changed: PlannedFile[]
  /** Files the compared folder already holds with the same content and mode. */
  same: PlannedFile[]
  /** Remote files and symlinks that are not in the set (our own bookkeeping excluded). */
  extras: string[]
  /** Remote files hashed on the instance (the rest came from the sealed manifest). */
  hashedRemotely: number
  /** Whether the manifest was used, or why not. */
  manifest: string
  listing: Map<string, RemoteEntry>
}

/**
 * Compare the planned files with what `dir` on the instance holds: same size and mode, and the
 * same sha256, taken from the sealed manifest when the file's stamp is unchanged, else computed
 * there with `sha256sum` (batched through xargs). Reads only. Without local digests, only lists.
 */
export async function compareWithRemote(
  conn: SshConnection,
  dir: string,
  files: PlannedFile[],
  localDigests: Map<string, string> | undefined,
  key: Buffer | undefined,
  snapshot?: RemoteSnapshot
): Promise<SyncComparison> {
  const { listing, manifestText } = snapshot ?? (await readSnapshot(conn, dir))
  const planned = new Set(files.map(f => f.relativePath))
  const extras = [...listing.keys()].filter(rel => !planned.has(rel)).sort()
  if (!localDigests) {
    // Only the listing is wanted (delete, protect): everything counts as changed.
    return { changed: files, same: [], extras, hashedRemotely: 0, manifest: 'not compared', listing }
  }
  const { entries: manifest, reason } = parseManifest(manifestText, key, dir)
  const known = new Map<string, string>()
  const toHash: string[] = []
  const candidates: PlannedFile[] = []
  const changed: PlannedFile[] = []
  for (const f of files) {
    const e = listing.get(f.relativePath)
    if (!e || e.type !== 'file' || e.size !== f.size || (e.mode & 0o777) !== (f.mode & 0o777)) {
      changed.push(f)
      continue
    }
    candidates.push(f)
    const m = manifest?.get(f.relativePath)
    if (m && m.stamp === e.stamp) known.set(f.relativePath, m.sha256)
    else toHash.push(f.relativePath)
  }
  const trusted = known.size
  if (toHash.length) {
    const r = await runScript(
      conn,
      `cd -- ${shellQuote(dir)} || exit 1\n${nulList(toHash)} | xargs -0 sha256sum --\n`
    )
    for (const [rel, digest] of parseSha256sum(r.stdout)) known.set(rel, digest)
  }
  const same: PlannedFile[] = []
  for (const f of candidates) {
    if (known.get(f.relativePath) === localDigests.get(f.relativePath)) same.push(f)
    else changed.push(f)
  }
  return {
    changed,
    same,
    extras,
    hashedRemotely: toHash.length,
    manifest: manifest ? `manifest trusted for ${trusted} files` : `manifest not used: ${reason}`,
    listing
  }
}
