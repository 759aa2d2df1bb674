import { UserError } from '../errors.js'
import type { InputKind } from './options.js'

/**
 * A small command-line parser: `--name value`, `--name=value`, boolean `--flag` / `--no-flag` /
 * `--flag=false`, list flags repeated, `--` ends the options. Mistakes are one-line UserErrors that
 * name the command's --help.
 */

export interface FlagSpec {
  name: string
  kind: InputKind
  /** A one-letter alias (`-h`). */
  short?: string
}

export interface ParsedArgs {
  /** Every value given per flag name, in order (booleans as 'true' / 'false'). */
  flags: Map<string, string[]>
  positionals: string[]
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map(s => [s.name, s]))
  const byShort = new Map(specs.filter(s => s.short).map(s => [s.short!, s]))
  const flags = new Map<string, string[]>()
  const positionals: string[] = []
  const add = (name: string, value: string) => flags.set(name, [...(flags.get(name) ?? []), value])

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    let name: string
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      inline = eq < 0 ? undefined : arg.slice(eq + 1)
    } else {
      const spec = byShort.get(arg.slice(1))
      if (!spec) throw unknown(arg, specs, command)
      name = spec.name
    }
    const spec = byName.get(name)
    if (!spec && name.startsWith('no-') && inline === undefined) {
      const negated = byName.get(name.slice(3))
      if (negated?.kind === 'boolean') {
        add(negated.name, 'false')
        continue
      }
    }
    if (!spec) throw unknown(`--${name}`, specs, command)
    if (spec.kind === 'boolean') {
      // `--flag`, `--flag=false`, or `--flag false` (only the words true/false are taken as its value).
      const next = argv[i + 1]
      const v = inline ?? (next !== undefined && /^(true|false)$/i.test(next) ? argv[++i] : 'true')
      if (!/^(true|false)$/i.test(v)) {
        throw new UserError(`--${name} takes true or false, got '${v}' (see ec2-push ${command} --help)`)
      }
      add(name, v.toLowerCase())
      continue
    }
    if (inline !== undefined) {
      add(name, inline)
      continue
    }
    if (i + 1 >= argv.length) {
      throw new UserError(`--${name} needs a value (see ec2-push ${command} --help)`)
    }
    add(name, argv[++i])
  }
  return { flags, positionals }
}

/** The last value of a flag, or undefined. */
export function last(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name)
  return v ? v[v.length - 1] : undefined
}

export function isSet(args: ParsedArgs, name: string): boolean {
  return last(args, name) === 'true'
}

function unknown(flag: string, specs: readonly FlagSpec[], command: string): UserError {
  const bare = flag.replace(/^-+/, '')
  const close = specs
    .map(s => ({ s, d: distance(bare, s.name) }))
    .filter(x => x.d <= Math.max(2, Math.floor(bare.length / 4)))
    .sort((a, b) => a.d - b.d)[0]
  const hint = close ? `; did you mean --${close.s.name}?` : ''
  return new UserError(
    `unknown option '${flag}' for 'ec2-push ${command}'${hint} (see ec2-push ${command} --help)`
  )
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}
