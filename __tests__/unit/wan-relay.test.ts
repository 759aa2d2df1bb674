import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { largestTcpWindow, startWanRelay, type RelayClock, type WanRelay } from '../../sim/wan-relay.js'

/**
 * The WAN relay, driven by a manual clock: nothing here depends on how fast this machine is. The
 * test advances time itself and checks what has (and has not) reached the other side.
 */

class ManualClock implements RelayClock {
  t = 0
  private timers: { at: number; seq: number; fn: () => void }[] = []
  private seq = 0
  now = () => this.t
  setTimeout = (fn: () => void, ms: number) => {
    const timer = { at: this.t + ms, seq: this.seq++, fn }
    this.timers.push(timer)
    return timer
  }
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter(t => t !== h)
  }
  /** Move time forward by `ms`, running every timer that falls due (in due order). */
  async advance(ms: number) {
    const end = this.t + ms
    for (;;) {
      await settle()
      const due = this.timers.filter(t => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!due) break
      this.timers = this.timers.filter(t => t !== due)
      this.t = Math.max(this.t, due.at)
      due.fn()
    }
    this.t = end
    await settle()
  }
}

/** Let sockets move what they can (several turns of the event loop, including I/O). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise(r => setTimeout(r, 2))
}

async function until(what: string, ok: () => boolean) {
  for (let i = 0; i < 2000 && !ok(); i++) await new Promise(r => setTimeout(r, 5))
  if (!ok()) throw new Error(`never: ${what}`)
}

/** A server that keeps what it receives; `echo` also sends it back. */
async function sink(echo = false) {
  const got: Buffer[] = []
  const state = { bytes: 0, ended: false }
  const server = net.createServer({ allowHalfOpen: true }, s => {
    s.on('data', c => {
      got.push(c)
      state.bytes += c.length
      if (echo) s.write(c)
    })
    s.on('end', () => {
      state.ended = true
      s.end()
    })
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    state,
    data: () => Buffer.concat(got),
    close: () => new Promise<void>(r => server.close(() => r()))
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

function dial(relay: WanRelay) {
  const received: Buffer[] = []
  const sock = net.connect({ host: relay.host, port: relay.port, allowHalfOpen: true })
  sock.on('data', c => received.push(c))
  return { sock, received: () => Buffer.concat(received) }
}

describe('WAN relay', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c()
  })

  it('holds each direction back by half the round trip, and delivers every byte in order', async () => {
    const clock = new ManualClock()
    const server = await sink(true)
    const relay = await startWanRelay({ host: '127.0.0.1', port: server.port }, { rttMs: 100 }, clock)
    closers.push(server.close, relay.close)
    const c = dial(relay)
    const payload = randomBytes(1000)
    c.sock.write(payload)
    await until('the relay took the bytes', () => relay.stats.upRead === 1000)
    await clock.advance(49)
    expect(server.state.bytes).toBe(0)
    await clock.advance(1)
    await until('the server has them', () => server.state.bytes === 1000)
    expect(sha(server.data())).toBe(sha(payload))
    // The echo comes back after another half.
    await until('the relay took the echo', () => relay.stats.downRead === 1000)
    await clock.advance(49)
    expect(c.received().length).toBe(0)
    await clock.advance(1)
    await until('the client has the echo', () => c.received().length === 1000)
    expect(sha(c.received())).toBe(sha(payload))
    // A half-close travels like data: the server sees the end only after half a round trip.
    c.sock.end()
    await settle()
    expect(server.state.ended).toBe(false)
    await clock.advance(50)
    await until('the server saw the end', () => server.state.ended)
    c.sock.destroy()
  })

  it('keeps at most one window unacknowledged per connection, and needs a round trip per window', async () => {
    const clock = new ManualClock()
    const server = await sink()
    const windowBytes = 64 * 1024
    const relay = await startWanRelay(
      { host: '127.0.0.1', port: server.port },
      { rttMs: 100, windowBytes },
      clock
    )
    closers.push(server.close, relay.close)
    const c = dial(relay)
    const payload = randomBytes(1024 * 1024)
    c.sock.write(payload)
    await until('a full window is in flight', () => relay.stats.inFlight === windowBytes)
    // Half a round trip: exactly one window arrives; its acknowledgement is still on its way.
    await clock.advance(50)
    await until('one window delivered', () => server.state.bytes === windowBytes)
    await settle()
    expect(server.state.bytes).toBe(windowBytes)
    let rounds = 1
    while (server.state.bytes < payload.length && rounds < 100) {
      await clock.advance(100)
      rounds++
    }
    await until('everything delivered', () => server.state.bytes === payload.length)
    expect(sha(server.data())).toBe(sha(payload))
    expect(relay.stats.peakInFlight).toBe(windowBytes)
    // 1 MiB through a 64 KiB window: one round trip per window.
    expect(rounds).toBe(payload.length / windowBytes)
    c.sock.destroy()
  })

  it('a rate cap spreads the departures out: 100 KB at 1 MB/s arrive over 100 ms', async () => {
    const clock = new ManualClock()
    const server = await sink()
    const relay = await startWanRelay(
      { host: '127.0.0.1', port: server.port },
      { rttMs: 0, rateBytesPerSecond: 1_000_000 },
      clock
    )
    closers.push(server.close, relay.close)
    const c = dial(relay)
    const payload = randomBytes(100_000)
    c.sock.write(payload)
    await until('the relay took the bytes', () => relay.stats.upRead === payload.length)
    await clock.advance(50)
    expect(server.state.bytes).toBeGreaterThan(0)
    expect(server.state.bytes).toBeLessThan(payload.length)
    await clock.advance(50)
    await until('everything delivered', () => server.state.bytes === payload.length)
    expect(sha(server.data())).toBe(sha(payload))
    c.sock.destroy()
  })

  it('carries a large exchange intact both ways on the real clock', async () => {
    const server = await sink(true)
    const relay = await startWanRelay(
      { host: '127.0.0.1', port: server.port },
      { rttMs: 4, windowBytes: 256 * 1024 }
    )
    closers.push(server.close, relay.close)
    const c = dial(relay)
    const payload = randomBytes(4 * 1024 * 1024)
    c.sock.write(payload)
    await until('the echo is back', () => c.received().length === payload.length)
    expect(sha(c.received())).toBe(sha(payload))
    expect(relay.stats.peakInFlight).toBeLessThanOrEqual(256 * 1024)
    expect(relay.stats.connections).toBe(1)
    c.sock.destroy()
  })

  it("reads the machine's largest TCP window, else 4 MiB", () => {
    expect(largestTcpWindow(() => '4096\t16384\t6291456\n')).toBe(6291456)
    expect(largestTcpWindow(() => 'garbage')).toBe(4 * 1024 * 1024)
    expect(
      largestTcpWindow(() => {
        throw new Error('ENOENT')
      })
    ).toBe(4 * 1024 * 1024)
  })
})
