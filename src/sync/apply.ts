import path from 'node:path'
import { nulList, runScriptOk, shellQuote } from '../release/shell.js'
import type { SshConnection } from '../ssh/connection.js'
import type { ProtectMatcher } from './protect.js'

/** A relative path that stays inside its folder (no absolute paths, no `..` parts, no empty parts). */
export function isContained(rel: string): boolean {
  if (!rel || rel.startsWith('/') || rel.includes('\0')) return false
  return rel.split('/').every(p => p !== '' && p !== '.' && p !== '..')
}

/** What `delete` would remove: extras that are contained and not protected. */
export function deletable(extras: string[], isProtected: ProtectMatcher): string[] {
  return extras.filter(rel => isContained(rel) && !isProtected(rel))
}

/**
 * Remove files (and symlinks, never followed) under `root`, then the folders they leave empty,
 * deepest first (`rmdir` refuses anything not empty, and protected folders are not tried).
 */
export async function deleteRemoteFiles(
  conn: SshConnection,
  root: string,
  rels: string[],
  isProtected: ProtectMatcher
): Promise<void> {
  const safe = rels.filter(isContained)
  if (safe.length === 0) return
  const dirs = new Set<string>()
  for (const rel of safe) {
    for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d))
      if (!isProtected(d)) dirs.add(d)
  }
  const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1))
  await runScriptOk(
    conn,
    `cd -- ${shellQuote(root)} || exit 1
${nulList(safe)} | xargs -0 rm -f --
${deepestFirst.length ? `${nulList(deepestFirst)} | xargs -0 rmdir -- 2>/dev/null` : ''}
exit 0
`,
    'Deleting files no longer in the set'
  )
}

/**
 * Put unchanged files of the previous release into the new one without uploading: hard links
 * (`cp -l`, same inode, no copy) when the file system allows, else a local copy on the instance.
 * Safe because a published file is never written in place, only replaced by a rename.
 */
export async function linkFromPrevious(
  conn: SshConnection,
  fromDir: string,
  toDir: string,
  rels: string[]
): Promise<void> {
  const safe = rels.filter(isContained)
  if (safe.length !== rels.length) throw new Error('refusing to link a path that leaves its folder')
  if (safe.length === 0) return
  await runScriptOk(
    conn,
    `T=$(cd -- ${shellQuote(toDir)} && pwd) || exit 1
cd -- ${shellQuote(fromDir)} || exit 1
if ! ${nulList(safe)} | xargs -0 cp -l --parents -t "$T" -- 2>/dev/null; then
  ${nulList(safe)} | xargs -0 cp -pf --parents -t "$T" -- || exit 1
fi
`,
    'Reusing unchanged files of the previous release'
  )
}
