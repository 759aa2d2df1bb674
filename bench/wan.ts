import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startSandbox, type Sandbox } from '../sim/sandbox-env.js'
import type { Phase } from '../src/ssh/round-trips.js'
import type { EngineJob, EngineOnceResult } from './engine-once.js'
import { runMeasured } from './measure.js'
import { SFTP_CIPHER } from './openssh-sftp.js'
import { median } from './stats.js'

/**
 * The `wan` section: every path of the sandbox behind an emulated long link (sim/wan-relay.ts:
 * the round-trip time, the machine's largest TCP window per connection), at each RTT asked for.
 * Per path (nlb, ssm, eice) and case (one large file, many small files, a sync redeploy with one
 * file changed), ec2-push's engine against OpenSSH's sftp, scp and rsync -a through the same link
 * (over ssm and eice, OpenSSH with `ec2-push proxy` as its ProxyCommand). Each tool's time is one
 * process (the engine's: runDeploy, as the other sections measure it; its process time is kept
 * too), and the engine's round trips per phase are what it counted (src/ssh/round-trips.ts).
 */

export type WanPath = 'nlb' | 'ssm' | 'eice'
export type WanCase = 'large' | 'small' | 'sync'
export type WanTool = 'ec2-push' | 'sftp' | 'scp' | 'rsync'
export const WAN_TOOLS: WanTool[] = ['ec2-push', 'sftp', 'scp', 'rsync']

export interface WanSample {
  /** Median seconds over the runs that succeeded (NaN when none did, or the tool has no such case). */
  s: number
  runs: number[]
  /** The engine's whole process (node start-up included). */
  processS?: number
  roundTrips?: Record<Phase, number>
  connections?: number
  error?: string
}

export interface WanCaseResult {
  rttMs: number
  path: WanPath
  case: WanCase
  files: number
  bytes: number
  tools: Partial<Record<WanTool, WanSample>>
}

export interface WanBenchFigures {
  rtts: number[]
  windowBytes: number
  /** Runs per tool of the small-file and sync cases, and of the large one. */
  runs: number
  largeRuns: number
  largeMib: number
  smallFiles: number
  smallKib: number
  cases: WanCaseResult[]
}

export interface WanBenchOptions {
  rtts: number[]
  paths: WanPath[]
  cases: WanCase[]
  largeMib: number
  smallFiles: number
  smallKib: number
  /** Runs per tool of the small-file and sync cases, and of the large one. */
  runs: number
  largeRuns: number
  /** `tool` or `tool:case` pairs to leave out (sftp's small files take minutes at 100 ms: a round trip per request, one file at a time). */
  skipTools: Set<string>
  /** Extra engine inputs (e.g. concurrency, connections). */
  engineInputs: Record<string, string>
  scratch: string
  log: (line: string) => void
}

const MiB = 1024 * 1024
const root = fileURLToPath(new URL('../..', import.meta.url))
const engineScript = fileURLToPath(new URL('./engine-once.js', import.meta.url))
const cliScript = path.join(root, 'build', 'src', 'cli.js')

async function makeTree(dir: string, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(3, '0')}`)
    if (i % 100 === 0) await mkdir(sub, { recursive: true })
    await writeFile(path.join(sub, `f${String(i).padStart(4, '0')}.bin`), randomBytes(size))
  }
}

interface PathSetup {
  /** Where OpenSSH connects: host and its options. */
  sshHost: string
  sshOptions: string[]
  engineTarget: string
}

function pathSetup(sb: Sandbox, p: WanPath): PathSetup {
  const key = sb.sshd.clientKey.privateKeyFile
  const common = [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `Ciphers=${SFTP_CIPHER}`,
    '-o',
    'LogLevel=ERROR',
    '-o',
    `User=${sb.sshd.user}`,
    '-i',
    key
  ]
  if (p === 'nlb') {
    const port = sb.env.SANDBOX_SSH_PORT
    return {
      sshHost: sb.sshd.host,
      sshOptions: [...common, '-o', `Port=${port}`],
      engineTarget: `${sb.sshd.host}:${port}`
    }
  }
  const instance = p === 'ssm' ? sb.instanceId : sb.eiceInstanceId
  return {
    sshHost: instance,
    // No quotes inside: rsync splits its -e command itself.
    sshOptions: [...common, '-o', `ProxyCommand=${process.execPath} ${cliScript} proxy %h %p --mode ${p}`],
    engineTarget: instance
  }
}

/** For rsync's -e, which splits on spaces outside quotes (the bench's paths have no quotes). */
const quoteArg = (a: string) => `"${a}"`

async function engineRun(
  sb: Sandbox,
  p: WanPath,
  setup: PathSetup,
  dir: string,
  remote: string,
  expectFiles: number,
  extra: Record<string, string>
): Promise<{ s: number; processS: number; cpu: string; r?: EngineOnceResult; error?: string }> {
  const job: EngineJob = {
    dir,
    keyFile: sb.sshd.clientKey.privateKeyFile,
    inputs: {
      mode: p,
      targets: setup.engineTarget,
      user: sb.sshd.user,
      'host-key-fingerprint': sb.sshd.hostKeyFingerprint,
      'remote-path': remote,
      verify: 'sha256',
      ...extra
    }
  }
  // BENCH_CPU_PROF=DIR writes a V8 CPU profile of every engine run there (open it in Chrome's DevTools).
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : []
  const here0 = process.cpuUsage()
  const m = await runMeasured(process.execPath, [...prof, engineScript, JSON.stringify(job)], {
    env: { ...process.env, ...sb.env }
  })
  const here = process.cpuUsage(here0)
  let r: EngineOnceResult | undefined
  try {
    r = JSON.parse(m.stdout.trim().split('\n').pop() ?? '') as EngineOnceResult
  } catch {
    r = undefined
  }
  let error: string | undefined
  if (!r) error = `engine exited ${m.code ?? m.signal}: ${m.stderr.trim().split('\n').pop() ?? ''}`
  else if (r.error) error = r.error
  else if (r.filesUploaded !== expectFiles) error = `uploaded ${r.filesUploaded} of ${expectFiles} files`
  // CPU seconds, the robust figure on a shared machine: the engine's process, runDeploy() within it,
  // and this process (the simulators and the WAN relay) over the same run.
  const cpu = [
    `engine ${(Number.isFinite(m.userS + m.sysS) ? m.userS + m.sysS : r ? r.selfUserS + r.selfSysS : NaN).toFixed(2)}`,
    r ? `deploy ${(r.deployUserS + r.deploySysS).toFixed(2)}` : '',
    `simulators and relay ${((here.user + here.system) / 1e6).toFixed(2)}`
  ]
  return { s: r?.deployS ?? m.wallS, processS: m.wallS, cpu: cpu.filter(Boolean).join(', '), r, error }
}

/** One OpenSSH tool run through the path: seconds, or an error line. */
async function opensshRun(
  sb: Sandbox,
  tool: Exclude<WanTool, 'ec2-push'>,
  setup: PathSetup,
  local: string,
  remote: string,
  batchFile: string
): Promise<{ s: number; error?: string }> {
  const env = { ...process.env, ...sb.env }
  const dest = `${setup.sshHost}:${remote}`
  let m
  if (tool === 'sftp') {
    await writeFile(batchFile, `put -r "${local}" "${remote}"\n`)
    m = await runMeasured('sftp', ['-b', batchFile, ...setup.sshOptions, setup.sshHost], { env })
  } else if (tool === 'scp') {
    m = await runMeasured('scp', ['-q', '-r', ...setup.sshOptions, local, dest], { env })
  } else {
    const ssh = ['ssh', ...setup.sshOptions].map(quoteArg).join(' ')
    m = await runMeasured('rsync', ['-a', '-e', ssh, `${local}/`, `${dest}/`], { env })
  }
  return m.code === 0
    ? { s: m.wallS }
    : {
        s: m.wallS,
        error: `${tool} exited ${m.code ?? m.signal}: ${m.stderr.trim().split('\n').pop() ?? ''}`
      }
}

function summarise(runs: number[], errors: string[]): WanSample {
  return { s: runs.length ? median(runs) : NaN, runs, error: errors[0] }
}

export async function benchWan(o: WanBenchOptions): Promise<WanBenchFigures> {
  const smallBytes = Math.round(o.smallKib * 1024)
  const data = path.join(o.scratch, 'wan-data')
  const largeDir = path.join(data, 'large')
  const smallDir = path.join(data, 'small')
  const syncDir = path.join(data, 'sync')
  if (o.cases.includes('large')) {
    await mkdir(largeDir, { recursive: true })
    // Written in pieces so the bench never holds the whole file in memory.
    const file = path.join(largeDir, 'big.bin')
    for (let done = 0; done < o.largeMib * MiB; done += 16 * MiB)
      await writeFile(file, randomBytes(Math.min(16 * MiB, o.largeMib * MiB - done)), { flag: 'a' })
  }
  if (o.cases.includes('small')) await makeTree(smallDir, o.smallFiles, smallBytes)
  if (o.cases.includes('sync')) await makeTree(syncDir, o.smallFiles, smallBytes)
  const out: WanCaseResult[] = []
  let windowBytes = NaN
  try {
    for (const rttMs of o.rtts) {
      const sb = await startSandbox({ wan: { rttMs } })
      windowBytes = sb.relays!.ssh.link.windowBytes
      o.log(`wan ${rttMs} ms: sandbox ready, ${windowBytes} bytes in flight per connection`)
      try {
        for (const p of o.paths) {
          const setup = pathSetup(sb, p)
          const base = path.join(sb.sshd.remoteRoot, `wan-${p}-${rttMs}`)
          await mkdir(base, { recursive: true })
          let n = 0
          const fresh = () => path.join(base, `r${n++}`)
          for (const c of o.cases) {
            const files = c === 'large' ? 1 : o.smallFiles
            const bytes = c === 'large' ? o.largeMib * MiB : o.smallFiles * smallBytes
            const result: WanCaseResult = { rttMs, path: p, case: c, files, bytes, tools: {} }
            const local = c === 'large' ? largeDir : c === 'small' ? smallDir : syncDir
            for (const tool of WAN_TOOLS) {
              if (o.skipTools.has(tool) || o.skipTools.has(`${tool}:${c}`)) continue
              // A sync redeploy is a feature of rsync and ec2-push; sftp and scp copy everything.
              if (c === 'sync' && (tool === 'sftp' || tool === 'scp')) continue
              const runs: number[] = []
              const errors: string[] = []
              const sample: WanSample = { s: NaN, runs }
              const processRuns: number[] = []
              const times = c === 'large' ? o.largeRuns : o.runs
              for (let r = 0; r < times; r++) {
                let remote = fresh()
                if (c === 'sync') {
                  // Seed (not timed), then change one file and time the redeploy.
                  remote = path.join(base, `sync-${tool}`)
                  if (r === 0) {
                    const seeded =
                      tool === 'ec2-push'
                        ? await engineRun(sb, p, setup, local, remote, files, {
                            ...o.engineInputs,
                            sync: 'true'
                          })
                        : await opensshRun(sb, tool, setup, local, remote, path.join(o.scratch, 'wan-batch'))
                    if (seeded.error) {
                      errors.push(`seeding: ${seeded.error}`)
                      break
                    }
                  }
                  await writeFile(
                    path.join(local, 'd000', `f${String(r).padStart(4, '0')}.bin`),
                    randomBytes(smallBytes)
                  )
                }
                if (tool === 'ec2-push') {
                  const e = await engineRun(sb, p, setup, local, remote, c === 'sync' ? 1 : files, {
                    ...o.engineInputs,
                    ...(c === 'sync' ? { sync: 'true' } : {})
                  })
                  if (e.error) errors.push(e.error)
                  else {
                    runs.push(e.s)
                    processRuns.push(e.processS)
                    sample.roundTrips = e.r?.roundTrips
                    sample.connections = e.r?.connections
                  }
                  o.log(
                    `wan ${rttMs} ms ${p} ${c} ${tool} ${r + 1}/${times}: ${e.error ?? `${e.s.toFixed(2)} s (process ${e.processS.toFixed(2)} s; CPU s: ${e.cpu}), round trips ${JSON.stringify(e.r?.roundTrips)}`}`
                  )
                } else {
                  const m = await opensshRun(
                    sb,
                    tool,
                    setup,
                    local,
                    remote,
                    path.join(o.scratch, 'wan-batch')
                  )
                  if (m.error) errors.push(m.error)
                  else runs.push(m.s)
                  o.log(
                    `wan ${rttMs} ms ${p} ${c} ${tool} ${r + 1}/${times}: ${m.error ?? `${m.s.toFixed(2)} s`}`
                  )
                }
                if (c !== 'sync') await rm(remote, { recursive: true, force: true })
              }
              result.tools[tool] = {
                ...sample,
                ...summarise(runs, errors),
                ...(processRuns.length ? { processS: median(processRuns) } : {})
              }
            }
            out.push(result)
          }
          await rm(base, { recursive: true, force: true })
        }
      } finally {
        await sb.stop()
      }
    }
  } finally {
    await rm(data, { recursive: true, force: true })
  }
  return {
    rtts: o.rtts,
    windowBytes,
    runs: o.runs,
    largeRuns: o.largeRuns,
    largeMib: o.largeMib,
    smallFiles: o.smallFiles,
    smallKib: o.smallKib,
    cases: out
  }
}
