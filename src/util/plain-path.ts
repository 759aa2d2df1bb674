/** A part of a path that is empty, `.` or `..` (or a leading or trailing `/`, which make an empty part). */
const ODD_PART = /(?:^|\/)\.{0,2}(?:\/|$)/

/**
 * Whether `rel` is a relative path that path.posix.normalize leaves as it is and that climbs
 * nowhere: no empty, `.` or `..` part, no leading or trailing `/`. Planned files' paths are such;
 * the checks that need this run once a file, so a regular expression, not a split or a normalize.
 */
export function isPlainRelative(rel: string): boolean {
  return !ODD_PART.test(rel)
}
