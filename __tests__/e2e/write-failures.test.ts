import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'
import { seededBytes } from '../helpers/artifacts.js'

/**
 * Failures no retry can change, against a real sshd: each stops the deploy at once with one line that
 * names the path, the login and what to fix, with no warning per file and no retries. (sftp-server
 * reports a full disk, a read-only file system and a folder where a file goes all as "Failure".)
 * The full and the read-only file systems are small tmpfs mounts, which need root.
 */

let sshd: Sshd
let art: string
const mounts: string[] = []

beforeAll(async () => {
  sshd = await startSshd()
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-wf-'))
  await mkdir(path.join(art, 'sub', 'deeper'), { recursive: true })
  for (let i = 0; i < 30; i++)
    await writeFile(path.join(art, i % 2 ? 'sub' : 'sub/deeper', `f${i}.txt`), `file ${i}\n`)
  await writeFile(path.join(art, 'big.bin'), seededBytes(2 * 1024 * 1024, 7))
})
afterAll(async () => {
  for (const m of mounts) execFileSync('umount', [m])
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

async function deploy(remote: string) {
  const inputs: Record<string, string> = actionInputs(sshd, art, remote, { retries: '3' })
  const logger = capturingLogger()
  const run = await runDeploy(
    buildConfig(name => inputs[name] ?? ''),
    logger,
    { backoffBaseMs: 1 }
  )
  const warnings = logger.lines.filter(l => l.startsWith('warning:'))
  const retried = logger.lines.filter(l => /retrying|reconnecting/.test(l))
  return { run, warnings, retried }
}

/** A tmpfs of `size` at `dir` (options such as 'ro'), or undefined where this process may not mount. */
function tmpfs(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' })
    mounts.push(dir)
    return true
  } catch {
    return false
  }
}

test('remote-path being a file: one line naming it and the user, no warnings, no retries', async () => {
  const remote = path.join(sshd.remoteRoot, 'a-file')
  await writeFile(remote, 'not a folder\n')
  const { run, warnings, retried } = await deploy(remote)
  expect(run.error).toBe(
    `'${remote}' on ${sshd.host}:${sshd.port} is a file where a folder must be (to hold '${run.error!.match(/to hold '([^']+)'/)![1]}'): remove or rename it, or choose another remote-path.`
  )
  expect(warnings).toEqual([])
  expect(retried).toEqual([])
})

test('a folder where a file goes says so, once', async () => {
  const remote = path.join(sshd.remoteRoot, 'folder-in-the-way')
  await mkdir(path.join(remote, 'sub', 'f1.txt'), { recursive: true })
  const { run, warnings, retried } = await deploy(remote)
  expect(run.error).toBe(
    `'${remote}/sub/f1.txt' on ${sshd.host}:${sshd.port} is a folder where a file of the same name goes: remove or rename that folder (or leave the file out of 'files'), then deploy again.`
  )
  expect(warnings).toEqual([])
  expect(retried).toEqual([])
})

test('a full disk names the file system, what is free, the file and the user; no temporaries stay', async () => {
  const remote = path.join(sshd.remoteRoot, 'full')
  await mkdir(remote)
  if (!tmpfs(remote, 'size=1m')) return console.warn('skipped: cannot mount a tmpfs here (needs root)')
  const { run, warnings, retried } = await deploy(remote)
  expect(run.error).toMatch(
    new RegExp(
      `^No space left on ${sshd.host}:${sshd.port} writing '${remote}/[^']+' \\([0-9.]+ (bytes|MiB)\\) as '${sshd.user}': tmpfs \\(mounted on ${remote}\\) has [0-9.]+ (bytes|KiB) free of 1\\.0 MiB\\. Free space there`
    )
  )
  expect(run.error).not.toMatch(/Failure|I\/O error/)
  expect(warnings).toEqual([])
  expect(retried).toEqual([])
  // The metadata folder may stay (empty); no temporary and no lock may.
  const left = (await readdir(remote, { recursive: true })).filter(
    n => n.includes('ec2-push') && n !== '.ec2-push'
  )
  expect(left).toEqual([])
})

test('a read-only file system says so', async () => {
  const remote = path.join(sshd.remoteRoot, 'read-only')
  await mkdir(remote)
  if (!tmpfs(remote, 'size=1m,ro')) return console.warn('skipped: cannot mount a tmpfs here (needs root)')
  const { run, warnings } = await deploy(remote)
  expect(run.error).toMatch(
    new RegExp(`^'${remote}(/sub(/deeper)?)?' on .* is on a read-only file system: remount it read-write`)
  )
  expect(warnings).toEqual([])
})
