import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * A folder of remote-path that is a symbolic link out of it (remote-path/assets -> /elsewhere), against
 * a real sshd: by default nothing is written through it and the deploy fails naming the link and its
 * target; with follow-remote-symlinks: true the files go through it, and sync + delete never deletes
 * the link as an extra (which left remote-path/assets missing while the step reported success).
 */

let sshd: Sshd
let art: string

beforeAll(async () => {
  sshd = await startSshd()
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-links-'))
  await mkdir(path.join(art, 'assets', 'img'), { recursive: true })
  await writeFile(path.join(art, 'index.html'), '<html>\n')
  await writeFile(path.join(art, 'assets', 'app.js'), 'app()\n')
  await writeFile(path.join(art, 'assets', 'img', 'logo.png'), 'png\n')
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

/** remote-path with `assets` linked to a folder outside it that already holds a file. */
async function linkedSite(name: string) {
  const remote = path.join(sshd.remoteRoot, name)
  const elsewhere = path.join(sshd.remoteRoot, `${name}-elsewhere`)
  await mkdir(remote)
  await mkdir(elsewhere)
  await writeFile(path.join(elsewhere, 'shared.txt'), 'shared\n')
  await symlink(elsewhere, path.join(remote, 'assets'))
  return { remote, elsewhere }
}

async function deploy(remote: string, over: Record<string, string>) {
  const inputs: Record<string, string> = actionInputs(sshd, art, remote, over)
  const logger = capturingLogger()
  const run = await runDeploy(
    buildConfig(name => inputs[name] ?? ''),
    logger,
    { backoffBaseMs: 1 }
  )
  return { run, warnings: logger.lines.filter(l => l.startsWith('warning:')) }
}

test.each([
  ['a plain deploy', {}],
  ['sync + delete', { sync: 'true', delete: 'true' }]
])('%s: a link out of remote-path is refused in one line, nothing written through it', async (what, over) => {
  const { remote, elsewhere } = await linkedSite(what.replace(/\W+/g, '-'))
  const { run, warnings } = await deploy(remote, over)
  expect(run.error).toBe(
    `'${remote}/assets' on ${sshd.host}:${sshd.port} is a symbolic link to '${elsewhere}', outside remote-path: ec2-push does not write or delete through it. Replace the link with a folder, or set follow-remote-symlinks: true if it is a shared folder on purpose.`
  )
  expect(warnings).toEqual([])
  expect(await readdir(elsewhere)).toEqual(['shared.txt'])
  expect((await lstat(path.join(remote, 'assets'))).isSymbolicLink()).toBe(true)
})

test('follow-remote-symlinks: true writes through the link, and sync + delete keeps the link', async () => {
  const { remote, elsewhere } = await linkedSite('followed')
  const over = { sync: 'true', delete: 'true', 'follow-remote-symlinks': 'true' }
  for (let round = 1; round <= 2; round++) {
    const { run, warnings } = await deploy(remote, over)
    expect(`round ${round}: ${run.error ?? 'ok'}`).toBe(`round ${round}: ok`)
    expect(warnings).toEqual([])
    expect((await lstat(path.join(remote, 'assets'))).isSymbolicLink()).toBe(true)
    expect(await readFile(path.join(remote, 'assets', 'app.js'), 'utf8')).toBe('app()\n')
    expect(await readFile(path.join(remote, 'assets', 'img', 'logo.png'), 'utf8')).toBe('png\n')
    expect(await readFile(path.join(remote, 'index.html'), 'utf8')).toBe('<html>\n')
    // What the shared folder held besides is not this deploy's to delete.
    expect(await readFile(path.join(elsewhere, 'shared.txt'), 'utf8')).toBe('shared\n')
  }
})

test('a link to a folder inside remote-path: written through, but refused with delete (its files would be extras)', async () => {
  const remote = path.join(sshd.remoteRoot, 'inside')
  await mkdir(path.join(remote, 'static'), { recursive: true })
  await symlink('static', path.join(remote, 'assets'))
  const plain = await deploy(remote, {})
  expect(plain.run.error).toBeUndefined()
  expect(await readFile(path.join(remote, 'static', 'app.js'), 'utf8')).toBe('app()\n')

  const withDelete = await deploy(remote, { sync: 'true', delete: 'true', 'follow-remote-symlinks': 'true' })
  expect(withDelete.run.error).toBe(
    `'${remote}/assets' on ${sshd.host}:${sshd.port} is a symbolic link to 'static', inside remote-path: with delete: true the files written through it would be listed under 'static' and deleted as extras. Replace the link with a folder, or deploy without delete.`
  )
  expect(await readFile(path.join(remote, 'assets', 'app.js'), 'utf8')).toBe('app()\n')
  expect((await lstat(path.join(remote, 'assets'))).isSymbolicLink()).toBe(true)
})
