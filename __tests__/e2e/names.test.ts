import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * Names users have, deployed to a real sshd: dot-dot-prefixed file names are names, not a climb out
 * of base-dir; `~/` in remote-path is the login's home as with scp; a local name that is not valid
 * UTF-8 stops the deploy naming the file, where it used to be left out while the deploy succeeded.
 */

let sshd: Sshd
let art: string

beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(async () => {
  await sshd?.stop()
})
beforeEach(async () => {
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-names-'))
})
afterEach(async () => {
  await rm(art, { recursive: true, force: true })
})

async function deploy(remote: string, over: Record<string, string> = {}) {
  const inputs: Record<string, string> = actionInputs(sshd, art, remote, over)
  const logger = capturingLogger()
  const config = buildConfig(name => inputs[name] ?? '')
  return { run: await runDeploy(config, logger), logger }
}

test("files named '..hidden', '...' and 'd/..x' upload like any other", async () => {
  await mkdir(path.join(art, 'd'))
  await writeFile(path.join(art, '..hidden'), 'two dots\n')
  await writeFile(path.join(art, '...'), 'three dots\n')
  await writeFile(path.join(art, 'd', '..x'), 'inside\n')
  await writeFile(path.join(art, 'plain.txt'), 'plain\n')
  const remote = path.join(sshd.remoteRoot, 'dots')
  const { run } = await deploy(remote, { 'include-hidden-files': 'true', 'base-dir': art })
  expect(run.error).toBeUndefined()
  expect(run.outputs['files-uploaded']).toBe(4)
  expect(await readFile(path.join(remote, '..hidden'), 'utf8')).toBe('two dots\n')
  expect(await readFile(path.join(remote, '...'), 'utf8')).toBe('three dots\n')
  expect(await readFile(path.join(remote, 'd', '..x'), 'utf8')).toBe('inside\n')
})

test("remote-path '~/dir' is the folder in the login's home, not a folder named '~'", async () => {
  await writeFile(path.join(art, 'a.txt'), 'a\n')
  const name = `ec2-push-home-test-${process.pid}-${Date.now()}`
  const inHome = path.join(os.userInfo().homedir, name)
  try {
    const { run } = await deploy(`~/${name}`)
    expect(run.error).toBeUndefined()
    expect(await readFile(path.join(inHome, 'a.txt'), 'utf8')).toBe('a\n')
    expect(existsSync(path.join(os.userInfo().homedir, '~', name))).toBe(false)
  } finally {
    await rm(inHome, { recursive: true, force: true })
    await rm(path.join(os.userInfo().homedir, '~', name), { recursive: true, force: true })
  }
})

test('a local name that is not valid UTF-8 stops the deploy naming the file, escaped', async () => {
  await writeFile(path.join(art, 'fine.txt'), 'fine\n')
  await mkdir(path.join(art, 'sub'))
  // 'café.txt' as Latin-1 wrote it: the é is one byte, 0xe9, which is not UTF-8.
  await writeFile(
    Buffer.concat([Buffer.from(path.join(art, 'sub', 'caf')), Buffer.from([0xe9]), Buffer.from('.txt')]),
    'x'
  )
  const remote = path.join(sshd.remoteRoot, 'latin1')
  const { run } = await deploy(remote)
  expect(run.error).toMatch(/^Local file name '.*\/sub\/caf\\xe9\.txt' is not valid UTF-8/)
  expect(run.error).not.toMatch(/\n/)
  expect(existsSync(path.join(remote, 'fine.txt'))).toBe(false)
})
