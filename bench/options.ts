import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'

/**
 * The bench's knobs: `--runs 5 --large-mib 256` on the command line (after `npm run bench --`), or
 * the same names as BENCH_* environment variables (BENCH_RUNS=5 BENCH_LARGE_MIB=256).
 */

export interface BenchOptions {
  runs: number
  largeMib: number
  smallFiles: number
  smallKib: number
  /** The engine's `concurrency` input; '' keeps the engine's default. */
  concurrency: string
  skip: Set<string>
  shellsFiles: number
  shellsSleepS: number
  mixLargeMib: number
  ssmMib: number
  ssmRuns: number
  ssmSmallFiles: number
  ssmRttMs: number
  ssmPacedMib: number
  ssmMatrix: 'default' | 'full'
  eiceMib: number
  eiceRuns: number
  eiceConfigs: 'default' | 'full'
  wanRtts: number[]
  wanPaths: string[]
  wanCases: string[]
  wanLargeMib: number
  wanSmallFiles: number
  wanRuns: number
  wanLargeRuns: number
  wanSkipTools: Set<string>
  wanConnections: string
  json?: string
  /** Folder for every scratch file and the sshd's instance folder ('' = the system's temp folder). */
  tmpdir: string
}

/** The bench's sections, in the order they run. */
export const SECTIONS = ['large', 'small', 'ssm', 'sync', 'wan', 'eice', 'shells', 'mix']

const SPEC = {
  runs: { default: '3', help: 'runs per tool for the direct comparison (interleaved)' },
  'large-mib': { default: '256', help: 'size of the single large file, MiB' },
  'small-files': { default: '2000', help: 'number of small files' },
  'small-kib': { default: '4', help: 'size of each small file, KiB' },
  concurrency: { default: '', help: "engine 'concurrency' input (files in flight); empty = its default" },
  skip: {
    default: '',
    help: `comma list of sections to skip: direct (large and small), ${SECTIONS.join(', ')}`
  },
  only: { default: '', help: 'comma list of the sections to run (the others are skipped), e.g. shells,mix' },
  'shells-files': { default: '20000', help: 'shells section: small files (of --small-kib) per deploy' },
  'shells-sleep': { default: '0.3', help: "shells section: seconds the slow login shell's .bashrc sleeps" },
  'mix-large-mib': {
    default: '1024',
    help: 'mix section: the one large file, MiB (beside 200 x 1 MiB and 50 x 4 MiB)'
  },
  'ssm-mib': { default: '32', help: 'file size through the ssm path, MiB (about 8-10 MB/s there)' },
  'ssm-runs': { default: '3', help: 'runs per ssm configuration' },
  'ssm-small-files': { default: '2000', help: 'small files through the ssm path (0 = skip)' },
  'ssm-rtt-ms': { default: '20', help: 'simulated round-trip time on the ssm path' },
  'ssm-paced-mib': { default: '4', help: "bytes for the official client's paced run (about 1 MB/s), MiB" },
  'ssm-matrix': {
    default: 'default',
    help: "'default' (shipped 1024 B / 1 MiB and 16 KiB / 1 MiB) or 'full'"
  },
  'eice-mib': { default: '', help: 'file size through the eice path, MiB (default: --large-mib)' },
  'eice-runs': { default: '', help: 'runs for the eice path (default: --runs)' },
  'eice-configs': {
    default: 'default',
    help: "'default' (shipped 65,000-byte frames, zero masks) or 'full'"
  },
  'wan-rtts': {
    default: '20,100',
    help: 'wan section: emulated round-trip times, ms (every path behind sim/wan-relay.ts)'
  },
  'wan-paths': { default: 'nlb,ssm,eice', help: 'wan section: paths' },
  'wan-cases': {
    default: 'large,small,sync',
    help: 'wan section: cases (1 large file, the small files, a sync redeploy with one changed)'
  },
  'wan-large-mib': { default: '256', help: 'wan section: size of the large file, MiB' },
  'wan-small-files': { default: '', help: 'wan section: small files (default: --small-files)' },
  'wan-runs': {
    default: '3',
    help: 'wan section: runs per tool of the small-file and sync cases (a few seconds each; their median)'
  },
  'wan-large-runs': {
    default: '1',
    help: 'wan section: runs per tool of the large case (OpenSSH takes 15-30 s a run at 100 ms)'
  },
  'wan-skip-tools': {
    default: 'sftp:small,scp:small',
    help: "wan section: 'tool' or 'tool:case' to leave out (sftp and scp put small files one at a time, several round trips each: 2,000 take ten minutes at 100 ms)"
  },
  'wan-connections': {
    default: '',
    help: "wan section: the engine's 'connections' input; empty = its default"
  },
  json: { default: '', help: 'also write every figure as JSON to this file' },
  tmpdir: {
    default: existsSync('/dev/shm') ? '/dev/shm' : '',
    help: "scratch and the instance's folder; tmpfs keeps disk writeback (noise for both tools) out ('' = system temp)"
  }
} as const

type Name = keyof typeof SPEC

/** --skip as given, or with --only every section not named (direct stands for large and small). */
function skipped(skip: string[], only: string[]): Set<string> {
  const known = ['direct', ...SECTIONS]
  const bad = [...skip, ...only].filter(x => !known.includes(x))
  if (bad.length) throw new Error(`unknown section '${bad.join(',')}': the sections are ${known.join(', ')}`)
  if (!only.length) return new Set(skip)
  const wanted = new Set(only.flatMap(x => (x === 'direct' ? ['large', 'small'] : [x])))
  return new Set([...skip, ...SECTIONS.filter(x => !wanted.has(x))])
}

export function usage(): string {
  const lines = Object.entries(SPEC).map(
    ([name, s]) =>
      `  --${name.padEnd(16)} ${s.help}${s.default ? ` (default ${s.default})` : ''}  [BENCH_${name.toUpperCase().replace(/-/g, '_')}]`
  )
  return `npm run bench -- [options]\n${lines.join('\n')}\n`
}

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(SPEC).map(n => [n, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' }
    },
    strict: true
  })
  if (values.help) return 'help'
  const raw = (n: Name): string =>
    ((values as Record<string, unknown>)[n] as string | undefined) ??
    env[`BENCH_${n.toUpperCase().replace(/-/g, '_')}`] ??
    SPEC[n].default
  const num = (n: Name, min: number): number => {
    const v = Number(raw(n))
    if (!Number.isFinite(v) || v < min) throw new Error(`--${n} must be a number >= ${min}, got '${raw(n)}'`)
    return v
  }
  const choice = <T extends string>(n: Name, choices: T[]): T => {
    const v = raw(n) as T
    if (!choices.includes(v)) throw new Error(`--${n} must be one of ${choices.join(', ')}, got '${v}'`)
    return v
  }
  const list = (n: Name) =>
    raw(n)
      .split(',')
      .map(x => x.trim())
      .filter(Boolean)
  const choices = (n: Name, allowed: string[]) => {
    const v = list(n)
    const bad = v.filter(x => !allowed.includes(x))
    if (bad.length) throw new Error(`--${n} takes ${allowed.join(', ')}, got '${bad.join(',')}'`)
    return v
  }
  const concurrency = raw('concurrency')
  if (concurrency !== '') num('concurrency', 1)
  const runs = Math.round(num('runs', 1))
  const largeMib = num('large-mib', 1)
  return {
    runs,
    largeMib,
    smallFiles: Math.round(num('small-files', 1)),
    smallKib: num('small-kib', 0),
    concurrency,
    skip: skipped(list('skip'), list('only')),
    shellsFiles: Math.round(num('shells-files', 1)),
    shellsSleepS: num('shells-sleep', 0),
    mixLargeMib: num('mix-large-mib', 1),
    ssmMib: num('ssm-mib', 1),
    ssmRuns: Math.round(num('ssm-runs', 1)),
    ssmSmallFiles: Math.round(num('ssm-small-files', 0)),
    ssmRttMs: num('ssm-rtt-ms', 0),
    ssmPacedMib: num('ssm-paced-mib', 1),
    ssmMatrix: choice('ssm-matrix', ['default', 'full']),
    eiceMib: raw('eice-mib') === '' ? largeMib : num('eice-mib', 1),
    eiceRuns: raw('eice-runs') === '' ? runs : Math.round(num('eice-runs', 1)),
    eiceConfigs: choice('eice-configs', ['default', 'full']),
    wanRtts: list('wan-rtts').map(x => {
      const n = Number(x)
      if (!Number.isFinite(n) || n < 0) throw new Error(`--wan-rtts must be numbers >= 0, got '${x}'`)
      return n
    }),
    wanPaths: choices('wan-paths', ['nlb', 'ssm', 'eice']),
    wanCases: choices('wan-cases', ['large', 'small', 'sync']),
    wanLargeMib: num('wan-large-mib', 1),
    wanSmallFiles:
      raw('wan-small-files') === ''
        ? Math.round(num('small-files', 1))
        : Math.round(num('wan-small-files', 1)),
    wanRuns: Math.round(num('wan-runs', 1)),
    wanLargeRuns: Math.round(num('wan-large-runs', 1)),
    wanSkipTools: new Set(list('wan-skip-tools')),
    wanConnections: raw('wan-connections'),
    json: raw('json') || undefined,
    tmpdir: raw('tmpdir')
  }
}
