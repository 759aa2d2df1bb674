import type { VerifyMode } from '../config.js'
import { errorMessage, UserError } from '../errors.js'
import type { PlannedFile } from '../files/plan.js'
import type { Logger } from '../log.js'
import { connectionsUsable, isRanged } from '../transfer/ranges.js'
import { uploadStriped } from '../transfer/striped.js'
import type { FolderSurvey } from '../transfer/folders.js'
import { FileError, UploadSession } from '../transfer/upload.js'
import { probeVerifyMethod, shareVerifyMethod } from '../transfer/verify.js'
import { backoffDelay, sleep } from '../util/retry.js'
import type { TargetConnection } from './connection.js'

export interface UploadProgress {
  filesUploaded: number
  bytesTransferred: number
  verification: string
}

export interface UploadFilesOptions {
  link: TargetConnection
  /** More connections to the same target: the files are shared out among all of them. */
  extraLinks?: TargetConnection[]
  files: PlannedFile[]
  remoteRoot: string
  /** Folders under remoteRoot (relative) known to exist. */
  existingDirs?: Iterable<string>
  /** The folders as the lock's exec found them (UploadOptions.survey). */
  survey?: FolderSurvey
  concurrency: number
  verify: VerifyMode
  followRemoteSymlinks?: boolean
  deletesExtras?: boolean
  retries: number
  backoffBaseMs: number
  logger: Logger
  /** Figures updated as files are published. */
  progress: UploadProgress
  signal?: AbortSignal
}

const PROGRESS_EVERY_MS = 10000

/**
 * Upload files into remoteRoot over the target's connection. When the connection drops, it is
 * reopened (with backoff) and the upload carries on with the files not yet published. A file that
 * fails on a live connection is retried up to `retries` times.
 */
export async function uploadFiles(opts: UploadFilesOptions): Promise<void> {
  const all = [opts.link, ...(opts.extraLinks ?? [])]
  const striped = await stripedFiles(opts)
  if (striped.length) {
    await uploadStriped(striped, {
      ...opts,
      links: all.slice(0, Math.max(1, connectionsUsable(striped))),
      onBytes: ticker(opts, striped),
      onFileDone: f => {
        opts.progress.filesUploaded++
        opts.progress.bytesTransferred += f.size
      }
    })
  }
  const files = striped.length ? opts.files.filter(f => !striped.includes(f)) : opts.files
  if (files.length === 0) return
  const links = all.slice(0, Math.max(1, files.length))
  if (links.length === 1) return uploadOver(opts.link, files, opts)
  const shares = shareOut(files, links.length)
  // Each connection retries and resumes its own share; the first failure is the upload's.
  const settled = await Promise.allSettled(shares.map((share, i) => uploadOver(links[i], share, opts)))
  const failed = settled.find(r => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
}

/**
 * The files written in ranges over every connection (transfer/striped.ts): those of a MiB and more,
 * when the instance can hash ranges (an account that cannot exec has its files read back whole instead).
 */
async function stripedFiles(opts: UploadFilesOptions): Promise<PlannedFile[]> {
  const large = opts.files.filter(isRanged)
  if (large.length === 0 || opts.verify === 'none') return large
  const method = await opts.link.step('Connecting', conn => probeVerifyMethod(conn), opts.signal)
  if (method !== 'sha256sum') return []
  if (opts.progress.verification === 'pending') opts.progress.verification = 'sha256 (hashed on the instance)'
  return large
}

/** Progress lines for striped files, as uploadOver writes them for the rest. */
function ticker(opts: UploadFilesOptions, files: PlannedFile[]): (n: number) => void {
  const started = Date.now()
  const total = files.reduce((n, f) => n + f.size, 0)
  let sent = 0
  let last = started
  return n => {
    sent += n
    if (Date.now() - last < PROGRESS_EVERY_MS) return
    last = Date.now()
    const secs = (last - started) / 1000
    opts.logger.info(
      `${opts.link.label}: ${mib(Math.min(sent, total))}/${mib(total)} MiB of ${files.length} large files sent (${(sent / 1e6 / secs).toFixed(1)} MB/s)`
    )
  }
}

/**
 * `count` shares of about equal bytes, each a run of consecutive files (files in one folder mostly
 * stay together, so each connection makes few folders). None is empty while there are files.
 */
export function shareOut<T extends { size: number }>(files: T[], count: number): T[][] {
  const shares: T[][] = Array.from({ length: Math.min(count, files.length) }, () => [])
  if (!shares.length) return []
  // A small file costs about as much as a request's worth of bytes: count each as at least 16 KiB.
  const weight = (f: T) => Math.max(f.size, 16 * 1024)
  let remaining = files.reduce((n, f) => n + weight(f), 0)
  let target = remaining / shares.length
  let taken = 0
  let k = 0
  files.forEach((f, i) => {
    const last = k === shares.length - 1
    // Move on when this share has its part (what is left, over the shares left), or when the rest
    // are just enough for one file each.
    if (!last && shares[k].length > 0) {
      const full = taken + weight(f) / 2 > target
      if (full || files.length - i <= shares.length - 1 - k) {
        remaining -= taken
        k++
        taken = 0
        target = remaining / (shares.length - k)
      }
    }
    shares[k].push(f)
    taken += weight(f)
  })
  return shares
}

async function uploadOver(
  link: TargetConnection,
  files: PlannedFile[],
  opts: UploadFilesOptions
): Promise<void> {
  const { logger, progress } = opts
  const label = link.label
  const started = Date.now()
  const totalBytes = files.reduce((n, f) => n + f.size, 0)
  let pending: PlannedFile[] = [...files]
  const done = new Set<PlannedFile>()
  const fileAttempts = new Map<PlannedFile, number>()
  const leftoverTemps = new Set<string>()
  let consecutiveFailures = 0
  let filesDone = 0
  let bytesDone = 0
  let bytesSent = 0
  let lastProgress = Date.now()
  const tick = () => {
    if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return
    lastProgress = Date.now()
    const secs = (Date.now() - started) / 1000
    logger.info(
      `${label}: ${filesDone}/${files.length} files, ${mib(bytesDone)}/${mib(totalBytes)} MiB published (${(bytesSent / 1e6 / secs).toFixed(1)} MB/s)`
    )
  }

  while (pending.length > 0) {
    if (opts.signal?.aborted) throw new UserError(`Upload to ${label} was cancelled.`)
    let session: UploadSession | undefined
    const before = filesDone
    // A cancellation ends the SFTP channel at once: the requests in flight fail and nothing new starts.
    const stop = () => session?.end()
    opts.signal?.addEventListener('abort', stop, { once: true })
    try {
      const conn = await link.get(opts.signal)
      // Another connection to the same instance: the first one's probe answers for it too.
      const first = opts.link.live
      if (link !== opts.link && first && opts.verify !== 'none') shareVerifyMethod(conn, first)
      session = new UploadSession(conn, {
        remoteRoot: opts.remoteRoot,
        existingDirs: opts.existingDirs,
        survey: opts.survey,
        concurrency: opts.concurrency,
        verify: opts.verify,
        followRemoteSymlinks: opts.followRemoteSymlinks,
        deletesExtras: opts.deletesExtras,
        onFileDone: f => {
          done.add(f)
          filesDone++
          bytesDone += f.size
          progress.filesUploaded++
          progress.bytesTransferred += f.size
          tick()
        },
        onBytes: n => {
          bytesSent += n
          tick()
        }
      })
      const method = await session.start()
      if (progress.verification === 'pending')
        progress.verification =
          method === 'sha256sum' ? 'sha256 (hashed on the instance)' : 'sha256 (read back over SFTP)'
      if (leftoverTemps.size) await session.removeTemps(leftoverTemps)
      const failed = await session.uploadAll(pending)
      if (opts.signal?.aborted) throw new UserError(`Upload to ${label} was cancelled.`)
      if (conn.isClosed) throw new Error('the connection closed during the upload')
      consecutiveFailures = 0
      pending = retryableFiles(failed, fileAttempts, opts.retries, logger, label)
      if (pending.length)
        await sleep(
          backoffDelay(Math.max(...pending.map(f => fileAttempts.get(f)!)), opts.backoffBaseMs, 15000)
        )
    } catch (err) {
      if (err instanceof UserError) throw err
      if (opts.signal?.aborted) throw new UserError(`Upload to ${label} was cancelled.`)
      for (const t of session?.openTemps ?? []) leftoverTemps.add(t)
      pending = pending.filter(f => !done.has(f))
      if (filesDone > before) consecutiveFailures = 0
      consecutiveFailures++
      link.drop()
      if (consecutiveFailures > opts.retries) {
        throw new UserError(`${errorMessage(err)} (gave up after ${consecutiveFailures} attempts)`)
      }
      const delay = backoffDelay(consecutiveFailures, opts.backoffBaseMs, 15000)
      logger.info(
        `${label}: ${errorMessage(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${consecutiveFailures + 1} of ${opts.retries + 1}), ${pending.length} files left`
      )
      await sleep(delay)
    } finally {
      opts.signal?.removeEventListener('abort', stop)
      session?.end()
    }
  }
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
  // A failure no retry can change ends the upload at once, in its own words.
  const permanent = failed.find(f => f.permanent)
  if (permanent) throw new UserError(permanent.message)
  for (const f of failed) {
    const n = (attempts.get(f.file) ?? 0) + 1
    attempts.set(f.file, n)
    if (n > retries) {
      throw new UserError(`Could not upload ${f.message} on ${label} (after ${n} attempts).`)
    }
    logger.debug(`${label}: ${f.message}; retrying (attempt ${n + 1} of ${retries + 1})`)
    again.push(f.file)
  }
  // Each attempt is in the debug log; the log shows one line per round.
  if (again.length)
    logger.info(
      `${label}: ${again.length} files failed (first: ${failed[0].message}); retrying them after a pause`
    )
  return again
}
