import { randomBytes, randomUUID } from 'node:crypto'
import { sha256Latin1 } from '../../util/sha256.js'

/**
 * The Session Manager data-channel binary message (ssm-protocol.md §3): a fixed 120-byte header
 * followed by the payload. Pure functions only; the data channel and the simulator share them.
 */

/** HeaderLength as sent: the offset of PayloadLength. The payload starts 4 bytes later. */
export const HEADER_LENGTH = 116
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4
const MESSAGE_TYPE_BYTES = 32

export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication'
} as const

export const PayloadType = {
  None: 0,
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12
} as const

/** Header Flags field values (informational; §3.3). */
export const HeaderFlags = { None: 0, Syn: 1, Fin: 2, Ack: 3 } as const

/** PayloadType Flag values (§4.3). */
export const StreamFlag = { DisconnectToPort: 1, TerminateSession: 2, ConnectToPortError: 3 } as const

export interface SsmMessage {
  messageType: string
  schemaVersion: number
  /** Unix epoch milliseconds. */
  createdDate: number
  sequenceNumber: number
  flags: number
  /** Canonical lower-case hyphenated UUID. */
  messageId: string
  payloadType: number
  payload: Buffer
}

export class MessageFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MessageFormatError'
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A UUID the reference Go code would parse: RFC 4122 variant, version 1..5. */
export function isValidUuid(id: string): boolean {
  if (!UUID_RE.test(id)) return false
  const version = parseInt(id[14], 16)
  const variant = parseInt(id[19], 16)
  return version >= 1 && version <= 5 && (variant & 0xc) === 0x8
}

/** Write the UUID as its second 8 bytes then its first 8 bytes (§3.2). */
export function uuidToWire(id: string): Buffer {
  const out = Buffer.allocUnsafe(16)
  writeUuid(id, out, 0)
  return out
}

/** uuidToWire into `out` at `at`, without intermediate buffers (the per-frame path). */
function writeUuid(id: string, out: Buffer, at: number): void {
  const lower = id.toLowerCase()
  if (!UUID_RE.test(lower)) throw new MessageFormatError(`not a UUID: ${id}`)
  out.write(lower.slice(19, 23), at, 'hex')
  out.write(lower.slice(24, 36), at + 2, 'hex')
  out.write(lower.slice(0, 8), at + 8, 'hex')
  out.write(lower.slice(9, 13), at + 12, 'hex')
  out.write(lower.slice(14, 18), at + 14, 'hex')
}

export function uuidFromWire(wire: Buffer): string {
  if (wire.length !== 16) throw new MessageFormatError(`MessageId must be 16 bytes, got ${wire.length}`)
  return uuidAt(wire, 0)
}

/** The UUID whose wire form (halves swapped) is `buf[at .. at + 16]`. */
function uuidAt(buf: Buffer, at: number): string {
  const h = buf.toString('hex', at, at + 16)
  return `${h.slice(16, 24)}-${h.slice(24, 28)}-${h.slice(28, 32)}-${h.slice(0, 4)}-${h.slice(4, 16)}`
}

/** Whether a wire-form MessageId is a version 1-5, RFC 4122 variant UUID (what isValidUuid checks of its text). */
function wireUuidValid(buf: Buffer, at: number): boolean {
  const version = buf[at + 14] >> 4
  return version >= 1 && version <= 5 && (buf[at] & 0xc0) === 0x80
}

/** Random bytes for new MessageIds, drawn 16 at a time (as randomUUID does internally, minus the text). */
const ID_POOL_BYTES = 16 * 256
let idPool = Buffer.alloc(0)
let idPoolAt = 0

/** A fresh random (version 4) MessageId written in wire order: the per-frame path, no text form. */
function writeRandomUuid(out: Buffer, at: number): void {
  if (idPoolAt >= idPool.length) {
    idPool = randomBytes(ID_POOL_BYTES)
    idPoolAt = 0
  }
  idPool.copy(out, at, idPoolAt, idPoolAt + 16)
  idPoolAt += 16
  // Wire byte 14 is the UUID's byte 6 (version), wire byte 0 its byte 8 (variant).
  out[at + 14] = (out[at + 14] & 0x0f) | 0x40
  out[at] = (out[at] & 0x3f) | 0x80
}

const TWO_32 = 2 ** 32

/** Non-negative integers below 2^53 as big-endian 64-bit, without BigInt (the per-frame path). */
function writeU64(out: Buffer, n: number, at: number): void {
  out.writeUInt32BE(Math.floor(n / TWO_32), at)
  out.writeUInt32BE(n >>> 0, at + 4)
}

export interface NewMessage {
  messageType: string
  sequenceNumber?: number
  flags?: number
  payloadType?: number
  payload?: Buffer
  messageId?: string
  createdDate?: number
  schemaVersion?: number
}

/** Encode one message; missing fields get the values the reference clients use. */
export function encodeMessage(m: NewMessage): Buffer {
  const payload = m.payload ?? Buffer.alloc(0)
  // Every header byte is written by sealFrame, so the buffer needs no zero-fill.
  const out = Buffer.allocUnsafe(PAYLOAD_OFFSET + payload.length)
  payload.copy(out, PAYLOAD_OFFSET)
  return sealFrame(out, m)
}

/**
 * Write the header of a message whose payload is already in place (`frame` from PAYLOAD_OFFSET to
 * its end): the data channel fills frames straight from the stream, so each byte is copied once.
 */
export function sealFrame(frame: Buffer, m: Omit<NewMessage, 'payload'>): Buffer {
  const padded = paddedType(m.messageType)
  const payloadLength = frame.length - PAYLOAD_OFFSET
  frame.writeUInt32BE(HEADER_LENGTH, 0)
  padded.copy(frame, 4)
  frame.writeUInt32BE(m.schemaVersion ?? 1, 36)
  writeU64(frame, m.createdDate ?? Date.now(), 40)
  const seq = m.sequenceNumber ?? 0
  if (seq >= 0 && Number.isSafeInteger(seq)) writeU64(frame, seq, 48)
  else frame.writeBigInt64BE(BigInt(seq), 48)
  writeU64(frame, m.flags ?? 0, 56)
  if (m.messageId === undefined) writeRandomUuid(frame, 64)
  else writeUuid(m.messageId, frame, 64)
  frame.write(sha256Latin1(frame.subarray(PAYLOAD_OFFSET)), 80, 'latin1')
  frame.writeUInt32BE(m.payloadType ?? 0, 112)
  frame.writeUInt32BE(payloadLength, 116)
  return frame
}

export interface DecodeOptions {
  /**
   * strict: what our simulator demands of a client (exact header length, space padding, schema 1,
   * PayloadLength consistent, v1-5 UUID, digest always checked). Otherwise the reference client's
   * rules (§3.1): non-zero HeaderLength, non-empty type, non-zero date, digest when a payload exists,
   * and no checks at all for start/pause_publication.
   */
  strict?: boolean
}

/** A MessageType as written and as the strict reader expects it: left-aligned, space-padded (cached). */
const paddedTypes = new Map<string, Buffer>()
function paddedType(messageType: string): Buffer {
  let padded = paddedTypes.get(messageType)
  if (!padded) {
    const length = Buffer.byteLength(messageType, 'ascii')
    if (length === 0 || length > MESSAGE_TYPE_BYTES) {
      throw new MessageFormatError(`MessageType must be 1..32 bytes: '${messageType}'`)
    }
    padded = Buffer.alloc(MESSAGE_TYPE_BYTES, 0x20)
    padded.write(messageType, 0, 'ascii')
    if (paddedTypes.size < 64) paddedTypes.set(messageType, padded)
  }
  return padded
}

/** The types every data channel carries, space-padded, by their first letter (each type's is its own). */
const KNOWN_TYPES = new Map(
  Object.values(MessageType).map(type => [type.charCodeAt(0), { type, padded: paddedType(type) }])
)

/** The MessageType field as text: a known type's padded bytes directly, anything else trimmed of NULs and spaces. */
function readMessageType(buf: Buffer): string {
  const known = KNOWN_TYPES.get(buf[4])
  if (known && known.padded.compare(buf, 4, 4 + MESSAGE_TYPE_BYTES) === 0) return known.type
  return buf
    .subarray(4, 4 + MESSAGE_TYPE_BYTES)
    .toString('ascii')
    .replace(/^\0+|\0+$/g, '')
    .trim()
}

/** An unsigned 64-bit big-endian field as a Number (exact below 2^53, rounded above). */
function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4)
}

/** Decode one WebSocket binary message; throws MessageFormatError when it fails validation. */
export function decodeMessage(buf: Buffer, opts: DecodeOptions = {}): SsmMessage {
  if (buf.length < 4 + MESSAGE_TYPE_BYTES)
    throw new MessageFormatError(`message too short: ${buf.length} bytes`)
  const messageType = readMessageType(buf)
  const lenient =
    !opts.strict &&
    (messageType === MessageType.StartPublication || messageType === MessageType.PausePublication)
  if (buf.length < PAYLOAD_OFFSET) {
    if (!lenient) throw new MessageFormatError(`message too short: ${buf.length} bytes`)
    // The service may send publication notices with incomplete headers (§3.1); only the type matters.
    const nil = '00000000-0000-0000-0000-000000000000'
    return {
      messageType,
      schemaVersion: 0,
      createdDate: 0,
      sequenceNumber: 0,
      flags: 0,
      messageId: nil,
      payloadType: 0,
      payload: Buffer.alloc(0)
    }
  }
  const payload = lenient
    ? buf.subarray(Math.min(buf.readUInt32BE(0) + 4, buf.length))
    : checkedPayload(buf, messageType, opts.strict === true)
  return {
    messageType,
    schemaVersion: buf.readUInt32BE(36),
    createdDate: readU64(buf, 40),
    sequenceNumber: buf.readUInt32BE(48) < 0x200000 ? readU64(buf, 48) : Number(buf.readBigInt64BE(48)),
    flags: readU64(buf, 56),
    messageId: uuidAt(buf, 64),
    payloadType: buf.readUInt32BE(112),
    payload
  }
}

/** The payload of a message at least PAYLOAD_OFFSET long, once its header passes decodeMessage's checks. */
function checkedPayload(buf: Buffer, messageType: string, strict: boolean): Buffer {
  const headerLength = buf.readUInt32BE(0)
  if (headerLength === 0) throw new MessageFormatError('HeaderLength is 0')
  if (strict && headerLength !== HEADER_LENGTH) {
    throw new MessageFormatError(`HeaderLength must be ${HEADER_LENGTH}, got ${headerLength}`)
  }
  const payloadStart = headerLength + 4
  if (payloadStart > buf.length || headerLength < HEADER_LENGTH) {
    throw new MessageFormatError(`HeaderLength ${headerLength} does not fit a ${buf.length}-byte message`)
  }
  if (!messageType) throw new MessageFormatError('MessageType is empty')
  if (strict) {
    if (paddedType(messageType).compare(buf, 4, 4 + MESSAGE_TYPE_BYTES) !== 0)
      throw new MessageFormatError(`MessageType '${messageType}' is not left-aligned and space-padded`)
  }
  const schemaVersion = buf.readUInt32BE(36)
  if (strict && schemaVersion !== 1)
    throw new MessageFormatError(`SchemaVersion must be 1, got ${schemaVersion}`)
  if (readU64(buf, 40) === 0) throw new MessageFormatError('CreatedDate is 0')
  if (strict && !wireUuidValid(buf, 64))
    throw new MessageFormatError(`MessageId ${uuidAt(buf, 64)} is not a version 1-5 UUID`)
  const payloadLength = buf.readUInt32BE(116)
  const payload = buf.subarray(payloadStart)
  if (payloadLength !== payload.length) {
    throw new MessageFormatError(
      `PayloadLength ${payloadLength} does not match the ${payload.length} payload bytes`
    )
  }
  if ((payloadLength !== 0 || strict) && sha256Latin1(payload) !== buf.toString('latin1', 80, 112)) {
    throw new MessageFormatError('PayloadDigest does not match SHA-256 of the payload')
  }
  return payload
}

const ACKNOWLEDGE_TYPE = paddedType(MessageType.Acknowledge)

/** Whether a received message's MessageType is acknowledge (as decodeMessage would read it). */
export function isAcknowledge(buf: Buffer): boolean {
  return (
    buf.length >= 4 + MESSAGE_TYPE_BYTES &&
    buf[4] === 0x61 &&
    ACKNOWLEDGE_TYPE.compare(buf, 4, 4 + MESSAGE_TYPE_BYTES) === 0
  )
}

/**
 * ackedSequenceNumber(decodeMessage(buf).payload) for an acknowledge message (isAcknowledge), with
 * the same checks and errors, without building the message: a sender gets one per message it sends.
 */
export function decodeAckedSequence(buf: Buffer): number | undefined {
  if (buf.length < PAYLOAD_OFFSET) throw new MessageFormatError(`message too short: ${buf.length} bytes`)
  return ackedSequenceNumber(checkedPayload(buf, MessageType.Acknowledge, false))
}

// ---------------------------------------------------------------------------------------------
// Payloads. Go's encoding/json matches keys case-insensitively, so readers here do too.

type Json = Record<string, unknown>

/** Read a key the way Go's encoding/json does: exact match first, then case-insensitive. */
export function field(obj: unknown, key: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined
  const o = obj as Json
  if (key in o) return o[key]
  const lower = key.toLowerCase()
  const found = Object.keys(o).find(k => k.toLowerCase() === lower)
  return found === undefined ? undefined : o[found]
}

export function parseJsonPayload(payload: Buffer): Json {
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    throw new MessageFormatError('payload is not JSON')
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new MessageFormatError('payload is not a JSON object')
  return value as Json
}

export interface Acknowledgement {
  acknowledgedMessageType: string
  acknowledgedMessageId: string
  acknowledgedMessageSequenceNumber: number
  isSequentialMessage: boolean
}

/** The known message types as JSON strings, for the payload written once per message received. */
const QUOTED_TYPES = new Map(Object.values(MessageType).map(type => [type as string, JSON.stringify(type)]))

function ackPayloadText(of: Pick<SsmMessage, 'messageType' | 'messageId' | 'sequenceNumber'>): string {
  // JSON.stringify of the same object, key for key, with the values' JSON spelled out.
  const type = QUOTED_TYPES.get(of.messageType) ?? JSON.stringify(of.messageType)
  const seq = Number.isSafeInteger(of.sequenceNumber)
    ? String(of.sequenceNumber)
    : JSON.stringify(of.sequenceNumber)
  return `{"AcknowledgedMessageType":${type},"AcknowledgedMessageId":${JSON.stringify(of.messageId)},"AcknowledgedMessageSequenceNumber":${seq},"IsSequentialMessage":true}`
}

export function ackPayload(of: Pick<SsmMessage, 'messageType' | 'messageId' | 'sequenceNumber'>): Buffer {
  return Buffer.from(ackPayloadText(of))
}

/** The acknowledge message for a received stream message: seq 0, flags 3, PayloadType 0 (§3.3). */
export function encodeAck(of: Pick<SsmMessage, 'messageType' | 'messageId' | 'sequenceNumber'>): Buffer {
  const text = ackPayloadText(of)
  // The payload is written in place: one buffer per ack.
  const out = Buffer.allocUnsafe(PAYLOAD_OFFSET + Buffer.byteLength(text))
  out.write(text, PAYLOAD_OFFSET)
  return sealFrame(out, {
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: HeaderFlags.Ack,
    payloadType: PayloadType.None
  })
}

export function parseAck(payload: Buffer): Acknowledgement {
  const j = parseJsonPayload(payload)
  const seq = field(j, 'AcknowledgedMessageSequenceNumber')
  if (typeof seq !== 'number' || !Number.isInteger(seq))
    throw new MessageFormatError('acknowledge without a sequence number')
  return {
    acknowledgedMessageType: String(field(j, 'AcknowledgedMessageType') ?? ''),
    acknowledgedMessageId: String(field(j, 'AcknowledgedMessageId') ?? ''),
    acknowledgedMessageSequenceNumber: seq,
    isSequentialMessage: field(j, 'IsSequentialMessage') === true
  }
}

const ACKED_SEQ_KEY = Buffer.from('"AcknowledgedMessageSequenceNumber":')

/**
 * The sequence number an acknowledge names. Acks arrive one per message sent, so the agent's own
 * spelling (Go's json.Marshal of a flat object: the key once, right after '{' or ',', then digits
 * without a leading zero, then ',' or '}') is read in place; anything else goes through the full
 * JSON reader. undefined: not an ack we can read (dropped, like the plugin).
 */
export function ackedSequenceNumber(payload: Buffer): number | undefined {
  const at = payload.indexOf(ACKED_SEQ_KEY)
  const flat = payload[0] === 0x7b && payload.indexOf(0x7b, 1) < 0
  if (flat && at > 0 && (payload[at - 1] === 0x7b || payload[at - 1] === 0x2c)) {
    const start = at + ACKED_SEQ_KEY.length
    let n = 0
    let i = start
    for (; i < payload.length && i - start < 16; i++) {
      const c = payload[i]
      if (c < 0x30 || c > 0x39) break
      n = n * 10 + (c - 0x30)
    }
    const digits = i - start
    const end = payload[i]
    const leadingZero = digits > 1 && payload[start] === 0x30
    if (
      digits > 0 &&
      digits < 16 &&
      !leadingZero &&
      (end === 0x2c || end === 0x7d) &&
      payload.indexOf(ACKED_SEQ_KEY, at + 1) < 0
    )
      return n
  }
  try {
    return parseAck(payload).acknowledgedMessageSequenceNumber
  } catch {
    return undefined
  }
}

export function flagPayload(flag: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(flag, 0)
  return b
}

export function parseFlag(payload: Buffer): number {
  if (payload.length !== 4)
    throw new MessageFormatError(`Flag payload must be 4 bytes, got ${payload.length}`)
  return payload.readUInt32BE(0)
}

export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const

export interface RequestedClientAction {
  actionType: string
  actionParameters: unknown
}

export interface HandshakeRequest {
  agentVersion: string
  requestedClientActions: RequestedClientAction[]
}

export function handshakeRequestPayload(
  agentVersion: string,
  actions: { ActionType: string; ActionParameters: unknown }[]
): Buffer {
  return Buffer.from(JSON.stringify({ AgentVersion: agentVersion, RequestedClientActions: actions }))
}

export function parseHandshakeRequest(payload: Buffer): HandshakeRequest {
  const j = parseJsonPayload(payload)
  const actions = field(j, 'RequestedClientActions')
  if (!Array.isArray(actions)) throw new MessageFormatError('HandshakeRequest without RequestedClientActions')
  return {
    agentVersion: String(field(j, 'AgentVersion') ?? ''),
    requestedClientActions: actions.map(a => ({
      actionType: String(field(a, 'ActionType') ?? ''),
      actionParameters: field(a, 'ActionParameters')
    }))
  }
}

export interface ProcessedClientAction {
  ActionType: string
  ActionStatus: number
  ActionResult: unknown
  Error: string
}

export interface HandshakeResponse {
  ClientVersion: string
  ProcessedClientActions: ProcessedClientAction[]
  Errors: string[] | null
}

export function handshakeResponsePayload(r: HandshakeResponse): Buffer {
  return Buffer.from(JSON.stringify(r))
}

export function parseHandshakeResponse(payload: Buffer): HandshakeResponse {
  const j = parseJsonPayload(payload)
  const actions = field(j, 'ProcessedClientActions')
  if (!Array.isArray(actions))
    throw new MessageFormatError('HandshakeResponse without ProcessedClientActions')
  const errors = field(j, 'Errors')
  if (errors !== null && errors !== undefined && !Array.isArray(errors))
    throw new MessageFormatError('HandshakeResponse Errors must be an array or null')
  return {
    ClientVersion: String(field(j, 'ClientVersion') ?? ''),
    ProcessedClientActions: actions.map(a => {
      const status = field(a, 'ActionStatus')
      if (typeof status !== 'number')
        throw new MessageFormatError('ProcessedClientAction without a numeric ActionStatus')
      return {
        ActionType: String(field(a, 'ActionType') ?? ''),
        ActionStatus: status,
        ActionResult: field(a, 'ActionResult') ?? null,
        Error: String(field(a, 'Error') ?? '')
      }
    }),
    Errors: (errors as string[] | null | undefined) ?? null
  }
}

export interface HandshakeComplete {
  handshakeTimeToComplete: number
  customerMessage: string
}

export function handshakeCompletePayload(nanos: number, customerMessage = ''): Buffer {
  return Buffer.from(JSON.stringify({ HandshakeTimeToComplete: nanos, CustomerMessage: customerMessage }))
}

export function parseHandshakeComplete(payload: Buffer): HandshakeComplete {
  const j = parseJsonPayload(payload)
  return {
    handshakeTimeToComplete: Number(field(j, 'HandshakeTimeToComplete') ?? 0),
    customerMessage: String(field(j, 'CustomerMessage') ?? '')
  }
}

export interface ChannelClosed {
  messageId: string
  sessionId: string
  output: string
}

export function channelClosedPayload(sessionId: string, output: string, destinationId = ''): Buffer {
  return Buffer.from(
    JSON.stringify({
      MessageId: randomUUID(),
      CreatedDate: new Date().toISOString(),
      DestinationId: destinationId,
      SessionId: sessionId,
      MessageType: MessageType.ChannelClosed,
      SchemaVersion: 1,
      Output: output
    })
  )
}

/** channel_closed payloads come from the service; tolerate anything and keep the Output text. */
export function parseChannelClosed(payload: Buffer): ChannelClosed {
  let j: Json = {}
  try {
    j = parseJsonPayload(payload)
  } catch {
    return { messageId: '', sessionId: '', output: payload.toString('utf8') }
  }
  return {
    messageId: String(field(j, 'MessageId') ?? ''),
    sessionId: String(field(j, 'SessionId') ?? ''),
    output: String(field(j, 'Output') ?? '')
  }
}

/** The first (text) frame on a data-channel WebSocket (§2.2). */
export interface OpenDataChannelInput {
  MessageSchemaVersion: '1.0'
  RequestId: string
  TokenValue: string
  ClientId: string
  ClientVersion: string
}

export function openDataChannelMessage(tokenValue: string, clientId: string, clientVersion: string): string {
  const m: OpenDataChannelInput = {
    MessageSchemaVersion: '1.0',
    RequestId: randomUUID(),
    TokenValue: tokenValue,
    ClientId: clientId,
    ClientVersion: clientVersion
  }
  return JSON.stringify(m)
}
