import { StringDecoder } from 'node:string_decoder'
import { UserError } from '../errors.js'
import type { SshConnection } from '../ssh/connection.js'
import { execChannel } from '../ssh/run-script.js'
import { shellQuote } from '../remote/quote.js'

export interface CommandContext {
  /** pre-command or post-command (for messages). */
  name: string
  command: string
  /** The working folder (remote-path) and the variables the command sees. */
  cwd: string
  env: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
  /** Where each output line goes (the log, inside a group or prefixed with the target). */
  onLine: (line: string) => void
}

/**
 * The command line sent to the login shell: the variables are exported in the shell itself
 * (sshd refuses SetEnv unless AcceptEnv allows it), `set -e` as in a workflow's `run:`, and the
 * user's lines run in remote-path.
 */
export function commandLine(ctx: Pick<CommandContext, 'command' | 'cwd' | 'env' | 'timeoutMs'>): string {
  const exports = Object.entries(ctx.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`)
  const script = [
    ...exports,
    'set -e',
    `cd -- ${shellQuote(ctx.cwd)}`,
    // stderr joins stdout so the log keeps the order the command wrote in.
    'exec 2>&1',
    ctx.command
  ].join('\n')
  // coreutils `timeout` kills the command's whole process group at the limit (a background child
  // would otherwise outlive it); the client's own timer is the backstop where it is missing.
  const secs = Math.max(1, Math.ceil(ctx.timeoutMs / 1000))
  const sh = '"${SHELL:-/bin/sh}"'
  return `if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 ${secs} ${sh} -c ${shellQuote(script)}; else exec ${sh} -c ${shellQuote(script)}; fi`
}

/** Exit status of coreutils `timeout` when the limit was reached. */
const TIMEOUT_EXIT = 124

/** Run a pre- or post-command, streaming its output line by line; non-zero exit or timeout throws. */
export async function runUserCommand(conn: SshConnection, ctx: CommandContext): Promise<void> {
  let partial = ''
  // One decoder per stream: a character split across two chunks is held until its last byte comes.
  const reader = (decoder: StringDecoder) => (d: Buffer) => {
    const lines = (partial + decoder.write(d)).split(/\r?\n/)
    partial = lines.pop() ?? ''
    for (const l of lines) ctx.onLine(l)
  }
  const stdout = new StringDecoder('utf8')
  const stderr = new StringDecoder('utf8')
  const started = Date.now()
  const r = await execChannel(conn, commandLine(ctx), {
    timeoutMs: ctx.timeoutMs + 3000,
    signal: ctx.signal,
    onStdout: reader(stdout),
    onStderr: reader(stderr)
  })
  partial += stdout.end() + stderr.end()
  if (partial) ctx.onLine(partial)
  if (r.timedOut || (r.code === TIMEOUT_EXIT && Date.now() - started >= ctx.timeoutMs - 100)) {
    throw new UserError(
      `${ctx.name} on ${conn.label} did not finish within command-timeout-seconds (${ctx.timeoutMs / 1000} s) and was killed.`
    )
  }
  if (r.code !== 0) {
    const how = r.code === null ? `was killed by signal ${r.signal ?? '?'}` : `exited with code ${r.code}`
    throw new UserError(`${ctx.name} on ${conn.label} ${how}; its output is in the log above.`)
  }
}
