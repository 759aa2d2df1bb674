/**
 * `protect` patterns, relative to remote-path: `*` and `?` stay inside one folder name, `**` spans
 * folders, a pattern without `/` matches a name at any depth (as in .gitignore), and a pattern
 * that matches a folder protects everything under it.
 */
export type ProtectMatcher = (relativePath: string) => boolean

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') {
          i++
          re += '(?:.*/)?'
        } else re += '.*'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 's')
}

export function protectMatcher(patterns: string[]): ProtectMatcher {
  const regexps = patterns
    .map(p => p.trim().replace(/^\.\//, '').replace(/\/+$/, ''))
    .filter(Boolean)
    .map(p => (p.includes('/') ? globToRegExp(p.replace(/^\//, '')) : globToRegExp(`**/${p}`)))
  if (regexps.length === 0) return () => false
  return rel => {
    const parts = rel.split('/')
    // The path itself or any folder above it.
    for (let n = parts.length; n > 0; n--) {
      const prefix = parts.slice(0, n).join('/')
      if (regexps.some(r => r.test(prefix))) return true
    }
    return false
  }
}
