import { PassThrough } from 'node:stream'
import type { RemoteEntry } from '../remote/listing.js'
import { isLinePath, type ManifestEntry } from '../remote/manifest-lines.js'
import {
  carriedDigest,
  carriedInput,
  carriedWriteScript,
  LISTED,
  listedWriteScript,
  writeScript
} from '../remote/manifest-write.js'
import { relistScript } from '../remote/listing.js'
import { execScript } from '../ssh/run-script.js'
import type { SshConnection } from '../ssh/connection.js'
import type { ListingRefresh } from './listing.js'
import { formatManifest, sealLine } from './manifest.js'

/**
 * Writing the manifest (its format and seal are in manifest.ts, the scripts in
 * remote/manifest-write.ts), in the exec that releases the lock.
 */

function entriesFor(digests: Map<string, string>, now: Map<string, RemoteEntry>, skip?: ReadonlySet<string>) {
  const entries = new Map<string, ManifestEntry>()
  for (const [rel, sha256] of digests) {
    const e = now.get(rel)
    if (!skip?.has(rel) && e?.type === 'file') entries.set(rel, { sha256, mode: e.mode, stamp: e.stamp })
  }
  return entries
}

function failed(final: string, r: { code: number | null; stderr: string }): void {
  if (r.code !== 0) throw new Error(`writing ${final} failed: ${r.stderr.trim()}`)
}

/**
 * Write the manifest for the files now in `dir` (their digests are the verified local ones), the
 * whole text made here from every file's stamp.
 */
export async function writeManifest(
  conn: SshConnection,
  key: Buffer,
  dir: string,
  /** Where the manifest goes (remote/names.ts manifestPath: in .ec2-push/, beside the folder). */
  final: string,
  digests: Map<string, string>,
  /** The files' stamps now, or how to list them (then in the same exec as the write). */
  listing: Map<string, RemoteEntry> | ListingRefresh,
  /** A script to run in the same exec once the manifest is in place. */
  after = ''
): Promise<void> {
  if (listing instanceof Map) {
    const text = formatManifest(key, dir, entriesFor(digests, listing))
    return failed(final, await execScript(conn, writeScript(final, after), { stdin: text }))
  }
  // One exec, one conversation: the instance lists, the listing comes back, the manifest sealed
  // from it goes in on stdin (a round trip fewer than listing and writing separately).
  const stdin = new PassThrough()
  const out: Buffer[] = []
  // The last bytes seen, too few to hold the marker: only they and a new chunk can complete it.
  let seen = Buffer.alloc(0)
  let answered = false
  const onStdout = (d: Buffer) => {
    if (answered) return
    out.push(d)
    const recent = Buffer.concat([seen, d])
    if (recent.indexOf(LISTED) < 0) {
      seen = recent.subarray(-(LISTED.length - 1))
      return
    }
    answered = true
    const all = Buffer.concat(out)
    const at = all.indexOf(LISTED)
    try {
      const now = listing.parse(all.subarray(0, at).toString('utf8'))
      stdin.end(formatManifest(key, dir, entriesFor(digests, now)))
    } catch (err) {
      stdin.destroy(err as Error)
    }
  }
  const r = await execScript(conn, listedWriteScript(listing.script, final, after), {
    stdin,
    onStdout
  }).finally(() => stdin.end())
  if (!answered) throw new Error(`listing ${dir} failed: ${r.stderr.trim() || 'no listing came back'}`)
  failed(final, r)
}

/**
 * Write the manifest with the instance putting the lines together (it has awk): the lines of
 * `carried` files (found unchanged under an intact seal) are copied from the manifest there, the
 * uploaded files' lines are made there from their digests and their stamps now, and only the
 * other files' lines (`known` stamps) are made here. Nothing has to come down but the digest of
 * the result, which comes back to be sealed: one exec, one round trip beside its own.
 * `wrap` puts the writing inside a larger script (remote/put-files.ts), which may end before it:
 * then the output comes back with `written` false instead of an error.
 */
export async function writeCarriedManifest(
  conn: SshConnection,
  key: Buffer,
  dir: string,
  final: string,
  digests: Map<string, string>,
  parts: { carried: ReadonlySet<string>; uploaded: string[]; known: Map<string, RemoteEntry> },
  after = '',
  wrap?: (script: string) => string
): Promise<{ out: string; written: boolean; failure?: string }> {
  const uploaded = new Map(
    parts.uploaded.filter(rel => isLinePath(rel) && digests.has(rel)).map(rel => [rel, digests.get(rel)!])
  )
  const skip = new Set([...parts.carried, ...uploaded.keys()])
  const input = carriedInput({
    carried: parts.carried,
    known: entriesFor(digests, parts.known, skip),
    uploaded
  })
  const relist = relistScript(dir, [...uploaded.keys()], '\\n')
  const stdin = new PassThrough()
  stdin.write(input)
  let out = ''
  let sealed = false
  const onStdout = (d: Buffer) => {
    if (sealed) return
    out += d.toString('latin1')
    const digest = carriedDigest(out)
    if (!digest) return
    sealed = true
    stdin.end(`${sealLine(key, dir, digest)}\n`)
  }
  const script = carriedWriteScript(final, relist, after)
  const r = await execScript(conn, wrap ? wrap(script) : script, { stdin, onStdout }).finally(() =>
    stdin.end()
  )
  const failure = !sealed
    ? `writing ${final} failed: ${r.stderr.trim() || 'the instance did not answer'}`
    : r.code !== 0
      ? `writing ${final} failed: ${r.stderr.trim()}`
      : undefined
  // Inside a larger script, what came before the writing is the caller's to read, even when it failed.
  if (wrap)
    return { out: r.stdout, written: !failure, failure: r.code === 0 && !sealed ? undefined : failure }
  if (failure) throw new Error(failure)
  return { out: r.stdout, written: true }
}
