import { rm, stat } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { Worker } from 'node:worker_threads'
import { DUMMY_LONG_TERM_KEY } from '../sim/aws/credential-store.js'
import { startAwsSimServer } from '../sim/aws/server.js'
import { startEiceSim } from '../sim/eice/eice-sim.js'
import { sftpOf, sshOver } from '../sim/ssh-client.js'
import { median } from './stats.js'
import { runStandalone } from './standalone.js'
import type { Sshd } from '../sim/sshd.js'
import type { AwsContext } from '../src/aws/credentials.js'
import { describeTargets } from '../src/aws/instances.js'
import { parseTarget } from '../src/config.js'
import { silentLogger } from '../src/log.js'
import { createEiceTunnel } from '../src/tunnel/eice/tunnel.js'

/**
 * Large-file SFTP upload through the eice simulator (TLS WebSocket, SigV4-checked) beside the
 * direct TCP path to the same sshd. The endpoint simulator runs in a worker thread by default, so
 * the client's figures do not include the service side's CPU (as with the real endpoint); pass
 * `simIn: 'process'` to run it on the client's own event loop instead.
 */

export interface EiceBenchOptions {
  sshd: Sshd
  file: string
  runs: number
  /** Client configurations to compare (the default tunnel: 65,000-byte frames, zero masks). */
  configs?: EiceBenchConfig[]
  simIn?: 'worker' | 'process'
  log?: (line: string) => void
}

export interface EiceBenchConfig {
  maxFrameBytes: number
  frameMask: 'zero' | 'random'
}

export const DEFAULT_CONFIGS: EiceBenchConfig[] = [
  { maxFrameBytes: 65000, frameMask: 'random' },
  { maxFrameBytes: 16384, frameMask: 'zero' },
  { maxFrameBytes: 32768, frameMask: 'zero' },
  { maxFrameBytes: 65000, frameMask: 'zero' }
]

export interface EiceBenchResult extends EiceBenchConfig {
  label: string
  runsMBps: number[]
  medianMBps: number
  /** medianMBps / the direct path's medianMBps. */
  ratio: number
}

export interface EiceBenchFigures {
  fileBytes: number
  runs: number
  simIn: 'worker' | 'process'
  directMBps: number
  directRunsMBps: number[]
  results: EiceBenchResult[]
  /** The ratio of the default configuration (65,000-byte frames, zero masks) to the direct path. */
  ratio: number
}

interface SimHandle {
  env: Record<string, string>
  ca: string
  instanceId: string
  region: string
  stop(): Promise<void>
}

/** One upload over a fresh SSH connection on `sock`; MB/s (10^6 bytes per second). */
async function uploadOnce(sock: Duplex, sshd: Sshd, file: string, bytes: number): Promise<number> {
  const client = await sshOver(sock, sshd)
  try {
    const sftp = await sftpOf(client)
    const remote = path.join(sshd.remoteRoot, `eice-bench-${process.pid}-${Date.now()}.bin`)
    const t0 = process.hrtime.bigint()
    await new Promise<void>((resolve, reject) =>
      sftp.fastPut(file, remote, err => (err ? reject(err) : resolve()))
    )
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    await rm(remote, { force: true })
    return bytes / seconds / 1e6
  } finally {
    client.end()
  }
}

function tcp(sshd: Sshd): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: sshd.host, port: sshd.port, noDelay: true })
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
}

async function startSimInProcess(sshd: Sshd): Promise<SimHandle> {
  const aws = await startAwsSimServer()
  const sim = await startEiceSim({ sshHost: sshd.host, sshPort: sshd.port, awsServer: aws })
  return {
    env: sim.env,
    ca: sim.ca,
    instanceId: sim.instanceId,
    region: sim.region,
    stop: async () => {
      await sim.stop()
      await aws.close()
    }
  }
}

async function startSimInWorker(sshd: Sshd): Promise<SimHandle> {
  const worker = new Worker(new URL('./eice-sim-worker.js', import.meta.url), {
    workerData: { sshHost: sshd.host, sshPort: sshd.port }
  })
  const info = await new Promise<Omit<SimHandle, 'stop'>>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  return {
    ...info,
    stop: async () => {
      worker.postMessage('stop')
      await new Promise(resolve => worker.once('exit', resolve))
    }
  }
}

export async function benchEice(opts: EiceBenchOptions): Promise<EiceBenchFigures> {
  const log = opts.log ?? (line => process.stderr.write(line + '\n'))
  const simIn = opts.simIn ?? 'worker'
  const fileBytes = (await stat(opts.file)).size
  const configs = opts.configs ?? DEFAULT_CONFIGS
  const label = (c: EiceBenchConfig) => `frames <= ${c.maxFrameBytes} B, ${c.frameMask} masks`
  const sim = simIn === 'worker' ? await startSimInWorker(opts.sshd) : await startSimInProcess(opts.sshd)
  const savedEnv = Object.fromEntries(Object.keys(sim.env).map(k => [k, process.env[k]]))
  Object.assign(process.env, sim.env)
  try {
    const aws: AwsContext = { region: sim.region, credentials: async () => ({ ...DUMMY_LONG_TERM_KEY }) }
    const [instance] = await describeTargets([parseTarget(sim.instanceId)], aws)
    const directRunsMBps: number[] = []
    const perConfig = configs.map(() => [] as number[])
    // Interleave the paths run by run so drifting machine load hits both alike.
    for (let run = 0; run < opts.runs; run++) {
      directRunsMBps.push(await uploadOnce(await tcp(opts.sshd), opts.sshd, opts.file, fileBytes))
      for (const [i, c] of configs.entries()) {
        // In-process callers cannot use NODE_EXTRA_CA_CERTS (read at start-up), hence the test CA option.
        const tunnel = createEiceTunnel({
          instance,
          port: 22,
          aws,
          logger: silentLogger,
          maxTunnelsPerEndpoint: 5,
          ...c,
          tlsCaForTests: sim.ca
        })
        try {
          perConfig[i].push(await uploadOnce(await tunnel.open(), opts.sshd, opts.file, fileBytes))
        } finally {
          await tunnel.close()
        }
      }
    }
    const directMBps = median(directRunsMBps)
    log(
      `eice bench: direct TCP ${directMBps.toFixed(1)} MB/s (runs ${directRunsMBps.map(x => x.toFixed(1)).join(', ')})`
    )
    const results = configs.map((c, i) => {
      const runsMBps = perConfig[i]
      const medianMBps = median(runsMBps)
      const r: EiceBenchResult = {
        ...c,
        label: label(c),
        runsMBps,
        medianMBps,
        ratio: medianMBps / directMBps
      }
      log(
        `eice bench: ${r.label}: ${medianMBps.toFixed(1)} MB/s = ${r.ratio.toFixed(2)}x direct (runs ${runsMBps.map(x => x.toFixed(1)).join(', ')})`
      )
      return r
    })
    const dflt =
      results.find(r => r.maxFrameBytes === 65000 && r.frameMask === 'zero') ?? results[results.length - 1]
    return { fileBytes, runs: opts.runs, simIn, directMBps, directRunsMBps, results, ratio: dflt.ratio }
  } finally {
    await sim.stop()
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** `node build/bench/eice.js [MiB] [runs] [worker|process]`: a standalone run with a temp file and sshd. */
runStandalone(
  import.meta.url,
  'eice',
  ({ sshd, file }) =>
    benchEice({
      sshd,
      file,
      runs: Number(process.argv[3] ?? 3),
      simIn: process.argv[4] === 'process' ? 'process' : 'worker'
    }),
  Number(process.argv[2] ?? 256)
)
