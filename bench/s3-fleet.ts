import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildConfig } from '../src/config.js'
import { silentLogger, streamLogger, type Logger } from '../src/log.js'
import { runDeploy } from '../src/run-deploy.js'
import { startSandbox } from '../sim/sandbox-env.js'
import { startSshd, type Sshd } from '../sim/sshd.js'
import { makeRandomFile } from './data.js'

/**
 * `npm run -s build && node build/bench/s3-fleet.js`: one artifact (2,000 x 4 KiB and 1 x 64 MiB by
 * default) to a fleet of 50 simulated instances, in one run: `delivery: s3` (one upload to the S3
 * simulator, Run Command fanning out, each instance fetching with curl in its own mount namespace)
 * against `delivery: push` over nlb to one real sshd per instance in the same namespaces, both with
 * max-parallel-targets 8. Prints wall time and the bytes the runner sent for each, and their ratios.
 */

const MiB = 1024 * 1024
const log = (line: string) => process.stderr.write(`[s3-fleet] ${line}\n`)

const { values } = parseArgs({
  args: process.argv.slice(2)[0] === '--' ? process.argv.slice(3) : process.argv.slice(2),
  options: {
    instances: { type: 'string', default: '50' },
    'small-files': { type: 'string', default: '2000' },
    'small-kib': { type: 'string', default: '4' },
    'large-mib': { type: 'string', default: '64' },
    parallel: { type: 'string', default: '8' },
    /** Each leg's log on stderr, every line with the seconds since the leg began. */
    log: { type: 'boolean', default: false },
    /** Only the s3 leg (to look into it; the comparison needs both). */
    'skip-push': { type: 'boolean', default: false }
  }
})
const instances = Number(values.instances)
const smallFiles = Number(values['small-files'])
const smallKib = Number(values['small-kib'])
const largeMib = Number(values['large-mib'])
const parallel = values.parallel!
const command = `node build/bench/s3-fleet.js --instances ${instances} --small-files ${smallFiles} --small-kib ${smallKib} --large-mib ${largeMib} --parallel ${parallel}`

const legLogger = (leg: string): Logger => {
  if (!values.log) return silentLogger
  const t0 = performance.now()
  return streamLogger(line => log(`${leg} +${((performance.now() - t0) / 1000).toFixed(1)}s ${line}`))
}

async function main() {
  const art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-bench-s3-'))
  const sandbox = await startSandbox({ fleetSize: instances, fleetShell: ['dash'] })
  const sshds: Sshd[] = []
  const savedEnv = { ...process.env }
  try {
    await mkdir(path.join(art, 'small'), { recursive: true })
    for (let i = 0; i < smallFiles; i++)
      await writeFile(
        path.join(art, 'small', `f${i}.txt`),
        Buffer.alloc(smallKib * 1024, 97 + (i % 26)).fill(String(i), 0)
      )
    await makeRandomFile(path.join(art, 'large.bin'), largeMib * MiB)
    const artifactBytes = smallFiles * smallKib * 1024 + largeMib * MiB
    Object.assign(process.env, sandbox.env)
    const ids = sandbox.fleet.instanceIds

    log(
      `s3: ${instances} instances, ${smallFiles} x ${smallKib} KiB + ${largeMib} MiB, MaxConcurrency ${parallel}`
    )
    const s3Before = sandbox.fleet.s3.counters.bytesIn
    let t0 = performance.now()
    const s3Run = await runDeploy(
      buildConfig(
        n =>
          ({
            delivery: 's3',
            's3-bucket': sandbox.fleet.bucket,
            'aws-region': sandbox.region,
            targets: sandbox.env.SANDBOX_FLEET_TAG,
            files: `${art}/**`,
            'remote-path': '/srv/bench-s3',
            release: 'atomic',
            'release-id': 's3',
            'max-parallel-targets': parallel,
            'timeout-seconds': '3600'
          })[n] ?? ''
      ),
      legLogger('s3')
    )
    const s3Seconds = (performance.now() - t0) / 1000
    if (s3Run.error) throw new Error(`s3 leg failed: ${s3Run.error}`)
    const s3Bytes = sandbox.fleet.s3.counters.bytesIn - s3Before

    if (values['skip-push']) {
      process.stdout.write(`s3: wall ${s3Seconds.toFixed(1)} s, runner bytes ${s3Bytes}\n`)
      return
    }
    log(`push: starting ${instances} sshd, one in each instance's namespace`)
    for (const id of ids) sshds.push(await startSshd({ wrap: sandbox.fleet.fleet.wrap(id) }))
    const key = sshds[0].clientKey.privateKey
    // Every sshd authorises its own fresh key: use one key for all by copying it over.
    for (const s of sshds.slice(1))
      await writeFile(path.join(s.dir, 'authorized_keys'), sshds[0].clientKey.publicKey + '\n')
    log(`push: ${instances} targets over nlb, max-parallel-targets ${parallel}`)
    t0 = performance.now()
    const pushRun = await runDeploy(
      buildConfig(
        n =>
          ({
            mode: 'nlb',
            targets: sshds.map(s => `${s.host}:${s.port}`).join(','),
            files: `${art}/**`,
            'remote-path': '/srv/bench-push',
            release: 'atomic',
            'release-id': 'push',
            user: sshds[0].user,
            'ssh-private-key': key,
            'known-hosts': sshds.map(s => s.knownHostsLine).join('\n'),
            'max-parallel-targets': parallel,
            'timeout-seconds': '3600'
          })[n] ?? ''
      ),
      legLogger('push')
    )
    const pushSeconds = (performance.now() - t0) / 1000
    if (pushRun.error) throw new Error(`push leg failed: ${pushRun.error}`)
    const pushBytes = pushRun.outputs['bytes-transferred']

    const rows = [
      ['delivery', 'wall s', 'runner bytes', 'x artifact'],
      ['s3', s3Seconds.toFixed(1), String(s3Bytes), (s3Bytes / artifactBytes).toFixed(2)],
      ['push', pushSeconds.toFixed(1), String(pushBytes), (pushBytes / artifactBytes).toFixed(2)]
    ]
    const out = [
      `command: ${command}`,
      `machine: ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map(l => l.toFixed(1))
        .join(' ')}`,
      ...rows.map(r => r.map(c => c.padEnd(14)).join('')),
      `push / s3: wall ${(pushSeconds / s3Seconds).toFixed(2)}x, runner bytes ${(pushBytes / s3Bytes).toFixed(1)}x`
    ]
    process.stdout.write(out.join('\n') + '\n')
  } finally {
    process.env = savedEnv
    await Promise.all(sshds.map(s => s.stop()))
    await sandbox.stop()
    await rm(art, { recursive: true, force: true })
  }
}

main().catch(err => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(1)
})
