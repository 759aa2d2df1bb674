import { readdir, readlink, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { seededBytes } from '../helpers/artifacts.js'
import { deployS3, makeS3Tree, readOnInstance, sha256, useSandboxEnv } from './helpers.js'

/**
 * delivery: s3 end to end: the real SDK clients against the S3 and Run Command simulators, and a
 * fleet whose instances run the release script with dash in their own mount namespace.
 */

let sandbox: Sandbox
let restoreEnv: () => void
let art: string
let ids: string[]

beforeAll(async () => {
  sandbox = await startSandbox({ fleetSize: 4, fleetShell: ['dash'] })
  restoreEnv = useSandboxEnv(sandbox)
  art = await makeS3Tree()
  ids = sandbox.fleet.instanceIds
})
afterAll(async () => {
  restoreEnv?.()
  await sandbox?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

let n = 0
const remote = (name: string) => `/srv/s3-${name}-${++n}`

test('a tag target: every instance gets the release, current switched, modes kept; the runner sends each byte once', async () => {
  const dest = remote('tag')
  const before = sandbox.fleet.s3.counters.bytesIn
  const run = await deployS3(sandbox, {
    targets: sandbox.env.SANDBOX_FLEET_TAG,
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    'release-id': 'r1',
    's3-prefix': `t${n}`
  })
  expect(run.error).toBeUndefined()
  expect(run.outputs.results.map(r => r.status)).toEqual(ids.map(() => 'success'))
  for (const id of ids) {
    expect(await readlink(sandbox.fleet.fleet.pathOf(id, `${dest}/current`))).toBe('releases/r1')
    expect(await readOnInstance(sandbox, id, `${dest}/current/nested/with space $HOME ünï.txt`)).toBe(
      'awkward\n'
    )
    expect((await stat(sandbox.fleet.fleet.pathOf(id, `${dest}/releases/r1/bin/run.sh`))).mode & 0o777).toBe(
      0o755
    )
    expect((await stat(sandbox.fleet.fleet.pathOf(id, `${dest}/releases/r1/index.html`))).mode & 0o777).toBe(
      0o644
    )
    expect((await stat(sandbox.fleet.fleet.pathOf(id, `${dest}/releases/r1/empty.txt`))).size).toBe(0)
    expect(await readOnInstance(sandbox, id, `${dest}/.ec2-push/log`)).toMatch(/^r1\tlive\t/)
  }
  // Each distinct file once (the empty file too), plus the manifest: not once per instance.
  const artifactBytes =
    100_000 + '<h1>hello</h1>\n'.length + 'awkward\n'.length + '#!/bin/sh\necho run\n'.length
  const sent = sandbox.fleet.s3.counters.bytesIn - before
  expect(sent).toBeGreaterThanOrEqual(artifactBytes)
  expect(sent).toBeLessThan(artifactBytes + 10_000)
  // The command carries the script and one presigned URL, never a credential.
  const body = sandbox.fleet.runCommand.sentBodies.at(-1)!
  expect(body).not.toContain(sandbox.env.AWS_SECRET_ACCESS_KEY)
  expect(body.match(/X-Amz-Signature=/g)).toHaveLength(1)
  expect(run.log).not.toMatch(/X-Amz-Signature=[0-9a-f]/)
})

test('a redeploy uploads nothing new; with sync each instance reuses what it has and fetches nothing', async () => {
  const dest = remote('sync')
  const common = {
    targets: ids.slice(0, 2).join(','),
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    sync: 'true',
    's3-prefix': 'sync'
  }
  const first = await deployS3(sandbox, { ...common, 'release-id': 'a' })
  expect(first.error).toBeUndefined()
  const puts = sandbox.fleet.s3.counters.requests.PutObject ?? 0
  const second = await deployS3(sandbox, { ...common, 'release-id': 'b' })
  expect(second.error).toBeUndefined()
  // Only the new manifest went up.
  expect((sandbox.fleet.s3.counters.requests.PutObject ?? 0) - puts).toBe(1)
  for (const r of second.outputs.results) {
    expect(r.filesUploaded).toBe(0)
    expect(r.filesSkipped).toBe(4)
    expect(r.previousRelease).toBe('a')
  }
  expect(
    await readOnInstance(sandbox, ids[0], `${dest}/current/nested/deeper/data.bin`).then(s => s.length)
  ).toBeGreaterThan(0)
  // One small file changed: a new pack goes up, and each instance fetches only that file's bytes
  // from it (one range request), reusing the rest.
  const changed = await makeS3Tree({ 'index.html': '<h1>changed</h1>\n' })
  try {
    const ranges = sandbox.fleet.s3.counters.requests.GetObjectRange ?? 0
    const third = await deployS3(sandbox, { ...common, files: `${changed}/**`, 'release-id': 'c' })
    expect(third.error).toBeUndefined()
    for (const r of third.outputs.results)
      expect(r).toMatchObject({ filesUploaded: 1, filesSkipped: 3, bytesTransferred: 17 })
    expect((sandbox.fleet.s3.counters.requests.GetObjectRange ?? 0) - ranges).toBe(2)
    for (const id of ids.slice(0, 2))
      expect(await readOnInstance(sandbox, id, `${dest}/current/index.html`)).toBe('<h1>changed</h1>\n')
  } finally {
    await rm(changed, { recursive: true, force: true })
  }
})

test('an object corrupted after upload fails only the instances that fetched it, each with one line; current is untouched', async () => {
  const dest = remote('corrupt')
  const prefix = 'corrupt'
  const big = await makeS3Tree({ 'big/large.bin': seededBytes(2 * 1024 * 1024, 5) })
  const base = {
    files: `${big}/**`,
    'remote-path': dest,
    release: 'atomic',
    sync: 'true',
    's3-prefix': prefix,
    'fail-fast': 'false'
  }
  const three = ids.slice(0, 3).join(',')
  try {
    // ids[0] has everything already; then the pack of small files is corrupted in S3.
    const first = await deployS3(sandbox, { ...base, targets: ids[0], 'release-id': 'one' })
    expect(first.error).toBeUndefined()
    // The pack is the one object whose name is no file's sha256.
    const files = ['big/large.bin', 'index.html', 'empty.txt', 'nested/deeper/data.bin', 'bin/run.sh']
    const shas = new Set(
      await Promise.all(files.map(async f => sha256(await readFileBuf(path.join(big, f)))))
    )
    const packs = sandbox.fleet.s3
      .keys(sandbox.fleet.bucket)
      .filter(k => k.startsWith(`${prefix}/objects/`))
      .map(k => k.slice(`${prefix}/objects/`.length))
      .filter(sha => !shas.has(sha))
    expect(packs).toHaveLength(1)
    const packSha = packs[0]
    sandbox.fleet.corruptObject(prefix, packSha)
    const run = await deployS3(sandbox, { ...base, targets: three, 'release-id': 'two' })
    const byId = Object.fromEntries(run.outputs.results.map(r => [r.target, r]))
    expect(byId[ids[0]].status).toBe('success')
    for (const id of ids.slice(1, 3)) {
      expect(byId[id].status).toBe('failure')
      expect(byId[id].error).toMatch(
        /^the pack of small files fetched from S3 does not match its sha256 \(4 files, first: bin\/run\.sh\): the object changed after upload; nothing was published$/
      )
      // Nothing was published there, and no release folder is left behind.
      await expect(readlink(sandbox.fleet.fleet.pathOf(id, `${dest}/current`))).rejects.toThrow()
      expect(await readdir(sandbox.fleet.fleet.pathOf(id, `${dest}/releases`))).toEqual([])
    }
    expect(run.error).toContain(`2 of 3 instances failed:`)
    expect(run.error).toContain(`${ids[1]}: the pack of small files fetched from S3 does not match`)

    // The pack mended (the same byte flipped back), the large file's own object corrupted: the
    // check of each file names it; ids[0] reuses it and is fine.
    sandbox.fleet.corruptObject(prefix, packSha)
    sandbox.fleet.corruptObject(prefix, sha256(await readFileBuf(path.join(big, 'big/large.bin'))))
    const again = await deployS3(sandbox, { ...base, targets: three, 'release-id': 'three' })
    const byId2 = Object.fromEntries(again.outputs.results.map(r => [r.target, r]))
    expect(byId2[ids[0]].status).toBe('success')
    for (const id of ids.slice(1, 3)) {
      expect(byId2[id].error).toMatch(
        /^1 files fetched from S3 do not match their sha256 \(first: big\/large\.bin\): the objects changed after upload; nothing was published$/
      )
      await expect(readlink(sandbox.fleet.fleet.pathOf(id, `${dest}/current`))).rejects.toThrow()
      expect(await readdir(sandbox.fleet.fleet.pathOf(id, `${dest}/releases`))).toEqual([])
    }
  } finally {
    await rm(big, { recursive: true, force: true })
  }
})

test('an offline instance is reported as offline and does not hold the others', async () => {
  const dest = remote('offline')
  sandbox.fleet.setOffline(ids[3])
  try {
    const run = await deployS3(sandbox, {
      targets: sandbox.env.SANDBOX_FLEET_TAG,
      files: `${art}/**`,
      'remote-path': dest,
      'max-parallel-targets': '1',
      'fail-fast': 'false',
      's3-prefix': 'offline'
    })
    const byId = Object.fromEntries(run.outputs.results.map(r => [r.target, r]))
    for (const id of ids.slice(0, 3)) expect(byId[id].status).toBe('success')
    expect(byId[ids[3]].status).toBe('failure')
    expect(byId[ids[3]].error).toMatch(/^offline: /)
    expect(run.error).toMatch(/^1 of 4 instances failed:\n {2}i-\w+: offline: /)
    const inv = sandbox.fleet.runCommand.commands.at(-1)!.invocations.find(i => i.instanceId === ids[3])!
    expect(inv.status).toBe('Cancelled')
  } finally {
    sandbox.fleet.setOffline(ids[3], false)
  }
})

test('an offline instance that holds the only place in MaxConcurrency is given up on after a while; the next one runs', async () => {
  sandbox.fleet.setOffline(ids[0])
  try {
    const run = await deployS3(
      sandbox,
      {
        targets: `${ids[0]},${ids[1]}`,
        files: `${art}/index.html`,
        'remote-path': remote('offline-first'),
        'max-parallel-targets': '1',
        'fail-fast': 'false',
        'timeout-seconds': '60',
        's3-prefix': 'offline'
      },
      { offlineAfterMs: 1000 }
    )
    const byId = Object.fromEntries(run.outputs.results.map(r => [r.target, r]))
    expect(byId[ids[1]].status).toBe('success')
    expect(byId[ids[0]].error).toMatch(/^offline: /)
  } finally {
    sandbox.fleet.setOffline(ids[0], false)
  }
})

test('rollback switches current back on every instance; dry-run writes nothing', async () => {
  const dest = remote('rollback')
  const base = {
    targets: ids.slice(0, 2).join(','),
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    's3-prefix': 'rb'
  }
  expect((await deployS3(sandbox, { ...base, 'release-id': 'x1' })).error).toBeUndefined()
  expect((await deployS3(sandbox, { ...base, 'release-id': 'x2' })).error).toBeUndefined()
  const dry = await deployS3(sandbox, { ...base, 'release-id': 'x3', 'dry-run': 'true' })
  expect(dry.error).toBeUndefined()
  expect(dry.outputs.results[0]).toMatchObject({ filesUploaded: 4, releaseId: 'x3', previousRelease: 'x2' })
  expect(await readdir(sandbox.fleet.fleet.pathOf(ids[0], `${dest}/releases`))).toEqual(['x1', 'x2'])
  const rb = await deployS3(sandbox, { ...base, files: '', rollback: 'true' })
  expect(rb.error).toBeUndefined()
  for (const id of ids.slice(0, 2)) {
    expect(await readlink(sandbox.fleet.fleet.pathOf(id, `${dest}/current`))).toBe('releases/x1')
    // As push logs an on-purpose rollback: the release left is rolled-back, the one gone back to live.
    expect(await readOnInstance(sandbox, id, `${dest}/.ec2-push/log`)).toMatch(
      /^x1\tlive\t.*\nx2\tlive\t.*\nx2\trolled-back\t.*\nx1\tlive\t[^\n]*\n$/
    )
  }
})

test('release: none writes in place; delete removes what the set no longer has, protect keeps', async () => {
  const dest = remote('inplace')
  const base = { targets: ids[0], 'remote-path': dest, 's3-prefix': 'inplace' }
  expect((await deployS3(sandbox, { ...base, files: `${art}/**` })).error).toBeUndefined()
  expect(await readOnInstance(sandbox, ids[0], `${dest}/index.html`)).toBe('<h1>hello</h1>\n')
  const run = await deployS3(sandbox, {
    ...base,
    files: `${art}/nested/**`,
    'base-dir': art,
    delete: 'true',
    protect: 'bin'
  })
  expect(run.error).toBeUndefined()
  expect(run.outputs.results[0].filesDeleted).toBe(2)
  await expect(stat(sandbox.fleet.fleet.pathOf(ids[0], `${dest}/index.html`))).rejects.toThrow()
  expect(await readOnInstance(sandbox, ids[0], `${dest}/bin/run.sh`)).toContain('echo run')
})

test('a bucket that does not exist: one line, nothing sent to the instances', async () => {
  const sends = sandbox.fleet.runCommand.commands.length
  const run = await deployS3(sandbox, {
    targets: ids[0],
    files: `${art}/**`,
    'remote-path': '/srv/x',
    's3-bucket': 'no-such-bucket'
  })
  expect(run.error).toBe(
    "S3 bucket 'no-such-bucket' does not exist (or is in another region): create it, or fix 's3-bucket' and 'aws-region'."
  )
  expect(sandbox.fleet.runCommand.commands.length).toBe(sends)
})

async function readFileBuf(p: string): Promise<Buffer> {
  const { readFile } = await import('node:fs/promises')
  return readFile(p)
}
