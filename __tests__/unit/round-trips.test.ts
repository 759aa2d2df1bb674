import { RoundTrips } from '../../src/ssh/round-trips.js'

/** The round-trip counter's arithmetic: what is sent together is one round trip, what waits is one more. */

describe('RoundTrips', () => {
  it('counts a pipelined batch once and a chain of waits once per link', () => {
    const t = new RoundTrips()
    t.phase = 'upload'
    // 500 requests sent together: one round trip.
    const batch = Array.from({ length: 500 }, () => t.send())
    expect(t.byPhase.upload).toBe(1)
    // Their answers arrive; each answer's follow-up goes out: the second round trip, however many.
    for (const d of batch) {
      t.answer(d)
      t.send()
    }
    expect(t.byPhase.upload).toBe(2)
    expect(t.total).toBe(2)
  })

  it('an exchange of several requests in a row adds that many; answers of shallower requests add nothing', () => {
    const t = new RoundTrips()
    const open = t.send(3)
    expect(t.byPhase.connect).toBe(3)
    const early = t.send()
    t.answer(early)
    t.send()
    expect(t.total).toBe(3)
    t.answer(open)
    t.phase = 'verify'
    t.send()
    expect(t.byPhase).toEqual({ connect: 3, plan: 0, upload: 0, verify: 1, publish: 0, record: 0 })
  })

  it("while connecting, waits count to 'connect' whatever the phase", () => {
    const t = new RoundTrips()
    t.phase = 'upload'
    t.connecting = true
    t.answer(t.send())
    t.connecting = false
    t.send()
    expect(t.byPhase.connect).toBe(1)
    expect(t.byPhase.upload).toBe(1)
  })
})
