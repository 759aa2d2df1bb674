import path from 'node:path'
import { UserError } from '../errors.js'
import { sha256File } from '../files/hash.js'
import { Limit } from '../util/limit.js'
import { sha256Hex } from '../util/sha256.js'
import type { PlannedFile } from '../files/plan.js'
import { isStagePath, tempPathFor } from '../remote/names.js'
import { checkable } from '../remote/verify.js'
import type { SshConnection } from '../ssh/connection.js'
import { shellsOf } from '../ssh/exec.js'
import { explainWriteFailure } from './failures.js'
import { foldersOf, foldersUnder, surveyFolders, surveyFor, type FolderSurvey } from './folders.js'
import { checkRemoteLinks } from './remote-links.js'
import { ExactModes, readSmallFile, SMALL_FILE_BYTES, writeLarge } from './file-writes.js'
import {
  packBatches,
  packMember,
  PACKS_AT_ONCE,
  sendPack,
  packsUsable,
  stagePack,
  type PackMember
} from './pack.js'
import { remoteFilePath } from './remote-path.js'
import { Sftp, SFTP_STATUS, SftpStatusError } from './sftp.js'
import {
  probeVerifyMethod,
  readBackSha256,
  remoteCheck,
  remoteSha256,
  streamRemoteSha256,
  type StreamingSha256,
  type VerifyMethod
} from './verify.js'

/** Files from this size on are hashed on the instance while they are written (see streamRemoteSha256). */
const STREAM_VERIFY_BYTES = 8 * 1024 * 1024
/**
 * Each streamed verification holds an exec session open; sshd allows 10 per connection by default
 * (MaxSessions), shared with SFTP, the batch sha256sum, the shell kept ready (ssh/exec.ts) and
 * commands: at most 8 at once. Larger files beyond this many at once are verified in the batch instead.
 */
const MAX_STREAMED_VERIFICATIONS = 4
/**
 * Large files in flight at once, whatever `concurrency` says: each holds up to 2 MiB of writes in
 * flight, and a few already fill the path; the other workers go on with small files meanwhile.
 */
const MAX_LARGE_IN_FLIGHT = 8
/**
 * Files verified together by one `sha256sum` exec at most (a batch goes sooner when nothing is left
 * in flight to join it); large files fill a batch by their bytes.
 */
const VERIFY_BATCH_FILES = 1024
const VERIFY_BATCH_BYTES = 64 * 1024 * 1024
/**
 * Bytes of small files in flight at once on a connection (each is read whole before it is sent):
 * enough to keep more than sshd's 2 MiB channel window full, at a bounded memory cost.
 */
const SMALL_BYTES_IN_FLIGHT = 16 * 1024 * 1024

export interface UploadOptions {
  remoteRoot: string
  /** Folders under remoteRoot (relative) known to exist: no round trip is spent asking. */
  existingDirs?: Iterable<string>
  /** The folders already surveyed (with the lock, remote/folder-survey.ts): used when it covers the upload's. */
  survey?: FolderSurvey
  concurrency: number
  verify: 'sha256' | 'none'
  /** Write through folder links that lead out of remoteRoot (follow-remote-symlinks); else refuse them. */
  followRemoteSymlinks?: boolean
  /** Files not in the set are deleted afterwards (delete: true): links inside remoteRoot are refused too. */
  deletesExtras?: boolean
  /** Small files go in packs where the instance can take them (default); false: over SFTP only. */
  packs?: boolean
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

/** What the instance said of a batch: the files it compared and found wrong, the digests it listed. */
interface InstanceCheck {
  failed?: Set<string>
  digests?: Map<string, string>
}

/** What a small file's open sent with its handle. */
interface SmallSent {
  opened: boolean
  /** The mode's check (ExactModes.send), or false when none was needed. */
  chmod: Promise<boolean> | false
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
  private readonly large = new Limit(MAX_LARGE_IN_FLIGHT)
  private modes!: ExactModes
  /** The first failure no retry can change. */
  private stopped?: UserError
  /**
   * uploadAll's state (one call per session), kept in fields and stepped by methods rather than
   * closures made anew by each call: each call site then sees one function whatever the session, where
   * V8 dropped and recompiled its optimised code for every new session's closures.
   */
  private queue: PlannedFile[] = []
  private next = 0
  private inFlight = 0
  private smallInFlight = 0
  private smallBytes = 0
  private batch: Staged[] = []
  private batchBytes = 0
  private failed: FileError[] = []
  private publishing: Promise<void>[] = []
  /** A failure that is not a file's own (the connection dropped). */
  private lost?: { err: unknown }
  private running?: { resolve: () => void; reject: (err: unknown) => void }
  /** Aborted by end(): a pack being sent is cut short (the instance removes what it extracted). */
  private readonly ended = new AbortController()

  constructor(
    private readonly conn: SshConnection,
    private readonly opts: UploadOptions
  ) {}

  async start(): Promise<VerifyMethod | 'none'> {
    // The probe runs on a shell while the SFTP channel opens: two round trips saved.
    const probe =
      this.opts.verify === 'none' ? Promise.resolve('none' as const) : probeVerifyMethod(this.conn)
    const raw = await this.conn.sftp().catch(async err => {
      await probe.catch(() => {})
      throw err
    })
    this.sftp = new Sftp(raw, op => this.conn.guard(op))
    this.sftp.assumeDirs(
      [...(this.opts.existingDirs ?? [])].map(d => remoteFilePath(this.opts.remoteRoot, d))
    )
    this.modes = new ExactModes(this.sftp)
    this.verifyMethod = await probe
    return this.verifyMethod
  }

  /**
   * Remove temporary files an earlier, dropped connection left behind. Each one removed (or already
   * gone) leaves the set; the rest stay for the next connection.
   */
  async removeTemps(temps: Set<string>): Promise<void> {
    // Files first: a pack's stage is removed once the files in it are.
    const stages = [...temps].filter(isStagePath)
    await Promise.all([...temps].filter(t => !isStagePath(t)).map(t => this.remove(temps, t, false)))
    await Promise.all(stages.map(t => this.remove(temps, t, true)))
  }

  /** Remove a temporary (a stage: an empty folder) and strike it from `temps` once it is gone. */
  private remove(temps: Set<string>, t: string, stage: boolean): Promise<void> {
    return (stage ? this.sftp.rmdir(t) : this.sftp.unlink(t)).then(
      () => void temps.delete(t),
      (err: SftpStatusError) => void (err.code === SFTP_STATUS.NO_SUCH_FILE && temps.delete(t))
    )
  }

  /**
   * Upload the files; resolves with the ones that failed on this (still live) connection.
   * A dropped connection rejects instead, and the caller reconnects for the rest.
   *
   * What waits for what, so that the round trips do not grow with the number of files: the folders
   * are asked about together (one round trip) and the missing ones made in front of the files; every
   * small file the limits allow is in flight at once (open, then its write and close); a batch is
   * verified as soon as nothing is left in flight to join it, and its renames go out together. Batches
   * are verified side by side, not one after another.
   */
  async uploadAll(files: PlannedFile[]): Promise<FileError[]> {
    await this.prepareFolders(files)
    this.next = this.inFlight = this.smallInFlight = this.smallBytes = this.batchBytes = 0
    this.batch = []
    this.failed = []
    this.publishing = []
    this.lost = undefined
    // Small files go in packs where the instance can take them (transfer/pack.ts), beside the
    // rest; what a pack could not put in place goes over SFTP after it.
    const { packed, rest } = this.packsFor(files)
    const packing = packed.length ? this.sendPacks(packed) : Promise.resolve([])
    // Whatever happens to the SFTP files, the packs' scripts are over before this returns: a
    // cancelled deploy's undo must not run beside a tar still writing.
    const [sent, left] = await Promise.allSettled([this.run(rest), packing])
    if (sent.status === 'rejected') throw sent.reason
    if (left.status === 'rejected') throw left.reason
    if (left.value.length && !this.ended.signal.aborted) await this.run(left.value)
    this.flush()
    await Promise.all(this.publishing)
    return this.failed
  }

  /**
   * Upload `files` over SFTP. Files are started from their predecessors' callbacks (no loop awaiting
   * room): a file takes a place among `concurrency` and, when small, its bytes within the budget
   * (read into memory until written). A failure that is not the file's own (the connection dropped)
   * rejects once no more files are to start, as a Promise.all over the files did.
   */
  private run(files: PlannedFile[]): Promise<void> {
    this.queue = files
    this.next = 0
    return new Promise<void>((resolve, reject) => {
      this.running = { resolve, reject }
      this.pump()
    })
  }

  /** Packs sent at once: one per shell the connection keeps (no pack waits for a shell to open), PACKS_AT_ONCE at most. */
  private packsAtOnce(): number {
    return Math.max(1, Math.min(PACKS_AT_ONCE, shellsOf(this.conn)))
  }

  /** The files that go in packs, in batches, and the rest. */
  private packsFor(files: PlannedFile[]): { packed: PackMember[][]; rest: PlannedFile[] } {
    if (this.opts.packs === false || this.verifyMethod !== 'sha256sum' || !packsUsable(this.conn))
      return { packed: [], rest: files }
    const members: PackMember[] = []
    const rest: PlannedFile[] = []
    for (const f of files) {
      const m = packMember(this.opts.remoteRoot, f)
      if (m) members.push(m)
      else rest.push(f)
    }
    return { packed: packBatches(members, this.packsAtOnce()), rest }
  }

  /**
   * Send the packs, PACKS_AT_ONCE at a time (each holds a shell), right behind the mkdir requests
   * of the folders they go in (the script waits for those: remote/pack.ts); their good files go to
   * be renamed as they are known. Resolves with the files left for SFTP once no pack's script is
   * running (rejects so too, with the first failure).
   */
  private async sendPacks(batches: PackMember[][]): Promise<PlannedFile[]> {
    const left: PlannedFile[] = []
    let next = 0
    const sender = async () => {
      while (next < batches.length) await this.sendBatch(batches[next++], left)
    }
    const senders = Array.from({ length: Math.min(this.packsAtOnce(), batches.length) }, sender)
    const failed = (await Promise.allSettled(senders)).find(r => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    return left
  }

  /** One pack (sendPacks): its files that are not put in place go to `left`. */
  private async sendBatch(batch: PackMember[], left: PlannedFile[]): Promise<void> {
    const { remoteRoot } = this.opts
    if (this.stopped || this.ended.signal.aborted || !packsUsable(this.conn)) {
      left.push(...batch.map(m => m.file))
      return
    }
    const folders = [...new Set(batch.map(m => path.posix.dirname(m.file.relativePath)))].filter(
      d => d !== '.'
    )
    const stages = stagePack(remoteRoot, batch)
    // Recorded before the script runs: a connection that drops leaves them to the next one.
    for (const m of batch) this.openTemps.add(m.temp)
    const out = await sendPack(
      this.conn,
      remoteRoot,
      folders,
      batch,
      stages,
      this.openTemps,
      n => this.opts.onBytes?.(n),
      this.ended.signal
    )
    for (const m of out.published) {
      this.openTemps.delete(m.temp)
      this.opts.onFileDone(m.file)
    }
    const emptied: Promise<void>[] = out.stale.map(m => this.dropTemp(m.temp))
    for (const m of [...out.gone, ...out.published]) this.openTemps.delete(m.temp)
    left.push(...out.rest.map(m => m.file))
    // Ended meanwhile (cancelled): nothing more is renamed; the temporaries stay listed for the clean-up.
    if (this.ended.signal.aborted) left.push(...out.good.map(m => m.file))
    else if (out.good.length) {
      const staged = out.good.map(m => ({
        file: m.file,
        temp: m.temp,
        final: m.final,
        sha256: m.sha256!,
        // Checked on the instance by the pack's own script.
        remoteSha256: m.sha256!
      }))
      const p = this.publish(staged, this.failed)
      p.catch(() => {})
      emptied.push(p)
    }
    // Once what is left in them has gone (renamed or removed), the stages go too; after a cancel
    // or a lost connection they stay listed for the clean-up.
    const removed = Promise.all(emptied).then(() =>
      this.ended.signal.aborted ? undefined : this.removeStages(out.stages)
    )
    removed.catch(() => {})
    this.publishing.push(removed)
  }

  /** Stages emptied of their files: removed (one that is not stays listed for the clean-up). */
  private async removeStages(dirs: string[]): Promise<void> {
    await Promise.all(dirs.map(d => this.remove(this.openTemps, d, true)))
  }

  /** Start files while there is room; settle uploadAll's wait once none is left to start or in flight. */
  private pump(): void {
    const files = this.queue
    while (this.next < files.length && !this.stopped) {
      const file = files[this.next]
      const small = file.size <= SMALL_FILE_BYTES
      if (
        this.inFlight >= this.opts.concurrency ||
        (small && this.smallInFlight > 0 && this.smallBytes + file.size > SMALL_BYTES_IN_FLIGHT)
      )
        return
      this.next++
      this.inFlight++
      if (small) {
        this.smallInFlight++
        this.smallBytes += file.size
      }
      this.stage(file).then(this.onStaged, (err: unknown) => this.onFailed(file, err))
    }
    // After a failure no retry can change (a full disk, a file where a folder goes), no new file starts.
    if (this.lost) this.running?.reject(this.lost.err)
    else if (this.inFlight === 0) this.running?.resolve()
  }

  private readonly onStaged = (s: Staged): void => {
    this.batch.push(s)
    this.batchBytes += s.file.size
    this.settled(s.file.size)
  }

  private onFailed(file: PlannedFile, err: unknown): void {
    try {
      this.failed.push(this.asFileError(file, err))
    } catch (e) {
      this.lost ??= { err: e }
    }
    this.settled(file.size)
  }

  private settled(size: number): void {
    this.inFlight--
    if (size <= SMALL_FILE_BYTES) {
      this.smallInFlight--
      this.smallBytes -= size
    }
    // Verified as soon as no small file is left to join the batch (or it is full).
    if (
      this.batch.length >= VERIFY_BATCH_FILES ||
      this.batchBytes >= VERIFY_BATCH_BYTES ||
      this.smallInFlight === 0
    )
      this.flush()
    this.pump()
  }

  /** The staged files so far go to be verified and published. */
  private flush(): void {
    if (this.batch.length === 0) return
    const p = this.publish(this.batch, this.failed)
    p.catch(() => {}) // awaited at the end of uploadAll, with the rest
    this.publishing.push(p)
    this.batch = []
    this.batchBytes = 0
  }

  /**
   * Before any file: where the folders lead (one round trip for all), links out of remote-path
   * refused, and the missing folders' mkdir requests sent ahead of the files that go in them (nothing
   * waits for their answers: an open behind them finds the folder, a pack's script waits for it).
   */
  private async prepareFolders(files: PlannedFile[]): Promise<void> {
    const folders = foldersUnder(files.map(f => f.relativePath))
    const { remoteRoot, survey: made } = this.opts
    const survey =
      (made && surveyFor(made, remoteRoot, folders)) ?? (await surveyFolders(this.sftp, remoteRoot, folders))
    await checkRemoteLinks(this.sftp, survey, this.conn.label, {
      follow: !!this.opts.followRemoteSymlinks,
      deleting: !!this.opts.deletesExtras
    })
    const { present, toMake } = foldersOf(survey)
    this.sftp.assumeDirs(present)
    this.sftp.mkdirAhead(toMake)
  }

  /** A failed write on a live connection, as the instance explains it (a UserError when no retry can help). */
  private async explain(err: unknown, file: PlannedFile, final: string): Promise<unknown> {
    const why = await explainWriteFailure(err, { sftp: this.sftp, conn: this.conn, final, size: file.size })
    if (why instanceof UserError) this.stopped ??= why
    return why
  }

  private asFileError(file: PlannedFile, err: unknown): FileError {
    if (err instanceof FileError) return err
    if (this.conn.isClosed) throw err // the connection dropped: let the caller reconnect
    // Explained where it happened (explain): the message already names the path and what to fix.
    if (err instanceof UserError) return new FileError(file, err.message, true)
    const e = err as SftpStatusError
    return new FileError(file, `${file.relativePath}: ${e.message}`, e.code === SFTP_STATUS.PERMISSION_DENIED)
  }

  /** Remove a temporary file; it stays on the list for the next connection unless the removal is confirmed. */
  private async dropTemp(temp: string): Promise<void> {
    await this.sftp.unlink(temp).then(
      () => this.openTemps.delete(temp),
      () => {}
    )
  }

  /**
   * Open a temporary file; when a folder assumed to exist does not, it is made and the open tried
   * again. `then` is given the handle as soon as the answer is read (see Sftp.open).
   */
  private async openTemp(
    temp: string,
    dir: string,
    mode: number,
    then?: (h: Buffer) => void
  ): Promise<Buffer> {
    try {
      return await this.sftp.open(temp, 'w', mode, then)
    } catch (err) {
      if ((err as SftpStatusError).code !== SFTP_STATUS.NO_SUCH_FILE) throw err
      this.sftp.forgetAssumedDirs()
      await this.sftp.mkdirp(dir)
      return this.sftp.open(temp, 'w', mode, then)
    }
  }

  /** Write one file to its temporary name; large files wait for one of the MAX_LARGE_IN_FLIGHT places. */
  private stage(file: PlannedFile): Promise<Staged> {
    return file.size <= SMALL_FILE_BYTES ? this.stageSmall(file) : this.large.run(() => this.stageLarge(file))
  }

  /** Where a file goes: its final path, a temporary beside it, and their folder (made if need be). */
  private async place(file: PlannedFile): Promise<{ final: string; temp: string }> {
    const final = remoteFilePath(this.opts.remoteRoot, file.relativePath)
    const temp = tempPathFor(final)
    const dir = path.posix.dirname(final)
    if (!this.sftp.hasDir(dir))
      await this.sftp.mkdirp(dir).catch(async err => {
        throw await this.explain(err, file, final)
      })
    return { final, temp }
  }

  /**
   * A small file: one read, hashed from the same bytes, and every request after the open sent at
   * once: the write, the mode check and the close go out together as soon as the open is answered
   * (SFTP has the server answer as if each request had waited for the one before), so the file is
   * one round trip after its open. Written with callbacks, not async and await: it runs for every
   * file, and V8 compiles a plain function of this size much more cheaply than a generator.
   */
  private stageSmall(file: PlannedFile): Promise<Staged> {
    const final = remoteFilePath(this.opts.remoteRoot, file.relativePath)
    if (!this.sftp.hasDir(path.posix.dirname(final)))
      return this.place(file).then(({ temp }) => this.sendSmall(file, final, temp))
    return this.sendSmall(file, final, tempPathFor(final))
  }

  private sendSmall(file: PlannedFile, final: string, temp: string): Promise<Staged> {
    const mode = file.mode & 0o777
    let data: Buffer
    let sha256 = ''
    try {
      data = readSmallFile(file)
      if (this.opts.verify !== 'none') sha256 = sha256Hex(data)
    } catch (err) {
      return this.smallFailed(err, file, final, temp)
    }
    // Recorded before the open: when the connection drops, the server may have created the file even
    // though its answer never arrived, and the next connection must remove it.
    this.openTemps.add(temp)
    const sent: SmallSent = { opened: false, chmod: false }
    const opened = (h: Buffer) => {
      sent.opened = true
      sent.chmod = this.modes.send(h, mode)
      if (sent.chmod) sent.chmod.catch(() => {})
    }
    const staged: Staged = { file, temp, final, sha256 }
    const written = (): Staged | Promise<Staged> => {
      this.opts.onBytes?.(data.length)
      if (!sent.chmod) return staged
      // The first file of a mode, or one sent while its check was out: the mode set by path if need be.
      return sent.chmod
        .then(wrong => (wrong ? this.sftp.chmod(temp, mode) : undefined))
        .then(
          () => staged,
          err => this.smallFailed(err, file, final, temp)
        )
    }
    return this.sftp.putWhole(temp, mode, data, opened).then(written, err => {
      // A folder assumed to exist does not: made, and the file sent again.
      if (sent.opened || (err as SftpStatusError).code !== SFTP_STATUS.NO_SUCH_FILE)
        return this.smallFailed(err, file, final, temp)
      this.sftp.forgetAssumedDirs()
      return this.sftp
        .mkdirp(path.posix.dirname(final))
        .then(() => this.sftp.putWhole(temp, mode, data, opened))
        .then(written, err2 => this.smallFailed(err2, file, final, temp))
    })
  }

  private async smallFailed(err: unknown, file: PlannedFile, final: string, temp: string): Promise<never> {
    throw await this.dropFailed(err, file, final, temp)
  }

  /** After a failed write: the failure as the instance explains it, and the partial temporary removed. */
  private async dropFailed(err: unknown, file: PlannedFile, final: string, temp: string): Promise<unknown> {
    // Asked while the partial temporary still takes its space (a full disk is seen as full).
    const why = await this.explain(err, file, final)
    // On a live connection, remove the partial temporary now; after a drop, the next connection does.
    if (!this.conn.isClosed) await this.dropTemp(temp)
    return why
  }

  /** A large file: pipelined writes, hashed on the worker thread meanwhile (and on the instance, when it is large enough). */
  private async stageLarge(file: PlannedFile): Promise<Staged> {
    const { final, temp } = await this.place(file)
    const dir = path.posix.dirname(final)
    const mode = file.mode & 0o777
    let handle: Buffer | undefined
    let streaming: StreamingSha256 | undefined
    let remoteSha256: string | undefined
    // Not hashed at all when nothing is verified.
    const digest = this.opts.verify !== 'none' ? sha256File(file.localPath) : Promise.resolve('')
    digest.catch(() => {})
    try {
      this.openTemps.add(temp)
      handle = await this.openTemp(temp, dir, mode)
      if (
        this.verifyMethod === 'sha256sum' &&
        file.size >= STREAM_VERIFY_BYTES &&
        this.streamsOpen < MAX_STREAMED_VERIFICATIONS
      ) {
        streaming = streamRemoteSha256(this.conn, temp)
        this.streamsOpen++
      }
      await writeLarge(this.sftp, handle, file, {
        onBytes: n => this.opts.onBytes?.(n),
        onWritten: bytes => streaming?.advance(bytes)
      })
      const chmod = this.modes.send(handle, mode)
      if (chmod) chmod.catch(() => {})
      remoteSha256 = await streaming?.finish(file.size)
      const closing = this.sftp.closeHandle(handle)
      handle = undefined
      await closing
      if (chmod && (await chmod)) await this.sftp.chmod(temp, mode)
    } catch (err) {
      streaming?.cancel()
      if (handle) await this.sftp.closeHandle(handle).catch(() => {})
      throw await this.dropFailed(err, file, final, temp)
    } finally {
      if (streaming) this.streamsOpen--
    }
    const sha256 = await digest
    // A streamed digest only ever confirms; anything else is left to the batch's own sha256sum.
    return { file, temp, final, sha256, remoteSha256: remoteSha256 === sha256 ? remoteSha256 : undefined }
  }

  /** Verify a batch of staged files, rename the good ones into place, drop and report the rest. */
  private async publish(staged: Staged[], failed: FileError[]): Promise<void> {
    if (staged.length === 0) return
    const trips = this.conn.trips
    trips.phase = 'verify'
    const there = await this.checkOnInstance(staged.filter(s => s.remoteSha256 === undefined))
    trips.phase = 'publish'
    await Promise.all(
      staged.map(s =>
        this.publishOne(s, there).catch((err: unknown) => {
          failed.push(this.asFileError(s.file, err))
        })
      )
    )
    trips.phase = 'upload'
  }

  /** One staged file: its verdict, then the rename over its final path (a plain function: it runs for every file). */
  private publishOne(s: Staged, there: InstanceCheck): Promise<void> {
    const known = this.knownMismatch(s, there)
    if (known === null) return this.mismatch(s, there).then(wrong => this.renameChecked(s, wrong))
    return this.renameChecked(s, known)
  }

  /** Renamed into place when nothing is wrong; a mismatch drops the temporary and fails the file. */
  private renameChecked(s: Staged, wrong: string | undefined): Promise<void> {
    if (wrong !== undefined)
      return this.dropTemp(s.temp).then(() => {
        throw new FileError(
          s.file,
          `${s.file.relativePath}: sha256 on the instance does not match${wrong}`,
          false
        )
      })
    return this.sftp.renameOver(s.temp, s.final).then(
      () => {
        this.openTemps.delete(s.temp)
        this.opts.onFileDone(s.file)
      },
      err => this.renameFailed(err, s)
    )
  }

  private async renameFailed(err: unknown, s: Staged): Promise<never> {
    const why = await this.explain(err, s.file, s.final)
    // A failed rename drops its verified temporary now (a retry writes a new one), not with the next run.
    if (!this.conn.isClosed) await this.dropTemp(s.temp)
    throw why
  }

  /**
   * One batch's check by sha256sum on the instance: compared there where it can be (remoteCheck:
   * only the failures come back), the rest listed. Nothing when the account cannot exec.
   */
  private async checkOnInstance(unhashed: Staged[]): Promise<InstanceCheck> {
    if (this.verifyMethod !== 'sha256sum' || unhashed.length === 0) return {}
    const compared = unhashed.filter(s => checkable(s.temp))
    const failed = await remoteCheck(this.conn, new Map(compared.map(s => [s.temp, s.sha256])))
    const listed = failed ? unhashed.filter(s => !checkable(s.temp)) : unhashed
    const digests = listed.length
      ? await remoteSha256(
          this.conn,
          listed.map(s => s.temp)
        )
      : undefined
    return { failed, digests }
  }

  /**
   * Why the instance's copy of a staged file is not the local one (after "does not match"; '' when
   * only the verdict came back), or undefined when it is, or nothing is verified; null when only
   * reading the file back can tell (mismatch does).
   */
  private knownMismatch(s: Staged, there: InstanceCheck): string | undefined | null {
    if (this.verifyMethod === 'none' || s.remoteSha256 !== undefined) return undefined
    if (there.failed && checkable(s.temp)) return there.failed.has(s.temp) ? '' : undefined
    if (!there.digests) return null
    const digest = there.digests.get(s.temp)
    return digest === s.sha256 ? undefined : ` (got ${digest ?? 'nothing'})`
  }

  /** knownMismatch, reading the file back where the instance could not hash it. */
  private async mismatch(s: Staged, there: InstanceCheck): Promise<string | undefined> {
    const known = this.knownMismatch(s, there)
    if (known !== null) return known
    const digest = await readBackSha256(this.sftp, s.temp, s.file.size)
    return digest === s.sha256 ? undefined : ` (got ${digest ?? 'nothing'})`
  }

  end(): void {
    this.ended.abort()
    this.sftp?.end()
  }
}
