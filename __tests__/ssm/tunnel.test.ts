import { UserError } from '../../src/errors.js'
import { startSshd, Sshd } from '../../sim/sshd.js'
import { startSsmSim, SsmSim } from '../../sim/ssm/index.js'
import {
  allTerminated,
  capturingLogger,
  expectTokensKeptSecret,
  endSsh,
  exec,
  makeFiles,
  sshOver,
  tunnelFor,
  uploadAndVerify,
  useSimEnv
} from './helpers.js'

let sshd: Sshd
let sim: SsmSim
let files: Awaited<ReturnType<typeof makeFiles>>

beforeAll(async () => {
  sshd = await startSshd()
  sim = await startSsmSim({ sshHost: sshd.host, sshPort: sshd.port })
  useSimEnv(sim)
  files = await makeFiles([1536 * 1024, 1024 * 1024, 300 * 1024, 7, 0])
})

afterAll(async () => {
  await sim?.close()
  await sshd?.stop()
  await files?.cleanup()
})

afterEach(() => sim.setFaults({}))

describe('ssm tunnel against the simulator and a real sshd', () => {
  it('runs SSH over the data channel: exec, SFTP upload verified by sha256, session terminated, token never logged', async () => {
    const logger = capturingLogger()
    const tunnel = tunnelFor(sim, logger)
    const sock = await tunnel.open()
    const client = await sshOver(sock, sshd)
    const hello = await exec(client, 'echo hello-over-ssm')
    expect(hello).toEqual({ code: 0, stdout: 'hello-over-ssm\n' })
    await uploadAndVerify(client, sshd, files.files, 'plain')
    await endSsh(client, sock)
    await tunnel.close()

    expect(await allTerminated(sim)).toEqual([])
    expect(sim.sessions.started).toHaveLength(1)
    const record = sim.sessionRecords()[0]
    expect(record.handshakeCompleted).toBe(true)
    expect(record.clientVersion).toBe('1.0.0.0')
    expect(record.discardedBeforeHandshake).toBe(0)
    expect(sim.violations()).toEqual([])
    expectTokensKeptSecret(sim.sessionRecords(), logger)
    expect(logger.lines.some(l => l.includes('handshake complete'))).toBe(true)
  })
})

/** Run SSH over a fresh tunnel and return the error the tunnel's stream (or open) failed with. */
async function failureOf(over: Parameters<typeof tunnelFor>[2] = {}, withUpload = false): Promise<Error> {
  const tunnel = tunnelFor(sim, capturingLogger(), over)
  try {
    const sock = await tunnel.open()
    const sockError = new Promise<Error>(resolve => sock.once('error', resolve))
    const work = (async () => {
      const client = await sshOver(sock, sshd)
      if (withUpload) await uploadAndVerify(client, sshd, files.files, `fail-${Date.now()}`)
      client.end()
      return new Error('no failure')
    })().catch(err => err as Error)
    return await Promise.race([
      sockError,
      work.then(
        async e => (await Promise.race([sockError, new Promise(r => setTimeout(r, 2000, e))])) as Error
      )
    ])
  } catch (err) {
    return err as Error
  } finally {
    await tunnel.close()
  }
}

describe('ssm tunnel errors: one line, says what to check, session always terminated', () => {
  afterEach(async () => {
    expect(await allTerminated(sim)).toEqual([])
    expect(sim.violations()).toEqual([])
  })

  it('TargetNotConnected names the agent and the route to ssm/ssmmessages', async () => {
    const err = await failureOf({ instanceId: sim.offlineInstanceId })
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).not.toContain('\n')
    expect(err.message).toMatch(/not connected/)
    expect(err.message).toMatch(/SSM Agent/)
    expect(err.message).toMatch(/ssmmessages/)
    expect(err.message).toMatch(/NAT|VPC interface endpoints/)
  })

  it('AccessDeniedException names ssm:StartSession on the instance and the document', async () => {
    sim.deny(sim.instanceId)
    try {
      const err = await failureOf()
      expect(err).toBeInstanceOf(UserError)
      expect(err.message).toMatch(/ssm:StartSession/)
      expect(err.message).toContain(`instance/${sim.instanceId}`)
      expect(err.message).toContain('document/AWS-StartSSHSession')
    } finally {
      sim.allow(sim.instanceId)
    }
  })

  it('InvalidDocument says which document', async () => {
    const err = await failureOf({ document: 'AWS-NoSuchDocument' as 'AWS-StartSSHSession' })
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).toMatch(/AWS-NoSuchDocument/)
    expect(err.message).toMatch(/ssm-document/)
  })

  it('channel_closed (the agent cannot reach sshd) surfaces its Output as a one-line error', async () => {
    sim.setFaults({ dialFails: true })
    const err = await failureOf()
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).not.toContain('\n')
    expect(err.message).toMatch(/Unable to connect to specified port/)
    expect(err.message).toMatch(/something listens on port 22 on the instance/)
  })

  it('channel_closed right after the handshake with the service text', async () => {
    sim.setFaults({ channelClosedAfterHandshake: '\n----------ERROR-------\nSession is already terminated' })
    const err = await failureOf()
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).toMatch(/Session is already terminated/)
  })

  it('a handshake that never completes fails with a clear error', async () => {
    sim.setFaults({ handshakeNeverCompletes: true })
    const err = await failureOf({ timeouts: { handshakeMs: 1500 } })
    expect(err.message).toMatch(/did not complete the session handshake/)
  })

  it('KMSEncryption in the handshake is answered as unsupported and reported', async () => {
    sim.setFaults({ requestKms: true })
    const err = await failureOf()
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).toMatch(/KMS encryption/)
    const record = sim.sessionRecords().at(-1)!
    expect(record.endedWith).toMatch(/KMSEncryption failed on client with status 3/)
  })

  it('cancel during the handshake rejects and still terminates the session', async () => {
    sim.setFaults({ handshakeNeverCompletes: true })
    const tunnel = tunnelFor(sim, capturingLogger())
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 300)
    await expect(tunnel.open(ac.signal)).rejects.toThrow(/cancelled/)
    await tunnel.close()
  })

  it('close() while a stream is open terminates its session', async () => {
    const tunnel = tunnelFor(sim, capturingLogger())
    const sock = await tunnel.open()
    const closed = new Promise(resolve => sock.once('close', resolve))
    await tunnel.close()
    await closed
  })

  it('a frame above the service limit fails loudly', async () => {
    sim.setFaults({ maxFramePayload: 1024 })
    const err = await failureOf({ frameSize: 4096 }, true)
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).toMatch(/exceeds the maximum accepted frame size/)
  })

  it('the API refuses unsigned requests and wrong secrets like AWS', async () => {
    const res = await fetch(sim.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.StartSession', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ Target: sim.instanceId, DocumentName: 'AWS-StartSSHSession' })
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException')
    const err = await failureOf({
      aws: { region: sim.region, credentials: async () => ({ ...sim.credentials, secretAccessKey: 'wrong' }) }
    })
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).toMatch(/InvalidSignatureException/)
  })
})

describe('ssm tunnel: AWS-StartPortForwardingSession (basic mode)', () => {
  it('carries SSH with a ClientVersion that keeps the agent out of smux', async () => {
    const tunnel = tunnelFor(sim, capturingLogger(), { document: 'AWS-StartPortForwardingSession' })
    const sock = await tunnel.open()
    const client = await sshOver(sock, sshd)
    await uploadAndVerify(client, sshd, files.files.slice(2), 'port-forwarding')
    await endSsh(client, sock)
    await tunnel.close()
    const start = sim.sessions.started.at(-1)!
    expect(start.document).toBe('AWS-StartPortForwardingSession')
    expect(start.parameters.portNumber).toEqual(['22'])
    expect(await allTerminated(sim)).toEqual([])
    expect(sim.violations()).toEqual([])
  })
})
