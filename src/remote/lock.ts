import { shellQuote } from './quote.js'
import { lockPath, metaPath, OLD_LOCK, TEMP_PREFIX } from './names.js'
import { readProbeLines, verifyProbeLines, type ProbeAnswer, type ProbeAsked } from './probes.js'
import path from 'node:path'

/**
 * The deploy lock's scripts (pure: they render sh). The lock is `mkdir <remote-path>/.ec2-push/lock`
 * (atomic on every POSIX file system) with an `owner` file saying who holds it. Taking it also
 * sweeps temporaries left by runs that are gone: whoever holds the lock is the only live deploy
 * there, so every temporary without the holder's token is an orphan.
 */

/** Who holds a lock; written into its `owner` file as `key=value` lines. */
export interface LockOwner {
  token: string
  /** GitHub repository, run id and attempt, runner name ('local' etc. outside Actions). */
  repo: string
  run: string
  attempt: string
  runner: string
  host: string
  pid: number
  /** The holder's own whole-step limit plus a margin, in seconds: past it, the lock may be broken. */
  ttl: number
}

/** Marks the end of the lock's own output, before the output of the script run with it. */
export const THEN_MARK = '--ec2-push-then--'
export const SHELL_MARK = 'ec2-push-shell'

/** A word safe to put in the owner file unquoted and to print back. */
export function safeWord(s: string): string {
  return (s || '-').replace(/[^A-Za-z0-9._#/:@-]/g, '_').slice(0, 200)
}

/** The owner file's lines (all but `since`, which the instance adds). */
export function ownerFields(owner: LockOwner): string {
  return `token=${safeWord(owner.token)}
repo=${safeWord(owner.repo)}
run=${safeWord(owner.run)}
attempt=${safeWord(owner.attempt)}
runner=${safeWord(owner.runner)}
host=${safeWord(owner.host)}
pid=${owner.pid}
ttl=${owner.ttl}`
}

/**
 * Take the lock, or print who holds it. After SHELL_MARK, with `probe`, the verification probe's lines
 * (remote/probes.ts, verifyProbeLines). On success: ACQUIRED, the sweep, THEN_MARK, then `then`'s output. When held:
 * HELD and `key=value` lines (path, now, dirtime, the owner's fields). A lock left by an older
 * ec2-push (`<remote-path>/.ec2-push.lock`) counts as held by its owner.
 */
export function acquireLockScript(root: string, owner: LockOwner, then = ':', probe?: ProbeAsked): string {
  const fields = ownerFields(owner)
  return `echo ${SHELL_MARK}
${probe ? `${verifyProbeLines(probe)}\n` : ''}L=${shellQuote(lockPath(root))}
O=${shellQuote(path.posix.join(root, OLD_LOCK))}
mkdir -p -- ${shellQuote(metaPath(root))} || exit 1
if [ ! -d "$O" ] && mkdir -- "$L" 2>/dev/null; then
  if ! { printf '%s\\n' ${shellQuote(fields)} && printf 'since=%s\\n' "$(date +%s)"; } > "$L/owner.tmp" || ! mv -f -- "$L/owner.tmp" "$L/owner"; then
    rm -rf -- "$L"; echo "cannot write the lock's owner file in $L" >&2; exit 1
  fi
  echo ACQUIRED
  ${sweepTempsScript(root, owner.token)}
  echo ${THEN_MARK}
  ${then}
else
  H=$L; [ -d "$O" ] && H=$O
  echo HELD
  printf 'path=%s\\n' "$H"
  echo "now=$(date +%s)"
  echo "dirtime=$(stat -c %Y -- "$H" 2>/dev/null || echo 0)"
  cat -- "$H/owner" 2>/dev/null
  exit 0
fi
`
}

/**
 * What acquireLockScript printed: whether a shell ran it at all (an SFTP-only account runs nothing),
 * the probe's verdict when it was asked, and the rest (ACQUIRED... or HELD...).
 */
export function readLockAnswer(
  stdout: string,
  probe?: ProbeAsked
): { shell: boolean; probe?: ProbeAnswer; rest: string } {
  if (!stdout.startsWith(`${SHELL_MARK}\n`)) return { shell: false, rest: stdout }
  const rest = stdout.slice(SHELL_MARK.length + 1)
  if (!probe) return { shell: true, rest }
  const { sha256sum, openssl, rest: after } = readProbeLines(rest, probe)
  return { shell: true, probe: { sha256sum, openssl }, rest: after }
}

/** find's tail for the temporaries it matched: a file, or a stage folder whole (not entered). */
const TEMP_TYPES = `\\( -type f -o -type d -prune \\) -exec rm -rf -- {} + 2>/dev/null`

/**
 * Remove temporaries under remote-path that are not this run's (links are not followed): files, and
 * packs' stage folders with what is in them. Runs only while the lock is held, so none of them can
 * belong to a live deploy.
 */
export function sweepTempsScript(root: string, token: string): string {
  return `( cd -- ${shellQuote(root)} 2>/dev/null && find . -name '${TEMP_PREFIX}*' ! -name '${TEMP_PREFIX}${safeWord(token)}.*' ${TEMP_TYPES} ); :`
}

/** Remove this run's own temporaries (the undo of an upload cut short). */
export function removeOwnTempsScript(root: string, token: string): string {
  return `( cd -- ${shellQuote(root)} 2>/dev/null && find . -name '${TEMP_PREFIX}${safeWord(token)}.*' ${TEMP_TYPES} ); :
`
}

/** Release the lock if it is still ours (a fragment that can end another script). */
export function releaseLockScript(root: string, token: string): string {
  return `( L=${shellQuote(lockPath(root))}
[ "$(sed -n 's/^token=//p' "$L/owner" 2>/dev/null)" = ${safeWord(token)} ] && rm -rf -- "$L" ); :
`
}

/**
 * Break a lock whose holder is gone, only if it still holds the token seen (a lock taken meanwhile
 * by someone else is left alone): it is renamed aside first, so two breakers cannot both win.
 */
export function breakLockScript(heldPath: string, staleToken: string, token: string): string {
  const aside = `${heldPath}.broken.${safeWord(token)}`
  // Without a token seen, the lock had no owner file (its taker was killed in between).
  const stillStale = staleToken
    ? `[ "$(sed -n 's/^token=//p' "$H/owner" 2>/dev/null)" = ${shellQuote(staleToken)} ]`
    : `[ ! -e "$H/owner" ]`
  return `H=${shellQuote(heldPath)}
if ${stillStale}; then
  mv -- "$H" ${shellQuote(aside)} && rm -rf -- ${shellQuote(aside)}
fi
:
`
}

/** The `key=value` lines of a HELD answer. */
export function parseFields(out: string): Record<string, string> {
  const f: Record<string, string> = {}
  for (const line of out.split('\n')) {
    const at = line.indexOf('=')
    if (at > 0) f[line.slice(0, at)] = line.slice(at + 1).trim()
  }
  return f
}

/** The nearest of `p` and its ancestors that exists and is not a folder (prints nothing if none). */
export function fileInTheWayScript(p: string): string {
  return `( p=${shellQuote(p)}
while [ -n "$p" ] && [ "$p" != / ] && [ "$p" != . ]; do
  if [ -e "$p" ] && [ ! -d "$p" ]; then printf '%s\\n' "$p"; exit 0; fi
  p=$(dirname -- "$p")
done ); :
`
}
