/**
 * Fault knobs of the Session Manager simulator, and the small machinery that applies them to one
 * direction of a data channel (seeded randomness, delay line, drop/duplicate/reorder).
 */

export interface DirectionFaults {
  /** Fraction 0..1 of stream/ack frames silently dropped. */
  drop?: number
  /** Fraction delivered twice. */
  duplicate?: number
  /** Fraction held back and delivered after the next frame. */
  reorder?: number
}

export interface SsmSimFaults {
  /** Seed of the fault dice, so a failing run can be replayed. */
  seed?: number
  clientToAgent?: DirectionFaults
  agentToClient?: DirectionFaults
  /** Client sequence numbers whose first acknowledgement the agent withholds. */
  withholdAcks?: number[]
  /** The agent dials the target this long after HandshakeComplete (client data meanwhile stays unacked). */
  dialDelayMs?: number
  /** The agent's dial fails (connection refused), ending the session with channel_closed. */
  dialFails?: boolean
  /** After this many uploaded payload bytes: pause_publication, then start_publication after `ms`. */
  pauseAfterBytes?: { bytes: number; ms: number }
  /** After this many uploaded payload bytes the service drops the socket once (1006) or closes it (1000 "Bye"). */
  killAfterBytes?: { bytes: number; code: 1006 | 1000 }
  /** The agent answers nothing after the HandshakeResponse (no HandshakeComplete). */
  handshakeNeverCompletes?: boolean
  /** The agent asks for KMSEncryption in its HandshakeRequest. */
  requestKms?: boolean
  /** Right after HandshakeComplete the service closes the channel with this Output. */
  channelClosedAfterHandshake?: string
  /** Largest accepted client payload; a bigger frame ends the session loudly. Real limit unknown. */
  maxFramePayload?: number
  /** Added round-trip latency, split evenly between the two directions. */
  rttMs?: number
  /** Reproduce the official client's pacing: client data frames are taken at most one per millisecond. */
  officialClientPacing?: boolean
  /** Agent read pacing (the real agent sleeps 1 ms per 1024-byte read of the target); 0 = none. */
  agentPacingMs?: number
  /** Agent handshake timeout (the real agent: 15 s). */
  handshakeTimeoutMs?: number
}

/** mulberry32: tiny, fast, good enough for fault dice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Runs callbacks after a fixed delay, in order, with a single timer. */
export class DelayLine {
  private queue: { due: number; fn: () => void }[] = []
  private head = 0
  private timer?: NodeJS.Timeout
  private closed = false

  constructor(
    private readonly delayMs: () => number,
    /** Runs each batch of due callbacks (e.g. inside a socket cork, so a batch becomes one write). */
    private readonly batch: (run: () => void) => void = run => run()
  ) {}

  push(fn: () => void): void {
    if (this.closed) return
    const delay = this.delayMs()
    if (delay <= 0 && this.head === this.queue.length) return fn()
    this.queue.push({ due: Date.now() + delay, fn })
    this.arm()
  }

  private arm(): void {
    if (this.timer || this.head >= this.queue.length) return
    const wait = Math.max(0, this.queue[this.head].due - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      const now = Date.now()
      this.batch(() => {
        while (this.head < this.queue.length && this.queue[this.head].due <= now && !this.closed) {
          this.queue[this.head++].fn()
        }
      })
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      this.arm()
    }, wait)
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.queue = []
    this.head = 0
  }
}

/** Drop / duplicate / reorder for one direction; `deliver` gets what survives, in the new order. */
export class FaultyLink {
  private held?: () => void
  private heldTimer?: NodeJS.Timeout

  constructor(
    private readonly faults: () => DirectionFaults | undefined,
    private readonly random: () => number
  ) {}

  pass(deliver: () => void): void {
    const f = this.faults()
    // No dice to roll and nothing held: the common case, one call per frame.
    if (!f || (!f.drop && !f.duplicate && !f.reorder && !this.held)) return deliver()
    if (f.drop && this.random() < f.drop) return
    const times = f.duplicate && this.random() < f.duplicate ? 2 : 1
    const send = () => {
      for (let i = 0; i < times; i++) deliver()
    }
    if (!this.held && f.reorder && this.random() < f.reorder) {
      this.held = send
      this.heldTimer = setTimeout(() => this.release(), 20)
      return
    }
    send()
    this.release()
  }

  private release(): void {
    const held = this.held
    this.held = undefined
    if (this.heldTimer) clearTimeout(this.heldTimer)
    this.heldTimer = undefined
    held?.()
  }

  close(): void {
    if (this.heldTimer) clearTimeout(this.heldTimer)
    this.held = undefined
  }
}
