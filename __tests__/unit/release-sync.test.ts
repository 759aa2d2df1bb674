import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildConfig, parseReleaseId } from '../../src/config.js'
import { describeHolder } from '../../src/deploy/steps/lock.js'
import { releasesToPrune } from '../../src/deploy/steps/prune.js'
import { parseReleaseState, rollbackTarget } from '../../src/remote/releases.js'
import { isContained } from '../../src/remote/delete.js'
import { deletable } from '../../src/sync/apply.js'
import { parseListing } from '../../src/remote/listing.js'
import { checkSeal, formatManifest, manifestKey, parseManifest } from '../../src/sync/manifest.js'
import { parseSnapshot, snapshotScript } from '../../src/remote/sync-snapshot.js'
import { protectMatcher } from '../../src/sync/protect.js'

/** The pure parts of releases and sync: ids, patterns, the manifest seal, release state, pruning. */

test('release-id: given ids are checked; the default is the run id and attempt, else a UTC timestamp', () => {
  expect(parseReleaseId('v1.2.3_rc-1')).toBe('v1.2.3_rc-1')
  for (const bad of ['../x', 'a/b', '.hidden', 'a b', '-x', 'x'.repeat(101)]) {
    expect(() => parseReleaseId(bad)).toThrow(/may hold only letters, digits/)
  }
  expect(parseReleaseId('', { GITHUB_RUN_ID: '123456', GITHUB_RUN_ATTEMPT: '2' })).toBe('123456-2')
  expect(parseReleaseId('', {})).toMatch(/^\d{8}T\d{6}Z$/)
})

test('rollback needs release: atomic and needs no files', () => {
  const base: Record<string, string> = { targets: 'host:22', 'remote-path': '/srv/app', rollback: 'true' }
  expect(() => buildConfig(n => base[n] ?? '')).toThrow(/needs 'release: atomic'/)
  const cfg = buildConfig(n => ({ ...base, release: 'atomic' })[n] ?? '')
  expect(cfg).toMatchObject({
    rollback: true,
    files: [],
    maxParallelTargets: 1,
    failFast: true,
    keepReleases: 5
  })
})

test('protect patterns: names at any depth, folders protect their contents, * stays in one folder', () => {
  const p = protectMatcher(['uploads', '*.env', 'cache/*.tmp', '**/keep-me'])
  expect(p('uploads/u1/avatar.png')).toBe(true)
  expect(p('site/uploads/x')).toBe(true)
  expect(p('config/app.env')).toBe(true)
  expect(p('cache/a.tmp')).toBe(true)
  expect(p('cache/sub/a.tmp')).toBe(false)
  expect(p('deep/er/keep-me/file')).toBe(true)
  expect(p('index.html')).toBe(false)
  expect(protectMatcher([])('anything')).toBe(false)
})

test('delete never leaves remote-path and never touches a protected path', () => {
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a'])
    expect(isContained(bad)).toBe(false)
  expect(
    deletable(['old.txt', 'uploads/x', '../escape', 'a/b.env'], protectMatcher(['uploads', '*.env']))
  ).toEqual(['old.txt'])
})

test('the manifest is trusted only with its seal intact, for the folder it was written for', () => {
  const key = manifestKey('-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n')!
  const entries = new Map([
    ['a b/"q".txt', { sha256: 'a'.repeat(64), mode: 0o644, stamp: '12 5 1700000000.2000000000' }],
    ['-x\\y', { sha256: 'c'.repeat(64), mode: 0o755, stamp: '13 0 1700000000.3000000000' }]
  ])
  const text = formatManifest(key, '/srv/app', entries)
  expect(parseManifest(text, key, '/srv/app').entries).toEqual(entries)
  // A path with a control character has no line (it is hashed on the instance each time).
  const withNewline = new Map([...entries, ['a\nb', entries.get('-x\\y')!]])
  expect(parseManifest(formatManifest(key, '/srv/app', withNewline), key, '/srv/app').entries).toEqual(
    entries
  )
  // What the instance reports when it compares: checked the same way.
  const body = text.slice(0, text.lastIndexOf('hmac '))
  const claim = {
    header: 'ec2-push-manifest 2',
    bodyDigest: createHash('sha256').update(body).digest('hex'),
    sealLine: text.slice(body.length).trim()
  }
  expect(checkSeal(claim, key, '/srv/app')).toEqual({})
  expect(checkSeal({ ...claim, bodyDigest: 'f'.repeat(64) }, key, '/srv/app').reason).toMatch(
    /seal does not match/
  )
  expect(checkSeal({ ...claim, header: 'ec2-push-manifest 1' }, key, '/srv/app').reason).toMatch(
    /older ec2-push/
  )
  expect(checkSeal(undefined, key, '/srv/app').reason).toBe('no manifest')
  expect(parseManifest(text, key, '/srv/other').reason).toMatch(/seal does not match/)
  expect(parseManifest(text.replace('a'.repeat(64), 'b'.repeat(64)), key, '/srv/app').reason).toMatch(
    /seal does not match/
  )
  expect(parseManifest(text, manifestKey('another key'), '/srv/app').reason).toMatch(/seal does not match/)
  expect(parseManifest(text, undefined, '/srv/app').reason).toMatch(/one-time keys/)
  expect(parseManifest('', key, '/srv/app').reason).toBe('no manifest')
})

test('listing: our metadata folder, temporaries and what is in a stage are never part of the set; user files named .ec2-push* are', () => {
  const rec = (y: string, rel: string) => `${y} 1 2 4.0 644 ${rel}\0`
  const l = parseListing(
    rec('f', 'index.html') +
      rec('f', '.ec2-push-manifest') +
      rec('f', '.ec2-push/manifest') +
      rec('f', '.ec2-push/lock/owner') +
      rec('f', 'dir/.ec2-push-tmp.0a1b2c.1f') +
      rec('f', 'dir/.ec2-push-tmp.0a1b2c.s00001f/index.html') +
      rec('f', 'dir/.ec2-push-notes') +
      rec('l', 'link') +
      rec('f', 'name with\nnewline')
  )
  expect([...l.keys()]).toEqual([
    'index.html',
    '.ec2-push-manifest',
    'dir/.ec2-push-notes',
    'link',
    'name with\nnewline'
  ])
  expect(l.get('link')!.type).toBe('link')
})

test('release state: ordered by creation, foreign current links recognised', () => {
  const s = parseReleaseState(
    'link\treleases/b\nrelease\tb\tseq=2 created=x\nrelease\ta\tseq=1\nrelease\tc\tseq=3\nrelease\t../bad\tseq=9\n'
  )
  expect(s.releases.map(r => r.id)).toEqual(['a', 'b', 'c'])
  expect(s.current).toEqual({ kind: 'release', id: 'b' })
  expect(parseReleaseState('link\t/opt/elsewhere\n').current.kind).toBe('other')
  expect(parseReleaseState('link\treleases/x\n').current).toMatchObject({ kind: 'other' })
  expect(parseReleaseState('').current.kind).toBe('missing')
})

test('pruning keeps the newest N good releases and never current; failed and unfinished ones go first', () => {
  const rel = (id: string, seq: number, outcome?: 'live' | 'failed' | 'rolled-back') => ({ id, seq, outcome })
  const all = [rel('a', 1, 'live'), rel('b', 2, 'live'), rel('c', 3, 'live'), rel('d', 4, 'live')]
  expect(releasesToPrune(all, 'd', 2)).toEqual(['a', 'b'])
  expect(releasesToPrune(all, 'a', 2)).toEqual(['b', 'c'])
  expect(releasesToPrune(all, 'd', 10)).toEqual([])
  // The case: r3 failed (rolled back to r2), r4 with keep 2 keeps r2, not r3.
  const mixed = [
    rel('r1', 1, 'live'),
    rel('r2', 2, 'live'),
    rel('r3', 3, 'failed'),
    rel('r4', 4, 'live'),
    rel('x', 5)
  ]
  expect(releasesToPrune(mixed, 'r4', 2)).toEqual(['r3', 'x', 'r1'])
  // Releases of older versions (marked inside the folder, no log) count as good.
  expect(releasesToPrune([{ id: 'o', seq: 1, old: true }, rel('n', 2, 'live')], 'n', 2)).toEqual([])
})

test('rollback goes to the newest release before current that went live and did not fail', () => {
  const s = parseReleaseState(
    'link\treleases/r4\nrelease\tr1\tv=2 seq=1\nrelease\tr2\tv=2 seq=2\nrelease\tr3\tv=2 seq=3\nrelease\tr4\tv=2 seq=4\n' +
      'event\tr1\tlive\tt\tx\nevent\tr2\tlive\tt\tx\nevent\tr3\tlive\tt\tx\nevent\tr3\tfailed\tt\tx\nevent\tr4\tlive\tt\tx\n'
  )
  expect(s.releases.map(r => r.outcome)).toEqual(['live', 'live', 'failed', 'live'])
  expect(rollbackTarget(s, 'r4')?.id).toBe('r2')
  expect(rollbackTarget(s, 'r1')).toBeUndefined()
})

test("a held lock names its holder and age; one past its holder's own limit, or whose process is gone here, is stale", () => {
  const now = 1_800_000_000
  const owner = {
    now: String(now),
    token: 't',
    repo: 'o/r',
    run: '1',
    attempt: '2',
    runner: 'gh-7',
    host: 'runner-a',
    pid: '1',
    ttl: '1860'
  }
  const live = describeHolder({ ...owner, since: String(now - 10) }, { host: 'elsewhere', alive: () => true })
  expect(live.who).toMatch(/^o\/r run 1 attempt 2 on runner gh-7 \(host runner-a, pid 1, since /)
  expect(live.age).toBe('holding it for 10 s')
  expect(live.stale).toBeUndefined()
  const expired = describeHolder(
    { ...owner, since: String(now - 5000) },
    { host: 'elsewhere', alive: () => true }
  )
  expect(expired.stale).toBe("held 5000 s, past its owner's limit of 1860 s")
  const gone = describeHolder({ ...owner, since: String(now - 10) }, { host: 'runner-a', alive: () => false })
  expect(gone.stale).toBe('its process 1 no longer exists on runner-a')
  expect(describeHolder({ now: String(now), dirtime: String(now - 500) }).stale).toBe(
    'no owner file after 2 minutes'
  )
})

/** A PATH holding only these tools (symlinks to the machine's own). */
async function pathWith(tools: string[]): Promise<string> {
  const bin = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-bin-'))
  for (const tool of tools)
    await symlink(
      execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(),
      path.join(bin, tool)
    )
  return bin
}

const runSh = (script: string, env: NodeJS.ProcessEnv) =>
  execFileSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8', env })

test('listings come back gzipped where the instance has gzip and base64, as they are where it has not', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-snapshot-'))
  const bin = await pathWith(['find', 'cat', 'printf'])
  try {
    await mkdir(path.join(dir, 'sub dir'))
    await writeFile(path.join(dir, 'a.txt'), 'a')
    await writeFile(path.join(dir, 'sub dir', "-it's.bin"), 'bb')
    await mkdir(path.join(dir, '.ec2-push'))
    await writeFile(path.join(dir, '.ec2-push', 'manifest'), 'ec2-push-manifest 2\nhmac 00\n')
    const gz = runSh(snapshotScript(dir), process.env)
    const plain = runSh(snapshotScript(dir), { PATH: bin })
    expect(gz).toContain('--ec2-push-gzip-base64--')
    expect(plain).not.toContain('--ec2-push-gzip-base64--')
    for (const out of [gz, plain]) {
      const snap = parseSnapshot(out)
      expect([...snap.listing.keys()].sort()).toEqual(['a.txt', "sub dir/-it's.bin"])
      expect(snap.listing.get('a.txt')).toMatchObject({ type: 'file', size: 1 })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await rm(bin, { recursive: true, force: true })
  }
})

test('a sync request goes up once, though the script has a branch with gzip and one without', () => {
  const digest = 'ab'.repeat(32)
  const files = [{ localPath: '/build/a.txt', relativePath: 'a.txt', size: 1, mode: 0o644 }]
  const script = snapshotScript('/srv/app', { files, digests: new Map([['a.txt', digest]]) })
  expect(script.split(digest).length - 1).toBe(1)
})

test('sync snapshots: the instance compares where it has awk, else the listing and manifest come back whole', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-snapshot-'))
  const noAwk = await pathWith([
    'find',
    'cat',
    'printf',
    'gzip',
    'base64',
    'sha256sum',
    'sed',
    'head',
    'tail',
    'cut'
  ])
  try {
    const names = [
      'same.txt',
      'sub dir/same "2".txt',
      'edited.txt',
      'changed.txt',
      'gone.txt',
      'new\nline.txt'
    ]
    const content = (n: string) => `content of ${n}\n`
    await mkdir(path.join(dir, 'sub dir'))
    for (const n of names) if (n !== 'gone.txt') await writeFile(path.join(dir, n), content(n))
    await writeFile(path.join(dir, 'extra.txt'), 'not in the set')
    const files = names.map(n => ({ relativePath: n, localPath: '', size: content(n).length, mode: 0o644 }))
    const digests = new Map(names.map(n => [n, createHash('sha256').update(content(n)).digest('hex')]))
    // The manifest as a deploy leaves it, then a hand edit on the instance and a new local version.
    const key = manifestKey('the deploy key')!
    const listed = parseListing(runSh(snapshotScript(dir), process.env))
    const entries = new Map(
      [...listed].map(([rel, e]) => [
        rel,
        { sha256: digests.get(rel) ?? '0'.repeat(64), mode: e.mode, stamp: e.stamp }
      ])
    )
    await mkdir(path.join(dir, '.ec2-push'), { recursive: true })
    await writeFile(path.join(dir, '.ec2-push', 'manifest'), formatManifest(key, dir, entries))
    await new Promise(r => setTimeout(r, 20))
    await writeFile(path.join(dir, 'edited.txt'), content('edited.txt').toUpperCase())
    const changedContent = content('changed.txt').replace('content', 'CONTENT')
    digests.set('changed.txt', createHash('sha256').update(changedContent).digest('hex'))
    const request = { files, digests }

    const joined = parseSnapshot(runSh(snapshotScript(dir, request), process.env), request)
    expect(joined.joined).toMatchObject({ sameCount: 2, missing: new Set(['gone.txt']) })
    expect(checkSeal(joined.joined!.seal, key, dir)).toEqual({})
    // Only what differs comes back: the edit (stamp changed, no trusted digest), the new local
    // version (the manifest's digest, which differs), the extra file, and the name no line holds.
    expect([...joined.listing.keys()].sort()).toEqual([
      'changed.txt',
      'edited.txt',
      'extra.txt',
      'new\nline.txt'
    ])
    expect(joined.joined!.manifestSha).toEqual(new Map([['changed.txt', entries.get('changed.txt')!.sha256]]))

    const whole = parseSnapshot(runSh(snapshotScript(dir, request), { PATH: noAwk }), request)
    expect(whole.joined).toBeUndefined()
    expect([...whole.listing.keys()].sort()).toEqual(
      [...names.filter(n => n !== 'gone.txt'), 'extra.txt'].sort()
    )
    const m = parseManifest(whole.manifestText, key, dir)
    expect(m.reason).toBeUndefined()
    expect(m.entries!.get('same.txt')).toEqual(entries.get('same.txt'))
  } finally {
    await rm(dir, { recursive: true, force: true })
    await rm(noAwk, { recursive: true, force: true })
  }
})
