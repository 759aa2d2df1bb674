import { readFile } from 'node:fs/promises'
import { buildConfig } from '../src/config.js'
import { silentLogger } from '../src/log.js'
import { runDeploy } from '../src/run-deploy.js'

/**
 * One deploy with ec2-push's engine, in its own process so the bench measures its CPU and peak RSS
 * exactly as it measures OpenSSH's sftp. `node build/bench/engine-once.js '<json EngineJob>'`;
 * prints one JSON line (EngineOnceResult) on stdout. The action's inputs go through buildConfig,
 * so defaults are the real ones unless the job overrides them.
 */

export interface EngineJob {
  /** Local folder to upload (every file under it). */
  dir: string
  /** Action inputs beside `files` (e.g. mode, targets, remote-path, verify, concurrency). */
  inputs: Record<string, string>
  /** Read into the `ssh-private-key` input. */
  keyFile: string
  /** Exit right after loading the engine's modules (measures node start-up alone). */
  loadOnly?: boolean
}

export interface EngineOnceResult {
  error?: string
  filesUploaded: number
  bytesTransferred: number
  verification: string
  /** Round trips the deploy waited for, by phase (src/ssh/round-trips.ts). */
  roundTrips?: Record<string, number>
  /** SSH connections the deploy used. */
  connections?: number
  /** runDeploy's own time: plan, connect, upload, verify, rename. */
  deployS: number
  /** CPU of runDeploy alone (process.cpuUsage delta), seconds. */
  deployUserS: number
  deploySysS: number
  /** The whole process as it reports itself (for when GNU time is missing). */
  selfUserS: number
  selfSysS: number
  selfMaxRssKiB: number
}

/**
 * The modules runDeploy imports lazily for the AWS paths (the SDK clients among them). On those paths
 * they are loaded before the clock starts, so `deployS` is the deploy itself: unbundled, as here, Node
 * parses each SDK file on its own (0.5-1 s of CPU), where the bundled action loads one file. nlb
 * never loads them, so its runs (and the start-up line) do not either.
 */
async function preloadAwsModules(): Promise<void> {
  await Promise.all([
    import('../src/aws/credentials.js'),
    import('../src/aws/instance-key.js'),
    import('../src/tunnel/instance-targets.js')
  ])
}

async function main() {
  const job = JSON.parse(process.argv[2]) as EngineJob
  if ((job.inputs.mode ?? 'nlb') !== 'nlb') await preloadAwsModules()
  if (job.loadOnly) {
    const self = process.resourceUsage()
    process.stdout.write(JSON.stringify({ selfMaxRssKiB: self.maxRSS }) + '\n', () => process.exit(0))
    return
  }
  const privateKey = await readFile(job.keyFile, 'utf8')
  const inputs: Record<string, string> = { files: '**', 'ssh-private-key': privateKey, ...job.inputs }
  const config = buildConfig(name => inputs[name] ?? '')
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const run = await runDeploy(config, silentLogger, { cwd: job.dir })
  const deployS = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  const self = process.resourceUsage()
  const result: EngineOnceResult = {
    error: run.error,
    filesUploaded: run.outputs['files-uploaded'],
    bytesTransferred: run.outputs['bytes-transferred'],
    verification: run.outputs.results[0]?.verification ?? 'not reached',
    roundTrips: run.outputs.results[0]?.roundTrips,
    connections: (run.outputs.results[0] as { connections?: number } | undefined)?.connections,
    deployS,
    deployUserS: cpu.user / 1e6,
    deploySysS: cpu.system / 1e6,
    selfUserS: self.userCPUTime / 1e6,
    selfSysS: self.systemCPUTime / 1e6,
    selfMaxRssKiB: self.maxRSS
  }
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(run.error ? 1 : 0))
}

main().catch(err => {
  process.stderr.write(`${err?.stack ?? err}\n`)
  process.exit(2)
})
