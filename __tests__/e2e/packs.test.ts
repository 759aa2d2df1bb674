import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd, type SshdOptions } from '../../sim/sshd.js'
import { startTcpCutter } from '../../sim/tcp-faults.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { seededBytes } from '../helpers/artifacts.js'
import { capturingLogger } from '../helpers/logger.js'
import { actionInputs } from '../release/helpers.js'

/**
 * Small files in one pack (transfer/pack.ts): a whole deploy against a real sshd whose instance has
 * GNU tar, BusyBox's tar, sha256sum and sh, or no tar at all; the files land with their bytes and
 * modes, their folders with the modes the SFTP server gives them, no temporary stays, and a link
 * cut in the middle of a pack leaves nothing behind either.
 */

let art: string
const modes: Record<string, number> = { 'run.sh': 0o777, 'group.sh': 0o750, secret: 0o600 }
const names: string[] = []

beforeAll(async () => {
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-packs-'))
  for (let i = 0; i < 90; i++) {
    const rel = path.join(`d${i % 3}`, `e${i % 2}`, `it's f${i}.txt`)
    await mkdir(path.join(art, path.dirname(rel)), { recursive: true })
    await writeFile(path.join(art, rel), seededBytes(3000 + i, i))
    names.push(rel)
  }
  for (const [rel, mode] of Object.entries(modes)) {
    await writeFile(path.join(art, rel), `#!/bin/sh\n# ${rel}\n`)
    await chmod(path.join(art, rel), mode)
    names.push(rel)
  }
})
afterAll(async () => {
  if (art) await rm(art, { recursive: true, force: true })
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

async function deploy(sshd: Sshd, remote: string, over: Record<string, string> = {}, target?: string) {
  const inputs: Record<string, string> = {
    ...actionInputs(sshd, art, remote, { connections: '1', ...over }),
    ...(target ? { targets: target } : {})
  }
  return runDeploy(
    buildConfig(n => inputs[n] ?? ''),
    capturingLogger(),
    { backoffBaseMs: 1 }
  )
}

async function expectLanded(remote: string) {
  for (const rel of names) {
    const [here, there] = await Promise.all([stat(path.join(art, rel)), stat(path.join(remote, rel))])
    expect({
      rel,
      sha: sha256(await readFile(path.join(remote, rel))),
      mode: there.mode & 0o7777
    }).toEqual({ rel, sha: sha256(await readFile(path.join(art, rel))), mode: here.mode & 0o777 })
  }
  const left = (await readdir(remote, { recursive: true })).filter(n => n.includes('.ec2-push-tmp'))
  expect(left).toEqual([])
}

async function withSshd(opts: SshdOptions, fn: (sshd: Sshd) => Promise<void>) {
  const sshd = await startSshd(opts)
  try {
    await fn(sshd)
  } finally {
    await sshd.stop()
  }
}

/** BusyBox's sh, tar, sha256sum and the tools the pack's renames use first on the instance's PATH. */
const BUSYBOX_TOOLS = Object.fromEntries(
  ['sh', 'tar', 'sha256sum', 'mv', 'mkdir', 'rmdir', 'ls'].map(t => [
    t,
    `#!/bin/sh\nexec busybox ${t} "$@"\n`
  ])
)

test.each([
  ['GNU tar and coreutils', {}],
  ["BusyBox's sh, tar and sha256sum", { tools: BUSYBOX_TOOLS }]
])('with %s: one pack written and checked, modes exact, no temporary left', async (_what, opts) => {
  await withSshd(opts, async sshd => {
    for (const round of ['new', 'again']) {
      const remote = path.join(sshd.remoteRoot, 'site')
      const run = await deploy(sshd, remote)
      expect(run.error).toBeUndefined()
      const r = run.outputs.results[0]
      const { upload, verify, publish } = r.roundTrips!
      expect({ round, files: r.filesUploaded, upload, verify, publish }).toEqual({
        round,
        files: names.length,
        // The pack, checked and renamed into place by its own script, with the missing folders'
        // mkdir requests beside it.
        upload: 1,
        verify: 0,
        publish: 0
      })
      expect(r.verification).toMatch(/sha256/)
      await expectLanded(remote)
    }
  })
})

test("folders the pack's files go in get the modes the SFTP server gives its folders", async () => {
  await withSshd({ sftpUmask: '077' }, async sshd => {
    const remote = path.join(sshd.remoteRoot, 'strict')
    const run = await deploy(sshd, remote)
    expect(run.error).toBeUndefined()
    expect(run.outputs.results[0].roundTrips!.verify).toBe(0)
    for (const d of ['d0', 'd1/e0', 'd2/e1'])
      expect((await stat(path.join(remote, d))).mode & 0o777).toBe(0o700)
    await expectLanded(remote)
  })
})

test.each([
  ['GNU tar and coreutils', {}],
  ["BusyBox's sh, tar and sha256sum", { tools: BUSYBOX_TOOLS }]
])(
  'hostile names, with %s: what ustar and sha256sum -c carry exactly goes in the pack, the rest by SFTP',
  async (_what, opts) => {
    const hostile = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-packs-hostile-'))
    const rels = [
      // In the pack, renamed into place by the pack's own script (quotes, a command substitution).
      'quoted "name" $(touch PWNED).txt',
      "it's a 'name'.txt",
      'ünïcødé 日本/ü.txt',
      // A line break or a backslash in a file's name: over SFTP (sha256sum -c would read it escaped).
      'new\nline "quoted" $(touch PWNED).txt',
      "it's a 'name'\\.txt",
      // Folders whose names ustar cannot carry exactly (too long for its fields, or the name and prefix
      // split nowhere), or sha256sum -c could not read: their files go over SFTP too.
      `${'l'.repeat(200)}/x.txt`,
      `${'p'.repeat(150)}/${'q'.repeat(60)}/x.txt`,
      'back\\slash dir/x.txt',
      // A line break in a folder's name: over SFTP, hashed one by one (BusyBox's listing would split).
      'line\nbreak dir/x.txt'
    ]
    try {
      for (const rel of rels) {
        await mkdir(path.join(hostile, path.dirname(rel)), { recursive: true })
        await writeFile(path.join(hostile, rel), `${rel}\n`)
      }
      await withSshd(opts, async sshd => {
        const remote = path.join(sshd.remoteRoot, 'hostile')
        const inputs: Record<string, string> = actionInputs(sshd, hostile, remote, { connections: '1' })
        const run = await runDeploy(
          buildConfig(n => inputs[n] ?? ''),
          capturingLogger()
        )
        expect(run.error).toBeUndefined()
        for (const rel of rels) expect(await readFile(path.join(remote, rel), 'utf8')).toBe(`${rel}\n`)
        const all = await readdir(remote, { recursive: true })
        expect(all.filter(n => n.includes('.ec2-push-tmp') || path.basename(n) === 'PWNED')).toEqual([])
      })
    } finally {
      await rm(hostile, { recursive: true, force: true })
    }
  }
)

test.each([
  ['GNU tar and coreutils', {}],
  ["BusyBox's sh, tar and sha256sum", { tools: BUSYBOX_TOOLS }]
])(
  'with %s: a folder where a packed file goes fails that file alone, as SFTP says it',
  async (_what, opts) => {
    await withSshd(opts, async sshd => {
      const remote = path.join(sshd.remoteRoot, 'in-the-way')
      await mkdir(path.join(remote, 'secret', 'inside'), { recursive: true })
      const run = await deploy(sshd, remote, { retries: '0' })
      expect(run.error).toMatch(/secret/)
      expect(run.outputs.results[0].filesUploaded).toBe(names.length - 1)
      expect((await stat(path.join(remote, 'secret'))).isDirectory()).toBe(true)
      for (const rel of names.filter(n => n !== 'secret'))
        expect(sha256(await readFile(path.join(remote, rel)))).toBe(
          sha256(await readFile(path.join(art, rel)))
        )
      const left = (await readdir(remote, { recursive: true })).filter(n => n.includes('.ec2-push-tmp'))
      expect(left).toEqual([])
    })
  }
)

test('an instance without tar gets the files over SFTP, with no error', async () => {
  await withSshd({ hideTools: /^tar$/ }, async sshd => {
    const remote = path.join(sshd.remoteRoot, 'no-tar')
    const run = await deploy(sshd, remote)
    expect(run.error).toBeUndefined()
    const r = run.outputs.results[0]
    expect(r.filesUploaded).toBe(names.length)
    // Verified by the SFTP path's own check.
    expect(r.roundTrips!.verify).toBeGreaterThan(0)
    await expectLanded(remote)
  })
})

test('a connection cut in the middle of a pack: the deploy resumes and no temporary stays', async () => {
  await withSshd({}, async sshd => {
    // The first connection is cut once 150 kB went up: inside the pack (about 300 kB of small files).
    const cutter = await startTcpCutter(sshd.host, sshd.port, [150_000])
    try {
      const remote = path.join(sshd.remoteRoot, 'cut')
      const run = await deploy(sshd, remote, { retries: '3' }, `${cutter.host}:${cutter.port}`)
      expect(run.error).toBeUndefined()
      expect(cutter.cuts).toBe(1)
      expect(run.outputs.results[0].reconnects).toBeGreaterThanOrEqual(1)
      await expectLanded(remote)
    } finally {
      await cutter.close()
    }
  })
})

test('a deploy cancelled while a pack is being extracted leaves no temporary and no partial file', async () => {
  const many = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-packs-many-'))
  try {
    for (let i = 0; i < 2000; i++) {
      const dir = path.join(many, `d${Math.floor(i / 100)}`)
      if (i % 100 === 0) await mkdir(dir)
      await writeFile(path.join(dir, `f${i}`), seededBytes(4096, i))
    }
    await withSshd({}, async sshd => {
      const remote = path.join(sshd.remoteRoot, 'cancelled')
      const cancel = new AbortController()
      // Cancelled as soon as the first temporary is on the instance. Each folder is read on its
      // own: a recursive read fails while the files it walks are renamed under it.
      const watch = setInterval(() => {
        for (let d = 0; d < 20; d++)
          readdir(path.join(remote, `d${d}`))
            .then(names => names.some(n => n.includes('.ec2-push-tmp')) && cancel.abort())
            .catch(() => {})
      }, 2)
      const inputs: Record<string, string> = actionInputs(sshd, many, remote, { connections: '1' })
      const log = capturingLogger()
      const run = await runDeploy(
        buildConfig(n => inputs[n] ?? ''),
        log,
        { cancel: cancel.signal }
      ).finally(() => clearInterval(watch))
      expect(cancel.signal.aborted).toBe(true)
      expect(run.error).toMatch(/cancel/i)
      const all = await readdir(remote, { recursive: true })
      expect(all.filter(n => n.includes('.ec2-push-tmp'))).toEqual([])
      for (const rel of all.filter(n => /f\d+$/.test(n)))
        expect({
          rel,
          same: (await readFile(path.join(remote, rel))).equals(await readFile(path.join(many, rel)))
        }).toEqual({ rel, same: true })
    })
  } finally {
    await rm(many, { recursive: true, force: true })
  }
})
