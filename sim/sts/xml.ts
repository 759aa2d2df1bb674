import { randomUUID } from 'node:crypto'
import type { SimResponse } from '../aws/server.js'

/** STS speaks the AWS query protocol: form-encoded requests, XML responses in the 2011-06-15 namespace. */

export const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, c => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`)
}

/** `{A: 'x', B: {C: 'y'}}` -> `<A>x</A><B><C>y</C></B>` (indented), values escaped. */
export function xmlElements(fields: Record<string, unknown>, indent = '    '): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      typeof v === 'object' && v !== null
        ? `${indent}<${k}>\n${xmlElements(v as Record<string, unknown>, indent + '  ')}\n${indent}</${k}>`
        : `${indent}<${k}>${xmlEscape(String(v))}</${k}>`
    )
    .join('\n')
}

export function stsOk(action: string, result: Record<string, unknown>): SimResponse {
  const requestId = randomUUID()
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<${action}Response xmlns="${STS_NS}">\n  <${action}Result>\n${xmlElements(result)}\n  </${action}Result>\n` +
      `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`
  }
}

export function stsError(status: number, code: string, message: string): SimResponse {
  const requestId = randomUUID()
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<ErrorResponse xmlns="${STS_NS}">\n  <Error>\n    <Type>Sender</Type>\n    <Code>${xmlEscape(code)}</Code>\n` +
      `    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
  }
}

/** STS timestamps: ISO 8601 to the second, as `2024-01-01T12:00:00Z`. */
export function stsTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
