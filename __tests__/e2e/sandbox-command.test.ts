import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { REPO_ROOT } from '../../sim/action-runner.js'

/** `npm run sandbox -- --env-file FILE` as a person or another program drives it (compiled by `npm test`). */

const entry = path.join(REPO_ROOT, 'build', 'sim', 'sandbox.js')

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
  )
}

const banner = (port: number) =>
  new Promise<string>(resolve => {
    const s = net.connect(port, '127.0.0.1')
    s.once('data', d => {
      s.destroy()
      resolve(d.toString())
    })
    s.once('error', () => resolve(''))
  })

test.each([
  ['SIGINT', []],
  ['SIGTERM', []],
  ['SIGTERM', ['--rtt-ms', '40']]
] as const)('writes the env file when ready and stops everything on %s %j', async (signal, extra) => {
  expect(existsSync(entry)).toBe(true)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-sbx-'))
  const envFile = path.join(dir, 'sandbox.env')
  const child = spawn(process.execPath, [entry, '--', '--env-file', envFile, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', d => (stderr += d))
  try {
    const deadline = Date.now() + 60000
    while (!stderr.includes('ready') && Date.now() < deadline && child.exitCode === null)
      await new Promise(r => setTimeout(r, 100))
    const env = parseEnv(await readFile(envFile, 'utf8'))
    for (const k of [
      'SANDBOX_SSH_HOST',
      'SANDBOX_SSH_PORT',
      'SANDBOX_SSH_USER',
      'SANDBOX_SSH_PRIVATE_KEY_FILE',
      'SANDBOX_HOST_KEY_FINGERPRINT',
      'SANDBOX_REMOTE_ROOT',
      'SANDBOX_INSTANCE_ID',
      'SANDBOX_EICE_INSTANCE_ID',
      'SANDBOX_ROLE_ARN',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ENDPOINT_URL_SSM',
      'AWS_ENDPOINT_URL_EC2',
      'AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT',
      'AWS_ENDPOINT_URL_STS',
      'ACTIONS_ID_TOKEN_REQUEST_URL',
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
      'NODE_EXTRA_CA_CERTS'
    ]) {
      expect({ k, set: !!env[k] }).toEqual({ k, set: true })
    }
    const port = Number(env.SANDBOX_SSH_PORT)
    expect(await banner(port)).toMatch(/^SSH-2\.0-OpenSSH/)
    if (extra.length) {
      // The nlb path leads to a relay in front of sshd, and the AWS API to another.
      expect(env.SANDBOX_RTT_MS).toBe('40')
      expect(env.SANDBOX_SSHD_PORT).not.toBe(env.SANDBOX_SSH_PORT)
      expect(await banner(Number(env.SANDBOX_SSHD_PORT))).toMatch(/^SSH-2\.0-OpenSSH/)
      expect(env.AWS_ENDPOINT_URL_SSM).toBe(env.AWS_ENDPOINT_URL_EC2)
      expect(stderr).toContain('40 ms round trip')
    } else expect(env.SANDBOX_RTT_MS).toBeUndefined()
    expect(existsSync(env.SANDBOX_REMOTE_ROOT)).toBe(true)
    child.kill(signal)
    const code = await new Promise<number | null>(resolve => child.once('exit', c => resolve(c)))
    expect(code).toBe(0)
    expect(await banner(port)).toBe('')
    expect(existsSync(env.SANDBOX_REMOTE_ROOT)).toBe(false)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
})

test('the fleet fault flags are checked before anything starts, and said back in the env file', async () => {
  const bad = spawnSync(process.execPath, [entry, '--', '--fleet-size', '3', '--fleet-offline', '4'], {
    encoding: 'utf8'
  })
  expect(bad.status).toBe(2)
  expect(bad.stderr).toBe(
    "sandbox: --fleet-offline: '4' is not one of the fleet's instances (an id, or a number from 1 to 3)\n"
  )
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-sbx-'))
  const envFile = path.join(dir, 'sandbox.env')
  const child = spawn(
    process.execPath,
    [
      entry,
      '--',
      '--env-file',
      envFile,
      '--fleet-size',
      '3',
      '--fleet-offline',
      '2',
      '--s3-corrupt',
      '*/objects/*'
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SANDBOX_FLEET_HANG: '3' } }
  )
  let stderr = ''
  child.stderr.on('data', d => (stderr += d))
  try {
    const deadline = Date.now() + 60000
    while (!stderr.includes('ready') && Date.now() < deadline && child.exitCode === null)
      await new Promise(r => setTimeout(r, 100))
    const env = parseEnv(await readFile(envFile, 'utf8'))
    expect({
      offline: env.SANDBOX_FLEET_OFFLINE,
      hang: env.SANDBOX_FLEET_HANG,
      corrupt: env.SANDBOX_S3_CORRUPT
    }).toEqual({ offline: 'i-0f1ee700000000002', hang: 'i-0f1ee700000000003', corrupt: '*/objects/*' })
    child.kill('SIGTERM')
    expect(await new Promise<number | null>(resolve => child.once('exit', c => resolve(c)))).toBe(0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
})
