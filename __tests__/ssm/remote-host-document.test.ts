import net from 'node:net'
import type { Duplex } from 'node:stream'
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm'
import { startSsmSim, type SsmSim } from '../../sim/ssm/index.js'
import { capturingLogger, tunnelFor, useSimEnv } from './helpers.js'

/**
 * The simulator's AWS-StartPortForwardingSessionToRemoteHost refuses what the service refuses: a
 * missing host, parameters outside the document's patterns, parameters the document does not define.
 * Its agent does what amazon-ssm-agent's port plugin does after the handshake (read there, in
 * agent/session/plugins/port): a host that does not resolve, a denied address and a refused
 * connection each end the session with the plugin's own line as its output, with no error banner; a
 * reconnect that fails later ends it with no output. Seen through ec2-push's own ssm tunnel.
 */

let sim: SsmSim
let client: SSMClient
let echo: net.Server
const echoSockets = new Set<net.Socket>()
beforeAll(async () => {
  sim = await startSsmSim({ sshHost: '127.0.0.1', sshPort: 1 })
  useSimEnv(sim)
  echo = net.createServer(s => {
    echoSockets.add(s)
    s.on('close', () => echoSockets.delete(s))
    s.pipe(s)
  })
  await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve))
  sim.addRoute(sim.instanceId, 'cache.internal:6379', {
    host: '127.0.0.1',
    port: (echo.address() as net.AddressInfo).port
  })
  client = new SSMClient({
    region: sim.region,
    endpoint: sim.url,
    credentials: sim.credentials
  })
})
afterAll(async () => {
  echo?.close()
  client?.destroy()
  await sim?.close()
})

const start = (parameters: Record<string, string[]>) =>
  client.send(
    new StartSessionCommand({
      Target: sim.instanceId,
      DocumentName: 'AWS-StartPortForwardingSessionToRemoteHost',
      Parameters: parameters
    })
  )

test.each([
  [{ portNumber: ['5432'] }, /Parameter "host" is required/],
  [{ host: ['db;rm'], portNumber: ['5432'] }, /Parameter "host" value db;rm does not match/],
  [{ host: ['db.internal'], portNumber: ['0'] }, /Parameter "portNumber" value 0 does not match/],
  [{ host: ['db.internal'], portNumber: ['65536'] }, /Parameter "portNumber" value 65536 does not match/],
  [{ host: ['db.internal'], portNumber: ['05432'] }, /does not match/],
  [{ host: ['db.internal'], portNumber: ['5432'], localPortNumber: ['x'] }, /localPortNumber/],
  [{ host: ['db.internal'], portNumber: ['5432'], type: ['x'] }, /Parameter "type" is not defined/]
])('%j is refused (InvalidParameters)', async (parameters, message) => {
  await expect(start(parameters)).rejects.toMatchObject({
    name: 'InvalidParameters',
    message: expect.stringMatching(message)
  })
})

test('a valid request starts a session whose handshake names the host', async () => {
  const out = await start({ host: ['db.internal'], portNumber: ['5432'], localPortNumber: ['0'] })
  expect(out.SessionId).toBeTruthy()
  const spec = sim.dataChannel.session(out.SessionId!)!.spec
  expect(spec.properties).toEqual({
    host: 'db.internal',
    portNumber: '5432',
    localPortNumber: '0',
    type: 'LocalPortForwarding'
  })
})

function remoteHostTunnel(host: string, port: number) {
  return tunnelFor(sim, capturingLogger(), {
    document: 'AWS-StartPortForwardingSessionToRemoteHost',
    host,
    port
  })
}

/**
 * Open a session to host:port (open() returns once the handshake is done; the agent dials after it)
 * and return how the stream failed, and the output the agent ended the session with.
 */
async function refusal(host: string, port: number): Promise<{ error: string; output?: string }> {
  const tunnel = remoteHostTunnel(host, port)
  const before = sim.sessions.started.length
  try {
    // The agent may end the session before open() has returned, or just after.
    const error = await tunnel.open().then(
      stream =>
        new Promise<string>(resolve => {
          stream.once('error', err => resolve(err.message))
          stream.once('close', () => resolve('closed without an error'))
        }),
      (err: Error) => err.message
    )
    const session = sim.dataChannel.session(sim.sessions.started[before].sessionId)
    return { error, output: session?.record.endedWith }
  } finally {
    await tunnel.close()
  }
}

test.each([
  [
    'cache.internal',
    5432,
    'Unable to connect to specified port: dial tcp cache.internal:5432: connect: connection refused'
  ],
  [
    '10.0.7.7',
    5432,
    'Unable to connect to specified port: dial tcp 10.0.7.7:5432: connect: connection refused'
  ],
  ['no-such-host.internal', 5432, 'Unable to connect to specified port: missing address'],
  ['169.254.169.254', 80, 'Forwarding to IP address 169.254.169.254 is forbidden.']
])('%s:%s: the agent ends the session with "%s"', async (host, port, output) => {
  const open = sim.sessions.unterminated()
  const r = await refusal(host, port)
  expect(r.output).toBe(output)
  expect(r.error).toBe(
    `ssm: Session Manager closed the session on ${sim.instanceId}: ${output} (check that the SSM Agent is online and up to date and that the instance reaches ${host}:${port})`
  )
  expect(sim.sessions.unterminated()).toEqual(open)
})

test('a host that closes the connection: the session stays; new data redials, and a failed redial ends it silently', async () => {
  const open = sim.sessions.unterminated()
  const tunnel = remoteHostTunnel('cache.internal', 6379)
  const before = sim.sessions.started.length
  const stream = await tunnel.open()
  const session = sim.dataChannel.session(sim.sessions.started[before].sessionId)!
  try {
    expect(await roundTrip(stream, 'one\n')).toBe('one\n')
    // The host drops the connection: the port plugin keeps the session and waits for client data.
    // Data sent before the agent has seen the close would be written into the closing connection and
    // lost (there as here), so the test waits for the agent, not for a time.
    for (const s of echoSockets) s.destroy()
    await until(() => session.record.targetCloses === 1, 'the agent to see the host close')
    expect(session.record.endedWith).toBeUndefined()
    expect(await roundTrip(stream, 'two\n')).toBe('two\n')
    // The host goes away: the reconnect on the next data fails and the session ends with no output.
    echo.close()
    for (const s of echoSockets) s.destroy()
    await until(() => session.record.targetCloses === 2, 'the agent to see the host close again')
    const ended = new Promise<string>(resolve => {
      stream.once('end', () => resolve('ended'))
      stream.once('error', err => resolve(err.message))
    })
    stream.resume()
    stream.write('three\n')
    // The client takes a channel_closed with no output as the end of the stream, not a failure.
    expect(await ended).toBe('ended')
    expect(session.record.endedWith).toBe('')
  } finally {
    stream.destroy()
    await tunnel.close()
  }
  expect(sim.sessions.unterminated()).toEqual(open)
})

/** Wait (bounded) for something the simulator records. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise(r => setTimeout(r, 10))
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

function roundTrip(stream: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const onData = (d: Buffer) => {
      got += d
      if (got.length >= text.length) {
        stream.off('data', onData)
        resolve(got)
      }
    }
    stream.on('data', onData)
    stream.once('error', reject)
    stream.write(text)
  })
}
