import { checkPrivateKey, SshLogin } from './ssh/connection.js'
import type { DeployConfig } from './config.js'
import { deployToTarget, TargetResult } from './deploy.js'
import { errorMessage, UserError } from './errors.js'
import { planFiles } from './files/plan.js'
import type { Logger } from './log.js'
import { summarise, type DeployOutputs } from './report/results.js'
import { keysFromKnownHosts, targetNames, type HostKeyPolicy } from './ssh/host-key.js'
import { resolveTargets, needsAws, type ResolvedTarget } from './tunnel/index.js'
import { resolveAwsContext, type AwsContext, type ResolveAwsOptions } from './aws/credentials.js'
import { createKeySource } from './aws/instance-key.js'

export interface DeployRun {
  outputs: DeployOutputs
  error?: string
}

/**
 * The whole deploy, shared by the action and the CLI: validate secrets, plan the files, resolve the
 * targets, upload to each, and add up the figures. Never throws: a failure comes back as `error`
 * (one line) next to whatever results there are.
 */
export async function runDeploy(
  config: DeployConfig,
  logger: Logger,
  opts: { cwd?: string; aws?: ResolveAwsOptions } = {}
): Promise<DeployRun> {
  const started = Date.now()
  const results: TargetResult[] = []
  let filesTotal = 0
  let mode: string = config.mode
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), config.timeoutSeconds * 1000)
  try {
    if (config.sshPrivateKey) logger.setSecret(config.sshPrivateKey.trim())
    if (config.sshPassphrase) logger.setSecret(config.sshPassphrase)
    if (config.sshPrivateKey) checkPrivateKey(config.sshPrivateKey, config.sshPassphrase)
    else if (!needsAws(config)) {
      throw new UserError(
        "mode 'nlb' to a host name needs 'ssh-private-key': one-time keys are pushed with EC2 Instance Connect, which needs an instance id target."
      )
    }
    let awsContext: Promise<AwsContext> | undefined
    const aws = () =>
      (awsContext ??= logger.group('AWS credentials', () => resolveAwsContext(config.aws, logger, opts.aws)))

    const plan = await logger.group('Files', async () => {
      const p = await planFiles({
        patterns: config.files,
        baseDir: config.baseDir,
        includeHiddenFiles: config.includeHiddenFiles,
        ifNoFilesFound: config.ifNoFilesFound,
        logger,
        cwd: opts.cwd
      })
      logger.info(`${p.files.length} files, ${p.totalBytes} bytes, from ${p.root} to ${config.remotePath}`)
      for (const f of p.files)
        logger.debug(`${f.localPath} -> ${config.remotePath}/${f.relativePath} (${f.size} bytes)`)
      return p
    })
    filesTotal = plan.files.length
    if (plan.files.length === 0) return { outputs: summarise(results, Date.now() - started, 0, mode) }

    const targets = await resolveTargets(config, { logger, aws })
    mode = [...new Set(targets.map(t => t.mode))].join(',')
    const keys = createKeySource({
      providedKey: config.sshPrivateKey,
      passphrase: config.sshPassphrase,
      user: config.user,
      aws: config.sshPrivateKey ? { region: '' } : await aws(),
      logger
    })
    if (keys.oneTime) {
      logger.info(
        `Using a one-time ed25519 key (${keys.fingerprint}), pushed with EC2 Instance Connect before each connection.`
      )
    }
    const login: SshLogin = { user: config.user, privateKey: keys.privateKey, passphrase: keys.passphrase }
    for (const target of targets) {
      const hostKey = hostKeyPolicy(config, target, logger)
      const beforeConnect = keys.oneTime
        ? (signal?: AbortSignal) => keys.beforeConnect(target.instanceId, target.availabilityZone, signal)
        : undefined
      const res = await logger
        .group(`Upload to ${target.label} (${target.mode}: ${target.tunnel.description})`, async () => {
          try {
            return await deployToTarget({
              target,
              plan,
              config,
              login,
              hostKey,
              logger,
              beforeConnect,
              signal: controller.signal
            })
          } finally {
            await target.tunnel.close()
          }
        })
        .catch(err => {
          results.push(failedResult(target, plan.files.length, err))
          throw err
        })
      results.push(res)
      logger.info(
        `${target.label}: ${res.filesUploaded} files, ${res.bytesTransferred} bytes in ${(res.durationMs / 1000).toFixed(1)} s, verified: ${res.verification}`
      )
    }
    return { outputs: summarise(results, Date.now() - started, filesTotal, mode) }
  } catch (err) {
    let message = errorMessage(err)
    if (controller.signal.aborted) {
      message = `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s); raise 'timeout-seconds' or deploy fewer files.`
    }
    if (!(err instanceof UserError)) logger.debug(err instanceof Error ? (err.stack ?? message) : message)
    return { outputs: summarise(results, Date.now() - started, filesTotal, mode), error: message }
  } finally {
    clearTimeout(timer)
  }
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
