import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Sshd } from '../sim/sshd.js'
import { startSsmSim } from '../sim/ssm/index.js'
import { engineInputs, runEngineJob, type Sample } from './direct.js'
import { median } from './stats.js'
import { runStandalone } from './standalone.js'

/**
 * sync benchmark (issue #6): a redeploy of `files` small files with one changed (sync: true)
 * against the full upload of the same set (into an empty folder), each deploy by the engine in its
 * own child process (runDeploy's own time, as the direct section measures it). Two paths: nlb to the
 * local sshd over loopback, and ssm through the simulator with an added RTT (the path a private
 * instance is reached by; the same RTT as the ssm section). Target: the redeploy takes <= 10% of
 * the full upload's time.
 */

export type SyncPath = 'nlb' | 'ssm'

export interface SyncBenchOptions {
  sshd: Sshd
  /** Scratch folder for the local tree. */
  scratch: string
  files: number
  fileBytes: number
  runs: number
  rttMs: number
  paths: SyncPath[]
  concurrency: string
  log: (line: string) => void
}

export interface SyncPathFigures {
  path: SyncPath
  rttMs: number
  fullS: number[]
  syncS: number[]
  fullMedianS: number
  syncMedianS: number
  /** syncMedianS / fullMedianS. */
  ratio: number
  /** What the last redeploy reported (1 uploaded, files - 1 unchanged). */
  lastSync?: { uploaded: number; skipped: number }
  errors: string[]
}

export interface SyncBenchFigures {
  files: number
  fileBytes: number
  runs: number
  target: number
  paths: SyncPathFigures[]
}

async function makeTree(dir: string, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(3, '0')}`)
    if (i % 100 === 0) await mkdir(sub, { recursive: true })
    await writeFile(path.join(sub, `f${String(i).padStart(4, '0')}.bin`), randomBytes(size))
  }
}

export async function benchSync(opts: SyncBenchOptions): Promise<SyncBenchFigures> {
  const { sshd, log } = opts
  const local = await mkdtemp(path.join(opts.scratch, 'sync-tree-'))
  await makeTree(local, opts.files, opts.fileBytes)
  const out: SyncPathFigures[] = []
  try {
    for (const p of opts.paths) {
      const sim = p === 'ssm' ? await startSsmSim({ sshHost: sshd.host, sshPort: sshd.port }) : undefined
      sim?.setFaults({ rttMs: opts.rttMs })
      const fig: SyncPathFigures = {
        path: p,
        rttMs: p === 'ssm' ? opts.rttMs : 0,
        fullS: [],
        syncS: [],
        fullMedianS: NaN,
        syncMedianS: NaN,
        ratio: NaN,
        errors: []
      }
      const root = path.join(sshd.remoteRoot, `bench-sync-${p}-${Date.now()}`)
      const deploy = async (remote: string, sync: boolean, expectFiles: number): Promise<Sample> => {
        const s = await runEngineJob(
          {
            dir: local,
            keyFile: sshd.clientKey.privateKeyFile,
            inputs: {
              mode: p,
              targets: sim ? sim.instanceId : `${sshd.host}:${sshd.port}`,
              ...engineInputs(sshd, remote, 'sha256', opts.concurrency),
              sync: String(sync)
            }
          },
          expectFiles,
          sim?.env
        )
        if (s.error) fig.errors.push(s.error)
        return s
      }
      try {
        for (let r = 0; r < opts.runs; r++) {
          const remote = path.join(root, `full-${r}`)
          const s = await deploy(remote, false, opts.files)
          await rm(remote, { recursive: true, force: true })
          if (!s.error) fig.fullS.push(s.wallS)
          log(`sync ${p} full upload ${r + 1}/${opts.runs}: ${s.error ?? `${s.wallS.toFixed(2)} s`}`)
        }
        // Seed the synced folder and its manifest, then time redeploys with one file changed each.
        const synced = path.join(root, 'synced')
        await deploy(synced, true, opts.files)
        for (let r = 0; r < opts.runs; r++) {
          await writeFile(
            path.join(local, 'd000', `f${String(r).padStart(4, '0')}.bin`),
            randomBytes(opts.fileBytes)
          )
          const s = await deploy(synced, true, 1)
          if (!s.error) {
            fig.syncS.push(s.wallS)
            fig.lastSync = { uploaded: 1, skipped: opts.files - 1 }
          }
          log(`sync ${p} redeploy, 1 changed, ${r + 1}/${opts.runs}: ${s.error ?? `${s.wallS.toFixed(2)} s`}`)
        }
      } finally {
        await sim?.close()
        await rm(root, { recursive: true, force: true })
      }
      if (fig.fullS.length) fig.fullMedianS = median(fig.fullS)
      if (fig.syncS.length) fig.syncMedianS = median(fig.syncS)
      fig.ratio = fig.syncMedianS / fig.fullMedianS
      out.push(fig)
    }
  } finally {
    await rm(local, { recursive: true, force: true })
  }
  return { files: opts.files, fileBytes: opts.fileBytes, runs: opts.runs, target: 0.1, paths: out }
}

// `node build/bench/sync.js [files] [runs] [rttMs]`: the sync section alone, with its own sshd.
runStandalone(import.meta.url, 'sync', ({ sshd, scratch }) => {
  const [files = 2000, runs = 3, rttMs = 20] = process.argv.slice(2).map(Number)
  return benchSync({
    sshd,
    scratch,
    files,
    fileBytes: 4096,
    runs,
    rttMs,
    paths: ['nlb', 'ssm'],
    concurrency: '',
    log: l => process.stderr.write(`[sync] ${l}\n`)
  })
})
