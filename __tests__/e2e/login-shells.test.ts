import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { capturingLogger } from '../helpers/logger.js'
import { makeTree } from '../release/helpers.js'

/**
 * A deploy starts the instance's login shell a fixed number of times, however many files and
 * verification batches it has: sshd runs every command through the login shell (bash reads
 * ~/.bashrc each time), so the deploy's scripts share long-lived shells. Real sshd, each login
 * shell as the user's own (sim/sshd.ts `login`), start-up files that count their runs.
 */

let work: string
let small: string
let large: string
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-shells-'))
  small = await makeTree(3, i => `small ${i}\n`)
  // 1,100 files: five verification batches of up to 256, beside the lock, listing and manifest.
  large = await makeTree(1100, i => `file ${i} ${'.'.repeat(i % 40)}\n`)
})
afterAll(async () => {
  for (const dir of [work, small, large]) if (dir) await rm(dir, { recursive: true, force: true })
})

/** A home whose shell start-up files append a line to `starts`; `extra` goes in each first. */
async function home(name: string, extra = ''): Promise<string> {
  const dir = path.join(work, name)
  await mkdir(dir, { recursive: true })
  const count = `${extra}echo started >> "${dir}/starts"\n`
  await writeFile(path.join(dir, '.bashrc'), count)
  await writeFile(path.join(dir, '.zshenv'), count)
  return dir
}

async function starts(dir: string): Promise<number> {
  const text = await readFile(path.join(dir, 'starts'), 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).length
}

/** A folder of BusyBox applets under the names a script calls. */
async function busyboxBin(names: string[]): Promise<string> {
  const dir = path.join(work, 'busybox-bin')
  await mkdir(dir, { recursive: true })
  for (const name of names) await symlink('/usr/bin/busybox', path.join(dir, name)).catch(() => {})
  return dir
}

async function deploy(sshd: Sshd, art: string, remote: string, over: Record<string, string> = {}) {
  const inputs: Record<string, string> = {
    mode: 'nlb',
    targets: `${sshd.host}:${sshd.port}`,
    files: 'files/**',
    'remote-path': remote,
    user: sshd.user,
    'ssh-private-key': sshd.clientKey.privateKey,
    'host-key-fingerprint': sshd.hostKeyFingerprint,
    retries: '1',
    // One SSH connection: the shells are counted per connection (each has its own, one or two).
    connections: '1',
    ...over
  }
  const logger = capturingLogger()
  const run = await runDeploy(
    buildConfig(name => inputs[name] ?? ''),
    logger,
    { cwd: art }
  )
  return { ...run, log: logger.lines.join('\n') }
}

const SHELLS: Array<[string, () => Promise<{ shell: string; sh?: string }>]> = [
  ['dash', async () => ({ shell: '/usr/bin/dash' })],
  ['bash', async () => ({ shell: '/usr/bin/bash' })],
  ['zsh', async () => ({ shell: '/usr/bin/zsh' })],
  [
    // Its sh, head and cat BusyBox too: the shells' loop as on Alpine.
    'BusyBox ash',
    async () => {
      const bin = await busyboxBin(['ash', 'sh', 'head', 'cat'])
      return { shell: path.join(bin, 'ash'), sh: bin }
    }
  ]
]

test.each(SHELLS)(
  'with %s as the login shell, sync, delete and an atomic release work and start at most two shells',
  async (name, login) => {
    const { shell, sh } = await login()
    const dir = await home(name.replace(/\W/g, '-'))
    const sshd = await startSshd({
      login: { shell, home: dir },
      countSessions: true,
      // sshd's own PATH, with BusyBox's tools first where asked.
      extraConfig: sh ? [`SetEnv PATH=${sh}:/usr/bin:/bin`] : []
    })
    try {
      const remote = path.join(sshd.remoteRoot, 'site')
      const first = await deploy(sshd, large, remote, { sync: 'true', delete: 'true' })
      expect(first.error).toBeUndefined()
      expect(first.outputs['files-uploaded']).toBe(1100)
      expect(first.outputs.results[0]?.verification).toContain('hashed on the instance')
      expect(sshd.commandsStarted()).toBeGreaterThan(0)
      expect(sshd.commandsStarted()).toBeLessThanOrEqual(2)
      // bash reads ~/.bashrc and zsh ~/.zshenv once per shell: each start is one counted above.
      if (name === 'bash' || name === 'zsh') expect(await starts(dir)).toBe(sshd.commandsStarted())

      const before = sshd.commandsStarted()
      const rel = await deploy(sshd, small, path.join(sshd.remoteRoot, 'app'), { release: 'atomic' })
      expect(rel.error).toBeUndefined()
      expect(rel.outputs['files-uploaded']).toBe(3)
      expect(sshd.commandsStarted() - before).toBeLessThanOrEqual(2)
      const live = await readdir(path.join(sshd.remoteRoot, 'app', 'current'))
      expect(live.filter(f => /^f\d+\.txt$/.test(f))).toHaveLength(3)
    } finally {
      await sshd.stop()
    }
  }
)

test('the shells a deploy starts do not grow with its files and verification batches', async () => {
  const dir = await home('count')
  const sshd = await startSshd({ login: { shell: '/usr/bin/bash', home: dir }, countSessions: true })
  try {
    const few = await deploy(sshd, small, path.join(sshd.remoteRoot, 'few'), { sync: 'true' })
    expect(few.error).toBeUndefined()
    const forFew = await starts(dir)
    const many = await deploy(sshd, large, path.join(sshd.remoteRoot, 'many'), { sync: 'true' })
    expect(many.error).toBeUndefined()
    expect(many.outputs['files-uploaded']).toBe(1100)
    const forMany = (await starts(dir)) - forFew
    expect(forFew).toBeGreaterThanOrEqual(1)
    expect(forMany).toBeLessThanOrEqual(2)
    expect(forMany).toBeLessThanOrEqual(Math.max(forFew, 2))
  } finally {
    await sshd.stop()
  }
})

test('a login shell that prints when it starts is named in one line', async () => {
  const dir = await home('chatty', 'echo "Welcome to the build box"\n')
  const sshd = await startSshd({ login: { shell: '/usr/bin/bash', home: dir } })
  try {
    for (const over of [{ sync: 'true' }, { sync: 'false' }]) {
      const run = await deploy(sshd, small, path.join(sshd.remoteRoot, 'chatty'), over)
      expect(run.error).toMatch(
        /login shell on .* printed "Welcome to the build box" to stdout when it started/
      )
      expect(run.error).toContain('breaks SFTP')
      expect(run.error).not.toContain('\n')
    }
  } finally {
    await sshd.stop()
  }
})
