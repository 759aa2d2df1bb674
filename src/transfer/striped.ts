import { createHash } from 'node:crypto'
import { open as openLocal, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import type { SFTPWrapper } from 'ssh2'
import type { TargetConnection } from '../deploy/connection.js'
import { errorMessage, TransientError, UserError } from '../errors.js'
import type { PlannedFile } from '../files/plan.js'
import type { Logger } from '../log.js'
import { tempPathFor } from '../remote/names.js'
import { parseRangeHash, rangeHashRequest, rangeHashScript, requestPath } from '../remote/range-hash.js'
import type { SshConnection } from '../ssh/connection.js'
import { execScript } from '../ssh/exec.js'
import { backoffDelay, sleep } from '../util/retry.js'
import { explainWriteFailure } from './failures.js'
import { WRITE_CHUNK, WRITES_IN_FLIGHT } from './file-writes.js'
import { surveyFolders } from './folders.js'
import { isStriped, RangeQueue, type Range } from './ranges.js'
import { checkRemoteLinks } from './remote-links.js'
import { remoteFilePath } from './remote-path.js'
import { Sftp } from './sftp.js'
import { largeFileHasher, shareVerifyMethod } from './verify.js'

/**
 * The range upload: files of a MiB and more (transfer/ranges.ts) are cut into ranges that every
 * SFTP channel of every connection to the target takes from one queue, in file order (a fast channel
 * takes more, and a channel streams from one file into the next). Each range is written at its
 * offset into its file's temporary; the instance hashes it once its writes are acknowledged
 * (remote/range-hash.ts) and it is compared with the digest of the local bytes the lane read to
 * send it, hashed as they were read (before the buffer is reused), so the file is read once. A
 * range whose digest differs, or whose connection was cut before it was confirmed, is written
 * again by whichever channel is free. Only when every range of a file is confirmed is its temporary renamed over the
 * final path; a file that cannot be completed fails the upload and its temporary is removed.
 */

/**
 * SFTP channels per connection: sshd gives each 2 MiB of window, and two fill the TCP window a
 * connection usually gets (4 MiB).
 */
const CHANNELS_PER_CONNECTION = 2
/** SFTP's WRITE and CREAT open flags without TRUNC (ssh2 has no name for them). */
const WRITE_OR_CREATE = 0x02 | 0x08
const READ_BLOCK = 16 * WRITE_CHUNK
/** Files begun and not yet published, at most (each holds a temporary and open handles). */
const FILES_OPEN = 32

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

/** Upload the files in ranges over every connection; rejects with the first file that cannot be completed. */
export async function uploadStriped(files: PlannedFile[], o: StripedUploadOptions): Promise<void> {
  if (files.length === 0) return
  const carriers = o.links.map(l => new Carrier(l, o))
  const work = new Work(files, o, carriers)
  const cancel = () => {
    work.settle(cancelled(o))
    for (const c of carriers) c.endChannels(true)
  }
  o.signal?.addEventListener('abort', cancel, { once: true })
  try {
    await work.run()
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
  /** The connection's shared SFTP channel, ready as soon as the connection is. */
  private first?: Sftp
  /** The channels beside it, opened meanwhile (three round trips: the first lane does not wait). */
  private more: Promise<Sftp[]> = Promise.resolve([])
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

  /**
   * The connection and its shared channel; `more`: the channels opened beside it, for lanes that
   * join as they are ready (settles once per connection: a failure to open them is the connection's).
   */
  async ready(): Promise<{ conn: SshConnection; first: Sftp; more: Promise<Sftp[]> }> {
    const conn = await this.link.get(this.o.signal)
    if (conn !== this.conn || !this.first) {
      // Another connection to the same instance hashes its ranges as the first one's probe found.
      const first = this.o.links[0].live
      if (this.o.verify !== 'none' && first) shareVerifyMethod(conn, first)
      this.endChannels(false)
      const dirs = [...(this.o.existingDirs ?? [])].map(d => remoteFilePath(this.o.remoteRoot, d))
      const wrap = (raw: SFTPWrapper) => {
        const sftp = new Sftp(raw, op => conn.guard(op))
        sftp.assumeDirs(dirs)
        return sftp
      }
      const opening = Array.from({ length: CHANNELS_PER_CONNECTION - 1 }, () => openSftpChannel(conn))
      this.first = wrap(await conn.sftp())
      this.conn = conn
      this.more = Promise.all(opening).then(raws => {
        // Ended (the connection was lost or the upload is over) before they opened.
        if (this.conn !== conn || !this.first) {
          for (const raw of raws) raw.end()
          return []
        }
        this.extra = raws
        return raws.map(wrap)
      })
      this.more.catch(() => {})
    }
    return { conn, first: this.first, more: this.more }
  }

  /** The live connection's first channel, if there is one now (for removing a temporary). */
  liveChannel(): Sftp | undefined {
    return this.conn && !this.conn.isClosed ? this.first : undefined
  }

  lost(): void {
    this.endChannels(false)
    this.conn = undefined
    this.link.drop()
  }

  /** End the channels this opened; `all`: the connection's shared one too (a cancellation). */
  endChannels(all: boolean): void {
    for (const raw of this.extra) raw.end()
    if (all) this.first?.end()
    this.extra = []
    this.first = undefined
    this.more = Promise.resolve([])
  }
}

/** A range of one file. */
interface Piece extends Range {
  stripe: Stripe
}

/** A carrier's lanes and hasher while its connection lasts; `held`: pieces taken, not yet confirmed. */
interface Crew {
  stopped: boolean
  held: Set<Piece>
  hasher?: RangeHasher
}

/** One file: its ranges, what is confirmed, its temporary. */
class Stripe {
  readonly final: string
  readonly temp: string
  /** The temporary as the instance's hasher is asked about it. */
  readonly asked: string
  readonly queue: RangeQueue
  readonly striped: boolean
  confirmed = 0
  published = false
  /** Its folder, made once for every lane. */
  private folder?: Promise<void>
  /** The temporary may exist on the instance (removed when the upload fails). */
  begun = false
  private local?: Promise<{ fh: FileHandle; mtimeMs: number }>

  constructor(
    readonly file: PlannedFile,
    remoteRoot: string,
    lanes: number
  ) {
    this.final = remoteFilePath(remoteRoot, file.relativePath)
    this.temp = tempPathFor(this.final)
    this.asked = requestPath(this.temp)
    this.queue = new RangeQueue(file.size, lanes)
    this.striped = isStriped(file)
  }

  /** The local file, opened once for every lane (and checked unchanged at the end). */
  localFile(): Promise<FileHandle> {
    this.local ??= (async () => {
      const fh = await openLocal(this.file.localPath, 'r')
      const st = await fh.stat()
      if (st.size !== this.file.size) {
        await fh.close()
        throw changedLocally(this.file)
      }
      return { fh, mtimeMs: st.mtimeMs }
    })()
    return this.local.then(l => l.fh)
  }

  async closeLocal(check: boolean): Promise<void> {
    const l = await this.local?.catch(() => undefined)
    if (!l) return
    this.local = undefined
    const st = check ? await l.fh.stat().catch(() => undefined) : undefined
    await l.fh.close().catch(() => {})
    if (check && (!st || st.size !== this.file.size || st.mtimeMs !== l.mtimeMs))
      throw changedLocally(this.file)
  }

  /** The temporary's folder, made once (by whichever lane comes first). */
  private madeFolder(sftp: Sftp): Promise<void> {
    if (!this.folder) {
      const making = sftp.mkdirp(path.posix.dirname(this.final))
      this.folder = making
      making.catch(() => {
        if (this.folder === making) this.folder = undefined
      })
    }
    return this.folder
  }

  /** The temporary, created empty with the file's mode (its folder made first). */
  async create(sftp: Sftp, conn: SshConnection): Promise<Buffer> {
    try {
      await this.madeFolder(sftp)
      this.begun = true
      return await sftp.open(this.temp, 'w', this.file.mode & 0o777)
    } catch (err) {
      throw await this.explain(err, sftp, conn)
    }
  }

  /**
   * A striped file's temporary, opened for writing by each lane at once: made by whichever open the
   * server takes first and never truncated (a lane that joins later, or after a cut, leaves the
   * ranges already written in place; the name is this run's own, so nothing else was there). Its
   * mode is set exactly right behind the open (`mode`: that request, which the lane's writes follow).
   */
  async openForRanges(sftp: Sftp, conn: SshConnection): Promise<{ handle: Buffer; mode: Promise<void> }> {
    const mode = this.file.mode & 0o777
    let chmod: Promise<void> = Promise.resolve()
    try {
      await this.madeFolder(sftp)
      this.begun = true
      const handle = await sftp.open(this.temp, WRITE_OR_CREATE, mode, h => {
        chmod = sftp.fchmod(h, mode)
        chmod.catch(() => {})
      })
      return { handle, mode: chmod }
    } catch (err) {
      throw await this.explain(err, sftp, conn)
    }
  }

  /** The umask may have taken bits off at the open: the mode is set exactly, sent with the close. */
  closeWithMode(sftp: Sftp, handle: Buffer): Promise<unknown> {
    const chmod = sftp.fchmod(handle, this.file.mode & 0o777)
    chmod.catch(() => {})
    return Promise.all([chmod, sftp.closeHandle(handle)])
  }

  explain(err: unknown, sftp: Sftp, conn: SshConnection): Promise<unknown> {
    return explainWriteFailure(err, { sftp, conn, final: this.final, size: this.file.size })
  }
}

/** Every file's ranges, the channels that write them, and how the upload ends. */
class Work {
  private readonly stripes: Stripe[]
  private next = 0
  private readonly again: Piece[] = []
  /** Settled: undefined while running, then null (every file published) or the failure. */
  outcome?: unknown
  private waiting: (() => void)[] = []
  private publishedCount = 0
  private readonly publishing = new Set<Promise<void>>()

  constructor(
    files: PlannedFile[],
    private readonly o: StripedUploadOptions,
    private readonly carriers: Carrier[]
  ) {
    const lanes = carriers.length * CHANNELS_PER_CONNECTION
    this.stripes = files.map(f => new Stripe(f, o.remoteRoot, lanes))
  }

  private linksChecked?: Promise<void>

  /**
   * The folders every file goes into, checked once for links out of remote-path (transfer/
   * remote-links.ts) before the first temporary is made, by whichever connection comes first.
   */
  checkLinks(sftp: Sftp, conn: SshConnection): Promise<void> {
    if (!this.linksChecked) {
      const folders = this.stripes.flatMap(s => {
        const parts = s.file.relativePath.split('/')
        return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'))
      })
      const checking = surveyFolders(sftp, this.o.remoteRoot, folders).then(survey =>
        checkRemoteLinks(sftp, survey, conn.label, {
          follow: !!this.o.followRemoteSymlinks,
          deleting: !!this.o.deletesExtras
        })
      )
      this.linksChecked = checking
      checking.catch(() => {
        if (this.linksChecked === checking) this.linksChecked = undefined
      })
      return checking
    }
    return this.linksChecked
  }

  async run(): Promise<void> {
    await Promise.all(this.carriers.map(c => this.carry(c)))
    await Promise.allSettled([...this.publishing])
    if (this.outcome === undefined) this.settle(new UserError('The upload ended with files not written.'))
    if (this.outcome === null) return
    for (const s of this.stripes) await s.closeLocal(false)
    await this.removeTemps()
    throw this.outcome
  }

  /** The next piece: one handed back first, then the next range in file order. */
  take(): Piece | undefined {
    const back = this.again.shift()
    if (back) return back
    while (this.next < this.stripes.length) {
      const s = this.stripes[this.next]
      const r = s.queue.take()
      if (r) return { ...r, stripe: s }
      if (this.next - this.publishedCount >= FILES_OPEN) return undefined
      this.next++
    }
    return undefined
  }

  putBack(p: Piece): void {
    this.again.push(p)
    this.notify()
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

  /** Resolves at the next change: a piece handed back, a file published, the upload settled, a crew stopped. */
  changed(): Promise<void> {
    return new Promise(resolve => this.waiting.push(resolve))
  }

  /** A piece is confirmed (by the instance's digest, or acknowledged when nothing is verified). */
  confirm(p: Piece, crew: Crew, c: Carrier): void {
    if (crew.stopped || !crew.held.delete(p)) return
    c.failures = 0
    const s = p.stripe
    s.confirmed += p.length
    if (s.confirmed < s.file.size || this.outcome !== undefined) return
    const pub = this.publish(s, c).then(
      () => {
        this.publishing.delete(pub)
        s.published = true
        this.publishedCount++
        this.o.onFileDone(s.file)
        if (this.publishedCount === this.stripes.length) this.settle(null)
        else this.notify()
      },
      err => {
        this.publishing.delete(pub)
        this.settle(err)
      }
    )
    this.publishing.add(pub)
  }

  /** A piece came out wrong on a live connection: again, or the upload fails once it has had its retries. */
  failed(p: Piece, crew: Crew, why: string): void {
    if (crew.stopped || !crew.held.delete(p)) return
    p.failures++
    if (p.failures > this.o.retries) {
      this.settle(
        new UserError(
          `Could not upload ${p.stripe.file.relativePath}: ${why} (bytes ${p.offset}-${p.offset + p.length - 1}, after ${p.failures} attempts).`
        )
      )
    } else {
      this.o.logger.debug(`${p.stripe.file.relativePath}: ${why}; sending that range again`)
      this.putBack(p)
    }
  }

  /** Rename over the final path, on the connection that confirmed the last range or another live one. */
  private async publish(s: Stripe, first: Carrier): Promise<void> {
    await s.closeLocal(true)
    for (let attempt = 0; ; attempt++) {
      const c = attempt === 0 ? first : (this.carriers.find(x => !x.gaveUp) ?? first)
      let conn: SshConnection | undefined
      try {
        const ready = await c.ready()
        conn = ready.conn
        const sftp = ready.first
        await sftp.renameOver(s.temp, s.final).catch(async err => {
          throw await s.explain(err, sftp, ready.conn)
        })
        return
      } catch (err) {
        if (err instanceof UserError || attempt >= this.o.retries || this.outcome !== undefined) throw err
        if (!conn || conn.isClosed || err instanceof TransientError) c.lost()
        await sleep(backoffDelay(attempt + 1, this.o.backoffBaseMs, 15000))
      }
    }
  }

  /** Remove the temporaries of the files not published, over any live connection (else the deploy's undo does). */
  private async removeTemps(): Promise<void> {
    const left = this.stripes.filter(s => s.begun && !s.published)
    for (const c of this.carriers) {
      const sftp = c.liveChannel()
      if (!sftp || left.length === 0) continue
      const results = await Promise.allSettled(left.map(s => sftp.unlink(s.temp)))
      for (let i = results.length - 1; i >= 0; i--) if (results[i].status === 'fulfilled') left.splice(i, 1)
    }
  }

  /** This carrier's part: its lanes until the upload settles, reconnecting when cut. */
  private async carry(c: Carrier): Promise<void> {
    while (this.outcome === undefined && !c.gaveUp) {
      const crew: Crew = { stopped: false, held: new Set() }
      let conn: SshConnection | undefined
      let lanes: Promise<void>[] = []
      try {
        const ready = await c.ready()
        conn = ready.conn
        await this.checkLinks(ready.first, conn)
        if (this.o.verify !== 'none') crew.hasher = new RangeHasher(conn, this, crew, c)
        // The first lane starts at once; the others as their channels open.
        const joining = ready.more.then(more =>
          Promise.all(more.map(sftp => this.lane(sftp, ready.conn, crew, c)))
        )
        lanes = [this.lane(ready.first, ready.conn, crew, c), joining.then(() => {})]
        await Promise.race([Promise.all(lanes), crew.hasher?.broken ?? new Promise<never>(() => {})])
        return
      } catch (err) {
        crew.stopped = true
        this.notify()
        crew.hasher?.end()
        await Promise.allSettled(lanes)
        for (const p of crew.held) this.putBack(p)
        crew.held.clear()
        if (this.outcome !== undefined) return
        if (err instanceof UserError) return this.settle(err)
        if (this.o.signal?.aborted) return this.settle(cancelled(this.o))
        const lost = !conn || conn.isClosed || err instanceof TransientError
        if (lost) c.lost()
        c.failures++
        if (c.failures > this.o.retries) {
          c.gaveUp = true
          if (this.carriers.every(x => x.gaveUp))
            this.settle(new UserError(`${errorMessage(err)} (gave up after ${c.failures} attempts)`))
          return
        }
        const delay = backoffDelay(c.failures, this.o.backoffBaseMs, 15000)
        this.o.logger.info(
          `${c.label}: ${errorMessage(err)}; ${lost ? 'reconnecting' : 'trying again'} in ${(delay / 1000).toFixed(1)} s (attempt ${c.failures + 1} of ${this.o.retries + 1}); the ranges it had not confirmed go to the other connections`
        )
        await sleep(delay)
      } finally {
        crew.hasher?.end()
      }
    }
  }

  /**
   * One channel: takes pieces and writes them with WRITES_IN_FLIGHT requests outstanding (the
   * channel's window), the next piece's writes right behind the last one's; a piece whose writes
   * are all acknowledged goes to the instance to be hashed (or is confirmed, without verification).
   */
  private async lane(sftp: Sftp, conn: SshConnection, crew: Crew, c: Carrier): Promise<void> {
    const handles = new Map<Stripe, Buffer>()
    const buffer = Buffer.allocUnsafe(READ_BLOCK)
    const inflight = new Set<Promise<void>>()
    let failed: { err: unknown; stripe: Stripe } | undefined
    let current: Stripe | undefined
    // The lane waits for room one wait at a time: a request that settles wakes it when there is room
    // (a race over every request in flight would subscribe to each of them again at every write).
    let wake: { below: number; resolve: () => void } | undefined
    const settled = () => {
      if (wake && (inflight.size <= wake.below || failed)) {
        const { resolve } = wake
        wake = undefined
        resolve()
      }
    }
    const track = (op: Promise<unknown>, stripe: Stripe, n: number): Promise<void> => {
      const w: Promise<void> = op.then(
        () => {
          inflight.delete(w)
          if (n) this.o.onBytes(n)
          settled()
        },
        err => {
          inflight.delete(w)
          failed ??= { err, stripe }
          settled()
        }
      )
      inflight.add(w)
      return w
    }
    const drain = async (below: number) => {
      while (inflight.size > below && !failed) await new Promise<void>(resolve => (wake = { below, resolve }))
      if (failed) throw failed.err
    }
    // Handles of striped files with nothing left to hand out are closed (after their writes, in order).
    const closeDone = (keep?: Stripe) => {
      for (const [s, h] of handles) {
        if (s === keep || !s.queue.empty) continue
        handles.delete(s)
        sftp.closeHandle(h).catch(() => {})
      }
    }
    try {
      for (;;) {
        if (this.outcome !== undefined || crew.stopped) break
        const piece = this.take()
        if (!piece) {
          await drain(0)
          closeDone()
          if (this.outcome !== undefined || crew.stopped) break
          await this.changed()
          continue
        }
        crew.held.add(piece)
        const s = piece.stripe
        current = s
        const chunk = writeChunk(sftp, WRITE_CHUNK)
        let handle = handles.get(s)
        if (!handle) {
          if (s.striped) {
            const opened = await s.openForRanges(sftp, conn)
            handle = opened.handle
            handles.set(s, handle)
            track(opened.mode, s, 0)
          } else handle = await s.create(sftp, conn)
        }
        closeDone(s)
        const local = await s.localFile()
        const acks: Promise<void>[] = []
        const hash = this.o.verify !== 'none' ? createHash('sha256') : undefined
        const end = piece.offset + piece.length
        for (let pos = piece.offset; pos < end; pos += READ_BLOCK) {
          const len = Math.min(READ_BLOCK, end - pos)
          const { bytesRead } = await local.read(buffer, 0, len, pos)
          if (bytesRead !== len) throw changedLocally(s.file)
          hash?.update(buffer.subarray(0, len))
          const step = chunk - handle.length
          for (let off = 0; off < len; off += step) {
            const n = Math.min(step, len - off)
            acks.push(track(sftp.write(handle, buffer.subarray(off, off + n), n, pos + off), s, n))
            await drain(WRITES_IN_FLIGHT - 1)
          }
        }
        // A file sent whole: its mode and close go right behind its writes.
        if (!s.striped) acks.push(track(s.closeWithMode(sftp, handle), s, 0))
        const digest = hash?.digest('hex')
        void Promise.all(acks)
          .then(() => !failed && this.o.onRangeWritten?.(s.temp, piece))
          .then(() => {
            if (failed || crew.stopped || !crew.held.has(piece) || this.outcome !== undefined) return
            if (crew.hasher) crew.hasher.ask(piece, digest ?? '')
            else this.confirm(piece, crew, c)
          })
          .catch(() => {})
      }
    } catch (err) {
      const on = failed?.stripe ?? current
      const why = failed ? failed.err : err
      throw on ? await on.explain(why, sftp, conn) : why
    } finally {
      for (const h of handles.values()) sftp.closeHandle(h).catch(() => {})
    }
  }
}

/**
 * Bytes per write request, header included, as close to `target` as fills whole SSH packets: a
 * request of exactly 64 KiB of data would take two full packets and a third of a few dozen bytes,
 * each encrypted and sent on its own. The caller takes the request's own header off (25 bytes and
 * the handle).
 */
function writeChunk(sftp: Sftp, target: number): number {
  const packet = (sftp.raw as unknown as { outgoing?: { packetSize?: number } }).outgoing?.packetSize
  if (!packet || packet < 4096) return target
  return Math.max(1, Math.round(target / packet)) * packet - 25
}

function changedLocally(file: PlannedFile): UserError {
  return new UserError(`Local file '${file.localPath}' changed during the upload.`)
}

/**
 * The instance hashing ranges for one connection (remote/range-hash.ts): a piece is asked for once
 * its writes are acknowledged, and its answer confirms it or sends it again.
 */
class RangeHasher {
  private readonly feed = new PassThrough()
  /** Pieces asked for, with the digest of the local bytes sent for them. */
  private readonly asked = new Map<string, { p: Piece; local: string }>()
  private partial = ''
  private ended = false
  /** Rejects when the script (or its connection) ends while the upload still needs it. */
  readonly broken: Promise<never>

  constructor(
    conn: SshConnection,
    private readonly work: Work,
    private readonly crew: Crew,
    private readonly carrier: Carrier
  ) {
    const run = largeFileHasher(conn).then(h =>
      execScript(conn, rangeHashScript(h), { stdin: this.feed, onStdout: chunk => this.read(chunk) })
    )
    this.broken = run.then(r => {
      if (this.ended) return new Promise<never>(() => {})
      throw new TransientError(
        `hashing ranges on the instance ended (exit ${r.code ?? r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n').pop()}` : ''})`
      )
    })
    this.broken.catch(() => {})
  }

  ask(p: Piece, local: string): void {
    if (this.feed.writableEnded) return
    this.asked.set(`${p.offset} ${p.stripe.asked}`, { p, local })
    this.feed.write(rangeHashRequest(p.stripe.asked, p.offset, p.length, !p.stripe.striped))
  }

  private read(chunk: Buffer): void {
    this.partial += chunk.toString('latin1')
    for (let nl = this.partial.indexOf('\n'); nl >= 0; nl = this.partial.indexOf('\n')) {
      const answer = parseRangeHash(this.partial.slice(0, nl))
      this.partial = this.partial.slice(nl + 1)
      const key = answer && `${answer.offset} ${answer.path}`
      const asked = key && this.asked.get(key)
      if (!asked) continue
      this.asked.delete(key)
      const { p, local } = asked
      // parseRangeHash gives 64 hex digits or nothing: no digest never matches, even an empty local one.
      if (answer.digest && answer.digest === local) this.work.confirm(p, this.crew, this.carrier)
      else
        this.work.failed(
          p,
          this.crew,
          `sha256 on the instance does not match (got ${answer.digest || 'nothing'})`
        )
    }
  }

  end(): void {
    this.ended = true
    if (!this.feed.writableEnded) this.feed.end()
  }
}
