import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import { realpathSync, statSync, type Stats } from 'node:fs'
import path from 'node:path'
import { isUtf8 } from './utf8-names.js'

/**
 * Every file under one folder, listed as @actions/glob lists the pattern `dir` or `dir/**` with the
 * options planFiles gives it (links followed, broken ones and link cycles left out, hidden names
 * left out unless asked), in one readdir walk: the glob asks for a stat of every entry through the
 * thread pool and matches every path against its patterns, which on thousands of small files was
 * the largest part of planning. Here a regular file costs one synchronous stat (its size and mode,
 * needed anyway) and only links are asked where they lead.
 */

export interface TreeFile {
  localPath: string
  stats: Stats
}

export interface Tree {
  files: TreeFile[]
  /** Links that lead nowhere (skipped; the glob drops them in silence). */
  brokenLinks: string[]
  /** The first name that is not valid UTF-8, as bytes (the walk stops there). */
  notUtf8?: Buffer
}

/**
 * The folder a file pattern lists whole: a single line, not negated, that is an absolute, normalised
 * path with no wildcard, escape or character set, alone or followed by `/**` (the glob's search path
 * is then that path, and everything under it matches). Anything else goes to the glob.
 */
export function wholeTreeOf(lines: string[]): string | undefined {
  if (path.sep !== '/' || lines.length !== 1) return undefined
  const [line] = lines
  const root = line.endsWith('/**') ? line.slice(0, -3) : line
  if (!path.isAbsolute(root) || root.endsWith('/') || /[*?[\]\\]/.test(root)) return undefined
  return path.posix.normalize(root) === root ? root : undefined
}

/** Statistics of a path, following links; undefined when nothing is there (a broken link). */
function statOrNothing(p: string): Stats | undefined {
  return statSync(p, { throwIfNoEntry: false })
}

/**
 * The walk; `onFile` hears of each file as it is found. Errors the glob would raise (a folder that
 * cannot be read, a link loop) are raised the same way; a file gone between the listing and its
 * stat is left out, as the glob leaves it out.
 */
export async function walkTree(
  root: string,
  includeHidden: boolean,
  onFile?: (stats: Stats) => void
): Promise<Tree> {
  const tree: Tree = { files: [], brokenLinks: [] }
  const found = (file: TreeFile) => {
    tree.files.push(file)
    onFile?.(file.stats)
  }
  const rootLink = await lstat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (!rootLink) return tree
  const rootStats = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (!rootStats) {
    tree.brokenLinks.push(root)
    return tree
  }
  if (!includeHidden && path.basename(root).startsWith('.')) return tree
  if (!rootStats.isDirectory()) {
    if (rootStats.isFile()) found({ localPath: root, stats: rootStats })
    return tree
  }
  const slash = Buffer.from('/')
  /** The real paths of the folders above (and including) the one being read: a link back into one is a cycle. */
  const chain: string[] = []
  const walk = async (dir: string, real: string): Promise<void> => {
    chain.push(real)
    const dirBytes = Buffer.from(dir)
    const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' })
    for (const entry of entries) {
      const bytes = entry.name as unknown as Buffer
      if (!includeHidden && bytes[0] === 0x2e) continue
      if (!isUtf8(bytes)) {
        tree.notUtf8 = Buffer.concat([dirBytes, slash, bytes])
        return
      }
      const name = bytes.toString('utf8')
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`
      if (entry.isFile()) {
        const stats = statOrNothing(p)
        if (stats?.isFile()) found({ localPath: p, stats })
      } else if (entry.isDirectory()) {
        // A folder that is not a link is where its parent's real path says it is.
        const childReal = real === '/' ? `/${name}` : `${real}/${name}`
        if (!chain.includes(childReal)) await walk(p, childReal)
      } else if (entry.isSymbolicLink()) {
        const stats = statOrNothing(p)
        if (!stats) tree.brokenLinks.push(p)
        else if (stats.isDirectory()) {
          const childReal = realpathSync(p)
          if (!chain.includes(childReal)) await walk(p, childReal)
        } else if (stats.isFile()) found({ localPath: p, stats })
      }
      if (tree.notUtf8) return
    }
    chain.pop()
  }
  await walk(root, await realpath(root))
  return tree
}
