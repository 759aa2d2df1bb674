import os from 'node:os'
import { UserError } from '../../errors.js'
import {
  acquireLockScript,
  breakLockScript,
  fileInTheWayScript,
  parseFields,
  readLockAnswer,
  releaseLockScript,
  safeWord,
  THEN_MARK,
  type LockOwner
} from '../../remote/lock.js'
import { lockPath } from '../../remote/names.js'
import { execScript, runScriptOk } from '../../ssh/run-script.js'
import { knowVerifyMethod } from '../../transfer/verify.js'
import { setTimeout as pause } from 'node:timers/promises'
import type { DeployContext } from '../context.js'
import type { DeployState } from '../state.js'
import type { Step } from '../runner.js'
import type { CleanupNote } from '../types.js'
import { firstReadScript, firstReadStreamed, folderSurveyRead, readsInstance } from './first-read.js'
import { PassThrough } from 'node:stream'

/**
 * lock: every deploy that writes holds the lock on the instance from here to `unlock`. What the
 * deploy reads first (its releases, or the folder) comes back in the same exec. A held lock makes
 * the deploy wait up to lock-wait-seconds, then fail naming the holder; a lock whose holder ran
 * past its own limit (or whose process is gone from this machine) is broken with a warning.
 */
export const lock: Step = {
  name: 'lock',
  applies: () => true,
  async run(c) {
    // Marked until the lock's answer is in: a cancellation meanwhile leaves the undo to release it.
    inFlight.add(c)
    try {
      return await takeLock(c)
    } finally {
      if (!c.cancelled) inFlight.delete(c)
    }
  },
  async plan(c) {
    if (!readsInstance(c.config)) return
    const then = await firstReadScript(c)
    if (then) return { firstRead: await c.exec('Reading the instance', then) }
  },
  async undo(c, s) {
    // Cancelled while the lock's exec was in flight, the instance may hold the lock though no answer
    // came back: release it anyway (the release only removes a lock holding this deploy's token).
    if (s.lockReleased || (!s.lock && !inFlight.has(c))) return
    await c.exec('Releasing the deploy lock', releaseLockScript(c.root, s.lock?.token ?? c.token))
    c.o.onLock?.(cleanupNote(c), false)
  }
}

/**
 * Why the lock could not be made, said as the upload says it for a file (transfer/failures.ts):
 * these are the instance's own state, so they are not retried, and they name what to fix.
 */
async function lockFailure(c: DeployContext, stderr: string): Promise<UserError> {
  const where = `on ${c.label}`
  const quoted = /cannot create directory ['‘]([^'’]+)['’]/.exec(stderr)?.[1]
  if (quoted && /Not a directory|File exists/.test(stderr)) {
    // mkdir's message names the folder it could not make, not always the file in its way: ask.
    const inTheWay = (
      await c.exec('Finding the file in the way', fileInTheWayScript(quoted)).catch(() => '')
    ).trim()
    return new UserError(
      `'${inTheWay || quoted}' ${where} is a file where a folder must be (to hold '${lockPath(c.root)}'): remove or rename it, or choose another remote-path.`
    )
  }
  if (/Read-only file system/.test(stderr))
    return new UserError(
      `'${c.root}' ${where} is on a read-only file system: remount it read-write, or choose a remote-path on a writable one.`
    )
  if (/No space left|I\/O error|quota exceeded/i.test(stderr))
    return new UserError(
      `No space left ${where} for the deploy lock '${lockPath(c.root)}' (${stderr.split('\n')[0]}): free space there (or raise the disk quota), or choose a remote-path on another file system.`
    )
  return new UserError(`Taking the deploy lock on ${c.label} failed: ${stderr}`)
}

/** Deploys whose lock exec was sent and has not answered yet (see the lock's undo). */
const inFlight = new WeakSet<DeployContext>()

async function takeLock(c: DeployContext): Promise<Partial<DeployState>> {
  // A sync's read goes out now, its planned files behind it on stdin once they are hashed.
  const streamed = firstReadStreamed(c)
  const read = streamed.script || (await firstReadScript(c))
  // The upload's folders are asked about too, so its first requests need not wait for that answer.
  const survey = folderSurveyRead(c)
  const then = (survey?.script ?? '') + read
  const owner = lockOwner(c)
  // The upload's question (can sha256sum, and OpenSSL, hash there?) rides along: it needs no shell of its own.
  const probe = c.verifyProbe()
  const waitUntil = Date.now() + c.config.lockWaitSeconds * 1000
  let waiting = false
  for (;;) {
    const r = await c.link.step(
      'Taking the deploy lock',
      async conn => {
        const stdin = streamed.input && new PassThrough()
        if (stdin)
          streamed.input!.then(
            t => stdin.end(t),
            () => stdin.end()
          )
        const r = await execScript(conn, acquireLockScript(c.root, owner, then || ':', probe), { stdin })
        const answer = readLockAnswer(r.stdout, probe)
        if (answer.probe) knowVerifyMethod(conn, answer.probe)
        return { ...r, answer }
      },
      c.signal
    )
    if (!r.answer.shell) {
      if (read || c.config.preCommand || c.config.postCommand) {
        throw new UserError(
          `${c.label} does not let this account run commands (SFTP only); release, rollback, sync, delete and pre/post-command need a shell there.`
        )
      }
      c.warn(`${c.label}: this account cannot run commands (SFTP only), so the deploy takes no lock there.`)
      return {}
    }
    const out = r.answer.rest
    if (r.code !== 0) throw await lockFailure(c, r.stderr.trim() || `exit ${r.code}`)
    if (out.startsWith('ACQUIRED')) {
      c.o.onLock?.(cleanupNote(c), true)
      const after = out.slice(out.indexOf(THEN_MARK) + THEN_MARK.length + 1)
      const { folders, rest } = survey?.take(after) ?? { rest: after }
      return { lock: { token: owner.token }, firstRead: rest, folders }
    }
    const f = parseFields(out)
    if (f.token === owner.token) {
      // Ours, taken before a reconnect: read what comes with it on its own.
      c.o.onLock?.(cleanupNote(c), true)
      const reread = streamed.script ? await firstReadScript(c) : read
      const again = reread ? await c.exec('Reading the instance', reread) : ''
      return { lock: { token: owner.token }, firstRead: again }
    }
    const holder = describeHolder(f)
    if (holder.stale) {
      c.warn(`${c.label}: breaking the deploy lock ${f.path} of ${holder.who}: ${holder.stale}.`)
      await c.exec('Breaking a stale deploy lock', breakLockScript(f.path, f.token ?? '', owner.token))
      continue
    }
    if (Date.now() < waitUntil) {
      if (!waiting) c.info(`${c.label}: waiting for the deploy lock held by ${holder.who} (${holder.age})`)
      waiting = true
      await pause(Math.min(2000, waitUntil - Date.now()), undefined, { signal: c.signal }).catch(() => {})
      c.throwIfCancelled()
      continue
    }
    const waited = c.config.lockWaitSeconds
      ? ` after waiting lock-wait-seconds (${c.config.lockWaitSeconds} s)`
      : ''
    throw new UserError(
      `Another deploy holds the lock ${f.path} on ${c.label}${waited}: ${holder.who}, ${holder.age}; set 'lock-wait-seconds' to wait for it, or use a workflow 'concurrency' group so deploys queue.`
    )
  }
}

/** unlock: the end of every deploy that took the lock (it rides along with the last exec when it can). */
export const unlock: Step = {
  name: 'unlock',
  applies: () => true,
  fragment(c, s) {
    if (!s.lock || s.lockReleased) return undefined
    return { script: releaseLockScript(c.root, s.lock.token), done: { lockReleased: true } }
  },
  async run(c, s) {
    if (!s.lock || s.lockReleased) return
    c.link.trips.phase = 'record'
    const token = s.lock.token
    const released = await c.link
      .step(
        'Releasing the deploy lock',
        conn => runScriptOk(conn, releaseLockScript(c.root, token), 'Releasing the deploy lock'),
        c.signal
      )
      .then(() => true)
      .catch((err: unknown) => {
        c.warn(
          `${c.label}: could not release the deploy lock (it expires with this run's timeout): ${String(err)}`
        )
        return false
      })
    return { lockReleased: released }
  }
}

export function lockOwner(c: DeployContext, env: NodeJS.ProcessEnv = process.env): LockOwner {
  return {
    token: c.token,
    repo: env.GITHUB_REPOSITORY ?? '',
    run: env.GITHUB_RUN_ID ?? 'local',
    attempt: env.GITHUB_RUN_ATTEMPT ?? '',
    runner: env.RUNNER_NAME ?? '',
    host: os.hostname(),
    pid: process.pid,
    ttl: c.config.timeoutSeconds + 60
  }
}

export function cleanupNote(c: DeployContext, releaseId?: string): CleanupNote {
  return { target: c.label, root: c.root, token: c.token, tempToken: c.tempToken, releaseId }
}

/** Who holds a lock (from its owner file), for how long, and whether it may be broken. */
export function describeHolder(
  f: Record<string, string>,
  here = { host: os.hostname(), alive: processAlive }
): { who: string; age: string; stale?: string } {
  const now = Number(f.now)
  if (!f.token) {
    const age = now - Number(f.dirtime)
    const who = 'a deploy that had not written its owner file yet'
    // Killed between its mkdir and its owner file: nobody else can ever remove it.
    if (age > 120) return { who, age: `${age} s old`, stale: 'no owner file after 2 minutes' }
    return { who, age: `${age} s old` }
  }
  const since = Number(f.since)
  const age = now - since
  const ageText = Number.isFinite(age) ? `holding it for ${age} s` : 'for an unknown time'
  const run =
    f.repo && f.repo !== '-'
      ? `${f.repo} run ${f.run}${f.attempt && f.attempt !== '-' ? ` attempt ${f.attempt}` : ''}`
      : `run ${f.run ?? '?'}`
  const runner = f.runner && f.runner !== '-' ? ` on runner ${f.runner}` : ''
  const who = `${run}${runner} (host ${f.host ?? '?'}, pid ${f.pid ?? '?'}${Number.isFinite(since) ? `, since ${new Date(since * 1000).toISOString()}` : ''})`
  const ttl = Number(f.ttl)
  if (Number.isFinite(age) && Number.isFinite(ttl) && age > ttl)
    return { who, age: ageText, stale: `held ${age} s, past its owner's limit of ${ttl} s` }
  if (f.host === safeWord(here.host) && f.pid && !here.alive(Number(f.pid)))
    return { who, age: ageText, stale: `its process ${f.pid} no longer exists on ${f.host}` }
  return { who, age: ageText }
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
