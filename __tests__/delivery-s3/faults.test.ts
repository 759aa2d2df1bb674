import { rm } from 'node:fs/promises'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { deployS3, makeS3Tree, useSandboxEnv } from './helpers.js'

/**
 * The sandbox's fleet faults as `npm run sandbox -- --fleet-offline 2 --fleet-hang 3 --s3-corrupt ...`
 * sets them: one deploy meets all three, and each instance is reported with its own one line.
 */

let sandbox: Sandbox
let restoreEnv: () => void
let art: string

beforeAll(async () => {
  sandbox = await startSandbox({
    fleetSize: 3,
    fleetShell: ['dash'],
    fleetFaults: { offline: ['2'], hang: ['i-0f1ee700000000003'], corrupt: '*/objects/*' }
  })
  restoreEnv = useSandboxEnv(sandbox)
  art = await makeS3Tree()
})
afterAll(async () => {
  restoreEnv?.()
  await sandbox?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

test('an offline instance, a command that times out and objects corrupted after upload, in one deploy', async () => {
  const [corrupted, offline, hanging] = sandbox.fleet.instanceIds
  const run = await deployS3(sandbox, {
    targets: sandbox.env.SANDBOX_FLEET_TAG,
    files: `${art}/**`,
    'remote-path': '/srv/faults',
    release: 'atomic',
    'fail-fast': 'false',
    'timeout-seconds': '30'
  })
  const byId = Object.fromEntries(run.outputs.results.map(r => [r.target, r]))
  expect(byId[corrupted].error).toMatch(/^the pack of small files fetched from S3 does not match its sha256/)
  expect(byId[offline].error).toMatch(/^offline: /)
  expect(byId[hanging].error).toMatch(/^the command timed out on the instance after \d+ s/)
  expect(run.error).toMatch(/^3 of 3 instances failed:\n/)
  for (const r of run.outputs.results) expect(r.error).not.toContain('\n')
})
