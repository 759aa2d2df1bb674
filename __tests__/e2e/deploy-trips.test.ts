import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startWanRelay, type WanRelay } from '../../sim/wan-relay.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * The round trips of a whole deploy of small files in place, phase by phase (src/ssh/round-trips.ts):
 * the upload's folders are surveyed in the lock's exec (remote/folder-survey.ts), so the upload
 * itself waits only for the opens and the writes; with a pre-command between the lock and the
 * upload, the folders are asked about over SFTP as before. The deploys go through a 20 ms link
 * (sim/wan-relay.ts): on bare loopback, answers that a real link spaces a round trip apart (a
 * shell's, an SFTP channel's) arrive in whatever order a loaded machine gives them, and a script
 * written after the later one would count a round trip that no link would make it wait.
 */

let sshd: Sshd
let relay: WanRelay
let art: string

beforeAll(async () => {
  sshd = await startSshd()
  relay = await startWanRelay({ host: sshd.host, port: sshd.port }, { rttMs: 20 })
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-deploy-trips-'))
  for (let i = 0; i < 120; i++) {
    await mkdir(path.join(art, `d${i % 12}`, 'e'), { recursive: true })
    await writeFile(path.join(art, `d${i % 12}`, 'e', `f${i}.txt`), `file ${i}\n`)
  }
})
afterAll(async () => {
  await relay?.close()
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

async function deploy(remote: string, over: Record<string, string> = {}) {
  const inputs: Record<string, string> = actionInputs(sshd, art, remote, {
    targets: `${relay.host}:${relay.port}`,
    ...over
  })
  const run = await runDeploy(
    buildConfig(n => inputs[n] ?? ''),
    capturingLogger()
  )
  return run
}

test.each(['1', '3'])(
  'in place over %s connections: the folders made, one pack written, checked and renamed into place there, the manifest',
  async connections => {
    for (const round of ['new', 'again']) {
      const remote = path.join(sshd.remoteRoot, `in-place-${connections}`)
      const run = await deploy(remote, { connections })
      expect(run.error).toBeUndefined()
      const r = run.outputs.results[0]
      expect({ round, ...r.roundTrips, connect: undefined }).toEqual({
        round,
        connect: undefined,
        plan: 0,
        // The pack, with the missing folders' mkdir requests beside it (none the second time), its
        // files checked and renamed into place by its own script.
        upload: 1,
        verify: 0,
        publish: 0,
        record: 1
      })
      expect(r.filesUploaded).toBe(120)
      expect(await readFile(path.join(remote, 'd7', 'e', 'f7.txt'), 'utf8')).toBe('file 7\n')
    }
  }
)

test('a pre-command may change the folders: the upload asks about them itself', async () => {
  const remote = path.join(sshd.remoteRoot, 'pre')
  const run = await deploy(remote, { connections: '1', 'pre-command': 'true' })
  expect(run.error).toBeUndefined()
  // The folders asked about over SFTP, then the pack beside their mkdir requests.
  expect(run.outputs.results[0].roundTrips!.upload).toBe(2)
})

test('a folder link out of remote-path found by the survey is refused, and nothing is written through it', async () => {
  const remote = path.join(sshd.remoteRoot, 'linked')
  const outside = path.join(sshd.remoteRoot, 'elsewhere')
  await mkdir(remote, { recursive: true })
  await mkdir(outside, { recursive: true })
  await symlink(outside, path.join(remote, 'd3'))
  const run = await deploy(remote, { connections: '1' })
  expect(run.error).toMatch(/'[^']*d3' on .* is a symbolic link to '[^']*elsewhere', outside remote-path/)
  expect(await readdir(outside)).toEqual([])
})

test('a large file in ranges: every lane writes right behind its own open, the first before the other channels are open', async () => {
  const big = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-deploy-trips-big-'))
  try {
    await writeFile(path.join(big, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 7))
    const remote = path.join(sshd.remoteRoot, 'big')
    const inputs: Record<string, string> = actionInputs(sshd, big, remote, {
      targets: `${relay.host}:${relay.port}`,
      connections: '1'
    })
    const run = await runDeploy(
      buildConfig(n => inputs[n] ?? ''),
      capturingLogger()
    )
    expect(run.error).toBeUndefined()
    const r = run.outputs.results[0]
    expect(r.filesUploaded).toBe(1)
    // Each lane opens the file for itself (made by whichever open comes first, its mode set behind
    // the open) and writes behind it, the first lane before the second channel is open; the rest is
    // the writes (sshd's 2 MiB window a round trip per channel) and the ranges' hashes. 16 here;
    // 20 or 21 when the file was made, closed and opened again, after both channels were open.
    expect(r.roundTrips!.upload).toBeLessThanOrEqual(17)
    expect((await readFile(path.join(remote, 'big.bin'))).equals(Buffer.alloc(32 * 1024 * 1024, 7))).toBe(
      true
    )
  } finally {
    await rm(big, { recursive: true, force: true })
  }
})
