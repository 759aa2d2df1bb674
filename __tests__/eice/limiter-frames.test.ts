import { randomBytes } from 'node:crypto'
import { acquireTunnelSlot, tunnelsInUse, tunnelsWaiting } from '../../src/tunnel/eice/limiter.js'
import { frames, MAX_FRAME_BYTES } from '../../src/tunnel/eice/ws-stream.js'

describe('acquireTunnelSlot', () => {
  test('grants up to the limit, queues the rest in order, and honours abort', async () => {
    const id = 'eice-limiter-test-1'
    const a = await acquireTunnelSlot(id, 2)
    const b = await acquireTunnelSlot(id, 2)
    expect(tunnelsInUse(id)).toBe(2)
    const order: string[] = []
    const c = acquireTunnelSlot(id, 2).then(r => (order.push('c'), r))
    const aborter = new AbortController()
    const d = acquireTunnelSlot(id, 2, aborter.signal)
    const e = acquireTunnelSlot(id, 2).then(r => (order.push('e'), r))
    expect(tunnelsWaiting(id)).toBe(3)
    aborter.abort()
    await expect(d).rejects.toThrow(/cancelled while waiting/)
    expect(tunnelsWaiting(id)).toBe(2)
    a()
    a() // releasing twice frees one slot only
    const releaseC = await c
    expect(tunnelsInUse(id)).toBe(2)
    expect(order).toEqual(['c'])
    b()
    const releaseE = await e
    expect(order).toEqual(['c', 'e'])
    releaseC()
    releaseE()
    expect(tunnelsInUse(id)).toBe(0)
  })
})

describe('frames', () => {
  test('never exceeds the frame limit and keeps every byte in order', () => {
    const chunks = [
      randomBytes(10),
      randomBytes(70_000),
      randomBytes(64_990),
      randomBytes(5),
      randomBytes(200_000)
    ]
    const out = frames(chunks, MAX_FRAME_BYTES)
    expect(Math.max(...out.map(f => f.length))).toBeLessThanOrEqual(MAX_FRAME_BYTES)
    expect(Buffer.concat(out).equals(Buffer.concat(chunks))).toBe(true)
    // Packed: every frame but the last is full.
    expect(out.slice(0, -1).every(f => f.length === MAX_FRAME_BYTES)).toBe(true)
  })

  test('a single small chunk is passed through without a copy', () => {
    const chunk = randomBytes(32_768)
    expect(frames([chunk], MAX_FRAME_BYTES)[0]).toBe(chunk)
  })
})
