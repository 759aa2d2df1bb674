import type { Duplex } from 'node:stream'
import { resolveAwsContext, type AwsContext } from '../aws/credentials.js'
import { buildConfig, type DeployConfig } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { resolveOneTarget, type ResolvedTarget } from '../tunnel/index.js'
import { isSet, last, parseArgs, type FlagSpec } from './args.js'
import { NO_REGION } from './aws-env.js'
import { AWS_FLAGS, awsInputsOf, TUNNEL_FLAGS } from './aws-flags.js'
import { proxyHelp } from './help.js'
import type { CliIo } from './io.js'
import { cliLogger } from './progress.js'
import { pushPublicKey, readPublicKeyFile } from './push-key.js'

/**
 * `ec2-push proxy <instance> [port]`: an OpenSSH ProxyCommand. Opens one tunnel (ssm, eice, or what
 * auto picks) and copies bytes between it and stdin/stdout; nothing else ever goes to stdout. Ends
 * when either side closes or on SIGINT/SIGTERM/SIGHUP (ssh sends SIGHUP to its proxy when it exits),
 * and closes the tunnel on every path, so no Session Manager session is left open.
 */

const FLAGS: readonly FlagSpec[] = [
  ...AWS_FLAGS,
  ...TUNNEL_FLAGS,
  { name: 'port', kind: 'string' },
  { name: 'push-key', kind: 'string' },
  { name: 'user', kind: 'string' },
  { name: 'ssm-document', kind: 'string' }
]

const SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const

/** After stdin ends, how long the tunnel may take to flush and close before we close it ourselves. */
const END_GRACE_MS = 5000

export async function proxyCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, FLAGS, 'proxy')
  if (isSet(args, 'help')) {
    io.out(proxyHelp())
    return 0
  }
  const [target, portArg, ...extra] = args.positionals
  if (!target)
    throw new UserError('proxy needs the instance to reach: ec2-push proxy i-0123456789abcdef0 [port]')
  if (extra.length) throw new UserError(`proxy takes an instance and a port, got also '${extra.join(' ')}'`)
  const port = last(args, 'port') ?? portArg ?? '22'
  if (portArg && last(args, 'port') && portArg !== last(args, 'port')) {
    throw new UserError(`the port is given twice (${portArg} and --port ${last(args, 'port')}): give one`)
  }
  const pushKeyFile = last(args, 'push-key')
  const user = last(args, 'user')
  if (pushKeyFile && !user) {
    throw new UserError(
      '--push-key needs --user: the OS user on the instance the key is for (ssh config: --user %r)'
    )
  }
  const logger = cliLogger(io, {
    debug: isSet(args, 'debug'),
    quiet: !isSet(args, 'verbose') && !isSet(args, 'debug'),
    tty: false
  })

  const mode = last(args, 'mode') ?? 'auto'
  if (mode === 'nlb') {
    throw new UserError(
      "proxy reaches instances through ssm or eice (--mode ssm|eice|auto); for an NLB, point ssh at the load balancer's address directly"
    )
  }
  const awsFlags = await awsInputsOf(args)
  if (!awsFlags.inputs['aws-region']) throw new UserError(NO_REGION)
  const values: Record<string, string> = {
    ...awsFlags.inputs,
    mode,
    targets: target,
    port,
    user: user ?? '',
    'eice-endpoint-id': last(args, 'eice-endpoint-id') ?? '',
    'ssm-document': last(args, 'ssm-document') ?? '',
    // Required by the deploy schema, unused here.
    files: '*',
    'remote-path': '.'
  }
  const config = buildConfig(name => values[name] ?? '')
  const publicKey = pushKeyFile ? await readPublicKeyFile(pushKeyFile) : undefined

  const stop = new AbortController()
  let stoppedBy: keyof typeof SIGNALS | undefined
  const onSignal = (sig: keyof typeof SIGNALS) => () => {
    stoppedBy ??= sig
    stop.abort()
  }
  // Installed for the rest of the process: a late signal (ssh sends SIGHUP as it exits) must not kill
  // the process while the tunnel is still terminating its session.
  for (const s of Object.keys(SIGNALS)) process.on(s, onSignal(s as keyof typeof SIGNALS))

  let resolved: ResolvedTarget | undefined
  try {
    let awsContext: Promise<AwsContext> | undefined
    const aws = () => (awsContext ??= resolveAwsContext(config.aws, logger, awsFlags.options))
    resolved = await oneTarget(config, logger, aws)
    if (stop.signal.aborted) return SIGNALS[stoppedBy!]
    if (publicKey) {
      await pushPublicKey({
        instanceId: resolved.instanceId ?? target,
        availabilityZone: resolved.availabilityZone,
        user: user!,
        publicKey,
        aws: await aws(),
        logger
      })
    }
    logger.info(`ec2-push proxy: opening ${resolved.tunnel.description}`)
    let stream: Duplex
    try {
      stream = await resolved.tunnel.open(stop.signal)
    } catch (err) {
      if (stop.signal.aborted) return SIGNALS[stoppedBy!]
      throw err
    }
    const failure = await pipeUntilClosed(stream, io, stop.signal)
    if (stoppedBy) return SIGNALS[stoppedBy]
    if (failure) {
      io.err(`ec2-push: the tunnel to ${resolved.label} failed: ${failure}`)
      return 1
    }
    return 0
  } finally {
    await resolved?.tunnel
      .close()
      .catch(err => logger.warning(`could not close the tunnel: ${errorMessage(err)}`))
    io.stdin.destroy()
  }
}

/** The one instance the proxy serves: never a host (ssh reaches those itself). */
async function oneTarget(
  config: DeployConfig,
  logger: Logger,
  aws: () => Promise<AwsContext>
): Promise<ResolvedTarget> {
  const target = await resolveOneTarget(config, { logger, aws }, 'proxy')
  if (target.mode === 'nlb') {
    await target.tunnel.close()
    throw new UserError(
      `proxy reaches instances by id (i-...), not host names; ssh to '${target.label}' directly`
    )
  }
  return target
}

/**
 * Copy stdin -> tunnel and tunnel -> stdout with back-pressure until the tunnel closes, stdout goes
 * away, or `signal` fires. stdin's end half-closes the tunnel (which then flushes and closes).
 * Resolves with the tunnel's error message, if it failed.
 */
function pipeUntilClosed(stream: Duplex, io: CliIo, signal: AbortSignal): Promise<string | undefined> {
  const { stdin, stdout } = io
  return new Promise(resolve => {
    let settled = false
    let grace: NodeJS.Timeout | undefined
    const finish = (failure?: string) => {
      if (settled) return
      settled = true
      clearTimeout(grace)
      signal.removeEventListener('abort', onAbort)
      stdin.off('data', onStdin)
      stdin.pause()
      stream.off('data', onTunnel)
      resolve(failure)
    }
    const onAbort = () => finish()
    const onTunnel = (chunk: Buffer) => {
      if (!stdout.write(chunk)) {
        stream.pause()
        stdout.once('drain', () => stream.resume())
      }
    }
    const onStdin = (chunk: Buffer) => {
      if (!stream.write(chunk)) {
        stdin.pause()
        stream.once('drain', () => stdin.resume())
      }
    }
    signal.addEventListener('abort', onAbort, { once: true })
    stream.on('data', onTunnel)
    stream.once('end', () => finish())
    stream.once('close', () => finish())
    stream.on('error', err => finish(errorMessage(err)))
    stdout.on('error', () => finish()) // EPIPE: the client went away
    stdin.on('data', onStdin)
    stdin.once('end', () => {
      stream.end()
      grace = setTimeout(() => finish(), END_GRACE_MS)
    })
    stdin.on('error', () => finish())
    if (signal.aborted) finish()
  })
}
