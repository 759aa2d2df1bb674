import { maskSecrets } from './report/command-output.js'

/**
 * The logging surface the engine uses. The action backs it with @actions/core; the CLI and the
 * simulators with stderr. Keeping the engine off @actions/core makes it reusable from the CLI.
 */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
  /** Register a value that must never be printed (the action masks it in every later log line). */
  setSecret(value: string): void
  /** `text` with every value registered by setSecret replaced by *** (for what is not a log line: outputs). */
  mask?(text: string): string
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

/** A logger that writes to a stream (stderr by default), masking registered secrets itself. */
export function streamLogger(
  write: (line: string) => void = line => process.stderr.write(line + '\n'),
  debugEnabled = false
): Logger {
  const secrets: string[] = []
  const mask = (s: string): string => secrets.reduce((acc, secret) => acc.split(secret).join('***'), s)
  return {
    mask: text => maskSecrets(text, secrets),
    info: m => write(mask(m)),
    warning: m => write(mask(`warning: ${m}`)),
    debug: m => {
      if (debugEnabled) write(mask(`debug: ${m}`))
    },
    setSecret: v => {
      if (v && v.length >= 4) secrets.push(v)
    },
    group: async (name, fn) => {
      write(mask(`== ${name}`))
      return fn()
    }
  }
}

export const silentLogger: Logger = {
  info: () => {},
  warning: () => {},
  debug: () => {},
  setSecret: () => {},
  group: (_name, fn) => fn()
}
