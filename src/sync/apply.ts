import path from 'node:path'
import { deleteScript, isContained, linkScript } from '../remote/delete.js'
import { runScriptOk } from '../ssh/run-script.js'
import type { SshConnection } from '../ssh/connection.js'
import type { ProtectMatcher } from './protect.js'

/** Deleting extras and reusing unchanged files (the scripts are in remote/delete.ts). */

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
  await runScriptOk(conn, deleteScript(root, safe, deepestFirst), 'Deleting files no longer in the set')
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
  await runScriptOk(conn, linkScript(fromDir, toDir, safe), 'Reusing unchanged files of the previous release')
}
