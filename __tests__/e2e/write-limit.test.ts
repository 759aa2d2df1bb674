import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startWanRelay, type WanRelay } from '../../sim/wan-relay.js'
import { connectSsh, type SshConnection } from '../../src/ssh/connection.js'
import { writeLarge } from '../../src/transfer/file-writes.js'
import { Sftp } from '../../src/transfer/sftp.js'
import { seededBytes } from '../helpers/artifacts.js'

/**
 * A server whose write limit is below ec2-push's write size (ssh2 allows about 33 KiB to a server
 * that is not OpenSSH): the writer reuses its read buffer once a write is issued, so no part of a
 * write may be left for ssh2 to send later from it. The limit is lowered on ssh2's own channel
 * object, which is where ssh2 keeps what a server that is not OpenSSH gets. Over a 40 ms link the
 * answers come long after the next block is read into the buffer.
 */

let sshd: Sshd
let relay: WanRelay
let conn: SshConnection
let local: string

beforeAll(async () => {
  sshd = await startSshd()
  relay = await startWanRelay({ host: sshd.host, port: sshd.port }, { rttMs: 40 })
  conn = await connectSsh({
    label: 'write-limit',
    stream: net.connect(relay.port, relay.host),
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
  local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-write-limit-'))
})
afterAll(async () => {
  conn?.close()
  await relay?.close()
  await sshd?.stop()
  if (local) await rm(local, { recursive: true, force: true })
})

test.each([10_000, 33_000])(
  'a large file written under a server write limit of %d bytes arrives byte for byte',
  async limit => {
    const raw = await conn.sftp()
    const sftp = new Sftp(raw, op => conn.guard(op))
    // After OpenSSH's limits are in (answered ahead of any later request), which ssh2 would take.
    await sftp.stat(sshd.remoteRoot)
    ;(raw as unknown as { _maxWriteLen: number })._maxWriteLen = limit
    const data = seededBytes(3 * 1024 * 1024 + 12_345, limit)
    const localPath = path.join(local, `big-${limit}.bin`)
    await writeFile(localPath, data)
    const remote = path.join(sshd.remoteRoot, `big-${limit}.bin`)
    const handle = await sftp.open(remote, 'w', 0o644)
    let acknowledged = 0
    await writeLarge(
      sftp,
      handle,
      { localPath, relativePath: `big-${limit}.bin`, size: data.length, mode: 0o644 },
      { onBytes: n => (acknowledged += n), onWritten: () => {} }
    )
    await sftp.closeHandle(handle)
    sftp.end()
    expect(acknowledged).toBe(data.length)
    expect((await readFile(remote)).equals(data)).toBe(true)
  }
)
