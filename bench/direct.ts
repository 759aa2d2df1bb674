import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sshd } from '../sim/sshd.js'
import type { EngineJob, EngineOnceResult } from './engine-once.js'
import { runMeasured } from './measure.js'
import { sftpPut } from './openssh-sftp.js'
import { median } from './stats.js'

/**
 * The direct path (nlb mode: plain TCP to sshd): ec2-push's whole engine (runDeploy in a child
 * process, verify sha256 as by default and verify none) against OpenSSH's `sftp -b`, run after run
 * in rotating order so drifting machine load hits every tool alike. Each upload goes to a fresh
 * folder, is checked (file count and bytes) and removed before the next.
 */

export type ToolId = 'engine-sha256' | 'engine-none' | 'sftp'
export const TOOLS: ToolId[] = ['engine-sha256', 'engine-none', 'sftp']
export const TOOL_LABEL: Record<ToolId, string> = {
  'engine-sha256': 'ec2-push, verify sha256',
  'engine-none': 'ec2-push, verify none',
  sftp: 'OpenSSH sftp -b'
}

export interface Sample {
  /** The transfer: runDeploy's time for the engine, the whole sftp process for OpenSSH. */
  wallS: number
  /** Start to exit of the child process (node start-up and module loading included for the engine). */
  processWallS: number
  /** Client CPU, user + sys, of the whole child process tree. */
  cpuS: number
  /** The engine's runDeploy alone (no node start-up). */
  deployCpuS?: number
  maxRssKiB?: number
  error?: string
}

export interface ToolSummary {
  tool: ToolId
  label: string
  runs: number
  failed: number
  wallS: number
  processWallS: number
  mibPerS: number
  filesPerS: number
  cpuS: number
  deployCpuS?: number
  maxRssKiB?: number
}

export interface CaseResult {
  name: string
  files: number
  bytes: number
  samples: Record<ToolId, Sample[]>
  summary: Record<ToolId, ToolSummary>
}

export interface DirectCaseOptions {
  sshd: Sshd
  name: string
  /** The folder the engine uploads (everything under it). */
  localDir: string
  /** What sftp puts: a file (`put`) or localDir itself (`put -r`). */
  sftpSource: { path: string; recursive: boolean }
  files: number
  bytes: number
  runs: number
  /** The engine's `concurrency` input ('' = its default). */
  concurrency: string
  /** Scratch folder for batch files. */
  scratch: string
  log: (line: string) => void
}

const engineScript = fileURLToPath(new URL('./engine-once.js', import.meta.url))

export async function treeTotals(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0
  let bytes = 0
  for (const d of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue
    files++
    bytes += (await stat(path.join(d.parentPath, d.name))).size
  }
  return { files, bytes }
}

/** Inputs for a deploy to the bench's sshd through `mode` (targets and credentials are the caller's for ssm). */
export function engineInputs(sshd: Sshd, remote: string, verify: 'sha256' | 'none', concurrency: string) {
  return {
    user: sshd.user,
    'host-key-fingerprint': sshd.hostKeyFingerprint,
    'remote-path': remote,
    verify,
    concurrency
  }
}

/** One deploy by the engine in a measured child process; `expectFiles` files must be published. */
export async function runEngineJob(
  job: EngineJob,
  expectFiles: number,
  env?: NodeJS.ProcessEnv
): Promise<Sample> {
  // BENCH_CPU_PROF=DIR writes a V8 CPU profile of every engine run there, as in the wan section.
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : []
  const m = await runMeasured(process.execPath, [...prof, engineScript, JSON.stringify(job)], {
    env: env ? { ...process.env, ...env } : undefined
  })
  let r: EngineOnceResult | undefined
  try {
    r = JSON.parse(m.stdout.trim().split('\n').pop() ?? '') as EngineOnceResult
  } catch {
    r = undefined
  }
  const gnuCpu = m.userS + m.sysS
  const sample: Sample = {
    wallS: r?.deployS ?? m.wallS,
    processWallS: m.wallS,
    cpuS: Number.isFinite(gnuCpu) ? gnuCpu : r ? r.selfUserS + r.selfSysS : NaN,
    deployCpuS: r ? r.deployUserS + r.deploySysS : undefined,
    maxRssKiB: m.maxRssKiB ?? r?.selfMaxRssKiB
  }
  if (!r) sample.error = `engine exited ${m.code ?? m.signal}: ${m.stderr.trim().split('\n').pop() ?? ''}`
  else if (r.error) sample.error = r.error
  else if (r.filesUploaded !== expectFiles)
    sample.error = `uploaded ${r.filesUploaded} of ${expectFiles} files`
  else if (job.inputs.verify !== 'none' && !/hashed on the instance/.test(r.verification))
    sample.error = `verification was '${r.verification}', not hashed on the instance`
  return sample
}

function engineRun(opts: DirectCaseOptions, verify: 'sha256' | 'none', remote: string): Promise<Sample> {
  const { sshd } = opts
  const job: EngineJob = {
    dir: opts.localDir,
    keyFile: sshd.clientKey.privateKeyFile,
    inputs: {
      mode: 'nlb',
      targets: `${sshd.host}:${sshd.port}`,
      ...engineInputs(sshd, remote, verify, opts.concurrency)
    }
  }
  return runEngineJob(job, opts.files)
}

async function sftpRun(opts: DirectCaseOptions, remote: string): Promise<Sample> {
  // `put file dir/name` needs the folder; `put -r src dst` creates dst itself.
  if (!opts.sftpSource.recursive) await mkdir(remote, { recursive: true })
  const target = opts.sftpSource.recursive ? remote : path.join(remote, path.basename(opts.sftpSource.path))
  const m = await sftpPut(
    opts.sshd,
    opts.sftpSource.path,
    target,
    opts.sftpSource.recursive,
    path.join(opts.scratch, 'sftp-batch')
  )
  const sample: Sample = {
    wallS: m.wallS,
    processWallS: m.wallS,
    cpuS: m.userS + m.sysS,
    maxRssKiB: m.maxRssKiB
  }
  if (m.code !== 0)
    sample.error = `sftp exited ${m.code ?? m.signal}: ${m.stderr.trim().split('\n').pop() ?? ''}`
  return sample
}

export async function benchDirectCase(opts: DirectCaseOptions): Promise<CaseResult> {
  const samples: Record<ToolId, Sample[]> = { 'engine-sha256': [], 'engine-none': [], sftp: [] }
  for (let run = 0; run < opts.runs; run++) {
    // Rotate the order each run: no tool always goes first (cold caches) or last.
    const order = TOOLS.map((_, i) => TOOLS[(i + run) % TOOLS.length])
    for (const tool of order) {
      const remote = path.join(opts.sshd.remoteRoot, `${opts.name}-${tool}-${run}`)
      const s =
        tool === 'sftp'
          ? await sftpRun(opts, remote)
          : await engineRun(opts, tool === 'engine-sha256' ? 'sha256' : 'none', remote)
      if (!s.error) {
        const got = await treeTotals(remote).catch(() => ({ files: 0, bytes: 0 }))
        if (got.files !== opts.files || got.bytes !== opts.bytes)
          s.error = `on the instance: ${got.files} files, ${got.bytes} bytes; expected ${opts.files}, ${opts.bytes}`
      }
      await rm(remote, { recursive: true, force: true })
      samples[tool].push(s)
      opts.log(
        `direct ${opts.name} run ${run + 1}/${opts.runs} ${TOOL_LABEL[tool]}: ` +
          (s.error
            ? `FAILED: ${s.error}`
            : `${s.wallS.toFixed(2)} s, ${(opts.bytes / 1048576 / s.wallS).toFixed(1)} MiB/s, ${(opts.files / s.wallS).toFixed(0)} files/s, CPU ${s.cpuS.toFixed(2)} s, RSS ${s.maxRssKiB ? (s.maxRssKiB / 1024).toFixed(0) + ' MiB' : '?'}`)
      )
    }
  }
  const summary = Object.fromEntries(
    TOOLS.map(tool => {
      const ok = samples[tool].filter(s => !s.error)
      const wallS = ok.length ? median(ok.map(s => s.wallS)) : NaN
      const deploy = ok.map(s => s.deployCpuS).filter((x): x is number => x !== undefined)
      const rss = ok.map(s => s.maxRssKiB).filter((x): x is number => x !== undefined)
      const sum: ToolSummary = {
        tool,
        label: TOOL_LABEL[tool],
        runs: samples[tool].length,
        failed: samples[tool].length - ok.length,
        wallS,
        processWallS: ok.length ? median(ok.map(s => s.processWallS)) : NaN,
        mibPerS: opts.bytes / 1048576 / wallS,
        filesPerS: opts.files / wallS,
        cpuS: ok.length ? median(ok.map(s => s.cpuS)) : NaN,
        deployCpuS: deploy.length ? median(deploy) : undefined,
        // The worst run: a peak is a limit, not a typical value.
        maxRssKiB: rss.length ? Math.max(...rss) : undefined
      }
      return [tool, sum]
    })
  ) as Record<ToolId, ToolSummary>
  return { name: opts.name, files: opts.files, bytes: opts.bytes, samples, summary }
}

export interface StartupCost {
  runs: number
  wallS: number
  cpuS: number
  maxRssKiB?: number
}

/** node start-up plus loading the engine's modules, with no deploy: the floor under every engine run. */
export async function engineStartupCost(runs: number): Promise<StartupCost> {
  const samples = []
  for (let i = 0; i < runs; i++) {
    const job: EngineJob = { dir: '.', keyFile: '', inputs: {}, loadOnly: true }
    samples.push(await runMeasured(process.execPath, [engineScript, JSON.stringify(job)]))
  }
  const rss = samples
    .map(m => m.maxRssKiB ?? (JSON.parse(m.stdout || '{}') as { selfMaxRssKiB?: number }).selfMaxRssKiB)
    .filter((x): x is number => x !== undefined)
  return {
    runs,
    wallS: median(samples.map(m => m.wallS)),
    cpuS: median(samples.map(m => m.userS + m.sysS)),
    maxRssKiB: rss.length ? Math.max(...rss) : undefined
  }
}
