import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { testBundles } from '../../sim/bundles.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { childEnv, run } from '../cli/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * An instance id that does not exist, and one that is mistyped, on every path (the bundled CLI and
 * action, real SDK clients against the simulators): one line that says so, never the SSM Agent or a
 * host name. EC2 answers InvalidInstanceID.NotFound; Session Manager answers TargetNotConnected, as it
 * does for an instance whose agent is offline, which is the case it must still be told apart from.
 */

useTestBundles()

const MISSING = 'i-0123456789abcdef0'
let sandbox: Sandbox
let cli: string
let env: Record<string, string>
let dir: string
let files: string

beforeAll(async () => {
  sandbox = await startSandbox({ fleetSize: 1 })
  cli = (await testBundles()).cli
  env = childEnv(sandbox.env)
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-missing-'))
  files = path.join(dir, 'app.txt')
  await writeFile(files, 'app\n')
  expect([sandbox.instanceId, sandbox.eiceInstanceId]).not.toContain(MISSING)
})
afterAll(async () => {
  await sandbox?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})
afterEach(() => {
  sandbox.ssm.setInstanceState(sandbox.instanceId, 'online')
  expect(sandbox.ssm.sessions.unterminated()).toEqual([])
})

/**
 * Run the CLI; it must fail with exactly one error line (`ec2-push: ...`), returned without its
 * prefix; deploy's progress lines (--quiet keeps its warnings) may come before it, but not after.
 */
async function oneLine(...args: string[]): Promise<string> {
  const r = await run(process.execPath, [cli, ...args], { env, timeoutMs: 120_000 })
  const lines = r.stderr.split('\n').filter(l => l.trim() !== '')
  const errors = lines.filter(l => l.startsWith('ec2-push: '))
  expect({ code: r.code, errors: errors.length, last: lines[lines.length - 1] }).toEqual({
    code: 1,
    errors: 1,
    last: errors[0]
  })
  if (args[0] !== 'deploy') expect(lines).toHaveLength(1)
  expect(r.stderr).not.toMatch(/SSM Agent/)
  expect(r.stdout.toString()).not.toMatch(/127\.0\.0\.1:\d+ ->/) // no listener was announced
  return errors[0].slice('ec2-push: '.length)
}

const deploy = (mode: string, target: string) =>
  oneLine(
    'deploy',
    '--quiet',
    '--mode',
    mode,
    '--targets',
    target,
    '--files',
    files,
    '--remote-path',
    '/srv/app'
  )

const doesNotExist = new RegExp(`Instance ${MISSING} does not exist in us-east-1 for these credentials: `)

test.each(['ssm', 'eice', 'auto'])('deploy --mode %s to an instance that does not exist', async mode => {
  const line = await deploy(mode, MISSING)
  expect(line).toMatch(doesNotExist)
  expect(line).not.toMatch(/agent|not connected/i)
})

test('forward and proxy to an instance that does not exist fail before listening', async () => {
  for (const args of [
    ['forward', MISSING, 'localhost:8080', '--mode', 'ssm'],
    ['forward', MISSING, 'db.internal:5432', '--mode', 'ssm'],
    ['forward', MISSING, 'localhost:22', '--mode', 'eice'],
    ['forward', MISSING, 'localhost:22', '--mode', 'auto'],
    ['proxy', MISSING, '22', '--mode', 'ssm']
  ]) {
    const line = await oneLine(...args)
    expect(line).toMatch(doesNotExist)
    expect(line).not.toMatch(/agent|not connected/i)
  }
})

test('the action: forward over ssm to an instance that does not exist is one error, nothing left running', async () => {
  const runnerTemp = path.join(dir, 'runner')
  await mkdir(runnerTemp)
  const action = await runBundledAction(
    { mode: 'ssm', 'aws-region': sandbox.region, targets: MISSING, forward: 'localhost:8080' },
    { env: { ...sandbox.env, RUNNER_TEMP: runnerTemp } }
  )
  expect(action.code).toBe(1)
  expect(action.errors).toEqual([expect.stringMatching(doesNotExist)])
  expect(action.state['forward-pid']).toBeUndefined()
})

test('doctor: the lookup and the verdict say it does not exist; no SSM Agent advice', async () => {
  const r = await run(process.execPath, [cli, 'doctor', MISSING], { env, timeoutMs: 120_000 })
  expect(r.code).toBe(1)
  expect(r.stderr).toBe('')
  const out = r.stdout.toString().trim().split('\n')
  expect(out[out.length - 1]).toMatch(doesNotExist)
  expect(out.find(l => /instance\s+lookup\s+FAIL/.test(l))).toMatch(doesNotExist)
  expect(out.join('\n')).not.toMatch(/SSM Agent|managed node/i)
})

test('ssm still tells an instance that exists but is offline from one that does not', async () => {
  sandbox.ssm.setInstanceState(sandbox.instanceId, 'offline')
  const r = await run(process.execPath, [cli, 'proxy', sandbox.instanceId, '22', '--mode', 'ssm'], {
    env,
    timeoutMs: 120_000
  })
  expect(r.code).toBe(1)
  expect(r.stderr).toBe(
    `ec2-push: ssm: ${sandbox.instanceId} is running but not connected to Session Manager: check that its SSM Agent is online (Fleet Manager / DescribeInstanceInformation) and that the instance reaches the ssm and ssmmessages endpoints (a NAT gateway, or VPC interface endpoints for ssm and ssmmessages).\n`
  )
})

test.each([
  ['deploy', 'auto'],
  ['deploy', 'ssm'],
  ['forward', 'ssm'],
  ['proxy', 'ssm'],
  ['doctor', '']
])(
  '%s (mode %s) with a mistyped id: called a mistyped instance id, not a host name',
  async (command, mode) => {
    const modeArgs = mode ? ['--mode', mode] : []
    const line =
      command === 'deploy'
        ? await deploy(mode, 'i-xyz')
        : await oneLine(
            command,
            'i-xyz',
            ...(command === 'forward' ? ['localhost:8080'] : command === 'proxy' ? ['22'] : []),
            ...modeArgs
          )
    expect(line).toMatch(/Target 'i-xyz' is not a valid instance id: /)
    expect(line).not.toMatch(/host/i)
  }
)
