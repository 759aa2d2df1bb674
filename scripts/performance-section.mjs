// Writes the README's figures from `npm run bench -- --json FILE`:
// `node scripts/performance-section.mjs FILE` replaces what lies between the two performance markers
// in README.md with the run's date, commit, machine, RTTs and every target (loopback and emulated WAN
// apart), so the section is never typed by hand.
import { readFileSync, writeFileSync } from 'node:fs'

const START = '<!-- performance:start (scripts/performance-section.mjs writes this part) -->'
const END = '<!-- performance:end -->'

const file = process.argv[2]
if (!file) {
  process.stderr.write(
    'usage: node scripts/performance-section.mjs BENCH_JSON (from npm run bench -- --json BENCH_JSON)\n'
  )
  process.exit(2)
}
const f = JSON.parse(readFileSync(file, 'utf8'))
const fx = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a')
const row = cells => `| ${cells.join(' | ')} |`
const targets = f.targets ?? []
const wanTargets = targets.filter(t => t.what.startsWith('wan '))
const loopTargets = targets.filter(t => !t.what.startsWith('wan '))
const met = t => (t.goal === 'retired' ? '-' : t.met === undefined ? 'n/a' : t.met ? 'yes' : 'no')

// The 1-minute load before the run is other work; the load after includes the bench's own processes.
const busy = (f.machine.loadBefore?.[0] ?? 0) > f.machine.cpus
const lines = [
  START,
  '',
  `Figures of one run: ${f.startedAt} at commit ${f.commit ?? 'unknown'}${f.commit?.endsWith('+') ? ' (+: with uncommitted changes)' : ''}, on ${f.machine.cpus} CPUs (${f.machine.cpuModel}), ` +
    `load average ${f.machine.loadBefore.map(x => fx(x)).join(' ')} before and ${(f.machine.loadAfter ?? []).map(x => fx(x)).join(' ')} after ` +
    `(${busy ? 'above the CPU count before the run: other work shared the CPUs, read the ratios' : "the bench's own processes make up the load after"}). Command: \`${f.command}\`.`,
  ''
]
if (loopTargets.length) {
  lines.push(
    '**Loopback** (no added latency: the direct, ssm-simulator, eice and sync sections):',
    '',
    row(['measure', 'value', 'target', 'met']),
    row(['---', '---', '---', '---']),
    ...loopTargets.map(t => row([t.what, t.value, t.goal, met(t)])),
    ''
  )
}
if (f.wan) {
  const w = f.wan
  lines.push(
    `**Emulated WAN** (every path behind \`sim/wan-relay.ts\`: ${w.rtts.join(' and ')} ms round trip, ${fx(w.windowBytes / 1048576, 1)} MiB in flight per connection), seconds, medians of ${w.largeRuns === undefined || w.largeRuns === w.runs ? `${w.runs} run(s)` : `${w.runs} runs (the large file: ${w.largeRuns})`} each:`,
    '',
    row([
      'RTT',
      'path',
      'case',
      'ec2-push',
      'sftp',
      'scp',
      'rsync -a',
      'round trips connect/plan/upload/verify/publish/record',
      'connections'
    ]),
    row(['---', '---', '---', '---', '---', '---', '---', '---', '---']),
    ...w.cases.map(c => {
      const e = c.tools['ec2-push'] ?? {}
      const what =
        c.case === 'large'
          ? `1 x ${fx(c.bytes / 1048576, 0)} MiB`
          : c.case === 'small'
            ? `${c.files} x ${fx(c.bytes / c.files / 1024, 0)} KiB`
            : `sync, 1 of ${c.files} changed`
      const trips = e.roundTrips
        ? ['connect', 'plan', 'upload', 'verify', 'publish', 'record']
            .map(p => e.roundTrips[p] ?? 0)
            .join('/')
        : 'n/a'
      return row([
        `${c.rttMs} ms`,
        c.path,
        what,
        fx(e.s),
        fx(c.tools.sftp?.s),
        fx(c.tools.scp?.s),
        fx(c.tools.rsync?.s),
        trips,
        String(e.connections ?? 'n/a')
      ])
    }),
    '',
    row(['measure', 'value', 'target', 'met']),
    row(['---', '---', '---', '---']),
    ...wanTargets.map(t => row([t.what, t.value, t.goal, met(t)])),
    ''
  )
}
lines.push(END)

const readme = readFileSync('README.md', 'utf8')
const a = readme.indexOf(START)
const b = readme.indexOf(END)
if (a < 0 || b < a) {
  process.stderr.write(`README.md has no performance markers (${START} ... ${END})\n`)
  process.exit(1)
}
writeFileSync('README.md', readme.slice(0, a) + lines.join('\n') + readme.slice(b + END.length))
process.stderr.write('README.md: performance figures written\n')
