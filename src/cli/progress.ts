import { streamLogger, type Logger } from '../log.js'
import type { CliIo } from './io.js'

/**
 * The CLI's logger: stderr lines, secrets masked (streamLogger). On a terminal the engine's periodic
 * progress lines ("web-1: 12/30 files, 40.0/100.0 MiB published (11.2 MB/s)") become one bar that
 * redraws in place; anywhere else they stay plain lines, so logs and CI output read as before.
 */

const PROGRESS = /^(.+): (\d+)\/(\d+) files, ([\d.]+)\/([\d.]+) MiB published \(([\d.]+) MB\/s\)$/

export interface CliLoggerOptions {
  debug?: boolean
  /** Only warnings (and the final error) reach stderr. */
  quiet?: boolean
  /** Draw progress bars (default: when stderr is a terminal). */
  tty?: boolean
}

export function cliLogger(io: CliIo, opts: CliLoggerOptions = {}): Logger {
  const tty = opts.tty ?? !!io.stderr.isTTY
  let barShown = false
  const clearBar = () => {
    if (barShown) io.stderr.write('\r\x1b[2K')
    barShown = false
  }
  const write = (line: string) => {
    const m = tty ? PROGRESS.exec(line) : null
    if (m) {
      clearBar()
      io.stderr.write(progressBar(m, io.stderr.columns ?? 80))
      barShown = true
      return
    }
    clearBar()
    io.stderr.write(line + '\n')
  }
  const inner = streamLogger(write, !!opts.debug)
  if (!opts.quiet) return inner
  return { ...inner, info: () => {}, group: (_name, fn) => fn() }
}

/** `web-1 [#########.........]  45% 12/30 files 40.0/100.0 MiB 11.2 MB/s`, fitted to the width. */
export function progressBar(m: RegExpExecArray, columns: number): string {
  const [, label, done, total, mib, totalMib, rate] = m
  const fraction = Number(totalMib) > 0 ? Math.min(1, Number(mib) / Number(totalMib)) : 0
  const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${done}/${total} files ${mib}/${totalMib} MiB ${rate} MB/s`
  const width = Math.max(10, Math.min(40, columns - label.length - tail.length - 4))
  const filled = Math.round(fraction * width)
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${tail}`.slice(
    0,
    Math.max(20, columns - 1)
  )
}
