import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startTcpCutter } from '../../sim/tcp-faults.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { shareOut } from '../../src/deploy/upload-files.js'
import { seededBytes } from '../helpers/artifacts.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * `connections`: an upload of several files shares them among several SSH connections to the
 * target, each retrying and resuming its own share; the result says how many were used and how many
 * round trips each phase waited for.
 */

let sshd: Sshd
let art: string
const names: string[] = []

beforeAll(async () => {
  sshd = await startSshd()
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-conns-'))
  for (let i = 0; i < 60; i++) {
    const rel = path.join(`d${i % 4}`, `f${i}.bin`)
    await mkdir(path.join(art, `d${i % 4}`), { recursive: true })
    await writeFile(path.join(art, rel), seededBytes(20_000 + i, i))
    names.push(rel)
  }
  await writeFile(path.join(art, 'large.bin'), seededBytes(3 * 1024 * 1024, 99))
  names.push('large.bin')
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function expectAllThere(remote: string) {
  for (const rel of names)
    expect({ rel, sha: sha256(await readFile(path.join(remote, rel))) }).toEqual({
      rel,
      sha: sha256(await readFile(path.join(art, rel)))
    })
  const left = (await readdir(remote, { recursive: true })).filter(n => n.includes('.ec2-push-tmp'))
  expect(left).toEqual([])
}

test('the files are shared among the connections asked for, and every one lands verified', async () => {
  const remote = path.join(sshd.remoteRoot, 'three')
  const inputs: Record<string, string> = actionInputs(sshd, art, remote, { connections: '3' })
  const run = await runDeploy(
    buildConfig(n => inputs[n] ?? ''),
    capturingLogger()
  )
  expect(run.error).toBeUndefined()
  const r = run.outputs.results[0]
  expect(r.connections).toBe(3)
  expect(r.filesUploaded).toBe(names.length)
  expect(r.roundTrips!.connect).toBeGreaterThan(0)
  expect(r.roundTrips!.upload).toBeGreaterThan(0)
  await expectAllThere(remote)
})

test('a connection cut mid-upload resumes its own share', async () => {
  // The second connection the deploy opens is cut once 20 kB have gone up (every share is more than that).
  const cutter = await startTcpCutter(sshd.host, sshd.port, [Infinity, 20_000])
  try {
    const remote = path.join(sshd.remoteRoot, 'cut')
    const inputs: Record<string, string> = {
      ...actionInputs(sshd, art, remote, { connections: '3', retries: '3' }),
      targets: `${cutter.host}:${cutter.port}`
    }
    const run = await runDeploy(
      buildConfig(n => inputs[n] ?? ''),
      capturingLogger(),
      { backoffBaseMs: 1 }
    )
    expect(run.error).toBeUndefined()
    expect(cutter.cuts).toBe(1)
    expect(run.outputs.results[0].reconnects).toBeGreaterThanOrEqual(1)
    await expectAllThere(remote)
  } finally {
    await cutter.close()
  }
})

test('shares are runs of consecutive files of about equal weight, none empty', () => {
  const sizes = [10, 10, 10, 10, 5_000_000, 10, 10]
  const files = sizes.map((size, i) => ({ size, i }))
  const shares = shareOut(files, 3)
  expect(shares).toHaveLength(3)
  expect(shares.flat().map(f => f.i)).toEqual(files.map(f => f.i))
  expect(shares.every(s => s.length > 0)).toBe(true)
  expect(shareOut(files.slice(0, 2), 4)).toHaveLength(2)
  expect(shareOut([], 4)).toEqual([])
})

test('without `connections`, one small file takes one connection and a folder of them two (the second opened as the walk finds a second file)', async () => {
  const one = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-one-'))
  try {
    await writeFile(path.join(one, 'only.txt'), 'one file\n')
    for (const [local, want] of [
      [one, 1],
      [path.join(art, 'd1'), 2]
    ] as const) {
      const remote = path.join(sshd.remoteRoot, `count-${want}`)
      const inputs: Record<string, string> = actionInputs(sshd, local, remote)
      const run = await runDeploy(
        buildConfig(n => inputs[n] ?? ''),
        capturingLogger()
      )
      expect(run.error).toBeUndefined()
      expect(run.outputs.results[0].connections).toBe(want)
      expect(run.outputs.results[0].filesUploaded).toBe((await readdir(local)).length)
    }
  } finally {
    await rm(one, { recursive: true, force: true })
  }
})
