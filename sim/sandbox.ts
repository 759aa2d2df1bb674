import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { fleetInstanceId, resolveInstances, type FleetFaults } from './fleet/index.js'
import { startSandbox } from './sandbox-env.js'

/**
 * `npm run sandbox -- --env-file FILE`: start the local sandbox in the foreground, write its
 * KEY=value lines to FILE once everything is ready, and stop everything on SIGINT/SIGTERM.
 * `--rtt-ms 100` puts every path behind an emulated long link (sim/wan-relay.ts): that round-trip
 * time, the machine's largest TCP window per connection, and `--rate-mib-s` if given.
 * The delivery: s3 fleet's faults (each flag, or the SANDBOX_* variable of the same name):
 * `--fleet-offline 3,i-...` instances whose agent never takes a command, `--fleet-hang 2` instances
 * whose commands never finish (they time out), `--s3-corrupt 'ec2-push/objects/*'` objects corrupted
 * as soon as their upload is accepted (a glob over keys); `--fleet-size N` (default 50).
 */
// package.json runs `node build/sim/sandbox.js -- ...`: Node 20 would otherwise take `--env-file`
// after the script name as its own option (and exit when the file does not exist yet).
const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: {
    'env-file': { type: 'string' },
    verbose: { type: 'boolean' },
    'rtt-ms': { type: 'string' },
    'rate-mib-s': { type: 'string' },
    'fleet-size': { type: 'string', default: process.env.SANDBOX_FLEET_SIZE },
    'fleet-offline': { type: 'string', default: process.env.SANDBOX_FLEET_OFFLINE },
    'fleet-hang': { type: 'string', default: process.env.SANDBOX_FLEET_HANG },
    's3-corrupt': { type: 'string', default: process.env.SANDBOX_S3_CORRUPT }
  }
})
const number = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    process.stderr.write(`sandbox: --${name} must be a number >= 0, got '${v}'\n`)
    process.exit(2)
  }
  return n
}
const rttMs = number('rtt-ms', values['rtt-ms'])
const rateMibS = number('rate-mib-s', values['rate-mib-s'])
const wan =
  rttMs !== undefined || rateMibS !== undefined
    ? { rttMs: rttMs ?? 0, rateBytesPerSecond: rateMibS ? rateMibS * 1024 * 1024 : undefined }
    : undefined
const fleetSize = number('fleet-size', values['fleet-size']) ?? 50
if (!Number.isInteger(fleetSize) || fleetSize < 1) {
  process.stderr.write(`sandbox: --fleet-size must be a whole number >= 1, got '${values['fleet-size']}'\n`)
  process.exit(2)
}
const list = (v: string | undefined) => (v ?? '').split(',').filter(x => x.trim())
const fleetIds = Array.from({ length: fleetSize }, (_, i) => fleetInstanceId(i + 1))
const fleetFaults: FleetFaults = {
  offline: list(values['fleet-offline']),
  hang: list(values['fleet-hang']),
  corrupt: values['s3-corrupt'] || undefined
}
for (const flag of ['fleet-offline', 'fleet-hang'] as const) {
  try {
    resolveInstances(list(values[flag]), fleetIds)
  } catch (err) {
    process.stderr.write(`sandbox: --${flag}: ${(err as Error).message}\n`)
    process.exit(2)
  }
}
const sandbox = await startSandbox({ verbose: values.verbose, wan, fleetSize, fleetFaults })
if (sandbox.relays) {
  const l = sandbox.relays.ssh.link
  process.stderr.write(
    `sandbox: every path behind an emulated link: ${l.rttMs} ms round trip, ${l.windowBytes} bytes in flight per connection` +
      `${l.rateBytesPerSecond ? `, ${rateMibS} MiB/s` : ''}\n`
  )
}
const lines = Object.entries(sandbox.env).map(([k, v]) => `${k}=${v}`)
if (values['env-file']) {
  await writeFile(values['env-file'], lines.join('\n') + '\n')
  process.stderr.write(`sandbox: ready; wrote ${lines.length} variables to ${values['env-file']}\n`)
} else {
  process.stdout.write(lines.join('\n') + '\n')
  process.stderr.write('sandbox: ready (pass --env-file FILE to write these to a file)\n')
}
process.stderr.write('sandbox: press Ctrl-C to stop\n')
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await sandbox.stop()
  process.stderr.write('sandbox: stopped\n')
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
