import path from 'node:path'
import type { SurveyAnswer } from '../remote/folder-survey.js'
import { SFTP_STATUS, type Sftp, type SftpStatusError } from './sftp.js'

/**
 * The folders an upload writes into, asked about all at once: whether each is there (SFTP stat) and
 * where it leads (realpath), and whether remote-path and the folders above it are there. One round
 * trip whatever the number of folders; the link check (remote-links.ts) judges where they lead, and
 * the missing ones are made in front of the files (Sftp.mkdirAhead). Both questions are needed:
 * OpenSSH's realpath answers for a path whose last part is missing as if it were there.
 */

export interface FolderSurvey {
  root: string
  /** Where remote-path leads; undefined when it is missing. */
  rootReal?: string
  /** Each folder under remote-path (relative) that is there, and where it leads. */
  resolved: Map<string, string>
  /** Folders under remote-path (relative) that are missing. */
  missing: Set<string>
  /** The folders above remote-path (absolute, or relative to the login's home) that are missing. */
  missingAbove: Set<string>
}

/** Every folder above `dir`, nearest first, up to (not including) `/` or the home folder. */
function above(dir: string): string[] {
  const out: string[] = []
  for (let d = path.posix.dirname(dir); d !== '/' && d !== '.'; d = path.posix.dirname(d)) out.push(d)
  return out
}

/** Where a path leads, or undefined when it is missing; any other failure is the caller's. */
async function lookUp(sftp: Sftp, p: string, resolve: boolean): Promise<string | undefined> {
  const missing = (err: SftpStatusError) => {
    if (err.code === SFTP_STATUS.NO_SUCH_FILE) return undefined
    throw err
  }
  const [st, real] = await Promise.all([
    sftp.stat(p).catch(missing),
    resolve ? sftp.realpath(p).catch(missing) : p
  ])
  return st ? real : undefined
}

/** Ask about remote-path, the folders above it and `rels` (folders under it): one round trip. */
export async function surveyFolders(sftp: Sftp, root: string, rels: Iterable<string>): Promise<FolderSurvey> {
  const folders = [...new Set(rels)].filter(d => d !== '.' && d !== '')
  const ups = above(root)
  const [rootReal, upReal, real] = await Promise.all([
    lookUp(sftp, root, true),
    Promise.all(ups.map(d => lookUp(sftp, d, false))),
    Promise.all(folders.map(rel => lookUp(sftp, path.posix.join(root, rel), true)))
  ])
  const survey: FolderSurvey = {
    root,
    rootReal,
    resolved: new Map(),
    missing: new Set(),
    missingAbove: new Set(ups.filter((_, i) => upReal[i] === undefined))
  }
  folders.forEach((rel, i) => {
    const r = real[i]
    if (r === undefined) survey.missing.add(rel)
    else survey.resolved.set(rel, r)
  })
  return survey
}

/** The folders an upload of these files writes into, relative to remote-path. */
export function foldersUnder(relativePaths: Iterable<string>): Set<string> {
  const folders = new Set<string>()
  for (const rel of relativePaths) {
    for (let d = path.posix.dirname(rel); d !== '.' && !folders.has(d); d = path.posix.dirname(d))
      folders.add(d)
  }
  return folders
}

/**
 * The same questions asked by a script on the instance (remote/folder-survey.ts): the paths it
 * asks about, in order (remote-path, the folders above it, then `rels`), and the survey its
 * answers make.
 */
export function surveyPaths(root: string, rels: Iterable<string>): string[] {
  return [root, ...above(root), ...[...rels].map(rel => path.posix.join(root, rel))]
}

export function surveyFrom(
  root: string,
  rels: Iterable<string>,
  answers: SurveyAnswer[]
): FolderSurvey | undefined {
  const ups = above(root)
  const folders = [...rels]
  const rootReal = answers[0].kind === 'folder' ? answers[0].real : undefined
  if (answers[0].kind === 'as-named') return undefined
  const survey: FolderSurvey = {
    root,
    rootReal,
    resolved: new Map(),
    missing: new Set(),
    missingAbove: new Set(ups.filter((_, i) => answers[1 + i].kind === 'missing'))
  }
  for (const [i, rel] of folders.entries()) {
    const a = answers[1 + ups.length + i]
    if (a.kind === 'missing') survey.missing.add(rel)
    else if (a.kind === 'folder') survey.resolved.set(rel, a.real)
    // Under remote-path with no link on the way: where remote-path leads, then the folder's own path.
    else if (rootReal !== undefined) survey.resolved.set(rel, path.posix.join(rootReal, rel))
    else return undefined
  }
  return survey
}

/**
 * The part of `survey` (of remote-path `root`) about `rels`, or undefined when it does not answer
 * for every one of them.
 */
export function surveyFor(
  survey: FolderSurvey,
  root: string,
  rels: Iterable<string>
): FolderSurvey | undefined {
  if (survey.root !== root) return undefined
  const part: FolderSurvey = { ...survey, resolved: new Map(), missing: new Set() }
  for (const rel of rels) {
    const real = survey.resolved.get(rel)
    if (real !== undefined) part.resolved.set(rel, real)
    else if (survey.missing.has(rel)) part.missing.add(rel)
    else return undefined
  }
  return part
}

/**
 * What the survey says for the upload (absolute paths): the folders there already, and those to
 * make, parents before children.
 */
export function foldersOf(survey: FolderSurvey): { present: string[]; toMake: string[] } {
  const { root } = survey
  const toMake = [...survey.missingAbove].reverse()
  if (survey.rootReal === undefined) toMake.push(root)
  const rels = [...survey.missing].sort((a, b) => a.split('/').length - b.split('/').length)
  for (const rel of rels) toMake.push(path.posix.join(root, rel))
  const present = [...survey.resolved.keys()].map(rel => path.posix.join(root, rel))
  if (survey.rootReal !== undefined) present.push(root)
  return { present, toMake }
}
