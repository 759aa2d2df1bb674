import { randomBytes } from 'node:crypto'
import type { SshConnection } from '../ssh/connection.js'
import { CURRENT_LINK, RELEASES_DIR } from './layout.js'
import { runScriptOk, shellQuote } from './shell.js'

/**
 * Point `<root>/current` at `releases/<id>` in one rename: a new symlink is made under a temporary
 * name and renamed over `current` (GNU `mv -T`, BSD `mv -h`), so `current` never goes missing and
 * never points at anything but a whole release. The link is relative, so the tree can move.
 */
export async function switchCurrent(conn: SshConnection, root: string, id: string): Promise<void> {
  const tmp = `.${CURRENT_LINK}.ec2-push-${randomBytes(6).toString('hex')}.tmp`
  const target = `${RELEASES_DIR}/${id}`
  const out = await runScriptOk(
    conn,
    `cd -- ${shellQuote(root)} || exit 1
[ -d ${shellQuote(target)} ] || { echo "release ${id} is missing" >&2; exit 1; }
if [ -e ${CURRENT_LINK} ] && [ ! -L ${CURRENT_LINK} ]; then echo "current is not a symlink" >&2; exit 1; fi
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
