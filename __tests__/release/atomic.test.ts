import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { actionInputs, makeTree, results, visibleLog } from './helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** release: atomic through the bundled action against a real sshd (the instance is this machine). */

const FILES = 120
let sshd: Sshd
const trees: Record<string, string> = {}

useTestBundles()

beforeAll(async () => {
  sshd = await startSshd()
  for (const v of ['v1', 'v2', 'v3', 'v4'])
    trees[v] = await makeTree(FILES, i => `${v}\n${'x'.repeat(i * 10)}\n`)
})
afterAll(async () => {
  await sshd?.stop()
  for (const t of Object.values(trees)) await rm(t, { recursive: true, force: true })
})

const deploy = (v: string, remote: string, over: Record<string, string> = {}) =>
  runBundledAction(actionInputs(sshd, trees[v], remote, { release: 'atomic', 'release-id': v, ...over }))

/**
 * The instance-side reader: resolves `current` in a loop and checks that the folder it names is a
 * whole release (our marker, every file, one version in all of them). Stops when `stop` exists.
 */
const READER = `
root=$1; n=$2; out=$3; stop=$4; i=0
while [ ! -e "$stop" ] && [ $i -lt 100000 ]; do
  i=$((i+1))
  d=$(readlink "$root/current") || { echo "MISSING" >> "$out"; continue; }
  r="$root/$d"
  c=$(ls "$r/files" 2>/dev/null | wc -l)
  v=$(head -q -n1 "$r"/files/* 2>/dev/null | sort -u)
  nv=$(printf '%s\\n' "$v" | wc -l)
  if [ -f "$root/.ec2-push/releases/\${d#releases/}" ] && [ "$c" -eq "$n" ] && [ "$nv" -eq 1 ]; then echo "OK $v" >> "$out"
  else echo "BAD $d files=$c versions=$nv" >> "$out"; fi
done
`

async function waitFor(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 600; i++) {
    if (await check()) return
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('current always points to a whole release while releases are deployed (reader loop on the instance)', async () => {
  const remote = path.join(sshd.remoteRoot, 'reader')
  expect((await deploy('v1', remote)).code).toBe(0)
  const out = path.join(sshd.dir, 'reader.log')
  const stop = path.join(sshd.dir, 'reader.stop')
  const reader = spawn('sh', ['-c', READER, 'reader', remote, String(FILES), out, stop], { stdio: 'ignore' })
  const readerDone = new Promise(resolve => reader.once('exit', resolve))
  const log = async () => (existsSync(out) ? (await readFile(out, 'utf8')).split('\n').filter(Boolean) : [])
  try {
    await waitFor(async () => (await log()).length > 0, 'the reader to start')
    for (const v of ['v2', 'v3', 'v4']) {
      const run = await deploy(v, remote, { 'keep-releases': '10' })
      expect(run.errors).toEqual([])
      expect(run.outputs['release-path']).toBe(path.join(remote, 'releases', v))
    }
    const seen = (await log()).length
    await waitFor(async () => (await log()).length > seen + 1, 'the reader to check the last release')
  } finally {
    await writeFile(stop, '')
    await readerDone
  }
  const lines = await log()
  expect(lines.filter(l => !l.startsWith('OK '))).toEqual([])
  const versions = [...new Set(lines.map(l => l.slice(3)))]
  // It saw the first and the last release, in deploy order, and nothing else.
  expect(versions[0]).toBe('v1')
  expect(versions[versions.length - 1]).toBe('v4')
  expect([...versions].sort()).toEqual(versions)
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v4')
})

test('keeps the newest keep-releases releases and never touches folders it did not create', async () => {
  const remote = path.join(sshd.remoteRoot, 'keep')
  await mkdir(path.join(remote, 'releases', 'manual'), { recursive: true })
  await writeFile(path.join(remote, 'releases', 'manual', 'note.txt'), 'mine\n')
  for (const v of ['v1', 'v2', 'v3', 'v4'])
    expect((await deploy(v, remote, { 'keep-releases': '2' })).code).toBe(0)
  expect((await readdir(path.join(remote, 'releases'))).sort()).toEqual(['manual', 'v3', 'v4'])
  expect(await readFile(path.join(remote, 'releases', 'manual', 'note.txt'), 'utf8')).toBe('mine\n')
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v4')
  // The lock is gone once the deploy is over.
  expect(existsSync(path.join(remote, '.ec2-push', 'lock'))).toBe(false)
})

test('a failing post-command rolls back to the previous release and the step fails saying so', async () => {
  const remote = path.join(sshd.remoteRoot, 'post-fail')
  expect((await deploy('v1', remote)).code).toBe(0)
  const run = await deploy('v2', remote, {
    'post-command': 'echo "health check of $EC2_PUSH_RELEASE_ID in $(pwd)"\necho "to stderr" >&2\nexit 3'
  })
  expect(run.code).toBe(1)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toMatch(/post-command .* exited with code 3/)
  expect(run.errors[0]).toContain('rolled back: current points to releases/v1 again')
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v1')
  const log = visibleLog(run)
  // The command's output is streamed into a group of its own.
  expect(log).toMatch(
    new RegExp(
      `::group::post-command on [^\\n]*\\nhealth check of v2 in ${remote}\\nto stderr\\n::endgroup::`
    )
  )
  expect(results(run)[0]).toMatchObject({
    status: 'failure',
    rolledBack: true,
    releaseId: 'v2',
    previousRelease: 'v1'
  })
})

test('a post-command that outlives command-timeout-seconds is killed and the release rolled back', async () => {
  const remote = path.join(sshd.remoteRoot, 'post-timeout')
  expect((await deploy('v1', remote)).code).toBe(0)
  const run = await deploy('v2', remote, {
    'post-command': 'echo started; sleep 30',
    'command-timeout-seconds': '1'
  })
  expect(run.code).toBe(1)
  expect(run.errors[0]).toContain('did not finish within command-timeout-seconds (1 s)')
  expect(run.errors[0]).toContain('rolled back')
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v1')
})

test('a failing pre-command stops the deploy before anything is uploaded', async () => {
  const remote = path.join(sshd.remoteRoot, 'pre-fail')
  expect((await deploy('v1', remote)).code).toBe(0)
  const run = await deploy('v2', remote, { 'pre-command': 'echo "pre for $EC2_PUSH_RELEASE_PATH"; false' })
  expect(run.code).toBe(1)
  expect(run.errors[0]).toMatch(/pre-command .* exited with code 1/)
  expect(visibleLog(run)).toContain(`pre for ${path.join(remote, 'releases', 'v2')}`)
  expect(await readdir(path.join(remote, 'releases'))).toEqual(['v1'])
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v1')
})

test('rollback: true switches current to the release before it, uploading nothing', async () => {
  const remote = path.join(sshd.remoteRoot, 'rollback')
  for (const v of ['v1', 'v2', 'v3']) expect((await deploy(v, remote)).code).toBe(0)
  const back = (over: Record<string, string> = {}) =>
    runBundledAction(
      actionInputs(sshd, trees.v1, remote, {
        release: 'atomic',
        rollback: 'true',
        files: '',
        'release-id': 'unused',
        ...over
      })
    )
  const first = await back({ 'post-command': 'echo "now on $EC2_PUSH_RELEASE_ID"' })
  expect(first.errors).toEqual([])
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v2')
  expect(first.outputs['release-path']).toBe(path.join(remote, 'releases', 'v2'))
  expect(first.outputs['files-uploaded']).toBe('0')
  expect(visibleLog(first)).toContain('now on v2')
  expect(results(first)[0]).toMatchObject({ status: 'success', rolledBack: true, previousRelease: 'v3' })
  expect((await back()).code).toBe(0)
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v1')
  const none = await back()
  expect(none.code).toBe(1)
  expect(none.errors[0]).toMatch(/No release before v1/)
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v1')
  // Rolled-back releases stay, so a later deploy id can go forward again.
  expect((await readdir(path.join(remote, 'releases'))).sort()).toEqual(['v1', 'v2', 'v3'])
})

test("the deploy lock refuses a concurrent deploy naming its holder; a lock past its holder's limit is broken with a warning", async () => {
  const remote = path.join(sshd.remoteRoot, 'lock')
  const gate = path.join(sshd.dir, 'lock.gate')
  const entered = path.join(sshd.dir, 'lock.entered')
  // The first deploy holds the lock inside its pre-command until the gate opens (bounded wait).
  const first = deploy('v1', remote, {
    'pre-command': `touch '${entered}'; i=0; while [ ! -e '${gate}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`
  })
  await waitFor(async () => existsSync(entered), 'the first deploy to take the lock')
  const second = await deploy('v2', remote)
  await writeFile(gate, '')
  const firstRun = await first
  expect(second.code).toBe(1)
  expect(second.errors).toHaveLength(1)
  expect(second.errors[0]).toMatch(
    /^Another deploy holds the lock .*\/\.ec2-push\/lock on .*: run local \(host .*, pid \d+, since .*\), holding it for \d+ s; set 'lock-wait-seconds'/
  )
  expect(firstRun.errors).toEqual([])
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v1')
  expect(await readdir(path.join(remote, 'releases'))).toEqual(['v1'])

  // A lock whose holder ran out of time long ago (this layout's, then an older version's): broken
  // with a warning naming the holder, and the deploy goes on.
  const since = Math.floor(Date.now() / 1000) - 7200
  const owner = `token=abc\nrepo=org/repo\nrun=42\nattempt=1\nrunner=runner-9\nhost=box-9\npid=4242\nsince=${since}\nttl=1860\n`
  const lock = path.join(remote, '.ec2-push', 'lock')
  await mkdir(lock)
  await writeFile(path.join(lock, 'owner'), owner)
  const stale = await deploy('v2', remote)
  expect(stale.errors).toEqual([])
  expect(visibleLog(stale)).toMatch(
    /::warning::.*breaking the deploy lock .*\/\.ec2-push\/lock of org\/repo run 42 attempt 1 on runner runner-9 \(host box-9, pid 4242.*past its owner's limit of 1860 s/
  )
  expect(existsSync(lock)).toBe(false)
  expect(await readlink(path.join(remote, 'current'))).toBe('releases/v2')
  const old = path.join(remote, '.ec2-push.lock')
  await mkdir(old)
  await writeFile(
    path.join(old, 'owner'),
    `token=old\nrun=org/repo#41.1\nhost=box-8\npid=1\nsince=${since}\nttl=1860\n`
  )
  const afterOld = await deploy('v3', remote)
  expect(afterOld.errors).toEqual([])
  expect(visibleLog(afterOld)).toMatch(/breaking the deploy lock .*\.ec2-push\.lock of run org\/repo#41\.1/)
  expect(existsSync(old)).toBe(false)
})

test('a current that is a real folder is refused, not replaced', async () => {
  const remote = path.join(sshd.remoteRoot, 'folder-current')
  await mkdir(path.join(remote, 'current'), { recursive: true })
  await writeFile(path.join(remote, 'current', 'keep.txt'), 'x')
  const run = await deploy('v1', remote)
  expect(run.code).toBe(1)
  expect(run.errors[0]).toMatch(/current on .* is not a symlink/)
  expect(await readFile(path.join(remote, 'current', 'keep.txt'), 'utf8')).toBe('x')
})
