import { errorMessage, TransientError, UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { connectSsh, type SshConnection, type SshLogin } from '../ssh/connection.js'
import type { EarlyChannelsWanted } from '../ssh/early-channels.js'
import type { HostKeyPolicy } from '../ssh/host-key.js'
import { RoundTrips } from '../ssh/round-trips.js'
import type { ResolvedTarget } from '../tunnel/index.js'
import { backoffDelay, sleep } from '../util/retry.js'

export interface TargetConnectionOptions {
  target: ResolvedTarget
  login: SshLogin
  hostKey: HostKeyPolicy
  logger: Logger
  retries: number
  backoffBaseMs: number
  beforeConnect?: (signal?: AbortSignal) => Promise<void>
  /** See SshConnectOptions.loginRefused. */
  loginRefused?: string
  /** Called with each new connection (to start work that later steps will need). */
  onConnect?: (conn: SshConnection) => void
  /** The channels each new connection opens behind its login (what onConnect and the first steps will open). */
  early?: EarlyChannelsWanted
}

/**
 * One target's SSH connection, kept across the steps of a deploy (lock, commands, upload, switch)
 * and reopened through the tunnel when it is lost.
 */
export class TargetConnection {
  private conn?: SshConnection
  private opened = 0
  /** Connection attempts after the first one. */
  reconnects = 0
  /** The round trips this target's connections waited for, by phase. */
  readonly trips = new RoundTrips()

  constructor(private readonly o: TargetConnectionOptions) {}

  get label(): string {
    return this.o.target.label
  }

  /** The live connection, if there is one now (nothing is opened). */
  get live(): SshConnection | undefined {
    return this.conn && !this.conn.isClosed ? this.conn : undefined
  }

  /** A connection being opened, shared by every caller until it settles. */
  private connecting?: Promise<SshConnection>

  /** The live connection, or a new one (a single attempt; callers decide about retries). */
  get(signal?: AbortSignal): Promise<SshConnection> {
    if (this.conn && !this.conn.isClosed) return Promise.resolve(this.conn)
    this.conn = undefined
    if (!this.connecting) {
      const opening = this.open(signal)
      this.connecting = opening
      const settled = () => {
        if (this.connecting === opening) this.connecting = undefined
      }
      opening.then(settled, settled)
    }
    return this.connecting
  }

  /**
   * Start connecting now, so the connection is ready (or on its way) when the first step wants it;
   * a failure here is forgotten and that step connects again. `signal` stops an unfinished attempt.
   */
  prewarm(signal: AbortSignal): void {
    this.get(signal).catch(() => {})
  }

  /** Wait until no connection attempt is under way (for a clean close). */
  async settle(): Promise<void> {
    await this.connecting?.catch(() => {})
  }

  /** Set the onConnect hook, and call it now if a connection is already open. */
  setOnConnect(fn: (conn: SshConnection) => void): void {
    this.o.onConnect = fn
    if (!this.conn || this.conn.isClosed) return
    // The channels it opens count to connecting, as they do when the hook runs on connecting (a
    // connection can be up before the deploy has planned its files).
    const was = this.trips.connecting
    this.trips.connecting = true
    try {
      fn(this.conn)
    } finally {
      this.trips.connecting = was
    }
  }

  private async open(signal?: AbortSignal): Promise<SshConnection> {
    if (this.opened++ > 0) this.reconnects++
    this.trips.connecting = true
    try {
      return await this.connect(signal)
    } finally {
      this.trips.connecting = false
    }
  }

  private async connect(signal?: AbortSignal): Promise<SshConnection> {
    // Opening the tunnel counts as one wait, whatever it takes inside (a TCP connect for nlb; an API
    // call and a WebSocket for ssm and eice).
    const opened = this.trips.send()
    const stream = await this.o.target.tunnel.open(signal)
    this.trips.answer(opened)
    if (this.o.beforeConnect) {
      const pushed = this.trips.send()
      await this.o.beforeConnect(signal)
      this.trips.answer(pushed)
    }
    this.conn = await connectSsh({
      label: this.label,
      stream,
      login: this.o.login,
      hostKey: this.o.hostKey,
      loginRefused: this.o.loginRefused,
      roundTrips: this.trips,
      early: this.o.early
    })
    // Channels opened on connecting count to it.
    this.o.onConnect?.(this.conn)
    // What is waited for next, before the upload, is planning (the lock, reading the instance).
    if (this.trips.phase === 'connect') this.trips.phase = 'plan'
    return this.conn
  }

  drop(): void {
    this.conn?.close()
    this.conn = undefined
  }

  /**
   * Run an idempotent step. When the connection fails under it, reconnect with backoff and run it
   * again (up to `retries` times); an error on a live connection, or a UserError, is final.
   */
  async step<T>(what: string, fn: (conn: SshConnection) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new UserError(`${what} on ${this.label} was cancelled.`)
      let conn: SshConnection | undefined
      try {
        conn = await this.get(signal)
        return await fn(conn)
      } catch (err) {
        if (err instanceof UserError) throw err
        if (signal?.aborted) throw new UserError(`${what} on ${this.label} was cancelled.`)
        const lost = !conn || conn.isClosed || err instanceof TransientError
        if (!lost) throw new UserError(`${what} on ${this.label}: ${errorMessage(err)}`)
        if (attempt > this.o.retries) {
          throw new UserError(
            `${what} on ${this.label}: ${errorMessage(err)} (gave up after ${attempt} attempts)`
          )
        }
        this.drop()
        const delay = backoffDelay(attempt, this.o.backoffBaseMs, 15000)
        this.o.logger.info(
          `${this.label}: ${what}: ${errorMessage(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${this.o.retries + 1})`
        )
        await sleep(delay)
      }
    }
  }

  close(): void {
    this.drop()
  }
}
