import { hostHeaderFor, presignOpenTunnelUrl } from '../../src/tunnel/eice/signer.js'
import { verifyPresignedUrl } from '../../sim/sigv4-verify.js'

// eice-protocol.md section 4.5: all vectors share these inputs.
const base = {
  endpointId: 'eice-123',
  remotePort: 22,
  region: 'us-west-2',
  credentials: { accessKeyId: 'access_key', secretAccessKey: 'secret_key' },
  signingDate: new Date('2020-01-01T01:01:01Z')
}
const CLI_HOST = 'eice-123.ec2-instance-connect-endpoint.us-west-2.amazonaws.com'

function signatureOf(url: string): string {
  return new URL(url).searchParams.get('X-Amz-Signature') ?? ''
}

describe('presignOpenTunnelUrl reproduces the spec vectors', () => {
  test('V1 (the AWS CLI functional test): the whole URL, byte for byte', async () => {
    const url = await presignOpenTunnelUrl({
      ...base,
      dnsName: CLI_HOST,
      privateIpAddress: '10.0.0.0',
      maxTunnelDuration: 1
    })
    expect(url).toBe(
      'wss://eice-123.ec2-instance-connect-endpoint.us-west-2.amazonaws.com/openTunnel?instanceConnectEndpointId=eice-123&remotePort=22&privateIpAddress=10.0.0.0&maxTunnelDuration=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=access_key%2F20200101%2Fus-west-2%2Fec2-instance-connect%2Faws4_request&X-Amz-Date=20200101T010101Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=3a56740422a5b9aebd22d860b7a30c729e459a6f71a83bc0de3a2b44b7353f28'
    )
  })

  test('V2: the session token is inside the signed query', async () => {
    const url = await presignOpenTunnelUrl({
      ...base,
      credentials: { ...base.credentials, sessionToken: 'tok/en+=' },
      dnsName: CLI_HOST,
      privateIpAddress: '10.0.0.0',
      maxTunnelDuration: 1
    })
    expect(signatureOf(url)).toBe('18397d5ad66bc7b8b71e8d8bf150c78b55cce97632d6ca60a00eab9d9d0acaa6')
    expect(url).toContain('X-Amz-Security-Token=tok%2Fen%2B%3D')
  })

  test('V3: IPv6 target, no maxTunnelDuration', async () => {
    const url = await presignOpenTunnelUrl({
      ...base,
      dnsName: CLI_HOST,
      privateIpAddress: '2600:1f10:4f8e:db01:73f5:6b9d:c0da:1c27'
    })
    expect(signatureOf(url)).toBe('6ada39314fdee2cd93d07c4b748d9dc6b18de0b9b1fd0f0649a0caa62bd27353')
    expect(url).toContain('privateIpAddress=2600%3A1f10%3A4f8e%3Adb01%3A73f5%3A6b9d%3Ac0da%3A1c27')
    expect(url).not.toContain('maxTunnelDuration')
  })

  test('V4: a simulator on host:port signs host:port', async () => {
    const url = await presignOpenTunnelUrl({
      ...base,
      dnsName: '127.0.0.1:8443',
      privateIpAddress: '10.0.0.5',
      maxTunnelDuration: 3600
    })
    expect(signatureOf(url)).toBe('1ae2504673b32ee3e05a94bce7d7b7272958bb40588e66c7ad12347dd1f3b235')
    expect(url.startsWith('wss://127.0.0.1:8443/openTunnel?')).toBe(true)
  })
})

describe('host header', () => {
  test('drops :443 and keeps other ports, as Node sends it', () => {
    expect(hostHeaderFor('eice-1.example.com:443')).toBe('eice-1.example.com')
    expect(hostHeaderFor('localhost:9443')).toBe('localhost:9443')
    expect(hostHeaderFor(CLI_HOST)).toBe(CLI_HOST)
  })
})

describe("the simulator's independent verifier agrees with the signer", () => {
  const secrets = new Map([['access_key', { secretAccessKey: 'secret_key' }]])
  const now = base.signingDate.getTime() + 10_000

  test('accepts V1..V4 and rejects tampering and expiry', async () => {
    const url = await presignOpenTunnelUrl({
      ...base,
      dnsName: '127.0.0.1:8443',
      privateIpAddress: '10.0.0.5',
      maxTunnelDuration: 3600
    })
    const u = new URL(url)
    const ok = verifyPresignedUrl({
      pathAndQuery: u.pathname + u.search,
      host: u.host,
      service: 'ec2-instance-connect',
      region: 'us-west-2',
      secrets,
      now
    })
    expect(ok).toEqual({ ok: true, accessKeyId: 'access_key' })

    const tampered = (u.pathname + u.search).replace('remotePort=22', 'remotePort=3389')
    const bad = verifyPresignedUrl({
      pathAndQuery: tampered,
      host: u.host,
      service: 'ec2-instance-connect',
      region: 'us-west-2',
      secrets,
      now
    })
    expect(bad.ok).toBe(false)

    const late = verifyPresignedUrl({
      pathAndQuery: u.pathname + u.search,
      host: u.host,
      service: 'ec2-instance-connect',
      region: 'us-west-2',
      secrets,
      now: now + 61_000
    })
    expect(late).toMatchObject({ ok: false, expired: true })

    const otherHost = verifyPresignedUrl({
      pathAndQuery: u.pathname + u.search,
      host: 'localhost:8443',
      service: 'ec2-instance-connect',
      region: 'us-west-2',
      secrets,
      now
    })
    expect(otherHost.ok).toBe(false)
  })

  test('requires the session token that was signed', async () => {
    const withToken = new Map([['access_key', { secretAccessKey: 'secret_key', sessionToken: 'tok/en+=' }]])
    const url = await presignOpenTunnelUrl({
      ...base,
      credentials: { ...base.credentials, sessionToken: 'tok/en+=' },
      dnsName: CLI_HOST,
      privateIpAddress: '10.0.0.0',
      maxTunnelDuration: 1
    })
    const u = new URL(url)
    const args = { host: u.host, service: 'ec2-instance-connect', region: 'us-west-2', now }
    expect(verifyPresignedUrl({ ...args, pathAndQuery: u.pathname + u.search, secrets: withToken }).ok).toBe(
      true
    )
    const stripped = (u.pathname + u.search).replace(/&X-Amz-Security-Token=[^&]*/, '')
    expect(verifyPresignedUrl({ ...args, pathAndQuery: stripped, secrets: withToken }).ok).toBe(false)
  })
})
