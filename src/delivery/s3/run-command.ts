import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  type CommandInvocation,
  type SSMClient,
  type Target
} from '@aws-sdk/client-ssm'
import type { TargetSpec } from '../../config.js'
import { UserError } from '../../errors.js'
import { awsErrorCode, awsErrorMessage } from '../../aws/ec2.js'
import { runPool } from '../../fleet/pool.js'

/**
 * Systems Manager Run Command as the fan-out: one SendCommand (AWS-RunShellScript) per 50 instance
 * ids (the API's limit) and one per tag target (`tag:Role=web` -> Targets Key=tag:Role), then
 * ListCommandInvocations polled (often at first, then less) until every invocation is over. An
 * invocation still waiting for its agent when all the others are done, or for a minute, is an
 * offline instance: its command is cancelled (so it cannot run later, out of order, and its place
 * in MaxConcurrency goes to the next instance) and it is reported as offline. When the step stops
 * early (cancelled, out of time, a later SendCommand refused, polling failed), every command sent
 * is cancelled and polled until each invocation has ended or a short bound has passed
 * (stopCommands), so no instance goes on deploying after the step has failed.
 */

export const DOCUMENT = 'AWS-RunShellScript'
const IDS_PER_CALL = 50
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled'])
const MAX_POLL_MS = 5000
/** An agent that has not taken a command in this long is treated as offline. */
const OFFLINE_AFTER_MS = 60_000
/** GetCommandInvocation calls at once when reading the outputs (the API throttles bursts). */
const OUTPUTS_IN_FLIGHT = 8

export interface SendOptions {
  targets: TargetSpec[]
  script: string
  executionTimeoutSeconds: number
  maxConcurrency: string
  maxErrors: string
  comment: string
  /** Checked before each batch: no command goes out once the step has stopped. */
  signal?: AbortSignal
}

export function commandBatches(
  targets: TargetSpec[]
): { InstanceIds?: string[]; Targets?: Target[]; label: string }[] {
  const ids = [...new Set(targets.flatMap(t => (t.kind === 'instance' ? [t.instanceId] : [])))]
  const out: { InstanceIds?: string[]; Targets?: Target[]; label: string }[] = []
  for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
    const batch = ids.slice(i, i + IDS_PER_CALL)
    out.push({
      InstanceIds: batch,
      label:
        batch.length === 1
          ? batch[0]
          : `${batch.length} instance ids, ${batch[0]} to ${batch[batch.length - 1]}`
    })
  }
  for (const t of targets) {
    if (t.kind === 'tag') out.push({ Targets: [{ Key: `tag:${t.key}`, Values: [t.value] }], label: t.label })
    else if (t.kind === 'host')
      throw new UserError(
        `delivery: s3 reaches instances through Systems Manager: target '${t.label}' must be an instance id (i-...) or a tag filter (tag:Key=Value).`
      )
  }
  return out
}

/** SendCommand refused or failed for one batch (the commands of the batches before it went out). */
export class SendCommandFailure extends UserError {}

/**
 * One SendCommand per batch, in order; each command id goes into `sent` as soon as it is known, so a
 * caller that stops (a refusal here, a cancellation) can cancel what went out.
 */
export async function sendCommands(ssm: SSMClient, o: SendOptions, sent: string[]): Promise<void> {
  const batches = commandBatches(o.targets)
  for (const [n, batch] of batches.entries()) {
    o.signal?.throwIfAborted()
    try {
      const r = await ssm.send(
        new SendCommandCommand({
          DocumentName: DOCUMENT,
          InstanceIds: batch.InstanceIds,
          Targets: batch.Targets,
          Parameters: { commands: [o.script], executionTimeout: [String(o.executionTimeoutSeconds)] },
          TimeoutSeconds: Math.max(30, Math.min(2592000, o.executionTimeoutSeconds)),
          MaxConcurrency: o.maxConcurrency,
          MaxErrors: o.maxErrors,
          Comment: o.comment.slice(0, 100)
        })
      )
      if (!r.Command?.CommandId) throw new Error('SendCommand returned no CommandId')
      sent.push(r.Command.CommandId)
    } catch (err) {
      const which = batches.length > 1 ? `batch ${n + 1} of ${batches.length} (${batch.label})` : batch.label
      throw new SendCommandFailure(`SendCommand for ${which} failed: ${sendFailureReason(err)}`)
    }
  }
}

/** Why SendCommand failed, with what to do about it where that is known. */
function sendFailureReason(err: unknown): string {
  const code = awsErrorCode(err)
  const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1
  const tried = attempts > 1 ? ` (after ${attempts} attempts)` : ''
  const said = `${code && code !== 'Error' ? code + ': ' : ''}${awsErrorMessage(err)}${tried}`
  if (code === 'AccessDeniedException')
    return `${said}; the runner's role needs ssm:SendCommand on ${DOCUMENT} and the instances`
  if (code === 'InvalidInstanceId')
    return `${said}; the instances must be running, managed by Systems Manager and Online`
  if (code === 'ThrottlingException')
    return `${said}; Systems Manager is throttling this account, run again later`
  return said
}

export interface InvocationOutcome {
  instanceId: string
  commandId: string
  /** Run Command's status, or 'Offline' for one whose agent never picked the command up. */
  status: string
  statusDetails: string
  stdout: string
  stderr: string
  /** Cancelled by stopCommands: it was running (InProgress) then, or had not started. */
  stopped?: 'running' | 'waiting'
  /** stopCommands gave up waiting: Run Command still had it in `status` (Cancelling, say). */
  unconfirmed?: boolean
  /** When the agent started the script (GetCommandInvocation's ExecutionStartDateTime), if it did. */
  startedAt?: string
  /** stopCommands had no time left to read its output: what it is known by is its status. */
  unread?: boolean
}

/** The polling of an interrupted waitForInvocations: what was last seen, which were found offline. */
export class Interrupted extends Error {
  constructor(
    readonly reason: unknown,
    readonly last: CommandInvocation[],
    readonly offline: Set<string>
  ) {
    super(reason instanceof Error ? reason.message : String(reason))
  }
}

export interface WaitOptions {
  signal: AbortSignal
  /** The shortest pause between polls, per ListCommandInvocations call a poll makes; tests make it short. */
  pollMs: number
  onProgress?: (done: number, total: number) => void
  /** How long an invocation may wait for its agent (Delayed) before it counts as offline. */
  offlineAfterMs?: number
}

/**
 * Poll until every invocation of every command is over (offline ones cancelled), then read their
 * output. When the signal fires or a call fails, throws Interrupted with what it saw last.
 */
export async function waitForInvocations(
  ssm: SSMClient,
  commandIds: string[],
  o: WaitOptions
): Promise<InvocationOutcome[]> {
  const seen: { invocations: CommandInvocation[] } = { invocations: [] }
  const offline = new Set<string>()
  try {
    await pollUntilOver(ssm, commandIds, o, seen, offline)
  } catch (err) {
    throw new Interrupted(err, seen.invocations, offline)
  }
  return readOutcomes(ssm, seen.invocations, offline)
}

async function pollUntilOver(
  ssm: SSMClient,
  commandIds: string[],
  o: WaitOptions,
  seen: { invocations: CommandInvocation[] },
  offline: Set<string>
): Promise<void> {
  const started = Date.now()
  let delay = o.pollMs
  let invocations: CommandInvocation[] = []
  const delayedSince = new Map<string, number>()
  const offlineAfterMs = o.offlineAfterMs ?? OFFLINE_AFTER_MS
  for (;;) {
    await sleep(delay, o.signal)
    const pages = await Promise.all(commandIds.map(id => listAll(ssm, id)))
    invocations = pages.flatMap(p => p.invocations)
    seen.invocations = invocations
    // A late poll costs at most an eighth of the time so far (a short deploy is seen done within a
    // fraction of a second), never more than MAX_POLL_MS, and big fleets (many pages) poll less often.
    const calls = pages.reduce((n, p) => n + p.calls, 0)
    delay = Math.min(
      Math.max(MAX_POLL_MS, o.pollMs * calls),
      Math.max(o.pollMs * calls, (Date.now() - started) / 8)
    )
    const open = invocations.filter(i => !TERMINAL.has(i.Status ?? '') && !offline.has(key(i)))
    o.onProgress?.(invocations.length - open.length, invocations.length)
    if (invocations.length && open.length === 0) break
    // An agent that has not taken the command when only such agents are left, or after
    // offlineAfterMs, is offline: its command is cancelled there, which also frees its place
    // in MaxConcurrency for the instances still waiting.
    const now = Date.now()
    for (const i of open)
      if (i.Status === 'Delayed' && !delayedSince.has(key(i))) delayedSince.set(key(i), now)
    const allDelayed = invocations.length > 0 && open.every(i => i.Status === 'Delayed')
    const gone = open.filter(
      i => i.Status === 'Delayed' && (allDelayed || now - delayedSince.get(key(i))! >= offlineAfterMs)
    )
    for (const id of commandIds) {
      const mine = gone.filter(i => i.CommandId === id).map(i => i.InstanceId!)
      // CancelCommand takes at most 50 instance ids.
      for (let at = 0; at < mine.length; at += IDS_PER_CALL)
        await ssm.send(
          new CancelCommandCommand({ CommandId: id, InstanceIds: mine.slice(at, at + IDS_PER_CALL) })
        )
    }
    for (const i of gone) offline.add(key(i))
  }
}

/** Each invocation's outcome, its output read with GetCommandInvocation unless `instead` gives it. */
async function readOutcomes(
  ssm: SSMClient,
  invocations: CommandInvocation[],
  offline: Set<string>,
  instead: (i: CommandInvocation) => Partial<InvocationOutcome> | undefined = () => undefined
): Promise<InvocationOutcome[]> {
  const outcomes: InvocationOutcome[] = new Array(invocations.length)
  await runPool(invocations, OUTPUTS_IN_FLIGHT, async (i, n) => {
    const base = outcomeOf(i)
    if (offline.has(key(i))) {
      outcomes[n] = { ...base, status: 'Offline' }
      return
    }
    const given = instead(i)
    if (given) {
      outcomes[n] = { ...base, ...given }
      return
    }
    const r = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: base.commandId, InstanceId: base.instanceId })
    )
    outcomes[n] = {
      ...base,
      status: r.Status ?? base.status,
      statusDetails: r.StatusDetails ?? base.statusDetails,
      stdout: r.StandardOutputContent ?? '',
      stderr: r.StandardErrorContent ?? '',
      ...(r.ExecutionStartDateTime ? { startedAt: r.ExecutionStartDateTime } : {})
    }
  })
  return outcomes
}

const outcomeOf = (i: CommandInvocation): InvocationOutcome => ({
  instanceId: i.InstanceId ?? '',
  commandId: i.CommandId ?? '',
  status: i.Status ?? '',
  statusDetails: i.StatusDetails ?? '',
  stdout: '',
  stderr: ''
})

export interface StopOptions {
  /** What waitForInvocations saw before it was interrupted (none: it had not polled yet). */
  last?: Interrupted
  pollMs: number
  /** How long to wait for every invocation to end after CancelCommand. */
  confirmMs: number
}

/**
 * CancelCommand for every command sent (an invocation not started never runs; the agent kills a
 * running one's script, whose watcher then undoes what it left), then ListCommandInvocations until
 * every invocation has ended (Cancelled, Success, Failed, TimedOut) or confirmMs has passed. Each
 * outcome says whether it was stopped running or waiting, or that its end was not confirmed.
 */
export async function stopCommands(
  ssm: SSMClient,
  commandIds: string[],
  o: StopOptions
): Promise<{ outcomes: InvocationOutcome[]; cancelError?: string }> {
  const before = new Map((o.last?.last ?? []).map(i => [key(i), i.Status ?? '']))
  const offline = o.last?.offline ?? new Set<string>()
  const refused: string[] = []
  await Promise.all(
    commandIds.map(id =>
      ssm
        .send(new CancelCommandCommand({ CommandId: id }))
        .catch((err: unknown) => refused.push(`${awsErrorCode(err) || 'Error'}: ${awsErrorMessage(err)}`))
    )
  )
  const deadline = Date.now() + o.confirmMs
  let invocations: CommandInvocation[] = o.last?.last ?? []
  let delay = o.pollMs
  for (;;) {
    try {
      invocations = (await Promise.all(commandIds.map(id => listAll(ssm, id)))).flatMap(p => p.invocations)
    } catch {
      // Keep what was seen last: what cannot be listed is not confirmed.
    }
    const open = invocations.filter(i => !TERMINAL.has(i.Status ?? '') && !offline.has(key(i)))
    const left = deadline - Date.now()
    if ((invocations.length && open.length === 0) || left <= 0) break
    await new Promise(r => setTimeout(r, Math.min(delay, left)))
    delay = Math.min(1000, delay * 2)
  }
  // Outputs are read for a bounded time too (a large fleet after a cancellation signal has seconds
  // at most); an invocation read no more is reported from its status alone.
  const readBy = Date.now() + o.confirmMs / 2
  const unread = (i: CommandInvocation) =>
    !TERMINAL.has(i.Status ?? '') ? { unconfirmed: true } : Date.now() > readBy ? { unread: true } : undefined
  const outcomes = await readOutcomes(ssm, invocations, offline, unread).catch(() =>
    // GetCommandInvocation failed too: the statuses alone still say who was stopped.
    invocations.map(i => ({
      ...outcomeOf(i),
      ...(offline.has(key(i)) ? { status: 'Offline' } : (unread(i) ?? { unread: true }))
    }))
  )
  for (const out of outcomes) {
    const was = before.get(`${out.commandId}/${out.instanceId}`) ?? 'Pending'
    if (out.status !== 'Cancelled' || TERMINAL.has(was)) continue
    // Started or not, as the invocation itself says (the last poll may predate its start).
    out.stopped = out.startedAt || was === 'InProgress' || was === 'Cancelling' ? 'running' : 'waiting'
  }
  return { outcomes, ...(refused.length ? { cancelError: [...new Set(refused)].join('; ') } : {}) }
}

const key = (i: CommandInvocation) => `${i.CommandId}/${i.InstanceId}`

async function listAll(
  ssm: SSMClient,
  commandId: string
): Promise<{ invocations: CommandInvocation[]; calls: number }> {
  const out: CommandInvocation[] = []
  let token: string | undefined
  let calls = 0
  do {
    const r = await ssm.send(
      new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 50, NextToken: token })
    )
    calls++
    out.push(...(r.CommandInvocations ?? []))
    token = r.NextToken
  } while (token)
  return { invocations: out, calls }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
