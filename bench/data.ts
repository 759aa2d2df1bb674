import { randomBytes } from 'node:crypto'
import { mkdir, open, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** Incompressible test data: one large file written in 8 MiB pieces (never whole in memory). */
export async function makeRandomFile(file: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const fh = await open(file, 'w')
  try {
    for (let pos = 0; pos < bytes;) {
      const n = Math.min(8 * 1024 * 1024, bytes - pos)
      await fh.write(randomBytes(n), 0, n, pos)
      pos += n
    }
  } finally {
    await fh.close()
  }
}

/** `count` random files of `size` bytes, 100 to a folder (d000/f0000.bin ...), like a build tree. */
export async function makeSmallTree(dir: string, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(3, '0')}`)
    if (i % 100 === 0) await mkdir(sub, { recursive: true })
    await writeFile(path.join(sub, `f${String(i).padStart(4, '0')}.bin`), randomBytes(size))
  }
}

/** A plain-text table with columns padded to their widest cell (numbers right-aligned). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const numeric = headers.map((_, i) => rows.every(r => /^[-\d.,x%~<>= ]*$/.test(r[i] ?? '')))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(headers), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
