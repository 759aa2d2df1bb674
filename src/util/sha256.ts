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
