import { isPlainRelative } from '../util/plain-path.js'

/**
 * The POSIX ustar archive format, as far as the upload's packs use it (transfer/pack.ts): regular
 * files only, each a 512-byte header and its bytes padded to 512, two zero blocks at the end. GNU
 * tar and BusyBox tar both read it. A name goes in the header's 100-byte name field, or split at a
 * `/` into the 155-byte prefix and the name; a path that cannot be carried so is not packed.
 */

export const BLOCK = 512

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK)

const NAME_BYTES = 100
const PREFIX_BYTES = 155

/**
 * A relative path as a member's name (prefix and name fields, UTF-8), or undefined when it cannot be
 * one exactly: too long for the fields, a NUL, an empty part, a `.` or `..` part, or a leading `/`
 * (tar would change or refuse any of those).
 */
function ustarName(rel: string): { prefix: Buffer; base: Buffer } | undefined {
  if (!carriable(rel)) return undefined
  const name = Buffer.from(rel, 'utf8')
  if (name.length <= NAME_BYTES) return { prefix: Buffer.alloc(0), base: name }
  // The prefix is what comes before a `/`; the rest must fit the name field and not be empty.
  for (let at = Math.min(PREFIX_BYTES, name.length - 2); at > 0; at--) {
    if (name[at] !== 0x2f) continue
    if (name.length - at - 1 > NAME_BYTES) return undefined
    return { prefix: name.subarray(0, at), base: name.subarray(at + 1) }
  }
  return undefined
}

/** A path tar keeps as it is: relative, no NUL, no empty, `.` or `..` part. */
function carriable(rel: string): boolean {
  return rel !== '' && !rel.includes('\0') && isPlainRelative(rel)
}

/** Whether a relative path can be a member's name exactly (ustarName; the name field alone without making a buffer). */
export function fitsUstar(rel: string): boolean {
  if (!carriable(rel)) return false
  return Buffer.byteLength(rel, 'utf8') <= NAME_BYTES || ustarName(rel) !== undefined
}

function octal(buf: Buffer, at: number, width: number, value: number): void {
  // width - 1 digits and a NUL, as every tar writes them.
  let v = value
  for (let i = width - 2; i >= 0; i--) {
    buf[at + i] = 0x30 + (v & 7)
    v = Math.floor(v / 8)
  }
  buf[at + width - 1] = 0
}

/** The fields every member's header shares: owner and group 0, a regular file, the ustar magic. */
const TEMPLATE = (() => {
  const h = Buffer.alloc(BLOCK)
  octal(h, 108, 8, 0)
  octal(h, 116, 8, 0)
  h[156] = 0x30 // '0': a regular file
  h.write('ustar\0' + '00', 257, 8, 'latin1')
  return h
})()

/**
 * A regular file's header: `rel` (fitsUstar), `mode` (permission bits), `size` bytes, modified at
 * `mtime` (seconds), owned by uid and gid 0 (the packs are extracted without restoring owners).
 */
export function fileHeader(rel: string, mode: number, size: number, mtime: number): Buffer {
  const h = Buffer.allocUnsafe(BLOCK)
  writeFileHeader(h, 0, rel, mode, size, mtime)
  return h
}

/**
 * fileHeader written into `buf` at `at` (its BLOCK bytes there are overwritten whole). Made from a
 * template and digits written in place: it runs once per small file, on the upload's critical path.
 */
export function writeFileHeader(
  buf: Buffer,
  at: number,
  rel: string,
  mode: number,
  size: number,
  mtime: number
): void {
  const parts = ustarName(rel)
  if (!parts) throw new Error(`not a ustar name: ${JSON.stringify(rel)}`)
  if (size >= 8 ** 11) throw new Error('too large for a ustar header')
  TEMPLATE.copy(buf, at)
  parts.base.copy(buf, at)
  octal(buf, at + 100, 8, mode & 0o777)
  octal(buf, at + 124, 12, size)
  octal(buf, at + 136, 12, Math.max(0, Math.floor(mtime)))
  parts.prefix.copy(buf, at + 345)
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20
  for (let i = at; i < at + 148; i++) sum += buf[i]
  for (let i = at + 156; i < at + BLOCK; i++) sum += buf[i]
  // Six digits, a NUL and a space.
  octal(buf, at + 148, 7, sum)
  buf[at + 155] = 0x20
}

/** A member's bytes in the archive: its header and its data padded to whole blocks. */
export function memberBytes(size: number): number {
  return BLOCK + Math.ceil(size / BLOCK) * BLOCK
}

/** The zero bytes that pad `size` bytes of a member to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest)
}
