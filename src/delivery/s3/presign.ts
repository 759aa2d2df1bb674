import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentity } from '@smithy/types'
import { NodeSha256, rfc3986 } from '../../tunnel/eice/signer.js'

/**
 * Presigned S3 GET URLs (SigV4 query auth, only `host` signed, UNSIGNED-PAYLOAD, as S3's own
 * presigner makes them). A URL is a bearer credential until it expires: callers mask it.
 * Path-style under a custom endpoint (AWS_ENDPOINT_URL_S3) or for bucket names with dots (their
 * virtual host fails the TLS name check); virtual-hosted otherwise.
 */

export interface S3Location {
  bucket: string
  region: string
  /** A custom endpoint (http://127.0.0.1:port in the sandbox), else AWS's. */
  endpoint?: string
}

export function objectUrlBase(loc: S3Location): { origin: string; pathPrefix: string } {
  if (loc.endpoint) {
    const u = new URL(loc.endpoint)
    return { origin: u.origin, pathPrefix: `${u.pathname.replace(/\/+$/, '')}/${loc.bucket}` }
  }
  const suffix = loc.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  if (loc.bucket.includes('.'))
    return { origin: `https://s3.${loc.region}.${suffix}`, pathPrefix: `/${loc.bucket}` }
  return { origin: `https://${loc.bucket}.s3.${loc.region}.${suffix}`, pathPrefix: '' }
}

export interface Presigner {
  /** A GET URL for `key`, valid for `expiresIn` seconds from now. */
  url(key: string): Promise<string>
}

export function createPresigner(
  loc: S3Location,
  credentials: () => Promise<AwsCredentialIdentity>,
  expiresIn: number,
  signingDate = () => new Date()
): Presigner {
  const base = objectUrlBase(loc)
  const origin = new URL(base.origin)
  return {
    async url(key) {
      const path = `${base.pathPrefix}/${key.split('/').map(rfc3986).join('/')}`
      const signer = new SignatureV4({
        service: 's3',
        region: loc.region,
        credentials: await credentials(),
        sha256: NodeSha256,
        uriEscapePath: false
      })
      const signed = await signer.presign(
        {
          method: 'GET',
          protocol: origin.protocol,
          hostname: origin.hostname,
          port: origin.port ? Number(origin.port) : undefined,
          path,
          query: {},
          headers: { host: origin.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
        },
        { expiresIn, signingDate: signingDate(), unsignableHeaders: new Set(['x-amz-content-sha256']) }
      )
      const q = signed.query ?? {}
      const pairs = Object.keys(q)
        .sort((a, b) => (a === 'X-Amz-Signature' ? 1 : b === 'X-Amz-Signature' ? -1 : 0))
        .map(k => `${rfc3986(k)}=${rfc3986(String(q[k]))}`)
      return `${origin.origin}${path}?${pairs.join('&')}`
    }
  }
}
