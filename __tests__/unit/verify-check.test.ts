import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { checkable, checkScript, parseCheck } from '../../src/remote/verify.js'

/**
 * The instance's side of verification by comparison (remoteCheck): the script run by a real sh and
 * the machine's own sha256sum, and what its answers are taken to mean.
 */

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-check-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

function run(script: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8', env })
  return { code: r.status, stdout: r.stdout }
}

test('the instance names only the files that differ or are missing, whatever their names', async () => {
  const names = [
    'plain.txt',
    'with space.txt',
    `quote'd "and" $HOME.txt`,
    '-leading-dash',
    'ünïcødé.txt',
    ' lead'
  ]
  const expected = new Map<string, string>()
  for (const n of names) {
    const p = path.join(dir, n)
    await writeFile(p, `content of ${n}\n`)
    expect(checkable(p)).toBe(true)
    expected.set(p, sha256(`content of ${n}\n`))
  }
  expect(parseCheck(run(checkScript(expected)), expected)).toEqual(new Set())

  const changed = path.join(dir, names[2])
  await writeFile(changed, 'edited on the instance\n')
  const missing = path.join(dir, 'never written.txt')
  expected.set(missing, sha256('x'))
  expect(parseCheck(run(checkScript(expected)), expected)).toEqual(new Set([changed, missing]))
})

test('an instance whose sha256sum cannot compare quietly makes the caller list the hashes instead', async () => {
  // BusyBox's sha256sum has -c but no --quiet or --strict: it refuses the options.
  const bin = path.join(dir, 'busybox-like')
  execFileSync('mkdir', ['-p', bin])
  await writeFile(
    path.join(bin, 'sha256sum'),
    `#!/bin/sh\nfor a; do case "$a" in --quiet|--strict) echo "sha256sum: unrecognized option '$a'" >&2; exit 1;; esac; done\nexec ${execFileSync('sh', ['-c', 'command -v sha256sum'], { encoding: 'utf8' }).trim()} "$@"\n`
  )
  await chmod(path.join(bin, 'sha256sum'), 0o755)
  const p = path.join(dir, 'plain.txt')
  const expected = new Map([[p, sha256('content of plain.txt\n')]])
  expect(
    parseCheck(run(checkScript(expected), { PATH: `${bin}:${process.env.PATH}` }), expected)
  ).toBeUndefined()
})

test('answers that are not what sha256sum --quiet -c gives are not trusted', () => {
  const expected = new Map([['/srv/a', 'ab'.repeat(32)]])
  expect(parseCheck({ code: 0, stdout: '' }, expected)).toEqual(new Set())
  expect(parseCheck({ code: 1, stdout: '/srv/a: FAILED\n' }, expected)).toEqual(new Set(['/srv/a']))
  expect(parseCheck({ code: 1, stdout: '/srv/a: FAILED open or read\n' }, expected)).toEqual(
    new Set(['/srv/a'])
  )
  expect(parseCheck({ code: 1, stdout: '' }, expected)).toBeUndefined() // an error, not a verdict
  expect(parseCheck({ code: 1, stdout: '/srv/other: FAILED\n' }, expected)).toBeUndefined()
  expect(parseCheck({ code: 0, stdout: '/srv/a: OK\n' }, expected)).toBeUndefined()
  expect(parseCheck({ code: 2, stdout: '' }, expected)).toBeUndefined()
  expect(parseCheck({ code: null, stdout: '' }, expected)).toBeUndefined()
})

test('names with a backslash or a line break are left to the listing', () => {
  expect(checkable('/srv/app/a\\b')).toBe(false)
  expect(checkable('/srv/app/a\nb')).toBe(false)
  expect(checkable('/srv/app/a\rb')).toBe(false)
  expect(checkable('/srv/app/a b')).toBe(true)
})
