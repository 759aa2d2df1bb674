import { shellQuote } from './quote.js'
import {
  CURRENT_LINK,
  metaPath,
  OLD_RELEASE_MARKER,
  RELEASE_ID,
  releaseLogPath,
  RELEASES_DIR,
  TEMP_PREFIX
} from './names.js'

/**
 * The release history's scripts (pure: they render sh) and what their output means. A release is
 * ours when `.ec2-push/releases/<id>` marks it (or, from older versions, `releases/<id>/.ec2-push-release`);
 * the release log says how each one ended.
 */

export type ReleaseOutcome = 'live' | 'failed' | 'rolled-back'

export interface ReleaseInfo {
  id: string
  /** Order of creation on this instance (1 + the highest before it, taken under the lock). */
  seq: number
  created?: string
  /** The last event the release log has for it (none: made by an older version, or unfinished). */
  outcome?: ReleaseOutcome
  /** Marked the old way, inside the release folder. */
  old?: boolean
}

export interface ReleaseState {
  /** Releases this action created, oldest first. */
  releases: ReleaseInfo[]
  /** What `current` is: our symlink, absent, or something else (a folder, a foreign link). */
  current: { kind: 'release'; id: string } | { kind: 'missing' } | { kind: 'other'; detail: string }
}

/** Read the markers, the log and where `current` points (a subshell: it can follow other commands). */
export function releaseStateScript(root: string): string {
  return `( cd -- ${shellQuote(root)} 2>/dev/null || exit 0
if [ -L ${CURRENT_LINK} ]; then printf 'link\\t%s\\n' "$(readlink ${CURRENT_LINK})"
elif [ -e ${CURRENT_LINK} ]; then printf 'other\\t\\n'; fi
for d in ${RELEASES_DIR}/*/; do
  n=\${d#${RELEASES_DIR}/}; n=\${n%/}
  if [ -f ".ec2-push/releases/$n" ]; then m=".ec2-push/releases/$n"
  elif [ -f "$d${OLD_RELEASE_MARKER}" ]; then m="$d${OLD_RELEASE_MARKER}"
  else continue; fi
  printf 'release\\t%s\\t%s\\n' "$n" "$(tr '\\n\\t' '  ' < "$m")"
done
[ -f .ec2-push/log ] && awk '{ print "event\\t" $0 }' .ec2-push/log
exit 0 )
`
}

export function parseReleaseState(out: string): ReleaseState {
  const byId = new Map<string, ReleaseInfo>()
  const outcomes = new Map<string, ReleaseOutcome>()
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
      byId.set(a, {
        id: a,
        seq: Number.isFinite(seq) ? seq : 0,
        created: fields.created,
        old: fields.v !== '2'
      })
    } else if (kind === 'event') {
      const [id, outcome] = [a, b]
      if (outcome === 'live' || outcome === 'failed' || outcome === 'rolled-back') outcomes.set(id, outcome)
    } else if (kind === 'link') {
      const m = /^(?:\.\/)?releases\/([^/]+)\/?$/.exec(a ?? '')
      current = m ? { kind: 'release', id: m[1] } : { kind: 'other', detail: `a symlink to '${a}'` }
    } else if (kind === 'other') {
      current = { kind: 'other', detail: 'not a symlink (a folder or file)' }
    }
  }
  const releases = [...byId.values()].map(r => ({ ...r, outcome: outcomes.get(r.id) }))
  releases.sort((x, y) => x.seq - y.seq || x.id.localeCompare(y.id))
  if (current.kind === 'release' && !byId.has(current.id)) {
    const id = current.id
    current = {
      kind: 'other',
      detail: `a symlink to releases/${id}, which ec2-push did not make (no marker)`
    }
  }
  return { releases, current }
}

/** A release that went live and did not fail; releases of older versions (no log) count as good. */
export function isGood(r: ReleaseInfo): boolean {
  return r.outcome === 'live' || (r.outcome === undefined && !!r.old)
}

/** rollback: true — the newest good release older than `current`. */
export function rollbackTarget(state: ReleaseState, current: string): ReleaseInfo | undefined {
  const cur = state.releases.find(r => r.id === current)
  if (!cur) return undefined
  return [...state.releases].reverse().find(r => r.seq < cur.seq && r.id !== current && isGood(r))
}

/**
 * Create `releases/<id>` and its marker. A leftover folder of the same id is replaced only when
 * it is marked as ours (a failed earlier attempt); anything else there is refused (FOREIGN). `then`
 * runs in the same exec afterwards; its output follows CREATED.
 */
export function createReleaseScript(root: string, id: string, seq: number, run: string, then = ''): string {
  const rel = shellQuote(`${RELEASES_DIR}/${id}`)
  const marker = shellQuote(`.ec2-push/releases/${id}`)
  const oldMarker = shellQuote(`${RELEASES_DIR}/${id}/${OLD_RELEASE_MARKER}`)
  // A subshell, so `then` runs where the exec started (its paths are relative to there).
  return `( mkdir -p -- ${shellQuote(root)} && cd -- ${shellQuote(root)} && mkdir -p ${RELEASES_DIR} .ec2-push/releases || exit 1
if [ -e ${rel} ] || [ -L ${rel} ]; then
  if { [ -f ${marker} ] || [ -f ${oldMarker} ]; } && [ ! -L ${rel} ]; then rm -rf -- ${rel} || exit 1
  else echo FOREIGN; exit 0; fi
fi
printf 'v=2 seq=%s created=%s run=%s\\n' ${seq} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${shellQuote(run)} > ${marker} || exit 1
mkdir -- ${rel} || exit 1
echo CREATED ) || exit 1
${then}`
}

/**
 * Remove releases (their folder, marker and manifest), each only if it is marked as ours and not a
 * symlink, and forget them in the log. A subshell: it can follow other commands.
 */
export function removeReleasesScript(root: string, ids: string[]): string {
  const safe = ids.filter(id => RELEASE_ID.test(id))
  if (safe.length === 0) return ':\n'
  const lines = safe.map(id => {
    const rel = shellQuote(`${RELEASES_DIR}/${id}`)
    return `if { [ -f ${shellQuote(`.ec2-push/releases/${id}`)} ] || [ -f ${shellQuote(`${RELEASES_DIR}/${id}/${OLD_RELEASE_MARKER}`)} ]; } && [ ! -L ${rel} ]; then rm -rf -- ${rel} && rm -f -- ${shellQuote(`.ec2-push/releases/${id}`)} ${shellQuote(`.ec2-push/manifests/${id}`)}; fi`
  })
  return `( cd -- ${shellQuote(root)} || exit 1
${lines.join('\n')}
if [ -f .ec2-push/log ]; then
  awk -F '\t' ${shellQuote(`BEGIN { split("${safe.join(' ')}", d, " "); for (i in d) gone[d[i]] = 1 } !($1 in gone)`)} .ec2-push/log > .ec2-push/${TEMP_PREFIX}log && mv -f -- .ec2-push/${TEMP_PREFIX}log .ec2-push/log
fi
)
`
}

/** Append events to the release log (a fragment; the log is only written under the lock). */
export function logReleaseScript(
  root: string,
  events: { id: string; outcome: ReleaseOutcome }[],
  run: string
): string {
  const lines = events
    .filter(e => RELEASE_ID.test(e.id))
    .map(
      e =>
        `printf '%s\\t%s\\t%s\\t%s\\n' ${e.id} ${e.outcome} "$T" ${shellQuote(run)} >> ${shellQuote(releaseLogPath(root))}`
    )
  if (lines.length === 0) return ':\n'
  return `( mkdir -p -- ${shellQuote(metaPath(root))} && T=$(date -u +%Y-%m-%dT%H:%M:%SZ) && ${lines.join(' && ')} ) || echo "could not write the release log" >&2
`
}

/** How a run names itself in the release records: repo#run.attempt, or 'local'. */
export function runLabel(env: NodeJS.ProcessEnv = process.env): string {
  const repo = env.GITHUB_REPOSITORY
  const id = env.GITHUB_RUN_ID
  if (repo && id) return `${repo}#${id}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`
  return 'local'
}
