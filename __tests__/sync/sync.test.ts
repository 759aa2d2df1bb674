import { mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { AWKWARD_NAMES, describeTree, makeArtifactTree } from '../helpers/artifacts.js'
import { actionInputs, makeTree, results, visibleLog } from '../release/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** sync, delete and protect through the bundled action against a real sshd. */

let sshd: Sshd
let art: string
useTestBundles()

beforeAll(async () => {
  sshd = await startSshd()
  art = await makeTree(2000, i => `file ${i} ${'.'.repeat(i % 50)}\n`)
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const f = (i: number) => `files/f${String(i).padStart(4, '0')}.txt`
/** Same length as the original content, different bytes. */
const sameSize = (text: string) => text.replace('file', 'FILE')

test('a redeploy of 2,000 files with one changed uploads that one file; a hand edit on the instance is caught', async () => {
  const remote = path.join(sshd.remoteRoot, 'sync')
  const deploy = () => runBundledAction(actionInputs(sshd, art, remote, { sync: 'true' }))
  const first = await deploy()
  expect(first.errors).toEqual([])
  expect(first.outputs['files-uploaded']).toBe('2000')
  expect(first.outputs['files-skipped']).toBe('0')

  const changed = path.join(art, f(1234))
  await writeFile(changed, 'changed content\n')
  const second = await deploy()
  expect(second.errors).toEqual([])
  expect(second.outputs['files-uploaded']).toBe('1')
  expect(second.outputs['files-skipped']).toBe('1999')
  expect(second.outputs['files-total']).toBe('2000')
  expect(Number(second.outputs['bytes-transferred'])).toBe('changed content\n'.length)
  expect(results(second)[0]).toMatchObject({ filesUploaded: 1, filesSkipped: 1999, status: 'success' })
  expect(visibleLog(second)).toContain('manifest trusted for 1999 files')
  expect(await readFile(path.join(remote, f(1234)), 'utf8')).toBe('changed content\n')

  // Someone edits a file on the instance (same size): its stamp changed, so it is hashed and re-sent.
  const edited = path.join(remote, f(7))
  await writeFile(edited, sameSize(await readFile(edited, 'utf8')))
  const third = await deploy()
  expect(third.errors).toEqual([])
  expect(third.outputs['files-uploaded']).toBe('1')
  expect(await readFile(edited, 'utf8')).toBe(await readFile(path.join(art, f(7)), 'utf8'))
  expect(visibleLog(third)).toContain('manifest trusted for 1999 files')
})

test('files a sync uploaded are listed again by name, however awkward: the next sync trusts every one', async () => {
  const tree = await makeArtifactTree({ largeBytes: 1000 })
  try {
    const remote = path.join(sshd.remoteRoot, 'relist')
    const deploy = () => runBundledAction(actionInputs(sshd, tree, remote, { sync: 'true' }))
    const total = (await describeTree(tree)).size
    expect((await deploy()).code).toBe(0)
    for (const name of AWKWARD_NAMES) await writeFile(path.join(tree, 'nested', name), `changed: ${name}\n`)
    const second = await deploy()
    expect(second.errors).toEqual([])
    expect(second.outputs['files-uploaded']).toBe(String(AWKWARD_NAMES.length))
    const third = await deploy()
    expect(third.errors).toEqual([])
    expect(third.outputs['files-uploaded']).toBe('0')
    expect(visibleLog(third)).toContain(`manifest trusted for ${total} files`)
  } finally {
    await rm(tree, { recursive: true, force: true })
  }
})

test('a tampered remote manifest is not trusted: every file is hashed on the instance instead', async () => {
  const remote = path.join(sshd.remoteRoot, 'tamper')
  const small = await makeTree(40, i => `small ${i}\n`)
  try {
    const deploy = () => runBundledAction(actionInputs(sshd, small, remote, { sync: 'true' }))
    expect((await deploy()).code).toBe(0)
    // The forger edits a file and rewrites its manifest line with the new stamp (inode size ctime),
    // keeping the old digest, so a trusting reader would skip the edited file.
    const victim = path.join(remote, 'files/f0003.txt')
    await writeFile(victim, sameSize('small 3\n').replace('small', 'SMALL'))
    const st = await stat(victim, { bigint: true })
    const manifestPath = path.join(remote, '.ec2-push', 'manifest')
    const manifest = await readFile(manifestPath, 'utf8')
    const ns = (t: bigint) => `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, '0')}0`
    const forged = manifest.replace(
      /^([0-9a-f]{64} [0-7]+) \d+ \d+ [\d.]+ (files\/f0003\.txt)$/m,
      `$1 ${st.ino} ${st.size} ${ns(st.ctimeNs)} $2`
    )
    expect(forged).not.toBe(manifest)
    await writeFile(manifestPath, forged)

    const run = await deploy()
    expect(run.errors).toEqual([])
    expect(visibleLog(run)).toMatch(/manifest not used: the manifest seal does not match/)
    expect(run.outputs['files-uploaded']).toBe('1')
    expect(run.outputs['files-skipped']).toBe('39')
    expect(await readFile(victim, 'utf8')).toBe('small 3\n')
  } finally {
    await rm(small, { recursive: true, force: true })
  }
})

test('delete removes only what left the set, inside remote-path, and never a protected path', async () => {
  const remote = path.join(sshd.remoteRoot, 'delete')
  const outside = path.join(sshd.remoteRoot, 'outside')
  const small = await makeTree(5, i => `keep ${i}\n`)
  try {
    await mkdir(path.join(remote, 'old', 'deeper'), { recursive: true })
    await mkdir(path.join(remote, 'uploads', 'u1'), { recursive: true })
    await mkdir(path.join(remote, 'config'), { recursive: true })
    await mkdir(outside, { recursive: true })
    await writeFile(path.join(outside, 'precious.txt'), 'outside\n')
    await writeFile(path.join(remote, 'stale.txt'), 'x')
    await writeFile(path.join(remote, 'old', 'deeper', 'stale2.txt'), 'x')
    await writeFile(path.join(remote, 'files', 'gone.txt').replace('/files/', '/'), 'x')
    await writeFile(path.join(remote, 'uploads', 'u1', 'avatar.png'), 'user data')
    await writeFile(path.join(remote, 'config', 'app.env'), 'SECRET=1')
    await symlink(outside, path.join(remote, 'link-to-outside'))

    const run = await runBundledAction(
      actionInputs(sshd, small, remote, { delete: 'true', protect: 'uploads\n*.env' })
    )
    expect(run.errors).toEqual([])
    expect(results(run)[0].filesDeleted).toBe(4)
    const left = async (d: string): Promise<string[]> => {
      const out: string[] = []
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = path.join(d, e.name)
        if (e.isDirectory()) out.push(...(await left(p)).map(x => `${e.name}/${x}`))
        else out.push(e.name)
      }
      return out.sort()
    }
    expect(await left(remote)).toEqual([
      'config/app.env',
      ...[0, 1, 2, 3, 4].map(i => `files/f000${i}.txt`),
      'uploads/u1/avatar.png'
    ])
    // The emptied folders went too; the symlink was removed, never followed.
    await expect(stat(path.join(remote, 'old'))).rejects.toThrow(/ENOENT/)
    expect(await readFile(path.join(outside, 'precious.txt'), 'utf8')).toBe('outside\n')
  } finally {
    await rm(small, { recursive: true, force: true })
  }
})

test('with release: atomic, unchanged files are hard-linked from the current release and protected ones carried over', async () => {
  const remote = path.join(sshd.remoteRoot, 'atomic-sync')
  const small = await makeTree(30, i => `rel ${i}\n`)
  try {
    const deploy = (id: string) =>
      runBundledAction(
        actionInputs(sshd, small, remote, {
          sync: 'true',
          release: 'atomic',
          'release-id': id,
          protect: 'shared'
        })
      )
    expect((await deploy('r1')).code).toBe(0)
    await mkdir(path.join(remote, 'releases', 'r1', 'shared'))
    await writeFile(path.join(remote, 'releases', 'r1', 'shared', 'state.db'), 'state')
    await writeFile(path.join(small, 'files', 'f0009.txt'), 'new nine\n')
    const run = await deploy('r2')
    expect(run.errors).toEqual([])
    expect(run.outputs['files-uploaded']).toBe('1')
    expect(run.outputs['files-skipped']).toBe('29')
    const ino = async (id: string, rel: string) => (await stat(path.join(remote, 'releases', id, rel))).ino
    expect(await ino('r2', 'files/f0001.txt')).toBe(await ino('r1', 'files/f0001.txt'))
    expect(await ino('r2', 'files/f0009.txt')).not.toBe(await ino('r1', 'files/f0009.txt'))
    expect(await readFile(path.join(remote, 'current', 'files', 'f0009.txt'), 'utf8')).toBe('new nine\n')
    expect(await readFile(path.join(remote, 'current', 'shared', 'state.db'), 'utf8')).toBe('state')
  } finally {
    await rm(small, { recursive: true, force: true })
  }
})

test('where the instance has no awk, the listing and manifest come back whole and sync still trusts the manifest', async () => {
  const plain = await startSshd({ hideTools: /awk$/ })
  const small = await makeTree(40, i => `no awk ${i}\n`)
  try {
    const remote = path.join(plain.remoteRoot, 'noawk')
    const deploy = () =>
      runBundledAction(
        actionInputs(plain, small, remote, {
          sync: 'true',
          'pre-command': 'command -v awk || echo no awk here'
        })
      )
    const first = await deploy()
    expect(first.errors).toEqual([])
    expect(visibleLog(first)).toContain('no awk here')
    await writeFile(path.join(small, 'files', 'f0005.txt'), 'five, again\n')
    const second = await deploy()
    expect(second.errors).toEqual([])
    expect(second.outputs['files-uploaded']).toBe('1')
    expect(visibleLog(second)).toContain('manifest trusted for 39 files')
    expect(await readFile(path.join(remote, 'files', 'f0005.txt'), 'utf8')).toBe('five, again\n')
  } finally {
    await plain.stop()
    await rm(small, { recursive: true, force: true })
  }
})
