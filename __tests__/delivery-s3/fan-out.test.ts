import { rm } from 'node:fs/promises'
import { parseTarget } from '../../src/config.js'
import { commandBatches } from '../../src/delivery/s3/run-command.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { deployS3, makeS3Tree, settledState, useSandboxEnv } from './helpers.js'

/**
 * How delivery: s3 hands the fan-out to Run Command: more than 50 instance ids go in several
 * SendCommand calls; MaxErrors stops sending the command once too many instances failed; every
 * instance has its entry in results and its row in the log's table.
 */

let sandbox: Sandbox
let restoreEnv: () => void
let art: string
let ids: string[]

beforeAll(async () => {
  sandbox = await startSandbox({ fleetSize: 52, fleetShell: ['dash'] })
  restoreEnv = useSandboxEnv(sandbox)
  art = await makeS3Tree()
  ids = sandbox.fleet.instanceIds
})
afterAll(async () => {
  restoreEnv?.()
  await sandbox?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

test('instance ids go 50 to a SendCommand, each tag target in its own; a host name is refused', () => {
  const many = Array.from({ length: 120 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`)
  const batches = commandBatches([...many, 'tag:Role=web', many[0]].map(t => parseTarget(t)))
  expect(batches.map(b => b.InstanceIds?.length ?? b.Targets)).toEqual([
    50,
    50,
    20,
    [{ Key: 'tag:Role', Values: ['web'] }]
  ])
  expect(() => commandBatches([parseTarget('web.example.com')])).toThrow(
    "delivery: s3 reaches instances through Systems Manager: target 'web.example.com' must be an instance id (i-...) or a tag filter (tag:Key=Value)."
  )
})

test('52 instance ids: two SendCommand calls, 52 results, one row each in the table', async () => {
  const before = sandbox.fleet.runCommand.commands.length
  const run = await deployS3(sandbox, {
    targets: ids.join(','),
    files: `${art}/**`,
    'remote-path': '/srv/fan-out',
    release: 'atomic',
    'release-id': 'f1',
    'dry-run': 'true'
  })
  expect(run.error).toBeUndefined()
  const sent = sandbox.fleet.runCommand.commands.slice(before)
  expect(sent.map(c => c.instanceIds.length)).toEqual([50, 2])
  expect(sent.map(c => c.maxConcurrency)).toEqual(['50', '50'])
  expect(run.outputs.results.map(r => r.target).sort()).toEqual([...ids].sort())
  for (const r of run.outputs.results)
    expect(r).toMatchObject({ mode: 's3', status: 'success', filesUploaded: 4, releaseId: 'f1' })
  const table = run.log.split('\n').filter(l => /^(instance|i-)\S*\s+(status|success)/.test(l))
  expect(table[0]).toMatch(/^instance\s+status\s+files\s+bytes\s+time\s+release$/)
  expect(
    table
      .slice(1)
      .map(l => l.split(/\s+/)[0])
      .sort()
  ).toEqual([...ids].sort())
})

const failOn = (bad: string[]) => `case "$EC2_PUSH_TARGET" in ${bad.join('|')}) exit 7 ;; esac`

test('fail-fast is MaxErrors 0: after the first failure the command goes to no more instances', async () => {
  const four = ids.slice(0, 4)
  const run = await deployS3(sandbox, {
    targets: four.join(','),
    files: `${art}/index.html`,
    'remote-path': '/srv/fail-fast',
    'max-parallel-targets': '1',
    'pre-command': failOn([four[0]])
  })
  const command = sandbox.fleet.runCommand.commands.at(-1)!
  expect(command.maxErrors).toBe('0')
  // As Run Command reports them: never sent, Cancelled with the details Terminated.
  const notSent = command.invocations.filter(i => i.instanceId !== four[0])
  expect(notSent.map(i => [i.status, i.statusDetails])).toEqual(
    notSent.map(() => ['Cancelled', 'Terminated'])
  )
  expect(run.outputs.results.map(r => [r.target, r.status])).toEqual([
    [four[0], 'failure'],
    ...four.slice(1).map(id => [id, 'skipped'])
  ])
  expect(run.error).toBe(
    `1 of 4 instances failed (3 not run: MaxErrors reached):\n  ${four[0]}: pre-command failed (exit status non-zero); nothing was changed`
  )
})

test('max-errors with fail-fast: false: the command stops once more instances than that failed', async () => {
  const five = ids.slice(4, 9)
  const run = await deployS3(sandbox, {
    targets: five.join(','),
    files: `${art}/index.html`,
    'remote-path': '/srv/max-errors',
    'max-parallel-targets': '1',
    'fail-fast': 'false',
    'max-errors': '1',
    'pre-command': failOn([five[0], five[2]])
  })
  expect(sandbox.fleet.runCommand.commands.at(-1)!.maxErrors).toBe('1')
  expect(run.outputs.results.map(r => r.status)).toEqual([
    'failure',
    'success',
    'failure',
    'skipped',
    'skipped'
  ])
  expect(run.error).toMatch(/^2 of 5 instances failed \(2 not run: MaxErrors reached\):\n/)
})

test.each(['ThrottlingException', 'AccessDeniedException'] as const)(
  'SendCommand %s for the second batch: the first batch is cancelled, the error says which batch and why in one line',
  async type => {
    const dest = `/srv/refused-${type}`
    const before = sandbox.fleet.runCommand.commands.length
    sandbox.fleet.runCommand.refuseSendCommand({ after: 1, type })
    let run
    try {
      run = await deployS3(sandbox, {
        targets: ids.join(','),
        files: `${art}/**`,
        'remote-path': dest,
        release: 'atomic',
        'release-id': 'x1',
        // Each instance of the first batch holds its lock (and its new release) when the second is refused.
        'pre-command': 'sleep 600'
      })
    } finally {
      sandbox.fleet.runCommand.refuseSendCommand(undefined)
    }
    const sent = sandbox.fleet.runCommand.commands.slice(before)
    expect(sent.map(c => c.instanceIds.length)).toEqual([50])
    const first = ids.slice(0, 50)
    const why =
      type === 'ThrottlingException'
        ? 'ThrottlingException: Rate exceeded \\(after 3 attempts\\); Systems Manager is throttling this account, run again later'
        : `AccessDeniedException: User: \\S+ is not authorized to perform: ssm:SendCommand on resource: \\S+ because no identity-based policy allows the ssm:SendCommand action; the runner's role needs ssm:SendCommand on AWS-RunShellScript and the instances`
    expect(run.error).toMatch(
      new RegExp(
        `^SendCommand for batch 2 of 2 \\(2 instance ids, ${ids[50]} to ${ids[51]}\\) failed: ${why}; Run Command cancelled 50 instances: \\d+ while running \\(${first[0]}, `
      )
    )
    expect(run.error).not.toContain('\n')
    expect(run.outputs.results.map(r => r.target)).toEqual(first)
    expect(run.outputs.results.every(r => r.status === 'cancelled')).toBe(true)
    expect(sent[0].invocations.every(i => i.status === 'Cancelled')).toBe(true)
    // Nothing of the deploy anywhere: no lock, no temporary, no release, no current.
    const states = await Promise.all(ids.map(id => settledState(sandbox, id, dest)))
    for (const s of states)
      expect(s).toEqual({
        lock: false,
        temporaries: [],
        current: undefined,
        releases: [],
        agentLeftovers: []
      })
  }
)
