import { Limit } from '../../src/util/limit.js'
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseList, parseRemotePath, parseTarget, normalisePrivateKey } from '../../src/config.js'
import { planFiles, commonAncestor } from '../../src/files/plan.js'
import { wholeTreeOf } from '../../src/files/tree.js'
import { capturingLogger } from '../helpers/logger.js'
import { fingerprint, keysFromKnownHosts, targetNames } from '../../src/ssh/host-key.js'
import { tempPathFor } from '../../src/remote/names.js'
import { shellQuote } from '../../src/remote/quote.js'
import { parseSha256sum } from '../../src/remote/verify.js'
import { remoteFilePath } from '../../src/transfer/remote-path.js'
import { fitsUstar } from '../../src/transfer/ustar.js'
import { isPlainRelative } from '../../src/util/plain-path.js'
import { fingerprintOf } from '../../sim/ssh-keys.js'
import { execFileSync } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'

const capture = capturingLogger

describe('config parsing', () => {
  test('targets: instance ids, tag filters, host[:port], [v6]:port', () => {
    expect(parseTarget('i-0123456789abcdef0')).toMatchObject({
      kind: 'instance',
      instanceId: 'i-0123456789abcdef0'
    })
    expect(parseTarget('mi-0123456789abcdef0')).toMatchObject({ kind: 'instance' })
    expect(parseTarget('tag:Role=web')).toMatchObject({ kind: 'tag', key: 'Role', value: 'web' })
    expect(parseTarget('nlb.example.com:2222')).toMatchObject({
      kind: 'host',
      host: 'nlb.example.com',
      port: 2222
    })
    expect(parseTarget('10.0.0.1')).toMatchObject({ kind: 'host', host: '10.0.0.1', port: 22 })
    expect(parseTarget('[::1]:2200')).toMatchObject({ kind: 'host', host: '::1', port: 2200 })
    expect(parseTarget('i-0123456789abcdef0@nlb.example.com:2222')).toMatchObject({
      kind: 'host',
      host: 'nlb.example.com',
      port: 2222,
      instanceId: 'i-0123456789abcdef0'
    })
    expect(() => parseTarget('i-0123456789abcdef0@tag:Role=web')).toThrow(/give host\[:port\]/)
    expect(() => parseTarget('bad host')).toThrow(/not an instance id/)
    expect(() => parseTarget('h:70000')).toThrow(/1-65535/)
  })
  test('lists: lines, commas, comments', () => {
    expect(parseList('a, b\n# note\n\nc')).toEqual(['a', 'b', 'c'])
  })
  test('remote-path: absolute or inside home, never above it', () => {
    expect(parseRemotePath('/srv/app/')).toBe('/srv/app')
    expect(parseRemotePath('app/./x')).toBe('app/x')
    expect(parseRemotePath('/srv/../etc')).toBe('/etc')
    expect(() => parseRemotePath('a/../../b')).toThrow(/climbs above/)
    expect(() => parseRemotePath('')).toThrow(/required/)
  })
  test('private keys pasted with CRLF or literal \\n are normalised', () => {
    expect(normalisePrivateKey('-----BEGIN X-----\r\nabc\r\n-----END X-----')).toBe(
      '-----BEGIN X-----\nabc\n-----END X-----\n'
    )
    expect(normalisePrivateKey('-----BEGIN X-----\\nabc\\n-----END X-----')).toBe(
      '-----BEGIN X-----\nabc\n-----END X-----\n'
    )
  })
})

describe('host keys', () => {
  const dir = path.join(os.tmpdir(), `ec2-push-hk-${process.pid}`)
  let line: string
  beforeAll(async () => {
    await mkdir(dir, { recursive: true })
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')])
    line = execFileSync('cat', [path.join(dir, 'k.pub')])
      .toString()
      .trim()
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  test('fingerprints agree with ssh-keygen -lf', () => {
    const blob = Buffer.from(line.split(' ')[1], 'base64')
    const keygen = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'k.pub')])
      .toString()
      .split(' ')[1]
    expect(fingerprint(blob)).toBe(keygen)
    expect(fingerprintOf(line)).toBe(keygen)
  })
  test('known_hosts: plain, [host]:port, wildcard, negation, hashed, bare key', () => {
    const [type, b64] = line.split(' ')
    const names = targetNames('10.0.0.5', 2222, ['i-0abc'])
    expect(keysFromKnownHosts(`[10.0.0.5]:2222 ${type} ${b64}`, names)).toHaveLength(1)
    expect(keysFromKnownHosts(`10.0.0.5 ${type} ${b64}`, names)).toHaveLength(1)
    expect(keysFromKnownHosts(`other ${type} ${b64}`, names)).toHaveLength(0)
    expect(keysFromKnownHosts(`i-0*,!i-0abc ${type} ${b64}`, names)).toHaveLength(0)
    expect(keysFromKnownHosts(`i-0* ${type} ${b64}`, names)).toHaveLength(1)
    expect(keysFromKnownHosts(`${type} ${b64}`, names)).toHaveLength(1)
    const salt = randomBytes(20)
    const hash = createHmac('sha1', salt).update('[10.0.0.5]:2222').digest('base64')
    expect(keysFromKnownHosts(`|1|${salt.toString('base64')}|${hash} ${type} ${b64}`, names)).toHaveLength(1)
    expect(() => keysFromKnownHosts(`@revoked * ${type} ${b64}`, names)).toThrow(/not supported/)
  })
})

describe('remote paths and sha256sum output', () => {
  test('shell quoting survives quotes, $ and a leading dash', () => {
    for (const s of [`it's "x"`, 'cost $HOME', '-rf', 'ünï', 'a\nb']) {
      expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(s)}`]).toString()).toBe(s)
    }
  })
  test('sha256sum output is parsed, escaped names included', () => {
    const dir = path.join(os.tmpdir(), `ec2-push-sum-${process.pid}`)
    execFileSync('mkdir', ['-p', dir])
    const names = ['plain.txt', 'with space', 'back\\slash', 'new\nline']
    for (const n of names) execFileSync('sh', ['-c', `printf x > ${shellQuote(path.join(dir, n))}`])
    const out = execFileSync('sh', [
      '-c',
      `sha256sum -- ${names.map(n => shellQuote(path.join(dir, n))).join(' ')}`
    ]).toString()
    const parsed = parseSha256sum(out)
    for (const n of names) expect(parsed.get(path.join(dir, n))).toMatch(/^[0-9a-f]{64}$/)
    execFileSync('rm', ['-rf', dir])
  })
  test("a file's remote path is path.posix.join's, made by concatenation only where that is the same", () => {
    const roots = ['/srv/app', '/', '/srv/app/', '/srv//app', '/srv/./app', '/srv/app/..', 'rel/app', '~/app']
    const rels = [
      'a.txt',
      'd/e/f.txt',
      '.hidden',
      '...',
      'a//b',
      './a',
      'a/./b',
      '../x',
      'a/..',
      'a/',
      '/abs',
      ''
    ]
    for (const root of roots)
      for (const rel of rels)
        expect([root, rel, remoteFilePath(root, rel)]).toEqual([root, rel, path.posix.join(root, rel)])
    expect(['a/b', '.x/y', '...', 'a..b/c.'].every(isPlainRelative)).toBe(true)
    expect(['', '.', '..', 'a//b', './a', 'a/.', 'a/../b', '/a', 'a/'].some(isPlainRelative)).toBe(false)
  })
  test('ustar carries a path exactly or not at all', () => {
    expect(fitsUstar('d/' + 'x'.repeat(98))).toBe(true)
    expect(fitsUstar('d/' + 'x'.repeat(99))).toBe(true) // split at the / into prefix and name
    expect(fitsUstar('x'.repeat(101))).toBe(false) // no / to split at
    expect(fitsUstar('d/' + 'é'.repeat(50))).toBe(true) // 102 bytes, split
    expect(fitsUstar('é'.repeat(51))).toBe(false) // 102 bytes, nowhere to split
    for (const odd of ['', '.', 'a/../b', './a', 'a//b', '/a', 'a/', 'a\0b'])
      expect(fitsUstar(odd)).toBe(false)
  })
  test('temporary names sit beside the final name, hidden and short', () => {
    const t = tempPathFor('/srv/app/' + 'x'.repeat(300))
    expect(path.posix.dirname(t)).toBe('/srv/app')
    expect(path.posix.basename(t)).toMatch(/^\.ec2-push-tmp\.[0-9a-f]{12}\.[0-9a-f]+$/)
    expect(tempPathFor('/srv/app/a')).not.toBe(tempPathFor('/srv/app/a'))
  })
})

describe('file selection (upload-artifact rules)', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-plan-'))
    await mkdir(path.join(root, 'a', 'b'), { recursive: true })
    await mkdir(path.join(root, 'c', '.hidden'), { recursive: true })
    await writeFile(path.join(root, 'a', 'one.txt'), '1')
    await writeFile(path.join(root, 'a', 'b', 'two.js'), '2')
    await writeFile(path.join(root, 'a', 'b', 'two.spec.js'), '2')
    await writeFile(path.join(root, 'c', 'three.txt'), '3')
    await writeFile(path.join(root, 'c', '.env'), 'secret')
    await writeFile(path.join(root, 'c', '.hidden', 'four.txt'), '4')
    await symlink(path.join(root, 'a', 'one.txt'), path.join(root, 'c', 'link.txt'))
    await symlink(path.join(root, 'missing'), path.join(root, 'c', 'broken.txt'))
  })
  afterAll(() => rm(root, { recursive: true, force: true }))

  const plan = (patterns: string[], extra: Partial<Parameters<typeof planFiles>[0]> = {}) =>
    planFiles({
      patterns,
      includeHiddenFiles: false,
      ifNoFilesFound: 'error',
      logger: capture(),
      cwd: root,
      ...extra
    })

  test('one pattern: its search path is the root; hidden files left out; symlinks followed', async () => {
    const p = await plan(['c/**'])
    expect(p.root).toBe(path.join(root, 'c'))
    expect(p.files.map(f => f.relativePath).sort()).toEqual(['link.txt', 'three.txt'])
  })
  test('hidden files when asked', async () => {
    const p = await plan(['c/**'], { includeHiddenFiles: true })
    expect(p.files.map(f => f.relativePath).sort()).toEqual([
      '.env',
      '.hidden/four.txt',
      'link.txt',
      'three.txt'
    ])
  })
  test('several patterns: the least common ancestor; excludes with !', async () => {
    const p = await plan(['a/**', 'c/three.txt', '!**/*.spec.js'])
    expect(p.root).toBe(root)
    expect(p.files.map(f => f.relativePath).sort()).toEqual(['a/b/two.js', 'a/one.txt', 'c/three.txt'])
  })
  test('a single literal file: its parent is the root', async () => {
    const p = await plan(['a/b/two.js'])
    expect(p.root).toBe(path.join(root, 'a', 'b'))
    expect(p.files.map(f => f.relativePath)).toEqual(['two.js'])
  })
  test('base-dir overrides the root', async () => {
    const p = await plan(['a/b/**'], { baseDir: '.' })
    expect(p.files.map(f => f.relativePath).sort()).toEqual(['a/b/two.js', 'a/b/two.spec.js'])
  })
  test('a broken symlink is skipped with a warning', async () => {
    const logger = capture()
    await plan(['c/**'], { logger })
    expect(logger.lines.join('\n')).toMatch(/warning: Skipping broken symbolic link '.*broken\.txt'/)
  })
  test('nothing matched: error, warn or ignore', async () => {
    await expect(plan(['nope/**'])).rejects.toThrow(/No files matched/)
    const logger = capture()
    expect((await plan(['nope/**'], { ifNoFilesFound: 'warn', logger })).files).toEqual([])
    expect(logger.lines.join()).toMatch(/warning: No files matched/)
  })
  test('commonAncestor', () => {
    expect(commonAncestor(['/a/b/c', '/a/b/d/e', '/a/b'])).toBe('/a/b')
    expect(commonAncestor(['/x', '/y'])).toBe('/')
  })
})

describe('a whole folder is listed by one walk, exactly as the glob lists it', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-tree-'))
    const t = path.join(root, 'tree')
    const outside = path.join(root, 'outside')
    for (const d of ['a/b/c', '.hid/x', 'sp ace/[br]', 'star*q?'])
      await mkdir(path.join(t, d), { recursive: true })
    await mkdir(path.join(outside, 'deep'), { recursive: true })
    await writeFile(path.join(outside, 'deep', 'o.txt'), 'outside')
    await writeFile(path.join(outside, 'file.txt'), 'linked file')
    await writeFile(path.join(t, 'top.txt'), 'top')
    await writeFile(path.join(t, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
    await writeFile(path.join(t, '.env'), 'hidden')
    await writeFile(path.join(t, '.hid', 'x', 'h.txt'), 'hidden folder')
    await writeFile(path.join(t, 'a', 'b', 'c', 'deep.txt'), 'deep')
    await writeFile(path.join(t, 'a', 'B.txt'), 'case')
    await writeFile(path.join(t, 'a', 'b.txt'), 'case')
    await writeFile(path.join(t, 'sp ace', '[br]', 'x y.txt'), 'odd')
    await writeFile(path.join(t, 'star*q?', 'f*.txt'), 'odd')
    await writeFile(path.join(t, 'empty'), '')
    await symlink(path.join(outside, 'file.txt'), path.join(t, 'to-file'))
    await symlink(outside, path.join(t, 'to-dir'))
    await symlink(path.join(t, 'a'), path.join(t, 'a', 'b', 'up')) // a cycle: left out where it loops
    await symlink(t, path.join(t, 'a', 'root-again'))
    await symlink(path.join(root, 'missing'), path.join(t, 'broken'))
    execFileSync('mkfifo', [path.join(t, 'a', 'fifo')])
  })
  afterAll(() => rm(root, { recursive: true, force: true }))

  const plan = (patterns: string[], includeHiddenFiles: boolean) => {
    const logger = capture()
    return planFiles({ patterns, includeHiddenFiles, ifNoFilesFound: 'warn', logger, cwd: root }).then(p => ({
      ...p,
      // The 'No files matched' line quotes the patterns, which differ.
      warnings: logger.lines.filter(l => l.startsWith('warning') && !l.includes('No files matched'))
    }))
  }

  test('the walk is taken only for one literal folder or file, alone or with /**', () => {
    expect(wholeTreeOf(['/r/tree/**'])).toBe('/r/tree')
    expect(wholeTreeOf(['/r/tree'])).toBe('/r/tree')
    expect(wholeTreeOf(['/r/tree/**', '/r/tree/**'])).toBeUndefined()
    expect(wholeTreeOf(['/r/tree/**/*'])).toBeUndefined()
    expect(wholeTreeOf(['/r/t[r]ee/**'])).toBeUndefined()
    expect(wholeTreeOf(['/r/t\\ree'])).toBeUndefined()
    expect(wholeTreeOf(['/r/t?ee'])).toBeUndefined()
    expect(wholeTreeOf(['/r//tree/**'])).toBeUndefined()
    expect(wholeTreeOf(['/r/./tree'])).toBeUndefined()
    expect(wholeTreeOf(['/r/tree/'])).toBeUndefined()
    expect(wholeTreeOf(['/'])).toBeUndefined()
    expect(wholeTreeOf(['!/r/tree'])).toBeUndefined()
    expect(wholeTreeOf(['~/tree'])).toBeUndefined()
  })

  for (const hidden of [false, true]) {
    test(`same files, modes, sizes, root and warnings (hidden files ${hidden ? 'included' : 'left out'})`, async () => {
      for (const pattern of [
        'tree/**',
        'tree',
        'tree/to-dir',
        'tree/run.sh',
        'tree/.hid/**',
        'tree/broken'
      ]) {
        const walked = await plan([pattern], hidden)
        // The same pattern twice is the same match, and not the walk's form: it goes through the glob.
        const globbed = await plan([pattern, pattern], hidden)
        expect(walked).toEqual(globbed)
      }
      const all = await plan(['tree/**'], hidden)
      expect(all.files.length).toBeGreaterThan(8)
      expect(all.files.find(f => f.relativePath === 'run.sh')?.mode).toBe(0o755)
      expect(all.warnings.join('\n')).toMatch(/Skipping broken symbolic link '.*broken'/)
      expect(all.warnings.join('\n')).toMatch(/'a\/b.txt' and 'a\/B.txt' differ only in case/)
      expect(all.files.some(f => f.relativePath.startsWith('.hid/'))).toBe(hidden)
    })
  }

  test('onFile is told of every planned file, walked or globbed (the deploy opens its second connection on it)', async () => {
    for (const patterns of [['tree/**'], ['tree/**', 'tree/**']]) {
      const told: number[] = []
      const p = await planFiles({
        patterns,
        includeHiddenFiles: true,
        ifNoFilesFound: 'warn',
        logger: capture(),
        cwd: root,
        onFile: size => told.push(size)
      })
      const bySize = (a: number, b: number) => a - b
      expect(told.sort(bySize)).toEqual(p.files.map(f => f.size).sort(bySize))
    }
  })
})

test('Limit: never more than max at once, the waiting ones run in order, a failure frees its place', async () => {
  const limit = new Limit(3)
  let running = 0
  let peak = 0
  const started: number[] = []
  const task = (i: number) =>
    limit.run(async () => {
      started.push(i)
      running++
      peak = Math.max(peak, running)
      await new Promise(r => setTimeout(r, 5 + (i % 3)))
      running--
      if (i === 4) throw new Error('task 4 failed')
      return i
    })
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => task(i)))
  expect(peak).toBe(3)
  expect(started).toEqual(Array.from({ length: 12 }, (_, i) => i))
  expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(11)
  expect(results[4]).toMatchObject({ status: 'rejected' })
})
