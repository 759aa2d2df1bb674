import { randomUUID } from 'node:crypto'
import type { SimResponse } from '../aws/server.js'

/** EC2 query-protocol XML: responses carry the 2016-11-15 namespace and a requestId. */

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/'

export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/** `<name>value</name>`, or nothing when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`
}

export function list(name: string, items: string[]): string {
  return `<${name}>${items.map(i => `<item>${i}</item>`).join('')}</${name}>`
}

export function tagSet(tags: Record<string, string>): string {
  return list(
    'tagSet',
    Object.entries(tags).map(([k, v]) => el('key', k) + el('value', v))
  )
}

export function xmlOk(action: string, inner: string): SimResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}">${el('requestId', randomUUID())}${inner}</${action}Response>`
  }
}

/** EC2's error document (note: `RequestID`, capital D, outside `Errors`). */
export function xmlError(status: number, code: string, message: string): SimResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', code)}${el('Message', message)}</Error></Errors>${el('RequestID', randomUUID())}</Response>`
  }
}
