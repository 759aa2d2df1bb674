import { randomBytes } from 'node:crypto'

/** S3's REST error bodies (`<Error><Code>..`), with the status and extra fields the service sends. */

export interface S3Reply {
  status: number
  headers?: Record<string, string>
  body?: Buffer | string
}

export function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase()
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)

export function xmlBody(root: string, fields: Record<string, string | number | undefined>): string {
  const inner = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
    .join('')
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${inner}</${root}>`
}

export function s3Error(
  status: number,
  code: string,
  message: string,
  extra: Record<string, string | number | undefined> = {}
): S3Reply {
  const id = requestId()
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': id },
    body: xmlBody('Error', { Code: code, Message: message, ...extra, RequestId: id })
  }
}

export const noSuchBucket = (bucket: string) =>
  s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket })

export const noSuchKey = (key: string) =>
  s3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key })

export const accessDenied = (message = 'Access Denied') => s3Error(403, 'AccessDenied', message)

export const signatureDoesNotMatch = (message: string) => s3Error(403, 'SignatureDoesNotMatch', message)
