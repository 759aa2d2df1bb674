import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { runBundledAction, type ActionRun } from '../../sim/action-runner.js'
import { testBundles } from '../../sim/bundles.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * The action's `forward` input: the step ends while its listeners live on in a background process;
 * later steps (here: the test) reach real TCP services behind the simulators through them, several
 * connections at once; the post step closes the listeners and ends every session.
 */

useTestBundles()

/** A line service: answers each line with `<name>:<line>`. */
async function lineService(
  name: string
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = ''
    socket.on('data', d => {
      pending += d.toString('latin1')
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        socket.write(`${name}:${pending.slice(0, nl)}\n`)
        pending = pending.slice(nl + 1)
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise(resolve => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/** Send `lines` lines through 127.0.0.1:port and check every answer; resolves with the answers' byte count. */
function converse(port: number, name: string, client: number, lines = 200): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const sent = Array.from({ length: lines }, (_, i) => `client ${client} line ${i} ${'x'.repeat(i * 7)}`)
    const expected = sent.map(l => `${name}:${l}\n`).join('')
    let got = ''
    socket.on('error', reject)
    socket.on('data', d => {
      got += d.toString('latin1')
      if (got.length >= expected.length) {
        socket.end()
        if (got === expected) resolve(got.length)
        else reject(new Error(`client ${client}: unexpected answer`))
      }
    })
    socket.on('close', () => {
      if (got.length < expected.length)
        reject(new Error(`client ${client}: closed after ${got.length} of ${expected.length} bytes`))
    })
    socket.write(sent.map(l => l + '\n').join(''))
  })
}

function refused(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', () => resolve(true))
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

let sandbox: Sandbox
let web: Awaited<ReturnType<typeof lineService>>
let db: Awaited<ReturnType<typeof lineService>>
let runnerTemp: string
const started: number[] = []

beforeAll(async () => {
  sandbox = await startSandbox()
  web = await lineService('web')
  db = await lineService('db')
  // Port 8080 on the instance, and db.internal:5432 that the instance reaches.
  sandbox.ssm.addRoute(sandbox.instanceId, 'localhost:8080', { host: '127.0.0.1', port: web.port })
  sandbox.ssm.addRoute(sandbox.instanceId, 'db.internal:5432', { host: '127.0.0.1', port: db.port })
  runnerTemp = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-forward-runner-'))
  await mkdir(path.join(runnerTemp, 'art'))
  await writeFile(path.join(runnerTemp, 'art', 'index.html'), 'hello\n')
})
afterAll(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL')
  await sandbox?.stop()
  await web?.close()
  await db?.close()
  if (runnerTemp) await rm(runnerTemp, { recursive: true, force: true })
})

function step(inputs: Record<string, string>): Promise<ActionRun> {
  return runBundledAction(
    { 'aws-region': sandbox.region, ...inputs },
    { env: { ...sandbox.env, RUNNER_TEMP: runnerTemp } }
  )
}

async function post(state: Record<string, string>): Promise<ActionRun> {
  return runBundledAction({}, { entry: (await testBundles()).post, state, env: { RUNNER_TEMP: runnerTemp } })
}

test('ssm: a port on the instance and a host behind it, for the rest of the job; the post step ends the sessions', async () => {
  const sessionsBefore = sandbox.ssm.sessions.started.length
  const run = await step({
    mode: 'ssm',
    targets: sandbox.instanceId,
    forward: '0:localhost:8080\ndb.internal:5432'
  })
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  const pid = Number(run.state['forward-pid'])
  started.push(pid)
  expect(alive(pid)).toBe(true)
  const forwards = JSON.parse(run.outputs['forward-ports']) as {
    localPort: number
    host: string
    port: number
  }[]
  expect(forwards.map(f => [f.host, f.port])).toEqual([
    ['localhost', 8080],
    ['db.internal', 5432]
  ])
  expect(run.outputs['forward-port']).toBe(String(forwards[0].localPort))

  // A later step: several connections at once through each listener.
  const webBefore = web.connections()
  const dbBefore = db.connections()
  await Promise.all([
    ...[1, 2, 3, 4].map(c => converse(forwards[0].localPort, 'web', c)),
    ...[5, 6, 7, 8].map(c => converse(forwards[1].localPort, 'db', c))
  ])
  expect(web.connections() - webBefore).toBe(4)
  expect(db.connections() - dbBefore).toBe(4)
  const sessions = sandbox.ssm.sessions.started.slice(sessionsBefore)
  // One session per connection, and one per listener started and ended at once to check the target.
  expect(sessions.filter(s => s.document === 'AWS-StartPortForwardingSession')).toHaveLength(5)
  const remote = sessions.filter(s => s.document === 'AWS-StartPortForwardingSessionToRemoteHost')
  expect(remote).toHaveLength(5)
  expect(remote[0].parameters).toEqual({
    host: ['db.internal'],
    portNumber: ['5432'],
    localPortNumber: ['0']
  })
  expect(sandbox.ssm.violations()).toEqual([])

  const end = await post(run.state)
  expect(end.errors).toEqual([])
  expect(end.code).toBe(0)
  expect(end.stdout).toContain('listeners closed and sessions ended')
  expect(alive(pid)).toBe(false)
  expect(await refused(forwards[0].localPort)).toBe(true)
  expect(await refused(forwards[1].localPort)).toBe(true)
  expect(sandbox.ssm.sessions.unterminated()).toEqual([])
})

test('nlb: the load balancer listener on the forwarded port, several connections, closed by the post step', async () => {
  const run = await step({
    mode: 'nlb',
    targets: `127.0.0.1:${sandbox.sshd.port}`,
    forward: `localhost:${web.port}`
  })
  expect(run.errors).toEqual([])
  const pid = Number(run.state['forward-pid'])
  started.push(pid)
  const port = Number(run.outputs['forward-port'])
  const before = web.connections()
  await Promise.all([1, 2, 3, 4, 5].map(c => converse(port, 'web', c, 400)))
  expect(web.connections() - before).toBe(5)
  const end = await post(run.state)
  expect(end.code).toBe(0)
  expect(alive(pid)).toBe(false)
  expect(await refused(port)).toBe(true)
})

/** Connect to 127.0.0.1:port and read the server's first line (sshd's banner). */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let got = ''
    socket.on('error', reject)
    socket.on('data', d => {
      got += d.toString('latin1')
      if (got.includes('\n')) {
        socket.destroy()
        resolve(got.split('\n')[0].trim())
      }
    })
  })
}

test('eice: port 22 of the instance (the endpoint allows 22 and 3389), several connections at once', async () => {
  const tunnelsBefore = sandbox.eice.counters.opened
  const run = await step({ mode: 'eice', targets: sandbox.eiceInstanceId, forward: 'localhost:22' })
  expect(run.errors).toEqual([])
  const pid = Number(run.state['forward-pid'])
  started.push(pid)
  const port = Number(run.outputs['forward-port'])
  const banners = await Promise.all([1, 2, 3].map(() => firstLine(port)))
  for (const b of banners) expect(b).toMatch(/^SSH-2\.0-OpenSSH/)
  expect(sandbox.eice.counters.opened - tunnelsBefore).toBe(3)
  expect((await post(run.state)).code).toBe(0)
  expect(alive(pid)).toBe(false)
  expect(await refused(port)).toBe(true)
})

test('with files, the deploy runs first and the forward opens after it', async () => {
  const remote = path.join(sandbox.sshd.remoteRoot, 'forward-after-deploy')
  const run = await runBundledAction(
    {
      'aws-region': sandbox.region,
      mode: 'ssm',
      targets: sandbox.instanceId,
      files: path.join(runnerTemp, 'art', '*'),
      'remote-path': remote,
      user: sandbox.sshd.user,
      forward: 'localhost:8080'
    },
    { env: { ...sandbox.env, RUNNER_TEMP: runnerTemp } }
  )
  expect(run.errors).toEqual([])
  expect(Number(run.outputs['files-uploaded'])).toBeGreaterThan(0)
  const pid = Number(run.state['forward-pid'])
  started.push(pid)
  await converse(Number(run.outputs['forward-port']), 'web', 1, 10)
  expect((await post(run.state)).code).toBe(0)
  expect(alive(pid)).toBe(false)
})

test('a host behind the instance over nlb, or a forward that cannot start, fails the step in one line and leaves nothing running', async () => {
  const overNlb = await step({
    mode: 'nlb',
    targets: `127.0.0.1:${sandbox.sshd.port}`,
    forward: '5432:db.internal:5432'
  })
  expect(overNlb.code).not.toBe(0)
  expect(overNlb.errors).toEqual([
    expect.stringMatching(
      /^forward 5432:db\.internal:5432: only Session Manager reaches a host behind the instance/
    )
  ])
  expect(overNlb.state['forward-pid']).toBeUndefined()

  const bad = await step({ mode: 'ssm', targets: sandbox.instanceId, forward: 'db.internal' })
  expect(bad.errors).toEqual([
    expect.stringMatching(/^forward 'db\.internal' is not \[local-port:\]host:port/)
  ])

  const two = await step({
    mode: 'ssm',
    targets: `${sandbox.instanceId},${sandbox.eiceInstanceId}`,
    forward: 'localhost:80'
  })
  expect(two.errors).toEqual([expect.stringMatching(/^Input 'forward' needs exactly one target, got 2/)])
})
