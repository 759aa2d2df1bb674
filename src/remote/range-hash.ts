import { shellQuote } from './quote.js'

/**
 * The instance's half of a striped upload's verification (transfer/striped.ts): the sha256 of
 * byte ranges of one file, each asked for as soon as its bytes are written, so the instance hashes
 * while the rest goes up and only a range that came out wrong has to be sent again. Ranges start
 * on RANGE_BLOCK boundaries (dd's skip counts blocks; `iflag=skip_bytes` is GNU only) and the last
 * one runs to the end of the file.
 */

export const RANGE_BLOCK = 1024 * 1024

/**
 * Reads `skip count` lines on stdin (in RANGE_BLOCK blocks) and answers each with `skip digest`,
 * hashing with OpenSSL where it is installed (half the CPU of coreutils', less with SHA
 * instructions), else sha256sum. Run as `sh -c` or on a shell session, its stdin a stream.
 */
export function rangeHashScript(remotePath: string): string {
  return `f=${shellQuote(remotePath)}
if command -v openssl >/dev/null 2>&1; then h='openssl dgst -sha256 -r'; else h=sha256sum; fi
while read -r s c; do
  # shellcheck disable=SC2086 # $h is a command and its options, split on purpose
  d=$(dd if="$f" bs=${RANGE_BLOCK} skip="$s" count="$c" 2>/dev/null | $h) || exit 1
  printf '%s %s\\n' "$s" "\${d%% *}"
done`
}

/** The request for the range [offset, offset + length): its line on rangeHashScript's stdin. */
export function rangeHashRequest(offset: number, length: number): string {
  return `${offset / RANGE_BLOCK} ${Math.ceil(length / RANGE_BLOCK)}\n`
}

/** One answer line of rangeHashScript: the range's offset in bytes and its digest ('' if hashing failed). */
export function parseRangeHash(line: string): { offset: number; digest: string } | undefined {
  const m = /^(\d+) ([0-9a-f]{64})?$/.exec(line)
  return m ? { offset: Number(m[1]) * RANGE_BLOCK, digest: m[2] ?? '' } : undefined
}
