import net from 'node:net'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { connectSsh } from '../../src/ssh/connection.js'
import { execScript } from '../../src/ssh/exec.js'

/**
 * What a sync redeploy waits for, counted on a real sshd (src/ssh/round-trips.ts): over a long link
 * each round trip is the link's delay, so these counts are its time, measured without a clock.
 */

let sshd: Sshd
beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(async () => {
  await sshd?.stop()
})

test("a new shell's first script goes behind the loop at once: open, exec, the script's answer", async () => {
  const conn = await connectSsh({
    label: 'first script',
    stream: net.connect(sshd.port, sshd.host),
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
  try {
    const before = conn.trips.total
    const r = await execScript(conn, 'echo first')
    expect(r).toMatchObject({ code: 0, stdout: 'first\n' })
    expect(conn.trips.total - before).toBe(3)
  } finally {
    conn.close()
  }
})
