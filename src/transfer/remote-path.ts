import path from 'node:path'
import { isPlainRelative } from '../util/plain-path.js'

/** The last root seen to be absolute and normalised, with no trailing `/` (a deploy has one or two). */
let plainRoot: string | undefined

/**
 * Where a planned file goes on the instance: path.posix.join's answer, by concatenation where both
 * parts are already normal (every file of a deploy asks, several times: join normalises each).
 */
export function remoteFilePath(remoteRoot: string, relativePath: string): string {
  if (remoteRoot !== plainRoot) {
    const plain =
      remoteRoot.startsWith('/') &&
      path.posix.normalize(remoteRoot) === remoteRoot &&
      (remoteRoot === '/' || !remoteRoot.endsWith('/'))
    if (!plain) return path.posix.join(remoteRoot, relativePath)
    plainRoot = remoteRoot
  }
  if (!isPlainRelative(relativePath)) return path.posix.join(remoteRoot, relativePath)
  return remoteRoot === '/' ? `/${relativePath}` : `${remoteRoot}/${relativePath}`
}
