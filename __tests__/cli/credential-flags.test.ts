import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { testBundles } from '../../sim/bundles.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { AWS_FLAGS } from '../../src/cli/aws-flags.js'
import { DEPLOY_EXTRA_FLAGS, DEPLOY_INPUTS } from '../../src/cli/options.js'
import { childEnv, run } from './helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * One set of AWS credential flags for every command (src/cli/aws-flags.ts): deploy, forward, proxy and
 * doctor each take --role-to-assume with --web-identity-token-file and sign their AWS calls with the
 * role's session keys, outside a GitHub job (no ACTIONS_ID_TOKEN_* in the environment), through the
 * bundled CLI against the STS, SSM and EC2 simulators.
 */

useTestBundles()

let sandbox: Sandbox
let cli: string
let dir: string
let tokenFile: string
let env: Record<string, string>

beforeAll(async () => {
  sandbox = await startSandbox({ fleetSize: 1 })
  cli = (await testBundles()).cli
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-credential-flags-'))
  // A token as a workstation gets one (a CI system's OIDC token in a file), from the simulator's issuer.
  const { oidc } = sandbox.credentials
  const res = await fetch(`${oidc.requestUrl}&audience=sts.amazonaws.com`, {
    headers: { Authorization: `Bearer ${oidc.requestToken}` }
  })
  tokenFile = path.join(dir, 'token')
  await writeFile(tokenFile, ((await res.json()) as { value: string }).value)
  env = childEnv(sandbox.env)
  delete env.ACTIONS_ID_TOKEN_REQUEST_URL
  delete env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
})
afterAll(async () => {
  await sandbox?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})
afterEach(() => expect(sandbox.ssm.sessions.unterminated()).toEqual([]))

const roleFlags = () => [
  '--role-to-assume',
  sandbox.credentials.roleArn,
  '--web-identity-token-file',
  tokenFile,
  '--role-session-name',
  'cli-flags'
]

/** What `fn` did with AWS: the keys that signed `operation`, and the roles assumed meanwhile. */
async function signed(operation: string, fn: () => Promise<void>) {
  const calls = sandbox.aws.calls.length
  const assumed = sandbox.credentials.sts.assumeCalls.length
  await fn()
  return {
    signers: [
      ...new Set(
        sandbox.aws.calls
          .slice(calls)
          .filter(c => c.operation === operation && c.accessKeyId && !c.authError)
          .map(c => c.accessKeyId!.slice(0, 4))
      )
    ],
    assumed: sandbox.credentials.sts.assumeCalls.slice(assumed).map(a => a.outcome)
  }
}

test('forward, proxy and doctor take the same AWS flags as deploy', async () => {
  const deployFlags = new Set([...DEPLOY_INPUTS, ...DEPLOY_EXTRA_FLAGS].map(f => f.name))
  expect(AWS_FLAGS.map(f => f.name).filter(n => !deployFlags.has(n))).toEqual([])
  for (const command of ['forward', 'proxy', 'doctor']) {
    const help = (await run(process.execPath, [cli, command, '--help'], { env })).stdout.toString()
    for (const { name } of AWS_FLAGS) expect([command, help.includes(`--${name} `)]).toEqual([command, true])
  }
})

test("forward over ssm with --role-to-assume: every session is the role's", async () => {
  const ready = path.join(dir, 'ready.json')
  const used = await signed('StartSession', async () => {
    const child = spawn(
      process.execPath,
      [
        cli,
        'forward',
        sandbox.instanceId,
        '0:localhost:22',
        '--mode',
        'ssm',
        '--ready-file',
        ready,
        ...roleFlags()
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let stderr = ''
    child.stderr.on('data', d => (stderr += d))
    const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
    for (let i = 0; i < 600 && !existsSync(ready) && child.exitCode === null; i++)
      await new Promise(r => setTimeout(r, 100))
    expect(stderr).not.toMatch(/^ec2-push: /m)
    const { forwards } = JSON.parse(await readFile(ready, 'utf8')) as { forwards: { localPort: number }[] }
    expect(await banner(forwards[0].localPort)).toMatch(/^SSH-2\.0-/)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
  expect(used).toEqual({ signers: ['ASIA'], assumed: ['ok'] })
})

test('proxy with --role-to-assume', async () => {
  const used = await signed('StartSession', async () => {
    const child = spawn(
      process.execPath,
      [cli, 'proxy', sandbox.instanceId, '22', '--mode', 'ssm', ...roleFlags()],
      {
        env,
        stdio: ['pipe', 'pipe', 'pipe']
      }
    )
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', d => (stderr += d))
    const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
    // sshd's identification string, through the tunnel, then ssh's own end of the session.
    await new Promise<void>(resolve => {
      child.stdout.on('data', d => {
        stdout += d
        if (stdout.includes('\n')) resolve()
      })
      child.on('close', () => resolve())
    })
    expect(stdout).toMatch(/^SSH-2\.0-/)
    child.kill('SIGHUP')
    expect(await exited).toBe(129)
    expect(stderr).toBe('')
  })
  expect(used).toEqual({ signers: ['ASIA'], assumed: ['ok'] })
})

test("doctor with --role-to-assume checks with the role's credentials", async () => {
  let report: { checks: { area: string; check: string; detail: string }[] } | undefined
  const used = await signed('DescribeInstances', async () => {
    const r = await run(process.execPath, [cli, 'doctor', sandbox.instanceId, '--json', ...roleFlags()], {
      env
    })
    expect(r.stderr).toBe('')
    report = JSON.parse(r.stdout.toString())
  })
  expect(used).toEqual({ signers: ['ASIA'], assumed: ['ok'] })
  expect(report!.checks.find(c => c.check === 'identity')?.detail).toMatch(
    /:assumed-role\/ec2-push-deploy\/cli-flags /
  )
})

test('deploy with --role-to-assume (the same flags)', async () => {
  const files = path.join(dir, 'a.txt')
  await writeFile(files, 'a\n')
  const used = await signed('StartSession', async () => {
    const r = await run(
      process.execPath,
      [
        cli,
        'deploy',
        '--quiet',
        '--mode',
        'ssm',
        '--targets',
        sandbox.instanceId,
        '--files',
        files,
        '--remote-path',
        path.join(sandbox.sshd.remoteRoot, 'credential-flags'),
        '--user',
        sandbox.env.SANDBOX_SSH_USER,
        ...roleFlags()
      ],
      { env, timeoutMs: 120_000 }
    )
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) })
  })
  expect(used).toEqual({ signers: ['ASIA'], assumed: ['ok'] })
})

test('--role-to-assume outside a job without a token file is one line (forward)', async () => {
  const r = await run(
    process.execPath,
    [
      cli,
      'forward',
      sandbox.instanceId,
      'localhost:22',
      '--mode',
      'ssm',
      '--role-to-assume',
      sandbox.credentials.roleArn
    ],
    { env: { ...env, AWS_WEB_IDENTITY_TOKEN_FILE: '' } }
  )
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(
    /^ec2-push: --role-to-assume needs an OIDC token: outside a GitHub Actions job give --web-identity-token-file FILE/
  )
  expect(r.stderr.trim().split('\n')).toHaveLength(1)
})

function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port })
    let got = ''
    s.on('error', reject)
    s.on('data', d => {
      got += d
      if (got.includes('\n')) {
        s.destroy()
        resolve(got)
      }
    })
  })
}
