import { readFileSync } from 'node:fs'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * WAN emulation for the sandbox and the bench: a userspace TCP relay (kernel netem is not available
 * on these machines) that makes a loopback connection behave like a long one. Each direction is
 * delayed by half the round-trip time; each direction of a connection keeps at most `windowBytes`
 * unacknowledged, as a TCP window does (bytes count from the moment the relay takes them until their
 * acknowledgement is back, half a round trip after delivery); an optional rate cap is the link's
 * bandwidth, shared by every connection through the relay, each direction on its own.
 */

export interface WanLink {
  /** Round-trip time; each direction is delayed by half. */
  rttMs: number
  /** Unacknowledged bytes per connection and direction (default: largestTcpWindow()). */
  windowBytes?: number
  /** Bandwidth of the link, each direction (default: unlimited). */
  rateBytesPerSecond?: number
}

/** The clock the relay schedules with: real time by default, a manual one in tests. */
export interface RelayClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realClock: RelayClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: h => clearTimeout(h as NodeJS.Timeout)
}

const FALLBACK_WINDOW = 4 * 1024 * 1024
const SEGMENT = 16 * 1024

/**
 * The largest send window the machine's TCP would use: the third field of
 * /proc/sys/net/ipv4/tcp_wmem (min, default, max), else 4 MiB.
 */
export function largestTcpWindow(
  read: () => string = () => readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8')
): number {
  try {
    const max = Number(read().trim().split(/\s+/)[2])
    return Number.isInteger(max) && max > 0 ? max : FALLBACK_WINDOW
  } catch {
    return FALLBACK_WINDOW
  }
}

export interface WanRelayStats {
  connections: number
  /** Bytes taken from clients / delivered to the target. */
  upRead: number
  upDelivered: number
  /** Bytes taken from the target / delivered to clients. */
  downRead: number
  downDelivered: number
  /** Unacknowledged bytes right now, summed over connections and directions. */
  inFlight: number
  /** The largest unacknowledged count one connection's direction ever had. */
  peakInFlight: number
}

export interface WanRelay {
  host: string
  port: number
  link: Required<Pick<WanLink, 'rttMs' | 'windowBytes'>> & Pick<WanLink, 'rateBytesPerSecond'>
  stats: WanRelayStats
  close(): Promise<void>
}

/** Callbacks run in order at their due times (due times never decrease), on one timer. */
class DelayQueue {
  private items: { due: number; fn: () => void }[] = []
  private head = 0
  private timer?: unknown
  private closed = false

  constructor(
    private readonly clock: RelayClock,
    /** Runs each batch of due callbacks (a socket cork makes one batch one write). */
    private readonly batch: (run: () => void) => void = run => run()
  ) {}

  at(due: number, fn: () => void): void {
    if (this.closed) return
    this.items.push({ due, fn })
    this.arm()
  }

  private arm(): void {
    if (this.timer !== undefined || this.head >= this.items.length) return
    const wait = Math.max(0, this.items[this.head].due - this.clock.now())
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      const now = this.clock.now()
      this.batch(() => {
        while (!this.closed && this.head < this.items.length && this.items[this.head].due <= now) {
          this.items[this.head++].fn()
        }
      })
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
      this.arm()
    }, wait)
  }

  close(): void {
    this.closed = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.items = []
    this.head = 0
  }
}

/** The link's bandwidth in one direction: when the next byte may leave. */
class RateGate {
  private nextFree = 0
  constructor(private readonly bytesPerSecond?: number) {}
  /** When `bytes` taken at `now` have finished leaving. */
  depart(now: number, bytes: number): number {
    if (!this.bytesPerSecond) return now
    this.nextFree = Math.max(now, this.nextFree) + (bytes * 1000) / this.bytesPerSecond
    return this.nextFree
  }
}

type Direction = 'up' | 'down'

/** One direction of one connection: read, hold within the window, deliver late, acknowledge late. */
class Pipe {
  private waiting: Buffer[] = []
  private inFlight = 0
  private ended = false
  private readonly deliveries: DelayQueue
  private readonly acks: DelayQueue

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly dir: Direction,
    private readonly link: WanRelay['link'],
    private readonly gate: RateGate,
    private readonly clock: RelayClock,
    private readonly stats: WanRelayStats
  ) {
    this.deliveries = new DelayQueue(clock, run => {
      dst.cork()
      run()
      process.nextTick(() => dst.uncork())
    })
    this.acks = new DelayQueue(clock)
    src.on('data', chunk => {
      this.stats[`${dir}Read`] += chunk.length
      this.waiting.push(chunk)
      this.pump()
    })
    src.on('end', () => {
      this.ended = true
      this.pump()
    })
  }

  private pump(): void {
    const half = this.link.rttMs / 2
    while (this.waiting.length && this.inFlight < this.link.windowBytes) {
      let chunk = this.waiting[0]
      // Under a rate cap bytes arrive as they finish leaving: one segment at a time.
      const room = Math.min(
        this.link.windowBytes - this.inFlight,
        this.link.rateBytesPerSecond ? SEGMENT : Infinity
      )
      if (chunk.length > room) {
        this.waiting[0] = chunk.subarray(room)
        chunk = chunk.subarray(0, room)
      } else this.waiting.shift()
      const n = chunk.length
      this.inFlight += n
      this.stats.inFlight += n
      this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight)
      const due = this.gate.depart(this.clock.now(), n) + half
      this.deliveries.at(due, () => {
        if (this.dst.destroyed) return
        this.stats[`${this.dir}Delivered`] += n
        // The acknowledgement leaves once the receiving side has taken the bytes.
        this.dst.write(chunk, () => this.acks.at(this.clock.now() + half, () => this.ack(n)))
      })
    }
    if (this.waiting.length) this.src.pause()
    else if (this.ended) {
      this.ended = false
      this.deliveries.at(this.gate.depart(this.clock.now(), 0) + half, () => this.dst.end())
    } else this.src.resume()
  }

  private ack(n: number): void {
    this.inFlight -= n
    this.stats.inFlight -= n
    this.pump()
  }

  close(): void {
    this.deliveries.close()
    this.acks.close()
    this.stats.inFlight -= this.inFlight
    this.inFlight = 0
  }
}

/** Start a relay on 127.0.0.1 whose connections lead to `target` through the emulated link. */
export async function startWanRelay(
  target: { host: string; port: number },
  link: WanLink,
  clock: RelayClock = realClock
): Promise<WanRelay> {
  const full: WanRelay['link'] = {
    rttMs: link.rttMs,
    windowBytes: link.windowBytes ?? largestTcpWindow(),
    rateBytesPerSecond: link.rateBytesPerSecond
  }
  if (!(full.rttMs >= 0) || !(full.windowBytes > 0))
    throw new Error('wan relay: rttMs >= 0 and windowBytes > 0')
  const stats: WanRelayStats = {
    connections: 0,
    upRead: 0,
    upDelivered: 0,
    downRead: 0,
    downDelivered: 0,
    inFlight: 0,
    peakInFlight: 0
  }
  const gates = { up: new RateGate(full.rateBytesPerSecond), down: new RateGate(full.rateBytesPerSecond) }
  const sockets = new Set<net.Socket>()
  const server = net.createServer({ allowHalfOpen: true }, client => {
    stats.connections++
    const upstream = net.connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true })
    client.setNoDelay(true)
    sockets.add(client).add(upstream)
    const pipes = [
      new Pipe(client, upstream, 'up', full, gates.up, clock, stats),
      new Pipe(upstream, client, 'down', full, gates.down, clock, stats)
    ]
    let done = false
    const finish = () => {
      if (done) return
      done = true
      for (const p of pipes) p.close()
    }
    // A reset is not delayed: the relay drops both sides at once, as a dead path would.
    const cut = () => {
      finish()
      client.destroy()
      upstream.destroy()
    }
    client.on('error', cut)
    upstream.on('error', cut)
    let open = 2
    const closed = (s: net.Socket) => () => {
      sockets.delete(s)
      if (--open === 0) finish()
    }
    client.on('close', closed(client))
    upstream.on('close', closed(upstream))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    link: full,
    stats,
    close: () =>
      new Promise(resolve => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
