import { open as openLocal, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import type { SFTPWrapper } from 'ssh2'
import type { TargetConnection } from '../deploy/connection.js'
import { errorMessage, TransientError, UserError } from '../errors.js'
import { sha256FileRange } from '../files/hash.js'
import type { PlannedFile } from '../files/plan.js'
import type { Logger } from '../log.js'
import { tempPathFor } from '../remote/names.js'
import { parseRangeHash, rangeHashRequest, rangeHashScript } from '../remote/range-hash.js'
import type { SshConnection } from '../ssh/connection.js'
import { execScript } from '../ssh/exec.js'
import { backoffDelay, sleep } from '../util/retry.js'
import { explainWriteFailure } from './failures.js'
import { WRITE_CHUNK, WRITES_IN_FLIGHT } from './file-writes.js'
import { RangeQueue, type Range } from './ranges.js'
import { surveyFolders } from './folders.js'
import { checkRemoteLinks } from './remote-links.js'
import { remoteFilePath } from './remote-path.js'
import { Sftp } from './sftp.js'

/**
 * Striped upload of large files: each file's ranges (transfer/ranges.ts) are written at their
 * offsets into one temporary by every SFTP channel of every connection to the target, a range at a
 * time from a shared queue (a fast channel takes more). The instance hashes each range once its
 * writes are acknowledged (remote/range-hash.ts) and it is compared with the local file's bytes
 * there; a range whose digest differs, or whose connection was cut before it was confirmed, is
 * written again, by whichever channel is free. Only when every range is confirmed is the temporary
 * renamed over the final path; a file that cannot be completed has its temporary removed.
 */

/**
 * SFTP channels per connection: sshd gives each 2 MiB of window, and two fill the TCP window a
 * connection usually gets (4 MiB).
 */
const CHANNELS_PER_CONNECTION = 2
const READ_BLOCK = 16 * WRITE_CHUNK

export interface StripedUploadOptions {
  links: TargetConnection[]
  remoteRoot: string
  existingDirs?: Iterable<string>
  verify: 'sha256' | 'none'
  followRemoteSymlinks?: boolean
  deletesExtras?: boolean
  retries: number
  backoffBaseMs: number
  logger: Logger
  signal?: AbortSignal
  /** Bytes acknowledged by the instance (re-sent ranges count again). */
  onBytes: (n: number) => void
  /** A file is verified and at its final path. */
  onFileDone: (file: PlannedFile) => void
  /** A range's writes are all acknowledged and its hash not yet asked for (tests corrupt it here). */
  onRangeWritten?: (temp: string, range: Range) => Promise<void> | void
}

/** Upload each file striped over every connection, one file after another. */
export async function uploadStriped(files: PlannedFile[], o: StripedUploadOptions): Promise<void> {
  const carriers = o.links.map(l => new Carrier(l, o))
  let current: Stripe | undefined
  const cancel = () => {
    current?.settle(cancelled(o))
    for (const c of carriers) c.endChannels(true)
  }
  o.signal?.addEventListener('abort', cancel, { once: true })
  try {
    for (const file of files) {
      if (o.signal?.aborted) throw cancelled(o)
      current = new Stripe(file, o, carriers.length * CHANNELS_PER_CONNECTION)
      await current.run(carriers)
    }
  } finally {
    o.signal?.removeEventListener('abort', cancel)
    for (const c of carriers) c.endChannels(false)
  }
}

function cancelled(o: StripedUploadOptions): UserError {
  return new UserError(`Upload to ${o.links[0].label} was cancelled.`)
}

/** SFTP channels beside the connection's shared one (which the rest of the upload uses after this). */
function openSftpChannel(conn: SshConnection): Promise<SFTPWrapper> {
  return conn.guard(
    new Promise<SFTPWrapper>((resolve, reject) =>
      conn.client.sftp((err, sftp) =>
        err ? reject(new TransientError(`SFTP on ${conn.label}: ${err.message}`)) : resolve(sftp)
      )
    )
  )
}

/** One connection's part: its channels, reopened with the connection, and its run of failures. */
class Carrier {
  private conn?: SshConnection
  private channels: Sftp[] = []
  private extra: SFTPWrapper[] = []
  /** Failures in a row (reset when a range this carrier wrote is confirmed). */
  failures = 0
  gaveUp = false

  constructor(
    readonly link: TargetConnection,
    private readonly o: StripedUploadOptions
  ) {}

  get label(): string {
    return this.link.label
  }

  async ready(): Promise<{ conn: SshConnection; channels: Sftp[] }> {
    const conn = await this.link.get(this.o.signal)
    if (conn !== this.conn || this.channels.length === 0) {
      this.endChannels(false)
      const raws = await Promise.all([
        conn.sftp(),
        ...Array.from({ length: CHANNELS_PER_CONNECTION - 1 }, () => openSftpChannel(conn))
      ])
      this.extra = raws.slice(1)
      this.channels = raws.map(raw => new Sftp(raw, op => conn.guard(op)))
      const dirs = [...(this.o.existingDirs ?? [])].map(d => remoteFilePath(this.o.remoteRoot, d))
      for (const s of this.channels) s.assumeDirs(dirs)
      this.conn = conn
    }
    return { conn, channels: this.channels }
  }

  /** The live connection's first channel, if there is one now (for removing a temporary). */
  liveChannel(): Sftp | undefined {
    return this.conn && !this.conn.isClosed ? this.channels[0] : undefined
  }

  lost(): void {
    this.endChannels(false)
    this.conn = undefined
    this.link.drop()
  }

  /** End the channels this opened; `all`: the connection's shared one too (a cancellation). */
  endChannels(all: boolean): void {
    for (const raw of this.extra) raw.end()
    if (all) this.channels[0]?.end()
    this.extra = []
    this.channels = []
  }
}

/** A carrier's lanes and hasher while they work on one file; `held`: ranges taken, not yet confirmed. */
interface Crew {
  stopped: boolean
  held: Set<Range>
  hasher?: RangeHasher
}

/** One file being striped: the queue of its ranges, what is confirmed, and how it ended. */
class Stripe {
  readonly final: string
  readonly temp: string
  readonly queue: RangeQueue
  private confirmed = 0
  /** Settled: undefined while running, then null (every range confirmed) or the failure. */
  outcome?: unknown
  private waiting: (() => void)[] = []
  private digests = new Map<number, Promise<string>>()
  private creating?: Promise<void>
  private local?: Promise<FileHandle>

  constructor(
    readonly file: PlannedFile,
    private readonly o: StripedUploadOptions,
    lanes: number
  ) {
    this.final = remoteFilePath(o.remoteRoot, file.relativePath)
    this.temp = tempPathFor(this.final)
    this.queue = new RangeQueue(file.size, lanes)
  }

  async run(carriers: Carrier[]): Promise<void> {
    this.local = openLocal(this.file.localPath, 'r')
    const local = await this.local
    const before = await local.stat()
    try {
      if (before.size !== this.file.size) throw changedLocally(this.file)
      await Promise.all(carriers.map(c => this.carry(c, carriers)))
      if (this.outcome === undefined)
        this.settle(new UserError(`Could not upload ${this.file.relativePath}.`))
      const after = await local.stat()
      if (this.outcome === null && (after.size !== before.size || after.mtimeMs !== before.mtimeMs))
        this.outcome = changedLocally(this.file)
      if (this.outcome === null) await this.publish(carriers)
    } catch (err) {
      this.outcome ??= err
      this.settle(err)
    } finally {
      await local.close().catch(() => {})
    }
    if (this.outcome !== null) {
      await this.removeTemp(carriers)
      throw this.outcome
    }
    this.o.onFileDone(this.file)
  }

  take(): Range | undefined {
    const r = this.queue.take()
    if (r && this.o.verify !== 'none' && !this.digests.has(r.offset)) {
      const digest = sha256FileRange(this.file.localPath, r.offset, r.length)
      digest.catch(() => {})
      this.digests.set(r.offset, digest)
    }
    return r
  }

  digestOf(r: Range): Promise<string> {
    return this.digests.get(r.offset)!
  }

  putBack(r: Range): void {
    this.queue.putBack(r)
    this.notify()
  }

  confirm(r: Range): void {
    this.confirmed += r.length
    if (this.confirmed >= this.file.size) this.settle(null)
  }

  /** A range came out wrong on a live connection: again, or the file fails once it has had its retries. */
  rangeFailed(r: Range, why: string): void {
    r.failures++
    if (r.failures > this.o.retries) {
      this.settle(
        new UserError(
          `Could not upload ${this.file.relativePath}: ${why} (bytes ${r.offset}-${r.offset + r.length - 1}, after ${r.failures} attempts).`
        )
      )
    } else {
      this.o.logger.debug(`${this.file.relativePath}: ${why}; sending that range again`)
      this.putBack(r)
    }
  }

  settle(outcome: unknown): void {
    if (this.outcome !== undefined) return
    this.outcome = outcome
    this.notify()
  }

  notify(): void {
    const w = this.waiting
    this.waiting = []
    for (const fn of w) fn()
  }

  /** Resolves at the next change: a range handed back, the file settled, a crew stopped. */
  changed(): Promise<void> {
    return new Promise(resolve => this.waiting.push(resolve))
  }

  /** The temporary, made once (by whichever connection comes first) with its mode, empty. */
  ensureCreated(sftp: Sftp, conn: SshConnection): Promise<void> {
    if (!this.creating) {
      const creating = this.create(sftp, conn)
      this.creating = creating
      creating.catch(() => {
        if (this.creating === creating) this.creating = undefined
      })
    }
    return this.creating
  }

  private async create(sftp: Sftp, conn: SshConnection): Promise<void> {
    const parts = this.file.relativePath.split('/')
    const folders = parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'))
    const survey = await surveyFolders(sftp, this.o.remoteRoot, folders)
    await checkRemoteLinks(sftp, survey, conn.label, {
      follow: !!this.o.followRemoteSymlinks,
      deleting: !!this.o.deletesExtras
    })
    const mode = this.file.mode & 0o777
    try {
      await sftp.mkdirp(path.posix.dirname(this.final))
      const handle = await sftp.open(this.temp, 'w', mode)
      // The umask may have taken bits off at the open: set the mode exactly (sent with the close).
      const chmod = sftp.fchmod(handle, mode)
      chmod.catch(() => {})
      await Promise.all([chmod, sftp.closeHandle(handle)])
    } catch (err) {
      throw await this.explain(err, sftp, conn)
    }
  }

  explain(err: unknown, sftp: Sftp, conn: SshConnection): Promise<unknown> {
    return explainWriteFailure(err, { sftp, conn, final: this.final, size: this.file.size })
  }

  /** This carrier's part of the file: its lanes until the file settles, reconnecting when cut. */
  private async carry(c: Carrier, all: Carrier[]): Promise<void> {
    while (this.outcome === undefined && !c.gaveUp) {
      const crew: Crew = { stopped: false, held: new Set() }
      let conn: SshConnection | undefined
      let lanes: Promise<void>[] = []
      try {
        const ready = await c.ready()
        conn = ready.conn
        await this.ensureCreated(ready.channels[0], conn)
        if (this.o.verify !== 'none') crew.hasher = new RangeHasher(conn, this, crew, c)
        const working = ready.channels.map(sftp => this.lane(sftp, ready.conn, crew, c))
        lanes = working
        await Promise.race([Promise.all(working), crew.hasher?.broken ?? new Promise<never>(() => {})])
        return
      } catch (err) {
        crew.stopped = true
        this.notify()
        crew.hasher?.end()
        await Promise.allSettled(lanes)
        for (const r of crew.held) this.putBack(r)
        crew.held.clear()
        if (this.outcome !== undefined) return
        if (err instanceof UserError) return this.settle(err)
        if (this.o.signal?.aborted) return this.settle(cancelled(this.o))
        const lost = !conn || conn.isClosed || err instanceof TransientError
        if (lost) c.lost()
        c.failures++
        if (c.failures > this.o.retries) {
          c.gaveUp = true
          if (all.every(x => x.gaveUp))
            this.settle(new UserError(`${errorMessage(err)} (gave up after ${c.failures} attempts)`))
          return
        }
        const delay = backoffDelay(c.failures, this.o.backoffBaseMs, 15000)
        this.o.logger.info(
          `${c.label}: ${errorMessage(err)}; ${lost ? 'reconnecting' : 'trying again'} in ${(delay / 1000).toFixed(1)} s (attempt ${c.failures + 1} of ${this.o.retries + 1}); the ranges of ${this.file.relativePath} it had not confirmed go to the other connections`
        )
        await sleep(delay)
      } finally {
        crew.hasher?.end()
      }
    }
  }

  /** A range is confirmed (by the instance's digest, or acknowledged when nothing is verified). */
  confirmBy(r: Range, crew: Crew, c: Carrier): void {
    if (crew.stopped || !crew.held.delete(r)) return
    c.failures = 0
    this.confirm(r)
  }

  /**
   * One channel: takes ranges and writes them with WRITES_IN_FLIGHT requests outstanding (the
   * channel's window), the next range's writes right behind the last one's; a range whose writes
   * are all acknowledged goes to the instance to be hashed (or is confirmed, without verification).
   */
  private async lane(sftp: Sftp, conn: SshConnection, crew: Crew, c: Carrier): Promise<void> {
    const handle = await sftp.open(this.temp, 'r+', 0)
    const chunk = writeChunk(sftp, handle)
    const local = await this.local!
    const buffer = Buffer.allocUnsafe(READ_BLOCK)
    const inflight = new Set<Promise<void>>()
    let failed: { err: unknown } | undefined
    const drain = async (below: number) => {
      while (inflight.size > below && !failed) await Promise.race(inflight)
      if (failed) throw failed.err
    }
    try {
      for (;;) {
        if (this.outcome !== undefined || crew.stopped) break
        const range = this.take()
        if (!range) {
          await drain(0)
          if (this.outcome !== undefined || crew.stopped) break
          await this.changed()
          continue
        }
        crew.held.add(range)
        const acks: Promise<void>[] = []
        const end = range.offset + range.length
        for (let pos = range.offset; pos < end; pos += READ_BLOCK) {
          const len = Math.min(READ_BLOCK, end - pos)
          const { bytesRead } = await local.read(buffer, 0, len, pos)
          if (bytesRead !== len) throw changedLocally(this.file)
          for (let off = 0; off < len; off += chunk) {
            const n = Math.min(chunk, len - off)
            const w: Promise<void> = sftp.write(handle, buffer.subarray(off, off + n), n, pos + off).then(
              () => {
                inflight.delete(w)
                this.o.onBytes(n)
              },
              err => {
                inflight.delete(w)
                failed ??= { err }
              }
            )
            inflight.add(w)
            acks.push(w)
            await drain(WRITES_IN_FLIGHT - 1)
          }
        }
        void Promise.all(acks)
          .then(() => !failed && this.o.onRangeWritten?.(this.temp, range))
          .then(() => {
            if (failed || crew.stopped || !crew.held.has(range) || this.outcome !== undefined) return
            if (crew.hasher) crew.hasher.ask(range)
            else this.confirmBy(range, crew, c)
          })
          .catch(() => {})
      }
    } catch (err) {
      throw await this.explain(failed ? failed.err : err, sftp, conn)
    } finally {
      sftp.closeHandle(handle).catch(() => {})
    }
  }

  /** chmod was set at creation: the rename is all that is left (on a live connection). */
  private async publish(carriers: Carrier[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const c = carriers.find(x => !x.gaveUp) ?? carriers[0]
      let conn: SshConnection | undefined
      try {
        const ready = await c.ready()
        conn = ready.conn
        const sftp = ready.channels[0]
        await sftp.renameOver(this.temp, this.final).catch(async err => {
          throw await this.explain(err, sftp, ready.conn)
        })
        return
      } catch (err) {
        if (err instanceof UserError || attempt >= this.o.retries) throw err
        if (!conn || conn.isClosed || err instanceof TransientError) c.lost()
        await sleep(backoffDelay(attempt + 1, this.o.backoffBaseMs, 15000))
      }
    }
  }

  /** Remove the temporary over any live connection; if none is, the deploy's undo removes it. */
  private async removeTemp(carriers: Carrier[]): Promise<void> {
    if (!this.creating) return
    await this.creating.catch(() => {})
    for (const c of carriers) {
      const sftp = c.liveChannel()
      if (!sftp) continue
      try {
        await sftp.unlink(this.temp)
        return
      } catch {
        // the next connection tries
      }
    }
  }
}

/**
 * Bytes per write request: as close to WRITE_CHUNK as fills whole SSH packets. Each request carries
 * its header (25 bytes and the handle) in the channel's stream, so a request of exactly 64 KiB of
 * data would take two full packets and a third of a few dozen bytes, each encrypted and sent on its
 * own.
 */
function writeChunk(sftp: Sftp, handle: Buffer): number {
  const packet = (sftp.raw as unknown as { outgoing?: { packetSize?: number } }).outgoing?.packetSize
  if (!packet || packet < 4096) return WRITE_CHUNK
  const packets = Math.max(1, Math.round(WRITE_CHUNK / packet))
  return packets * packet - (25 + handle.length)
}

function changedLocally(file: PlannedFile): UserError {
  return new UserError(`Local file '${file.localPath}' changed during the upload.`)
}

/**
 * The instance hashing one file's ranges for one connection (remote/range-hash.ts): a range is
 * asked for once its writes are acknowledged, and its answer confirms it or sends it again.
 */
class RangeHasher {
  private readonly feed = new PassThrough()
  private readonly asked = new Map<number, Range>()
  private partial = ''
  private ended = false
  /** Rejects when the script (or its connection) ends while the file still needs it. */
  readonly broken: Promise<never>

  constructor(
    conn: SshConnection,
    private readonly stripe: Stripe,
    private readonly crew: Crew,
    private readonly carrier: Carrier
  ) {
    const run = execScript(conn, rangeHashScript(stripe.temp), {
      stdin: this.feed,
      onStdout: chunk => this.read(chunk)
    })
    this.broken = run.then(r => {
      if (this.ended) return new Promise<never>(() => {})
      throw new TransientError(
        `hashing ranges on the instance ended (exit ${r.code ?? r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n').pop()}` : ''})`
      )
    })
    this.broken.catch(() => {})
  }

  ask(r: Range): void {
    if (this.feed.writableEnded) return
    this.asked.set(r.offset, r)
    this.feed.write(rangeHashRequest(r.offset, r.length))
  }

  private read(chunk: Buffer): void {
    this.partial += chunk.toString('latin1')
    for (let nl = this.partial.indexOf('\n'); nl >= 0; nl = this.partial.indexOf('\n')) {
      const answer = parseRangeHash(this.partial.slice(0, nl))
      this.partial = this.partial.slice(nl + 1)
      const r = answer && this.asked.get(answer.offset)
      if (!r) continue
      this.asked.delete(r.offset)
      this.stripe.digestOf(r).then(
        local => {
          if (answer.digest === local) return this.stripe.confirmBy(r, this.crew, this.carrier)
          if (this.crew.stopped || !this.crew.held.delete(r)) return
          this.stripe.rangeFailed(
            r,
            `sha256 on the instance does not match (got ${answer.digest || 'nothing'})`
          )
        },
        err =>
          this.stripe.settle(
            new UserError(`Could not read '${this.stripe.file.localPath}': ${errorMessage(err)}`)
          )
      )
    }
  }

  end(): void {
    this.ended = true
    if (!this.feed.writableEnded) this.feed.end()
  }
}
