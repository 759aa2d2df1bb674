import { createHash, createHmac, type BinaryLike } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentity, Checksum, SourceData } from '@smithy/types'

/** SigV4 signing name of the EICE tunnel endpoint (not `ec2`). */
export const EICE_SIGNING_SERVICE = 'ec2-instance-connect'
/** The AWS CLI signs every tunnel URL for 60 s and opens it at once; so do we. */
export const PRESIGN_EXPIRES_SECONDS = 60
/** The service ends every tunnel after at most this many seconds. */
export const MAX_TUNNEL_SECONDS = 3600

export interface OpenTunnelParams {
  /** The endpoint's DNS name exactly as the API returned it (the simulator adds `:port`). */
  dnsName: string
  endpointId: string
  remotePort: number
  /** IPv4 dotted quad or IPv6 text of the target. */
  privateIpAddress: string
  /** 1..3600; omitted from the URL when undefined (only the test vectors do that). */
  maxTunnelDuration?: number
  region: string
  credentials: AwsCredentialIdentity
  /** Signing time; tests pin it, production uses now. */
  signingDate?: Date
}

/** SHA-256 for @smithy/signature-v4 from node:crypto (keeps @smithy/hash-node out of the dependency list). */
export class NodeSha256 implements Checksum {
  private hash
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh()
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBinary(this.secret))
  }
  update(data: Uint8Array): void {
    this.hash.update(data)
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
  reset(): void {
    this.hash = this.fresh()
  }
}

function toBinary(data: SourceData): BinaryLike {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}

/**
 * The value Node's http client sends as Host for `wss://<dnsName>`: the name, plus `:port` unless
 * the port is 443. The signature covers this header, so it must match byte for byte.
 */
export function hostHeaderFor(dnsName: string): string {
  return new URL(`wss://${dnsName}/`).host
}

/**
 * Build the presigned `wss://<DnsName>/openTunnel?...` URL (SigV4 query auth, only `host` signed,
 * empty-body payload hash, session token inside the signed query). The URL is a bearer credential
 * for 60 s: callers must mask it before it can reach a log.
 */
export async function presignOpenTunnelUrl(p: OpenTunnelParams): Promise<string> {
  const host = hostHeaderFor(p.dnsName)
  const url = new URL(`wss://${host}/openTunnel`)
  const query: Record<string, string> = {
    instanceConnectEndpointId: p.endpointId,
    remotePort: String(p.remotePort),
    privateIpAddress: p.privateIpAddress
  }
  if (p.maxTunnelDuration !== undefined) query.maxTunnelDuration = String(p.maxTunnelDuration)
  const signer = new SignatureV4({
    service: EICE_SIGNING_SERVICE,
    region: p.region,
    credentials: p.credentials,
    sha256: NodeSha256
  })
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'wss:',
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: '/openTunnel',
      query,
      // Without an explicit host header smithy signs no headers at all; the service needs `host`.
      headers: { host }
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: p.signingDate ?? new Date() }
  )
  // Operation parameters first, then the X-Amz-* ones with the signature last, as the CLI emits them.
  const order = (k: string) => (k === 'X-Amz-Signature' ? 2 : k.startsWith('X-Amz-') ? 1 : 0)
  const signedQuery = signed.query ?? {}
  const keys = Object.keys(signedQuery).sort((a, b) => order(a) - order(b))
  const pairs = keys.map(k => `${rfc3986(k)}=${rfc3986(String(signedQuery[k]))}`)
  return `wss://${host}/openTunnel?${pairs.join('&')}`
}

/** encodeURIComponent leaves !'()* alone; SigV4 (and the service) encode them. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}
