import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { freeSpaceScript, parseFreeSpace } from '../../src/remote/free-space.js'

/**
 * The `df -P` script a write failure asks the instance with, run by a real dash and BusyBox sh and
 * checked by shellcheck, for folders with hostile names and folders not made yet.
 */

let root: string
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-df-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const names = ["it's", '$(touch pwned)', '`touch pwned`', 'line\nbreak', '-leading dash', 'sp  ace']
const shells: Array<[string, string[]]> = [
  ['dash', ['dash', '-c']],
  ['busybox sh', ['busybox', 'sh', '-c']]
]

test.each(shells)('%s: which file system holds a folder, made or not yet', async (_name, argv) => {
  for (const name of names) {
    const dir = path.join(root, name)
    await mkdir(dir, { recursive: true })
    for (const asked of [dir, path.join(dir, 'not', 'made', 'yet')]) {
      const out = execFileSync(argv[0], [...argv.slice(1), freeSpaceScript(asked)], { cwd: root }).toString()
      const free = parseFreeSpace(out)
      expect(free).toBeDefined()
      expect(free!.totalBytes).toBeGreaterThan(0)
      expect(free!.availableBytes).toBeGreaterThanOrEqual(0)
      expect(free!.mountpoint.startsWith('/')).toBe(true)
    }
  }
  expect(existsSync(path.join(root, 'pwned'))).toBe(false)
})

test('shellcheck passes on the rendered script', () => {
  for (const name of names) {
    const script = freeSpaceScript(path.join(root, name))
    expect(() => execFileSync('shellcheck', ['-s', 'sh', '-'], { input: script })).not.toThrow()
  }
})

test('df -P output is read; anything else is not', () => {
  expect(
    parseFreeSpace(
      'Filesystem     1024-blocks  Used Available Capacity Mounted on\ntmpfs                 1024  1024         0     100% /srv/my app\n'
    )
  ).toEqual({ filesystem: 'tmpfs', mountpoint: '/srv/my app', totalBytes: 1048576, availableBytes: 0 })
  expect(parseFreeSpace('df: /x: No such file or directory\n')).toBeUndefined()
})
