import { createHash } from 'node:crypto'
import { appendFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { connectSsh, type SshConnection } from '../../src/ssh/connection.js'
import { streamRemoteSha256 } from '../../src/transfer/verify.js'
import { seededBytes } from '../helpers/artifacts.js'

/** The instance hashes a large file while it is written: the digest must be the whole file's. */

let sshd: Sshd
let conn: SshConnection
beforeAll(async () => {
  sshd = await startSshd()
  conn = await connectSsh({
    label: 'test',
    stream: net.connect(sshd.port, sshd.host),
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
})
afterAll(async () => {
  conn?.close()
  await sshd?.stop()
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

test.each([
  ['a size that is not a whole number of blocks', 9 * 1024 * 1024 + 12345],
  ['an exact number of blocks', 8 * 1024 * 1024]
])('a file written in pieces, announced as it grows, hashes to the whole file (%s)', async (_what, size) => {
  const data = seededBytes(size, size)
  const file = path.join(sshd.remoteRoot, `streamed-${size}`)
  await writeFile(file, '')
  const stream = streamRemoteSha256(conn, file)
  const piece = 1_500_000 // not aligned to the 64 KiB blocks
  for (let at = 0; at < size; at += piece) {
    await appendFile(file, data.subarray(at, Math.min(size, at + piece)))
    stream.advance(Math.min(size, at + piece))
  }
  expect(await stream.finish(size)).toBe(sha256(data))
})

test('the digest covers what was announced; a cancelled stream gives none', async () => {
  const data = seededBytes(6 * 1024 * 1024, 3)
  const file = path.join(sshd.remoteRoot, 'streamed-partial')
  await writeFile(file, data)
  const stream = streamRemoteSha256(conn, file)
  stream.advance(4 * 1024 * 1024)
  expect(await stream.finish(4 * 1024 * 1024)).toBe(sha256(data.subarray(0, 4 * 1024 * 1024)))
  const cancelled = streamRemoteSha256(conn, file)
  cancelled.advance(5 * 1024 * 1024)
  cancelled.cancel()
  expect(await cancelled.finish(data.length)).toBeUndefined()
})
