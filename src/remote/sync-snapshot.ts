import {
  compressedOutput,
  expandCompressed,
  findEntries,
  parseEntry,
  parseListing,
  rawListingScript,
  type RemoteEntry
} from './listing.js'
import { isLinePath, type SealClaim } from './manifest-lines.js'
import { manifestFromDir } from './names.js'
import { shellQuote } from './quote.js'

/**
 * The sync snapshot: the script that reads what sync compares against in one exec, and how its
 * output is read (docs/remote-protocol.md, "The sync snapshot").
 */

/** A planned file as the snapshot needs it. */
export interface PlannedShape {
  relativePath: string
  size: number
  mode: number
}

/**
 * What sync compares against, read in one exec. Over ssm everything the instance sends comes at
 * the agent's pace (about 1 MB/s), so the comparison is done there where it can be: the planned
 * files' sha256, size and mode go up with the script, and awk on the instance joins them with the
 * listing and the manifest. What comes back is only what differs (and the files not in the set),
 * with the manifest's digest and seal for the client to check: for 2,000 files, one changed,
 * under 1 KB instead of the 210 KB listing and manifest. Where the instance lacks awk, sha256sum
 * or sed, the listing and the manifest come back whole and the client compares.
 */
export interface RemoteSnapshot {
  /**
   * Remote files and symlinks the client has to judge itself: every one when the instance did not
   * compare; otherwise those that differ from the set or are not in it.
   */
  listing: Map<string, RemoteEntry>
  /** The manifest's text, when the instance did not compare. */
  manifestText: string
  /** The instance's comparison, when it made one. */
  joined?: JoinedSnapshot
}

export interface JoinedSnapshot {
  /** The manifest's parts for checking its seal (undefined: there is no manifest). */
  seal?: SealClaim
  /** Planned paths the instance does not have. */
  missing: Set<string>
  /** How many planned files it found as the manifest records them, with the same sha256 as here. */
  sameCount: number
  /** The manifest's sha256 for listed files whose stamp it records unchanged (trusted only with the seal). */
  manifestSha: Map<string, string>
  /** The planned paths that were sent for comparing (the rest are judged from `listing`). */
  compared: Set<string>
}

/** What the client sends up to be compared there. */
export interface SnapshotRequest {
  files: PlannedShape[]
  digests: Map<string, string>
}

const JOINED = '--ec2-push-joined--'
const RAW = '--ec2-push-raw--'
const MANIFEST_SEPARATOR = '\0--ec2-push-manifest--\0'

/**
 * On the instance (POSIX awk): stdin holds the planned files (`sha size mode path`) up to a `--`
 * line, then the listing (`y inode size ctime mode path`); M names the manifest. Prints `R <manifest
 * sha or -> <listing record>` for what differs or is not planned, `M <path>` for planned paths
 * missing there, and `S <count>` of the rest.
 */
const JOIN_AWK = `BEGIN {
  while ((getline l < M) > 0) {
    if (length(l) < 66 || substr(l, 65, 1) != " ") continue
    split(l, f, " ")
    p = l; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
    msha[p] = f[1]; mmode[p] = f[2]; mstamp[p] = f[3] " " f[4] " " f[5]
  }
}
phase == 0 {
  if ($0 == "--") { phase = 1; next }
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", p)
  want[p] = $1; wsize[p] = $2; wmode[p] = $3
  next
}
{
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
  st = $2 " " $3 " " $4
  trusted = (p in msha) && mstamp[p] == st && mmode[p] "" == $5 ""
  if (p in want) {
    seen[p] = 1
    if ($1 == "f" && $3 + 0 == wsize[p] + 0 && $5 "" == wmode[p] "" && trusted && msha[p] "" == want[p] "") { same++; next }
  }
  print "R " ((p in want) && trusted ? msha[p] : "-") " " $0
}
END {
  for (p in want) if (!(p in seen)) print "M " p
  print "S " (same + 0)
}`

/**
 * The same join with the listing first and the planned files after it, as they come on the
 * script's stdin (plannedInput): the instance lists the folder and reads the manifest while the
 * runner is still hashing its files. Prints what JOIN_AWK prints.
 */
const JOIN_AWK_LISTING_FIRST = `BEGIN {
  while ((getline l < M) > 0) {
    if (length(l) < 66 || substr(l, 65, 1) != " ") continue
    split(l, f, " ")
    p = l; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
    msha[p] = f[1]; mmode[p] = f[2]; mstamp[p] = f[3] " " f[4] " " f[5]
  }
}
phase == 0 {
  if ($0 == "--") { phase = 1; next }
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
  rec[p] = $0; ty[p] = $1; sz[p] = $3; md[p] = $5; st[p] = $2 " " $3 " " $4
  next
}
{
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", p)
  if (!(p in rec)) { print "M " p; next }
  trusted = (p in msha) && mstamp[p] == st[p] && mmode[p] "" == md[p] ""
  if (ty[p] == "f" && sz[p] + 0 == $2 + 0 && md[p] "" == $3 "" && trusted && msha[p] "" == $1 "") same++
  else print "R " (trusted ? msha[p] : "-") " " rec[p]
  delete rec[p]
}
END {
  for (p in rec) print "R - " rec[p]
  print "S " (same + 0)
}`

/** The planned files' lines for a snapshot that reads them from stdin (snapshotScript with 'stdin'). */
export function plannedInput(request: SnapshotRequest): string {
  return comparedFiles(request)
    .map(
      f =>
        `${request.digests.get(f.relativePath)} ${f.size} ${(f.mode & 0o777).toString(8)} ${f.relativePath}\n`
    )
    .join('')
}

/** The planned files the instance compares (the rest, if any, are judged from the listing). */
function comparedFiles(request: SnapshotRequest): PlannedShape[] {
  return request.files.filter(f => request.digests.has(f.relativePath) && isLinePath(f.relativePath))
}

/** fnmatch pattern for a path with a control character (listed apart, NUL-terminated). */
const CONTROL = `"*[$(printf '\\001-\\037')]*"`

/**
 * The snapshot of `dir`: compared there when `request` is given and the tools are there. With
 * 'stdin', the planned files come on the script's stdin (plannedInput), read after the listing.
 */
export function snapshotScript(
  dir: string,
  request?: SnapshotRequest | 'stdin',
  /** The manifest, named from inside `dir` (remote/names.ts manifestFromDir). */
  manifestFile = manifestFromDir()
): string {
  if (!request) return compressedOutput(rawListingScript(dir))
  const manifest = shellQuote(manifestFile)
  const seal = `echo ${JOINED}
if [ -f ${manifest} ]; then
  printf 'H %s\\nD %s\\nT %s\\n' "$(head -n 1 ${manifest})" "$(sed '$d' ${manifest} | sha256sum | cut -c1-64)" "$(tail -n 1 ${manifest})"
fi`
  if (request === 'stdin') {
    return joinedOrRaw(
      dir,
      manifest,
      `${seal}
{ ${findEntries(`! -path ${CONTROL}`, '\\n')}
echo --
cat
} | awk -v M=${manifest} '${JOIN_AWK_LISTING_FIRST}' || exit 1
echo ${RAW}
${findEntries(`-path ${CONTROL}`)}`
    )
  }
  const expected = comparedFiles(request).map(
    f => `${request.digests.get(f.relativePath)} ${f.size} ${(f.mode & 0o777).toString(8)} ${f.relativePath}`
  )
  // The here-document ends at a line no planned path can make (each line starts with a sha256).
  const joined = `${seal}
{ cat <<'EC2_PUSH_PLANNED'
${expected.join('\n')}
EC2_PUSH_PLANNED
echo --
${findEntries(`! -path ${CONTROL}`, '\\n')}
} | awk -v M=${manifest} '${JOIN_AWK}' || exit 1
echo ${RAW}
${findEntries(`-path ${CONTROL}`)}`
  return joinedOrRaw(dir, manifest, joined)
}

/** `joined` where the instance has awk, sha256sum and sed; else the listing and the manifest whole. */
function joinedOrRaw(dir: string, manifest: string, joined: string): string {
  return compressedOutput(`( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
if command -v awk >/dev/null 2>&1 && command -v sha256sum >/dev/null 2>&1 && command -v sed >/dev/null 2>&1; then
${joined}
else
${findEntries()}
printf '\\0--ec2-push-manifest--\\0'
cat -- ${manifest} 2>/dev/null
fi
exit 0 )
`)
}

export function parseSnapshot(compressed: string, request?: SnapshotRequest): RemoteSnapshot {
  const out = expandCompressed(compressed)
  const j = out.indexOf(`${JOINED}\n`)
  if (j < 0) {
    const at = out.indexOf(MANIFEST_SEPARATOR)
    if (at < 0) return { listing: parseListing(out), manifestText: '' }
    return {
      listing: parseListing(out.slice(0, at)),
      manifestText: out.slice(at + MANIFEST_SEPARATOR.length)
    }
  }
  const raw = out.indexOf(`${RAW}\n`, j)
  if (raw < 0) throw new Error('the instance sent a truncated comparison')
  const listing = parseListing(out.slice(raw + RAW.length + 1))
  const missing = new Set<string>()
  const manifestSha = new Map<string, string>()
  const claim: Partial<SealClaim> = {}
  let sameCount: number | undefined
  for (const line of out.slice(j + JOINED.length + 1, raw).split('\n')) {
    const kind = line.slice(0, 2)
    const rest = line.slice(2)
    if (kind === 'R ') {
      const sp = rest.indexOf(' ')
      const e = parseEntry(rest.slice(sp + 1))
      if (!e) continue
      listing.set(e.path, e)
      if (/^[0-9a-f]{64}$/.test(rest.slice(0, sp))) manifestSha.set(e.path, rest.slice(0, sp))
    } else if (kind === 'M ') missing.add(rest)
    else if (kind === 'S ') sameCount = Number(rest)
    else if (kind === 'H ') claim.header = rest
    else if (kind === 'D ') claim.bodyDigest = rest
    else if (kind === 'T ') claim.sealLine = rest
  }
  if (sameCount === undefined) throw new Error('the instance sent a truncated comparison')
  const compared = new Set(request ? comparedFiles(request).map(f => f.relativePath) : [])
  const seal =
    claim.header !== undefined && claim.bodyDigest && claim.sealLine !== undefined
      ? (claim as SealClaim)
      : undefined
  return { listing, manifestText: '', joined: { seal, missing, sameCount, manifestSha, compared } }
}
