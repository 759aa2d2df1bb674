import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { createHash } from 'node:crypto'
import { DUMMY_LONG_TERM_KEY } from '../../sim/aws/credential-store.js'
import { startS3Sim, type S3Sim } from '../../sim/s3/server.js'
import { createPresigner } from '../../src/delivery/s3/presign.js'

/**
 * The S3 simulator refuses what S3 refuses, seen through the real SDK client and the action's own
 * presigner: a wrong checksum (BadDigest), a missing bucket, a denied prefix, a wrong secret, and a
 * presigned URL past its expiry or with a changed path.
 */

let s3: S3Sim
/** How far the simulator's clock runs ahead of this process's (moved to expire a URL). */
let ahead = 0
const creds = { ...DUMMY_LONG_TERM_KEY }
const client = (secretAccessKey: string = creds.secretAccessKey) =>
  new S3Client({
    region: 'us-east-1',
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey }
  })
const presigner = (expiresIn: number) =>
  createPresigner({ bucket: 'b', region: 'us-east-1', endpoint: s3.url }, async () => creds, expiresIn)

beforeAll(async () => {
  s3 = await startS3Sim({ now: () => Date.now() + ahead })
  s3.createBucket('b')
})
afterAll(() => s3?.close())

const b64 = (data: string) => createHash('sha256').update(data).digest('base64')
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { name?: string }) => e.name
  )

test('PutObject with the right SHA-256 is stored; a wrong one is refused with BadDigest', async () => {
  await client().send(
    new PutObjectCommand({ Bucket: 'b', Key: 'k/a', Body: 'hello', ChecksumSHA256: b64('hello') })
  )
  expect(s3.object('b', 'k/a')?.body.toString()).toBe('hello')
  expect(
    await code(
      client().send(
        new PutObjectCommand({ Bucket: 'b', Key: 'k/b', Body: 'hello', ChecksumSHA256: b64('other') })
      )
    )
  ).toBe('BadDigest')
  expect(s3.object('b', 'k/b')).toBeUndefined()
})

test('NoSuchBucket, AccessDenied on a denied prefix, SignatureDoesNotMatch with a wrong secret', async () => {
  expect(await code(client().send(new PutObjectCommand({ Bucket: 'nope', Key: 'x', Body: 'x' })))).toBe(
    'NoSuchBucket'
  )
  s3.deny('b/secret/')
  expect(await code(client().send(new PutObjectCommand({ Bucket: 'b', Key: 'secret/x', Body: 'x' })))).toBe(
    'AccessDenied'
  )
  expect(await code(client('wrong').send(new GetObjectCommand({ Bucket: 'b', Key: 'k/a' })))).toBe(
    'SignatureDoesNotMatch'
  )
})

test('a presigned GET works until it expires; a changed path does not match its signature', async () => {
  await client().send(
    new PutObjectCommand({ Bucket: 'b', Key: 'k/c d', Body: 'bytes', ChecksumSHA256: b64('bytes') })
  )
  const url = await presigner(60).url('k/c d')
  expect(await (await fetch(url)).text()).toBe('bytes')
  const tampered = await fetch(url.replace('/k/c%20d?', '/k/a?'))
  expect(tampered.status).toBe(403)
  expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>')
  ahead = 61_000
  const late = await fetch(url)
  expect(late.status).toBe(403)
  expect(await late.text()).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/)
})
