import { createHash } from 'node:crypto'
import { open, mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startTcpCutter } from '../../sim/tcp-faults.js'
import { buildConfig } from '../../src/config.js'
import { TargetConnection } from '../../src/deploy/connection.js'
import { UserError } from '../../src/errors.js'
import { runDeploy } from '../../src/run-deploy.js'
import { createNlbTunnel } from '../../src/tunnel/nlb.js'
import { RangeQueue, STRIPE_MIN_BYTES } from '../../src/transfer/ranges.js'
import { uploadStriped } from '../../src/transfer/striped.js'
import { RANGE_BLOCK } from '../../src/remote/range-hash.js'
import { seededBytes } from '../helpers/artifacts.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * Large files striped over several connections and channels (transfer/striped.ts), against a real
 * sshd: the file arrives whole and verified with every connection carrying part of it; a connection
 * cut mid-write has its unconfirmed ranges sent again by the others; a range that comes out wrong on
 * the instance every time fails the file without touching its final path; no temporary is left.
 */

let sshd: Sshd
let art: string
const SIZE = STRIPE_MIN_BYTES + 7 * RANGE_BLOCK + 12345
let data: Buffer
const MID = RANGE_BLOCK + 1000

beforeAll(async () => {
  sshd = await startSshd()
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-striped-'))
  data = seededBytes(SIZE, 7)
  await mkdir(path.join(art, 'sub'))
  await writeFile(path.join(art, 'sub', 'large.bin'), data)
  await writeFile(path.join(art, 'small.txt'), 'small\n')
  // Files of a MiB and more go the same way, each as one range, several at once.
  for (let i = 0; i < 6; i++)
    await writeFile(path.join(art, 'sub', `mid-${i}.bin`), seededBytes(MID + i, 100 + i))
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter(n => n.includes('.ec2-push-tmp'))
}

async function expectWhole(remote: string) {
  expect(sha256(await readFile(path.join(remote, 'sub', 'large.bin')))).toBe(sha256(data))
  expect(await readFile(path.join(remote, 'small.txt'), 'utf8')).toBe('small\n')
  for (let i = 0; i < 6; i++)
    expect(sha256(await readFile(path.join(remote, 'sub', `mid-${i}.bin`)))).toBe(
      sha256(seededBytes(MID + i, 100 + i))
    )
  expect(await temps(remote)).toEqual([])
}

test('a large file is written by every connection and arrives whole and verified', async () => {
  const counter = await startTcpCutter(sshd.host, sshd.port, [])
  try {
    const remote = path.join(sshd.remoteRoot, 'whole')
    const inputs: Record<string, string> = {
      ...actionInputs(sshd, art, remote, { connections: '3' }),
      targets: `${counter.host}:${counter.port}`
    }
    const run = await runDeploy(
      buildConfig(n => inputs[n] ?? ''),
      capturingLogger()
    )
    expect(run.error).toBeUndefined()
    expect(run.outputs.results[0]).toMatchObject({ connections: 3, filesUploaded: 8 })
    expect(run.outputs.results[0].verification).toMatch(/^sha256/)
    await expectWhole(remote)
    // Each connection carried a good part of the file, not just its logins and scripts.
    expect(counter.sent).toHaveLength(3)
    for (const bytes of counter.sent) expect(bytes).toBeGreaterThan(2 * RANGE_BLOCK)
  } finally {
    await counter.close()
  }
})

test('a connection cut mid-write has its unconfirmed ranges sent again, and the file verifies', async () => {
  // The second connection is cut once 5 MB have gone up: in the middle of its ranges.
  const cutter = await startTcpCutter(sshd.host, sshd.port, [Infinity, 5_000_000])
  try {
    const remote = path.join(sshd.remoteRoot, 'cut')
    const inputs: Record<string, string> = {
      ...actionInputs(sshd, art, remote, { connections: '2', retries: '3' }),
      targets: `${cutter.host}:${cutter.port}`
    }
    const logger = capturingLogger()
    const run = await runDeploy(
      buildConfig(n => inputs[n] ?? ''),
      logger,
      { backoffBaseMs: 1 }
    )
    expect(run.error).toBeUndefined()
    expect(cutter.cuts).toBe(1)
    expect(run.outputs.results[0].reconnects).toBeGreaterThanOrEqual(1)
    expect(logger.lines.join('\n')).toMatch(/the ranges it had not confirmed go to the other connections/)
    await expectWhole(remote)
  } finally {
    await cutter.close()
  }
})

function links(count: number): TargetConnection[] {
  return Array.from(
    { length: count },
    (_, i) =>
      new TargetConnection({
        target: { label: `striped-${i}`, mode: 'nlb', tunnel: createNlbTunnel(sshd.host, sshd.port) },
        login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
        hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint },
        logger: capturingLogger(),
        retries: 2,
        backoffBaseMs: 1
      })
  )
}

test('a range that comes out wrong every time fails the file: the final path is untouched, no temporary left', async () => {
  const remote = path.join(sshd.remoteRoot, 'mismatch')
  await mkdir(path.join(remote, 'sub'), { recursive: true })
  await writeFile(path.join(remote, 'sub', 'large.bin'), 'the release before\n')
  const conns = links(2)
  const bad = 3 * RANGE_BLOCK
  let corrupted = 0
  let fixed = 0
  const file = {
    localPath: path.join(art, 'sub', 'large.bin'),
    relativePath: 'sub/large.bin',
    size: SIZE,
    mode: 0o644
  }
  try {
    const upload = uploadStriped([file], {
      links: conns,
      remoteRoot: remote,
      verify: 'sha256',
      retries: 2,
      backoffBaseMs: 1,
      logger: capturingLogger(),
      onBytes: () => {},
      onFileDone: () => {},
      // The instance's copy of one range is damaged after its writes, on every attempt (a disk
      // that flips a byte): the other ranges are fine and are not sent again.
      onRangeWritten: async (temp, range) => {
        const local = path.join(remote, path.relative(remote, temp))
        if (range.offset <= bad && bad < range.offset + range.length) {
          const fh = await open(local, 'r+')
          await fh.write(Buffer.from([data[bad] ^ 0xff]), 0, 1, bad)
          await fh.close()
          corrupted++
        } else fixed++
      }
    })
    await expect(upload).rejects.toThrow(UserError)
    await expect(upload).rejects.toThrow(
      /sub\/large\.bin: sha256 on the instance does not match .*after 3 attempts/
    )
    expect(corrupted).toBe(3)
    expect(await readFile(path.join(remote, 'sub', 'large.bin'), 'utf8')).toBe('the release before\n')
    expect(await temps(remote)).toEqual([])
  } finally {
    for (const l of conns) l.close()
  }
  expect(fixed).toBeGreaterThan(0)
})

test('ranges cover the file once, shrink towards its end, and come back first when handed back', () => {
  const size = 100 * RANGE_BLOCK + 5
  const q = new RangeQueue(size, 4)
  const taken = []
  for (let r = q.take(); r; r = q.take()) taken.push(r)
  let at = 0
  for (const r of taken) {
    expect(r.offset).toBe(at)
    at += r.length
    if (r.offset + r.length < size) expect(r.length % RANGE_BLOCK).toBe(0)
  }
  expect(at).toBe(size)
  expect(taken[0].length).toBeGreaterThan(taken[taken.length - 1].length)
  q.putBack(taken[2])
  expect(q.take()).toBe(taken[2])
  expect(q.take()).toBeUndefined()
})
