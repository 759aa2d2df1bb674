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
 * in MaxConcurrency goes to the next instance) and it is reported as offline.
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
}

export function commandBatches(
  targets: TargetSpec[]
): { InstanceIds?: string[]; Targets?: Target[]; label: string }[] {
  const ids = [...new Set(targets.flatMap(t => (t.kind === 'instance' ? [t.instanceId] : [])))]
  const out: { InstanceIds?: string[]; Targets?: Target[]; label: string }[] = []
  for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
    const batch = ids.slice(i, i + IDS_PER_CALL)
    out.push({ InstanceIds: batch, label: batch.length === 1 ? batch[0] : `${batch.length} instance ids` })
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

export async function sendCommands(ssm: SSMClient, o: SendOptions): Promise<string[]> {
  const ids: string[] = []
  for (const batch of commandBatches(o.targets)) {
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
      ids.push(r.Command.CommandId)
    } catch (err) {
      const code = awsErrorCode(err)
      if (code === 'AccessDeniedException')
        throw new UserError(
          `Systems Manager refused SendCommand for ${batch.label}: ${awsErrorMessage(err)} (the runner's role needs ssm:SendCommand on ${DOCUMENT} and the instances).`
        )
      if (code === 'InvalidInstanceId')
        throw new UserError(
          `Systems Manager cannot run commands on ${batch.label} (InvalidInstanceId): the instances must be running, managed by SSM and Online.`
        )
      throw err
    }
  }
  return ids
}

/** CancelCommand for every command sent: invocations not started never run, running ones are signalled. */
export async function cancelCommands(ssm: SSMClient, commandIds: string[]): Promise<void> {
  await Promise.all(commandIds.map(id => ssm.send(new CancelCommandCommand({ CommandId: id }))))
}

export interface InvocationOutcome {
  instanceId: string
  commandId: string
  /** Run Command's status, or 'Offline' for one whose agent never picked the command up. */
  status: string
  statusDetails: string
  stdout: string
  stderr: string
}

export interface WaitOptions {
  signal: AbortSignal
  /** The shortest pause between polls, per ListCommandInvocations call a poll makes; tests make it short. */
  pollMs: number
  onProgress?: (done: number, total: number) => void
  /** How long an invocation may wait for its agent (Delayed) before it counts as offline. */
  offlineAfterMs?: number
}

/** Poll until every invocation of every command is over (offline ones cancelled), then read their output. */
export async function waitForInvocations(
  ssm: SSMClient,
  commandIds: string[],
  o: WaitOptions
): Promise<InvocationOutcome[]> {
  const started = Date.now()
  let delay = o.pollMs
  let invocations: CommandInvocation[] = []
  const offline = new Set<string>()
  const delayedSince = new Map<string, number>()
  const offlineAfterMs = o.offlineAfterMs ?? OFFLINE_AFTER_MS
  for (;;) {
    await sleep(delay, o.signal)
    const pages = await Promise.all(commandIds.map(id => listAll(ssm, id)))
    invocations = pages.flatMap(p => p.invocations)
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
      if (mine.length) await ssm.send(new CancelCommandCommand({ CommandId: id, InstanceIds: mine }))
    }
    for (const i of gone) offline.add(key(i))
  }
  const outcomes: InvocationOutcome[] = new Array(invocations.length)
  await runPool(invocations, OUTPUTS_IN_FLIGHT, async (i, n) => {
    const base = {
      instanceId: i.InstanceId ?? '',
      commandId: i.CommandId ?? '',
      statusDetails: i.StatusDetails ?? ''
    }
    if (offline.has(key(i))) {
      outcomes[n] = { ...base, status: 'Offline', stdout: '', stderr: '' }
      return
    }
    const r = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: base.commandId, InstanceId: base.instanceId })
    )
    outcomes[n] = {
      ...base,
      status: r.Status ?? i.Status ?? '',
      statusDetails: r.StatusDetails ?? base.statusDetails,
      stdout: r.StandardOutputContent ?? '',
      stderr: r.StandardErrorContent ?? ''
    }
  })
  return outcomes
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
