import { nulList, shellQuote } from './quote.js'

/**
 * Removing and reusing files on the instance by name (docs/remote-protocol.md, "Delete and
 * reuse"). Names go in NUL-separated through xargs, never through the shell's own parsing, and only
 * contained relative paths are ever rendered.
 */

/** A relative path that stays inside its folder (no absolute paths, no `..` parts, no empty parts). */
export function isContained(rel: string): boolean {
  if (!rel || rel.startsWith('/') || rel.includes('\0')) return false
  return rel.split('/').every(p => p !== '' && p !== '.' && p !== '..')
}

/**
 * Remove files (and symlinks, never followed) under `root`, then the folders `dirs` (deepest
 * first) where they are empty: `rmdir` refuses anything that is not. Prints nothing; exits 0 unless
 * `root` cannot be entered.
 */
export function deleteScript(root: string, rels: string[], dirs: string[]): string {
  const safe = rels.filter(isContained)
  const folders = dirs.filter(isContained)
  return `cd -- ${shellQuote(root)} || exit 1
${nulList(safe)} | xargs -0 rm -f --
${folders.length ? `${nulList(folders)} | xargs -0 rmdir -- 2>/dev/null` : ''}
exit 0
`
}

/**
 * Put these files of `fromDir` into `toDir` without uploading: hard links (`cp -l`, same inode,
 * no copy) when the file system allows, else a copy on the instance. Exits non-zero when neither
 * worked. The caller refuses paths that are not contained; this renders only contained ones.
 */
export function linkScript(fromDir: string, toDir: string, rels: string[]): string {
  const safe = rels.filter(isContained)
  return `T=$(cd -- ${shellQuote(toDir)} && pwd) || exit 1
cd -- ${shellQuote(fromDir)} || exit 1
if ! ${nulList(safe)} | xargs -0 cp -l --parents -t "$T" -- 2>/dev/null; then
  ${nulList(safe)} | xargs -0 cp -pf --parents -t "$T" -- || exit 1
fi
`
}
