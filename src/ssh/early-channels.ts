import type { Client, ClientChannel, SFTPWrapper } from 'ssh2'

/**
 * Channels opened right behind the signed login request (docs/ssh-round-trips.md, "Channels behind
 * the login"). RFC 4252, section 5.1, passes what a client sends after the authentication request
 * that succeeds to the service, so the CHANNEL_OPENs can go with the USERAUTH_REQUEST and their
 * confirmations come back with USERAUTH_SUCCESS: the open's round trip is paid by the login's.
 *
 * The opens are ssh2's own (client.sftp, client.exec): its channel manager gives the ids, so they
 * never collide with channels opened later, and ssh2 goes on with the subsystem or exec request
 * when the confirmation comes. What is added here is when they are sent, and a way back for a
 * server that does not take them:
 * - a server that refuses one (CHANNEL_OPEN_FAILURE) has it opened again the ordinary way;
 * - a server that drops them, or answers UNIMPLEMENTED (which ssh2 ignores), is found out by a
 *   global request sent once the login has succeeded: the server answers in order, so an answer
 *   to it while a channel is still unconfirmed means that channel's open was not taken. That
 *   channel is then opened the ordinary way; should its confirmation come after all, it is closed.
 * When ssh2's internals are not as expected nothing is opened early, and every channel is opened
 * the ordinary way once the login is done.
 */

export interface EarlyChannelsWanted {
  /** An SFTP channel. */
  sftp?: boolean
  /** An exec channel running this command. */
  exec?: string
  /** How many such exec channels (default 1). */
  execs?: number
}

type Callback<T> = (err: Error | undefined, channel?: T) => void

interface Ssh2Internals {
  _chanMgr?: { _channels?: Record<number, unknown> }
  _callbacks?: unknown[]
  _protocol?: { ping?: () => void }
}

/** A server's CHANNEL_OPEN_FAILURE: ssh2 gives its reason code (a lost connection gives none). */
function isOpenFailure(err: Error): boolean {
  return typeof (err as Error & { reason?: unknown }).reason === 'number'
}

/** One channel opened behind the login, waiting for whoever takes it. */
class EarlyChannel<T> {
  /** ssh2's own id of the channel (-1: not known, so never counted as confirmed). */
  private id = -1
  private result?: { err?: Error; channel?: T }
  private taker?: Callback<T>
  /** Not taken by the server: opened again the ordinary way for whoever takes it. */
  private abandoned = false

  constructor(
    private readonly internals: Ssh2Internals,
    /** Open the channel the ordinary way (through the client's methods, as wrapped for counting). */
    private readonly open: (cb: Callback<T>) => void,
    /** Close a channel that is no longer wanted. */
    private readonly discard: (channel: T) => void
  ) {}

  private channels(): Record<number, unknown> {
    return this.internals._chanMgr?._channels ?? {}
  }

  start(): void {
    const before = new Set(Object.keys(this.channels()))
    try {
      this.open((err, channel) => this.arrived(err, channel))
    } catch {
      this.abandoned = true
      return
    }
    const added = Object.keys(this.channels()).filter(k => !before.has(k))
    if (added.length === 1) this.id = Number(added[0])
  }

  /**
   * Whether the server has yet to answer the open: ssh2 holds a function for a channel it asked for
   * and replaces it by the channel at the confirmation (a refusal removes it).
   */
  get unconfirmed(): boolean {
    if (this.result || this.abandoned) return false
    return this.id < 0 || typeof this.channels()[this.id] === 'function'
  }

  private arrived(err: Error | undefined, channel?: T): void {
    if (this.abandoned) {
      if (channel) this.discard(channel)
      return
    }
    if (err && isOpenFailure(err)) return this.abandon()
    this.result = { err, channel }
    this.taker?.(err, channel)
  }

  /** The server did not take the open: whoever takes the channel gets one opened the ordinary way. */
  abandon(): void {
    if (this.abandoned || this.result) return
    this.abandoned = true
    if (this.taker) this.reopen(this.taker)
  }

  private reopen(cb: Callback<T>): void {
    try {
      this.open(cb)
    } catch (err) {
      cb(err as Error)
    }
  }

  take(cb: Callback<T>): void {
    this.taker = cb
    if (this.result) cb(this.result.err, this.result.channel)
    else if (this.abandoned) this.reopen(cb)
  }
}

export class EarlyChannels {
  private sftp?: EarlyChannel<SFTPWrapper>
  private exec?: { command: string; channels: EarlyChannel<ClientChannel>[] }
  /** Every channel opened early, taken or not. */
  private readonly all: { unconfirmed: boolean; abandon(): void }[] = []
  private opened = false

  private constructor(
    private readonly client: Client,
    private readonly internals: Ssh2Internals,
    private readonly wanted: EarlyChannelsWanted
  ) {}

  /**
   * Call right after client.connect() (which makes the internals read here); undefined when nothing
   * is wanted or ssh2 is not as expected.
   */
  static prepare(client: Client, wanted: EarlyChannelsWanted | undefined): EarlyChannels | undefined {
    if (!wanted || (!wanted.sftp && wanted.exec === undefined)) return undefined
    const internals = client as unknown as Ssh2Internals
    if (
      typeof internals._chanMgr?._channels !== 'object' ||
      !Array.isArray(internals._callbacks) ||
      typeof internals._protocol?.ping !== 'function'
    )
      return undefined
    return new EarlyChannels(client, internals, wanted)
  }

  /** The signed login request has just been sent: open the channels behind it (once). */
  open(): void {
    if (this.opened) return
    this.opened = true
    const { client, internals, wanted } = this
    if (wanted.sftp) {
      this.sftp = new EarlyChannel(
        internals,
        cb => client.sftp(cb),
        sftp => sftp.end()
      )
      this.sftp.start()
      this.all.push(this.sftp)
    }
    const command = wanted.exec
    if (command !== undefined) {
      this.exec = { command, channels: [] }
      for (let i = 0; i < (wanted.execs ?? 1); i++) {
        const channel = new EarlyChannel<ClientChannel>(
          internals,
          cb => client.exec(command, cb),
          ch => ch.close()
        )
        this.exec.channels.push(channel)
        channel.start()
        this.all.push(channel)
      }
    }
  }

  /**
   * USERAUTH_SUCCESS is in. A global request asked now is answered after every channel the server
   * took: one still unconfirmed then was not taken.
   */
  loggedIn(): void {
    const early = this.all
    if (!early.some(c => c.unconfirmed)) return
    const { _callbacks: callbacks, _protocol: proto } = this.internals
    if (!callbacks || typeof proto?.ping !== 'function') {
      for (const c of early) c.abandon()
      return
    }
    // ssh2 matches answers to global requests with this list, in order (its keepalives use it too).
    callbacks.push(() => {
      for (const c of early) if (c.unconfirmed) c.abandon()
    })
    proto.ping()
  }

  /** The SFTP channel opened behind the login, if there is one not yet taken: `cb` gets it as from client.sftp. */
  takeSftp(cb: Callback<SFTPWrapper>): boolean {
    const channel = this.sftp
    if (!channel) return false
    this.sftp = undefined
    channel.take(cb)
    return true
  }

  /** The exec channel opened behind the login for `command`, if not yet taken: `cb` gets it as from client.exec. */
  takeExec(command: string, cb: Callback<ClientChannel>): boolean {
    const channel = this.exec?.command === command ? this.exec.channels.shift() : undefined
    if (!channel) return false
    channel.take(cb)
    return true
  }
}
