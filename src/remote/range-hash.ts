import { shellQuote } from './quote.js'
import { hasherLine, type LargeFileHasher } from './verify.js'

/**
 * The instance's half of the range upload's verification (transfer/striped.ts): the sha256 of byte
 * ranges of the files being written, each asked for as soon as its bytes are, so the instance
 * hashes while the rest goes up and only a range that came out wrong has to be sent again. One
 * script per connection serves every file: each request names its file. Ranges start on
 * RANGE_BLOCK boundaries (dd's skip counts blocks; `iflag=skip_bytes` is GNU only) and the last
 * one of a file runs to its end.
 */

export const RANGE_BLOCK = 1024 * 1024

/**
 * Reads `skip count path` lines on stdin (skip and count in RANGE_BLOCKs; count 0: the whole file;
 * the path as requestPath writes it) and answers each with `skip path digest`, the digest empty when
 * the file is not there or the hash printed no 64-hex digest (so a broken hasher's text never
 * reaches the answer line, let alone confirms). Hashes with hasherLine's command. A whole file is
 * hashed from a redirect: no dd, no pipe (files sent as one range are many, and each process
 * costs). Run as `sh -c` or on a shell session, its stdin a stream.
 */
export function rangeHashScript(hasher?: LargeFileHasher): string {
  return `${hasherLine(hasher)}
while read -r s c p; do
  # shellcheck disable=SC2059 # octal escapes, which printf's format turns back into the path's bytes
  case $p in
  :*) f=\${p#:} ;;
  *) f=$(printf "\${p#=}"; echo x); f=\${f%x} ;;
  esac
  d=
  # shellcheck disable=SC2086 # $h is a command and its options, split on purpose
  if [ ! -f "$f" ]; then :
  elif [ "$c" = 0 ]; then d=$($h <"$f")
  else d=$(dd if="$f" bs=${RANGE_BLOCK} skip="$s" count="$c" 2>/dev/null | $h)
  fi
  d=\${d%% *}
  case $d in *[!0-9a-f]*) d= ;; esac
  [ \${#d} -eq 64 ] || d=
  printf '%s %s %s\\n' "$s" "$p" "$d"
done`
}

/** rangeHashScript in `dir`, for paths relative to it asked as `./<path>` (a sync's whole files). */
export function rangeHashUnderScript(dir: string, hasher?: LargeFileHasher): string {
  return `cd -- ${shellQuote(dir)} || exit 1\n${rangeHashScript(hasher)}`
}

/**
 * A path as the last word of a request: as it is after a `:` when \`read -r\` keeps it whole (no
 * line break, no backslash), else after a `=` with every byte but letters, digits and `/._-` as a
 * three-digit octal escape for printf's format.
 */
export function requestPath(p: string): string {
  if (!/[\n\r\\]/.test(p) && p.trim() === p) return `:${p}`
  let out = '='
  for (const b of Buffer.from(p, 'utf8')) {
    out += /[A-Za-z0-9/._-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `\\${b.toString(8).padStart(3, '0')}`
  }
  return out
}

/** The request for the range [offset, offset + length) of `path` (requestPath's); `whole`: the file entire. */
export function rangeHashRequest(path: string, offset: number, length: number, whole = false): string {
  return `${offset / RANGE_BLOCK} ${whole ? 0 : Math.ceil(length / RANGE_BLOCK)} ${path}\n`
}

/** One answer line: the range's offset in bytes, its path as requested, its digest ('' if it could not be read). */
export function parseRangeHash(line: string): { offset: number; path: string; digest: string } | undefined {
  const m = /^(\d+) ([:=].*?) ?([0-9a-f]{64})?$/s.exec(line)
  return m ? { offset: Number(m[1]) * RANGE_BLOCK, path: m[2], digest: m[3] ?? '' } : undefined
}
