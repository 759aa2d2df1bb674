import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { rm } from 'node:fs/promises'
import { runBundledAction } from '../../sim/action-runner.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startTcpCutter } from '../../sim/tcp-faults.js'
import { describeTree, makeArtifactTree } from '../helpers/artifacts.js'
import { actionInputs } from '../release/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** The foundation's end-to-end tests: the bundled action, as the runner runs it, against a real sshd. */

let sshd: Sshd
let art: string
let local: Awaited<ReturnType<typeof describeTree>>

useTestBundles()

beforeAll(async () => {
  sshd = await startSshd()
  art = await makeArtifactTree()
  local = await describeTree(art)
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const baseInputs = (remote: string, over: Record<string, string> = {}) =>
  actionInputs(sshd, art, remote, { retries: '3', ...over })

/** Remote files that are not temporaries, and the temporaries left behind, under a folder. */
async function remoteState(dir: string) {
  const all = await describeTree(dir).catch(() => new Map())
  const temps = [...all.keys()].filter(k => /(^|\/)\.ec2-push-tmp\./.test(k))
  for (const t of temps) all.delete(t)
  return { files: all, temps }
}

function expectSameTree(remote: Map<string, { sha256: string; size: number; mode: number }>) {
  expect([...remote.keys()].sort()).toEqual([...local.keys()].sort())
  for (const [rel, facts] of local) {
    expect({ rel, ...remote.get(rel) }).toEqual({ rel, ...facts })
  }
}

const totalBytes = () => [...local.values()].reduce((n, f) => n + f.size, 0)

test('uploads the whole tree: same sha256 and modes, exact outputs, a summary row', async () => {
  const remote = path.join(sshd.remoteRoot, 'site')
  const run = await runBundledAction(baseInputs(remote))
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  const { files, temps } = await remoteState(remote)
  expectSameTree(files)
  expect(temps).toEqual([])
  expect(files.get('nested/run.sh')!.mode).toBe(0o755)
  expect(Number(run.outputs['bytes-transferred'])).toBe(totalBytes())
  expect(Number(run.outputs['files-uploaded'])).toBe(local.size)
  expect(Number(run.outputs['files-total'])).toBe(local.size)
  expect(run.outputs['files-skipped']).toBe('0')
  expect(run.outputs.mode).toBe('nlb')
  expect(Number(run.outputs['duration-ms'])).toBeGreaterThan(0)
  const results = JSON.parse(run.outputs.results)
  expect(results).toHaveLength(1)
  expect(results[0]).toMatchObject({
    status: 'success',
    filesUploaded: local.size,
    bytesTransferred: totalBytes(),
    mode: 'nlb'
  })
  expect(results[0].verification).toMatch(/hashed on the instance/)
  expect(run.summary).toContain('<table>')
  expect(run.summary).toContain(`${local.size} / ${local.size}`)
})

test('redeploying over existing files replaces them in place', async () => {
  const remote = path.join(sshd.remoteRoot, 'again')
  expect((await runBundledAction(baseInputs(remote))).code).toBe(0)
  const second = await runBundledAction(baseInputs(remote))
  expect(second.code).toBe(0)
  expectSameTree((await remoteState(remote)).files)
})

test.each([
  ['during the SSH handshake', [600]],
  ['early in the upload', [200_000]],
  ['mid-way through the large file', [8_000_000]],
  ['twice in a row', [3_000_000, 12_000_000]]
])('a connection cut %s is reopened and every file ends up verified', async (_what, cuts) => {
  const cutter = await startTcpCutter(sshd.host, sshd.port, cuts)
  try {
    const remote = path.join(sshd.remoteRoot, `cut-${cuts.join('-')}`)
    // One connection: the cutter cuts connections in the order they come, and the upload's others
    // would carry parts of the tree it expects to cut through.
    const run = await runBundledAction(
      baseInputs(remote, { targets: `${cutter.host}:${cutter.port}`, connections: '1' })
    )
    expect(run.errors).toEqual([])
    expect(run.code).toBe(0)
    expect(cutter.cuts).toBe(cuts.length)
    const { files, temps } = await remoteState(remote)
    expectSameTree(files)
    expect(temps).toEqual([])
    expect(Number(run.outputs['bytes-transferred'])).toBe(totalBytes())
    expect(JSON.parse(run.outputs.results)[0].reconnects).toBeGreaterThanOrEqual(1)
  } finally {
    await cutter.close()
  }
})

test('the SFTP read-back verification is used where the account cannot exec', async () => {
  const sftpOnly = await startSshd({ sftpOnly: true })
  try {
    const remote = path.join(sftpOnly.remoteRoot, 'site')
    const run = await runBundledAction({
      ...baseInputs(remote),
      targets: `${sftpOnly.host}:${sftpOnly.port}`,
      'ssh-private-key': sftpOnly.clientKey.privateKey,
      'host-key-fingerprint': sftpOnly.hostKeyFingerprint
    })
    expect(run.errors).toEqual([])
    expect(run.code).toBe(0)
    expectSameTree((await remoteState(remote)).files)
    expect(JSON.parse(run.outputs.results)[0].verification).toMatch(/read back/)
  } finally {
    await sftpOnly.stop()
  }
})

test("modes stay exact where the SFTP server's umask would strip them", async () => {
  const strict = await startSshd({ sftpUmask: '077' })
  try {
    const remote = path.join(strict.remoteRoot, 'site')
    const run = await runBundledAction({
      ...baseInputs(remote),
      targets: `${strict.host}:${strict.port}`,
      'ssh-private-key': strict.clientKey.privateKey,
      'host-key-fingerprint': strict.hostKeyFingerprint
    })
    expect(run.errors).toEqual([])
    expectSameTree((await remoteState(remote)).files)
    expect(local.get('index.html')!.mode).toBe(0o644)
  } finally {
    await strict.stop()
  }
})

test('known-hosts lines pin the host key as well as a fingerprint does', async () => {
  const remote = path.join(sshd.remoteRoot, 'known-hosts')
  const run = await runBundledAction(
    baseInputs(remote, { 'host-key-fingerprint': '', 'known-hosts': sshd.knownHostsLine })
  )
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
})

test('a wrong host key is refused with both fingerprints named, and nothing is written', async () => {
  const remote = path.join(sshd.remoteRoot, 'wrong-key')
  const wrong = 'SHA256:' + 'A'.repeat(43)
  const run = await runBundledAction(baseInputs(remote, { 'host-key-fingerprint': wrong }))
  expect(run.code).toBe(1)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toContain(`expected ${wrong}`)
  expect(run.errors[0]).toContain(`received ${sshd.hostKeyFingerprint}`)
  await expect(readdir(remote)).rejects.toThrow(/ENOENT/)
})

test('no secret reaches the log, the outputs or the summary', async () => {
  const run = await runBundledAction(
    baseInputs(path.join(sshd.remoteRoot, 'secrets'), { 'ssh-passphrase': 'not-a-real-passphrase-123' })
  )
  // The only place a secret may appear is the runner's own mask command, which hides it.
  const visible = [
    run.stdout
      .split('\n')
      .filter(l => !l.startsWith('::add-mask::'))
      .join('\n'),
    run.stderr,
    JSON.stringify(run.outputs),
    run.summary
  ].join('\n')
  for (const line of sshd.clientKey.privateKey.split('\n').filter(l => l.length > 20))
    expect(visible).not.toContain(line)
  expect(visible).not.toContain('not-a-real-passphrase-123')
})
