import { randomBytes } from 'node:crypto'
import path from 'node:path'

/**
 * The names ec2-push reserves on the instance, in one place (docs/remote-protocol.md, "Reserved
 * names"): what the listing hides, what `delete` never removes and what the scripts here write.
 * Everything of ec2-push's lives in one metadata folder beside the user's files and releases,
 * never inside a release: Everything of its own lives in one metadata
 *
 *   <remote-path>/.ec2-push/lock/owner          the deploy lock (a mkdir lock) and who holds it
 *   <remote-path>/.ec2-push/manifest            the sync manifest of an in-place deploy
 *   <remote-path>/.ec2-push/manifests/<id>      the sync manifest of release <id>
 *   <remote-path>/.ec2-push/s3-manifest         sha256 TAB path of what `delivery: s3` last published
 *   <remote-path>/.ec2-push/releases/<id>       the marker of release <id> (seq, time, run)
 *   <remote-path>/.ec2-push/log                 one line per event: <id> TAB live|failed|rolled-back TAB <time> TAB <run>
 *   <remote-path>/releases/<id>/                a release: the user's files and nothing else
 *   <remote-path>/current -> releases/<id>      switched by one rename
 *
 * Temporaries sit beside their final path as `.ec2-push-tmp.<run token>.<n>`, so the deploy that
 * made them can remove exactly its own, and the next deploy can sweep those of runs that are gone.
 * A pack's files are extracted into a folder of that form instead (`.ec2-push-tmp.<run token>.s<n>`,
 * a stage: remote/pack.ts), under their own names, so that one `mv` publishes a folder's worth.
 */

export const META_DIR = '.ec2-push'
export const RELEASES_DIR = 'releases'
export const CURRENT_LINK = 'current'
export const TEMP_PREFIX = '.ec2-push-tmp.'
/** `delivery: s3`'s own reuse manifest in META_DIR (push's sealed manifest is another format). */
export const S3_MANIFEST = 's3-manifest'

/** Layouts written by earlier versions, recognised when met on an instance. */
export const OLD_LOCK = '.ec2-push.lock'
export const OLD_RELEASE_MARKER = '.ec2-push-release'

/** Release ids: a safe single folder name. */
export const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

export function metaPath(root: string, ...parts: string[]): string {
  return path.posix.join(root, META_DIR, ...parts)
}

export function lockPath(root: string): string {
  return metaPath(root, 'lock')
}

export function releaseDir(root: string, id: string): string {
  return path.posix.join(root, RELEASES_DIR, id)
}

export function currentPath(root: string): string {
  return path.posix.join(root, CURRENT_LINK)
}

export function markerPath(root: string, id: string): string {
  return metaPath(root, 'releases', id)
}

export function releaseLogPath(root: string): string {
  return metaPath(root, 'log')
}

/** The sync manifest of `root` deployed in place, or of release `id`. */
export function manifestPath(root: string, id?: string): string {
  return id === undefined ? metaPath(root, 'manifest') : metaPath(root, 'manifests', id)
}

/** The same manifest named from inside the folder it describes (scripts that `cd` there read it so). */
export function manifestFromDir(id?: string): string {
  return id === undefined
    ? path.posix.join(META_DIR, 'manifest')
    : path.posix.join('..', '..', META_DIR, 'manifests', id)
}

/** A temporary's name for this run: the token says whose it is. */
export function tempName(token: string, n: string): string {
  return `${TEMP_PREFIX}${token}.${n}`
}

/**
 * This run's token: random per process, so two runs never pick the same name. Every temporary the
 * run makes carries it, so the run (or the action's post step after it) removes exactly its own,
 * and the next deploy knows the rest are orphans.
 */
export const RUN_TOKEN = randomBytes(6).toString('hex')
let tempCounter = 0

/**
 * A temporary name beside the final one, so the rename that publishes it stays on one file system:
 * `.ec2-push-tmp.<run token>.<n>`, hidden, short for any NAME_MAX, and no user name in it.
 */
export function tempPathFor(finalPath: string): string {
  return path.posix.join(path.posix.dirname(finalPath), tempName(RUN_TOKEN, (tempCounter++).toString(16)))
}

/** Whether a file name (no folder) is one of our temporaries (any run's). */
export function isTempName(base: string): boolean {
  return base.startsWith(TEMP_PREFIX)
}

/** A pack's stage folder: one name length for every `n` (the pack's members are sized by it). */
export function stageName(token: string, n: number): string {
  return tempName(token, `s${n.toString(16).padStart(6, '0')}`)
}

/** Whether a temporary's path is a stage folder (removed with rmdir once its files are gone). */
export function isStagePath(p: string): boolean {
  return /(^|\/)\.ec2-push-tmp\.[^/]*\.s[0-9a-f]{6}$/.test(p)
}

/**
 * Is this relative path (as a listing of a deployed folder names it) ec2-push's own, not the user's?
 * The metadata folder, temporaries and what is in a stage; user files named `.ec2-push*` otherwise
 * are the user's.
 */
export function isOwnFile(rel: string): boolean {
  if (rel === META_DIR || rel.startsWith(`${META_DIR}/`)) return true
  return rel.split('/').some(isTempName)
}
