import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { MANIFEST_NAME } from '../release/layout.js'
import { execScript, shellQuote } from '../release/shell.js'
import type { SshConnection } from '../ssh/connection.js'
import { relistScript, type ListingRefresh, type RemoteEntry } from './listing.js'
import {
  formatManifest,
  isLinePath,
  MANIFEST_HEADER,
  manifestLine,
  sealLine,
  type ManifestEntry
} from './manifest.js'

/** Writing the manifest (its format and seal are in manifest.ts), in the exec that releases the lock. */

/** Ends the listing part of writeManifest's exec. */
const LISTED = '--ec2-push-listed--'
/** Precedes the digest of the lines the instance put together. */
const DIGEST = '--ec2-push-digest--'

function tempName(dir: string): string {
  return path.posix.join(dir, `.${MANIFEST_NAME}.ec2-push-${randomBytes(6).toString('hex')}.tmp`)
}

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
  digests: Map<string, string>,
  /** The files' stamps now, or how to list them (then in the same exec as the write). */
  listing: Map<string, RemoteEntry> | ListingRefresh,
  /** A script to run in the same exec once the manifest is in place. */
  after = ''
): Promise<void> {
  const final = path.posix.join(dir, MANIFEST_NAME)
  const tmp = tempName(dir)
  const write = `cat > ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(final)} || exit 1\n${after}`
  if (listing instanceof Map) {
    const text = formatManifest(key, dir, entriesFor(digests, listing))
    return failed(final, await execScript(conn, write, { stdin: text }))
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
  const r = await execScript(conn, `${listing.script}echo ${LISTED}\n${write}`, { stdin, onStdout }).finally(
    () => stdin.end()
  )
  if (!answered) throw new Error(`listing ${dir} failed: ${r.stderr.trim() || 'no listing came back'}`)
  failed(final, r)
}

/**
 * Write the manifest with the instance putting the lines together (it has awk): the lines of
 * `carried` files (found unchanged under an intact seal) are copied from the manifest there, the
 * uploaded files' lines are made there from their digests and their stamps now, and only the
 * other files' lines (`known` stamps) are made here. Nothing has to come down but the digest of
 * the result, which comes back to be sealed: one exec, one round trip beside its own.
 */
export async function writeCarriedManifest(
  conn: SshConnection,
  key: Buffer,
  dir: string,
  digests: Map<string, string>,
  parts: { carried: ReadonlySet<string>; uploaded: string[]; known: Map<string, RemoteEntry> },
  after = ''
): Promise<void> {
  const final = path.posix.join(dir, MANIFEST_NAME)
  const tmp = tempName(dir)
  const body = tempName(dir)
  const uploaded = new Set(parts.uploaded.filter(rel => isLinePath(rel) && digests.has(rel)))
  const skip = new Set([...parts.carried, ...uploaded])
  const input = [
    ...[...parts.carried].filter(isLinePath).map(rel => `K ${rel}`),
    ...[...entriesFor(digests, parts.known, skip)]
      .filter(([rel]) => isLinePath(rel))
      .map(([rel, e]) => `L ${manifestLine(rel, e)}`),
    ...[...uploaded].map(rel => `N ${digests.get(rel)} ${rel}`)
  ]
  // The lines come counted, so they are read without waiting for the end of stdin (the seal comes
  // on it later); awk reads them from head, not from stdin (mawk would wait to fill its buffer).
  const relist = relistScript(dir, [...uploaded], '\\n')
  const script = `IFS= read -r n || exit 1
{ head -n "$n"; echo --
${relist}} | awk -v M=${shellQuote(final)} '${CARRY_AWK}' > ${shellQuote(body)} || { rm -f -- ${shellQuote(body)}; exit 1; }
printf '%s %s\\n' ${DIGEST} "$(sha256sum < ${shellQuote(body)} | cut -c1-64)"
IFS= read -r seal || { rm -f -- ${shellQuote(body)}; exit 1; }
{ cat -- ${shellQuote(body)} && printf '%s\\n' "$seal"; } > ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(final)}; s=$?
rm -f -- ${shellQuote(body)}
[ $s -eq 0 ] || exit 1
${after}`
  const stdin = new PassThrough()
  stdin.write([String(input.length), ...input, ''].join('\n'))
  let out = ''
  let sealed = false
  const onStdout = (d: Buffer) => {
    if (sealed) return
    out += d.toString('latin1')
    const m = new RegExp(`${DIGEST} ([0-9a-f]{64})\\n`).exec(out)
    if (!m) return
    sealed = true
    stdin.end(`${sealLine(key, dir, m[1])}\n`)
  }
  const r = await execScript(conn, script, { stdin, onStdout }).finally(() => stdin.end())
  if (!sealed) throw new Error(`writing ${final} failed: ${r.stderr.trim() || 'the instance did not answer'}`)
  failed(final, r)
}

/**
 * On the instance (POSIX awk): reads `K <path>` (carry this file's line from the manifest M),
 * `L <line>` (a line as it is) and `N <sha256> <path>` (a line to make from the file's listing)
 * up to `--`, then the listing of the N files (`y inode size ctime mode ./path`); prints the
 * header and the lines.
 */
const CARRY_AWK = `phase == 0 {
  if ($0 == "--") { phase = 1; next }
  t = substr($0, 1, 2); v = substr($0, 3)
  if (t == "K ") keep[v] = 1
  else if (t == "L ") add[++n] = v
  else if (t == "N ") { p = v; sub(/^[^ ]+ /, "", p); nsha[p] = substr(v, 1, 64) }
  next
}
{
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p); sub(/^\\.\\//, "", p)
  if ($1 == "f" && (p in nsha)) add[++n] = nsha[p] " " $5 " " $2 " " $3 " " $4 " " p
}
END {
  print "${MANIFEST_HEADER}"
  while ((getline l < M) > 0) {
    if (length(l) < 66 || substr(l, 65, 1) != " ") continue
    p = l; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
    if (p in keep) { print l; delete keep[p] }
  }
  for (i = 1; i <= n; i++) print add[i]
}`
