import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'

/**
 * The pack of `delivery: s3`: small files travel as one object, a POSIX tar (ustar, with a pax
 * header for names longer than 100 bytes), so an instance makes one request for thousands of them
 * instead of one each. Each distinct content is stored once, as a regular file named by the first
 * path that has it; every header is the same but for name and size (mode 0644, owner 0, time 0),
 * so the same files make the same pack, byte for byte, and a redeploy finds it already in S3
 * (content-addressed). The manifest gives each file's data offset in the pack: an instance that
 * lacks only a few files fetches just those bytes (an HTTP range), and one without tar does so for
 * all of them. Each file is still checked against its own sha256 once it is on the instance.
 */

/** Files up to this size go in the pack; larger ones are objects of their own. */
export const PACK_FILE_MAX = 1024 * 1024
/** The pack is built in memory: files past this total travel as objects of their own. */
export const PACK_MAX_BYTES = 128 * 1024 * 1024

const BLOCK = 512

export interface PackInput {
  relativePath: string
  localPath: string
  size: number
  sha256: string
}

export interface Pack {
  body: Buffer
  sha256: string
  /** Each content's file in the pack, by sha256: its name there and where its bytes start. */
  members: Map<string, { path: string; offset: number }>
}

/** Which files go in the pack: non-empty ones up to PACK_FILE_MAX, distinct contents up to PACK_MAX_BYTES. */
export function packable<T extends PackInput>(files: T[]): T[] {
  const seen = new Set<string>()
  let total = 0
  const out: T[] = []
  for (const f of [...files].sort((a, b) => cmp(a.relativePath, b.relativePath))) {
    if (f.size === 0 || f.size > PACK_FILE_MAX) continue
    if (!seen.has(f.sha256)) {
      const cost = f.size + 3 * BLOCK
      if (total + cost > PACK_MAX_BYTES) continue
      total += cost
      seen.add(f.sha256)
    }
    out.push(f)
  }
  return out
}

/** The pack of `files` (already chosen by packable), read from disk; undefined for none. */
export async function buildPack(files: PackInput[]): Promise<Pack | undefined> {
  const first = new Map<string, PackInput>()
  for (const f of [...files].sort((a, b) => cmp(a.relativePath, b.relativePath)))
    if (!first.has(f.sha256)) first.set(f.sha256, f)
  if (first.size === 0) return undefined
  const parts: Buffer[] = []
  const members = new Map<string, { path: string; offset: number }>()
  let at = 0
  for (const f of first.values()) {
    const data = await readFile(f.localPath)
    if (data.length !== f.size || sha256(data) !== f.sha256)
      throw new Error(`${f.localPath} changed while the deploy was reading it; run again`)
    for (const b of headers(f.relativePath, data.length)) {
      parts.push(b)
      at += b.length
    }
    members.set(f.sha256, { path: f.relativePath, offset: at })
    parts.push(data, Buffer.alloc(pad(data.length)))
    at += data.length + pad(data.length)
  }
  parts.push(Buffer.alloc(2 * BLOCK))
  const body = Buffer.concat(parts)
  return { body, sha256: sha256(body), members }
}

function headers(name: string, size: number): Buffer[] {
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.length <= 100) return [header(bytes, size, '0')]
  // pax: a record "<len> path=<name>\n", where <len> counts the whole record, its own digits too.
  const body = ` path=${name}\n`
  let len = Buffer.byteLength(body) + 1
  while (String(len).length + Buffer.byteLength(body) !== len) len++
  const record = Buffer.from(`${len}${body}`, 'utf8')
  return [
    header(Buffer.from('PaxHeader'), record.length, 'x'),
    Buffer.concat([record, Buffer.alloc(pad(record.length))]),
    header(bytes.subarray(0, 100), size, '0')
  ]
}

function header(name: Buffer, size: number, type: string): Buffer {
  const h = Buffer.alloc(BLOCK)
  name.copy(h, 0, 0, Math.min(100, name.length))
  h.write('0000644\0', 100, 'ascii')
  h.write('0000000\0', 108, 'ascii')
  h.write('0000000\0', 116, 'ascii')
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii')
  h.write('00000000000\0', 136, 'ascii')
  h.write('        ', 148, 'ascii')
  h.write(type, 156, 'ascii')
  h.write('ustar\0' + '00', 257, 'ascii')
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii')
  return h
}

const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
/** Byte order, not the locale's: the pack must not depend on the runner. */
const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
