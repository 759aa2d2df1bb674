import path from 'node:path'

/** Where a planned file goes on the instance. */
export function remoteFilePath(remoteRoot: string, relativePath: string): string {
  return path.posix.join(remoteRoot, relativePath)
}
