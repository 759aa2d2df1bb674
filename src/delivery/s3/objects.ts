import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { runPool } from '../../fleet/pool.js'
import { s3Failure } from './errors.js'

/**
 * Content-addressed objects: each distinct file goes up once as `<prefix>/objects/<sha256>`, and
 * only when HeadObject says it is not there yet (a redeploy uploads only what changed). Every
 * object carries S3's SHA-256 checksum, so S3 refuses bytes that changed on the way: a small file
 * with the digest computed before (PutObject's x-amz-checksum-sha256), a large one in parts through
 * lib-storage, each part checksummed.
 */

export const MULTIPART_THRESHOLD = 16 * 1024 * 1024
const PART_SIZE = 8 * 1024 * 1024
const OBJECTS_IN_FLIGHT = 16

/** A file to upload (read from localPath), or bytes already in memory (the pack). */
export interface LocalObject {
  sha256: string
  size: number
  localPath?: string
  body?: Buffer
}

export interface UploadSummary {
  uploaded: number
  skipped: number
  bytes: number
}

export function objectKey(prefix: string, sha256: string): string {
  return `${prefix ? prefix + '/' : ''}objects/${sha256}`
}

export async function uploadObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
  objects: LocalObject[],
  signal?: AbortSignal
): Promise<UploadSummary> {
  const unique = [...new Map(objects.map(o => [o.sha256, o])).values()]
  const out: UploadSummary = { uploaded: 0, skipped: 0, bytes: 0 }
  await runPool(unique, OBJECTS_IN_FLIGHT, async o => {
    signal?.throwIfAborted()
    const key = objectKey(prefix, o.sha256)
    if (await exists(client, bucket, key, o.size, signal)) {
      out.skipped++
      return
    }
    try {
      if (o.size <= MULTIPART_THRESHOLD) {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: o.body ?? (await readFile(o.localPath!)),
            ChecksumSHA256: Buffer.from(o.sha256, 'hex').toString('base64')
          }),
          { abortSignal: signal }
        )
      } else {
        // A cancelled step stops the parts and aborts the multipart upload, so no parts linger in S3.
        const abortController = new AbortController()
        const stop = () => abortController.abort()
        signal?.addEventListener('abort', stop, { once: true })
        try {
          await new Upload({
            client,
            params: {
              Bucket: bucket,
              Key: key,
              Body: o.body ?? createReadStream(o.localPath!, { highWaterMark: 1 << 20 }),
              ChecksumAlgorithm: 'SHA256'
            },
            partSize: PART_SIZE,
            queueSize: 4,
            leavePartsOnError: false,
            abortController
          }).done()
        } finally {
          signal?.removeEventListener('abort', stop)
        }
      }
    } catch (err) {
      throw s3Failure(err, 'PutObject', bucket, key)
    }
    out.uploaded++
    out.bytes += o.size
  })
  return out
}

/** The object is there with the expected size (its name is its content's sha256). */
async function exists(
  client: S3Client,
  bucket: string,
  key: string,
  size: number,
  signal?: AbortSignal
): Promise<boolean> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: signal
    })
    return head.ContentLength === size
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    if (status === 404 && (err as { name?: string }).name !== 'NoSuchBucket') return false
    throw s3Failure(err, 'HeadObject', bucket, key)
  }
}
