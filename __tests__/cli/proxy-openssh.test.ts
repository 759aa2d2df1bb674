import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { simInstanceId } from '../../sim/ec2/inventory.js'
import { startEicSim, type EicSim } from '../../sim/eic/api.js'
import { startEiceSim, type EiceSim } from '../../sim/eice/eice-sim.js'
import { generateKeyPair, type KeyPair } from '../../sim/ssh-keys.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { startSsmSim, type SsmSim } from '../../sim/ssm/index.js'
import { childEnv, ensureBundles, eventually, run } from './helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** The bundled CLI of the current src/ (set in beforeAll). */
let CLI = ''

/**
 * The user's own OpenSSH clients (ssh, scp, sftp from /usr/bin) with `ec2-push proxy` as their
 * ProxyCommand, through the Session Manager and EICE simulators to a real sshd.
 */

const WEB1 = simInstanceId(1)
let aws: AwsSimServer
let eic: EicSim
let sshd: Sshd
let eice: EiceSim
let ssm: SsmSim
let dir: string
let env: Record<string, string>
let knownHosts: string

useTestBundles()

beforeAll(async () => {
  CLI = await ensureBundles()
  aws = await startAwsSimServer()
  eic = await startEicSim({ awsServer: aws, instances: [{ id: WEB1, availabilityZone: 'us-east-1a' }] })
  sshd = await startSshd({ extraConfig: eic.sshdConfigLines })
  eice = await startEiceSim({ sshHost: sshd.host, sshPort: sshd.port, awsServer: aws })
  ssm = await startSsmSim({ sshHost: sshd.host, sshPort: sshd.port, awsServer: aws, instanceId: WEB1 })
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-cli-proxy-'))
  knownHosts = path.join(dir, 'known_hosts')
  // The instance id is the host name ssh checks the key under (port 22: no brackets).
  const [type, blob] = sshd.hostKey.publicKey.split(/\s+/)
  await writeFile(knownHosts, `${WEB1} ${type} ${blob}\n${ssm.offlineInstanceId} ${type} ${blob}\n`)
  env = childEnv({
    ...ssm.env,
    ...eice.env,
    AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT: aws.url,
    AWS_ACCESS_KEY_ID: ssm.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ssm.credentials.secretAccessKey
  })
}, 300_000)

afterAll(async () => {
  await ssm?.close()
  await eice?.stop()
  await eic?.close()
  await sshd?.stop()
  await aws?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

afterEach(async () => {
  // Every Session Manager session a proxy started is terminated (ssh SIGHUPs its proxy on exit).
  await eventually(() => ssm.sessions.unterminated().length === 0)
  expect(ssm.sessions.unterminated()).toEqual([])
  expect(ssm.violations()).toEqual([])
})

const proxyCommand = (extra: string) => `'${process.execPath}' '${CLI}' proxy %h %p ${extra}`

/** Options every OpenSSH client gets: no user config, our key, the pinned host key, the proxy. */
function sshOptions(mode: string, key: KeyPair = sshd.clientKey, extra = ''): string[] {
  return [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    key.privateKeyFile,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `User=${sshd.user}`,
    '-o',
    `ProxyCommand=${proxyCommand(`--mode ${mode} ${extra}`)}`
  ]
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe.each(['ssm', 'eice'])('through %s', mode => {
  test('ssh runs a command on the instance', async () => {
    const started = ssm.sessions.started.length
    const opened = eice.counters.opened
    const r = await run('/usr/bin/ssh', [...sshOptions(mode), WEB1, 'echo hello-from-$((40+2)); whoami'], {
      env
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.toString()).toBe(`hello-from-42\n${sshd.user}\n`)
    if (mode === 'ssm') expect(ssm.sessions.started.length).toBe(started + 1)
    else expect(eice.counters.opened).toBe(opened + 1)
  })

  test('scp puts a file up and gets it back identical; sftp batch put/get too', async () => {
    const data = randomBytes(512 * 1024 + 123)
    const local = path.join(dir, `up-${mode}.bin`)
    const remote = path.join(sshd.remoteRoot, `scp-${mode}.bin`)
    const back = path.join(dir, `back-${mode}.bin`)
    await writeFile(local, data)
    const up = await run('/usr/bin/scp', [...sshOptions(mode), local, `${WEB1}:${remote}`], { env })
    expect(up.stderr).toBe('')
    expect(up.code).toBe(0)
    expect(sha(await readFile(remote))).toBe(sha(data))
    const down = await run('/usr/bin/scp', [...sshOptions(mode), `${WEB1}:${remote}`, back], { env })
    expect(down.code).toBe(0)
    expect(sha(await readFile(back))).toBe(sha(data))

    const batch = path.join(dir, `batch-${mode}`)
    const remote2 = path.join(sshd.remoteRoot, `sftp-${mode}.bin`)
    const back2 = path.join(dir, `sftp-back-${mode}.bin`)
    await writeFile(batch, `put ${local} ${remote2}\nget ${remote2} ${back2}\n`)
    const s = await run('/usr/bin/sftp', [...sshOptions(mode), '-b', batch, WEB1], { env })
    expect(s.code).toBe(0)
    expect(sha(await readFile(remote2))).toBe(sha(data))
    expect(sha(await readFile(back2))).toBe(sha(data))
  })
})

test('auto with --push-key: a key the instance does not know logs in once pushed with EC2 Instance Connect', async () => {
  const fresh = await generateKeyPair(path.join(dir, `fresh-${Date.now()}`))
  const denied = await run('/usr/bin/ssh', [...sshOptions('eice', fresh), WEB1, 'true'], { env })
  expect(denied.code).toBe(255)
  expect(denied.stderr).toMatch(/Permission denied/)

  const pushed = eic.pushes.length
  const r = await run(
    '/usr/bin/ssh',
    [...sshOptions('auto', fresh, `--push-key '${fresh.publicKeyFile}' --user %r`), WEB1, 'echo pushed-ok'],
    { env }
  )
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  expect(r.stdout.toString()).toBe('pushed-ok\n')
  expect(eic.pushes.slice(pushed)).toEqual([
    expect.objectContaining({
      instanceId: WEB1,
      user: sshd.user,
      publicKey: fresh.publicKey,
      availabilityZone: 'us-east-1a'
    })
  ])
})

/** Start a bare proxy and wait for sshd's banner on its stdout. */
async function startProxy(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'proxy', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', d => (out += d.toString('latin1')))
  child.stderr.on('data', d => (err += d))
  const exited = new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  exited.finally(() => clearTimeout(killer))
  await eventually(() => out.includes('\n'), 20_000)
  return { child, exited, out: () => out, err: () => err }
}

test('proxy alone: stdout carries only the tunnel bytes; stdin EOF ends it and the session is terminated', async () => {
  const before = ssm.sessions.started.length
  const p = await startProxy([WEB1, '22', '--mode', 'ssm'])
  // Exactly sshd's identification line: nothing of ours on stdout.
  expect(p.out()).toMatch(/^SSH-2\.0-OpenSSH_[^\r\n]+\r\n$/)
  p.child.stdin.end()
  expect(await p.exited).toBe(0)
  expect(p.err()).toBe('')
  expect(ssm.sessions.started.length).toBe(before + 1)
  expect(ssm.sessions.terminated).toContain(ssm.sessions.started[before].sessionId)
})

test.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
  ['SIGHUP', 129]
] as const)('proxy terminates the session on %s', async (signal, code) => {
  const before = ssm.sessions.started.length
  const p = await startProxy([WEB1, '--mode', 'ssm'])
  expect(p.out()).toMatch(/^SSH-2\.0-/)
  p.child.kill(signal)
  expect(await p.exited).toBe(code)
  // Terminated before the process exited, not merely eventually.
  expect(ssm.sessions.terminated).toContain(ssm.sessions.started[before].sessionId)
})

test('the eice proxy closes its tunnel when the far side closes', async () => {
  const opened = eice.counters.opened
  const p = await startProxy([WEB1, '--mode', 'eice'])
  expect(p.out()).toMatch(/^SSH-2\.0-/)
  // Not SSH: sshd answers with an error and hangs up, which must end the proxy by itself.
  p.child.stdin.write('this is not ssh\r\n')
  expect(await p.exited).toBe(0)
  expect(eice.counters.opened).toBe(opened + 1)
  await eventually(() => eice.counters.active === 0)
  expect(eice.counters.active).toBe(0)
})

test('a proxy that cannot connect exits 1 with one line on stderr and nothing on stdout', async () => {
  const r = await run(process.execPath, [CLI, 'proxy', ssm.offlineInstanceId, '--mode', 'ssm'], { env })
  expect(r.code).toBe(1)
  expect(r.stdout.length).toBe(0)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  // Session Manager calls it not connected; EC2 here has no such instance, and the line says which.
  expect(lines[0]).toMatch(/^ec2-push: ssm: Instance i-0fffffffffffffff0 does not exist in us-east-1/)
})

test('proxy refuses nlb and a missing instance id with one-line usage errors', async () => {
  const nlb = await run(process.execPath, [CLI, 'proxy', WEB1, '--mode', 'nlb'], { env })
  expect(nlb.code).toBe(1)
  expect(nlb.stderr).toMatch(/^ec2-push: proxy reaches instances through ssm or eice/)
  const none = await run(process.execPath, [CLI, 'proxy'], { env })
  expect(none.code).toBe(1)
  expect(none.stderr.trim().split('\n')).toHaveLength(1)
  const pushNoUser = await run(process.execPath, [CLI, 'proxy', WEB1, '--push-key', '/x.pub'], { env })
  expect(pushNoUser.stderr).toMatch(/--push-key needs --user/)
})
