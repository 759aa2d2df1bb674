import type { OpenMode, SFTPWrapper } from 'ssh2'
import path from 'node:path'
import { sftpRoundTrips, type RoundTrips } from '../ssh/round-trips.js'

/** Promise wrappers over the few ssh2 SFTP calls the engine uses. */

export interface SftpStatusError extends Error {
  code?: number
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
export const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  OP_UNSUPPORTED: 8
} as const

/** statvfs(2) as statvfs@openssh.com carries it (sizes in units of frsize; flag 1 is ST_RDONLY). */
export interface FsInfo {
  f_frsize: number | bigint
  f_blocks: number | bigint
  f_bavail: number | bigint
  f_favail: number | bigint
  f_flag: number | bigint
}

/** A path mkdirp must make a folder of is something else (a file, a link to one). */
export class NotAFolderError extends Error {
  readonly code = SFTP_STATUS.FAILURE
  constructor(readonly path: string) {
    super(`${path} exists and is not a folder`)
  }
}

type Callback<T> = (err: Error | null | undefined, v?: T) => void

export class Sftp {
  /** Folders known to exist on this connection, so `mkdir -p` costs one round trip per new folder. */
  private dirs = new Map<string, Promise<void>>()
  private readonly assumed = new Set<string>()
  /** The folders of `dirs` whose making has settled well (or that are assumed). */
  private readonly ready = new Set<string>()
  readonly hasPosixRename: boolean
  private readonly hasStatvfs: boolean
  /** Where this channel's requests are counted. */
  private readonly trips?: RoundTrips

  /** `guard` makes every call reject as soon as the connection underneath is lost. */
  constructor(
    readonly raw: SFTPWrapper,
    private readonly guard: <T>(op: Promise<T>) => Promise<T> = op => op
  ) {
    // ssh2 records the extensions the server announced in its VERSION packet.
    const exts = (raw as unknown as { _extensions?: Record<string, string> })._extensions ?? {}
    this.hasPosixRename = 'posix-rename@openssh.com' in exts
    this.hasStatvfs = 'statvfs@openssh.com' in exts
    this.trips = sftpRoundTrips(raw)
    coalesceRequests(raw)
  }

  /**
   * Open a file. `then`, when given, is called with the handle as the answer is read, before the
   * promise settles: requests it makes go out at once, ahead of whatever else the same read of the
   * connection brought (the round-trip counter sees them as what they are, one wait after the open).
   */
  open(p: string, flags: OpenMode | number, mode: number, then?: (handle: Buffer) => void): Promise<Buffer> {
    return this.call<Buffer>(cb => this.raw.open(p, flags, { mode }, cb), then)
  }
  /**
   * Resolves once every byte is acknowledged; `buf` may be reused as soon as this returns. ssh2
   * copies a request's bytes as it makes it, but what is over the server's write limit it sends
   * only after the first part is answered, from `buf` as it is by then: so each part is asked for
   * here, at once (the limit is about 33 KiB for a server that is not OpenSSH).
   */
  write(handle: Buffer, buf: Buffer, len: number, position: number): Promise<void> {
    const max = this.maxWriteBytes()
    if (len <= max) return this.call(cb => this.raw.write(handle, buf, 0, len, position, cb))
    const parts: Promise<void>[] = []
    for (let off = 0; off < len; off += max) {
      const n = Math.min(max, len - off)
      parts.push(this.call(cb => this.raw.write(handle, buf, off, n, position + off, cb)))
    }
    return Promise.all(parts).then(() => {})
  }

  /** ssh2's largest write request for this server (its own field; a cautious size should it go). */
  private maxWriteBytes(): number {
    const max = (this.raw as unknown as { _maxWriteLen?: unknown })._maxWriteLen
    return typeof max === 'number' && max > 0 ? max : 32 * 1024
  }
  read(handle: Buffer, buf: Buffer, len: number, position: number): Promise<number> {
    return this.call<number>(cb => this.raw.read(handle, buf, 0, len, position, (err, n) => cb(err, n)))
  }
  fstat(handle: Buffer) {
    return this.call<{ mode: number }>(cb => this.raw.fstat(handle, cb))
  }
  fchmod(handle: Buffer, mode: number): Promise<void> {
    return this.call(cb => this.raw.fchmod(handle, mode, cb))
  }
  chmod(p: string, mode: number): Promise<void> {
    return this.call(cb => this.raw.chmod(p, mode, cb))
  }
  closeHandle(handle: Buffer): Promise<void> {
    return this.call(cb => this.raw.close(handle, cb))
  }
  unlink(p: string): Promise<void> {
    return this.call(cb => this.raw.unlink(p, cb))
  }

  /** Remove an empty folder. */
  rmdir(p: string): Promise<void> {
    return this.call(cb => this.raw.rmdir(p, cb))
  }
  stat(p: string) {
    return this.call<{ isDirectory(): boolean; size: number; mode: number }>(cb => this.raw.stat(p, cb))
  }

  realpath(p: string): Promise<string> {
    return this.call<string>(cb => this.raw.realpath(p, cb))
  }
  readlink(p: string): Promise<string> {
    return this.call<string>(cb => this.raw.readlink(p, cb))
  }
  lstat(p: string) {
    return this.call<{ isDirectory(): boolean; isSymbolicLink(): boolean }>(cb => this.raw.lstat(p, cb))
  }
  /** The file system's figures (statvfs@openssh.com), or undefined when the server has no such extension. */
  async statvfs(p: string): Promise<FsInfo | undefined> {
    if (!this.hasStatvfs) return undefined
    return this.call<FsInfo>(cb => this.raw.ext_openssh_statvfs(p, cb))
  }

  /** Replace `to` with `from` in one step (posix-rename), or as close to it as the server allows. */
  renameOver(from: string, to: string): Promise<void> {
    if (this.hasPosixRename) return this.call(cb => this.raw.ext_openssh_rename(from, to, cb))
    return this.renameThenReplace(from, to)
  }

  private async renameThenReplace(from: string, to: string): Promise<void> {
    try {
      await this.call(cb => this.raw.rename(from, to, cb))
    } catch {
      // Plain SFTP rename refuses to overwrite: remove the old file first (a short window without it).
      await this.unlink(to).catch(() => {})
      await this.call(cb => this.raw.rename(from, to, cb))
    }
  }

  /**
   * A whole file in one exchange: the open, then the write of `data` (none when it is empty), what
   * `opened` sends with the handle (it is called as the open's answer is read) and the close, all
   * sent together as soon as the open is answered. Settles once the write and the close are
   * answered, with the first error. One promise for the file rather than one per request: with
   * thousands of small files in flight, the promises and their reactions were a large part of the
   * client's CPU. An error before `opened` is called is the open's.
   */
  putWhole(p: string, mode: number, data: Buffer, opened: (handle: Buffer) => void): Promise<void> {
    const trips = this.trips
    const raw = this.raw
    return this.guard(
      new Promise<void>((resolve, reject) => {
        const depth = trips ? trips.send() : 0
        raw.open(p, 'w', { mode }, (err, handle) => {
          if (trips) trips.answer(depth)
          if (err) return reject(err)
          let left = data.length > 0 ? 2 : 1
          let settled = false
          const answered = (e: Error | null | undefined) => {
            if (settled) return
            if (e) {
              settled = true
              reject(e)
            } else if (--left === 0) {
              settled = true
              resolve()
            }
          }
          const next = trips ? trips.send() : 0
          if (data.length > 0)
            raw.write(handle, data, 0, data.length, 0, e => {
              if (trips) trips.answer(next)
              answered(e)
            })
          try {
            opened(handle)
          } catch (e) {
            answered(e as Error) // inside ssh2's reading of the connection: never thrown there
          }
          raw.close(handle, e => {
            if (trips) trips.answer(next)
            answered(e)
          })
        })
      })
    )
  }

  /** Is this folder known to exist (made, seen, or assumed) on this connection? */
  hasDir(dir: string): boolean {
    return this.ready.has(dir)
  }

  /**
   * One request: counted as a round trip (ssh/round-trips.ts) from when it is made until its answer
   * is read; `then` gets a successful answer right there, before the promise settles.
   */
  private call<T>(fn: (cb: Callback<T>) => void, then?: (v: T) => void): Promise<T> {
    const trips = this.trips
    const depth = trips ? trips.send() : 0
    return this.guard(
      new Promise<T>((resolve, reject) =>
        fn((err, v) => {
          if (trips) trips.answer(depth)
          if (err) return reject(err)
          try {
            then?.(v as T)
          } catch (e) {
            return reject(e as Error) // inside ssh2's reading of the connection: never thrown there
          }
          resolve(v as T)
        })
      )
    )
  }

  /** Folders known to exist already (a sync saw files in them): mkdirp asks nothing about them. */
  assumeDirs(dirs: Iterable<string>): void {
    for (const d of dirs) {
      if (this.dirs.has(d)) continue
      this.dirs.set(d, Promise.resolve())
      this.assumed.add(d)
      this.ready.add(d)
    }
  }

  /**
   * Make folders without waiting for them (parents first): each mkdir goes out now, ahead of the
   * opens that need it, and sftp-server handles a channel's requests in the order they came, so
   * those opens find their folders in the same round trip. No answer is waited for: a folder still
   * missing makes its files' opens fail, and the upload then makes it with mkdirp, which says why
   * it cannot. (A server that reorders requests costs that fallback, never a misplaced file.) A
   * pack sent meanwhile on the shell waits for its folders there (remote/pack.ts).
   */
  mkdirAhead(dirs: string[]): void {
    for (const d of dirs) this.call(cb => this.raw.mkdir(d, cb)).catch(() => {})
    this.assumeDirs(dirs)
  }

  /** A folder assumed to exist was missing after all: assume none, and mkdirp asks again. */
  forgetAssumedDirs(): void {
    for (const d of this.assumed) {
      this.dirs.delete(d)
      this.ready.delete(d)
    }
    this.assumed.clear()
  }

  /**
   * `mkdir -p`, once per folder per connection. Asks about the folder itself first: on a redeploy it
   * exists, and that is one round trip instead of one or two per level of the path (which add up
   * over ssm, where a round trip is tens of milliseconds).
   */
  mkdirp(dir: string): Promise<void> {
    if (dir === '/' || dir === '.' || dir === '') return Promise.resolve()
    let p = this.dirs.get(dir)
    if (!p) {
      p = (async () => {
        const st = await this.stat(dir).catch((err: SftpStatusError) => {
          if (err.code === SFTP_STATUS.NO_SUCH_FILE) return undefined
          throw err
        })
        if (st) {
          if (st.isDirectory()) return
          throw new NotAFolderError(dir)
        }
        await this.mkdirp(path.posix.dirname(dir))
        try {
          await this.call(cb => this.raw.mkdir(dir, cb))
        } catch (err) {
          // Made by someone else meanwhile?
          const again = await this.stat(dir).catch(() => undefined)
          if (!again?.isDirectory()) throw err
        }
      })()
      this.dirs.set(dir, p)
      p.then(
        () => {
          if (this.dirs.get(dir) === p) this.ready.add(dir)
        },
        () => this.dirs.delete(dir)
      )
    }
    return p
  }

  end(): void {
    this.raw.end()
  }
}

type Protocol = Record<string | symbol, unknown> & { channelData(id: number, data: Buffer): void }
interface SftpInternals {
  _protocol?: Protocol
  outgoing?: { id: number; packetSize: number }
}

/** Channels already gathering: a connection's channel outlives one upload session, and is wrapped once. */
const gathering = new WeakSet<SFTPWrapper>()

/**
 * ssh2 sends every SFTP request in an SSH packet of its own, and each packet is encrypted and
 * authenticated on its own: with many small files in flight, that per-packet work is most of the
 * client's CPU. SFTP is a byte stream inside its channel, so the requests of one tick can share
 * packets: this channel's data is gathered until the end of the tick (or a full packet) and sent
 * together. Any other call ssh2 makes for the channel sends what is gathered first, so nothing
 * overtakes it. ssh2 has already split the data to the packet size and counted it against the window.
 */
function coalesceRequests(raw: SFTPWrapper): void {
  if (gathering.has(raw)) return
  gathering.add(raw)
  const sftp = raw as unknown as SftpInternals
  const protocol = sftp._protocol
  const outgoing = sftp.outgoing
  // A different ssh2 inside: leave it as it is.
  if (!protocol || typeof protocol.channelData !== 'function' || !outgoing?.packetSize) return
  let pending: Buffer[] = []
  let pendingBytes = 0
  let scheduled = false
  const flush = () => {
    if (pendingBytes === 0) return
    const data = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes)
    pending = []
    pendingBytes = 0
    protocol.channelData(outgoing.id, data)
  }
  const gather = (id: number, data: Buffer | string) => {
    // Large pieces (file data) fill packets by themselves: they go straight out, after what is gathered.
    if (id !== outgoing.id || !Buffer.isBuffer(data) || data.length > outgoing.packetSize / 4) {
      flush()
      return protocol.channelData(id, data as Buffer)
    }
    if (pendingBytes + data.length > outgoing.packetSize) flush()
    pending.push(data)
    pendingBytes += data.length
    if (!scheduled) {
      scheduled = true
      process.nextTick(() => {
        scheduled = false
        flush()
      })
    }
  }
  sftp._protocol = new Proxy(protocol, {
    get(target, prop) {
      if (prop === 'channelData') return gather
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        flush()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    }
  })
}
