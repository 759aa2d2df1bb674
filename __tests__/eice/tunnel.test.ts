import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import WebSocket from 'ws'
import { DUMMY_LONG_TERM_KEY } from '../../sim/aws/credential-store.js'
import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { startEiceSim, type EiceSim } from '../../sim/eice/eice-sim.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { TransientError, UserError } from '../../src/errors.js'
import { tunnelsInUse } from '../../src/tunnel/eice/limiter.js'
import { presignOpenTunnelUrl } from '../../src/tunnel/eice/signer.js'
import {
  capturingLogger,
  eiceTunnel,
  exec,
  failure,
  fastPut,
  resetKnobs,
  sftpOf,
  sha256,
  sshOver
} from './helpers.js'

// createEiceTunnel(...).open() -> ssh2 over the Duplex -> TLS WebSocket simulator -> real OpenSSH sshd.
let sshd: Sshd
let aws: AwsSimServer
let sim: EiceSim
let tmp: string
const saved = process.env.AWS_ENDPOINT_URL_EC2

beforeAll(async () => {
  sshd = await startSshd()
  aws = await startAwsSimServer()
  sim = await startEiceSim({ sshHost: sshd.host, sshPort: sshd.port, awsServer: aws })
  process.env.AWS_ENDPOINT_URL_EC2 = aws.url
  tmp = await mkdtemp(path.join(os.tmpdir(), 'eice-tunnel-test-'))
})
afterAll(async () => {
  if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EC2
  else process.env.AWS_ENDPOINT_URL_EC2 = saved
  await sim?.stop()
  await aws?.close()
  await sshd?.stop()
  if (tmp) await rm(tmp, { recursive: true, force: true })
})
afterEach(() => resetKnobs(sim))

/** Open a presigned URL with plain `ws` and return the rejected upgrade's status and body. */
function rawUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, ca: sim.ca })
    ws.once('open', () => reject(new Error('the simulator accepted the URL')))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', d => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
  })
}

function ended(s: Duplex): Promise<'end' | Error> {
  return new Promise(resolve => {
    s.once('end', () => resolve('end'))
    s.once('error', resolve)
    s.resume()
  })
}

test('exec and a 4 MiB SFTP upload through the tunnel arrive intact; the URL stays secret', async () => {
  const logger = capturingLogger()
  sim.knobs.serverFrameBytes = 'random' // the client must reassemble arbitrary frame boundaries
  const tunnel = await eiceTunnel(sim, logger)
  const ssh = await sshOver(await tunnel.open(), sshd)
  try {
    expect(await exec(ssh, 'echo through-eice')).toEqual({ code: 0, stdout: 'through-eice\n' })
    const data = randomBytes(4 * 1024 * 1024 + 12345)
    const local = path.join(tmp, 'upload.bin')
    await writeFile(local, data)
    const remote = path.join(sshd.remoteRoot, 'upload.bin')
    await fastPut(await sftpOf(ssh), local, remote)
    expect(sha256(await readFile(remote))).toBe(sha256(data))
    const viaExec = await exec(ssh, `sha256sum ${remote}`)
    expect(viaExec.stdout.split(' ')[0]).toBe(sha256(data))
  } finally {
    ssh.end()
    await tunnel.close()
  }
  const event = sim.events.at(-1)!
  expect(event).toMatchObject({
    status: 101,
    endpointId: sim.endpointId,
    remotePort: '22',
    privateIpAddress: '10.0.1.10',
    maxTunnelDuration: '3600',
    accessKeyId: DUMMY_LONG_TERM_KEY.accessKeyId
  })
  // The presigned URL (and its signature) were registered as secrets and no log line carries them.
  const urls = logger.secrets.filter(s => s.startsWith('wss://'))
  expect(urls).toHaveLength(1)
  expect(urls[0]).toContain(
    `wss://${sim.dnsName}/openTunnel?instanceConnectEndpointId=${sim.endpointId}&remotePort=22&privateIpAddress=10.0.1.10&maxTunnelDuration=3600&X-Amz-Algorithm=`
  )
  expect(logger.lines.some(l => l.includes(sim.endpointId))).toBe(true)
  for (const secret of logger.secrets) for (const line of logger.lines) expect(line).not.toContain(secret)
  for (const line of logger.lines) expect(line).not.toMatch(/X-Amz-(Signature|Credential)/)
})

test('open() is repeatable: each call signs a new URL and opens a new tunnel; ending SSH frees the slot', async () => {
  const logger = capturingLogger()
  // One slot: every open() after the first waits for the previous SSH session's end to release it.
  const tunnel = await eiceTunnel(sim, logger, { maxTunnelsPerEndpoint: 1 })
  const before = sim.counters.opened
  for (let i = 0; i < 3; i++) {
    const ssh = await sshOver(await tunnel.open(), sshd)
    expect((await exec(ssh, 'echo again')).stdout).toBe('again\n')
    ssh.end()
  }
  await tunnel.close()
  expect(sim.counters.opened - before).toBe(3)
  expect(logger.secrets.filter(s => s.startsWith('wss://'))).toHaveLength(3)
  expect(aws.calls.filter(c => c.operation === 'DescribeInstanceConnectEndpoints').length).toBeGreaterThan(0)
})

test('random per-frame masks (what the AWS CLI sends) carry the same bytes', async () => {
  const tunnel = await eiceTunnel(sim, capturingLogger(), { frameMask: 'random', maxFrameBytes: 16384 })
  const ssh = await sshOver(await tunnel.open(), sshd)
  try {
    const data = randomBytes(1024 * 1024)
    const local = path.join(tmp, 'masked.bin')
    await writeFile(local, data)
    const remote = path.join(sshd.remoteRoot, 'masked.bin')
    await fastPut(await sftpOf(ssh), local, remote)
    expect(sha256(await readFile(remote))).toBe(sha256(data))
  } finally {
    ssh.end()
    await tunnel.close()
  }
})

describe('each failure is one line that says what to fix', () => {
  const oneLine = (err: Error) => {
    expect(err.message).not.toContain('\n')
    expect(err.message).not.toContain('X-Amz-Signature')
    return err.message
  }

  test('AccessDeniedException names the ec2-instance-connect:OpenTunnel permission and the endpoint ARN', async () => {
    sim.knobs.denyOpenTunnel = true
    const err = await failure((await eiceTunnel(sim, capturingLogger())).open())
    expect(err).toBeInstanceOf(UserError)
    expect(oneLine(err)).toMatch(
      new RegExp(
        `refused the tunnel to ${sim.instanceId} \\(HTTP 403 AccessDeniedException: .*request id [0-9a-f-]{36}\\): the credentials need ec2-instance-connect:OpenTunnel on arn:aws:ec2:us-east-1:123456789012:instance-connect-endpoint/${sim.endpointId}`
      )
    )
  })

  test('a wrong secret is refused by the signature check', async () => {
    const url = await presignOpenTunnelUrl({
      dnsName: sim.dnsName,
      endpointId: sim.endpointId,
      remotePort: 22,
      privateIpAddress: '10.0.1.10',
      maxTunnelDuration: 3600,
      region: sim.region,
      credentials: { accessKeyId: DUMMY_LONG_TERM_KEY.accessKeyId, secretAccessKey: 'wrong-secret' }
    })
    const rejected = await rawUpgrade(url)
    expect(rejected.status).toBe(403)
    expect(JSON.parse(rejected.body)).toEqual({
      ErrorCode: 'AccessDeniedException',
      Message: expect.stringMatching(/^The request signature we calculated does not match/)
    })
  })

  test('a port other than 22/3389 is InvalidParameter with the fix', async () => {
    const err = await failure((await eiceTunnel(sim, capturingLogger(), { port: 2222 })).open())
    expect(err).toBeInstanceOf(UserError)
    expect(oneLine(err)).toMatch(
      /InvalidParameter: The specified RemotePort is not valid.*EICE only tunnels to port 22 or 3389/
    )
  })

  test('"Unable to connect to target" names the security-group rule the instance needs', async () => {
    sim.knobs.unableToConnect = true
    const err = await failure((await eiceTunnel(sim, capturingLogger())).open())
    expect(err).toBeInstanceOf(TransientError)
    expect(oneLine(err)).toMatch(
      /could not reach .* at 10\.0\.1\.10:22 \("Unable to connect to target", close code 4000\): the instance's security group must allow inbound TCP 22 from sg-0e1ce0000000000e1/
    )
  })

  test('an IAM cap on maxTunnelDuration below what is sent is AccessDenied naming the duration', async () => {
    sim.knobs.maxTunnelDurationCap = 900
    const err = await failure((await eiceTunnel(sim, capturingLogger())).open())
    expect(oneLine(err)).toMatch(/maxTunnelDuration 3600/)
    const ok = await eiceTunnel(sim, capturingLogger(), { maxTunnelDurationSeconds: 900 })
    const s = await ok.open()
    s.destroy()
    await ok.close()
  })

  test('the endpoint at its connection limit is a retryable ThrottlingException', async () => {
    sim.knobs.rejectUpgrade = {
      status: 429,
      errorCode: 'ThrottlingException',
      message: 'Too many connections.',
      times: 1
    }
    const err = await failure((await eiceTunnel(sim, capturingLogger())).open())
    expect(err).toBeInstanceOf(TransientError)
    expect(oneLine(err)).toMatch(/limit of 20 open connections/)
  })

  test('an expired presignature is rejected by the simulator (raw URL and through open())', async () => {
    const url = await presignOpenTunnelUrl({
      dnsName: sim.dnsName,
      endpointId: sim.endpointId,
      remotePort: 22,
      privateIpAddress: '10.0.1.10',
      maxTunnelDuration: 3600,
      region: sim.region,
      credentials: { ...DUMMY_LONG_TERM_KEY },
      signingDate: new Date(Date.now() - 120_000)
    })
    const rejected = await rawUpgrade(url)
    expect(rejected.status).toBe(403)
    expect(JSON.parse(rejected.body)).toEqual({
      ErrorCode: 'AccessDeniedException',
      Message: expect.stringMatching(/^Signature expired: /)
    })

    sim.knobs.now = () => Date.now() + 120_000 // the service's clock runs ahead of ours
    const err = await failure((await eiceTunnel(sim, capturingLogger())).open())
    expect(oneLine(err)).toMatch(/Signature expired.*fix the runner's clock/)
  })

  test('a text frame from the endpoint is a protocol error', async () => {
    sim.knobs.sendTextFrame = true
    const err = await failure((await eiceTunnel(sim, capturingLogger())).open())
    expect(err).toBeInstanceOf(TransientError)
    expect(oneLine(err)).toMatch(/sent a text frame, which the tunnel protocol never uses/)
  })

  test('an endpoint that never answers the upgrade hits the handshake timeout', async () => {
    sim.knobs.delayUpgradeMs = 3000
    const err = await failure((await eiceTunnel(sim, capturingLogger(), { handshakeTimeoutMs: 300 })).open())
    expect(err).toBeInstanceOf(TransientError)
    expect(oneLine(err)).toMatch(
      /^Cannot reach EC2 Instance Connect Endpoint .*: Opening handshake has timed out/
    )
  })

  test('an untrusted TLS certificate is a UserError about trust, never a silent bypass', async () => {
    const err = await failure((await eiceTunnel(sim, capturingLogger(), { tlsCaForTests: undefined })).open())
    expect(err).toBeInstanceOf(UserError)
    expect(oneLine(err)).toMatch(
      /TLS certificate is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/
    )
  })
})

describe('tunnel lifetime', () => {
  test('a tunnel cut mid-upload errors the stream; the next open() works and the upload completes', async () => {
    sim.knobs.cutAfterBytes = 1024 * 1024
    sim.knobs.throttleBytesPerSecond = 16 * 1024 * 1024
    const tunnel = await eiceTunnel(sim, capturingLogger())
    const data = randomBytes(3 * 1024 * 1024)
    const local = path.join(tmp, 'cut.bin')
    await writeFile(local, data)
    const remote = path.join(sshd.remoteRoot, 'cut.bin')
    const cutsBefore = sim.counters.cuts
    const firstSock = await tunnel.open()
    const sockError = new Promise<Error>(resolve => firstSock.once('error', resolve))
    const first = await sshOver(firstSock, sshd)
    const closed = new Promise(resolve => first.once('close' as never, resolve))
    first.on('error', () => {})
    // ssh2 leaves fastPut's callback pending when its transport dies; the connection's close is the signal.
    void fastPut(await sftpOf(first), local, remote).catch(() => {})
    await closed
    const cut = await sockError
    expect(cut).toBeInstanceOf(TransientError)
    // Depending on timing the cut shows as the abnormal close (1006) or as the failed write that hit it
    // (`broke: ...`, or the socket's own `write ECONNRESET`).
    expect(cut.message).toMatch(
      new RegExp(
        `closed the tunnel to ${sim.instanceId} \\(close code 1006\\)|EICE tunnel to ${sim.instanceId} through ${sim.endpointId}( broke)?: `
      )
    )
    expect(sim.counters.cuts).toBe(cutsBefore + 1)
    const second = await sshOver(await tunnel.open(), sshd)
    await fastPut(await sftpOf(second), local, remote)
    second.end()
    await tunnel.close()
    expect(sha256(await readFile(remote))).toBe(sha256(data))
  })

  test('the service ending a tunnel at maxTunnelDuration is a clean end of stream', async () => {
    sim.knobs.msPerTunnelSecond = 0.5 // 3600 tunnel-seconds pass in 1.8 s
    const tunnel = await eiceTunnel(sim, capturingLogger())
    const before = sim.counters.closedByDuration
    expect(await ended(await tunnel.open())).toBe('end')
    expect(sim.counters.closedByDuration).toBe(before + 1)
    await tunnel.close()
  })

  test('a tunnel about to expire ends itself cleanly before the service cuts it', async () => {
    const tunnel = await eiceTunnel(sim, capturingLogger(), { maxTunnelDurationSeconds: 2 })
    const before = sim.counters.closedByDuration
    expect(await ended(await tunnel.open())).toBe('end')
    expect(sim.events.at(-1)).toMatchObject({ status: 101, maxTunnelDuration: '2' })
    expect(sim.counters.closedByDuration).toBe(before)
    await tunnel.close()
  })

  test("over a long link too: the margin counts from the request, not from the instance's first bytes", async () => {
    // 400 ms round trips to the endpoint: the service's clock starts well before sshd's banner arrives.
    const farAws = await startAwsSimServer()
    const far = await startEiceSim({
      sshHost: sshd.host,
      sshPort: sshd.port,
      awsServer: farAws,
      wan: { rttMs: 400 }
    })
    process.env.AWS_ENDPOINT_URL_EC2 = farAws.url
    try {
      const tunnel = await eiceTunnel(far, capturingLogger(), { maxTunnelDurationSeconds: 2 })
      expect(await ended(await tunnel.open())).toBe('end')
      expect(far.events.at(-1)).toMatchObject({ status: 101, maxTunnelDuration: '2' })
      expect(far.counters.closedByDuration).toBe(0)
      await tunnel.close()
    } finally {
      process.env.AWS_ENDPOINT_URL_EC2 = aws.url
      await far.stop()
      await farAws.close()
    }
  })
})

describe('concurrency', () => {
  test('no more than maxTunnelsPerEndpoint tunnels are open at once; the rest wait for a slot', async () => {
    const tunnel = await eiceTunnel(sim, capturingLogger(), { maxTunnelsPerEndpoint: 3 })
    sim.counters.peakConcurrent = sim.counters.active
    const openedBefore = sim.counters.opened
    const all = Array.from({ length: 7 }, async () => {
      const s = await tunnel.open()
      expect(tunnelsInUse(sim.endpointId)).toBeLessThanOrEqual(3)
      await new Promise(r => setTimeout(r, 100))
      const done = new Promise(r => s.once('close', r))
      s.destroy()
      await done
    })
    await Promise.all(all)
    expect(sim.counters.opened - openedBefore).toBe(7)
    expect(sim.counters.peakConcurrent).toBeLessThanOrEqual(3)
    expect(sim.counters.peakConcurrent).toBeGreaterThan(1)
    await tunnel.close()
  })

  test("the simulator enforces the endpoint's connection limit with 429", async () => {
    sim.knobs.maxConnections = 2
    const tunnel = await eiceTunnel(sim, capturingLogger(), { maxTunnelsPerEndpoint: 5 })
    const a = await tunnel.open()
    const b = await tunnel.open()
    const err = await failure(tunnel.open())
    expect(err).toBeInstanceOf(TransientError)
    expect(err.message).toMatch(/HTTP 429 ThrottlingException/)
    a.destroy()
    b.destroy()
    await tunnel.close()
  })
})
