import { readFile } from 'node:fs/promises'
import { watchCancellation } from '../cancellation.js'
import { buildConfig, type InputSource } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import { figuresLine } from '../report/results.js'
import { runDeploy, type DeployRun } from '../run-deploy.js'
import { needsAws } from '../tunnel/index.js'
import { last, parseArgs, isSet, type ParsedArgs } from './args.js'
import { applyProfile, idTokenOptions, NO_REGION, resolveRegion } from './aws-env.js'
import { deployHelp } from './help.js'
import type { CliIo } from './io.js'
import { DEPLOY_EXTRA_FLAGS, DEPLOY_INPUTS } from './options.js'
import { cliLogger } from './progress.js'

/**
 * `ec2-push deploy`: the action's inputs as flags, the same engine (runDeploy), the action's outputs
 * on stdout (`name=value` lines, or one JSON object with --json), logs and the one-line error on stderr.
 */
export async function deployCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(
    argv,
    [...DEPLOY_INPUTS, ...DEPLOY_EXTRA_FLAGS, { name: 'help', kind: 'boolean', short: 'h' }],
    'deploy'
  )
  if (isSet(args, 'help')) {
    io.out(deployHelp())
    return 0
  }
  if (args.positionals.length) {
    throw new UserError(
      `'ec2-push deploy' takes no arguments, only options (got '${args.positionals[0]}'); files go in --files PATTERN (see ec2-push deploy --help)`
    )
  }
  const logger = cliLogger(io, { debug: isSet(args, 'debug'), quiet: isSet(args, 'quiet') })
  // Mask secrets before anything can echo them.
  for (const name of ['ssh-private-key', 'ssh-passphrase']) logger.setSecret(last(args, name) ?? '')

  if (last(args, 'ssh-passphrase') !== undefined) logger.warning(PASSPHRASE_IN_ARGS)

  applyProfile(last(args, 'profile'))
  const inputs = await inputsOf(args)
  logger.setSecret(inputs.get('ssh-private-key')?.trim() ?? '')
  logger.setSecret(inputs.get('ssh-passphrase') ?? '')
  const input: InputSource = name => inputs.get(name) ?? ''
  const config = buildConfig(input)
  if (config.forward.length) {
    throw new UserError(
      "deploy does not keep port forwards open after it ends: run 'ec2-push forward <target> [local-port:]host:port' (the action's forward input runs it in the background for later steps)"
    )
  }
  if (needsAws(config) && !config.aws.region) {
    config.aws.region = (await resolveRegion(undefined)) || undefined
    if (!config.aws.region) throw new UserError(NO_REGION)
  }
  const awsOptions = idTokenOptions(config.aws.roleToAssume, last(args, 'web-identity-token-file'))

  const cancellation = watchCancellation(line => io.err(`ec2-push: ${line}`), 130)
  const run = await runDeploy(config, logger, { aws: awsOptions, cancel: cancellation.signal }).finally(() =>
    cancellation.dispose()
  )
  printOutputs(io, run, isSet(args, 'json'))
  if (run.error) {
    io.err(`ec2-push: ${run.error}`)
    return cancellation.signal.aborted ? 130 : 1
  }
  // The figures a person reads last, the same as the job summary's (bytes-per-second included).
  if (!isSet(args, 'quiet') && !config.dryRun) io.err(`ec2-push: ${figuresLine(run.outputs)}`)
  return 0
}

/** Flag values as action inputs: lists joined one per line, files read, --region as aws-region. */
async function inputsOf(args: ParsedArgs): Promise<Map<string, string>> {
  const inputs = new Map<string, string>()
  for (const { name, kind } of DEPLOY_INPUTS) {
    const values = args.flags.get(name)
    if (values) inputs.set(name, kind === 'list' ? values.join('\n') : values[values.length - 1])
  }
  const region = last(args, 'region')
  if (region !== undefined) {
    if (inputs.has('aws-region') && inputs.get('aws-region') !== region) {
      throw new UserError('--region and --aws-region disagree: give one of them')
    }
    inputs.set('aws-region', region)
  }
  const keyFile = last(args, 'ssh-private-key-file')
  if (keyFile !== undefined) {
    if (inputs.has('ssh-private-key')) {
      throw new UserError('give --ssh-private-key or --ssh-private-key-file, not both')
    }
    inputs.set('ssh-private-key', await readText(keyFile, 'the private key file'))
  }
  const passphrase = await passphraseOf(args)
  if (passphrase !== undefined) inputs.set('ssh-passphrase', passphrase)
  const knownHostsFile = last(args, 'known-hosts-file')
  if (knownHostsFile !== undefined) {
    const lines = await readText(knownHostsFile, 'the known_hosts file')
    inputs.set('known-hosts', [inputs.get('known-hosts'), lines].filter(Boolean).join('\n'))
  }
  return inputs
}

const PASSPHRASE_IN_ARGS =
  '--ssh-passphrase puts the passphrase on the command line, where other users of this machine can read it (ps, /proc); use --ssh-passphrase-file FILE or the EC2_PUSH_SSH_PASSPHRASE environment variable instead.'

/**
 * The key's passphrase from --ssh-passphrase-file (its first line) or EC2_PUSH_SSH_PASSPHRASE, which
 * other users cannot read the way they read a command line; undefined to leave --ssh-passphrase as it is.
 */
async function passphraseOf(args: ParsedArgs): Promise<string | undefined> {
  const file = last(args, 'ssh-passphrase-file')
  if (file !== undefined) {
    if (last(args, 'ssh-passphrase') !== undefined) {
      throw new UserError('give --ssh-passphrase or --ssh-passphrase-file, not both')
    }
    return (await readText(file, 'the passphrase file')).replace(/\r?\n$/, '')
  }
  const env = process.env.EC2_PUSH_SSH_PASSPHRASE
  if (last(args, 'ssh-passphrase') === undefined && env) return env
  return undefined
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new UserError(`cannot read ${what} '${file}': ${errorMessage(err)}`)
  }
}

/**
 * The action's outputs, every one runDeploy returns, in its order: `name=value` lines (objects as one
 * JSON line), or one JSON object. `release-path` and `plan` come beside the figures, as in the action.
 */
export function printOutputs(io: CliIo, run: DeployRun, json: boolean): void {
  const extra = run as { releasePath?: string; plan?: string }
  const all: Record<string, unknown> = { ...run.outputs }
  if ('releasePath' in extra) all['release-path'] = extra.releasePath ?? ''
  if (extra.plan !== undefined) all.plan = json ? JSON.parse(extra.plan) : extra.plan
  if (json) {
    io.out(JSON.stringify({ ...all, ...(run.error ? { error: run.error } : {}) }))
    return
  }
  for (const [name, v] of Object.entries(all)) {
    if (v === undefined) continue
    // A multi-line value (command-output) as a JSON string, so each output stays one line.
    const asJson = typeof v === 'object' || (typeof v === 'string' && v.includes('\n'))
    io.out(`${name}=${asJson ? JSON.stringify(v) : String(v)}`)
  }
}
