import path from 'node:path'
import { errorMessage, UserError } from '../errors.js'
import { freeSpaceScript, parseFreeSpace, type FreeSpace } from '../remote/free-space.js'
import type { SshConnection } from '../ssh/connection.js'
import { execChannel } from '../ssh/exec.js'
import { NotAFolderError, SFTP_STATUS, type Sftp, type SftpStatusError } from './sftp.js'

/**
 * What a failed write on the instance means, decided where it happened. OpenSSH's sftp-server maps
 * only a few errno values to status codes (ENOENT and ENOTDIR to "no such file", EACCES and EPERM to
 * "permission denied") and everything else, full disks and read-only file systems included, to a bare
 * "Failure". So the instance is asked (lstat along the path, statvfs, `df -P`) and a failure that no
 * retry can change becomes a UserError naming the path, the login and what to fix; anything else is
 * handed back unchanged, to be retried.
 */

export interface FailedWrite {
  sftp: Sftp
  conn: SshConnection
  /** The file's final path on the instance. */
  final: string
  /** Its bytes (what the file system must have room for). */
  size: number
}

const ST_RDONLY = 1

export async function explainWriteFailure(err: unknown, w: FailedWrite): Promise<unknown> {
  if (err instanceof UserError || w.conn.isClosed) return err
  try {
    return (await diagnose(err, w)) ?? err
  } catch {
    return err // the diagnosis itself failed (the connection went): the original error stands
  }
}

async function diagnose(err: unknown, w: FailedWrite): Promise<Error | undefined> {
  const { conn, final } = w
  const where = `on ${conn.label}`
  const as = conn.user ? ` as '${conn.user}'` : ''
  const dir = path.posix.dirname(final)
  if (err instanceof NotAFolderError) return notAFolder(err.path, final, where)
  const code = (err as SftpStatusError).code
  if (code === SFTP_STATUS.PERMISSION_DENIED) {
    const who = conn.user ? `'${conn.user}'` : 'the login user'
    return new UserError(
      `Permission denied writing '${final}' ${where}${as}: give ${who} write access to '${dir}' (chown or chmod on the instance), or choose a remote-path ${who} can write.`
    )
  }
  if (code !== SFTP_STATUS.FAILURE && code !== SFTP_STATUS.NO_SUCH_FILE) return undefined

  const inTheWay = await folderInTheWay(w.sftp, final)
  if (inTheWay) return notAFolder(inTheWay, final, where)
  if (code === SFTP_STATUS.NO_SUCH_FILE) return undefined
  const st = await w.sftp.lstat(final).catch(() => undefined)
  if (st?.isDirectory()) {
    return new UserError(
      `'${final}' ${where} is a folder where a file of the same name goes: remove or rename that folder (or leave the file out of 'files'), then deploy again.`
    )
  }
  const fs = await statvfsNearest(w.sftp, dir)
  if (fs && Number(fs.f_flag) & ST_RDONLY) {
    return new UserError(
      `'${dir}' ${where} is on a read-only file system: remount it read-write, or choose a remote-path on a writable one.`
    )
  }
  const free = await freeSpace(conn, dir)
  const statFree = fs && Number(fs.f_bavail) * Number(fs.f_frsize)
  const available = free?.availableBytes ?? statFree
  const noInodes = fs !== undefined && Number(fs.f_favail) === 0
  if ((available !== undefined && available <= Math.max(w.size, 4096)) || noInodes) {
    const on = free ? `${free.filesystem} (mounted on ${free.mountpoint})` : `the file system of '${dir}'`
    const left = noInodes ? 'no free inodes' : `${bytes(available!)} free`
    const total = free ? ` of ${bytes(free.totalBytes)}` : ''
    return new UserError(
      `No space left ${where} writing '${final}' (${bytes(w.size)})${as}: ${on} has ${left}${total}. Free space there (or raise the disk quota${as ? ` of '${conn.user}'` : ''}), or choose a remote-path on another file system.`
    )
  }
  // Not one of the above: retried, but the last attempt's message says what was ruled out.
  const room = available !== undefined ? `${bytes(available)} free there` : 'free space unknown'
  return Object.assign(
    new Error(
      `the instance's SFTP server said "${errorMessage(err)}" writing it${as} (${room}; not a read-only file system or a folder in the way: a disk quota, or a file system error?)`
    ),
    { code }
  )
}

function notAFolder(file: string, final: string, where: string): UserError {
  return new UserError(
    `'${file}' ${where} is a file where a folder must be (to hold '${final}'): remove or rename it, or choose another remote-path.`
  )
}

/** The nearest ancestor of `p` that exists and is not a folder (ENOTDIR reaches SFTP as "no such file"). */
async function folderInTheWay(sftp: Sftp, p: string): Promise<string | undefined> {
  const ancestors: string[] = []
  for (let d = path.posix.dirname(p); d !== '/' && d !== '.'; d = path.posix.dirname(d)) ancestors.push(d)
  for (const d of ancestors) {
    const st = await sftp.stat(d).catch((e: SftpStatusError) => e)
    if (st instanceof Error) {
      if (st.code === SFTP_STATUS.NO_SUCH_FILE) continue
      return undefined
    }
    return st.isDirectory() ? undefined : d
  }
  return undefined
}

/** statvfs of `dir`, or of its nearest ancestor that exists (a folder not made yet). */
async function statvfsNearest(sftp: Sftp, dir: string) {
  for (let d = dir; ; d = path.posix.dirname(d)) {
    const fs = await sftp.statvfs(d).catch(() => null)
    if (fs !== null || d === '/' || d === '.') return fs ?? undefined
  }
}

/** `df -P` on the instance (which file system, what is free), or undefined when it cannot run there. */
async function freeSpace(conn: SshConnection, dir: string): Promise<FreeSpace | undefined> {
  try {
    const res = await execChannel(conn, freeSpaceScript(dir), { timeoutMs: 15000 })
    return res.code === 0 ? parseFreeSpace(res.stdout) : undefined
  } catch {
    return undefined
  }
}

function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}
