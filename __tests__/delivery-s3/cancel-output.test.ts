import { existsSync } from 'node:fs'
import { readlink, rm } from 'node:fs/promises'
import path from 'node:path'
import { buildConfig } from '../../src/config.js'
import { streamLogger } from '../../src/log.js'
import { META_DIR } from '../../src/remote/names.js'
import { runDeploy } from '../../src/run-deploy.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { seededBytes } from '../helpers/artifacts.js'
import { deployS3, makeS3Tree, settledState, sha256, useSandboxEnv } from './helpers.js'

/**
 * delivery: s3 and the step's edges: a cancelled step cancels its Run Command (the agent kills each
 * instance's script, whose watcher leaves nothing behind), and post-command's output comes back as
 * command-output and results[].commandOutput, as push gives them.
 */

let sandbox: Sandbox
let restoreEnv: () => void
let art: string

beforeAll(async () => {
  sandbox = await startSandbox({ fleetSize: 2, fleetShell: ['dash'] })
  restoreEnv = useSandboxEnv(sandbox)
  art = await makeS3Tree()
})
afterAll(async () => {
  restoreEnv?.()
  await sandbox?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise(r => setTimeout(r, 50))
}

test('post-command output: command-output with one target, each result its commandOutput, masked and cut as push does', async () => {
  const [a, b] = sandbox.fleet.instanceIds
  const one = await deployS3(sandbox, {
    targets: a,
    files: `${art}/**`,
    'remote-path': '/srv/s3-out-1',
    'post-command': 'echo "hello from $EC2_PUSH_TARGET"; echo "tab\there \\"quoted\\" back\\\\slash" >&2'
  })
  expect(one.error).toBeUndefined()
  expect(one.outputs['command-output']).toBe(`hello from ${a}\ntab\there "quoted" back\\slash`)
  expect(one.outputs.results[0].commandOutput).toBe(one.outputs['command-output'])

  // Several targets: command-output is empty, each result carries its own; a long output keeps its end.
  const many = await deployS3(sandbox, {
    targets: `${a},${b}`,
    files: `${art}/**`,
    'remote-path': '/srv/s3-out-2',
    'post-command': 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; echo "$EC2_PUSH_TARGET"'
  })
  expect(many.error).toBeUndefined()
  expect(many.outputs['command-output']).toBe('')
  for (const r of many.outputs.results) {
    expect(r.commandOutput).toMatch(/^\[first \d+ bytes cut\]\n/)
    expect(r.commandOutput?.endsWith(`line 2999\n${r.target}`)).toBe(true)
  }

  // A secret the step masks never reaches the output, and a failing post-command keeps its output.
  const lines: string[] = []
  const logger = streamLogger(l => lines.push(l))
  logger.setSecret('s3cr3t-value')
  const inputs: Record<string, string> = {
    delivery: 's3',
    's3-bucket': sandbox.fleet.bucket,
    'aws-region': sandbox.region,
    targets: a,
    files: `${art}/**`,
    'remote-path': '/srv/s3-out-3',
    'post-command': 'echo "token s3cr3t-value"; exit 3'
  }
  const failed = await runDeploy(
    buildConfig(n => inputs[n] ?? ''),
    logger,
    { pollMs: 50 }
  )
  expect(failed.error).toMatch(/post-command failed/)
  expect(failed.outputs['command-output']).toBe('token ***')
})

test('a cancelled deploy cancels its Run Command: no lock, no temporary, current untouched, invocations Cancelled', async () => {
  const [hanging, busy] = sandbox.fleet.instanceIds
  const dest = '/srv/s3-cancel'
  const first = await deployS3(sandbox, {
    targets: `${hanging},${busy}`,
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    'release-id': 'r1'
  })
  expect(first.error).toBeUndefined()
  const at = (id: string, p = '') => sandbox.fleet.fleet.pathOf(id, path.join(dest, p))
  const before = await readlink(at(busy, 'current'))

  sandbox.fleet.hang(hanging) // for the rest of this file: later tests deploy to the other instance
  const cancel = new AbortController()
  const inputs: Record<string, string> = {
    delivery: 's3',
    's3-bucket': sandbox.fleet.bucket,
    'aws-region': sandbox.region,
    targets: `${hanging},${busy}`,
    files: `${art}/**`,
    'remote-path': dest,
    release: 'atomic',
    'release-id': 'r2',
    // The busy instance waits in pre-command, holding the lock with its temporaries made.
    'pre-command': 'sleep 600'
  }
  const sent = sandbox.fleet.runCommand.commands.length
  const running = runDeploy(
    buildConfig(n => inputs[n] ?? ''),
    streamLogger(() => {}),
    { pollMs: 50, cancel: cancel.signal }
  )
  await until(
    () =>
      sandbox.fleet.runCommand.commands.length > sent &&
      existsSync(at(busy, `${META_DIR}/lock`)) &&
      sandbox.fleet.runCommand.commands[sent].invocations.every(i => i.status === 'InProgress')
  )
  cancel.abort(new Error('cancelled by SIGINT'))
  const run = await running
  // The agent kills a cancelled script outright (SIGKILL, no trap): the script's watcher undoes
  // its work, and the runner waited for Run Command to confirm each end.
  expect(run.error).toBe(
    `The deploy was cancelled: Run Command cancelled 2 instances: 2 while running (${hanging}, ${busy})`
  )
  expect(run.outputs.results.map(r => [r.target, r.status])).toEqual([
    [hanging, 'cancelled'],
    [busy, 'cancelled']
  ])
  expect(run.outputs.results[1].error).toMatch(/^cancelled while its script ran \(the deploy was cancelled\)/)

  const command = sandbox.fleet.runCommand.commands[sent]
  expect(command.invocations.map(i => i.status)).toEqual(['Cancelled', 'Cancelled'])
  for (const id of [hanging, busy]) {
    expect(await settledState(sandbox, id, dest)).toEqual({
      lock: false,
      temporaries: [],
      current: before,
      releases: ['r1'],
      agentLeftovers: []
    })
  }
  // Killed before it could print its result line.
  expect(command.invocations.find(i => i.instanceId === busy)!.stdout).not.toContain('"ec2push"')
})

test('a deploy cancelled while a large file goes up in parts: the multipart upload is aborted, nothing is sent', async () => {
  const bigBytes = seededBytes(64 * 1024 * 1024, 11)
  const big = await makeS3Tree({ 'big.bin': bigBytes })
  try {
    const s3 = sandbox.fleet.s3
    const created = s3.counters.requests.CreateMultipartUpload ?? 0
    const sent = sandbox.fleet.runCommand.commands.length
    const cancel = new AbortController()
    const inputs: Record<string, string> = {
      delivery: 's3',
      's3-bucket': sandbox.fleet.bucket,
      's3-prefix': 'cancel-multipart',
      'aws-region': sandbox.region,
      targets: sandbox.fleet.instanceIds[1],
      files: `${big}/**`,
      'remote-path': '/srv/s3-cancel-multipart'
    }
    const running = runDeploy(
      buildConfig(n => inputs[n] ?? ''),
      streamLogger(() => {}),
      { pollMs: 50, cancel: cancel.signal }
    )
    await until(() => (s3.counters.requests.CreateMultipartUpload ?? 0) > created)
    cancel.abort(new Error('cancelled by SIGINT'))
    const run = await running
    expect(run.error).toBe('The deploy was cancelled before Run Command was sent; no instance was changed.')
    expect(sandbox.fleet.runCommand.commands.length).toBe(sent)
    // lib-storage aborts the upload once the parts in flight have settled.
    await until(() => s3.pendingMultipartUploads() === 0)
    expect(s3.object(sandbox.fleet.bucket, `cancel-multipart/objects/${sha256(bigBytes)}`)).toBeUndefined()
  } finally {
    await rm(big, { recursive: true, force: true })
  }
})

test('credentials that expire before timeout-seconds ends: a warning says the presigned URLs die with them', async () => {
  const inputs = {
    targets: sandbox.fleet.instanceIds[1],
    files: `${art}/index.html`,
    'remote-path': '/srv/s3-expiry',
    'role-to-assume': sandbox.env.SANDBOX_ROLE_ARN,
    'role-duration-seconds': '900'
  }
  const short = await deployS3(sandbox, { ...inputs, 'timeout-seconds': '1800' })
  expect(short.error).toBeUndefined()
  expect(short.log).toMatch(
    /^warning: The presigned URLs are signed with credentials that expire at \S+, \d+ s before timeout-seconds \(1800 s\) runs out: an instance whose command starts after that cannot fetch \(S3 answers 403\)\. Raise role-duration-seconds/m
  )
  const fits = await deployS3(sandbox, { ...inputs, 'timeout-seconds': '600' })
  expect(fits.error).toBeUndefined()
  expect(fits.log).not.toMatch(/presigned URLs are signed with credentials that expire/)
})
