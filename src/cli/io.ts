import type { Readable, Writable } from 'node:stream'

/** Where a command reads and writes: the process's streams, or test doubles. */
export interface CliIo {
  stdin: Readable
  stdout: Writable
  stderr: Writable & { isTTY?: boolean; columns?: number }
  /** Write one line to stderr. */
  err(line: string): void
  /** Write one line to stdout. */
  out(line: string): void
}

export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    err: line => void process.stderr.write(line + '\n'),
    out: line => void process.stdout.write(line + '\n')
  }
}

/**
 * @actions/core (used by @actions/glob inside the file planner) writes workflow commands such as
 * `::debug::...` to stdout. In the CLI stdout carries only outputs or tunnel bytes, so those strings
 * go to stderr instead (debug ones only with --debug). Buffers (tunnel bytes) pass untouched.
 */
export function divertWorkflowCommands(debug: boolean): void {
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('::')) {
      const m = /^::([a-z-]+)[^:]*::(.*)$/s.exec(chunk)
      const [command, message] = m ? [m[1], m[2]] : ['', chunk]
      if (command === 'debug' ? debug : command !== 'add-mask' && command !== 'set-output') {
        process.stderr.write(`${command === 'debug' ? 'debug: ' : ''}${message}`)
      }
      const cb = rest.find(r => typeof r === 'function') as (() => void) | undefined
      cb?.()
      return true
    }
    return write(chunk, ...rest)
  }) as typeof process.stdout.write
}
