import type { DeployConfig } from '../../config.js'
import type { TargetResult } from '../../deploy/types.js'
import { BoundedText, MAX_COMMAND_OUTPUT } from '../../report/command-output.js'
import { releaseDir } from '../../remote/names.js'
import { S3_RESULT_PREFIX } from '../../remote/s3-release.js'
import type { InvocationOutcome } from './run-command.js'

/**
 * Run Command's invocations as the action's per-target results: the instance's own JSON line when it
 * printed one, else what Run Command says (timed out, offline, not run) with the end of its stderr.
 */

interface InstanceReport {
  status: string
  release: string
  previous: string
  files: number
  fetched: number
  reused: number
  bytes: number
  deleted: number
  rolledBack: boolean
  seconds: number
  error: string
  /** post-command's output (its end) and the bytes cut before it; outputCut -1 when it did not run. */
  output?: string
  outputCut?: number
}

/** Presigned URLs never reach a log, even if a tool on the instance printed one. */
const scrub = (s: string) =>
  s.replace(/X-Amz-(Signature|Credential|Security-Token)=[^&\s"']+/g, 'X-Amz-$1=***')

export function parseReport(stdout: string): InstanceReport | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find(l => l.startsWith(S3_RESULT_PREFIX))
  if (!line) return undefined
  try {
    return JSON.parse(line) as InstanceReport
  } catch {
    return undefined
  }
}

function stderrTail(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
  const last = lines.reverse().find(l => l.startsWith('ec2-push: ')) ?? lines[0] ?? ''
  return scrub(last.replace(/^ec2-push: /, '')).slice(0, 400)
}

export function describeOutcomes(
  outcomes: InvocationOutcome[],
  filesTotal: number,
  config: Pick<DeployConfig, 'remotePath' | 'release' | 'timeoutSeconds'>,
  mask: (line: string) => string = l => l,
  /** Why the runner cancelled the commands, when it did ("the step ran out of time", ...). */
  stoppedBecause = ''
): TargetResult[] {
  return outcomes.map(o => {
    const report = parseReport(o.stdout)
    // A script that exits 0 has published (or dry-run): without its output, Success says as much.
    const ok =
      o.status === 'Success' && (report?.status === 'success' || report?.status === 'dry-run' || !!o.unread)
    const base: TargetResult = {
      target: o.instanceId,
      mode: 's3',
      status: ok
        ? 'success'
        : notSent(o)
          ? 'skipped'
          : o.status === 'Cancelled' && !o.unconfirmed
            ? 'cancelled'
            : 'failure',
      filesUploaded: report?.fetched ?? 0,
      filesSkipped: report?.reused ?? 0,
      filesTotal: report?.files ?? filesTotal,
      bytesTransferred: report?.bytes ?? 0,
      durationMs: (report?.seconds ?? 0) * 1000,
      verification: report && report.status !== 'dry-run' ? 'sha256' : 'not reached',
      reconnects: 0
    }
    if (report?.release && config.release === 'atomic') {
      base.releaseId = report.release
      base.releasePath = releaseDir(config.remotePath, report.release)
      if (report.previous) base.previousRelease = report.previous
    }
    if (report?.rolledBack) base.rolledBack = true
    if (report?.deleted) base.filesDeleted = report.deleted
    if (report?.output !== undefined && (report.outputCut ?? -1) >= 0)
      base.commandOutput = commandOutput(report.output, report.outputCut!, mask)
    if (!ok) base.error = errorOf(o, report, config.timeoutSeconds, stoppedBecause)
    return base
  })
}

/** As push gives it: lines masked whole, then bounded; the instance already kept only the end. */
function commandOutput(text: string, cut: number, mask: (line: string) => string): string {
  const out = new BoundedText(MAX_COMMAND_OUTPUT)
  // A cut inside a character leaves replacement characters at the start.
  for (const line of scrub(text.replace(/^\uFFFD+/, '')).split('\n')) out.add(mask(line))
  const body = out.text()
  return cut > 0 ? `[first ${cut} bytes cut]\n${body}` : body
}

/**
 * An invocation Run Command never sent because the command had more failures than MaxErrors (its
 * details say Terminated; one cancelled by CancelCommand says Cancelled).
 */
function notSent(o: InvocationOutcome): boolean {
  return o.status === 'Cancelled' && !o.stopped && !o.unconfirmed && o.statusDetails === 'Terminated'
}

function errorOf(
  o: InvocationOutcome,
  report: InstanceReport | undefined,
  timeoutSeconds: number,
  stoppedBecause: string
): string {
  if (o.unconfirmed)
    return `cancellation not confirmed: Run Command still says ${o.status} (command ${o.commandId}), so its script may still be running there; check that instance`
  if (o.stopped === 'running')
    return `cancelled while its script ran (${stoppedBecause}): the agent stopped it, and the instance undoes its lock, temporaries and unfinished release`
  if (o.stopped === 'waiting') return `cancelled before it started (${stoppedBecause}): nothing ran there`
  switch (o.status) {
    case 'Offline':
      return "offline: its SSM agent did not take the command (Run Command: Delayed); the command was cancelled there. Check the instance's SSM agent (PingStatus Online)."
    case 'TimedOut':
      // Run Command's delivery timeout (SendCommand's TimeoutSeconds): the script never started.
      if (o.statusDetails.replace(/\s/g, '') === 'DeliveryTimedOut')
        return "not run: its SSM agent did not take the command before the delivery timeout (Run Command: Delivery Timed Out); the instance is offline or was queued behind MaxConcurrency. Check the instance's SSM agent (PingStatus Online)."
      return `the command timed out on the instance after ${timeoutSeconds} s (executionTimeout); ${stderrTail(o.stderr) || 'no output'}`
    case 'Cancelled':
      if (notSent(o)) return 'not run: MaxErrors was reached (fail-fast) before Run Command sent it here'
      return `cancelled outside this run (Run Command: ${o.statusDetails || o.status}), by CancelCommand or the console; if its script had started, the instance undid its lock, temporaries and unfinished release`
  }
  if (o.unread)
    return `Run Command status ${o.status} (${o.statusDetails}); its output was not read before the runner stopped`
  return (
    scrub(report?.error || '') ||
    stderrTail(o.stderr) ||
    `Run Command status ${o.status} (${o.statusDetails})`
  )
}

/** A text table for the log: one row per instance. */
export function summaryTable(results: TargetResult[]): string[] {
  const rows = results.map(r => [
    r.target,
    r.status,
    `${r.filesUploaded} fetched, ${r.filesSkipped} reused`,
    `${r.bytesTransferred} B`,
    `${(r.durationMs / 1000).toFixed(0)} s`,
    r.releaseId ?? ''
  ])
  const head = ['instance', 'status', 'files', 'bytes', 'time', 'release']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [fmt(head), ...rows.map(fmt)]
}
