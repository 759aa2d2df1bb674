import * as crypto from 'node:crypto'

/** One-shot hashing (Node >= 20.12): a fraction of the cost of a createHash object for small inputs. */
const hashOnce = (crypto as { hash?: typeof crypto.hash }).hash

/** SHA-256 of a buffer, as raw bytes. */
export function sha256(data: Buffer): Buffer {
  return hashOnce ? hashOnce('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest()
}

/** SHA-256 of a buffer, as lower-case hex. */
export function sha256Hex(data: Buffer): string {
  return hashOnce ? hashOnce('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex')
}

/**
 * SHA-256 of a buffer as a 32-character latin1 string (one character per byte). Where a digest is
 * written into or compared with a buffer, this is a fraction of the cost of the Buffer form: a
 * short string is cheap to make, a Buffer is a new ArrayBuffer each time.
 */
export function sha256Latin1(data: Buffer): string {
  return hashOnce
    ? hashOnce('sha256', data, 'binary')
    : crypto.createHash('sha256').update(data).digest('binary')
}
