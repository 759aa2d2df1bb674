import type { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import type { ClientChannel, SFTPWrapper } from 'ssh2'
import { TransientError, UserError } from '../errors.js'
import { EarlyChannels, type EarlyChannelsWanted } from './early-channels.js'
import { fingerprint, HostKeyPolicy, normaliseFingerprint } from './host-key.js'
import { countSftpRequests, RoundTrips } from './round-trips.js'
import { pipelineLogin } from './pipelined-login.js'
import { readOpenSshKeyHeader } from './private-key.js'
import { sftpReadyAtVersion } from './sftp-ready-at-version.js'

const { Client } = ssh2

/** Whether ssh2 still sends on this SFTP channel (it drops requests once the channel is closing). */
function isOpen(sftp: SFTPWrapper): boolean {
  const state = (sftp as unknown as { outgoing?: { state?: string } }).outgoing?.state
  return state === undefined || state === 'open'
}

export interface SshLogin {
  user: string
  privateKey: string | Buffer
  passphrase?: string
}

/**
 * How long requests may wait with nothing at all coming back before the connection counts as stalled.
 * While requests wait, a keepalive goes out every quarter of this, and a live sshd answers it even when
 * a command is busy, so only a peer that stopped answering stays silent this long. A variable, so that
 * tests can shorten it (stallTimeoutMs in SshConnectOptions does for one connection).
 */
export const stallDefaults = { timeoutMs: 20000 }

/**
 * Without any answer for this long, even when nothing waits, ssh2's keepalive count drops the connection
 * (OpenSSH's ServerAliveInterval 30 x ServerAliveCountMax 4 would say the same).
 */
const IDLE_DEAD_MS = 150000

export interface SshConnectOptions {
  /** What errors call the target. */
  label: string
  stream: Duplex
  login: SshLogin
  hostKey: HostKeyPolicy
  readyTimeoutMs?: number
  /**
   * sshd greets at once; a peer that accepts and stays silent this long is not sshd (or a load
   * balancer with no healthy target), which retrying does not change.
   */
  greetingTimeoutMs?: number
  /** Why the login may have been refused, in place of the authorized_keys hint (one-time keys). */
  loginRefused?: string
  /** See stallDefaults; default stallDefaults.timeoutMs. */
  stallTimeoutMs?: number
  /** Where the connection's round trips are counted (a target's connections share one). */
  roundTrips?: RoundTrips
  /**
   * Channels to open right behind the login (early-channels.ts): the connection's first sftp() and
   * its first exec() of this command get them, one round trip sooner.
   */
  early?: EarlyChannelsWanted
}

/**
 * Ciphers in order of preference: AES-GCM runs in OpenSSL through Node's crypto, while ssh2's
 * chacha20-poly1305 falls back to pure JavaScript without its optional native addon (several times slower).
 */
const CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes256-ctr',
  'chacha20-poly1305@openssh.com'
] as const

export class SshConnection {
  private closed = false
  /**
   * Operations under way. ssh2 leaves some requests pending forever when the transport dies under
   * them, so losing the connection rejects every one of them. (A Set rather than Promise.race against
   * one long-lived promise, which would keep a reaction per operation for the connection's lifetime.)
   */
  private readonly pending = new Set<(err: Error) => void>()

  constructor(
    readonly client: InstanceType<typeof Client>,
    readonly label: string,
    /** The login name (errors say which user could not write where). */
    readonly user = '',
    /** The round trips this connection's requests wait for (see round-trips.ts); connectSsh counts them. */
    readonly trips: RoundTrips = new RoundTrips(),
    /** The channels opened behind the login, until taken. */
    private readonly early?: EarlyChannels
  ) {
    const gone = () => this.lose(`the connection to ${label} was lost`)
    client.once('close', gone)
    client.once('end', gone)
  }

  /** Mark the connection lost: every operation under way rejects (TransientError: the caller reconnects). */
  private lose(why: string): void {
    if (this.closed) return
    this.closed = true
    const err = new TransientError(why)
    for (const reject of this.pending) reject(err)
    this.pending.clear()
  }

  /** Are requests waiting for answers? */
  get busy(): boolean {
    return this.pending.size > 0
  }

  /**
   * The peer stopped answering without closing (a frozen tunnel, a dead NAT entry): give up on this
   * connection now, rather than when TCP or the keepalive count notices minutes later.
   */
  stalled(stream: Duplex, silentMs: number): void {
    this.lose(
      `no answer from ${this.label} for ${Math.round(silentMs / 1000)} s while requests were waiting (the connection stalled)`
    )
    this.client.end()
    stream.destroy()
  }

  /** Settle with the operation, or reject as soon as the connection is lost. */
  guard<T>(op: Promise<T>): Promise<T> {
    if (this.closed) {
      op.catch(() => {})
      return Promise.reject(new TransientError(`the connection to ${this.label} was lost`))
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject)
      op.then(
        v => {
          this.pending.delete(reject)
          resolve(v)
        },
        err => {
          this.pending.delete(reject)
          reject(err)
        }
      )
    })
  }

  get isClosed(): boolean {
    return this.closed
  }

  private sftpChannel?: Promise<SFTPWrapper>
  /** The channel sftpChannel resolved to, once it has. */
  private sftpOpen?: SFTPWrapper

  /**
   * The connection's SFTP channel, opened on first use and shared until it closes, so a deploy can
   * open it early (its round trips overlapping other work) and the upload finds it ready.
   */
  sftp(): Promise<SFTPWrapper> {
    // A channel someone ended (an upload session does when it is done) is closing: ssh2 would drop
    // requests on it without a word, so the next user gets a new one.
    if (this.sftpOpen && !isOpen(this.sftpOpen)) this.forgetSftp(this.sftpChannel)
    if (!this.sftpChannel) {
      const opening: Promise<SFTPWrapper> = this.guard(
        new Promise((resolve, reject) =>
          this.openSftp((err, sftp) =>
            err || !sftp
              ? reject(new TransientError(`SFTP on ${this.label}: ${err?.message}`))
              : resolve(sftp)
          )
        )
      )
      const forget = () => this.forgetSftp(opening)
      opening.then(sftp => {
        if (this.sftpChannel === opening) this.sftpOpen = sftp
        sftp.once('end', forget)
        sftp.once('close', forget)
      }, forget)
      this.sftpChannel = opening
    }
    return this.sftpChannel
  }

  private openSftp(cb: (err: Error | undefined, sftp?: SFTPWrapper) => void): void {
    if (!this.early?.takeSftp(cb)) this.client.sftp(cb)
  }

  /** An exec channel running `command`: the one opened behind the login for it if it is still there, else a new one. */
  exec(command: string, cb: (err: Error | undefined, channel?: ClientChannel) => void): void {
    if (!this.early?.takeExec(command, cb)) this.client.exec(command, cb)
  }

  private forgetSftp(channel: Promise<SFTPWrapper> | undefined): void {
    if (!channel || this.sftpChannel !== channel) return
    this.sftpChannel = undefined
    this.sftpOpen = undefined
  }

  close(): void {
    this.client.end()
  }
}

type ChannelCallback = (err: Error | undefined, channel: unknown) => void

/**
 * Count the waits of exec channels (the open and the exec request: two in a row; then each time
 * what we send is answered: a command's stdin and its output, each script of a long-lived shell)
 * and of SFTP channels (open, subsystem, version: three in a row, ready without waiting for the
 * limits, see sftp-ready-at-version.ts; then every request). A channel opened behind the login
 * (early-channels.ts) is counted from the answers in when its open goes, so its open shares the
 * login's turn.
 */
function countRequests(client: InstanceType<typeof Client>, trips: RoundTrips): void {
  const wrap = (name: 'exec' | 'sftp', steps: number, then: (channel: object) => void) => {
    const original = (client[name] as (...args: unknown[]) => unknown).bind(client)
    ;(client as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const cb = args[args.length - 1] as ChannelCallback
      const depth = trips.send(steps)
      args[args.length - 1] = (err: Error | undefined, channel: unknown) => {
        trips.answer(depth)
        if (!err && channel) then(channel as object)
        cb(err, channel)
      }
      return original(...args)
    }
  }
  wrap('exec', 2, channel => {
    const ch = channel as Duplex & { stderr?: Duplex }
    // Turns, as in the handshake: what we send after the last answer waits for the next one. A
    // long-lived shell takes one turn per script (written, then its output), a command one in all.
    // Once the peer has ended its side, what we send (our own end, in reply) waits for nothing.
    let depth = 0
    let peerEnded = false
    const sending = <F extends (...a: never[]) => unknown>(fn: F): F =>
      ((...a: Parameters<F>) => {
        if (!depth && !peerEnded) depth = trips.send()
        return fn.apply(ch, a)
      }) as F
    const answered = () => {
      if (!depth) return
      trips.answer(depth)
      depth = 0
    }
    const ended = () => {
      peerEnded = true
      answered()
    }
    ch.write = sending(ch.write)
    ch.end = sending(ch.end)
    // What ssh2 hands the channel is watched where it is pushed, not with listeners: a 'data'
    // listener would start the stream flowing, and its end and close could then pass before the
    // channel's user listens for them.
    const watch = (stream: Duplex) => {
      const push = stream.push.bind(stream)
      stream.push = (chunk: unknown, encoding?: BufferEncoding) => {
        if (chunk === null) ended()
        else answered()
        return push(chunk, encoding)
      }
    }
    watch(ch)
    if (ch.stderr) watch(ch.stderr)
    ch.once('close', ended)
  })
  wrap('sftp', 3, sftp => countSftpRequests(sftp, trips))
}

/** Check a private key (and passphrase) before any connection, so a bad secret is one clear line. */
export function checkPrivateKey(key: string | Buffer, passphrase?: string): void {
  // The structure and the key-derivation cost first: ssh2's parse would run any round count it is given.
  const header = readOpenSshKeyHeader(key)
  if (header?.kdf === 'bcrypt' && !passphrase) {
    throw new UserError("Input 'ssh-private-key' is encrypted: give its passphrase in 'ssh-passphrase'.")
  }
  const parsed = ssh2.utils.parseKey(key, passphrase)
  // ssh2 reads public keys too: one pasted here would be offered, refused and retried as if the
  // instance were at fault.
  const first = Array.isArray(parsed) ? parsed[0] : parsed
  if (!(first instanceof Error) && first && !first.isPrivateKey()) {
    throw new UserError(
      `Input 'ssh-private-key' holds a public key (${first.type}), not a private key: give the private key file (the one without .pub, starting with -----BEGIN); the public key belongs in the instance's authorized_keys.`
    )
  }
  if (parsed instanceof Error) {
    const msg = parsed.message
    if (/passphrase/i.test(msg) && !passphrase) {
      throw new UserError("Input 'ssh-private-key' is encrypted: give its passphrase in 'ssh-passphrase'.")
    }
    if (passphrase && /(bad passphrase|decrypt|Failed to|integrity|Malformed)/i.test(msg)) {
      throw new UserError(
        "Input 'ssh-passphrase' does not decrypt 'ssh-private-key': check the passphrase secret."
      )
    }
    throw new UserError(
      `Input 'ssh-private-key' is not a private key ssh can read (${msg}): paste the whole key including its BEGIN and END lines.`
    )
  }
}

/**
 * ssh2 writes every SSH packet to the stream on its own: one system call per packet, the largest
 * single CPU cost of many small SFTP requests. Corking the stream for the rest of the tick turns the
 * packets one tick produces into one vectored write; the bytes and their order are unchanged.
 */
function coalesceWrites(stream: Duplex): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
  let corked = false
  const uncork = () => {
    corked = false
    stream.uncork()
  }
  stream.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true
      stream.cork()
      process.nextTick(uncork)
    }
    return write(...args)
  }) as Duplex['write']
}

/**
 * Drop the connection when requests have waited `stallMs` with not one byte from the peer (the
 * keepalives a live peer answers included). Idle time does not count: nothing is expected then.
 */
function watchForStalls(conn: SshConnection, stream: Duplex, stallMs: number): void {
  let heard = Date.now()
  stream.on('data', () => {
    heard = Date.now()
  })
  const timer = setInterval(
    () => {
      if (conn.isClosed) return clearInterval(timer)
      const now = Date.now()
      if (!conn.busy) heard = now
      else if (now - heard >= stallMs) {
        clearInterval(timer)
        conn.stalled(stream, now - heard)
      }
    },
    Math.max(25, Math.floor(stallMs / 10))
  )
  timer.unref()
}

/** How long a peer may stay silent after connecting (sshd sends its version line at once). */
export const GREETING_TIMEOUT_MS = 15_000

/** Open an SSH session over any byte stream, verifying the host key as the policy says. */
export function connectSsh(opts: SshConnectOptions): Promise<SshConnection> {
  const { stream, login, hostKey, label } = opts
  const stallMs = opts.stallTimeoutMs ?? stallDefaults.timeoutMs
  const keepaliveMs = Math.max(50, Math.floor(stallMs / 4))
  const trips = opts.roundTrips ?? new RoundTrips()
  return new Promise((resolve, reject) => {
    const client = new Client()
    // Before the login: channels opened behind it are counted too.
    countRequests(client, trips)
    let received: string | undefined
    let settled = false
    // Set once the stream is handed to ssh2; cleared by the first byte, the login or a failure.
    const greeting: { timer?: NodeJS.Timeout } = {}
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      clearTimeout(greeting.timer)
      client.end()
      stream.destroy()
      reject(err)
    }
    client.once('ready', () => {
      settled = true
      clearTimeout(greeting.timer)
      client.removeListener('error', onError)
      client.on('error', () => {}) // later errors surface through the operations that hit them
      early?.loggedIn()
      const conn = new SshConnection(client, label, login.user, trips, early)
      watchForStalls(conn, stream, stallMs)
      resolve(conn)
    })
    const onError = (err: Error & { level?: string }) => {
      if (received && err.message.includes('verification failed')) {
        const expected =
          hostKey.kind === 'fingerprint'
            ? normaliseFingerprint(hostKey.fingerprint)
            : `one of the keys in ${hostKey.kind === 'known-hosts' ? hostKey.source : 'the pinned keys'}`
        return fail(
          new UserError(
            `Host key verification failed for ${label}: expected ${expected}, received ${received}. If the instance was rebuilt, update the pinned key.`
          )
        )
      }
      if (err.level === 'client-authentication') {
        return fail(
          new UserError(
            opts.loginRefused
              ? `SSH login to ${label} failed: ${opts.loginRefused}.`
              : `SSH login as '${login.user}' was refused by ${label}: the key is not authorized for that user; check 'user' and the instance's authorized_keys.`
          )
        )
      }
      fail(new TransientError(`SSH to ${label} failed: ${err.message}`, { cause: err }))
    }
    client.on('error', onError)
    coalesceWrites(stream)
    const stopCounting = opts.roundTrips && trips.countTurns(stream)
    if (stopCounting) {
      client.once('ready', stopCounting)
      stream.once('close', stopCounting)
    }
    stream.once('close', () =>
      fail(new TransientError(`the connection to ${label} closed during the SSH handshake`))
    )
    client.connect({
      sock: stream as Parameters<InstanceType<typeof Client>['connect']>[0]['sock'],
      username: login.user,
      privateKey: login.privateKey,
      passphrase: login.passphrase,
      // The key is the only way in: ssh2 would first try 'none' to learn the methods, a round trip
      // that costs tens of milliseconds over ssm or eice. (A list, not a function returning the key:
      // ssh2 then signs with the key it parsed once here, and does not run an encrypted key's KDF again.)
      // pipelineLogin below sends that attempt signed, right behind the service request.
      authHandler: ['publickey'],
      readyTimeout: opts.readyTimeoutMs ?? 30000,
      // Frequent enough that a waiting request always hears something from a live peer (watchForStalls);
      // also keeps an NLB's flow (dropped after 350 s idle) open.
      keepaliveInterval: keepaliveMs,
      keepaliveCountMax: Math.ceil(IDLE_DEAD_MS / keepaliveMs),
      algorithms: { cipher: [...CIPHERS] },
      hostVerifier: (key: Buffer) => {
        received = fingerprint(key)
        if (hostKey.kind === 'any') return true
        if (hostKey.kind === 'fingerprint') return received === normaliseFingerprint(hostKey.fingerprint)
        return hostKey.keys.some(k => k.equals(key))
      }
    })
    const early = EarlyChannels.prepare(client, opts.early)
    pipelineLogin(client, early && (() => early.open()))
    sftpReadyAtVersion(client)
    const greetingMs = opts.greetingTimeoutMs ?? GREETING_TIMEOUT_MS
    greeting.timer = setTimeout(
      () =>
        fail(
          new UserError(
            `${label} accepted the connection but sent no SSH greeting in ${Math.round(greetingMs / 1000)} s, so it is not sshd: check the address and port (for nlb, a TCP listener that forwards to the instance's sshd port and has a healthy target; for ssm and eice, the 'port' sshd listens on).`
          )
        ),
      greetingMs
    )
    stream.once('data', () => clearTimeout(greeting.timer))
  })
}
