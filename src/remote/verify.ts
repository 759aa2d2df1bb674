import { OPENSSL_SHA256 } from './probes.js'
import { nulList, shellQuote } from './quote.js'

/**
 * Hashing files on the instance, the scripts the upload's verification and sync's comparison run
 * and how their answers are read (docs/remote-protocol.md, "Verification"). Everything the
 * TypeScript side trusts here is what the instance's own sha256sum (or OpenSSL) printed.
 */

/** `sha256sum` of these absolute paths, listed as sha256sum lists (parseSha256sum reads it). */
export function sha256sumScript(paths: string[]): string {
  return `sha256sum -- ${paths.map(shellQuote).join(' ')}`
}

/**
 * `sha256sum` of these paths relative to `dir`, through xargs (no command-line limit). Each goes as
 * `./<path>`: sha256sum reads a file named `-` as its stdin even after `--`.
 */
export function hashUnderScript(dir: string, rels: string[]): string {
  return `cd -- ${shellQuote(dir)} || exit 1\n${nulList(rels.map(rel => `./${rel}`))} | xargs -0 sha256sum --\n`
}

/** hashUnderScript's answer: relative path -> hex digest. */
export function parseHashUnder(output: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const [p, digest] of parseSha256sum(output)) out.set(p.startsWith('./') ? p.slice(2) : p, digest)
  return out
}

/** Undo sha256sum's escaping of a file name (a line starting with `\` has `\\`, `\n`, `\r` escaped). */
export function unescapeSha256sumName(name: string): string {
  return name.replace(/\\(\\|n|r)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'))
}

/** Parse `sha256sum` output into path -> hex digest. */
export function parseSha256sum(output: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of output.split('\n')) {
    if (!line) continue
    const escaped = line.startsWith('\\')
    const m = /^\\?([0-9a-f]{64}) [ *](.*)$/s.exec(line)
    if (!m) continue
    out.set(escaped ? unescapeSha256sumName(m[2]) : m[2], m[1])
  }
  return out
}

/**
 * sha256 of files whose names a sha256sum listing cannot carry (a line break, which BusyBox does not
 * escape): each file read on stdin, its digest printed after its index in `paths`. A process a file,
 * so only for such names.
 */
export function indexedSha256Script(paths: string[]): string {
  return paths.map((p, i) => `printf '%s ' ${i}; sha256sum < ${shellQuote(p)} || echo`).join('\n') + '\n'
}

/** indexedSha256Script's answer: path -> hex digest (a file that could not be read is left out). */
export function parseIndexedSha256(output: string, paths: string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of output.split('\n')) {
    const m = /^(\d+) ([0-9a-f]{64})(?:\s|$)/.exec(line)
    const p = m ? paths[Number(m[1])] : undefined
    if (m && p !== undefined) out.set(p, m[2])
  }
  return out
}

/**
 * Paths sha256sum -c reads as they are: a backslash or a line break in a name would need its escaped
 * form, which older coreutils read differently. Such files are hashed with sha256sumScript instead.
 */
export function checkable(remotePath: string): boolean {
  return !/[\\\n\r]/.test(remotePath)
}

/** The comparison on the instance: the expected sums go up in a here-document (no line starts like its end). */
export function checkScript(expected: Map<string, string>): string {
  const lines = [...expected].map(([p, digest]) => `${digest}  ${p}`)
  return `sha256sum --quiet --strict -c - <<'EC2_PUSH_SUMS'\n${lines.join('\n')}\nEC2_PUSH_SUMS`
}

/**
 * What checkScript's run said: the paths that failed, or undefined when the answer is not one
 * `sha256sum --quiet -c` gives (the option is missing, or a line names no file that was sent).
 */
export function parseCheck(r: { code: number | null; stdout: string }, expected: Map<string, string>) {
  if (r.code === 0 && r.stdout === '') return new Set<string>()
  if (r.code !== 1) return undefined
  const failed = new Set<string>()
  for (const line of r.stdout.split('\n')) {
    if (!line) continue
    const p = line.replace(/: FAILED( open or read)?$/, '')
    if (p === line || !expected.has(p)) return undefined
    failed.add(p)
  }
  return failed.size ? failed : undefined
}

/** The block the streamed hash reads in; its stdin announces how many more blocks are written. */
export const STREAM_BLOCK = 64 * 1024

/** The program a script hashes a large file with: OpenSSL's where it works there, else sha256sum. */
export type LargeFileHasher = 'openssl' | 'sha256sum'

/**
 * The line that sets `$h` to the large-file hash command: the probe's choice (remote/probes.ts),
 * or, where no probe answered, OpenSSL if it is on PATH (a broken one then gives no digest, which
 * never confirms a file).
 */
export function hasherLine(hasher?: LargeFileHasher): string {
  if (hasher === 'openssl') return `h='${OPENSSL_SHA256}'`
  if (hasher === 'sha256sum') return 'h=sha256sum'
  return `if command -v openssl >/dev/null 2>&1; then h='${OPENSSL_SHA256}'; else h=sha256sum; fi`
}

/**
 * The hash taken while a file is being written: it reads `remotePath` in order, `n` blocks for each
 * line `n` on stdin, into one hash (hasherLine's), and prints the hash's line when stdin ends. Run
 * as `sh -c`.
 */
export function streamHashScript(remotePath: string, hasher?: LargeFileHasher): string {
  return `exec 3< ${shellQuote(remotePath)} || exit 1
${hasherLine(hasher)}
# shellcheck disable=SC2086 # $h is a command and its options, split on purpose
{ while read -r n; do dd bs=${STREAM_BLOCK} count="$n" <&3 2>/dev/null || exit 1; done; } | $h`
}

/**
 * The digest streamHashScript printed, or undefined if it failed: exit 0 and one line whose first
 * word is 64 hex digits (`<hex>  -` from sha256sum, `<hex> *stdin` from OpenSSL), nothing else.
 */
export function parseStreamHash(r: { code: number | null; stdout: string } | undefined): string | undefined {
  const m = r?.code === 0 ? /^([0-9a-f]{64}) [^\n]*\n?$/.exec(r.stdout) : null
  return m?.[1]
}
