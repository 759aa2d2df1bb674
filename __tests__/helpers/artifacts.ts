import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function seededBytes(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.ceil(size / 4) * 4)
  let x = seed >>> 0 || 1
  for (let i = 0; i < buf.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    buf.writeUInt32LE(x >>> 0, i)
  }
  return buf.subarray(0, size)
}

/** The awkward names the foundation issue lists: spaces, quotes, $, unicode, a leading dash. */
export const AWKWARD_NAMES = [
  'with space.txt',
  `it's "quoted".txt`,
  'cost $HOME.txt',
  'ünïcødé-日本.txt',
  '-leading-dash.txt'
]

/**
 * The artifact tree every path's end-to-end test uploads: nested folders, an empty file, a large
 * file, an executable and awkward names. Returns the folder.
 */
export async function makeArtifactTree(opts: { largeBytes?: number } = {}): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-art-'))
  await mkdir(path.join(root, 'nested', 'deeper', 'deepest'), { recursive: true })
  await writeFile(path.join(root, 'index.html'), '<h1>hello</h1>\n')
  await chmod(path.join(root, 'index.html'), 0o644) // whatever this process's umask
  await writeFile(path.join(root, 'empty.txt'), '')
  await writeFile(path.join(root, 'nested', 'deeper', 'deepest', 'data.bin'), seededBytes(100_000, 7))
  await writeFile(
    path.join(root, 'nested', 'large.bin'),
    seededBytes(opts.largeBytes ?? 20 * 1024 * 1024, 42)
  )
  await writeFile(path.join(root, 'nested', 'run.sh'), '#!/bin/sh\necho deployed\n')
  await chmod(path.join(root, 'nested', 'run.sh'), 0o755)
  for (const [i, name] of AWKWARD_NAMES.entries())
    await writeFile(path.join(root, 'nested', name), `file ${i}: ${name}\n`)
  return root
}

export interface FileFacts {
  sha256: string
  size: number
  mode: number
}

/** Every regular file under a folder: relative path -> sha256, size and permission bits. */
export async function describeTree(root: string): Promise<Map<string, FileFacts>> {
  const out = new Map<string, FileFacts>()
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) {
        const st = await stat(p)
        out.set(path.relative(root, p).split(path.sep).join('/'), {
          sha256: createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
          size: st.size,
          mode: st.mode & 0o777
        })
      }
    }
  }
  await walk(root)
  return out
}
