import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { UserError } from '../../src/errors.js'
import { readSmallFile } from '../../src/transfer/file-writes.js'

/** A small file is read whole in one go; a size other than the planned one is the user's to know of. */

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-small-read-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const planned = (localPath: string, size: number) => ({ localPath, relativePath: 'f', size, mode: 0o644 })

test.each([0, 1, 4096, 65536])('a file of %i bytes, as planned, is read whole', async size => {
  const p = path.join(dir, `exact-${size}`)
  const data = Buffer.alloc(size, 7)
  await writeFile(p, data)
  expect(readSmallFile(planned(p, size)).equals(data)).toBe(true)
})

test.each([
  ['grew', 4096, 4097],
  ['shrank', 4096, 4095],
  ['emptied', 10, 0]
])('a file that %s since it was planned is refused with a clear error', async (_what, was, now) => {
  const p = path.join(dir, `changed-${was}-${now}`)
  await writeFile(p, Buffer.alloc(now, 1))
  const read = () => readSmallFile(planned(p, was))
  expect(read).toThrow(UserError)
  expect(read).toThrow(/changed size during the upload/)
})
