import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm'
import { startSsmSim, type SsmSim } from '../../sim/ssm/index.js'

/**
 * The simulator's AWS-StartPortForwardingSessionToRemoteHost refuses what the service refuses: a
 * missing host, parameters outside the document's patterns, parameters the document does not define.
 */

let sim: SsmSim
let client: SSMClient
beforeAll(async () => {
  sim = await startSsmSim({ sshHost: '127.0.0.1', sshPort: 1 })
  client = new SSMClient({
    region: sim.region,
    endpoint: sim.url,
    credentials: sim.credentials
  })
})
afterAll(async () => {
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
