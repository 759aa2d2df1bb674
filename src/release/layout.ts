import path from 'node:path'
import { UserError } from '../errors.js'
import type { SshConnection } from '../ssh/connection.js'
import { runScriptOk, shellQuote } from './shell.js'

/** Names this action owns on the instance. Nothing without its marker is ever removed. */
export const RELEASE_MARKER = '.ec2-push-release'
export const MANIFEST_NAME = '.ec2-push-manifest'
export const LOCK_NAME = '.ec2-push.lock'
export const RELEASES_DIR = 'releases'
export const CURRENT_LINK = 'current'

const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

export interface ReleaseInfo {
  id: string
  /** Order of creation on this instance (1 + the highest before it, taken under the lock). */
  seq: number
  created?: string
}

export interface ReleaseState {
  /** Releases this action created, oldest first. */
  releases: ReleaseInfo[]
  /** What `current` is: our symlink, absent, or something else (a folder, a foreign link). */
  current: { kind: 'release'; id: string } | { kind: 'missing' } | { kind: 'other'; detail: string }
}

export function releaseDir(root: string, id: string): string {
  return path.posix.join(root, RELEASES_DIR, id)
}

export function currentPath(root: string): string {
  return path.posix.join(root, CURRENT_LINK)
}

/** Read the releases (their markers) and where `current` points, in one exec. */
export async function readReleaseState(conn: SshConnection, root: string): Promise<ReleaseState> {
  return parseReleaseState(await runScriptOk(conn, releaseStateScript(root), 'Reading the releases'))
}

/** The script behind readReleaseState (runs in a subshell, so it can follow other commands). */
export function releaseStateScript(root: string): string {
  return `( cd -- ${shellQuote(root)} 2>/dev/null || exit 0
if [ -L ${CURRENT_LINK} ]; then printf 'link\\t%s\\n' "$(readlink ${CURRENT_LINK})"
elif [ -e ${CURRENT_LINK} ]; then printf 'other\\t\\n'; fi
for d in ${RELEASES_DIR}/*/; do
  [ -f "$d${RELEASE_MARKER}" ] || continue
  n=\${d#${RELEASES_DIR}/}; n=\${n%/}
  printf 'release\\t%s\\t%s\\n' "$n" "$(tr '\\n\\t' '  ' < "$d${RELEASE_MARKER}")"
done )
`
}

export function parseReleaseState(out: string): ReleaseState {
  const releases: ReleaseInfo[] = []
  let current: ReleaseState['current'] = { kind: 'missing' }
  for (const line of out.split('\n')) {
    const [kind, a, b] = line.split('\t')
    if (kind === 'release' && RELEASE_ID.test(a)) {
      const fields = Object.fromEntries(
        (b ?? '')
          .split(' ')
          .filter(Boolean)
          .map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
      )
      const seq = Number(fields.seq)
      releases.push({ id: a, seq: Number.isFinite(seq) ? seq : 0, created: fields.created })
    } else if (kind === 'link') {
      const m = /^(?:\.\/)?releases\/([^/]+)\/?$/.exec(a ?? '')
      current = m ? { kind: 'release', id: m[1] } : { kind: 'other', detail: `a symlink to '${a}'` }
    } else if (kind === 'other') {
      current = { kind: 'other', detail: 'not a symlink (a folder or file)' }
    }
  }
  releases.sort((x, y) => x.seq - y.seq || x.id.localeCompare(y.id))
  if (current.kind === 'release' && !releases.some(r => r.id === (current as { id: string }).id)) {
    const id = current.id
    current = { kind: 'other', detail: `a symlink to releases/${id}, which has no ${RELEASE_MARKER} marker` }
  }
  return { releases, current }
}

/**
 * Create `releases/<id>` with its marker. A leftover folder of the same id is replaced only when
 * it carries our marker (a failed earlier attempt); anything else there is refused. `then` runs
 * in the same exec afterwards (its output is returned).
 */
export async function createRelease(
  conn: SshConnection,
  root: string,
  id: string,
  seq: number,
  run: string,
  then = ''
): Promise<string> {
  const rel = `${RELEASES_DIR}/${id}`
  const out = await runScriptOk(
    conn,
    `set -e
mkdir -p -- ${shellQuote(root)}
cd -- ${shellQuote(root)}
mkdir -p ${RELEASES_DIR}
if [ -e ${shellQuote(rel)} ] || [ -L ${shellQuote(rel)} ]; then
  if [ -f ${shellQuote(rel + '/' + RELEASE_MARKER)} ] && [ ! -L ${shellQuote(rel)} ]; then rm -rf -- ${shellQuote(rel)}
  else echo FOREIGN; exit 0; fi
fi
mkdir -- ${shellQuote(rel)}
printf 'seq=%s created=%s run=%s\\n' ${seq} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${shellQuote(run)} > ${shellQuote(rel + '/' + RELEASE_MARKER)}
echo CREATED
${then}`,
    'Creating the release folder'
  )
  if (out.includes('FOREIGN')) {
    throw new UserError(
      `${path.posix.join(root, rel)} exists and was not made by ec2-push (no ${RELEASE_MARKER}); move it away or choose another release-id.`
    )
  }
  return out.slice(out.indexOf('CREATED\n') + 'CREATED\n'.length)
}

/** Remove one of our release folders (re-checking its marker on the instance first). */
export async function removeRelease(conn: SshConnection, root: string, id: string): Promise<void> {
  await runScriptOk(conn, removeReleasesScript(root, [id]), `Removing release ${id}`)
}

/** Remove releases, each only if it still carries our marker and is not a symlink. */
export function removeReleasesScript(root: string, ids: string[]): string {
  const lines = ids
    .filter(id => RELEASE_ID.test(id))
    .map(id => {
      const rel = shellQuote(`${RELEASES_DIR}/${id}`)
      const marker = shellQuote(`${RELEASES_DIR}/${id}/${RELEASE_MARKER}`)
      return `if [ -f ${marker} ] && [ ! -L ${rel} ]; then rm -rf -- ${rel}; fi`
    })
  return `( cd -- ${shellQuote(root)} || exit 1
${lines.join('\n')}
)
`
}
