import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { DUMMY_LONG_TERM_KEY, SIM_ACCOUNT_ID, SimCredentialStore } from '../aws/credential-store.js'
import {
  verifyAuthorizationHeader,
  verifyPresignedUrl,
  type SecretTable,
  type VerifyResult
} from '../sigv4-verify.js'
import { decodeAwsChunked } from './aws-chunked.js'
import {
  accessDenied,
  noSuchBucket,
  noSuchKey,
  requestId,
  s3Error,
  signatureDoesNotMatch,
  xmlBody,
  type S3Reply
} from './errors.js'

/**
 * An S3 REST endpoint (path-style `/<bucket>/<key>`) on its own loopback port, for what `delivery: s3`
 * uses: PutObject, HeadObject, GetObject, CreateMultipartUpload / UploadPart / CompleteMultipartUpload /
 * AbortMultipartUpload, DeleteObject (GetObject with one byte range too). Every request is SigV4-checked (Authorization header, or a
 * presigned query that expires) by sim/sigv4-verify.ts; x-amz-checksum-sha256 is recomputed on
 * receipt and a mismatch is refused with BadDigest, as S3 does. Fault knobs: deny a key prefix
 * (AccessDenied), corrupt a stored object after upload (one, or every one whose key matches). Counters say how many body bytes came in
 * (the runner's uploads) and went out (the instances' downloads).
 */

interface StoredObject {
  body: Buffer
  etag: string
  /** Base64, the object's own (PutObject) or composite `<b64>-<parts>` (multipart) checksum. */
  checksumSha256?: string
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE'
  lastModified: Date
}

interface Upload {
  bucket: string
  key: string
  checksumAlgorithm?: string
  parts: Map<number, { body: Buffer; etag: string; checksumSha256?: string }>
}

export interface S3Sim {
  url: string
  port: number
  region: string
  createBucket(name: string): void
  /** The stored object, or undefined. */
  object(bucket: string, key: string): StoredObject | undefined
  keys(bucket: string): string[]
  /** Flip a byte of a stored object (its recorded checksum stays: the corruption happened after upload). */
  corrupt(bucket: string, key: string): void
  /** Refuse every request for keys starting with `bucket/prefix` with AccessDenied. */
  deny(bucketAndPrefix: string): void
  /**
   * From now on, every object whose key `pattern` matches is corrupted (a byte flipped) as soon as
   * its upload has been accepted, checksum and all: it changed after upload.
   */
  corruptAfterUpload(pattern: RegExp | undefined): void
  /**
   * From now on, a GET of an object whose key `pattern` matches gets no answer (a stalled fetch)
   * until the pattern is cleared, when the held ones are answered.
   */
  stallGets(pattern: RegExp | undefined): void
  /** Multipart uploads created and neither completed nor aborted (their parts are billed in S3). */
  pendingMultipartUploads(): number
  counters: { bytesIn: number; bytesOut: number; requests: Record<string, number> }
  close(): Promise<void>
}

export interface S3SimOptions {
  region?: string
  /** Keys that may sign requests (defaults to the dummy long-term key). */
  secrets?: SecretTable
  /** The clock presigned URLs are judged by (tests move it to expire them). */
  now?: () => number
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest()
const md5Etag = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`

export async function startS3Sim(opts: S3SimOptions = {}): Promise<S3Sim> {
  const region = opts.region ?? 'us-east-1'
  const now = opts.now ?? Date.now
  let secrets = opts.secrets
  if (!secrets) {
    const store = new SimCredentialStore()
    store.addLongTermKey({ ...DUMMY_LONG_TERM_KEY, account: SIM_ACCOUNT_ID })
    secrets = store
  }
  const buckets = new Map<string, Map<string, StoredObject>>()
  const uploads = new Map<string, Upload>()
  const denied: string[] = []
  let corruptPattern: RegExp | undefined
  const flip = (o: StoredObject) => {
    const body = Buffer.from(o.body)
    body[0] = body.length ? body[0] ^ 0xff : 0
    o.body = body.length ? body : Buffer.from('x')
  }
  /** Store an accepted upload (then corrupt it, when a fault says so). */
  const store = (objects: Map<string, StoredObject>, key: string, o: StoredObject) => {
    objects.set(key, o)
    if (corruptPattern?.test(key)) flip(o)
  }
  const counters = { bytesIn: 0, bytesOut: 0, requests: {} as Record<string, number> }

  const authenticate = (
    req: http.IncomingMessage,
    pathAndQuery: string,
    body: Buffer
  ): S3Reply | undefined => {
    const host = String(req.headers.host ?? '')
    let v: VerifyResult
    if (pathAndQuery.includes('X-Amz-Signature=')) {
      v = verifyPresignedUrl({
        service: 's3',
        region,
        secrets: secrets!,
        now: now(),
        pathAndQuery,
        host,
        method: req.method,
        payloadHash: 'UNSIGNED-PAYLOAD'
      })
    } else {
      const claimed = String(req.headers['x-amz-content-sha256'] ?? '')
      if (!claimed)
        return s3Error(
          400,
          'InvalidRequest',
          'Missing required header for this request: x-amz-content-sha256'
        )
      if (/^[0-9a-f]{64}$/.test(claimed) && claimed !== sha256(body).toString('hex'))
        return s3Error(
          400,
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
      v = verifyAuthorizationHeader({
        service: 's3',
        region,
        secrets: secrets!,
        now: now(),
        method: req.method ?? 'GET',
        pathAndQuery,
        headers: req.headers,
        body
      })
    }
    if (v.ok) return undefined
    switch (v.failure) {
      case 'missing':
        return accessDenied('Anonymous access is forbidden for this operation')
      case 'unknown-key':
        return s3Error(
          403,
          'InvalidAccessKeyId',
          'The AWS Access Key Id you provided does not exist in our records.'
        )
      case 'mismatch':
        return signatureDoesNotMatch(v.message)
      case 'expired':
        return pathAndQuery.includes('X-Amz-Signature=')
          ? accessDenied('Request has expired')
          : s3Error(
              403,
              'RequestTimeTooSkewed',
              'The difference between the request time and the current time is too large.'
            )
      case 'expired-token':
        return s3Error(400, 'ExpiredToken', 'The provided token has expired.')
      default:
        return s3Error(400, 'AuthorizationQueryParametersError', v.message)
    }
  }

  const checkSha256 = (given: string | undefined, body: Buffer): S3Reply | undefined => {
    if (given === undefined) return undefined
    if (sha256(body).toString('base64') !== given)
      return s3Error(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.')
    return undefined
  }

  const handle = (req: http.IncomingMessage, raw: Buffer): S3Reply => {
    const pathAndQuery = req.url ?? '/'
    const url = new URL(pathAndQuery, 'http://s3.local')
    const [, bucket = '', ...rest] = url.pathname.split('/')
    const key = decodeURIComponent(rest.join('/'))
    const q = url.searchParams
    const method = req.method ?? 'GET'
    const op =
      method === 'PUT' && q.has('uploadId')
        ? 'UploadPart'
        : method === 'PUT'
          ? 'PutObject'
          : method === 'POST' && q.has('uploads')
            ? 'CreateMultipartUpload'
            : method === 'POST' && q.has('uploadId')
              ? 'CompleteMultipartUpload'
              : method === 'DELETE' && q.has('uploadId')
                ? 'AbortMultipartUpload'
                : method === 'DELETE'
                  ? 'DeleteObject'
                  : method === 'HEAD'
                    ? 'HeadObject'
                    : 'GetObject'
    counters.requests[op] = (counters.requests[op] ?? 0) + 1
    const authProblem = authenticate(req, pathAndQuery, raw)
    if (authProblem) return method === 'HEAD' ? { ...authProblem, body: undefined } : authProblem
    const objects = buckets.get(bucket)
    if (!objects) return method === 'HEAD' ? { status: 404 } : noSuchBucket(bucket)
    if (!key)
      return s3Error(400, 'InvalidRequest', 'This simulator serves objects only: give /<bucket>/<key>.')
    if (denied.some(d => `${bucket}/${key}`.startsWith(d)))
      return method === 'HEAD' ? { status: 403 } : accessDenied()

    let body = raw
    let trailers: Record<string, string> = {}
    const encoding = String(req.headers['content-encoding'] ?? '')
    if (encoding.split(',').some(e => e.trim() === 'aws-chunked')) {
      const decoded = decodeAwsChunked(raw)
      if ('error' in decoded) return s3Error(400, 'IncompleteBody', decoded.error)
      body = decoded.data
      trailers = decoded.trailers
    }
    const givenSha =
      trailers['x-amz-checksum-sha256'] ?? (req.headers['x-amz-checksum-sha256'] as string | undefined)

    switch (op) {
      case 'PutObject': {
        counters.bytesIn += body.length
        const bad = checkSha256(givenSha, body)
        if (bad) return bad
        const etag = md5Etag(body)
        store(objects, key, {
          body,
          etag,
          checksumSha256: givenSha,
          checksumType: givenSha ? 'FULL_OBJECT' : undefined,
          lastModified: new Date(now())
        })
        return { status: 200, headers: { etag, ...(givenSha ? { 'x-amz-checksum-sha256': givenSha } : {}) } }
      }
      case 'HeadObject':
      case 'GetObject': {
        const o = objects.get(key)
        if (!o)
          return method === 'HEAD'
            ? { status: 404, headers: { 'x-amz-request-id': requestId() } }
            : noSuchKey(key)
        const headers: Record<string, string> = {
          etag: o.etag,
          'content-length': String(o.body.length),
          'content-type': 'application/octet-stream',
          'last-modified': o.lastModified.toUTCString()
        }
        if (o.checksumSha256 && req.headers['x-amz-checksum-mode'] === 'ENABLED') {
          headers['x-amz-checksum-sha256'] = o.checksumSha256
          if (o.checksumType) headers['x-amz-checksum-type'] = o.checksumType
        }
        if (method === 'HEAD') return { status: 200, headers }
        const range = String(req.headers.range ?? '')
        if (range) {
          // One range, as S3 serves it (several ranges in one request it does not support).
          const m = /^bytes=(\d+)-(\d*)$/.exec(range)
          const start = m ? Number(m[1]) : NaN
          const end = m?.[2] ? Math.min(Number(m[2]), o.body.length - 1) : o.body.length - 1
          if (!(start <= end)) return s3Error(416, 'InvalidRange', 'The requested range is not satisfiable')
          const part = o.body.subarray(start, end + 1)
          counters.bytesOut += part.length
          counters.requests.GetObjectRange = (counters.requests.GetObjectRange ?? 0) + 1
          return {
            status: 206,
            headers: {
              ...headers,
              'content-length': String(part.length),
              'content-range': `bytes ${start}-${end}/${o.body.length}`
            },
            body: part
          }
        }
        counters.bytesOut += o.body.length
        return { status: 200, headers, body: o.body }
      }
      case 'CreateMultipartUpload': {
        const uploadId = randomBytes(24).toString('base64url')
        const algorithm = req.headers['x-amz-checksum-algorithm'] as string | undefined
        uploads.set(uploadId, { bucket, key, checksumAlgorithm: algorithm, parts: new Map() })
        return {
          status: 200,
          headers: {
            'content-type': 'application/xml',
            ...(algorithm ? { 'x-amz-checksum-algorithm': algorithm } : {})
          },
          body: xmlBody('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: uploadId })
        }
      }
      case 'UploadPart': {
        const upload = uploads.get(q.get('uploadId') ?? '')
        if (!upload || upload.bucket !== bucket || upload.key !== key)
          return s3Error(
            404,
            'NoSuchUpload',
            'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'
          )
        const n = Number(q.get('partNumber'))
        if (!Number.isInteger(n) || n < 1 || n > 10000)
          return s3Error(
            400,
            'InvalidArgument',
            'Part number must be an integer between 1 and 10000, inclusive'
          )
        counters.bytesIn += body.length
        if (upload.checksumAlgorithm === 'SHA256' && givenSha === undefined)
          return s3Error(
            400,
            'InvalidRequest',
            'The upload was created using a sha256 checksum. The part request must include a checksum header.'
          )
        const bad = checkSha256(givenSha, body)
        if (bad) return bad
        const etag = md5Etag(body)
        upload.parts.set(n, { body, etag, checksumSha256: givenSha })
        return { status: 200, headers: { etag, ...(givenSha ? { 'x-amz-checksum-sha256': givenSha } : {}) } }
      }
      case 'CompleteMultipartUpload': {
        const uploadId = q.get('uploadId') ?? ''
        const upload = uploads.get(uploadId)
        if (!upload || upload.bucket !== bucket || upload.key !== key)
          return s3Error(
            404,
            'NoSuchUpload',
            'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'
          )
        const xml = body.toString('utf8')
        const listed = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(m => ({
          n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1])?.[1]),
          etag: /<ETag>([^<]*)<\/ETag>/.exec(m[1])?.[1]?.replace(/&quot;/g, '"'),
          sha: /<ChecksumSHA256>([^<]*)<\/ChecksumSHA256>/.exec(m[1])?.[1]
        }))
        if (listed.length === 0)
          return s3Error(
            400,
            'MalformedXML',
            'The XML you provided was not well-formed or did not validate against our published schema'
          )
        const chosen: Buffer[] = []
        const digests: Buffer[] = []
        let last = 0
        for (const p of listed) {
          if (p.n <= last)
            return s3Error(
              400,
              'InvalidPartOrder',
              'The list of parts was not in ascending order. The parts list must be specified in order of the part number.'
            )
          last = p.n
          const part = upload.parts.get(p.n)
          if (!part || part.etag !== p.etag)
            return s3Error(
              400,
              'InvalidPart',
              "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            )
          if (upload.checksumAlgorithm === 'SHA256' && p.sha !== part.checksumSha256)
            return s3Error(
              400,
              'InvalidPart',
              `The checksum of part ${p.n} does not match the checksum it was uploaded with.`
            )
          chosen.push(part.body)
          if (part.checksumSha256) digests.push(Buffer.from(part.checksumSha256, 'base64'))
        }
        const whole = Buffer.concat(chosen)
        const composite =
          upload.checksumAlgorithm === 'SHA256'
            ? `${sha256(Buffer.concat(digests)).toString('base64')}-${listed.length}`
            : undefined
        const etag = `"${createHash('md5')
          .update(Buffer.concat(chosen.map(b => createHash('md5').update(b).digest())))
          .digest('hex')}-${listed.length}"`
        store(objects, key, {
          body: whole,
          etag,
          checksumSha256: composite,
          checksumType: composite ? 'COMPOSITE' : undefined,
          lastModified: new Date(now())
        })
        uploads.delete(uploadId)
        return {
          status: 200,
          headers: { 'content-type': 'application/xml' },
          body: xmlBody('CompleteMultipartUploadResult', {
            Location: `/${bucket}/${key}`,
            Bucket: bucket,
            Key: key,
            ETag: etag,
            ChecksumSHA256: composite,
            ChecksumType: composite ? 'COMPOSITE' : undefined
          })
        }
      }
      case 'AbortMultipartUpload':
        uploads.delete(q.get('uploadId') ?? '')
        return { status: 204 }
      case 'DeleteObject':
        objects.delete(key)
        return { status: 204 }
    }
    return s3Error(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented'
    )
  }

  let stallPattern: RegExp | undefined
  const stalled: (() => void)[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const key = decodeURIComponent(
        new URL(req.url ?? '/', 'http://s3.local').pathname.split('/').slice(2).join('/')
      )
      if (req.method === 'GET' && stallPattern?.test(key)) {
        stalled.push(() => answer(req, res, Buffer.concat(chunks)))
        return
      }
      answer(req, res, Buffer.concat(chunks))
    })
  })
  const answer = (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    let out: S3Reply
    try {
      out = handle(req, raw)
    } catch (err) {
      out = s3Error(500, 'InternalError', (err as Error).message)
    }
    if (res.destroyed) return
    res.writeHead(out.status, out.headers ?? {})
    res.end(req.method === 'HEAD' ? undefined : out.body)
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    region,
    createBucket: name => void (buckets.has(name) || buckets.set(name, new Map())),
    object: (b, k) => buckets.get(b)?.get(k),
    keys: b => [...(buckets.get(b)?.keys() ?? [])].sort(),
    corrupt: (b, k) => {
      const o = buckets.get(b)?.get(k)
      if (!o) throw new Error(`no object ${b}/${k} to corrupt`)
      flip(o)
    },
    deny: p => void denied.push(p),
    corruptAfterUpload: p => void (corruptPattern = p),
    pendingMultipartUploads: () => uploads.size,
    stallGets: p => {
      stallPattern = p
      if (!p) for (const go of stalled.splice(0)) go()
    },
    counters,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
