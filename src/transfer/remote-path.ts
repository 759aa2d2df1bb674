import { randomBytes } from 'node:crypto'
import path from 'node:path'

/** Quote one argument for a POSIX shell: everything inside single quotes, `'` as `'\''`. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export function remoteFilePath(remoteRoot: string, relativePath: string): string {
  return path.posix.join(remoteRoot, relativePath)
}

/** Random per process, so two runs never pick the same name; a counter keeps names unique within one. */
const TEMP_PREFIX = randomBytes(6).toString('hex')
let tempCounter = 0

/**
 * A temporary name beside the final one, so the rename that publishes it stays on one file system.
 * Starts with a dot (hidden), says who made it, and is short enough for any NAME_MAX.
 */
export function tempPathFor(finalPath: string): string {
  const dir = path.posix.dirname(finalPath)
  const base = path.posix.basename(finalPath).slice(0, 60)
  return path.posix.join(dir, `.${base}.ec2-push-${TEMP_PREFIX}${(tempCounter++).toString(16)}.tmp`)
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
