import path from 'node:path'
import { isLinePath, MANIFEST_HEADER, manifestLine, type ManifestEntry } from './manifest-lines.js'
import { tempPathFor } from './names.js'
import { shellQuote } from './quote.js'

/**
 * Writing the sync manifest on the instance: the scripts, the lines they are sent and the markers
 * the conversation turns on (docs/remote-protocol.md, "Writing the manifest"). The manifest goes
 * in under a temporary name and is renamed into place, so a reader sees the old one or the new.
 */

/** Ends the listing part of a listed write; the manifest goes in on stdin after it. */
export const LISTED = '--ec2-push-listed--'
/** Precedes the digest of the lines the instance put together (carriedWriteScript). */
const DIGEST = '--ec2-push-digest--'

/** The manifest `file`, read whole from stdin, put in place (its folder made if need be); then `after`. */
export function writeScript(file: string, after = ''): string {
  const tmp = shellQuote(tempPathFor(file))
  return `mkdir -p -- ${shellQuote(path.posix.dirname(file))} && cat > ${tmp} && mv -f -- ${tmp} ${shellQuote(file)} || exit 1\n${after}`
}

/**
 * `listing` (a script listing the folder), LISTED, then writeScript: one exec in which the listing
 * comes back and the manifest made from it goes in on stdin.
 */
export function listedWriteScript(listing: string, file: string, after = ''): string {
  return `${listing}echo ${LISTED}\n${writeScript(file, after)}`
}

/** What the manifest holds when the instance puts it together (carriedWriteScript). */
export interface CarriedParts {
  /** Files whose line is copied from the manifest there as it is. */
  carried: Iterable<string>
  /** Lines made here (files neither carried nor uploaded). */
  known: Map<string, ManifestEntry>
  /** Uploaded files: their line is made there from this sha256 and the file's stamp now. */
  uploaded: Map<string, string>
}

/**
 * The counted lines carriedWriteScript reads first: `K <path>` (carry), `L <line>` (as it is),
 * `N <sha256> <path>` (make from the listing). Paths the line format cannot hold are left out.
 */
export function carriedInput(parts: CarriedParts): string {
  const input = [
    ...[...parts.carried].filter(isLinePath).map(rel => `K ${rel}`),
    ...[...parts.known].filter(([rel]) => isLinePath(rel)).map(([rel, e]) => `L ${manifestLine(rel, e)}`),
    ...[...parts.uploaded].filter(([rel]) => isLinePath(rel)).map(([rel, sha]) => `N ${sha} ${rel}`)
  ]
  return [String(input.length), ...input, ''].join('\n')
}

/**
 * The instance puts the manifest's lines together (awk), prints DIGEST and their sha256, reads the
 * seal line made here from that digest, and renames the whole into place. `relist` lists the
 * uploaded files (remote/listing.ts relistScript with '\n' ends).
 * The lines come counted, so they are read without waiting for the end of stdin (the seal comes
 * on it later); awk reads them from head, not from stdin (mawk would wait to fill its buffer).
 */
export function carriedWriteScript(file: string, relist: string, after = ''): string {
  const final = shellQuote(file)
  const tmp = shellQuote(tempPathFor(file))
  const body = shellQuote(tempPathFor(file))
  return `IFS= read -r n || exit 1
{ head -n "$n"; echo --
${relist}} | awk -v M=${final} '${CARRY_AWK}' > ${body} || { rm -f -- ${body}; exit 1; }
printf '%s %s\\n' ${DIGEST} "$(sha256sum < ${body} | cut -c1-64)"
IFS= read -r seal || { rm -f -- ${body}; exit 1; }
{ cat -- ${body} && printf '%s\\n' "$seal"; } > ${tmp} && mv -f -- ${tmp} ${final}; s=$?
rm -f -- ${body}
[ $s -eq 0 ] || exit 1
${after}`
}

/** The digest carriedWriteScript printed, once it is in `out` (all its output so far). */
export function carriedDigest(out: string): string | undefined {
  return new RegExp(`${DIGEST} ([0-9a-f]{64})\\n`).exec(out)?.[1]
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
