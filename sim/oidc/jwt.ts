import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'

/** RS256 JSON Web Tokens over node:crypto, enough to issue and check OIDC ID tokens like GitHub's. */

export interface RsaSigningKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
}

export function generateSigningKey(kid = 'sim-oidc-key-1'): RsaSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, privateKey, publicKey }
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url')

export function signJwt(claims: Record<string, unknown>, key: RsaSigningKey): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid }))
  const payload = b64url(JSON.stringify(claims))
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey)
  return `${header}.${payload}.${b64url(signature)}`
}

export interface DecodedJwt {
  header: Record<string, unknown>
  claims: Record<string, unknown>
  signedPart: string
  signature: Buffer
}

/** Splits and parses a compact JWT without checking it; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'))
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    if (typeof header !== 'object' || typeof claims !== 'object' || !header || !claims) return undefined
    return {
      header,
      claims,
      signedPart: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url')
    }
  } catch {
    return undefined
  }
}

/** True when the token is RS256 and signed by `publicKey`. */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  if (jwt.header.alg !== 'RS256') return false
  return verify('sha256', Buffer.from(jwt.signedPart), publicKey, jwt.signature)
}
