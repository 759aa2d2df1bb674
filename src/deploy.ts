import type { DeployConfig } from './config.js'
import { errorMessage, UserError } from './errors.js'
import type { FilePlan, PlannedFile } from './files/plan.js'
import type { Logger } from './log.js'
import { connectSsh, SshConnection, SshLogin } from './ssh/connection.js'
import type { HostKeyPolicy } from './ssh/host-key.js'
import type { ResolvedTarget } from './tunnel/index.js'
import { FileError, UploadSession } from './transfer/upload.js'
import { backoffDelay, sleep } from './util/retry.js'

export interface TargetResult {
  target: string
  mode: string
  status: 'success' | 'failure'
  filesUploaded: number
  filesSkipped: number
  filesTotal: number
  bytesTransferred: number
  durationMs: number
  verification: string
  reconnects: number
  error?: string
}

export interface TargetDeployOptions {
  target: ResolvedTarget
  plan: FilePlan
  config: DeployConfig
  login: SshLogin
  hostKey: HostKeyPolicy
  logger: Logger
  signal?: AbortSignal
  /** Runs after the tunnel opens and right before each SSH login (pushes a one-time key). */
  beforeConnect?: (signal?: AbortSignal) => Promise<void>
  /** Test hook: scale backoff delays (1 = real). */
  backoffBaseMs?: number
}

const PROGRESS_EVERY_MS = 10000

/**
 * Deploy the plan to one target. Files are uploaded over one SSH connection; when the connection
 * drops, it is reopened (with backoff) and the upload carries on with the files not yet published.
 * A file that fails on a live connection is retried up to `retries` times.
 */
export async function deployToTarget(opts: TargetDeployOptions): Promise<TargetResult> {
  const { target, plan, config, logger } = opts
  const started = Date.now()
  const result: TargetResult = {
    target: target.label,
    mode: target.mode,
    status: 'failure',
    filesUploaded: 0,
    filesSkipped: 0,
    filesTotal: plan.files.length,
    bytesTransferred: 0,
    durationMs: 0,
    verification: config.verify === 'none' ? 'none' : 'pending',
    reconnects: 0
  }
  let pending: PlannedFile[] = [...plan.files]
  const done = new Set<PlannedFile>()
  const fileAttempts = new Map<PlannedFile, number>()
  const leftoverTemps = new Set<string>()
  const baseDelay = opts.backoffBaseMs ?? 1000
  let consecutiveConnectFailures = 0
  let bytesSent = 0
  let lastProgress = Date.now()
  const progress = () => {
    if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return
    lastProgress = Date.now()
    const secs = (Date.now() - started) / 1000
    logger.info(
      `${target.label}: ${result.filesUploaded}/${plan.files.length} files, ${mib(result.bytesTransferred)}/${mib(plan.totalBytes)} MiB published (${(bytesSent / 1e6 / secs).toFixed(1)} MB/s)`
    )
  }

  try {
    while (pending.length > 0) {
      opts.signal?.throwIfAborted()
      let conn: SshConnection | undefined
      let session: UploadSession | undefined
      const before = result.filesUploaded
      try {
        const stream = await target.tunnel.open(opts.signal)
        await opts.beforeConnect?.(opts.signal)
        conn = await connectSsh({ label: target.label, stream, login: opts.login, hostKey: opts.hostKey })
        session = new UploadSession(conn, {
          remoteRoot: config.remotePath,
          concurrency: config.concurrency,
          verify: config.verify,
          onFileDone: f => {
            done.add(f)
            result.filesUploaded++
            result.bytesTransferred += f.size
            progress()
          },
          onBytes: n => {
            bytesSent += n
            progress()
          }
        })
        const method = await session.start()
        if (result.verification === 'pending')
          result.verification =
            method === 'sha256sum' ? 'sha256 (sha256sum on the instance)' : 'sha256 (read back over SFTP)'
        if (leftoverTemps.size) {
          await session.removeTemps(leftoverTemps)
          leftoverTemps.clear()
        }
        const failed = await session.uploadAll(pending)
        if (conn.isClosed) throw new Error('the connection closed during the upload')
        consecutiveConnectFailures = 0
        pending = retryableFiles(failed, fileAttempts, config.retries, logger, target.label)
      } catch (err) {
        if (err instanceof UserError) throw err
        if (opts.signal?.aborted) throw new UserError(`Upload to ${target.label} was cancelled.`)
        for (const t of session?.openTemps ?? []) leftoverTemps.add(t)
        pending = pending.filter(f => !done.has(f))
        if (result.filesUploaded > before) consecutiveConnectFailures = 0
        consecutiveConnectFailures++
        if (consecutiveConnectFailures > config.retries) {
          throw new UserError(`${errorMessage(err)} (gave up after ${consecutiveConnectFailures} attempts)`)
        }
        const delay = backoffDelay(consecutiveConnectFailures, baseDelay, 15000)
        result.reconnects++
        logger.warning(
          `${target.label}: ${errorMessage(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${consecutiveConnectFailures + 1} of ${config.retries + 1}), ${pending.length} files left`
        )
        await sleep(delay)
      } finally {
        session?.end()
        conn?.close()
      }
    }
    result.status = 'success'
    if (result.verification === 'pending') result.verification = 'nothing to verify'
  } catch (err) {
    result.error = errorMessage(err)
    throw err
  } finally {
    result.durationMs = Date.now() - started
  }
  return result
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1)
}

function retryableFiles(
  failed: FileError[],
  attempts: Map<PlannedFile, number>,
  retries: number,
  logger: Logger,
  label: string
): PlannedFile[] {
  const again: PlannedFile[] = []
  for (const f of failed) {
    const n = (attempts.get(f.file) ?? 0) + 1
    attempts.set(f.file, n)
    if (f.permanent || n > retries) {
      throw new UserError(
        `Could not upload ${f.message} on ${label}${n > 1 ? ` (after ${n} attempts)` : ''}.`
      )
    }
    logger.warning(`${label}: ${f.message}; retrying (attempt ${n + 1} of ${retries + 1})`)
    again.push(f.file)
  }
  return again
}
