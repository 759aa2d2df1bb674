import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { MANIFEST_NAME } from '../release/layout.js'
import { execScript, nulList, shellQuote } from '../release/shell.js'
import type { SshConnection } from '../ssh/connection.js'
import { sha256Hex } from '../util/sha256.js'
import type { ListingRefresh, RemoteEntry } from './listing.js'

/**
 * The manifest the action leaves beside the files it deployed: one line per file, its sha256, mode
 * and the stamp (inode, size, ctime) it had right after it was verified, then a seal: an HMAC, with
 * a key derived from the deploy key (which the instance never sees), of the folder and the sha256
 * of every line above it. On the next sync an entry counts only when the seal is intact and the
 * file's stamp is unchanged; anything else is hashed on the instance. With one-time keys there is
 * no lasting secret, so no manifest is written or trusted.
 *
 * The seal covers the lines' digest rather than the lines so the instance can do the comparing
 * (sync/snapshot.ts): it reports the digest, and the lines themselves never cross the network. The
 * digest then comes from the instance's sha256sum, which the upload's verification trusts already.
 */

export const MANIFEST_HEADER = 'ec2-push-manifest 2'

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

function seal(key: Buffer, dir: string, bodyDigest: string): string {
  return createHmac('sha256', key).update(`${dir}\n${bodyDigest}`).digest('hex')
}

/** A path the line format can hold: the path ends the line, so no control characters in it. */
export function isLinePath(rel: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x1f]/.test(rel)
}

export function manifestLine(rel: string, e: ManifestEntry): string {
  return `${e.sha256} ${e.mode.toString(8)} ${e.stamp} ${rel}`
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

/** What the instance reports of its manifest: the first line, the digest of all but the last, the last. */
export interface SealClaim {
  header: string
  bodyDigest: string
  sealLine: string
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

/** One manifest line; undefined for anything else (the header, the seal). */
export function parseManifestLine(line: string): [string, ManifestEntry] | undefined {
  const m = /^([0-9a-f]{64}) ([0-7]+) (\d+ \d+ [\d.]+) (.+)$/.exec(line)
  return m ? [m[4], { sha256: m[1], mode: parseInt(m[2], 8), stamp: m[3] }] : undefined
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
  let answered = false
  const onStdout = (d: Buffer) => {
    if (answered) return
    out.push(d)
    const all = Buffer.concat(out)
    const at = all.indexOf(LISTED)
    if (at < 0) return
    answered = true
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
  const relist = uploaded.size
    ? `( cd -- ${shellQuote(dir)} && ${nulList([...uploaded].map(rel => `./${rel}`))} | xargs -0 sh -c 'exec find "$@" -maxdepth 0 -type f -printf "%y %i %s %C@ %m %p\\n"' find 2>/dev/null; exit 0 )`
    : ':'
  const script = `IFS= read -r n || exit 1
{ head -n "$n"; echo --; ${relist}; } | awk -v M=${shellQuote(final)} '${CARRY_AWK}' > ${shellQuote(body)} || { rm -f -- ${shellQuote(body)}; exit 1; }
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
