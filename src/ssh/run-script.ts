import type { SshConnection } from './connection.js'
import { execChannel, execScript, type ShellOptions } from './exec.js'

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

export { execChannel, execScript }
export type { ShellOptions, ShellResult } from './exec.js'
