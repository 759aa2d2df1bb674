import * as glob from '@actions/glob'
import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import { statSync } from 'node:fs'
import path from 'node:path'
import type { IfNoFilesFound } from '../config.js'
import { UserError } from '../errors.js'
import type { Logger } from '../log.js'

/** One local file to upload and where it goes, relative to remote-path. */
export interface PlannedFile {
  localPath: string
  /** POSIX path relative to the upload root (and to remote-path on the instance). */
  relativePath: string
  size: number
  /** Permission bits to keep on the instance (executables stay executable). */
  mode: number
}

export interface FilePlan {
  root: string
  files: PlannedFile[]
  totalBytes: number
}

export interface PlanOptions {
  patterns: string[]
  baseDir?: string
  includeHiddenFiles: boolean
  ifNoFilesFound: IfNoFilesFound
  logger: Logger
  cwd?: string
}

/** The deepest folder that contains every path (upload-artifact's rule for several search paths). */
export function commonAncestor(paths: string[]): string {
  const split = paths.map(p => path.resolve(p).split(path.sep))
  const first = split[0]
  let i = 0
  while (i < first.length && split.every(parts => parts[i] === first[i])) i++
  return first.slice(0, i).join(path.sep) || path.sep
}

/**
 * Match files the way actions/upload-artifact does: multi-line patterns, `!` excludes, hidden files
 * left out unless asked, symlinks followed (broken ones skipped with a warning), and the root is the
 * search path of a single pattern, the least common ancestor of several, or the parent of a single
 * literal file; `base-dir` overrides the root.
 */
export async function planFiles(opts: PlanOptions): Promise<FilePlan> {
  const { logger } = opts
  const cwd = opts.cwd ?? process.cwd()
  const patterns = opts.patterns.map(p => {
    const neg = p.startsWith('!')
    const body = neg ? p.slice(1) : p
    const abs = path.isAbsolute(body) || body.startsWith('~') ? body : path.join(cwd, body)
    return (neg ? '!' : '') + abs
  })
  const globber = await glob.create(patterns.join('\n'), {
    followSymbolicLinks: true,
    implicitDescendants: true,
    matchDirectories: false,
    omitBrokenSymbolicLinks: true,
    excludeHiddenFiles: !opts.includeHiddenFiles
  })
  const matches: string[] = []
  for await (const p of globber.globGenerator()) matches.push(p)
  const searchPaths = globber.getSearchPaths()
  if (await anyBrokenLink(searchPaths)) {
    await warnAboutBrokenLinks(patterns, opts.includeHiddenFiles, new Set(matches), logger)
  }

  let root: string
  if (opts.baseDir) root = path.resolve(cwd, opts.baseDir)
  else if (searchPaths.length > 1) root = commonAncestor(searchPaths)
  else if (matches.length === 1 && searchPaths[0] === matches[0]) root = path.dirname(matches[0])
  else root = searchPaths[0] ?? cwd

  const files: PlannedFile[] = []
  const seenLower = new Map<string, string>()
  matches.sort()
  for (const localPath of matches) {
    // Synchronous: the glob has just read these very entries, so they are in the page cache, and
    // one statSync (microseconds) beats a thread-pool round trip per file.
    const st = statSync(localPath)
    if (!st.isFile()) continue
    const rel = path.relative(root, localPath)
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new UserError(
        `File '${localPath}' is outside base-dir '${root}': widen 'base-dir' or narrow 'files'.`
      )
    }
    const relativePath = rel.split(path.sep).join('/')
    const lower = relativePath.toLowerCase()
    const clash = seenLower.get(lower)
    if (clash)
      logger.warning(
        `'${relativePath}' and '${clash}' differ only in case; they collide on case-insensitive file systems.`
      )
    seenLower.set(lower, relativePath)
    files.push({ localPath, relativePath, size: st.size, mode: st.mode & 0o7777 })
  }

  if (files.length === 0) {
    const msg = `No files matched 'files' (${opts.patterns.join(', ')}) under ${cwd}.`
    if (opts.ifNoFilesFound === 'error') {
      throw new UserError(`${msg} Check the patterns, or set if-no-files-found to warn or ignore.`)
    }
    if (opts.ifNoFilesFound === 'warn') logger.warning(`${msg} Nothing to upload.`)
    else logger.info(`${msg} Nothing to upload.`)
  }
  return { root, files, totalBytes: files.reduce((n, f) => n + f.size, 0) }
}

/**
 * Is there a broken symbolic link anywhere under these folders? A readdir walk (no stat per file) is
 * much cheaper than a second glob pass, which only runs when the answer is yes.
 */
async function anyBrokenLink(roots: string[]): Promise<boolean> {
  const seen = new Set<string>()
  const walk = async (dir: string): Promise<boolean> => {
    const real = await realpath(dir).catch(() => dir)
    if (seen.has(real)) return false
    seen.add(real)
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      const p = path.join(dir, e.name)
      if (e.isDirectory() && (await walk(p))) return true
      if (e.isSymbolicLink()) {
        const target = await stat(p).catch(() => undefined)
        if (!target) return true
        if (target.isDirectory() && (await walk(p))) return true
      }
    }
    return false
  }
  for (const root of roots) {
    const st = await lstat(root).catch(() => undefined)
    if (st?.isSymbolicLink() && !(await stat(root).catch(() => undefined))) return true
    if (st && (await walk(root))) return true
  }
  return false
}

/** @actions/glob drops broken symlinks silently; find them with a non-following pass and say so. */
async function warnAboutBrokenLinks(
  patterns: string[],
  includeHidden: boolean,
  kept: Set<string>,
  logger: Logger
) {
  const raw = await glob.create(patterns.join('\n'), {
    followSymbolicLinks: false,
    implicitDescendants: true,
    matchDirectories: false,
    excludeHiddenFiles: !includeHidden
  })
  for await (const p of raw.globGenerator()) {
    if (kept.has(p)) continue
    const l = await lstat(p).catch(() => undefined)
    if (!l?.isSymbolicLink()) continue
    const target = await stat(p).catch(() => undefined)
    if (!target) logger.warning(`Skipping broken symbolic link '${p}'.`)
  }
}
