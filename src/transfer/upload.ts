import { readFileSync } from 'node:fs'
import { open as openLocal } from 'node:fs/promises'
import path from 'node:path'
import { UserError } from '../errors.js'
import { sha256File } from '../files/hash.js'
import { sha256Hex } from '../util/sha256.js'
import type { PlannedFile } from '../files/plan.js'
import type { SshConnection } from '../ssh/connection.js'
import { remoteFilePath, tempPathFor } from './remote-path.js'
import { Sftp, SFTP_STATUS, SftpStatusError } from './sftp.js'
import {
  probeVerifyMethod,
  readBackSha256,
  remoteSha256,
  streamRemoteSha256,
  type StreamingSha256,
  type VerifyMethod
} from './verify.js'

/**
 * Bytes per SFTP write request and requests in flight per file: 32 x 64 KiB = 2 MiB, OpenSSH's own
 * channel window. Measured (128 MiB, nlb, loopback): 16 in flight 29 MiB/s, 32 in flight 43 MiB/s,
 * 64 x 32 KiB 39 MiB/s, 8 x 256 KiB 34 MiB/s, on a loaded 2-core machine.
 */
const WRITE_CHUNK = 64 * 1024
const WRITES_IN_FLIGHT = 32
const READ_BLOCK = 16 * WRITE_CHUNK
/** Files from this size on are hashed on the instance while they are written (see streamRemoteSha256). */
const STREAM_VERIFY_BYTES = 8 * 1024 * 1024
/**
 * Each streamed verification holds an exec session open; sshd allows 10 per connection by default
 * (MaxSessions), shared with SFTP, the batch sha256sum and commands. Larger files beyond this many
 * at once are verified in the batch instead.
 */
const MAX_STREAMED_VERIFICATIONS = 4
/** Files verified together by one `sha256sum` exec; large files flush the batch sooner. */
const VERIFY_BATCH_FILES = 256
const VERIFY_BATCH_BYTES = 64 * 1024 * 1024
/**
 * Files up to this size are read whole with one synchronous read (a few microseconds from the page
 * cache, against four thread-pool round trips for open/read/close) and hashed from the same bytes.
 */
const SMALL_FILE_BYTES = WRITE_CHUNK

function changedSize(file: PlannedFile): UserError {
  return new UserError(`Local file '${file.localPath}' changed size during the upload.`)
}

function readSmallFile(file: PlannedFile): Buffer {
  const data = readFileSync(file.localPath)
  if (data.length !== file.size) throw changedSize(file)
  return data
}

export interface UploadOptions {
  remoteRoot: string
  concurrency: number
  verify: 'sha256' | 'none'
  /** Called after a file is published at its final path (verified when verify is on). */
  onFileDone: (file: PlannedFile) => void
  onBytes?: (n: number) => void
}

/** A file that failed on a live connection (the connection itself is fine). */
export class FileError extends Error {
  constructor(
    readonly file: PlannedFile,
    message: string,
    readonly permanent: boolean
  ) {
    super(message)
  }
}

interface Staged {
  file: PlannedFile
  temp: string
  final: string
  sha256: string
  /** Hashed on the instance while it was written (large files), so no batch needs it again. */
  remoteSha256?: string
}

/**
 * Uploads over one SSH connection: each file goes to a temporary name beside its destination,
 * is verified there (sha256 on the instance, or read back), and only then renamed over the final
 * name, so a final path never holds a partial or unverified file.
 */
export class UploadSession {
  private sftp!: Sftp
  private verifyMethod: VerifyMethod | 'none' = 'none'
  /** Temporary files this session created and has not yet renamed or removed. */
  readonly openTemps = new Set<string>()
  private streamsOpen = 0
  /** Per file mode: does the server keep it exactly when the file is created with it (its umask)? */
  private readonly modeKeptAtOpen = new Map<number, boolean>()

  constructor(
    private readonly conn: SshConnection,
    private readonly opts: UploadOptions
  ) {}

  async start(): Promise<VerifyMethod | 'none'> {
    // The probe runs on its own channel while the SFTP one opens: two round trips saved.
    const probe =
      this.opts.verify === 'none' ? Promise.resolve('none' as const) : probeVerifyMethod(this.conn)
    const raw = await this.conn.sftp().catch(async err => {
      await probe.catch(() => {})
      throw err
    })
    this.sftp = new Sftp(raw, op => this.conn.guard(op))
    this.verifyMethod = await probe
    return this.verifyMethod
  }

  /**
   * Remove temporary files an earlier, dropped connection left behind. Each one removed (or already
   * gone) leaves the set; the rest stay for the next connection.
   */
  async removeTemps(temps: Set<string>): Promise<void> {
    await Promise.all(
      [...temps].map(t =>
        this.sftp.unlink(t).then(
          () => temps.delete(t),
          (err: SftpStatusError) => void (err.code === SFTP_STATUS.NO_SUCH_FILE && temps.delete(t))
        )
      )
    )
  }

  /**
   * Upload the files; resolves with the ones that failed on this (still live) connection.
   * A dropped connection rejects instead, and the caller reconnects for the rest.
   */
  async uploadAll(files: PlannedFile[]): Promise<FileError[]> {
    const failed: FileError[] = []
    let batch: Staged[] = []
    let batchBytes = 0
    let flushing: Promise<void> = Promise.resolve()
    const flush = () => {
      const staged = batch
      batch = []
      batchBytes = 0
      flushing = flushing.then(() => this.publish(staged, failed))
      return flushing
    }

    let next = 0
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++]
        try {
          const staged = await this.stage(file)
          batch.push(staged)
          batchBytes += file.size
          if (batch.length >= VERIFY_BATCH_FILES || batchBytes >= VERIFY_BATCH_BYTES) await flush()
        } catch (err) {
          failed.push(this.asFileError(file, err))
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, files.length) }, worker))
    await flush()
    return failed
  }

  private asFileError(file: PlannedFile, err: unknown): FileError {
    if (err instanceof FileError) return err
    if (this.conn.isClosed) throw err // the connection dropped: let the caller reconnect
    const e = err as SftpStatusError
    const permanent = e.code === SFTP_STATUS.PERMISSION_DENIED || err instanceof UserError
    return new FileError(file, `${file.relativePath}: ${e.message}`, permanent)
  }

  /** Remove a temporary file; it stays on the list for the next connection unless the removal is confirmed. */
  private async dropTemp(temp: string): Promise<void> {
    await this.sftp.unlink(temp).then(
      () => this.openTemps.delete(temp),
      () => {}
    )
  }

  /** Write one file to its temporary name (pipelined writes). */
  private async stage(file: PlannedFile): Promise<Staged> {
    const final = remoteFilePath(this.opts.remoteRoot, file.relativePath)
    const temp = tempPathFor(final)
    await this.sftp.mkdirp(path.posix.dirname(final))
    const verify = this.opts.verify !== 'none'
    let handle: Buffer | undefined
    let digest: Promise<string> = Promise.resolve('')
    let streaming: StreamingSha256 | undefined
    let remoteSha256: string | undefined
    try {
      if (file.size <= SMALL_FILE_BYTES) {
        // Small files: one read, hashed from the same bytes, and every request after the open sent at once.
        const data = readSmallFile(file)
        if (verify) digest = Promise.resolve(sha256Hex(data))
        // Recorded before the open: when the connection drops, the server may have created the file even
        // though its answer never arrived, and the next connection must remove it.
        this.openTemps.add(temp)
        handle = await this.sftp.open(temp, 'w', file.mode & 0o777)
        const sent = data.length > 0 ? this.sftp.write(handle, data, data.length, 0) : Promise.resolve()
        sent.catch(() => {})
        await this.setMode(handle, file.mode & 0o777)
        await sent
        this.opts.onBytes?.(data.length)
      } else {
        // Hashed on the worker thread while this thread uploads; not at all when nothing is verified.
        if (verify) digest = sha256File(file.localPath)
        digest.catch(() => {})
        this.openTemps.add(temp)
        handle = await this.sftp.open(temp, 'w', file.mode & 0o777)
        if (
          this.verifyMethod === 'sha256sum' &&
          file.size >= STREAM_VERIFY_BYTES &&
          this.streamsOpen < MAX_STREAMED_VERIFICATIONS
        ) {
          streaming = streamRemoteSha256(this.conn, temp)
          this.streamsOpen++
        }
        await this.writeLarge(file, handle, bytes => streaming?.advance(bytes))
        await this.setMode(handle, file.mode & 0o777)
        remoteSha256 = await streaming?.finish(file.size)
      }
      const closing = this.sftp.closeHandle(handle)
      handle = undefined
      await closing
    } catch (err) {
      streaming?.cancel()
      if (handle) await this.sftp.closeHandle(handle).catch(() => {})
      // On a live connection, remove the partial temporary now; after a drop, the next connection does.
      if (!this.conn.isClosed) await this.dropTemp(temp)
      throw err
    } finally {
      if (streaming) this.streamsOpen--
    }
    const sha256 = await digest
    // A streamed digest only ever confirms; anything else is left to the batch's own sha256sum.
    return { file, temp, final, sha256, remoteSha256: remoteSha256 === sha256 ? remoteSha256 : undefined }
  }

  /**
   * Stream a large file: WRITES_IN_FLIGHT requests of WRITE_CHUNK bytes outstanding at any time,
   * read from disk READ_BLOCK bytes at a time (fewer reads and allocations; the writes take slices).
   */
  private async writeLarge(
    file: PlannedFile,
    handle: Buffer,
    onWritten: (prefix: number) => void
  ): Promise<void> {
    const local = await openLocal(file.localPath, 'r')
    const inflight = new Set<Promise<void>>()
    // Acknowledged writes, to report the length of the prefix written without a gap.
    const done = new Set<number>()
    let prefix = 0
    const acked = (pos: number) => {
      done.add(pos)
      if (pos !== prefix) return
      while (done.delete(prefix)) prefix += Math.min(WRITE_CHUNK, file.size - prefix)
      onWritten(prefix)
    }
    try {
      let pos = 0
      while (pos < file.size) {
        const blockLen = Math.min(READ_BLOCK, file.size - pos)
        const block = Buffer.allocUnsafe(blockLen)
        const { bytesRead } = await local.read(block, 0, blockLen, pos)
        if (bytesRead !== blockLen) throw changedSize(file)
        for (let off = 0; off < blockLen; off += WRITE_CHUNK) {
          const len = Math.min(WRITE_CHUNK, blockLen - off)
          const at = pos + off
          const w: Promise<void> = this.sftp
            .write(handle, block.subarray(off, off + len), len, at)
            .then(() => {
              inflight.delete(w)
              acked(at)
              this.opts.onBytes?.(len)
            })
          w.catch(() => {})
          inflight.add(w)
          if (inflight.size >= WRITES_IN_FLIGHT) await Promise.race(inflight)
        }
        pos += blockLen
      }
      await Promise.all(inflight)
    } finally {
      await local.close()
    }
  }

  /**
   * Give the temporary file its exact mode. The mode is asked for at the open already, but the
   * server's umask applies there; the first file of each mode on a connection checks what the
   * server made of it (fstat) and later ones skip the extra request when the umask left it alone.
   * (setuid/setgid/sticky are dropped on purpose.)
   */
  private async setMode(handle: Buffer, mode: number): Promise<void> {
    let exact = this.modeKeptAtOpen.get(mode)
    if (exact === undefined) {
      exact = ((await this.sftp.fstat(handle)).mode & 0o777) === mode
      this.modeKeptAtOpen.set(mode, exact)
    }
    if (!exact) await this.sftp.fchmod(handle, mode)
  }

  /** Verify a batch of staged files, rename the good ones into place, drop and report the rest. */
  private async publish(staged: Staged[], failed: FileError[]): Promise<void> {
    if (staged.length === 0) return
    let remote: Map<string, string> | undefined
    const unhashed = staged.filter(s => s.remoteSha256 === undefined)
    if (this.verifyMethod === 'sha256sum' && unhashed.length)
      remote = await remoteSha256(
        this.conn,
        unhashed.map(s => s.temp)
      )
    await Promise.all(
      staged.map(async s => {
        try {
          if (this.verifyMethod !== 'none') {
            const digest =
              s.remoteSha256 ??
              (remote ? remote.get(s.temp) : await readBackSha256(this.sftp, s.temp, s.file.size))
            if (digest !== s.sha256) {
              await this.dropTemp(s.temp)
              throw new FileError(
                s.file,
                `${s.file.relativePath}: sha256 on the instance does not match (got ${digest ?? 'nothing'})`,
                false
              )
            }
          }
          await this.sftp.renameOver(s.temp, s.final)
          this.openTemps.delete(s.temp)
          this.opts.onFileDone(s.file)
        } catch (err) {
          failed.push(this.asFileError(s.file, err))
        }
      })
    )
  }

  end(): void {
    this.sftp?.end()
  }
}
