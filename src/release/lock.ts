import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { UserError } from '../errors.js'
import type { SshConnection } from '../ssh/connection.js'
import { LOCK_NAME } from './layout.js'
import { runScript, runScriptOk, shellQuote } from './shell.js'

/**
 * A deploy lock on the instance: `mkdir <remote-path>/.ec2-push.lock` (atomic on every POSIX file
 * system) plus an `owner` file saying who holds it. A held lock refuses the deploy; a stale one
 * (past its owner's time limit, or its process gone on this very machine) is reported with the
 * command that removes it, never broken silently: only a person can know the other run is dead.
 */

export interface LockOwner {
  token: string
  run: string
  host: string
  pid: number
  /** Seconds since the epoch on the instance's clock when the lock was taken. */
  since: number
  /** How long the owner may hold it (its whole-step timeout plus a margin). */
  ttl: number
}

export interface HeldLock {
  path: string
  token: string
}

export function runLabel(env: NodeJS.ProcessEnv = process.env): string {
  const repo = env.GITHUB_REPOSITORY
  const id = env.GITHUB_RUN_ID
  if (repo && id) return `${repo}#${id}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`
  return 'local'
}

export function lockPath(root: string): string {
  return path.posix.join(root, LOCK_NAME)
}

const THEN = '--ec2-push-then--'

/**
 * Take the lock or throw a one-line UserError naming the holder. Re-taking our own lock succeeds.
 * `then` is a script fragment run right after the lock is taken, in the same exec (round trips
 * are the slow part of a deploy); its output comes back as `thenOutput`.
 */
export async function acquireLock(
  conn: SshConnection,
  root: string,
  opts: { token?: string; ttlSeconds: number; run?: string; then?: string }
): Promise<HeldLock & { thenOutput: string }> {
  const lock = lockPath(root)
  const token = opts.token ?? randomBytes(12).toString('hex')
  const run = safeWord(opts.run ?? runLabel())
  const host = safeWord(os.hostname())
  const r = await runScript(
    conn,
    `echo ec2-push-shell
mkdir -p -- ${shellQuote(root)} || exit 1
L=${shellQuote(lock)}
if mkdir -- "$L" 2>/dev/null; then
  printf 'token=%s\\nrun=%s\\nhost=%s\\npid=%s\\nsince=%s\\nttl=%s\\n' ${token} ${shellQuote(run)} ${shellQuote(host)} ${process.pid} "$(date +%s)" ${opts.ttlSeconds} > "$L/owner.tmp" && mv -f -- "$L/owner.tmp" "$L/owner" || { rm -rf -- "$L"; exit 1; }
  echo ACQUIRED
  echo ${THEN}
  ${opts.then ?? ':'}
else
  echo HELD
  echo "now=$(date +%s)"
  echo "dirtime=$(stat -c %Y -- "$L" 2>/dev/null || echo 0)"
  cat -- "$L/owner" 2>/dev/null
fi
`
  )
  if (!r.stdout.startsWith('ec2-push-shell\n')) {
    throw new UserError(
      `${conn.label} does not let this account run commands (SFTP only); release, rollback, sync, delete and pre/post-command need a shell there.`
    )
  }
  const out = r.stdout.slice('ec2-push-shell\n'.length)
  if (r.code !== 0) throw new Error(`taking the deploy lock failed (exit ${r.code}): ${r.stderr.trim()}`)
  if (out.startsWith('ACQUIRED')) {
    return { path: lock, token, thenOutput: out.slice(out.indexOf(THEN) + THEN.length + 1) }
  }
  const f = fields(out)
  if (f.token === token) {
    // Ours, from before a reconnect: run the follow-up on its own.
    const again = opts.then ? await runScriptOk(conn, opts.then, 'Reading the instance') : ''
    return { path: lock, token, thenOutput: again }
  }
  throw new UserError(describeHeldLock(lock, conn.label, f))
}

export function describeHeldLock(lock: string, label: string, f: Record<string, string>): string {
  const now = Number(f.now)
  const remove = `if no deploy is running there, remove it on the instance with: rm -rf ${shellQuote(lock)}`
  if (!f.token) {
    const age = now - Number(f.dirtime)
    if (age > 120) {
      return `The deploy lock ${lock} on ${label} has no owner file and is ${age} s old (a run was killed while taking it); ${remove}`
    }
    return `Another deploy is taking the lock ${lock} on ${label} right now; wait for it, or use a workflow 'concurrency' group so deploys queue.`
  }
  const since = Number(f.since)
  const who = `run ${f.run ?? '?'} on ${f.host ?? '?'} (pid ${f.pid ?? '?'}), since ${Number.isFinite(since) ? new Date(since * 1000).toISOString() : '?'}`
  const age = now - since
  const ttl = Number(f.ttl)
  let stale: string | undefined
  if (Number.isFinite(age) && Number.isFinite(ttl) && age > ttl)
    stale = `held ${age} s, past its owner's limit of ${ttl} s`
  else if (f.host === safeWord(os.hostname()) && f.pid && !processAlive(Number(f.pid)))
    stale = `its process ${f.pid} no longer exists on ${f.host}`
  if (stale) return `The deploy lock ${lock} on ${label} is stale (${who}; ${stale}); ${remove}, then re-run.`
  return `Another deploy holds the lock ${lock} on ${label} (${who}); wait for it to finish, or use a workflow 'concurrency' group so deploys queue.`
}

/** Release the lock if it is still ours (best effort: a lost connection leaves it to be reported). */
export async function releaseLock(conn: SshConnection, lock: HeldLock): Promise<void> {
  await runScriptOk(conn, releaseLockScript(lock) + 'exit 0\n', 'Releasing the deploy lock')
}

/** The script behind releaseLock, to end another exec with. */
export function releaseLockScript(lock: HeldLock): string {
  return `( L=${shellQuote(lock.path)}
[ "$(sed -n 's/^token=//p' "$L/owner" 2>/dev/null)" = ${lock.token} ] && rm -rf -- "$L" )
`
}

function fields(out: string): Record<string, string> {
  const f: Record<string, string> = {}
  for (const line of out.split('\n')) {
    const at = line.indexOf('=')
    if (at > 0) f[line.slice(0, at)] = line.slice(at + 1).trim()
  }
  return f
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function safeWord(s: string): string {
  return s.replace(/[^A-Za-z0-9._#/:@-]/g, '_').slice(0, 200)
}
