import { randomBytes } from 'node:crypto'
import type { SshConnection } from '../ssh/connection.js'
import { CURRENT_LINK, RELEASES_DIR } from './layout.js'
import { runScriptOk, shellQuote } from './shell.js'

/**
 * Point `<root>/current` at `releases/<id>` in one rename: a new symlink is made under a temporary
 * name and renamed over `current` (GNU `mv -T`, BSD `mv -h`), so `current` never goes missing and
 * never points at anything but a whole release. The link is relative, so the tree can move.
 */
export async function switchCurrent(
  conn: SshConnection,
  root: string,
  id: string,
  expect?: { files: number; bytes: number }
): Promise<void> {
  const tmp = `.${CURRENT_LINK}.ec2-push-${randomBytes(6).toString('hex')}.tmp`
  const target = `${RELEASES_DIR}/${id}`
  const out = await runScriptOk(
    conn,
    `cd -- ${shellQuote(root)} || exit 1
[ -d ${shellQuote(target)} ] || { echo "release ${id} is missing" >&2; exit 1; }
${expect ? completenessCheck(target, expect) : ''}if [ -e ${CURRENT_LINK} ] && [ ! -L ${CURRENT_LINK} ]; then echo "current is not a symlink" >&2; exit 1; fi
ln -s -- ${shellQuote(target)} ${tmp} || exit 1
if ! mv -Tf -- ${tmp} ${CURRENT_LINK} 2>/dev/null && ! mv -hf -- ${tmp} ${CURRENT_LINK} 2>/dev/null; then
  rm -f -- ${tmp}; echo "mv cannot rename a symlink over current (needs GNU mv -T or BSD mv -h)" >&2; exit 1
fi
readlink ${CURRENT_LINK}
`,
    `Switching ${CURRENT_LINK} to ${id}`
  )
  if (out.trim() !== target)
    throw new Error(`after the switch, current points to '${out.trim()}', not ${target}`)
}

/**
 * In the same exec as the switch: the release must hold exactly the expected number of files and
 * bytes (our marker, manifest and temporaries aside), or current is left alone.
 */
function completenessCheck(target: string, expect: { files: number; bytes: number }): string {
  return `got=$(find ${shellQuote(target)} -type f ! -name '.ec2-push-*' ! -name '.*.ec2-push-*.tmp' -printf '%s\\n' | awk '{ n++; b += $1 } END { printf "%d %d", n, b }')
[ "$got" = "${expect.files} ${expect.bytes}" ] || { echo "the release is incomplete: $got files/bytes instead of ${expect.files} ${expect.bytes}" >&2; exit 1; }
`
}
