import { shellQuote } from './quote.js'
import { CURRENT_LINK, RELEASES_DIR, TEMP_PREFIX } from './names.js'

/**
 * Point `<root>/current` at `releases/<id>` in one rename: a new symlink is made under a temporary
 * name and renamed over `current` (GNU `mv -T`, BSD `mv -h`), so `current` never goes missing and
 * never points at anything but a whole release. The link is relative, so the tree can move.
 * `expect`: in the same exec, the release must hold exactly that many files and bytes (temporaries
 * aside; a release holds nothing of ec2-push's), or current is left alone. Prints where current points.
 */
export function switchCurrentScript(
  root: string,
  id: string,
  token: string,
  expect?: { files: number; bytes: number }
): string {
  const tmp = `${TEMP_PREFIX}${token}.current`
  const target = `${RELEASES_DIR}/${id}`
  const check = expect
    ? `got=$(find ${shellQuote(target)} -type f ! -name '${TEMP_PREFIX}*' -printf '%s\\n' | awk '{ n++; b += $1 } END { printf "%d %d", n, b }')
[ "$got" = "${expect.files} ${expect.bytes}" ] || { echo "the release is incomplete: $got files/bytes instead of ${expect.files} ${expect.bytes}" >&2; exit 1; }
`
    : ''
  // A subshell, so what follows in the same exec runs where the exec started.
  return `( cd -- ${shellQuote(root)} || exit 1
[ -d ${shellQuote(target)} ] || { echo "release ${id} is missing" >&2; exit 1; }
${check}if [ -e ${CURRENT_LINK} ] && [ ! -L ${CURRENT_LINK} ]; then echo "current is not a symlink" >&2; exit 1; fi
ln -s -- ${shellQuote(target)} ${tmp} || exit 1
if ! mv -Tf -- ${tmp} ${CURRENT_LINK} 2>/dev/null && ! mv -hf -- ${tmp} ${CURRENT_LINK} 2>/dev/null; then
  rm -f -- ${tmp}; echo "mv cannot rename a symlink over current (needs GNU mv -T or BSD mv -h)" >&2; exit 1
fi
readlink ${CURRENT_LINK} ) || exit 1
`
}
