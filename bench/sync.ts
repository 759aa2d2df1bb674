import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { startSshd, type Sshd } from '../sim/sshd.js'
import { buildConfig } from '../src/config.js'
import { planFiles } from '../src/files/plan.js'
import { silentLogger } from '../src/log.js'
import { runDeploy } from '../src/run-deploy.js'

/**
 * sync benchmark: redeploying `files` small files with one changed (sync: true) against the full
 * upload of the same set (sync: false, into an empty folder), both through the engine over nlb to
 * a local OpenSSH sshd. Self-contained: starts its own sshd and data unless given one.
 * Target: the redeploy takes <= 10% of the full upload's time.
 */

export interface SyncBenchOptions {
  sshd?: Sshd
  /** Number of files (default 2,000) and bytes each (default 2 KiB). */
  files?: number
  fileBytes?: number
  /** Timed runs of each (medians are reported; default 3). */
  runs?: number
  release?: 'none' | 'atomic'
  log?: (line: string) => void
}

export interface SyncBenchFigures {
  files: number
  fileBytes: number
  release: 'none' | 'atomic'
  fullMs: number[]
  syncMs: number[]
  fullMedianMs: number
  syncMedianMs: number
  /** syncMedianMs / fullMedianMs. */
  ratio: number
  target: number
  met: boolean
  /** Matching the files locally (glob + stat), which both runs pay before any network work. */
  localPlanMedianMs: number
  /** The ratio with that shared local cost taken out of both. */
  ratioWithoutLocalPlan: number
  /** What the last sync run reported (should be 1 uploaded, files-1 skipped). */
  lastSync: { uploaded: number; skipped: number }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export async function benchSync(opts: SyncBenchOptions = {}): Promise<SyncBenchFigures> {
  const count = opts.files ?? 2000
  const size = opts.fileBytes ?? 2048
  const runs = opts.runs ?? 3
  const release = opts.release ?? 'none'
  const log = opts.log ?? (() => {})
  // The sessions skip the login user's ~/.bashrc (bash sources it for commands run through sshd):
  // on a developer box that file can cost a quarter second per exec (pyenv, nvm), which an EC2
  // login shell does not, and the figure would measure that instead of the deploy.
  const sshd = opts.sshd ?? (await startSshd())
  const local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-bench-sync-'))
  try {
    for (let i = 0; i < count; i++) {
      const sub = path.join(local, `d${String(Math.floor(i / 100)).padStart(3, '0')}`)
      if (i % 100 === 0) await mkdir(sub, { recursive: true })
      await writeFile(path.join(sub, `f${String(i).padStart(4, '0')}.bin`), randomBytes(size))
    }
    const deploy = async (remote: string, over: Record<string, string>) => {
      const inputs: Record<string, string> = {
        mode: 'nlb',
        targets: `${sshd.host}:${sshd.port}`,
        files: `${local}/**`,
        'remote-path': remote,
        user: sshd.user,
        'ssh-private-key': sshd.clientKey.privateKey,
        'host-key-fingerprint': sshd.hostKeyFingerprint,
        ...over
      }
      const started = performance.now()
      const run = await runDeploy(
        buildConfig(n => inputs[n] ?? ''),
        silentLogger
      )
      const ms = performance.now() - started
      if (run.error) throw new Error(`bench deploy failed: ${run.error}`)
      return { ms, out: run.outputs }
    }
    const root = path.join(sshd.remoteRoot, `bench-sync-${Date.now()}`)
    const fullMs: number[] = []
    for (let r = 0; r < runs; r++) {
      const { ms } = await deploy(path.join(root, `full-${r}`), {})
      fullMs.push(ms)
      log(`full upload ${r + 1}/${runs}: ${(ms / 1000).toFixed(2)} s`)
    }
    // Seed the synced folder (and its manifest), then time redeploys with one file changed each.
    const syncRoot = path.join(root, 'synced')
    const relOver = (id: string): Record<string, string> =>
      release === 'atomic' ? { release: 'atomic', 'release-id': id, 'keep-releases': '3' } : {}
    await deploy(syncRoot, { sync: 'true', ...relOver('seed') })
    const syncMs: number[] = []
    let lastSync = { uploaded: 0, skipped: 0 }
    for (let r = 0; r < runs; r++) {
      await writeFile(path.join(local, 'd000', `f${String(r).padStart(4, '0')}.bin`), randomBytes(size))
      const { ms, out } = await deploy(syncRoot, { sync: 'true', ...relOver(`r${r}`) })
      syncMs.push(ms)
      lastSync = { uploaded: out['files-uploaded'], skipped: out['files-skipped'] }
      log(
        `sync redeploy ${r + 1}/${runs}: ${(ms / 1000).toFixed(2)} s (${out['files-uploaded']} uploaded, ${out['files-skipped']} skipped)`
      )
    }
    const planMs: number[] = []
    for (let r = 0; r < runs; r++) {
      const t = performance.now()
      await planFiles({
        patterns: [`${local}/**`],
        includeHiddenFiles: false,
        ifNoFilesFound: 'error',
        logger: silentLogger
      })
      planMs.push(performance.now() - t)
    }
    const localPlanMedianMs = median(planMs)
    const fullMedianMs = median(fullMs)
    const syncMedianMs = median(syncMs)
    const ratio = syncMedianMs / fullMedianMs
    return {
      files: count,
      fileBytes: size,
      release,
      fullMs,
      syncMs,
      fullMedianMs,
      syncMedianMs,
      ratio,
      target: 0.1,
      met: ratio <= 0.1,
      localPlanMedianMs,
      ratioWithoutLocalPlan: (syncMedianMs - localPlanMedianMs) / (fullMedianMs - localPlanMedianMs),
      lastSync
    }
  } finally {
    await rm(local, { recursive: true, force: true })
    if (!opts.sshd) await sshd.stop()
  }
}

// `node build/bench/sync.js [none|atomic]`: run it alone and print the figures.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const release = process.argv[2] === 'atomic' ? 'atomic' : 'none'
  benchSync({ release, log: l => process.stderr.write(`[sync] ${l}\n`) })
    .then(f => {
      process.stdout.write(JSON.stringify(f, null, 2) + '\n')
      process.stderr.write(
        `[sync] ${f.files} files: full ${(f.fullMedianMs / 1000).toFixed(2)} s, sync with 1 changed ${(f.syncMedianMs / 1000).toFixed(2)} s = ${(f.ratio * 100).toFixed(1)}% (target <= 10%: ${f.met ? 'met' : 'missed'}); matching the files locally takes ${(f.localPlanMedianMs / 1000).toFixed(2)} s of both, ${(f.ratioWithoutLocalPlan * 100).toFixed(1)}% without it\n`
      )
    })
    .catch(err => {
      process.stderr.write(`[sync] ${err instanceof Error ? err.message : String(err)}\n`)
      process.exit(1)
    })
}
