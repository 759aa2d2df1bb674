import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startTcpFreezer, type TcpFreezer } from '../../sim/tcp-faults.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { stallDefaults } from '../../src/ssh/connection.js'
import { seededBytes } from '../helpers/artifacts.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * A peer that stops answering without closing (the relay freezes mid-upload, both ways, sockets left
 * open) is given up on once requests have waited the stall timeout with nothing back, and the upload
 * goes on over a new connection. The timeout is 20 s in use; this test shortens it to keep its own
 * wait short. Before, only ssh2's keepalive count noticed, after about 150 s.
 */

let sshd: Sshd
let freezer: TcpFreezer | undefined
let art: string
const saved = stallDefaults.timeoutMs

beforeAll(async () => {
  sshd = await startSshd()
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-stall-'))
  for (let i = 0; i < 20; i++) await writeFile(path.join(art, `small-${i}.txt`), seededBytes(30_000, i))
  await writeFile(path.join(art, 'large.bin'), seededBytes(3 * 1024 * 1024, 99))
  stallDefaults.timeoutMs = 3000
})
afterAll(async () => {
  stallDefaults.timeoutMs = saved
  await freezer?.close()
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

test('a connection frozen mid-upload is dropped and the upload finishes over a new one', async () => {
  // The first connection freezes once 600 kB have gone up: the handshake, the first files, part of the large one.
  freezer = await startTcpFreezer(sshd.host, sshd.port, [600_000])
  const remote = path.join(sshd.remoteRoot, 'stall')
  const inputs: Record<string, string> = {
    // One connection: the freezer freezes the first, which then carries the whole upload.
    ...actionInputs(sshd, art, remote, { retries: '3', connections: '1' }),
    targets: `${freezer.host}:${freezer.port}`
  }
  const logger = capturingLogger()
  const run = await runDeploy(
    buildConfig(name => inputs[name] ?? ''),
    logger,
    { backoffBaseMs: 1 }
  )
  expect(run.error).toBeUndefined()
  expect(freezer.freezes).toBe(1)
  expect(freezer.connections).toBeGreaterThanOrEqual(2)
  expect(run.outputs['files-uploaded']).toBe(21)
  expect(logger.lines.join('\n')).toMatch(
    /no answer from .* for \d+ s while requests were waiting \(the connection stalled\)/
  )
  for (const name of ['small-0.txt', 'small-19.txt', 'large.bin']) {
    expect(sha256(await readFile(path.join(remote, name)))).toBe(sha256(await readFile(path.join(art, name))))
  }
})
