import { randomUUID } from 'node:crypto'
import type { SimRequest, SimResponse } from '../aws/server.js'
import { jsonError, jsonOk } from '../aws/server.js'
import type { Fleet } from '../fleet/fleet.js'

/**
 * Systems Manager Run Command (JSON 1.1, `AmazonSSM.*`): SendCommand, ListCommandInvocations,
 * GetCommandInvocation, CancelCommand, for AWS-RunShellScript on a simulated fleet. CancelCommand
 * cancels invocations not yet started at once; a running one's script is killed (SIGKILL to its
 * process group, as the agent does) and the invocation is Cancelling until it has ended, then
 * Cancelled. Fault knobs: an agent that does not act on a cancel (its invocation stays Cancelling
 * until the script ends by itself, then reports how it ended: CancelCommand guarantees nothing),
 * and SendCommand refused after a number of calls (throttled, or denied).
 * As the service: at most 50 InstanceIds a call, or Targets by tag; MaxConcurrency (a count or a
 * percentage of the targets) bounds the invocations in flight; once more than MaxErrors have failed
 * (or timed out), the ones not yet sent are not sent (Cancelled). An offline agent's invocation waits
 * as Delayed and holds its slot until cancelled. GetCommandInvocation returns the first 24,000
 * characters of stdout and 8,000 of stderr, and nothing until the invocation is over;
 * ListCommandInvocations with Details the plugin's Output, its first 2,500 characters.
 */

export interface Invocation {
  commandId: string
  instanceId: string
  status:
    'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelling' | 'Cancelled'
  statusDetails: string
  responseCode: number
  stdout: string
  stderr: string
  requested: Date
  started?: Date
  ended?: Date
  abort?: AbortController
}

export interface SentCommand {
  commandId: string
  parameters: Record<string, string[]>
  instanceIds: string[]
  targets: { Key: string; Values: string[] }[]
  maxConcurrency: string
  maxErrors: string
  invocations: Invocation[]
  accessKeyId?: string
}

export interface RunCommandSim {
  commands: SentCommand[]
  /** Every JSON body SendCommand received (tests check no credential ever travels in one). */
  sentBodies: string[]
  /** The agents of these instances take no notice of CancelCommand (they lost touch with the service). */
  ignoreCancel: Set<string>
  /**
   * From the call after the first `after` SendCommand calls (counted from now), refuse every one with
   * this error, as the service does: ThrottlingException ("Rate exceeded", retried by the SDK) or
   * AccessDeniedException. Undefined lets every call through again.
   */
  refuseSendCommand(rule?: { after: number; type: 'ThrottlingException' | 'AccessDeniedException' }): void
}

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled'])
const CONCURRENCY = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/
const ERRORS = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/

const limitOf = (v: string, total: number, min: number) =>
  v.endsWith('%') ? Math.max(min, Math.floor((Number(v.slice(0, -1)) / 100) * total)) : Number(v)

export function addRunCommand(
  addOperation: (name: string, handler: (req: SimRequest) => SimResponse) => void,
  fleet: Fleet
): RunCommandSim {
  const commands: SentCommand[] = []
  const sentBodies: string[] = []
  const ignoreCancel = new Set<string>()
  let refusal: { after: number; type: string } | undefined

  const schedule = (cmd: SentCommand) => {
    const total = cmd.invocations.length
    const concurrency = Math.max(1, limitOf(cmd.maxConcurrency, total, 1))
    const maxErrors = limitOf(cmd.maxErrors, total, 0)
    const errors = cmd.invocations.filter(i => i.status === 'Failed' || i.status === 'TimedOut').length
    if (errors > maxErrors) {
      for (const i of cmd.invocations)
        if (i.status === 'Pending') Object.assign(i, { status: 'Cancelled', statusDetails: 'Terminated' })
      return
    }
    let inFlight = cmd.invocations.filter(i =>
      ['InProgress', 'Delayed', 'Cancelling'].includes(i.status)
    ).length
    for (const inv of cmd.invocations) {
      if (inFlight >= concurrency) break
      if (inv.status !== 'Pending') continue
      inFlight++
      const instance = fleet.instance(inv.instanceId)
      if (!instance?.online) {
        Object.assign(inv, { status: 'Delayed', statusDetails: 'Delayed' })
        continue
      }
      Object.assign(inv, { status: 'InProgress', statusDetails: 'InProgress', started: new Date() })
      inv.abort = new AbortController()
      const timeout = Number(cmd.parameters.executionTimeout?.[0] ?? 3600)
      fleet
        .run(inv.instanceId, cmd.parameters.commands.join('\n'), {
          timeoutSeconds: timeout,
          name: cmd.commandId,
          signal: inv.abort.signal
        })
        .then(r => {
          if (inv.status !== 'InProgress' && inv.status !== 'Cancelling') return
          inv.ended = new Date()
          inv.stdout = r.stdout
          inv.stderr = r.stderr
          if (inv.status === 'Cancelling' && !ignoreCancel.has(inv.instanceId))
            Object.assign(inv, {
              status: 'Cancelled',
              statusDetails: 'Cancelled',
              responseCode: r.code ?? -1
            })
          else if (r.timedOut)
            Object.assign(inv, { status: 'TimedOut', statusDetails: 'ExecutionTimedOut', responseCode: -1 })
          else if (r.code === 0)
            Object.assign(inv, { status: 'Success', statusDetails: 'Success', responseCode: 0 })
          else Object.assign(inv, { status: 'Failed', statusDetails: 'Failed', responseCode: r.code ?? -1 })
        })
        .catch(err => Object.assign(inv, { status: 'Failed', statusDetails: 'Failed', stderr: String(err) }))
        .finally(() => schedule(cmd))
    }
  }

  const sendCommand = (req: SimRequest): SimResponse => {
    sentBodies.push(req.body.toString('utf8'))
    const b = req.json ?? {}
    if (refusal && refusal.after-- <= 0)
      return refusal.type === 'ThrottlingException'
        ? jsonError(400, 'ThrottlingException', 'Rate exceeded')
        : jsonError(
            400,
            'AccessDeniedException',
            `User: arn:aws:sts::123456789012:assumed-role/deploy/ec2-push is not authorized to perform: ssm:SendCommand on resource: arn:aws:ec2:us-east-1:123456789012:instance/${String((b.InstanceIds as string[] | undefined)?.[0] ?? '*')} because no identity-based policy allows the ssm:SendCommand action`
          )
    if (b.DocumentName !== 'AWS-RunShellScript')
      return jsonError(
        400,
        'InvalidDocument',
        `Document ${String(b.DocumentName)} does not exist in your account (this simulator runs AWS-RunShellScript).`
      )
    const params = (b.Parameters ?? {}) as Record<string, unknown>
    for (const [k, v] of Object.entries(params)) {
      if (!['commands', 'executionTimeout', 'workingDirectory'].includes(k))
        return jsonError(
          400,
          'InvalidParameters',
          `Parameter "${k}" is not defined in document AWS-RunShellScript.`
        )
      if (!Array.isArray(v) || v.some(x => typeof x !== 'string'))
        return jsonError(400, 'InvalidParameters', `Parameter "${k}" must be a list of strings.`)
    }
    const cmds = params.commands as string[] | undefined
    if (!cmds?.length) return jsonError(400, 'InvalidParameters', 'Parameter "commands" is required.')
    const timeout = (params.executionTimeout as string[] | undefined)?.[0]
    if (timeout !== undefined && (!/^\d+$/.test(timeout) || +timeout < 1 || +timeout > 172800))
      return jsonError(
        400,
        'InvalidParameters',
        `Parameter "executionTimeout" value ${timeout} is not in 1-172800.`
      )
    const ids = (b.InstanceIds ?? []) as string[]
    const targets = (b.Targets ?? []) as { Key: string; Values: string[] }[]
    if (ids.length > 50)
      return jsonError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50`
      )
    if (ids.length && targets.length)
      return jsonError(400, 'InvalidParameters', 'Specify either InstanceIds or Targets, not both.')
    if (!ids.length && !targets.length)
      return jsonError(400, 'ValidationException', 'InstanceIds or Targets is required.')
    const maxConcurrency = String(b.MaxConcurrency ?? '50')
    const maxErrors = String(b.MaxErrors ?? '0')
    if (!CONCURRENCY.test(maxConcurrency))
      return jsonError(
        400,
        'ValidationException',
        `Value '${maxConcurrency}' at 'maxConcurrency' failed to satisfy constraint: Member must satisfy regular expression pattern: ${CONCURRENCY.source}`
      )
    if (!ERRORS.test(maxErrors))
      return jsonError(
        400,
        'ValidationException',
        `Value '${maxErrors}' at 'maxErrors' failed to satisfy constraint: Member must satisfy regular expression pattern: ${ERRORS.source}`
      )
    const unknown = ids.find(id => !fleet.instance(id))
    if (unknown)
      return jsonError(400, 'InvalidInstanceId', `Instances [[${unknown}]] not in a valid state for account.`)
    const resolved = ids.length
      ? [...new Set(ids)]
      : [...new Set(targets.flatMap(t => fleet.match(t.Key, t.Values)))]
    const commandId = randomUUID()
    const now = new Date()
    const cmd: SentCommand = {
      commandId,
      parameters: params as Record<string, string[]>,
      instanceIds: ids,
      targets,
      maxConcurrency,
      maxErrors,
      accessKeyId: req.accessKeyId,
      invocations: resolved.map(instanceId => ({
        commandId,
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        responseCode: -1,
        stdout: '',
        stderr: '',
        requested: now
      }))
    }
    commands.push(cmd)
    schedule(cmd)
    return jsonOk({
      Command: {
        CommandId: commandId,
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: ids,
        Targets: targets,
        RequestedDateTime: now.getTime() / 1000,
        Status: 'Pending',
        StatusDetails: 'Pending',
        MaxConcurrency: maxConcurrency,
        MaxErrors: maxErrors,
        TargetCount: resolved.length
      }
    })
  }

  const find = (commandId: string) => commands.find(c => c.commandId === commandId)
  const iso = (d?: Date) => (d ? d.toISOString() : '')

  const listCommandInvocations = (req: SimRequest): SimResponse => {
    const b = req.json ?? {}
    const cmd = find(String(b.CommandId ?? ''))
    if (!cmd) return jsonError(400, 'InvalidCommandId', 'The command ID is not valid.')
    const max = Number(b.MaxResults ?? 50)
    if (!Number.isInteger(max) || max < 1 || max > 50)
      return jsonError(
        400,
        'ValidationException',
        `Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50`
      )
    const start = b.NextToken ? Number(Buffer.from(String(b.NextToken), 'base64').toString()) : 0
    const page = cmd.invocations.slice(start, start + max)
    const next =
      start + max < cmd.invocations.length ? Buffer.from(String(start + max)).toString('base64') : undefined
    return jsonOk({
      CommandInvocations: page.map(i => ({
        CommandId: i.commandId,
        InstanceId: i.instanceId,
        DocumentName: 'AWS-RunShellScript',
        RequestedDateTime: i.requested.getTime() / 1000,
        Status: i.status,
        StatusDetails: i.statusDetails,
        ...(b.Details
          ? {
              CommandPlugins: [
                {
                  Name: 'aws:runShellScript',
                  Status: i.status,
                  ResponseCode: i.responseCode,
                  Output: TERMINAL.has(i.status) ? pluginOutput(i) : ''
                }
              ]
            }
          : {})
      })),
      ...(next ? { NextToken: next } : {})
    })
  }

  const getCommandInvocation = (req: SimRequest): SimResponse => {
    const b = req.json ?? {}
    const inv = find(String(b.CommandId ?? ''))?.invocations.find(i => i.instanceId === b.InstanceId)
    if (!inv)
      return jsonError(
        400,
        'InvocationDoesNotExist',
        'An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation.'
      )
    const over = TERMINAL.has(inv.status)
    return jsonOk({
      CommandId: inv.commandId,
      InstanceId: inv.instanceId,
      DocumentName: 'AWS-RunShellScript',
      PluginName: 'aws:runShellScript',
      ResponseCode: inv.responseCode,
      ExecutionStartDateTime: iso(inv.started),
      ExecutionEndDateTime: iso(inv.ended),
      Status: inv.status,
      StatusDetails: inv.statusDetails,
      StandardOutputContent: over ? inv.stdout.slice(0, 24000) : '',
      StandardErrorContent: over ? inv.stderr.slice(0, 8000) : '',
      StandardOutputUrl: '',
      StandardErrorUrl: ''
    })
  }

  const cancelCommand = (req: SimRequest): SimResponse => {
    const b = req.json ?? {}
    const cmd = find(String(b.CommandId ?? ''))
    if (!cmd) return jsonError(400, 'InvalidCommandId', 'The command ID is not valid.')
    const only = (b.InstanceIds ?? []) as string[]
    if (only.length > 50)
      return jsonError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50`
      )
    for (const i of cmd.invocations) {
      if (only.length && !only.includes(i.instanceId)) continue
      if (TERMINAL.has(i.status) || i.status === 'Cancelling') continue
      // Not started: never runs. Running: its script is signalled (it may trap and clean up) and the
      // invocation is Cancelling until the script has ended.
      if (i.status === 'InProgress') {
        Object.assign(i, { status: 'Cancelling', statusDetails: 'Cancelling' })
        if (!ignoreCancel.has(i.instanceId)) i.abort?.abort()
      } else Object.assign(i, { status: 'Cancelled', statusDetails: 'Cancelled', ended: new Date() })
    }
    schedule(cmd)
    return jsonOk({})
  }

  addOperation('SendCommand', sendCommand)
  addOperation('ListCommandInvocations', listCommandInvocations)
  addOperation('GetCommandInvocation', getCommandInvocation)
  addOperation('CancelCommand', cancelCommand)
  return {
    commands,
    sentBodies,
    ignoreCancel,
    refuseSendCommand: rule => void (refusal = rule && { ...rule })
  }
}

/** The agent's plugin output: stdout, then stderr after its separator line, cut at 2,500 characters. */
function pluginOutput(i: Invocation): string {
  const all = i.stderr ? `${i.stdout}\n----------ERROR-------\n${i.stderr}` : i.stdout
  return all.slice(0, 2500)
}
