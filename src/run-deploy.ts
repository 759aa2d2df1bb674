import { checkPrivateKey, SshLogin } from './ssh/connection.js'
import type { DeployConfig } from './config.js'
import {
  connectionLimit,
  deployChannels,
  extraLink,
  targetConnection,
  worthSecondConnection
} from './deploy/context.js'
import { deployToTarget } from './deploy/deploy-target.js'
import { logTargetPlan, planOutput, planTarget, type DeployPlan, type TargetPlan } from './deploy/plan.js'
import type { CleanupNote, TargetResult } from './deploy/types.js'
import { errorMessage, UserError } from './errors.js'
import { planFiles, type FilePlan } from './files/plan.js'
import { runPool } from './fleet/pool.js'
import { releaseDir } from './remote/names.js'
import { hashLocalFiles } from './sync/local-hash.js'
import { manifestKey } from './sync/manifest.js'
import type { Logger } from './log.js'
import { summarise, type DeployOutputs } from './report/results.js'
import type { TargetConnection } from './deploy/connection.js'
import { keysFromKnownHosts, targetNames, type HostKeyPolicy } from './ssh/host-key.js'
import { resolveTargets, type ResolvedTarget } from './tunnel/index.js'
import type { AwsContext, ResolveAwsOptions } from './aws/credentials.js'
import type { KeySource } from './aws/instance-key.js'

export interface DeployRun {
  outputs: DeployOutputs
  /** The release folder (release: atomic), else remote-path. */
  releasePath?: string
  /** dry-run: the plan as JSON. */
  plan?: string
  error?: string
}

/**
 * The whole deploy, shared by the action and the CLI: validate secrets, plan the files, resolve the
 * targets, deploy to them (up to max-parallel-targets at once; fail-fast stops the others on the
 * first failure), and add up the figures. Never throws: a failure comes back as `error` (one line)
 * next to whatever results there are.
 */
export async function runDeploy(
  config: DeployConfig,
  logger: Logger,
  opts: {
    cwd?: string
    aws?: ResolveAwsOptions
    backoffBaseMs?: number
    pollMs?: number
    /** delivery: s3 — how long an agent may not take the command before it counts as offline. */
    offlineAfterMs?: number
    /** delivery: s3 — how long cancelled invocations get to end before they count as not confirmed. */
    confirmCancelMs?: number
    /** Aborted on SIGINT/SIGTERM: new work stops, each target undoes what it did. */
    cancel?: AbortSignal
    /** Told when a target's lock is taken or released (the action saves it for its post step). */
    onLock?: (note: CleanupNote, held: boolean) => void
  } = {}
): Promise<DeployRun> {
  if (config.delivery === 's3' && config.s3) {
    // Loaded on demand: push never pays for the S3 client.
    const { runS3Delivery } = await import('./delivery/s3/deploy.js')
    return runS3Delivery(config, config.s3, logger, opts)
  }
  const started = Date.now()
  let results: TargetResult[] = []
  let filesTotal = 0
  let mode: string = config.mode
  const releasePath =
    config.release === 'atomic' && !config.rollback
      ? releaseDir(config.remotePath, config.releaseId)
      : config.remotePath
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), config.timeoutSeconds * 1000)
  const cancel = opts.cancel ?? new AbortController().signal
  let targets: ResolvedTarget[] = []
  /** Connections opened before the files are matched (the first targets to deploy). */
  const early = new Map<ResolvedTarget, TargetConnection>()
  /** Second connections opened as soon as the files found say the upload will use one. */
  const earlyExtra = new Map<ResolvedTarget, TargetConnection>()
  const stopEarly = new AbortController()
  try {
    if (config.sshPrivateKey) logger.setSecret(config.sshPrivateKey.trim())
    if (config.sshPassphrase) logger.setSecret(config.sshPassphrase)
    if (config.sshPrivateKey) checkPrivateKey(config.sshPrivateKey, config.sshPassphrase)
    else {
      const hostOnly = config.targets.find(t => t.kind === 'host' && !t.instanceId)
      if (hostOnly) {
        throw new UserError(
          `Target '${hostOnly.label}' needs 'ssh-private-key', or the instance behind it named as 'i-...@${hostOnly.label}' so a one-time key can be pushed with EC2 Instance Connect.`
        )
      }
    }
    // Targets first: their connections open while the files are matched (connecting costs round
    // trips, a quarter of a second or more over ssm or eice).
    const access = await targetAccess(config, logger, opts)
    targets = access.targets
    mode = [...new Set(targets.map(t => t.mode))].join(',')
    const { connectionOptions } = access
    const key = manifestKey(config.sshPrivateKey)
    if (!config.dryRun) {
      for (const target of targets.slice(0, config.maxParallelTargets)) {
        try {
          const link = targetConnection(connectionOptions(target), deployChannels(config))
          link.prewarm(AbortSignal.any([stopEarly.signal, controller.signal, cancel]))
          early.set(target, link)
        } catch {
          // A target whose host key cannot be checked: its deploy reports it.
        }
      }
    }

    // A full upload of two files or more uses a second connection: it opens as soon as the walk
    // finds them, not once every file is planned (a sync decides later, on what changed).
    let found = 0
    let decided = !!config.sync
    const onFile = (size: number) => {
      if (decided || !worthSecondConnection(++found, size)) return
      decided = true
      for (const target of early.keys()) {
        if (connectionLimit(config, target.mode) < 2) continue
        const extra = extraLink(connectionOptions(target))
        extra.prewarm(AbortSignal.any([stopEarly.signal, controller.signal, cancel]))
        earlyExtra.set(target, extra)
      }
    }
    const plan: FilePlan = config.rollback
      ? { root: '', files: [], totalBytes: 0 }
      : await logger.group('Files', async () => {
          const p = await planFiles({
            patterns: config.files,
            baseDir: config.baseDir,
            includeHiddenFiles: config.includeHiddenFiles,
            ifNoFilesFound: config.ifNoFilesFound,
            logger,
            cwd: opts.cwd,
            onFile
          })
          logger.info(`${p.files.length} files, ${p.totalBytes} bytes, from ${p.root} to ${releasePath}`)
          for (const f of p.files)
            logger.debug(`${f.localPath} -> ${releasePath}/${f.relativePath} (${f.size} bytes)`)
          return p
        })
    filesTotal = plan.files.length
    if (plan.files.length === 0 && !config.rollback)
      return { outputs: summarise(results, Date.now() - started, 0, mode), releasePath }

    // Local hashing (sync) overlaps the first steps on the instance (lock, listing).
    const localDigests = config.sync ? hashLocalFiles(plan.files) : undefined
    localDigests?.catch(() => {})
    const perTarget = (target: ResolvedTarget) => ({
      ...connectionOptions(target),
      plan,
      localDigests,
      manifestKey: key
    })

    if (config.dryRun) {
      const planned = await logger.group('Dry run: the plan (nothing is written)', async () => {
        const out: TargetPlan[] = []
        for (const target of targets) {
          try {
            const p = await planTarget(perTarget(target))
            logTargetPlan(p, logger)
            out.push(p)
          } finally {
            await target.tunnel.close()
          }
        }
        return out
      })
      const deployPlan: DeployPlan = { dryRun: true, release: config.release, releasePath, targets: planned }
      return {
        outputs: summarise(results, Date.now() - started, filesTotal, mode),
        releasePath,
        plan: planOutput(deployPlan)
      }
    }

    const parallel = config.maxParallelTargets > 1 && targets.length > 1
    const stop = new AbortController()
    const slots: (TargetResult | undefined)[] = new Array(targets.length)
    let firstFailure: string | undefined
    await runPool(
      targets,
      config.maxParallelTargets,
      async (target, i) => {
        const signal = AbortSignal.any([controller.signal, stop.signal, cancel])
        try {
          const res = await deployToTarget({
            ...perTarget(target),
            link: early.get(target),
            extraLink: earlyExtra.get(target),
            signal,
            parallel,
            backoffBaseMs: opts.backoffBaseMs,
            onLock: opts.onLock
          })
          slots[i] = res
          logger.info(
            `${target.label}: ${res.filesUploaded} files, ${res.bytesTransferred} bytes in ${(res.durationMs / 1000).toFixed(1)} s${res.filesSkipped ? `, ${res.filesSkipped} unchanged` : ''}, verified: ${res.verification}`
          )
        } catch (err) {
          const res =
            (err as { result?: TargetResult }).result ?? failedResult(target, plan.files.length, err)
          if (
            (stop.signal.aborted || cancel.aborted) &&
            !controller.signal.aborted &&
            res.status !== 'success'
          )
            res.status = 'cancelled'
          else res.status = 'failure'
          slots[i] = res
          if (res.status === 'failure') {
            // The step's error says it (one annotation per failure); with several targets the log names each.
            if (targets.length > 1) logger.info(`${target.label}: failed: ${errorMessage(err)}`)
            if (!(err instanceof UserError))
              logger.debug(err instanceof Error ? (err.stack ?? '') : String(err))
            if (firstFailure === undefined) firstFailure = target.label
            if (config.failFast && !stop.signal.aborted) stop.abort()
          }
        } finally {
          await target.tunnel.close()
        }
      },
      {
        stop: AbortSignal.any([stop.signal, cancel]),
        skip: (target, i) => {
          slots[i] = {
            ...failedResult(
              target,
              plan.files.length,
              `not started: fail-fast stopped the deploy after ${firstFailure} failed`
            ),
            status: 'skipped'
          }
        }
      }
    )
    results = slots.filter((r): r is TargetResult => !!r)
    if (controller.signal.aborted) throw new Error('timeout')
    if (cancel.aborted)
      return {
        outputs: summarise(results, Date.now() - started, filesTotal, mode),
        releasePath,
        error: cancelledError(results)
      }
    const failed = results.filter(r => r.status !== 'success')
    const outputs = summarise(results, Date.now() - started, filesTotal, mode)
    // After a rollback the path is the release current went back to.
    const finalPath = results.find(r => r.status === 'success' && r.releasePath)?.releasePath ?? releasePath
    if (failed.length === 0) return { outputs, releasePath: finalPath }
    return { outputs, releasePath: finalPath, error: fleetError(results, config.failFast) }
  } catch (err) {
    let message = errorMessage(err)
    if (controller.signal.aborted) {
      message = `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s); raise 'timeout-seconds' or deploy fewer files.`
    }
    if (!(err instanceof UserError)) logger.debug(err instanceof Error ? (err.stack ?? message) : message)
    return {
      outputs: summarise(results, Date.now() - started, filesTotal, mode),
      releasePath,
      error: message
    }
  } finally {
    clearTimeout(timer)
    // Early connections nobody used (no files, a failure first, fail-fast): end them, and end the
    // tunnels (an ssm session is terminated) whether or not a deploy ran on them.
    stopEarly.abort()
    const opened = [...early.values(), ...earlyExtra.values()]
    await Promise.all(opened.map(link => link.settle()))
    for (const link of opened) link.drop()
    await Promise.all(targets.map(t => t.tunnel.close().catch(() => {})))
  }
}

/**
 * How to reach each target: the targets resolved, and per target the login, the host key policy and
 * the one-time key push (shared by the deploy and the action's post step).
 */
export async function targetAccess(
  config: DeployConfig,
  logger: Logger,
  opts: { aws?: ResolveAwsOptions; backoffBaseMs?: number } = {}
) {
  let awsContext: Promise<AwsContext> | undefined
  const aws = () =>
    (awsContext ??= logger.group('AWS credentials', async () => {
      // Loaded on demand: nlb with a provided key never pays for the AWS SDK.
      const { resolveAwsContext } = await import('./aws/credentials.js')
      return resolveAwsContext(config.aws, logger, opts.aws)
    }))

  const targets = await resolveTargets(config, { logger, aws })
  const keys: KeySource = config.sshPrivateKey
    ? {
        privateKey: config.sshPrivateKey,
        passphrase: config.sshPassphrase,
        oneTime: false,
        beforeConnect: async () => {}
      }
    : (await import('./aws/instance-key.js')).createKeySource({
        user: config.user,
        aws: await aws(),
        logger
      })
  if (keys.oneTime) {
    logger.info(
      `Using a one-time ed25519 key (${keys.fingerprint}), pushed with EC2 Instance Connect before each connection.`
    )
  }
  const login: SshLogin = { user: config.user, privateKey: keys.privateKey, passphrase: keys.passphrase }
  // Worked out once per target: the policy may warn (unpinned host key) or refuse (known-hosts).
  const hostKeys = new Map<ResolvedTarget, HostKeyPolicy | Error>()
  const hostKeyOf = (target: ResolvedTarget): HostKeyPolicy => {
    if (!hostKeys.has(target)) {
      try {
        hostKeys.set(target, hostKeyPolicy(config, target, logger))
      } catch (err) {
        hostKeys.set(target, err as Error)
      }
    }
    const policy = hostKeys.get(target)!
    if (policy instanceof Error) throw policy
    return policy
  }
  const connectionOptions = (target: ResolvedTarget) => ({
    target,
    config,
    login,
    hostKey: hostKeyOf(target),
    logger,
    beforeConnect: keys.oneTime
      ? (signal?: AbortSignal) => keys.beforeConnect(target.instanceId, target.availabilityZone, signal)
      : undefined,
    loginRefused: keys.loginRefused?.(target.instanceId),
    backoffBaseMs: opts.backoffBaseMs
  })
  return { targets, connectionOptions }
}

/** One line after a cancellation: what each target was left as. */
function cancelledError(results: TargetResult[]): string {
  const said = results
    .filter(r => r.status !== 'success' && r.error)
    .map(r => (results.length > 1 ? `${r.target}: ${r.error}` : r.error))
  return `The deploy was cancelled${said.length ? `: ${said.join(' | ')}` : '.'}`
}

/** One line for the step: the single target's error, or how many failed and why. */
export function fleetError(results: TargetResult[], failFast: boolean): string {
  const failures = results.filter(r => r.status === 'failure')
  if (results.length === 1) return results[0].error ?? 'the deploy failed'
  const stopped = results.filter(r => r.status === 'cancelled' || r.status === 'skipped').length
  const first = failures
    .slice(0, 3)
    .map(r => `${r.target}: ${r.error ?? 'failed'}`)
    .join(' | ')
  return `${failures.length} of ${results.length} targets failed${failFast && stopped ? ` (fail-fast stopped ${stopped} others)` : ''}: ${first}`
}

function failedResult(target: ResolvedTarget, filesTotal: number, err: unknown): TargetResult {
  return {
    target: target.label,
    mode: target.mode,
    status: 'failure',
    filesUploaded: 0,
    filesSkipped: 0,
    filesTotal,
    bytesTransferred: 0,
    durationMs: 0,
    verification: 'not reached',
    reconnects: 0,
    error: errorMessage(err)
  }
}

/** A pinned fingerprint or known_hosts lines when given; nlb refuses to go without one unless told. */
export function hostKeyPolicy(config: DeployConfig, target: ResolvedTarget, logger: Logger): HostKeyPolicy {
  if (config.hostKeyFingerprint) return { kind: 'fingerprint', fingerprint: config.hostKeyFingerprint }
  if (config.knownHosts) {
    const names = targetNames(target.host ?? target.label, target.port ?? 22, target.aliases ?? [])
    const keys = keysFromKnownHosts(config.knownHosts, names)
    if (keys.length === 0) {
      throw new UserError(
        `'known-hosts' has no line for ${names.join(' or ')}: add one (ssh-keyscan output works) or use 'host-key-fingerprint'.`
      )
    }
    return { kind: 'known-hosts', keys, source: "'known-hosts'" }
  }
  if (target.mode !== 'nlb') {
    logger.info(
      `${target.label}: host key not pinned; the ${target.mode} tunnel is authenticated by AWS. Pin it with 'host-key-fingerprint' for defence in depth.`
    )
    return { kind: 'any' }
  }
  if (config.strictHostKey) {
    throw new UserError(
      `mode 'nlb' needs the instance's host key pinned: set 'host-key-fingerprint' (SHA256:..., from 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on the instance) or 'known-hosts', or set strict-host-key: false to connect without checking.`
    )
  }
  if (config.strictHostKey === false)
    logger.warning(
      `${target.label}: the host key is not checked (strict-host-key: false); anyone in the path could impersonate the instance.`
    )
  return { kind: 'any' }
}
