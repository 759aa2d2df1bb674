import { existsSync } from 'node:fs'
import { appendFile, chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { freePort } from '../../sim/free-port.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { makeTree, results, visibleLog } from '../release/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * Many targets: four real sshd instances, fail-fast, per-target results, and dry-run, through the
 * bundled action. Every sshd runs on this machine as the same user, so each one is given its own
 * "home" (its sessions start there: exec through a ForceCommand wrapper, SFTP with sftp-server -d)
 * and a relative remote-path lands in a different folder per instance, as on separate machines.
 */

const SFTP_SERVER = '/usr/lib/openssh/sftp-server'
const WRAPPER = `#!/bin/sh
home=$1
cd "$home" || exit 1
case "$SSH_ORIGINAL_COMMAND" in
  internal-sftp|*sftp-server*) exec ${SFTP_SERVER} -d "$home" ;;
  '') exec /bin/sh ;;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
`

let base: string
let fleet: Array<Sshd & { home: string }> = []
let art: string
let shared: string

useTestBundles()

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-fleet-'))
  const wrapper = path.join(base, 'session.sh')
  await writeFile(wrapper, WRAPPER)
  await chmod(wrapper, 0o755)
  shared = path.join(base, 'shared')
  await mkdir(shared)
  fleet = await Promise.all(
    [0, 1, 2, 3].map(async n => {
      const home = path.join(base, `host-${n}`)
      await mkdir(home)
      const s = await startSshd({ extraConfig: [`ForceCommand ${wrapper} ${home}`] })
      return Object.assign(s, { home })
    })
  )
  // One deploy key for the whole fleet, as in a real one.
  for (const s of fleet.slice(1))
    await appendFile(path.join(s.dir, 'authorized_keys'), fleet[0].clientKey.publicKey + '\n')
  art = await makeTree(20, i => `fleet ${i}\n`)
})
afterAll(async () => {
  await Promise.all(fleet.map(s => s.stop()))
  for (const d of [art, base]) if (d) await rm(d, { recursive: true, force: true })
})

let downKnownHosts: string[] = []
const target = (s: Sshd) => `${s.host}:${s.port}`

function inputs(remote: string, targets: string[], over: Record<string, string> = {}) {
  return {
    mode: 'nlb',
    targets: targets.join('\n'),
    files: `${art}/**`,
    'remote-path': remote,
    user: fleet[0].user,
    'ssh-private-key': fleet[0].clientKey.privateKey,
    // The down target gets a pinned key too, so what fails is the connection itself.
    'known-hosts': [...fleet.map(s => s.knownHostsLine), ...downKnownHosts].join('\n'),
    retries: '0',
    ...over
  }
}

async function filesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(e.name)
  return out.sort()
}

/**
 * The pre-command meets its partner: each arriving target takes the next arrival number (mkdir is
 * atomic, so no two take the same one), and an odd number waits (bounded) for the next one to
 * arrive, so it passes only if two targets really run at once. Pairs are fixed at arrival, so a
 * fast target that finishes and lets the next one in cannot leave its partner waiting for a count
 * that no longer adds up. It also records how many are inside at the same time, which must never
 * exceed max-parallel-targets.
 */
const BARRIER = `
s='${'$'}{SHARED}'
mkdir "$s/active.$$" ; ls -d "$s"/active.* | wc -l >> "$s/concurrency"
k=1
until mkdir "$s/arrival.$k" 2>/dev/null; do k=$((k+1)); done
if [ $((k % 2)) -eq 1 ]; then
  i=0
  while [ ! -d "$s/arrival.$((k+1))" ]; do
    [ $i -lt 300 ] || { rmdir "$s/active.$$"; echo "no partner arrived for arrival $k"; exit 1; }
    sleep 0.1; i=$((i+1))
  done
fi
rmdir "$s/active.$$"
`

test('four targets, two at a time: every one deployed, outputs add up, a result and a summary row each', async () => {
  const run = await runBundledAction(
    inputs('app', fleet.map(target), {
      'max-parallel-targets': '2',
      'pre-command': BARRIER.replace('${SHARED}', shared)
    })
  )
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  const res = results(run)
  expect(res.map(r => r.target)).toEqual(fleet.map(target))
  for (const r of res) expect(r).toMatchObject({ status: 'success', filesUploaded: 20, filesTotal: 20 })
  expect(run.outputs['files-uploaded']).toBe('80')
  expect(Number(run.outputs['bytes-transferred'])).toBe(
    res.reduce((n, r) => n + (r.bytesTransferred as number), 0)
  )
  for (const s of fleet) expect(await filesIn(path.join(s.home, 'app'))).toHaveLength(20)
  const seen = (await readFile(path.join(shared, 'concurrency'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map(Number)
  expect(seen).toHaveLength(4)
  expect(Math.max(...seen)).toBeLessThanOrEqual(2)
  // Parallel targets log with a prefix instead of groups, which would interleave.
  expect(visibleLog(run)).toContain(`[${target(fleet[1])}]`)
  for (const s of fleet) expect(run.summary).toContain(target(s))
})

describe('one target down', () => {
  let down: string
  beforeAll(async () => {
    const port = await freePort()
    down = `127.0.0.1:${port}`
    downKnownHosts = [fleet[0].knownHostsLine.replace(/^\[127\.0\.0\.1\]:\d+/, `[127.0.0.1]:${port}`)]
  })

  test('fail-fast (the default) stops the deploy: the targets after it are not started', async () => {
    const run = await runBundledAction(
      inputs('ff', [target(fleet[0]), down, target(fleet[1]), target(fleet[2])])
    )
    expect(run.code).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(
      new RegExp(`^1 of 4 targets failed \\(fail-fast stopped 2 others\\): ${down}: `)
    )
    expect(results(run).map(r => r.status)).toEqual(['success', 'failure', 'skipped', 'skipped'])
    expect(results(run)[1].error).toMatch(/cannot connect/)
    expect(await filesIn(path.join(fleet[0].home, 'ff'))).toHaveLength(20)
    expect(await filesIn(path.join(fleet[1].home, 'ff'))).toEqual([])
    expect(await filesIn(path.join(fleet[2].home, 'ff'))).toEqual([])
    expect(run.outputs['files-uploaded']).toBe('20')
  })

  test('fail-fast cancels a target already under way: its command is stopped, nothing published, the lock freed', async () => {
    const started = path.join(shared, 'cancel.started')
    const run = await runBundledAction(
      inputs('cancel', [target(fleet[0]), down, target(fleet[1]), target(fleet[2])], {
        'max-parallel-targets': '2',
        release: 'atomic',
        'release-id': 'c1',
        // Waits (bounded) for a gate that never opens: only the cancellation ends it early.
        'pre-command': `touch '${started}'; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`
      })
    )
    expect(run.code).toBe(1)
    expect(results(run).map(r => r.status)).toEqual(['cancelled', 'failure', 'skipped', 'skipped'])
    expect(results(run)[0].error).toMatch(/cancel/)
    expect(existsSync(path.join(fleet[0].home, 'cancel', 'current'))).toBe(false)
    expect(existsSync(path.join(fleet[0].home, 'cancel', '.ec2-push', 'lock'))).toBe(false)
    expect(existsSync(path.join(fleet[1].home, 'cancel'))).toBe(false)
  })

  test('fail-fast false deploys to every target it can and fails the step naming the one it could not', async () => {
    const run = await runBundledAction(
      inputs('nff', [down, ...fleet.slice(0, 3).map(target)], {
        'fail-fast': 'false',
        'max-parallel-targets': '2'
      })
    )
    expect(run.code).toBe(1)
    expect(run.errors[0]).toMatch(new RegExp(`^1 of 4 targets failed: ${down}: `))
    const res = results(run)
    expect(res.map(r => r.status)).toEqual(['failure', 'success', 'success', 'success'])
    expect(res[0].error).toMatch(/cannot connect/)
    for (const s of fleet.slice(0, 3)) expect(await filesIn(path.join(s.home, 'nff'))).toHaveLength(20)
    expect(run.outputs['files-uploaded']).toBe('60')
    expect(run.summary.match(/<tr>/g)?.length).toBe(5)
  })
})

test('dry-run prints the exact plan and writes nothing on the instance, even with sync, delete and atomic', async () => {
  const s = fleet[3]
  // Something already there: a sync dry run must say which files it would skip.
  const deployed = await runBundledAction(inputs('dry', [target(s)], { sync: 'true' }))
  expect(deployed.code).toBe(0)
  await writeFile(path.join(art, 'files', 'f0005.txt'), 'different now\n')
  await writeFile(path.join(s.home, 'dry', 'extra.txt'), 'extra\n')
  const before = await snapshot(s.home)

  const run = await runBundledAction(
    inputs('dry', [target(s)], { sync: 'true', delete: 'true', 'dry-run': 'true' })
  )
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  expect(await snapshot(s.home)).toEqual(before)
  const plan = JSON.parse(run.outputs.plan)
  expect(plan.dryRun).toBe(true)
  const t = plan.targets[0]
  expect(t.files).toHaveLength(20)
  expect(t.files.filter((f: { action: string }) => f.action === 'upload')).toEqual([
    { local: path.join(art, 'files', 'f0005.txt'), remote: 'dry/files/f0005.txt', size: 14, action: 'upload' }
  ])
  expect(t.delete).toEqual(['extra.txt'])
  expect(visibleLog(run)).toContain(
    `upload ${path.join(art, 'files', 'f0005.txt')} -> dry/files/f0005.txt (14 bytes)`
  )
  expect(run.outputs['files-uploaded']).toBe('0')

  // An atomic release that does not exist yet: the plan names its folder; nothing is created.
  const atomic = await runBundledAction(
    inputs('dry-atomic', [target(s)], { release: 'atomic', 'release-id': 'r9', 'dry-run': 'true' })
  )
  expect(atomic.code).toBe(0)
  expect(atomic.outputs['release-path']).toBe('dry-atomic/releases/r9')
  expect(JSON.parse(atomic.outputs.plan).targets[0].files[0].remote).toMatch(
    /^dry-atomic\/releases\/r9\/files\//
  )
  expect(existsSync(path.join(s.home, 'dry-atomic'))).toBe(false)
})

/** Every path under a folder with its size and mtime: any write shows up. */
async function snapshot(dir: string): Promise<string[]> {
  const { stat } = await import('node:fs/promises')
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true })) {
    const st = await stat(path.join(dir, e))
    out.push(`${e} ${st.size} ${st.mtimeMs} ${st.isDirectory() ? 'd' : 'f'}`)
  }
  return out.sort()
}
