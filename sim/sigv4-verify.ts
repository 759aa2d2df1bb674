import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type http from 'node:http'

/**
 * An independent SigV4 verifier for the simulators (written from the SigV4 spec, not from
 * @smithy/signature-v4, so the client's signer is checked against a second implementation).
 * Handles both forms: query presignatures (EICE tunnel URLs) and Authorization headers (EC2 API).
 */

export interface SimSecret {
  secretAccessKey: string
  /** When set, requests must carry exactly this token (X-Amz-Security-Token). */
  sessionToken?: string
  /** Session keys: requests signed after this instant are refused. */
  expiration?: Date
}
/** A Map, or sim/aws/credential-store.ts's SimCredentialStore (same `get`). */
export interface SecretTable {
  get(accessKeyId: string): SimSecret | undefined
}

export type VerifyFailure =
  | 'missing' // no signature at all
  | 'malformed' // signature parameters present but unusable
  | 'unknown-key' // access key id not in the table
  | 'bad-scope' // wrong service or region in the credential scope
  | 'bad-token' // session token missing or different
  | 'expired-token' // session credentials past their expiration
  | 'mismatch' // recomputed signature differs
  | 'expired' // past X-Amz-Date + X-Amz-Expires (or the header window)
  | 'future' // X-Amz-Date too far ahead of our clock
export type VerifyResult =
  | { ok: true; accessKeyId: string }
  | { ok: false; failure: VerifyFailure; message: string; expired?: boolean }

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const SKEW_MS = 5 * 60_000

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** Split a raw query string into decoded pairs (`+` stays `+`: SigV4 clients send spaces as %20). */
export function parseRawQuery(search: string): [string, string][] {
  const q = search.startsWith('?') ? search.slice(1) : search
  if (!q) return []
  return q.split('&').map(part => {
    const eq = part.indexOf('=')
    const k = eq < 0 ? part : part.slice(0, eq)
    const v = eq < 0 ? '' : part.slice(eq + 1)
    return [safeDecode(k), safeDecode(v)]
  })
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) return undefined
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])
}

function signatureOf(
  secret: string,
  date: string,
  region: string,
  service: string,
  stringToSign: string
): string {
  let key = hmac('AWS4' + secret, date)
  key = hmac(key, region)
  key = hmac(key, service)
  key = hmac(key, 'aws4_request')
  return createHmac('sha256', key).update(stringToSign).digest('hex')
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

interface Common {
  service: string
  region: string
  secrets: SecretTable
  now: number
}

function checkScope(
  credential: string,
  c: Common,
  amzDate: string
): { akid: string; scope: string } | VerifyResult {
  const parts = credential.split('/')
  if (parts.length !== 5 || parts[4] !== 'aws4_request')
    return {
      ok: false,
      failure: 'malformed',
      message: `Credential '${credential}' is not AKID/date/region/service/aws4_request.`
    }
  const [akid, date, region, service] = parts
  if (!c.secrets.get(akid))
    return {
      ok: false,
      failure: 'unknown-key',
      message: `The security token included in the request is invalid (unknown access key ${akid}).`
    }
  if (date !== amzDate.slice(0, 8))
    return {
      ok: false,
      failure: 'bad-scope',
      message: `Credential scope date ${date} does not match X-Amz-Date ${amzDate}.`
    }
  if (service !== c.service)
    return {
      ok: false,
      failure: 'bad-scope',
      message: `Credential should be scoped to correct service: '${c.service}'.`
    }
  if (region !== c.region)
    return {
      ok: false,
      failure: 'bad-scope',
      message: `Credential should be scoped to a valid region: '${c.region}'.`
    }
  return { akid, scope: `${date}/${region}/${service}/aws4_request` }
}

/** Session credentials: not expired, and the request carries exactly their token. */
function checkSessionKey(secret: SimSecret, token: unknown, now: number): VerifyResult | undefined {
  if (secret.expiration && secret.expiration.getTime() < now)
    return {
      ok: false,
      failure: 'expired-token',
      message: 'The security token included in the request is expired.'
    }
  if (secret.sessionToken !== undefined && token !== secret.sessionToken)
    return {
      ok: false,
      failure: 'bad-token',
      message: 'The security token included in the request is invalid.'
    }
  return undefined
}

/** The signature the key's holder would have made over this canonical request, compared with `sig`. */
function checkSignature(
  secret: SimSecret,
  c: Common,
  amzDate: string,
  scope: string,
  canonical: string,
  sig: string
): VerifyResult | undefined {
  const expected = signatureOf(
    secret.secretAccessKey,
    amzDate.slice(0, 8),
    c.region,
    c.service,
    ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n')
  )
  if (sameHex(expected, sig)) return undefined
  return {
    ok: false,
    failure: 'mismatch',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.'
  }
}

/** Verify a presigned (query-auth) GET: `pathAndQuery` is the request target as received. */
export function verifyPresignedUrl(
  args: Common & {
    pathAndQuery: string
    host: string
    method?: string
    defaultWindowSeconds?: number
    /** The canonical request's payload line: S3 presigns with UNSIGNED-PAYLOAD, EICE with the empty body's hash. */
    payloadHash?: string
  }
): VerifyResult {
  const qi = args.pathAndQuery.indexOf('?')
  const path = qi < 0 ? args.pathAndQuery : args.pathAndQuery.slice(0, qi)
  const pairs = parseRawQuery(qi < 0 ? '' : args.pathAndQuery.slice(qi))
  const get = (k: string) => pairs.find(p => p[0] === k)?.[1]
  const sig = get('X-Amz-Signature')
  const algorithm = get('X-Amz-Algorithm')
  const credential = get('X-Amz-Credential')
  const amzDate = get('X-Amz-Date')
  const signedHeaders = get('X-Amz-SignedHeaders')
  if (!sig && !credential) return { ok: false, failure: 'missing', message: 'The request is not signed.' }
  if (!sig || !credential || !amzDate || !signedHeaders || algorithm !== 'AWS4-HMAC-SHA256') {
    return {
      ok: false,
      failure: 'malformed',
      message:
        'X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature are required.'
    }
  }
  const scoped = checkScope(credential, args, amzDate)
  if ('ok' in scoped) return scoped
  const signed = signedHeaders.split(';')
  if (!signed.includes('host'))
    return { ok: false, failure: 'malformed', message: 'The host header must be signed.' }
  if (signed.some(h => h !== 'host'))
    return {
      ok: false,
      failure: 'malformed',
      message: 'Only the host header can be signed on this endpoint.'
    }
  const secret = args.secrets.get(scoped.akid)!
  const keyProblem = checkSessionKey(secret, get('X-Amz-Security-Token'), args.now)
  if (keyProblem) return keyProblem
  const canonical = [
    args.method ?? 'GET',
    path,
    canonicalQuery(pairs.filter(p => p[0] !== 'X-Amz-Signature')),
    `host:${args.host.trim()}\n`,
    'host',
    args.payloadHash ?? EMPTY_SHA256
  ].join('\n')
  const mismatch = checkSignature(secret, args, amzDate, scoped.scope, canonical, sig)
  if (mismatch) return mismatch
  const signedAt = parseAmzDate(amzDate)
  if (signedAt === undefined)
    return { ok: false, failure: 'malformed', message: `X-Amz-Date '${amzDate}' is not yyyyMMddTHHmmssZ.` }
  if (signedAt - args.now > SKEW_MS)
    return {
      ok: false,
      failure: 'future',
      message: `Signature not yet current: ${amzDate} is still later than ${isoBasic(args.now + SKEW_MS)}.`
    }
  const expires = get('X-Amz-Expires')
  const windowS = expires === undefined ? (args.defaultWindowSeconds ?? 900) : Number(expires)
  if (!Number.isInteger(windowS) || windowS < 1 || windowS > 604800)
    return {
      ok: false,
      failure: 'malformed',
      message: `X-Amz-Expires '${expires}' is not a whole number of seconds from 1 to 604800.`
    }
  if (args.now > signedAt + windowS * 1000) {
    return {
      ok: false,
      failure: 'expired',
      expired: true,
      message: `Signature expired: ${isoBasic(signedAt + windowS * 1000)} is now earlier than ${isoBasic(args.now)} (${amzDate} + ${windowS}).`
    }
  }
  return { ok: true, accessKeyId: scoped.akid }
}

/** Verify a header-signed request (Authorization: AWS4-HMAC-SHA256 ...), as the SDK clients send. */
export function verifyAuthorizationHeader(
  args: Common & { method: string; pathAndQuery: string; headers: http.IncomingHttpHeaders; body: Buffer }
): VerifyResult {
  const auth = args.headers.authorization
  if (!auth) return { ok: false, failure: 'missing', message: 'The request is not signed.' }
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      auth
    )
  const amzDate = String(args.headers['x-amz-date'] ?? '')
  if (!m || !amzDate)
    return {
      ok: false,
      failure: 'malformed',
      message:
        'Authorization header is not AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=... or X-Amz-Date is missing.'
    }
  const [, credential, signedHeaders, sig] = m
  const scoped = checkScope(credential, args, amzDate)
  if ('ok' in scoped) return scoped
  const secret = args.secrets.get(scoped.akid)!
  const keyProblem = checkSessionKey(secret, args.headers['x-amz-security-token'], args.now)
  if (keyProblem) return keyProblem
  const names = signedHeaders.split(';')
  if (!names.includes('host'))
    return { ok: false, failure: 'malformed', message: 'The host header must be signed.' }
  const headerLines = names.map(n => {
    const v = args.headers[n]
    const value = (Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')
    return `${n}:${value}\n`
  })
  const qi = args.pathAndQuery.indexOf('?')
  const path = qi < 0 ? args.pathAndQuery : args.pathAndQuery.slice(0, qi)
  const payloadHash = String(args.headers['x-amz-content-sha256'] ?? sha256Hex(args.body))
  const canonical = [
    args.method,
    path,
    canonicalQuery(parseRawQuery(qi < 0 ? '' : args.pathAndQuery.slice(qi))),
    headerLines.join(''),
    signedHeaders,
    payloadHash
  ].join('\n')
  const mismatch = checkSignature(secret, args, amzDate, scoped.scope, canonical, sig)
  if (mismatch) return mismatch
  const signedAt = parseAmzDate(amzDate)
  if (signedAt === undefined || Math.abs(args.now - signedAt) > SKEW_MS) {
    return {
      ok: false,
      failure: 'expired',
      expired: true,
      message: `Request has expired or its time is off by more than 5 minutes (X-Amz-Date ${amzDate}).`
    }
  }
  return { ok: true, accessKeyId: scoped.akid }
}

function isoBasic(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
