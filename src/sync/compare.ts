import type { PlannedFile } from '../files/plan.js'
import type { RemoteEntry } from '../remote/listing.js'
import {
  parseSnapshot,
  snapshotScript,
  type RemoteSnapshot,
  type SnapshotRequest
} from '../remote/sync-snapshot.js'
import { hashUnderScript, parseHashUnder } from '../remote/verify.js'
import { runScript, runScriptOk } from '../ssh/run-script.js'
import type { SshConnection } from '../ssh/connection.js'
import { remoteWholeSha256 } from '../transfer/verify.js'
import { checkSeal, parseManifest } from './manifest.js'

/**
 * Files from this size on are hashed one process each by the large-file hasher (OpenSSL where the
 * probe saw it work: a fraction of sha256sum's CPU); smaller ones share one sha256sum through xargs.
 */
const WHOLE_HASH_BYTES = 8 * 1024 * 1024

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
  /** The remote entries the comparison saw (with the instance comparing: only what differed). */
  listing: Map<string, RemoteEntry>
  /** Unchanged files whose manifest line still holds, so it can be carried into the next manifest. */
  carried: Set<string>
}

/**
 * Compare the planned files with what `dir` on the instance holds: same size and mode, and the
 * same sha256, taken from the sealed manifest when the file's stamp is unchanged, else computed
 * there (small files by one `sha256sum` through xargs, large ones by the large-file hasher). Reads
 * only. Without local digests, only lists.
 */
export async function compareWithRemote(
  conn: SshConnection,
  dir: string,
  files: PlannedFile[],
  localDigests: Map<string, string> | undefined,
  key: Buffer | undefined,
  snapshot?: RemoteSnapshot,
  /** The manifest, named from inside `dir` (when the snapshot is read here). */
  manifestFile?: string
): Promise<SyncComparison> {
  const request = localDigests && { files, digests: localDigests }
  const snap = snapshot ?? (await readSnapshot(conn, dir, request, manifestFile))
  const { listing, joined } = snap
  const planned = new Set(files.map(f => f.relativePath))
  // A listed entry where the set has a folder is a symbolic link to one (find does not follow it): the
  // deploy writes through it, so it is never an extra to delete.
  const folders = new Set(files.flatMap(f => ancestors(f.relativePath)))
  const extras = [...listing.keys()].filter(rel => !planned.has(rel) && !folders.has(rel)).sort()
  const carried = new Set<string>()
  if (!localDigests) {
    // Only the listing is wanted (delete, protect): everything counts as changed.
    return { changed: files, same: [], extras, hashedRemotely: 0, manifest: 'not compared', listing, carried }
  }
  // The manifest's sha256 for a file as listed, when the manifest is trusted and records this stamp.
  let manifestSha: (rel: string, e: RemoteEntry) => string | undefined
  let reason: string | undefined
  if (joined) {
    reason = checkSeal(joined.seal, key, dir).reason
    manifestSha = rel => (reason ? undefined : joined.manifestSha.get(rel))
  } else {
    const parsed = parseManifest(snap.manifestText, key, dir)
    reason = parsed.reason
    manifestSha = (rel, e) => {
      const m = parsed.entries?.get(rel)
      return m && m.stamp === e.stamp ? m.sha256 : undefined
    }
  }
  const known = new Map<string, string>()
  const toHash: string[] = []
  const candidates: PlannedFile[] = []
  const changed: PlannedFile[] = []
  // Files the instance found as the manifest records them (nothing about them came back).
  const foundSame: PlannedFile[] = []
  for (const f of files) {
    if (joined?.compared.has(f.relativePath) && !listing.has(f.relativePath)) {
      if (joined.missing.has(f.relativePath)) changed.push(f)
      else foundSame.push(f)
      continue
    }
    const e = listing.get(f.relativePath)
    if (!e || e.type !== 'file' || e.size !== f.size || (e.mode & 0o777) !== (f.mode & 0o777)) {
      changed.push(f)
      continue
    }
    candidates.push(f)
    const sha = manifestSha(f.relativePath, e)
    if (sha) known.set(f.relativePath, sha)
    else toHash.push(f.relativePath)
  }
  // Their word counts only under an intact seal, and when their number is the instance's own count.
  const sameTrusted = !!joined && !reason && foundSame.length === joined.sameCount
  for (const f of foundSame) {
    candidates.push(f)
    if (sameTrusted) {
      known.set(f.relativePath, localDigests.get(f.relativePath)!)
      carried.add(f.relativePath)
    } else toHash.push(f.relativePath)
  }
  const trusted = known.size
  if (toHash.length) {
    // The instance's size equals the planned one for every file hashed there (a candidate).
    const sizes = new Map(files.map(f => [f.relativePath, f.size]))
    const large = toHash.filter(rel => sizes.get(rel)! >= WHOLE_HASH_BYTES)
    const rest = large.length ? toHash.filter(rel => sizes.get(rel)! < WHOLE_HASH_BYTES) : toHash
    const [listed, whole] = await Promise.all([
      rest.length
        ? runScript(conn, hashUnderScript(dir, rest)).then(r => parseHashUnder(r.stdout))
        : new Map<string, string>(),
      remoteWholeSha256(conn, dir, large)
    ])
    for (const [rel, digest] of [...listed, ...whole]) known.set(rel, digest)
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
    manifest: reason ? `manifest not used: ${reason}` : `manifest trusted for ${trusted} files`,
    listing,
    carried
  }
}

/** What sync compares against, in one exec (remote/sync-snapshot.ts). */
export async function readSnapshot(
  conn: SshConnection,
  dir: string,
  request?: SnapshotRequest,
  manifestFile?: string
): Promise<RemoteSnapshot> {
  return parseSnapshot(
    await runScriptOk(conn, snapshotScript(dir, request, manifestFile), `Reading ${dir}`),
    request
  )
}

/** `a/b/c` -> `a`, `a/b`. */
function ancestors(rel: string): string[] {
  const parts = rel.split('/')
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'))
}
