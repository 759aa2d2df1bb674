import { gunzipSync } from 'node:zlib'
import { META_DIR, isOwnFile } from './names.js'
import { nulList, shellQuote } from './quote.js'

/**
 * Listing a remote folder: the `find` records the instance prints, the gzip+base64 wrapper its
 * larger outputs come back in, and how both are read here (docs/remote-protocol.md, "Listing").
 */

/** One file (or symlink) found under a remote folder, with what identifies its content cheaply. */
export interface RemoteEntry {
  path: string
  type: 'file' | 'link'
  size: number
  mode: number
  /**
   * `inode size ctime`: changes whenever the content could have changed. ctime cannot be set back
   * (every write, chmod or utime moves it to now), so mtime would add nothing.
   */
  stamp: string
}

export const FIND_TYPES = '\\( -type f -o -type l \\)'
/** type, inode, size, ctime, mode, path relative to the folder listed. */
export const FIND_FORMAT = '%y %i %s %C@ %m %P\\0'

/**
 * `find` over the current folder (our metadata folder skipped), one FIND_FORMAT record per file or symlink
 * ending in `end`; `select` narrows it further.
 */
export function findEntries(select = '', end = '\\0'): string {
  return `find . -mindepth 1 -path ./${META_DIR} -prune -o ${FIND_TYPES} ${select} -printf '${FIND_FORMAT.replace('\\0', end)}'`
}

/**
 * FIND_FORMAT records for these paths under `dir` (with `./`, so names that start with '-' or
 * '(' do not read as find expressions; parseEntry takes the `./` off), each ending in `end`.
 */
export function relistScript(dir: string, rels: string[], end = '\\0'): string {
  if (rels.length === 0) return ':\n'
  const format = FIND_FORMAT.replace('%P', '%p').replace('\\0', end)
  return `( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
${nulList(rels.map(rel => `./${rel}`))} | xargs -0 sh -c 'exec find "$@" -maxdepth 0 ${FIND_TYPES} -printf "${format}"' find 2>/dev/null
exit 0 )
`
}

/** Every file and symlink under `dir`, uncompressed (nothing when `dir` does not exist). */
export function rawListingScript(dir: string): string {
  return `( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
${findEntries()} || true )
`
}

/** The listing as a script fragment (its output compressed; parseListing reads it). */
export function listingScript(dir: string): string {
  return compressedOutput(rawListingScript(dir))
}

const GZ_BEGIN = '--ec2-push-gzip-base64--'
const GZ_END = '--ec2-push-gzip-end--'

/**
 * Run a script fragment with its output gzipped and base64-encoded when the instance has both tools
 * (every mainstream AMI does). Listings and manifests come back from the instance, and over ssm
 * that direction runs at the agent's pace (about 1 MB/s): 2,000 files' listing and manifest, 440 KB,
 * come back as 210 KB. Without gzip the output comes back as it is; readers accept both.
 * The fragment is written once, as a function (run in a subshell, as a pipeline's part would be):
 * it can hold a sync request's 170 KB here-document, which would otherwise go up twice.
 */
export function compressedOutput(fragment: string): string {
  return `ec2_push_fragment() (
${fragment}
)
if command -v gzip >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then
echo ${GZ_BEGIN}
ec2_push_fragment | gzip -1 | base64
echo ${GZ_END}
else
ec2_push_fragment
fi
`
}

/** Undo compressedOutput wherever its blocks appear in an exec's output. */
export function expandCompressed(out: string): string {
  let at = out.indexOf(GZ_BEGIN)
  while (at >= 0) {
    const end = out.indexOf(GZ_END, at)
    if (end < 0) throw new Error('the instance sent a truncated compressed listing')
    const encoded = out.slice(at + GZ_BEGIN.length, end)
    const text = gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8')
    const after = out.slice(end + GZ_END.length).replace(/^\n/, '')
    out = out.slice(0, at) + text + after
    at = out.indexOf(GZ_BEGIN, at + text.length)
  }
  return out
}

export function parseListing(out: string): Map<string, RemoteEntry> {
  const map = new Map<string, RemoteEntry>()
  for (const rec of expandCompressed(out).split('\0')) {
    const e = parseEntry(rec)
    if (e) map.set(e.path, e)
  }
  return map
}

/** One `FIND_FORMAT` record (without its terminator); undefined for our own files and for noise. */
export function parseEntry(rec: string): RemoteEntry | undefined {
  const m = /^([fl]) (\d+) (\d+) ([\d.]+) ([0-7]+) (.+)$/s.exec(rec)
  if (!m) return undefined
  const [, y, inode, size, ctime, mode, found] = m
  const rel = found.startsWith('./') ? found.slice(2) : found // relist's `%p` names
  if (isOwnFile(rel)) return undefined
  return {
    path: rel,
    type: y === 'f' ? 'file' : 'link',
    size: Number(size),
    mode: parseInt(mode, 8),
    stamp: `${inode} ${size} ${ctime}`
  }
}
