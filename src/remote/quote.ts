/**
 * Quoting for the scripts rendered in this folder: every name that goes into an instance-side
 * script goes through one of these, so no byte of a name is ever read as shell syntax
 * (docs/remote-protocol.md, "Names in scripts").
 */

/** Quote one argument for a POSIX shell: everything inside single quotes, `'` as `'\''`. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * `printf '%s\0' 'a' 'b' ...`: a NUL-separated list for `xargs -0`, with no argv limit (printf is
 * a builtin), in groups of 500 so no single command line grows without bound.
 */
export function nulList(paths: string[]): string {
  if (paths.length === 0) return 'printf ""'
  const lines: string[] = []
  for (let i = 0; i < paths.length; i += 500) {
    lines.push(
      `printf '%s\\0' ${paths
        .slice(i, i + 500)
        .map(shellQuote)
        .join(' ')}`
    )
  }
  return `{ ${lines.join('; ')}; }`
}
