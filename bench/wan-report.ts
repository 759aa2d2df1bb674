import { PHASES } from '../src/ssh/round-trips.js'
import { table } from './data.js'
import type { WanBenchFigures, WanCaseResult } from './wan.js'

/**
 * The wan section's table and its targets (issue 13): at 100 ms, on every path, 2,000 small files
 * in <= 0.7x rsync's time, one large file >= 3x the speed of the faster of sftp and rsync, a sync
 * redeploy with one change <= 1.0x rsync's time; at 20 ms over nlb, the small files <= 0.7x rsync.
 */

export interface WanTarget {
  what: string
  value: string
  goal: string
  met: boolean | undefined
}

const MiB = 1024 * 1024
const fx = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a')

function caseLabel(c: WanCaseResult): string {
  if (c.case === 'large') return `1 x ${fx(c.bytes / MiB, 0)} MiB`
  const each = `${fx(c.bytes / c.files / 1024, 0)} KiB`
  return c.case === 'small' ? `${c.files} x ${each}` : `sync, 1 of ${c.files} changed`
}

/** ec2-push's time / the reference's (for the large file: the faster of sftp and rsync). */
export function wanRatio(c: WanCaseResult): { ratio: number; against: string } {
  const engine = c.tools['ec2-push']?.s ?? NaN
  if (c.case === 'large') {
    const refs = (['sftp', 'rsync'] as const)
      .map(t => ({ t, s: c.tools[t]?.s ?? NaN }))
      .filter(r => Number.isFinite(r.s))
    if (!refs.length) return { ratio: NaN, against: 'sftp/rsync' }
    const best = refs.reduce((a, b) => (b.s < a.s ? b : a))
    return { ratio: engine / best.s, against: best.t }
  }
  return { ratio: engine / (c.tools.rsync?.s ?? NaN), against: 'rsync' }
}

/** How many runs each figure is the median of. */
export function runsText(w: { runs: number; largeRuns?: number }): string {
  const n = (k: number) => `${k} run${k === 1 ? '' : 's'}`
  return w.largeRuns === undefined || w.largeRuns === w.runs
    ? n(w.runs)
    : `${n(w.runs)} (the large file: ${n(w.largeRuns)})`
}

export function wanReport(w: WanBenchFigures): { text: string; targets: WanTarget[] } {
  const rows = w.cases.map(c => {
    const e = c.tools['ec2-push']
    const { ratio, against } = wanRatio(c)
    const trips = e?.roundTrips
    return [
      `${c.rttMs} ms`,
      c.path,
      caseLabel(c),
      e?.error && !e.runs.length ? 'FAILED' : fx(e?.s),
      fx(e?.processS),
      fx(c.tools.sftp?.s),
      fx(c.tools.scp?.s),
      fx(c.tools.rsync?.s),
      Number.isFinite(ratio) ? `${fx(ratio)}x ${against}` : 'n/a',
      trips ? PHASES.map(p => trips[p] ?? 0).join('/') : 'n/a',
      e?.connections === undefined ? 'n/a' : String(e.connections)
    ]
  })
  const errors = w.cases.flatMap(c =>
    Object.entries(c.tools)
      .filter(([, s]) => s?.error)
      .map(([t, s]) => `  ${c.rttMs} ms ${c.path} ${c.case} ${t}: ${s!.error}`)
  )
  const text = [
    `Emulated WAN (every path behind sim/wan-relay.ts: each direction delayed by half the RTT, at most ${fx(w.windowBytes / MiB, 1)} MiB in flight per connection and direction, the machine's largest TCP window); ` +
      `medians of ${runsText(w)}, seconds; over ssm and eice OpenSSH runs with 'ec2-push proxy' as its ProxyCommand`,
    table(
      [
        'RTT',
        'path',
        'case',
        'ec2-push s',
        'process s',
        'sftp s',
        'scp s',
        'rsync -a s',
        'ec2-push time vs',
        `round trips ${PHASES.join('/')}`,
        'connections'
      ],
      rows
    ),
    "  ec2-push s = runDeploy (verify sha256), as in the other sections; process s = its whole process (node start-up and module loading included). Round trips are the engine's own count: the depth of its chain of waits (src/ssh/round-trips.ts); connect includes opening the tunnel, counted as one wait.",
    ...(errors.length ? ['  errors:', ...errors] : [])
  ].join('\n')
  const targets: WanTarget[] = []
  const add = (c: WanCaseResult, goal: string, ok: (x: number) => boolean) => {
    const { ratio, against } = wanRatio(c)
    const what =
      c.case === 'large'
        ? `wan ${c.rttMs} ms ${c.path}: 1 x ${fx(c.bytes / MiB, 0)} MiB, speed vs the faster of sftp and rsync (${against})`
        : `wan ${c.rttMs} ms ${c.path}: ${caseLabel(c)}, time vs rsync -a`
    const value = c.case === 'large' ? 1 / ratio : ratio
    targets.push({ what, value: `${fx(value)}x`, goal, met: Number.isFinite(value) ? ok(value) : undefined })
  }
  for (const c of w.cases) {
    if (c.rttMs === 100) {
      if (c.case === 'small') add(c, '<= 0.7x', x => x <= 0.7)
      if (c.case === 'large') add(c, '>= 3x', x => x >= 3)
      if (c.case === 'sync') add(c, '<= 1.0x', x => x <= 1.0)
    }
    if (c.rttMs === 20 && c.path === 'nlb' && c.case === 'small') add(c, '<= 0.7x', x => x <= 0.7)
  }
  return { text, targets }
}
