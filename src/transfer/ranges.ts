import { RANGE_BLOCK } from '../remote/range-hash.js'
import { SMALL_FILE_BYTES } from './file-writes.js'

/**
 * How files are cut into ranges for the range upload (transfer/striped.ts), and the queue the
 * channels take a file's ranges from. One SFTP channel carries at most sshd's channel window (2 MiB)
 * per round trip, and one connection at most its TCP window: a file of STRIPE_MIN_BYTES or more is
 * written by every channel of every connection at once, each range at its offset. Files from
 * RANGED_MIN_BYTES go the same way as one range each, many files at once, so the channels stream
 * from one file into the next.
 */
export const STRIPE_MIN_BYTES = 16 * 1024 * 1024
export const RANGED_MIN_BYTES = RANGE_BLOCK

/** Ranges never smaller than one channel window (the tail), nor larger than a cheap re-send. */
const MIN_RANGE = 2 * RANGE_BLOCK
const MAX_RANGE = 16 * RANGE_BLOCK

export function isStriped(file: { size: number }): boolean {
  return file.size >= STRIPE_MIN_BYTES
}

/** Files the range upload takes: striped ones, and those sent as one range. */
export function isRanged(file: { size: number }): boolean {
  return file.size >= RANGED_MIN_BYTES
}

/** How many connections an upload of these files can keep busy: one a file, or all with a striped file. */
export function connectionsUsable(files: readonly { size: number }[]): number {
  return files.some(isStriped) ? Infinity : files.length
}

/** Bytes of small files (packs) each connection beyond the second is opened for. */
const SMALL_BYTES_PER_CONNECTION = 8 * 1024 * 1024

/**
 * How many connections an upload of these files is worth when the user did not say
 * (`connections` empty; not over ssm, see deploy/context.ts): as connectionsUsable, but where every file is small (they go in packs,
 * transfer/pack.ts) two, and one more per SMALL_BYTES_PER_CONNECTION beyond 16 MiB. Every connection
 * costs a key exchange, a login, an sshd and a shell, in CPU on both ends; small files cost CPU
 * more than window, so beyond two connections (each moving sshd's 2 MiB channel window a round
 * trip, both ends' CPUs busy) more of them only share that CPU with their handshakes.
 */
export function connectionsWorth(files: readonly { size: number }[]): number {
  const usable = connectionsUsable(files)
  if (files.some(f => f.size > SMALL_FILE_BYTES)) return usable
  const bytes = files.reduce((n, f) => n + f.size, 0)
  return Math.min(usable, Math.max(2, Math.ceil(bytes / SMALL_BYTES_PER_CONNECTION)))
}

export interface Range {
  offset: number
  length: number
  /** Failed attempts on a live connection (a write error, a digest that did not match). */
  failures: number
}

/**
 * The ranges of one file not yet taken. New ranges shrink as the file runs out (a share of what is
 * left per lane, in whole RANGE_BLOCKs), so the channels finish close together instead of one
 * carrying a large last range alone; ranges handed back (their connection was cut, their digest
 * did not match) go out again first. A whole share, not less: each range costs the instance a dd
 * and a hash process of its own, and the shares still shrink by a lane's part at every take.
 */
export class RangeQueue {
  private next = 0
  private readonly again: Range[] = []

  constructor(
    readonly size: number,
    private readonly lanes: number
  ) {}

  take(): Range | undefined {
    const back = this.again.shift()
    if (back) return back
    const remaining = this.size - this.next
    if (remaining <= 0) return undefined
    if (!isStriped(this)) {
      this.next = this.size
      return { offset: 0, length: this.size, failures: 0 }
    }
    const share = Math.ceil(remaining / this.lanes / RANGE_BLOCK) * RANGE_BLOCK
    let length = Math.min(MAX_RANGE, Math.max(MIN_RANGE, share))
    if (remaining - length < MIN_RANGE) length = remaining
    const range = { offset: this.next, length, failures: 0 }
    this.next += length
    return range
  }

  putBack(range: Range): void {
    this.again.push(range)
  }

  /** Nothing left to hand out (ranges out may still come back). */
  get empty(): boolean {
    return this.again.length === 0 && this.next >= this.size
  }
}
