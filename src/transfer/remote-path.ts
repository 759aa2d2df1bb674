import path from 'node:path'

/** Where a planned file goes on the instance. */
export function remoteFilePath(remoteRoot: string, relativePath: string): string {
  return path.posix.join(remoteRoot, relativePath)
}

/** For the modules that still import quoting from here (ssh/exec.ts, release/shell.ts): it lives in remote/quote.ts. */
export { shellQuote } from '../remote/quote.js'
