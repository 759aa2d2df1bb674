import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { SourceData } from '@smithy/types'
import type { SimRequest } from '../aws/server.js'

/**
 * Checks a request's `Authorization: AWS4-HMAC-SHA256 ...` header the way an AWS JSON service front
 * end does: present and well formed, scoped to the right service (and region, when told), dated
 * within 5 minutes, and, when a credential table is given, signed with the right secret (the
 * signature is recomputed with @smithy/signature-v4 over exactly the headers the client signed).
 * Error codes and messages are the generic ones AWS JSON services answer with.
 */

export interface SigV4Credential {
  secretAccessKey: string
  sessionToken?: string
}

export interface SigV4HeaderCheck {
  service: string
  /** Require this region in the credential scope. */
  region?: string
  /** accessKeyId -> secret; without it any key id is accepted (only the shape is checked). */
  credentials?: Record<string, SigV4Credential>
}

export type SigV4Result = { ok: true; accessKeyId: string } | { ok: false; type: string; message: string }

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

/** The hash constructor SignatureV4 wants, backed by node:crypto. */
class NodeSha256 {
  private readonly h
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret))
  }
  update(data: SourceData): void {
    this.h.update(toBuffer(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest())
  }
}

const fail = (type: string, message: string): SigV4Result => ({ ok: false, type, message })

/** `20260102T030405Z` -> Date, or undefined. */
function parseAmzDate(v: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v)
  if (!m) return undefined
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
}

export async function checkSigV4Header(req: SimRequest, check: SigV4HeaderCheck): Promise<SigV4Result> {
  const auth = req.headers['authorization']
  if (typeof auth !== 'string' || !auth)
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token')
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      auth
    )
  if (!m) {
    return fail(
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth.split(' ')[0]}`
    )
  }
  const [, credential, signedHeadersList, signature] = m
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = credential.split('/')
  if (!accessKeyId || !scopeDate || !scopeRegion || terminator !== 'aws4_request') {
    return fail('IncompleteSignatureException', `Credential is malformed: ${credential}`)
  }
  if (scopeService !== check.service) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${check.service}'.`
    )
  }
  if (check.region && scopeRegion !== check.region) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${scopeRegion}'.`
    )
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '')
  const signingDate = parseAmzDate(amzDate)
  if (!signingDate || amzDate.slice(0, 8) !== scopeDate) {
    return fail(
      'IncompleteSignatureException',
      'Date must be in ISO-8601 basic format and match the credential scope date.'
    )
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) {
    return fail(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier or later than 5 minutes from the current time.`
    )
  }
  const signed = signedHeadersList.split(';')
  if (!signed.includes('host')) return fail('InvalidSignatureException', "'Host' must be a signed header.")
  if (!check.credentials) return { ok: true, accessKeyId }

  const cred = check.credentials[accessKeyId]
  if (!cred)
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.')
  const token = req.headers['x-amz-security-token']
  if ((cred.sessionToken ?? undefined) !== (typeof token === 'string' ? token : undefined)) {
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.')
  }

  // Recompute over exactly the headers the client signed.
  const headers: Record<string, string> = {}
  for (const name of signed) {
    const v = req.headers[name]
    if (v === undefined)
      return fail('InvalidSignatureException', `Signed header '${name}' is missing from the request.`)
    headers[name] = Array.isArray(v) ? v.join(',') : v
  }
  const url = new URL(req.path, 'http://sim')
  const query: Record<string, string> = {}
  url.searchParams.forEach((v, k) => (query[k] = v))
  const [hostname, port] = headers['host'].split(':')
  const signer = new SignatureV4({
    service: scopeService,
    region: scopeRegion,
    credentials: { accessKeyId, secretAccessKey: cred.secretAccessKey, sessionToken: cred.sessionToken },
    sha256: NodeSha256,
    applyChecksum: false
  })
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname,
      port: port ? Number(port) : undefined,
      path: url.pathname,
      query,
      headers,
      body: req.body
    },
    { signingDate }
  )
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers['authorization'] ?? ''))?.[1] ?? ''
  if (expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return fail(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
    )
  }
  return { ok: true, accessKeyId }
}
