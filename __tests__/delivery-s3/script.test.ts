import { spawnSync } from 'node:child_process'
import { mkdtemp, readlink, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  protectRegex,
  renderS3ReleaseScript,
  type S3ReleaseScriptOptions
} from '../../src/remote/s3-release.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { seededBytes } from '../helpers/artifacts.js'
import { deployS3, makeS3Tree, readOnInstance, useSandboxEnv } from './helpers.js'

/**
 * The instance-side script of delivery: s3: shellcheck-clean in every shape it is rendered in, and
 * run by BusyBox sh (the dash runs are in fleet-deploy.test.ts) on the fleet; a command that hangs
 * times out there and is reported as such; a large file goes up in parts and arrives whole.
 */

const base: S3ReleaseScriptOptions = {
  remotePath: "/srv/it's here",
  manifestUrl: 'http://127.0.0.1:1/b/m?X-Amz-Signature=00',
  release: 'atomic',
  releaseId: 'r1',
  keepReleases: 5,
  sync: false,
  delete: false,
  protectRegex: '',
  dryRun: false,
  rollback: false,
  token: 'abc123',
  run: 'local',
  lockTtlSeconds: 60
}

test.each([
  ['atomic', {}],
  [
    'in place with delete and protect',
    { release: 'none' as const, delete: true, protectRegex: protectRegex(['logs', 'cfg/*.ini']) }
  ],
  [
    'rollback with commands',
    { rollback: true, preCommand: 'echo "$HOME"', postCommand: "systemctl reload 'app'" }
  ]
])('the %s script passes shellcheck (POSIX sh)', async (_name, over) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-sc-'))
  try {
    const file = path.join(dir, 'script.sh')
    const script = renderS3ReleaseScript({ ...base, ...over })
    await writeFile(file, script)
    const r = spawnSync('shellcheck', ['-s', 'sh', file], { encoding: 'utf8' })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
    // The watcher's script, a string to shellcheck above: checked on its own ($1... are its arguments).
    const watcher = /^WATCHER='([^']*)'$/m.exec(script)![1]
    await writeFile(file, `#!/bin/sh\n${watcher}\n`)
    const w = spawnSync('shellcheck', ['-s', 'sh', file], { encoding: 'utf8' })
    expect(w.stdout + w.stderr).toBe('')
    expect(w.status).toBe(0)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('protect patterns become one ERE: names at any depth, folders protect what is under them', () => {
  const re = new RegExp(protectRegex(['logs', 'cfg/*.ini', 'a/**/b.txt']))
  for (const p of ['logs', 'x/logs/today', 'cfg/app.ini', 'a/b.txt', 'a/x/y/b.txt'])
    expect(re.test(p)).toBe(true)
  for (const p of ['logsx', 'cfg/sub/app.ini', 'b/b.txt', 'cfg/app.inix']) expect(re.test(p)).toBe(false)
  expect(protectRegex([])).toBe('')
})

describe('on a BusyBox fleet', () => {
  let sandbox: Sandbox
  let restoreEnv: () => void
  let art: string
  beforeAll(async () => {
    sandbox = await startSandbox({ fleetSize: 2, fleetShell: ['busybox', 'sh'] })
    restoreEnv = useSandboxEnv(sandbox)
    art = await makeS3Tree({ 'big/large.bin': seededBytes(17 * 1024 * 1024 + 5, 3) })
  })
  afterAll(async () => {
    restoreEnv?.()
    await sandbox?.stop()
    if (art) await rm(art, { recursive: true, force: true })
  })

  test('a release with a large file (uploaded in parts) reaches both instances whole', async () => {
    const run = await deployS3(sandbox, {
      targets: sandbox.fleet.instanceIds.join(','),
      files: `${art}/**`,
      'remote-path': '/opt/bb',
      release: 'atomic',
      'release-id': 'bb1',
      'max-parallel-targets': '100%',
      // As with push: in remote-path, the release's path and the instance id exported.
      'post-command':
        'test -x "$EC2_PUSH_RELEASE_PATH/bin/run.sh" && echo "post-ok $EC2_PUSH_TARGET" > /opt/bb/post'
    })
    expect(run.error).toBeUndefined()
    expect(sandbox.fleet.s3.counters.requests.UploadPart).toBeGreaterThanOrEqual(3)
    for (const id of sandbox.fleet.instanceIds) {
      expect(await readlink(sandbox.fleet.fleet.pathOf(id, '/opt/bb/current'))).toBe('releases/bb1')
      expect((await readOnInstance(sandbox, id, '/opt/bb/current/big/large.bin')).length).toBeGreaterThan(0)
      expect(await readOnInstance(sandbox, id, '/opt/bb/post')).toBe(`post-ok ${id}\n`)
    }
  })

  test('an instance without curl fetches with wget', async () => {
    const [id] = sandbox.fleet.instanceIds
    sandbox.fleet.removeTools(id, ['curl'])
    try {
      const run = await deployS3(sandbox, {
        targets: id,
        files: `${art}/**`,
        'remote-path': '/opt/wget',
        'post-command': 'command -v curl || echo no-curl > /opt/wget/post'
      })
      expect(run.error).toBeUndefined()
      expect(await readOnInstance(sandbox, id, '/opt/wget/post')).toBe('no-curl\n')
      expect(await readOnInstance(sandbox, id, '/opt/wget/nested/with space $HOME ünï.txt')).toBe('awkward\n')
    } finally {
      sandbox.fleet.removeTools(id, [])
    }
  })

  test('a command that hangs times out there and is reported with its instance; the other succeeds', async () => {
    const [slow, fine] = sandbox.fleet.instanceIds
    sandbox.fleet.hang(slow)
    const run = await deployS3(sandbox, {
      targets: `${slow},${fine}`,
      files: `${art}/index.html`,
      'remote-path': '/opt/hang',
      'max-parallel-targets': '2',
      'fail-fast': 'false',
      'timeout-seconds': '20'
    })
    const byId = Object.fromEntries(run.outputs.results.map(r => [r.target, r]))
    expect(byId[fine].status).toBe('success')
    expect(byId[slow].status).toBe('failure')
    expect(byId[slow].error).toMatch(/^the command timed out on the instance after \d+ s/)
    expect(run.error).toContain(`${slow}: the command timed out`)
  })
})
