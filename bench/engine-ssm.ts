import { rm } from 'node:fs/promises'
import path from 'node:path'
import type { Sshd } from '../sim/sshd.js'
import { startSsmSim } from '../sim/ssm/index.js'
import { engineInputs, runEngineJob, treeTotals, type Sample } from './direct.js'
import { median } from './stats.js'

/**
 * ec2-push's whole engine (runDeploy, mode ssm, shipped frame size and window, verify sha256) in a
 * child process through the ssm simulator with an added RTT, as a user's deploy would run. bench/ssm.ts
 * measures the tunnel under plain ssh2 fastPut for a matrix of settings; this is the product's figure.
 * The simulator (service + agent) runs in the bench's own process, so the child's CPU is the client's.
 */

export interface EngineSsmUpload {
  name: string
  /** Folder uploaded whole. */
  dir: string
  files: number
  bytes: number
}

export interface EngineSsmResult {
  name: string
  files: number
  bytes: number
  rttMs: number
  samples: Sample[]
  failed: number
  wallS: number
  cpuS: number
  maxRssKiB?: number
}

export async function benchEngineSsm(opts: {
  sshd: Sshd
  uploads: EngineSsmUpload[]
  rttMs: number
  runs: number
  concurrency: string
  log: (line: string) => void
}): Promise<EngineSsmResult[]> {
  const { sshd } = opts
  const sim = await startSsmSim({ sshHost: sshd.host, sshPort: sshd.port })
  try {
    sim.setFaults({ rttMs: opts.rttMs })
    const samples = opts.uploads.map(() => [] as Sample[])
    for (let run = 0; run < opts.runs; run++) {
      for (const [i, u] of opts.uploads.entries()) {
        const remote = path.join(sshd.remoteRoot, `ssm-engine-${u.name}-${run}`)
        const s = await runEngineJob(
          {
            dir: u.dir,
            keyFile: sshd.clientKey.privateKeyFile,
            inputs: {
              mode: 'ssm',
              targets: sim.instanceId,
              ...engineInputs(sshd, remote, 'sha256', opts.concurrency)
            }
          },
          u.files,
          sim.env
        )
        if (!s.error) {
          const got = await treeTotals(remote).catch(() => ({ files: 0, bytes: 0 }))
          if (got.files !== u.files || got.bytes !== u.bytes)
            s.error = `on the instance: ${got.files} files, ${got.bytes} bytes; expected ${u.files}, ${u.bytes}`
        }
        await rm(remote, { recursive: true, force: true })
        samples[i].push(s)
        opts.log(
          `ssm engine ${u.name} run ${run + 1}/${opts.runs}: ` +
            (s.error
              ? `FAILED: ${s.error}`
              : `${s.wallS.toFixed(2)} s, ${(u.bytes / 1048576 / s.wallS).toFixed(2)} MiB/s, ${(u.files / s.wallS).toFixed(0)} files/s, CPU ${s.cpuS.toFixed(2)} s`)
        )
      }
    }
    return opts.uploads.map((u, i) => {
      const ok = samples[i].filter(s => !s.error)
      const rss = ok.map(s => s.maxRssKiB).filter((x): x is number => x !== undefined)
      return {
        name: u.name,
        files: u.files,
        bytes: u.bytes,
        rttMs: opts.rttMs,
        samples: samples[i],
        failed: samples[i].length - ok.length,
        wallS: ok.length ? median(ok.map(s => s.wallS)) : NaN,
        cpuS: ok.length ? median(ok.map(s => s.cpuS)) : NaN,
        maxRssKiB: rss.length ? Math.max(...rss) : undefined
      }
    })
  } finally {
    await sim.close()
  }
}
