import path from 'node:path'
import { UserError } from '../errors.js'
import { SFTP_STATUS, type Sftp, type SftpStatusError } from './sftp.js'

/**
 * Symbolic links on the instance that would carry a deploy out of remote-path. A file is always
 * replaced by a rename, which replaces a link rather than following it; a folder on the way to a file
 * is followed. So each folder the upload writes into is resolved (SFTP realpath, all at once: one
 * round trip), and one that resolves outside remote-path is refused, naming the link and where it
 * points, unless follow-remote-symlinks says such links are meant (shared folders).
 */
export async function refuseLinksOutOfRoot(
  sftp: Sftp,
  root: string,
  folders: Iterable<string>,
  label: string
): Promise<void> {
  const rootReal = await sftp.realpath(root).catch((err: SftpStatusError) => {
    if (err.code === SFTP_STATUS.NO_SUCH_FILE) return undefined
    throw err
  })
  if (rootReal === undefined) return // nothing there yet: no link either
  const rels = [...new Set(folders)].filter(d => d !== '.' && d !== '')
  const resolved = await Promise.all(
    rels.map(rel =>
      sftp.realpath(path.posix.join(root, rel)).then(
        real => ({ rel, real }),
        (err: SftpStatusError) => {
          if (err.code === SFTP_STATUS.NO_SUCH_FILE) return { rel, real: undefined }
          throw err
        }
      )
    )
  )
  const inside = (real: string) =>
    real === rootReal || real.startsWith(rootReal === '/' ? '/' : `${rootReal}/`)
  const outside = resolved
    .filter((r): r is { rel: string; real: string } => r.real !== undefined && !inside(r.real))
    .sort((a, b) => a.rel.split('/').length - b.rel.split('/').length)[0]
  if (!outside) return
  const link = path.posix.join(root, outside.rel)
  const target = await sftp.readlink(link).catch(() => outside.real)
  throw new UserError(
    `'${link}' on ${label} is a symbolic link to '${target}', outside remote-path: ec2-push does not write or delete through it. Replace the link with a folder, or set follow-remote-symlinks: true if it is a shared folder on purpose.`
  )
}
