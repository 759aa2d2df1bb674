import type { SshConnection } from '../ssh/connection.js'
import { execChannel, execScript, type ShellOptions } from '../ssh/exec.js'
import { shellQuote } from '../transfer/remote-path.js'

/**
 * Run a POSIX sh script on the instance: the script goes through stdin (execScript), so its length
 * is not bounded by the command line, and the login shell (bash, zsh, fish...) does not matter.
 */
export function runScript(conn: SshConnection, script: string, opts: Omit<ShellOptions, 'stdin'> = {}) {
  return execScript(conn, script, opts)
}

/** Run a script and require exit 0; anything else is an error naming `what`. */
export async function runScriptOk(
  conn: SshConnection,
  script: string,
  what: string,
  opts: Omit<ShellOptions, 'stdin'> = {}
): Promise<string> {
  const r = await runScript(conn, script, opts)
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ')
    throw new Error(`${what} failed on ${conn.label} (exit ${r.code ?? r.signal}): ${detail || 'no output'}`)
  }
  return r.stdout
}

/** `printf '%s\0' 'a' 'b' ...`: a NUL-separated list for `xargs -0`, with no argv limit (printf is a builtin). */
export function nulList(paths: string[]): string {
  if (paths.length === 0) return 'printf ""'
  const lines: string[] = []
  for (let i = 0; i < paths.length; i += 500) {
    lines.push(
      `printf '%s\\0' ${paths
        .slice(i, i + 500)
        .map(shellQuote)
        .join(' ')}`
    )
  }
  return `{ ${lines.join('; ')}; }`
}

export { execChannel, execScript, shellQuote }
export type { ShellOptions, ShellResult } from '../ssh/exec.js'
