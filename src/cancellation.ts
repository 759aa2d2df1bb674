/**
 * SIGINT and SIGTERM (what the Actions runner sends when a job is cancelled, SIGINT first, then
 * SIGTERM, then a kill; and Ctrl-C on a laptop): new work stops at once, each target undoes what it
 * did within a few seconds (runner.ts), and the process exits non-zero. Should undos hang anyway,
 * the process exits on its own before the runner's kill, saying what may be left.
 */

/** After the first signal, the process exits within this long whatever is still running. */
const HARD_STOP_MS = 6500

export interface Cancellation {
  signal: AbortSignal
  dispose(): void
}

export function watchCancellation(onGiveUp: (line: string) => void, exitCode = 1): Cancellation {
  const controller = new AbortController()
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) return
    controller.abort(new Error(`cancelled by ${name}`))
    setTimeout(() => {
      onGiveUp(
        `The deploy was cancelled (${name}) and its clean-up did not finish in time; the next deploy sweeps what is left, or the action's post step does.`
      )
      process.exit(exitCode)
    }, HARD_STOP_MS).unref()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    }
  }
}
