import { randomBytes } from 'node:crypto'
import path from 'node:path'

/**
 * The names ec2-push reserves on the instance (its bookkeeping and its temporaries), in one place:
 * what the listing hides, what `delete` never removes and what the scripts here write
 * (docs/remote-protocol.md, "Reserved names").
 */

/** The release folder's marker: nothing without it is ever removed as a release. */
export const RELEASE_MARKER = '.ec2-push-release'
/** The sync manifest, beside the files it describes. */
export const MANIFEST_NAME = '.ec2-push-manifest'
/** The deploy lock (a folder made with mkdir, holding an `owner` file). */
export const LOCK_NAME = '.ec2-push.lock'

/** Random per process, so two runs never pick the same name; a counter keeps names unique within one. */
const TEMP_PREFIX = randomBytes(6).toString('hex')
let tempCounter = 0

/**
 * A temporary name beside the final one, so the rename that publishes it stays on one file system.
 * Starts with a dot (hidden), says who made it, and is short enough for any NAME_MAX.
 */
export function tempPathFor(finalPath: string): string {
  const dir = path.posix.dirname(finalPath)
  const base = path.posix.basename(finalPath).slice(0, 60)
  return path.posix.join(dir, `.${base}.ec2-push-${TEMP_PREFIX}${(tempCounter++).toString(16)}.tmp`)
}

/** Whether a file name (no folder) is one of our temporaries, as tempPathFor makes them. */
export function isTempName(base: string): boolean {
  return /^\..*\.ec2-push-[0-9a-f]+\.tmp$/.test(base)
}

/** Our own bookkeeping files and temporaries, never part of a deploy's set nor deleted by `delete`. */
export function isOwnFile(rel: string): boolean {
  if (rel === MANIFEST_NAME || rel === RELEASE_MARKER || rel === LOCK_NAME || rel.startsWith(`${LOCK_NAME}/`))
    return true
  return isTempName(rel.slice(rel.lastIndexOf('/') + 1))
}
