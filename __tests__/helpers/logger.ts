import type { Logger } from '../../src/log.js'

/** A Logger that keeps every line raw (unmasked, debug included) and every value registered as a secret. */
export function capturingLogger(): Logger & { lines: string[]; secrets: string[] } {
  const lines: string[] = []
  const secrets: string[] = []
  return {
    lines,
    secrets,
    info: m => void lines.push(m),
    warning: m => void lines.push(`warning: ${m}`),
    debug: m => void lines.push(`debug: ${m}`),
    setSecret: v => void secrets.push(v),
    group: async (name, fn) => {
      lines.push(`== ${name}`)
      return fn()
    }
  }
}
