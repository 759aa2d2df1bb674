import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { resolveAwsContext, type AwsContext, type ResolveAwsOptions } from '../aws/credentials.js'
import { buildConfig } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import type { ForwardListener } from '../forward/listener.js'
import { openForwards } from '../forward/open.js'
import { needsAws } from '../tunnel/index.js'
import { isSet, last, parseArgs, type FlagSpec, type ParsedArgs } from './args.js'
import { NO_REGION } from './aws-env.js'
import { AWS_FLAGS, awsInputsOf, TUNNEL_FLAGS } from './aws-flags.js'
import { forwardHelp } from './help.js'
import type { CliIo } from './io.js'
import { cliLogger } from './progress.js'

/**
 * `ec2-push forward <target> [local-port:]host:port...`: local listeners on 127.0.0.1 that lead to a
 * port on the instance or, over Session Manager, to a host behind it, until SIGINT, SIGTERM or SIGHUP;
 * then every session is ended. The action runs this command in the background for its `forward`
 * input (--inputs-file: the step's inputs; --ready-file: where the local ports are written once the
 * listeners are up), and its post step sends SIGTERM.
 */

const FLAGS: readonly FlagSpec[] = [
  ...AWS_FLAGS,
  ...TUNNEL_FLAGS,
  { name: 'ready-file', kind: 'string' },
  { name: 'inputs-file', kind: 'string' }
]

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const

/** What the ready file holds (JSON): the background process and its listeners. */
export interface ForwardReady {
  pid: number
  forwards: { localPort: number; host: string; port: number }[]
}

export async function forwardCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, FLAGS, 'forward')
  if (isSet(args, 'help')) {
    io.out(forwardHelp())
    return 0
  }
  const logger = cliLogger(io, {
    debug: isSet(args, 'debug'),
    quiet: false,
    tty: false
  })
  const { values, options } = await inputValues(args)
  const config = buildConfig(name => values[name] ?? '')
  if (config.forward.length === 0) {
    throw new UserError('forward needs at least one [local-port:]host:port, e.g. 5432:db.internal:5432')
  }
  if (!config.aws.region && needsAws(config)) throw new UserError(NO_REGION)

  const stop = new Promise<void>(resolve => {
    for (const s of SIGNALS) process.on(s, () => resolve())
  })
  let awsContext: Promise<AwsContext> | undefined
  const aws = () => (awsContext ??= resolveAwsContext(config.aws, logger, options))
  const { listeners } = await openForwards(config, config.forward, { logger, aws })
  try {
    for (const l of listeners) io.out(`127.0.0.1:${l.localPort} -> ${l.spec.host}:${l.spec.port}`)
    const readyFile = last(args, 'ready-file')
    if (readyFile) await writeReady(readyFile, listeners)
    await stop
    logger.info(`forward: closing (${summary(listeners)})`)
  } finally {
    await Promise.all(
      listeners.map(l => l.close().catch(err => logger.warning(`forward: ${errorMessage(err)}`)))
    )
  }
  return 0
}

/**
 * The inputs from the action (a JSON file, removed once read; its OIDC token comes from the job) or
 * from the command line, with what --role-to-assume needs to get its token.
 */
async function inputValues(
  args: ParsedArgs
): Promise<{ values: Record<string, string>; options: ResolveAwsOptions }> {
  const inputsFile = last(args, 'inputs-file')
  if (inputsFile) {
    const values = JSON.parse(await readFile(inputsFile, 'utf8')) as Record<string, string>
    await rm(inputsFile, { force: true })
    return { values, options: {} }
  }
  const [target, ...specs] = args.positionals
  if (!target) {
    throw new UserError(
      'forward needs a target and at least one forward: ec2-push forward i-0123456789abcdef0 5432:db.internal:5432'
    )
  }
  const mode = last(args, 'mode') ?? 'auto'
  const aws = await awsInputsOf(args, { needRegion: mode !== 'nlb' })
  return {
    values: {
      ...aws.inputs,
      mode,
      targets: target,
      forward: specs.join('\n'),
      'eice-endpoint-id': last(args, 'eice-endpoint-id') ?? ''
    },
    options: aws.options
  }
}

async function writeReady(file: string, listeners: ForwardListener[]): Promise<void> {
  const ready: ForwardReady = {
    pid: process.pid,
    forwards: listeners.map(l => ({ localPort: l.localPort, host: l.spec.host, port: l.spec.port }))
  }
  // Written whole under another name, then renamed: the reader never sees half a file.
  await writeFile(`${file}.tmp`, JSON.stringify(ready))
  await rename(`${file}.tmp`, file)
}

function summary(listeners: ForwardListener[]): string {
  return listeners
    .map(
      l =>
        `${l.localPort} -> ${l.spec.host}:${l.spec.port}: ${l.stats.accepted} connections, ${l.stats.failed} failed`
    )
    .join('; ')
}
