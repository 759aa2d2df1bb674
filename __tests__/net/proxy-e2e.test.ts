import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runBundledAction, type ActionRun } from '../../sim/action-runner.js'
import { admitOnlyFrom, type PeerGate } from '../../sim/peer-gate.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { startTinyproxy, type Tinyproxy } from '../../sim/tinyproxy.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * The action behind a real HTTP proxy (tinyproxy, CONNECT): every connection to AWS (the SDK's API
 * calls, the Session Manager data channel, the EICE WebSocket) and the OIDC token request must go
 * through it. The simulators accept connections only from the proxy's outgoing address (127.0.0.2,
 * sim/peer-gate.ts), so anything that bypasses the proxy fails the deploy and is recorded.
 *
 * The AWS simulator listens on this machine's first non-loopback address when it has one:
 * @actions/http-client (core.getIDToken) never proxies loopback addresses, which a runner's token URL
 * never is. The action runs bundled, as the runner runs it.
 */

useTestBundles()
const external = Object.values(os.networkInterfaces())
  .flat()
  .find(a => a && a.family === 'IPv4' && !a.internal)?.address

let sandbox: Sandbox
let proxy: Tinyproxy
let authProxy: Tinyproxy
let gate: PeerGate
let art: string
let n = 0

beforeAll(async () => {
  sandbox = await startSandbox({ awsHost: external })
  proxy = await startTinyproxy()
  authProxy = await startTinyproxy({ user: 'deployer', password: 'Pr0xy-secret' })
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-proxy-art-'))
  await writeFile(path.join(art, 'index.html'), '<h1>through the proxy</h1>\n')
  await writeFile(path.join(art, 'app.js'), 'console.log(1)\n'.repeat(5000))
  gate = admitOnlyFrom(proxy.bindAddress)
})
afterAll(async () => {
  gate?.open()
  await sandbox?.stop()
  await proxy?.stop()
  await authProxy?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})
afterEach(() => {
  gate.refused.length = 0
})

function deploy(inputs: Record<string, string>, env: Record<string, string>): Promise<ActionRun> {
  return runBundledAction(
    {
      files: `${art}/**`,
      user: sandbox.sshd.user,
      'aws-region': sandbox.region,
      retries: '1',
      'remote-path': path.join(sandbox.sshd.remoteRoot, `proxy-${++n}`),
      ...inputs
    },
    { env: { ...sandbox.env, NO_PROXY: '', no_proxy: '', ...env } }
  )
}

async function expectDeployed(run: ActionRun) {
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  expect(run.outputs['files-uploaded']).toBe('2')
  const remote = path.join(sandbox.sshd.remoteRoot, `proxy-${n}`)
  expect(await readFile(path.join(remote, 'index.html'), 'utf8')).toBe('<h1>through the proxy</h1>\n')
}

// The simulators speak http:// and ws:// (HTTP_PROXY) except the EICE endpoint (wss://, HTTPS_PROXY).
const viaProxy = (url: string) => ({ HTTPS_PROXY: url, HTTP_PROXY: url })

test('the simulators refuse a client that does not use the proxy (the check below can fail)', async () => {
  const run = await deploy({ mode: 'ssm', targets: sandbox.instanceId }, {})
  expect(run.code).not.toBe(0)
  expect(gate.refused.length).toBeGreaterThan(0)
})

test('ssm with role-to-assume and a one-time key: OIDC, STS, EC2 Instance Connect, SSM and the data channel all through the proxy', async () => {
  const admitted = gate.admitted
  const tokensBefore = sandbox.credentials.oidc.issued.length
  const startedBefore = sandbox.ssm.sessions.started.length
  const inputs = { mode: 'ssm', targets: sandbox.instanceId, 'role-to-assume': sandbox.credentials.roleArn }
  const run = await deploy(inputs, viaProxy(proxy.url))
  await expectDeployed(run)
  expect(gate.refused).toEqual([])
  expect(sandbox.ssm.sessions.started.length).toBeGreaterThan(startedBefore)
  expect(sandbox.ssm.sessions.unterminated()).toEqual([])
  // API calls (at least STS, SendSSHPublicKey, StartSession, TerminateSession) + the data channel.
  expect(gate.admitted - admitted).toBeGreaterThanOrEqual(2)
  const log = await proxy.log()
  expect(log).toMatch(/CONNECT 127\.0\.0\.1:\d+/) // the data channel
  if (external) {
    expect(log).toContain(`CONNECT ${external}:${sandbox.aws.port}`)
    expect(sandbox.credentials.oidc.issued.length).toBeGreaterThan(tokensBefore)
  }
})

test('eice through a proxy that wants credentials (given in the URL)', async () => {
  const authGate = admitOnlyFrom(authProxy.bindAddress)
  try {
    const inputs = { mode: 'eice', targets: sandbox.eiceInstanceId }
    const run = await deploy(inputs, viaProxy(authProxy.url))
    await expectDeployed(run)
    expect(authGate.refused).toEqual([])
    expect(authGate.admitted).toBeGreaterThanOrEqual(2)
  } finally {
    authGate.open()
    gate = admitOnlyFrom(proxy.bindAddress)
  }
})

test('a proxy that needs credentials, or refuses them, is one line naming it, the password masked', async () => {
  const noCredentials = authProxy.url.replace(/\/\/[^@]*@/, '//')
  const run = await deploy({ mode: 'ssm', targets: sandbox.instanceId }, viaProxy(noCredentials))
  expect(run.code).not.toBe(0)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toContain(`the proxy ${noCredentials} (HTTP_PROXY) needs credentials`)

  const wrong = authProxy.url.replace('Pr0xy-secret', 'wrong-Secret')
  const bad = await deploy({ mode: 'ssm', targets: sandbox.instanceId }, viaProxy(wrong))
  expect(bad.errors).toHaveLength(1)
  expect(bad.errors[0]).toContain(
    `the proxy http://deployer:***@127.0.0.1:${authProxy.port} (HTTP_PROXY) refused the credentials`
  )
  expect(bad.stdout + bad.stderr).not.toContain('wrong-Secret')
})

test('a proxy that is not there is one line naming it', async () => {
  const run = await deploy({ mode: 'ssm', targets: sandbox.instanceId }, viaProxy('http://127.0.0.1:9'))
  expect(run.code).not.toBe(0)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toContain('cannot reach the proxy http://127.0.0.1:9 (HTTP_PROXY)')
})
