import { createHash, randomUUID } from 'node:crypto'
import { verifyAuthorizationHeader, type VerifyFailure } from '../sigv4-verify.js'
import type { SimCredentialStore } from './credential-store.js'
import type { SimAuthOutcome, SimAuthenticator, SimRequest, SimResponse } from './server.js'

/**
 * Server-side SigV4 check for the simulated AWS APIs: recompute the signature of each request from its
 * method, path, query, signed headers and body with the secret of the key it names, and refuse unknown keys,
 * bad signatures, stale signing dates and expired session credentials with the error each service returns.
 */

/** Operations AWS serves without a signature (the caller has no credentials yet). */
const UNSIGNED_OPERATIONS = new Set(['AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML'])

/** AWS refuses signatures dated more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000

type Protocol = 'json' | 'query' | 'ec2'

type Failure = 'missing' | 'incomplete' | 'unknownKey' | 'badSignature' | 'skewed' | 'expired'

/** Status, code and message per protocol, as the real services answer. */
const FAILURES: Record<Failure, Record<Protocol, [number, string]> & { message: string }> = {
  missing: {
    json: [400, 'MissingAuthenticationTokenException'],
    query: [403, 'MissingAuthenticationToken'],
    ec2: [401, 'AuthFailure'],
    message: 'Request is missing Authentication Token'
  },
  incomplete: {
    json: [400, 'IncompleteSignatureException'],
    query: [400, 'IncompleteSignature'],
    ec2: [400, 'IncompleteSignature'],
    message: 'Authorization header requires Credential, SignedHeaders and Signature parameters.'
  },
  unknownKey: {
    json: [400, 'UnrecognizedClientException'],
    query: [403, 'InvalidClientTokenId'],
    ec2: [401, 'AuthFailure'],
    message: 'The security token included in the request is invalid.'
  },
  badSignature: {
    json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'],
    ec2: [403, 'SignatureDoesNotMatch'],
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
  },
  skewed: {
    json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'],
    ec2: [400, 'RequestExpired'],
    message: 'Signature expired: the signing date is more than 15 minutes away from the server time.'
  },
  expired: {
    json: [400, 'ExpiredTokenException'],
    query: [403, 'ExpiredToken'],
    ec2: [400, 'RequestExpired'],
    message: 'The security token included in the request is expired'
  }
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, c => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`)
}

function errorResponse(protocol: Protocol, failure: Failure): { reject: SimResponse; code: string } {
  const [status, code] = FAILURES[failure][protocol]
  const message = FAILURES[failure].message
  const requestId = randomUUID()
  let reject: SimResponse
  if (protocol === 'json') {
    reject = {
      status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
      body: JSON.stringify({ __type: code, message })
    }
  } else if (protocol === 'ec2') {
    reject = {
      status,
      headers: { 'content-type': 'text/xml;charset=UTF-8' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
    }
  } else {
    reject = {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
    }
  }
  return { reject, code }
}

export interface ParsedAuthorization {
  accessKeyId: string
  date: string
  region: string
  service: string
  signedHeaders: string[]
  signature: string
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(header.trim())
  if (!m) return undefined
  const fields = new Map<string, string>()
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const scope = (fields.get('Credential') ?? '').split('/')
  const signedHeaders = (fields.get('SignedHeaders') ?? '').split(';').filter(Boolean)
  const signature = fields.get('Signature') ?? ''
  if (
    scope.length !== 5 ||
    scope[4] !== 'aws4_request' ||
    !signedHeaders.length ||
    !/^[0-9a-f]{64}$/.test(signature)
  ) {
    return undefined
  }
  const [accessKeyId, date, region, service] = scope
  return { accessKeyId, date, region, service, signedHeaders, signature }
}

/** `20240101T120000Z` -> Date */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return undefined
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
}

function headerValue(req: SimRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

function protocolOf(req: SimRequest, service?: string): Protocol {
  if (req.json !== undefined) return 'json'
  if (service === 'ec2' || req.form?.get('Version') === '2016-11-15') return 'ec2'
  return 'query'
}

/** How the shared verifier's findings map to each service's error. */
const FAILURE_OF: Record<VerifyFailure, Failure> = {
  missing: 'missing',
  malformed: 'incomplete',
  'unknown-key': 'unknownKey',
  'bad-scope': 'badSignature',
  'bad-token': 'unknownKey',
  'expired-token': 'expired',
  mismatch: 'badSignature',
  expired: 'skewed',
  future: 'skewed'
}

export interface SigV4AuthenticatorOptions {
  /** The clock requests are judged by (tests may move it). */
  now?: () => number
}

/** An authenticator for `AwsSimServer.setAuthenticator` backed by the store's keys. */
export function createSigV4Authenticator(
  store: SimCredentialStore,
  opts: SigV4AuthenticatorOptions = {}
): SimAuthenticator {
  const now = opts.now ?? Date.now
  return async (req): Promise<SimAuthOutcome> => {
    const header = headerValue(req, 'authorization')
    const isAwsOperation = req.json !== undefined || req.form !== undefined
    if (!header?.startsWith('AWS4-')) {
      // Plain routes (the OIDC token endpoint with its bearer token) and unsigned STS operations pass;
      // any other AWS operation without a signature is refused as the service would.
      if (!isAwsOperation || UNSIGNED_OPERATIONS.has(req.operation)) return {}
      return errorResponse(protocolOf(req), 'missing')
    }
    const auth = parseAuthorization(header)
    if (!auth) return errorResponse(protocolOf(req), 'incomplete')
    const protocol = protocolOf(req, auth.service)
    const amzDate = headerValue(req, 'x-amz-date')
    const signingDate = amzDate ? parseAmzDate(amzDate) : undefined
    if (!signingDate || !auth.signedHeaders.includes('host') || !amzDate?.startsWith(auth.date)) {
      return errorResponse(protocol, 'incomplete')
    }
    const key = store.get(auth.accessKeyId)
    if (!key) return errorResponse(protocol, 'unknownKey')
    // A signed payload hash must be the hash of the body that arrived.
    const claimedHash = headerValue(req, 'x-amz-content-sha256')
    if (claimedHash && claimedHash !== 'UNSIGNED-PAYLOAD') {
      if (claimedHash !== createHash('sha256').update(req.body).digest('hex'))
        return errorResponse(protocol, 'badSignature')
    }
    // The signature itself is recomputed by the simulators' own SigV4 implementation (not the SDK's
    // signer, so the client's signing is checked against a second implementation).
    const v = verifyAuthorizationHeader({
      method: req.method,
      pathAndQuery: req.path,
      headers: req.headers,
      body: req.body,
      service: auth.service,
      region: auth.region,
      secrets: store,
      now: signingDate.getTime()
    })
    if (!v.ok) return errorResponse(protocol, FAILURE_OF[v.failure])
    if (Math.abs(now() - signingDate.getTime()) > MAX_SKEW_MS) return errorResponse(protocol, 'skewed')
    if (key.expiration && now() >= key.expiration.getTime()) return errorResponse(protocol, 'expired')
    return { accessKeyId: key.accessKeyId }
  }
}
