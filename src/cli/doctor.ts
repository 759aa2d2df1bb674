import type { Duplex } from 'node:stream'
import type { AwsContext } from '../aws/credentials.js'
import { resolveAwsContext } from '../aws/credentials.js'
import { buildConfig, type DeployConfig } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import { silentLogger } from '../log.js'
import { resolveTargets } from '../tunnel/index.js'
import { isSet, last, parseArgs, type FlagSpec } from './args.js'
import { NO_REGION } from './aws-env.js'
import { AWS_FLAGS, awsInputsOf } from './aws-flags.js'
import { runDoctor, type Check, type DoctorReport } from './doctor-checks.js'
import { doctorHelp } from './help.js'
import type { CliIo } from './io.js'

const FLAGS: readonly FlagSpec[] = [
  ...AWS_FLAGS,
  { name: 'port', kind: 'string' },
  { name: 'eice-endpoint-id', kind: 'string' },
  { name: 'connect', kind: 'boolean' },
  { name: 'json', kind: 'boolean' },
  { name: 'help', kind: 'boolean', short: 'h' }
]

/** `ec2-push doctor <target>`: the checks as a table; exit 0 when some path works, 1 when none does. */
export async function doctorCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, FLAGS, 'doctor')
  if (isSet(args, 'help')) {
    io.out(doctorHelp())
    return 0
  }
  const [target, ...extra] = args.positionals
  if (!target || extra.length) {
    throw new UserError('doctor checks one target: ec2-push doctor i-0123456789abcdef0 (or tag:Name=web-1)')
  }
  const port = Number(last(args, 'port') ?? '22')
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UserError(`--port must be 1-65535, got '${last(args, 'port')}'`)
  const awsFlags = await awsInputsOf(args)
  if (!awsFlags.inputs['aws-region']) throw new UserError(NO_REGION)
  // The credentials the other commands would use: the default chain, or the role assumed as deploy does.
  const aws = await resolveAwsContext(
    configFor(target, port, awsFlags.inputs).aws,
    silentLogger,
    awsFlags.options
  )
  const endpointId = last(args, 'eice-endpoint-id')

  const report = await runDoctor(target, aws, { endpointId, port })
  if (isSet(args, 'connect')) await tryConnect(report, aws, port, endpointId)
  const works = isSet(args, 'connect')
    ? report.checks.some(c => c.area === 'connect' && c.status === 'ok')
    : report.paths.ssm || report.paths.eice
  if (isSet(args, 'json')) io.out(JSON.stringify({ ...report, works }, null, 2))
  else io.out(renderReport(report, works))
  return works ? 0 : 1
}

const MARK: Record<Check['status'], string> = { ok: 'ok', fail: 'FAIL', warn: 'warn', info: '--' }

export function renderReport(report: DoctorReport, works: boolean): string {
  const rows = report.checks.map(c => [c.area, c.check, MARK[c.status], c.detail])
  const widths = [0, 1, 2].map(i => Math.max(...rows.map(r => r[i].length)))
  const lines = rows.map(r => '  ' + r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  '))
  const verdict = works
    ? `Some path works${report.auto.mode ? `; mode auto would use ${report.auto.mode}` : ''}.`
    : (report.missing ?? 'No path works yet: fix one of the FAIL rows above.')
  return [`ec2-push doctor ${report.target} (${report.region})`, '', ...lines, '', verdict].join('\n')
}

/** A deploy configuration for one target, as the checks and connections need it (no files). */
function configFor(target: string, port: number, values: Record<string, string>): DeployConfig {
  const all: Record<string, string> = {
    ...values,
    targets: target,
    port: String(port),
    files: '*',
    'remote-path': '.'
  }
  return buildConfig(name => all[name] ?? '')
}

/** Open each path that looks usable and read sshd's banner: proves StartSession / OpenTunnel and the network. */
async function tryConnect(report: DoctorReport, aws: AwsContext, port: number, endpointId?: string) {
  for (const mode of ['ssm', 'eice'] as const) {
    if (!report.paths[mode] || !report.instanceId) continue
    const config = configFor(report.instanceId!, port, {
      mode,
      'aws-region': aws.region,
      'eice-endpoint-id': endpointId ?? ''
    })
    let detail: string
    let ok = false
    const [target] = await resolveTargets(config, { logger: silentLogger, aws: async () => aws }).catch(
      err => {
        report.checks.push({
          area: 'connect',
          check: `via ${mode}`,
          status: 'fail',
          detail: errorMessage(err)
        })
        return []
      }
    )
    if (!target) continue
    try {
      const banner = await readBanner(await target.tunnel.open(AbortSignal.timeout(30_000)))
      ok = banner.startsWith('SSH-')
      detail = ok
        ? `sshd answered: ${banner}`
        : `something answered that is not sshd: ${JSON.stringify(banner.slice(0, 40))}`
    } catch (err) {
      detail = errorMessage(err)
    } finally {
      await target.tunnel.close()
    }
    report.checks.push({ area: 'connect', check: `via ${mode}`, status: ok ? 'ok' : 'fail', detail })
  }
}

/** The first line the far side sends (sshd's identification string), within 15 s. */
function readBanner(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => done(new Error('no answer within 15 s')), 15_000)
    const done = (err?: Error) => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.destroy()
      if (err) reject(err)
      else resolve(text.split(/\r?\n/)[0].trim())
    }
    const onData = (d: Buffer) => {
      text += d.toString('latin1')
      if (text.includes('\n') || text.length > 255) done()
    }
    stream.on('data', onData)
    stream.once('error', err => done(err))
    stream.once('end', () => done(text ? undefined : new Error('closed before sending anything')))
  })
}
