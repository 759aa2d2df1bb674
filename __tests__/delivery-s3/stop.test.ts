import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { deployS3, instanceState, makeS3Tree, settledState, useSandboxEnv } from './helpers.js'

/**
 * delivery: s3 when the step stops before its instances are done, run by BusyBox sh (the dash runs
 * are in cancel-output.test.ts): out of time, the commands still out are cancelled and each
 * instance is left as it was; an instance whose agent does not act on the cancel is reported as not
 * confirmed. The agent ends a timed-out or cancelled script with SIGKILL, so what is left behind is
 * the script's watcher's to undo.
 */

let sandbox: Sandbox
let restoreEnv: () => void
let art: string
let ids: string[]
const dest = '/srv/stop'

beforeAll(async () => {
  sandbox = await startSandbox({ fleetSize: 3, fleetShell: ['busybox', 'sh'] })
  restoreEnv = useSandboxEnv(sandbox)
  art = await makeS3Tree()
  ids = sandbox.fleet.instanceIds
  const first = await deployS3(sandbox, {
    targets: ids.join(','),
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    'release-id': 'r1'
  })
  expect(first.error).toBeUndefined()
})
afterAll(async () => {
  sandbox?.fleet.s3.stallGets(undefined)
  restoreEnv?.()
  await sandbox?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const r1 = { lock: false, temporaries: [], current: 'releases/r1', releases: ['r1'], agentLeftovers: [] }

test('out of time: the command that timed out ends as it did, the others are cancelled, every instance keeps r1', async () => {
  // Every fetch of an object stalls: each instance that starts has taken the lock and made
  // releases/r2 when it stops there. One at a time, so the first times out (executionTimeout, a
  // little under the step's limit) and the step's own limit cancels the others.
  sandbox.fleet.s3.stallGets(/\/objects\//)
  const run = await deployS3(sandbox, {
    targets: ids.join(','),
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    'release-id': 'r2',
    'max-parallel-targets': '1',
    'fail-fast': 'false',
    'timeout-seconds': '12'
  })
  sandbox.fleet.s3.stallGets(undefined)
  const [head, ...rest] = run.error!.split('\n')
  const cancelled = run.outputs.results.filter(r => r.status === 'cancelled').map(r => r.target)
  expect(cancelled.length).toBeGreaterThan(0)
  expect(head).toMatch(
    /^The deploy did not finish within timeout-seconds \(12 s\): Run Command cancelled \d instances: .*; raise 'timeout-seconds'$/
  )
  for (const id of cancelled) expect(head).toContain(id)
  for (const r of run.outputs.results) {
    if (r.status === 'cancelled')
      expect(r.error).toMatch(
        /^cancelled (while its script ran|before it started) \(the step ran out of time, timeout-seconds 12\)/
      )
    else {
      // Not cancelled: it timed out on its own first, and is listed under the first line.
      expect(r.status).toBe('failure')
      expect(r.error).toMatch(/^the command timed out on the instance after \d+ s/)
      expect(rest).toContain(`  ${r.target}: ${r.error}`)
    }
  }
  expect(sandbox.fleet.runCommand.commands.at(-1)!.invocations.map(i => i.status)).not.toContain('Cancelling')
  for (const id of ids) {
    expect(await settledState(sandbox, id, dest)).toEqual(r1)
    const log = await readFile(sandbox.fleet.fleet.pathOf(id, path.join(dest, '.ec2-push/log')), 'utf8')
    expect(log).not.toMatch(/^r2\t/m)
  }
})

test('an agent that does not act on the cancel: reported as not confirmed; its instance ends with a whole release', async () => {
  const [a, b, deaf] = ids
  const go = path.join(art, 'go')
  sandbox.fleet.runCommand.ignoreCancel.add(deaf)
  try {
    const cancel = new AbortController()
    const sent = sandbox.fleet.runCommand.commands.length
    const running = deployS3(
      sandbox,
      {
        targets: ids.join(','),
        files: `${art}/**`,
        'remote-path': dest,
        release: 'atomic',
        'release-id': 'r3',
        // The deaf instance carries on once the test says so (/tmp is the host's) and deploys; the
        // others wait, locked, until they are killed.
        'pre-command': `if [ "$EC2_PUSH_TARGET" = ${deaf} ]; then while [ ! -e '${go}' ]; do sleep 1; done; else sleep 600; fi`
      },
      { cancel: cancel.signal, confirmCancelMs: 500 }
    )
    for (;;) {
      const command = sandbox.fleet.runCommand.commands[sent]
      const locked = await Promise.all(ids.map(async id => (await instanceState(sandbox, id, dest)).lock))
      if (command && locked.every(Boolean)) break
      await new Promise(r => setTimeout(r, 50))
    }
    cancel.abort(new Error('cancelled by SIGINT'))
    const run = await running
    const deafResult = run.outputs.results.find(r => r.target === deaf)!
    expect(deafResult.status).toBe('failure')
    expect(deafResult.error).toMatch(
      /^cancellation not confirmed: Run Command still says Cancelling \(command /
    )
    expect(run.error).toBe(
      `The deploy was cancelled: Run Command cancelled 2 instances: 2 while running (${a}, ${b}); cancellation not confirmed after 1 s on 1 (${deaf} (Cancelling)): their scripts may still be running\n  ${deaf}: ${deafResult.error}`
    )

    // The deaf instance's script goes on and publishes r3 whole; the others kept r1.
    await writeFile(go, '')
    const invocation = sandbox.fleet.runCommand.commands[sent].invocations.find(i => i.instanceId === deaf)!
    while (invocation.status === 'Cancelling') await new Promise(r => setTimeout(r, 100))
    expect(invocation.status).toBe('Success')
    expect(await settledState(sandbox, deaf, dest)).toEqual({
      ...r1,
      current: 'releases/r3',
      releases: ['r1', 'r3']
    })
    for (const rel of ['index.html', 'nested/deeper/data.bin', 'nested/with space $HOME ünï.txt'])
      expect(await readFile(sandbox.fleet.fleet.pathOf(deaf, path.join(dest, 'current', rel)))).toEqual(
        await readFile(path.join(art, rel))
      )
    for (const id of [a, b]) expect(await settledState(sandbox, id, dest)).toEqual(r1)
  } finally {
    sandbox.fleet.runCommand.ignoreCancel.delete(deaf)
    await writeFile(go, '')
  }
})
