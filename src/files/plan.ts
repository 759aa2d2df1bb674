import type { Globber } from '@actions/glob'
import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import { statSync } from 'node:fs'
import path from 'node:path'
import { walkTree, wholeTreeOf, type TreeFile } from './tree.js'
import { escapeName, isUtf8 } from './utf8-names.js'
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
  /** Told of each file's size as it is found (the walk of a whole folder tells as it goes). */
  onFile?: (size: number) => void
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
  // The lines as the glob reads them: trimmed, no blank lines or comments.
  const lines = patterns
    .join('\n')
    .split('\n')
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'))
  const whole = wholeTreeOf(lines)
  let searchPaths: string[]
  let found: TreeFile[]
  if (whole) {
    searchPaths = [whole]
    found = await listTree(whole, opts.includeHiddenFiles, logger, opts.onFile)
  } else {
    // Loaded only here: @actions/glob brings @actions/core and its HTTP client (undici) with it,
    // a fifth of a second of start-up that a whole folder does not need.
    const glob = await import('@actions/glob')
    const globber = await glob.create(patterns.join('\n'), {
      followSymbolicLinks: true,
      implicitDescendants: true,
      matchDirectories: false,
      omitBrokenSymbolicLinks: true,
      excludeHiddenFiles: !opts.includeHiddenFiles
    })
    searchPaths = globber.getSearchPaths()
    found = await listMatches(globber, patterns, opts.includeHiddenFiles, logger)
    for (const f of found) if (f.stats.isFile()) opts.onFile?.(f.stats.size)
  }

  let root: string
  if (opts.baseDir) root = path.resolve(cwd, opts.baseDir)
  else if (searchPaths.length > 1) root = commonAncestor(searchPaths)
  else if (found.length === 1 && searchPaths[0] === found[0].localPath)
    root = path.dirname(found[0].localPath)
  else root = searchPaths[0] ?? cwd

  const files: PlannedFile[] = []
  const seenLower = new Map<string, string>()
  found.sort((a, b) => (a.localPath < b.localPath ? -1 : a.localPath > b.localPath ? 1 : 0))
  const under = root.endsWith(path.sep) ? root : root + path.sep
  for (const { localPath, stats: st } of found) {
    if (!st.isFile()) continue
    const rel = localPath.startsWith(under) ? localPath.slice(under.length) : path.relative(root, localPath)
    // `..hidden` and `...` are names inside the root; only a whole `..` segment climbs out of it.
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      throw new UserError(
        `File '${localPath}' is outside base-dir '${root}': widen 'base-dir' or narrow 'files'.`
      )
    }
    const relativePath = path.sep === '/' ? rel : rel.split(path.sep).join('/')
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

function notUtf8Error(name: Buffer): UserError {
  return new UserError(
    `Local file name '${escapeName(name)}' is not valid UTF-8 (shown with \\x escapes), and ec2-push names files on the instance in UTF-8: rename it (convmv -f latin1 -t utf-8 converts a tree), or move it out of 'files'.`
  )
}

/** A whole folder (tree.ts): the files with their statistics, broken links named. */
async function listTree(
  root: string,
  includeHidden: boolean,
  logger: Logger,
  onFile?: (size: number) => void
): Promise<TreeFile[]> {
  const tree = await walkTree(root, includeHidden, onFile && (st => onFile(st.size)))
  if (tree.notUtf8) throw notUtf8Error(tree.notUtf8)
  for (const p of tree.brokenLinks) logger.warning(`Skipping broken symbolic link '${p}'.`)
  return tree.files
}

/** Any other patterns: the glob's matches, each given its statistics. */
async function listMatches(
  globber: Globber,
  patterns: string[],
  includeHidden: boolean,
  logger: Logger
): Promise<TreeFile[]> {
  const matches: string[] = []
  for await (const p of globber.globGenerator()) matches.push(p)
  const walked = await walkSearchPaths(globber.getSearchPaths(), includeHidden)
  if (walked.notUtf8) throw notUtf8Error(walked.notUtf8)
  if (walked.brokenLink) await warnAboutBrokenLinks(patterns, includeHidden, new Set(matches), logger)
  // Synchronous: the glob has just read these very entries, so they are in the page cache, and
  // one statSync (microseconds) beats a thread-pool round trip per file.
  return matches.map(localPath => ({ localPath, stats: statSync(localPath) }))
}

/**
 * One readdir walk (no stat per file) over the search paths, for what @actions/glob passes over in
 * silence: a broken symbolic link (then a second, non-following glob pass names each), and a name that
 * is not valid UTF-8 (the glob decodes names to strings, the path no longer names the file, and it is
 * dropped). Names are read as bytes so the first such name can be shown exactly.
 */
async function walkSearchPaths(
  roots: string[],
  includeHidden: boolean
): Promise<{ brokenLink: boolean; notUtf8?: Buffer }> {
  const seen = new Set<string>()
  const found: { brokenLink: boolean; notUtf8?: Buffer } = { brokenLink: false }
  const walk = async (dir: Buffer): Promise<void> => {
    const real = await realpath(dir).catch(() => dir.toString('latin1'))
    if (seen.has(real)) return
    seen.add(real)
    const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' }).catch(() => [])
    for (const e of entries) {
      const name = e.name as unknown as Buffer
      if (!includeHidden && name[0] === 0x2e) continue
      const p = Buffer.concat([dir, Buffer.from(path.sep), name])
      if (!found.notUtf8 && !isUtf8(name)) found.notUtf8 = p
      if (e.isDirectory()) await walk(p)
      else if (e.isSymbolicLink()) {
        const target = await stat(p).catch(() => undefined)
        if (!target) found.brokenLink = true
        else if (target.isDirectory()) await walk(p)
      }
      if (found.notUtf8) return
    }
  }
  for (const root of roots) {
    const st = await lstat(root).catch(() => undefined)
    if (st?.isSymbolicLink() && !(await stat(root).catch(() => undefined))) found.brokenLink = true
    if (st) await walk(Buffer.from(root))
    if (found.notUtf8) break
  }
  return found
}

/** @actions/glob drops broken symlinks silently; find them with a non-following pass and say so. */
async function warnAboutBrokenLinks(
  patterns: string[],
  includeHidden: boolean,
  kept: Set<string>,
  logger: Logger
) {
  const glob = await import('@actions/glob')
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
