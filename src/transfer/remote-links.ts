import path from 'node:path'
import { UserError } from '../errors.js'
import type { FolderSurvey } from './folders.js'
import type { Sftp } from './sftp.js'

/**
 * Symbolic links on the instance that would carry a deploy out of remote-path. A file is always
 * replaced by a rename, which replaces a link rather than following it; a folder on the way to a file
 * is followed. So each folder the upload writes into is resolved (SFTP realpath, all at once: one
 * round trip, folders.ts), and one that resolves outside remote-path is refused, naming the link and where it
 * points, unless follow-remote-symlinks says such links are meant (shared folders). With delete, a link
 * to another folder inside remote-path is refused too, whatever follow says: the listing shows the files
 * written through it under the folder it points to, where they are not in the set, and delete would
 * remove them again.
 */
export async function checkRemoteLinks(
  sftp: Sftp,
  survey: FolderSurvey,
  label: string,
  opts: { follow: boolean; deleting: boolean }
): Promise<void> {
  if (opts.follow && !opts.deleting) return
  const { root, rootReal } = survey
  if (rootReal === undefined) return // nothing there yet: no link either
  const resolved = [...survey.resolved].map(([rel, real]) => ({ rel, real }))
  const under = rootReal === '/' ? '/' : `${rootReal}/`
  const inside = (real: string) => real === rootReal || real.startsWith(under)
  // The shallowest folder that does not resolve to itself is the link (its parent did).
  const moved = resolved
    .filter(r => r.real !== path.posix.join(rootReal, r.rel))
    .filter(r => (inside(r.real) ? opts.deleting : !opts.follow))
    .sort((a, b) => a.rel.split('/').length - b.rel.split('/').length)[0]
  if (!moved) return
  const link = path.posix.join(root, moved.rel)
  const target = await sftp.readlink(link).catch(() => moved.real)
  if (inside(moved.real)) {
    const there = moved.real === rootReal ? '.' : moved.real.slice(under.length)
    throw new UserError(
      `'${link}' on ${label} is a symbolic link to '${target}', inside remote-path: with delete: true the files written through it would be listed under '${there}' and deleted as extras. Replace the link with a folder, or deploy without delete.`
    )
  }
  throw new UserError(
    `'${link}' on ${label} is a symbolic link to '${target}', outside remote-path: ec2-push does not write or delete through it. Replace the link with a folder, or set follow-remote-symlinks: true if it is a shared folder on purpose.`
  )
}
