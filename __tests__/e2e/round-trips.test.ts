import net from 'node:net'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { connectSsh, type SshConnection } from '../../src/ssh/connection.js'
import { execChannel, execScript, keepShellReady } from '../../src/ssh/exec.js'

/**
 * The round-trip counter (src/ssh/round-trips.ts) on a real sshd: what it counts is what a long
 * link multiplies, so every wait must be in it, and nothing sent together counted twice.
 */

let sshd: Sshd
const connectTo = (label: string) =>
  connectSsh({
    label,
    stream: net.connect(sshd.port, sshd.host),
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(async () => {
  await sshd?.stop()
})

test('each script run on the long-lived shell is one round trip; a command on its own channel is three', async () => {
  const conn: SshConnection = await connectTo('shell')
  try {
    keepShellReady(conn)
    await execScript(conn, 'true')
    const before = conn.trips.total
    for (let i = 0; i < 3; i++) await execScript(conn, `echo ${i}`)
    expect(conn.trips.total - before).toBe(3)
    const mid = conn.trips.total
    // Open, exec request, then the command's answer.
    await execChannel(conn, 'echo once')
    expect(conn.trips.total - mid).toBe(3)
  } finally {
    conn.close()
  }
})
