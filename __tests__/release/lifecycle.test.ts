import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { testBundles } from '../../sim/bundles.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { actionInputs, makeTree, visibleLog } from './helpers.js'

/**
 * The deploy's lifecycle around the upload, through the bundled action against a real sshd (the
 * instance is this machine): what rollback and keep-releases choose, the lock every writing deploy
 * takes, where ec2-push keeps its records, and what becomes of temporaries.
 */

let sshd: Sshd
const trees: Record<string, string> = {}

beforeAll(async () => {
  sshd = await startSshd()
  for (const v of ['r1', 'r2', 'r3', 'r4']) trees[v] = await makeTree(12, i => `${v} ${i}\n`)
})
afterAll(async () => {
  await sshd?.stop()
  for (const t of Object.values(trees)) await rm(t, { recursive: true, force: true })
})

const atomic = (v: string, remote: string, over: Record<string, string> = {}) =>
  runBundledAction(actionInputs(sshd, trees[v], remote, { release: 'atomic', 'release-id': v, ...over }))

async function waitFor(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return
    await new Promise(r => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Every file under a folder whose name says it is one of ec2-push's temporaries, any version's. */
async function temporaries(dir: string): Promise<string[]> {
  const all = (await readdir(dir, { recursive: true })) as string[]
  return all.filter(p => /(^|\/)\.ec2-push-tmp\.|\.ec2-push-[0-9a-f]+\.tmp$/.test(p))
}

test('rollback goes to the newest release that went live and did not fail; keep-releases deletes failed ones first', async () => {
  const remote = path.join(sshd.remoteRoot, 'history')
  expect((await atomic('r1', remote)).code).toBe(0)
  expect((await atomic('r2', remote)).code).toBe(0)
  const failed = await atomic('r3', remote, { 'post-command': 'exit 3' })
  expect(failed.code).toBe(1)
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/r2')
  expect((await atomic('r4', remote, { 'keep-releases': '2' })).code).toBe(0)
  // Two good releases kept (r4 and r2); the failed r3 went first, then the oldest good one.
  expect((await readdir(path.join(remote, 'releases'))).sort()).toEqual(['r2', 'r4'])
  const log = await readFile(path.join(remote, '.ec2-push', 'log'), 'utf8')
  expect(log.split('\n').map(l => l.split('\t').slice(0, 2).join(' '))).toEqual(['r2 live', 'r4 live', ''])
  const back = await runBundledAction(
    actionInputs(sshd, trees.r1, remote, { release: 'atomic', rollback: 'true', files: '' })
  )
  expect(back.errors).toEqual([])
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/r2')
  const after = await readFile(path.join(remote, '.ec2-push', 'log'), 'utf8')
  expect(after).toMatch(/^r4\trolled-back\t/m)
})

test('nothing of ec2-push is inside a release, and user files named .ec2-push* upload like any others', async () => {
  const tree = await makeTree(3, i => `user ${i}\n`)
  const own = {
    '.ec2-push-manifest': 'my manifest, not yours\n',
    '.ec2-push-release': 'my release notes\n',
    'files/.ec2-push-notes': 'notes\n'
  }
  for (const [rel, text] of Object.entries(own)) await writeFile(path.join(tree, rel), text)
  try {
    const inputs = (remote: string, over: Record<string, string> = {}) =>
      actionInputs(sshd, tree, remote, { sync: 'true', 'include-hidden-files': 'true', ...over })
    // release: atomic — the release holds the user's files and nothing else, twice over (sync).
    const remote = path.join(sshd.remoteRoot, 'reserved')
    for (const id of ['a1', 'a2']) {
      const run = await runBundledAction(inputs(remote, { release: 'atomic', 'release-id': id }))
      expect(run.errors).toEqual([])
      const rel = path.join(remote, 'releases', id)
      expect(((await readdir(rel, { recursive: true })) as string[]).sort()).toEqual([
        '.ec2-push-manifest',
        '.ec2-push-release',
        'files',
        'files/.ec2-push-notes',
        'files/f0000.txt',
        'files/f0001.txt',
        'files/f0002.txt'
      ])
      for (const [p, text] of Object.entries(own))
        expect(await readFile(path.join(rel, p), 'utf8')).toBe(text)
    }
    expect(existsSync(path.join(remote, '.ec2-push', 'releases', 'a2'))).toBe(true)
    expect(existsSync(path.join(remote, '.ec2-push', 'manifests', 'a2'))).toBe(true)
    // In place: the user's .ec2-push-manifest is theirs after a sync deploy, and after the next one.
    const plain = path.join(sshd.remoteRoot, 'reserved-plain')
    for (let i = 0; i < 2; i++) {
      const run = await runBundledAction(inputs(plain))
      expect(run.errors).toEqual([])
      expect(await readFile(path.join(plain, '.ec2-push-manifest'), 'utf8')).toBe(own['.ec2-push-manifest'])
    }
    expect(existsSync(path.join(plain, '.ec2-push', 'manifest'))).toBe(true)
  } finally {
    await rm(tree, { recursive: true, force: true })
  }
})

test('a plain deploy takes the lock too: a second one is refused naming the holder, or waits with lock-wait-seconds', async () => {
  const remote = path.join(sshd.remoteRoot, 'plain-lock')
  const gate = path.join(sshd.dir, 'plain.gate')
  const entered = path.join(sshd.dir, 'plain.entered')
  const github = {
    GITHUB_REPOSITORY: 'org/app',
    GITHUB_RUN_ID: '77',
    GITHUB_RUN_ATTEMPT: '2',
    RUNNER_NAME: 'runner-x'
  }
  const first = runBundledAction(
    actionInputs(sshd, trees.r1, remote, {
      'pre-command': `touch '${entered}'; i=0; while [ ! -e '${gate}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`
    }),
    { env: github }
  )
  await waitFor(() => existsSync(entered), 'the first deploy to take the lock')
  const owner = await readFile(path.join(remote, '.ec2-push', 'lock', 'owner'), 'utf8')
  expect(owner).toMatch(/^repo=org\/app$/m)
  expect(owner).toMatch(/^run=77$/m)
  expect(owner).toMatch(/^attempt=2$/m)
  expect(owner).toMatch(/^runner=runner-x$/m)
  expect(owner).toMatch(/^pid=\d+$/m)
  expect(owner).toMatch(/^since=\d+$/m)
  expect(owner).toMatch(/^ttl=1860$/m)
  // A plain deploy (no command, no sync, release: none) while it holds the lock.
  const second = await runBundledAction(actionInputs(sshd, trees.r2, remote))
  expect(second.code).toBe(1)
  expect(second.errors).toEqual([
    expect.stringMatching(
      /^Another deploy holds the lock .*plain-lock\/\.ec2-push\/lock on .*: org\/app run 77 attempt 2 on runner runner-x \(host .*\), holding it for \d+ s;/
    )
  ])
  expect(await readdir(remote)).toEqual(['.ec2-push'])
  // One that waits goes in once the holder is done, and its files are the ones left.
  const thirdRun = await runBundledAction(
    actionInputs(sshd, trees.r2, remote, { 'lock-wait-seconds': '120' }),
    {
      // The holder finishes once the third deploy says it waits.
      onSpawn: (_child, output) =>
        void waitFor(() => output().includes('waiting for the deploy lock'), 'the third deploy to wait').then(
          () => writeFile(gate, '')
        )
    }
  )
  const firstRun = await first
  expect(firstRun.errors).toEqual([])
  expect(thirdRun.errors).toEqual([])
  expect(visibleLog(thirdRun)).toMatch(/waiting for the deploy lock held by org\/app run 77 attempt 2/)
  for (let i = 0; i < 12; i++)
    expect(await readFile(path.join(remote, 'files', `f${String(i).padStart(4, '0')}.txt`), 'utf8')).toBe(
      `r2 ${i}\n`
    )
  expect(existsSync(path.join(remote, '.ec2-push', 'lock'))).toBe(false)
})

test('temporaries carry the run token: the next deploy sweeps orphans, and a failed rename drops its own', async () => {
  const remote = path.join(sshd.remoteRoot, 'temps')
  expect((await runBundledAction(actionInputs(sshd, trees.r1, remote))).code).toBe(0)
  // What a killed run left: temporaries of a run that holds no lock.
  await writeFile(path.join(remote, 'files', '.ec2-push-tmp.0123456789ab.1f'), 'half')
  await writeFile(path.join(remote, '.ec2-push-tmp.0123456789ab.2'), 'half')
  expect((await temporaries(remote)).length).toBe(2)
  expect((await runBundledAction(actionInputs(sshd, trees.r2, remote))).errors).toEqual([])
  expect(await temporaries(remote)).toEqual([])

  // A folder where a file goes: the rename over it fails, and the verified temporary goes too.
  await rm(path.join(remote, 'files', 'f0003.txt'))
  await mkdir(path.join(remote, 'files', 'f0003.txt', 'inside'), { recursive: true })
  const failed = await runBundledAction(actionInputs(sshd, trees.r3, remote))
  expect(failed.code).toBe(1)
  expect(failed.errors).toEqual([expect.stringContaining('f0003.txt')])
  expect(await temporaries(remote)).toEqual([])
  expect(existsSync(path.join(remote, '.ec2-push', 'lock'))).toBe(false)
})

test('an older layout is recognised: its releases (marked inside) and its lock', async () => {
  const remote = path.join(sshd.remoteRoot, 'old-layout')
  await mkdir(path.join(remote, 'releases', 'old1'), { recursive: true })
  await writeFile(
    path.join(remote, 'releases', 'old1', '.ec2-push-release'),
    'seq=1 created=2025-01-01T00:00:00Z run=local\n'
  )
  await writeFile(path.join(remote, 'releases', 'old1', 'index.html'), 'old\n')
  const { symlink } = await import('node:fs/promises')
  await symlink('releases/old1', path.join(remote, 'current'))
  const run = await atomic('r1', remote)
  expect(run.errors).toEqual([])
  expect(run.outputs.results).toContain('"previousRelease":"old1"')
  const back = await runBundledAction(
    actionInputs(sshd, trees.r1, remote, { release: 'atomic', rollback: 'true', files: '' })
  )
  expect(back.errors).toEqual([])
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/old1')
})

test('the post step removes what a killed deploy left: the lock, the unfinished release, its temporaries', async () => {
  const remote = path.join(sshd.remoteRoot, 'killed')
  expect((await atomic('r1', remote)).code).toBe(0)
  const big = await makeTree(1500, i => `big ${i} ${'y'.repeat(2000)}\n`)
  try {
    const killed = await runBundledAction(
      actionInputs(sshd, big, remote, { release: 'atomic', 'release-id': 'k2', concurrency: '4' }),
      {
        onSpawn: child => {
          void waitFor(async () => {
            const dir = path.join(remote, 'releases', 'k2', 'files')
            return existsSync(dir) && (await readdir(dir)).length > 20
          }, 'the upload to be under way').then(() => child.kill('SIGKILL'))
        }
      }
    )
    expect(killed.signal).toBe('SIGKILL')
    expect(existsSync(path.join(remote, '.ec2-push', 'lock'))).toBe(true)
    expect(JSON.parse(killed.state.cleanup)).toEqual([
      expect.objectContaining({ releaseId: 'k2', root: remote })
    ])
    const post = await runBundledAction(
      actionInputs(sshd, big, remote, { release: 'atomic', 'release-id': 'k2' }),
      { entry: (await testBundles()).post, state: killed.state }
    )
    expect(post.code).toBe(0)
    expect(visibleLog(post)).toContain('removed what the cancelled deploy left')
    expect(existsSync(path.join(remote, '.ec2-push', 'lock'))).toBe(false)
    expect(await readdir(path.join(remote, 'releases'))).toEqual(['r1'])
    expect(await temporaries(remote)).toEqual([])
    expect(await readlink(path.join(remote, 'current'))).toBe('releases/r1')
    // After a deploy that ended on its own there is nothing to do, and nothing is connected to.
    const idle = await runBundledAction(actionInputs(sshd, big, remote, { 'ssh-private-key': 'not a key' }), {
      entry: (await testBundles()).post,
      state: { cleanup: '' }
    })
    expect(idle.code).toBe(0)
    expect(visibleLog(idle)).toBe('')
  } finally {
    await rm(big, { recursive: true, force: true })
  }
})

test('SIGINT mid-upload and mid-post-command: lock released, no unfinished release, current intact, the next deploy goes in at once', async () => {
  const remote = path.join(sshd.remoteRoot, 'cancelled')
  expect((await atomic('r1', remote)).code).toBe(0)
  const big = await makeTree(1500, i => `big ${i} ${'z'.repeat(2000)}\n`)
  const lockGone = () => !existsSync(path.join(remote, '.ec2-push', 'lock'))
  try {
    // Mid-upload: the unfinished release and its temporaries go, current never moved.
    const cancelled = await runBundledAction(
      actionInputs(sshd, big, remote, { release: 'atomic', 'release-id': 'c2', concurrency: '4' }),
      {
        onSpawn: child => {
          void waitFor(async () => {
            const dir = path.join(remote, 'releases', 'c2', 'files')
            return existsSync(dir) && (await readdir(dir)).length > 20
          }, 'the upload to be under way').then(() => child.kill('SIGINT'))
        }
      }
    )
    expect(cancelled.code).not.toBe(0)
    expect(cancelled.errors).toEqual([
      expect.stringMatching(
        /^The deploy was cancelled: .*current still points to releases\/r1, nothing was switched \(the unfinished release c2 was removed\)/
      )
    ])
    expect(lockGone()).toBe(true)
    expect(await readdir(path.join(remote, 'releases'))).toEqual(['r1'])
    expect(await readlink(path.join(remote, 'current'))).toBe('releases/r1')
    expect(await temporaries(remote)).toEqual([])
    // Nothing left for the post step.
    expect(cancelled.state.cleanup ?? '').toBe('')
    expect((await atomic('r2', remote)).errors).toEqual([])

    // Mid-post-command, after the switch: current goes back, the release is recorded as failed.
    const entered = path.join(sshd.dir, 'cancel.post')
    const during = await runBundledAction(
      actionInputs(sshd, trees.r3, remote, {
        release: 'atomic',
        'release-id': 'c3',
        'post-command': `touch '${entered}'; sleep 60`
      }),
      {
        onSpawn: child =>
          void waitFor(() => existsSync(entered), 'the post-command').then(() => child.kill('SIGINT'))
      }
    )
    expect(during.code).not.toBe(0)
    expect(during.errors).toEqual([
      expect.stringMatching(/^The deploy was cancelled: .*rolled back: current points to releases\/r2 again/)
    ])
    expect(lockGone()).toBe(true)
    expect(await readlink(path.join(remote, 'current'))).toBe('releases/r2')
    expect(await readFile(path.join(remote, '.ec2-push', 'log'), 'utf8')).toMatch(/^c3\tfailed\t/m)
    const next = await atomic('r4', remote)
    expect(next.errors).toEqual([])
    expect(await readlink(path.join(remote, 'current'))).toBe('releases/r4')
  } finally {
    await rm(big, { recursive: true, force: true })
  }
})
