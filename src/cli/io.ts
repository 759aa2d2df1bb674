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
