import { createHash } from 'node:crypto'
import {
  ackedSequenceNumber,
  ackPayload,
  channelClosedPayload,
  decodeAckedSequence,
  decodeMessage,
  encodeAck,
  encodeMessage,
  flagPayload,
  handshakeResponsePayload,
  HEADER_LENGTH,
  isAcknowledge,
  isValidUuid,
  MessageFormatError,
  MessageType,
  parseAck,
  parseChannelClosed,
  parseFlag,
  parseHandshakeComplete,
  parseHandshakeRequest,
  parseHandshakeResponse,
  PayloadType,
  uuidFromWire,
  uuidToWire
} from '../../src/tunnel/ssm/message.js'
import { seededRandom } from '../../sim/ssm/faults.js'

// ssm-protocol.md §3.5, produced by the reference plugin's own serializer.
const WORKED_EXAMPLE_HEX =
  '00000074696e7075745f73747265616d5f64617461202020202020202020202020202020000000010000018bcfe568000000000000000005000000000000000099aabbccddeeff0011223344556647888f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa400000001000000026869'

const EXAMPLE = {
  messageType: 'input_stream_data',
  sequenceNumber: 5,
  flags: 0,
  payloadType: 1,
  createdDate: 1700000000000,
  messageId: '11223344-5566-4788-99aa-bbccddeeff00',
  payload: Buffer.from('hi')
}

describe('ssm message codec: fixed vectors', () => {
  it('encodes the spec worked example byte for byte', () => {
    const out = encodeMessage(EXAMPLE)
    expect(out.length).toBe(122)
    expect(out.toString('hex')).toBe(WORKED_EXAMPLE_HEX)
  })

  it('decodes the worked example (lenient and strict)', () => {
    for (const strict of [false, true]) {
      const m = decodeMessage(Buffer.from(WORKED_EXAMPLE_HEX, 'hex'), { strict })
      expect(m).toEqual({ ...EXAMPLE, schemaVersion: 1 })
    }
  })

  it('half-swaps the MessageId (§3.2)', () => {
    expect(uuidToWire('11223344-5566-4788-99aa-bbccddeeff00').toString('hex')).toBe(
      '99aabbccddeeff001122334455664788'
    )
    expect(uuidFromWire(Buffer.from('99aabbccddeeff001122334455664788', 'hex'))).toBe(
      '11223344-5566-4788-99aa-bbccddeeff00'
    )
  })

  it('builds the ack of the worked example as the agent would', () => {
    const ack = encodeAck(EXAMPLE)
    const m = decodeMessage(ack, { strict: true })
    expect(m.messageType).toBe('acknowledge')
    expect(m.sequenceNumber).toBe(0)
    expect(m.flags).toBe(3)
    expect(m.payloadType).toBe(0)
    expect(m.payload.toString()).toBe(
      '{"AcknowledgedMessageType":"input_stream_data","AcknowledgedMessageId":"11223344-5566-4788-99aa-bbccddeeff00","AcknowledgedMessageSequenceNumber":5,"IsSequentialMessage":true}'
    )
    expect(parseAck(m.payload)).toEqual({
      acknowledgedMessageType: 'input_stream_data',
      acknowledgedMessageId: '11223344-5566-4788-99aa-bbccddeeff00',
      acknowledgedMessageSequenceNumber: 5,
      isSequentialMessage: true
    })
  })

  it('writes 116 as HeaderLength, space padding, SHA-256 digest and big-endian 64-bit fields', () => {
    const payload = Buffer.from('payload bytes')
    const out = encodeMessage({
      messageType: 'acknowledge',
      sequenceNumber: 2 ** 40 + 3,
      createdDate: 2 ** 41 + 7,
      flags: 3,
      payload
    })
    expect(out.readUInt32BE(0)).toBe(HEADER_LENGTH)
    expect(out.subarray(4, 36).toString('ascii')).toBe('acknowledge' + ' '.repeat(21))
    expect(out.readBigUInt64BE(40)).toBe(BigInt(2 ** 41 + 7))
    expect(out.readBigInt64BE(48)).toBe(BigInt(2 ** 40 + 3))
    expect(out.readBigUInt64BE(56)).toBe(3n)
    expect(out.subarray(80, 112)).toEqual(createHash('sha256').update(payload).digest())
    expect(out.readUInt32BE(116)).toBe(payload.length)
  })

  it('flag payloads are exactly 4 big-endian bytes', () => {
    expect(flagPayload(1).toString('hex')).toBe('00000001')
    expect(flagPayload(2).toString('hex')).toBe('00000002')
    expect(parseFlag(Buffer.from('00000003', 'hex'))).toBe(3)
    expect(() => parseFlag(Buffer.from('0002', 'hex'))).toThrow(MessageFormatError)
  })
})

describe('ssm message codec: validation', () => {
  const good = () => Buffer.from(WORKED_EXAMPLE_HEX, 'hex')

  it('rejects a wrong digest (both modes) and accepts NUL/left padding only when lenient', () => {
    const badDigest = good()
    badDigest[80] ^= 0xff
    expect(() => decodeMessage(badDigest)).toThrow(/PayloadDigest/)
    expect(() => decodeMessage(badDigest, { strict: true })).toThrow(/PayloadDigest/)

    const nulPadded = good()
    nulPadded.fill(0, 4 + 'input_stream_data'.length, 36)
    expect(decodeMessage(nulPadded).messageType).toBe('input_stream_data')
    expect(() => decodeMessage(nulPadded, { strict: true })).toThrow(/space-padded/)
  })

  it('rejects HeaderLength 0, a zero CreatedDate, an empty type and length mismatches', () => {
    const zeroHl = good()
    zeroHl.writeUInt32BE(0, 0)
    expect(() => decodeMessage(zeroHl)).toThrow(/HeaderLength/)
    const zeroDate = good()
    zeroDate.writeBigUInt64BE(0n, 40)
    expect(() => decodeMessage(zeroDate)).toThrow(/CreatedDate/)
    const emptyType = good()
    emptyType.fill(0x20, 4, 36)
    expect(() => decodeMessage(emptyType)).toThrow(/MessageType/)
    const badLen = good()
    badLen.writeUInt32BE(5, 116)
    expect(() => decodeMessage(badLen)).toThrow(/PayloadLength/)
    const badSchema = good()
    badSchema.writeUInt32BE(2, 36)
    expect(decodeMessage(badSchema).schemaVersion).toBe(2)
    expect(() => decodeMessage(badSchema, { strict: true })).toThrow(/SchemaVersion/)
    expect(() => decodeMessage(good().subarray(0, 100))).toThrow(/too short/)
  })

  it('lets start/pause_publication through without validation, even with a short header', () => {
    const short = Buffer.alloc(40)
    short.write('pause_publication', 4, 'ascii')
    expect(decodeMessage(short).messageType).toBe('pause_publication')
    const zeroed = encodeMessage({ messageType: 'start_publication' })
    zeroed.writeBigUInt64BE(0n, 40)
    zeroed.fill(0, 80, 112)
    expect(decodeMessage(zeroed).messageType).toBe('start_publication')
  })

  it('strict mode rejects UUIDs the Go library would refuse; encoding rejects long types', () => {
    const v0 = encodeMessage({ ...EXAMPLE, messageId: '11223344-5566-0788-99aa-bbccddeeff00' })
    expect(() => decodeMessage(v0, { strict: true })).toThrow(/UUID/)
    expect(isValidUuid('11223344-5566-4788-99aa-bbccddeeff00')).toBe(true)
    expect(isValidUuid('11223344-5566-4788-19aa-bbccddeeff00')).toBe(false)
    expect(() => encodeMessage({ messageType: 'x'.repeat(33) })).toThrow(MessageFormatError)
    expect(() => encodeMessage({ messageType: '' })).toThrow(MessageFormatError)
  })
})

describe('ssm message codec: property round trips (seeded)', () => {
  const rand = seededRandom(20240917)
  const int = (n: number) => Math.floor(rand() * n)
  const uuid = () => {
    const b = Buffer.alloc(16)
    for (let i = 0; i < 16; i++) b[i] = int(256)
    b[6] = (b[6] & 0x0f) | 0x40
    b[8] = (b[8] & 0x3f) | 0x80
    const h = b.toString('hex')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
  const types = [
    'input_stream_data',
    'output_stream_data',
    'acknowledge',
    'channel_closed',
    'x',
    'a'.repeat(32)
  ]

  it('decode(encode(m)) == m for 500 random messages', () => {
    for (let i = 0; i < 500; i++) {
      const payload = Buffer.alloc(int(3) === 0 ? 0 : int(4096))
      for (let j = 0; j < payload.length; j++) payload[j] = int(256)
      const m = {
        messageType: types[int(types.length)],
        schemaVersion: 1,
        createdDate: 1 + int(2 ** 30) * 1000,
        sequenceNumber: int(2 ** 31) * 1024 + int(1024),
        flags: int(4),
        messageId: uuid(),
        payloadType: int(13),
        payload
      }
      const wire = encodeMessage(m)
      expect(wire.length).toBe(120 + payload.length)
      const back = decodeMessage(wire, { strict: true })
      expect(back.payload.equals(payload)).toBe(true)
      expect({ ...back, payload: null }).toEqual({ ...m, payload: null })
      // The wire form of the id is its two halves swapped.
      expect(uuidFromWire(uuidToWire(m.messageId))).toBe(m.messageId)
    }
  })

  it('any single corrupted payload byte is caught by the digest', () => {
    for (let i = 0; i < 200; i++) {
      const payload = Buffer.alloc(1 + int(2000), int(256))
      const wire = encodeMessage({ messageType: 'output_stream_data', payloadType: 1, payload })
      wire[120 + int(payload.length)] ^= 1 + int(255)
      expect(() => decodeMessage(wire)).toThrow(/PayloadDigest/)
    }
  })
})

describe('ssm payload helpers', () => {
  it('parses JSON keys case-insensitively like Go', () => {
    expect(
      parseAck(Buffer.from('{"acknowledgedmessagesequencenumber":7}')).acknowledgedMessageSequenceNumber
    ).toBe(7)
    const req = parseHandshakeRequest(
      Buffer.from(
        '{"agentversion":"3.3.987.0","requestedclientactions":[{"actiontype":"SessionType","actionparameters":{"SessionType":"Port"}}]}'
      )
    )
    expect(req).toEqual({
      agentVersion: '3.3.987.0',
      requestedClientActions: [{ actionType: 'SessionType', actionParameters: { SessionType: 'Port' } }]
    })
    expect(
      parseHandshakeComplete(Buffer.from('{"HandshakeTimeToComplete":246993163,"CustomerMessage":"hello"}'))
    ).toEqual({
      handshakeTimeToComplete: 246993163,
      customerMessage: 'hello'
    })
  })

  it('handshake response matches the observed plugin shape and round-trips', () => {
    const r = {
      ClientVersion: '1.0.0.0',
      ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }],
      Errors: null
    }
    const text = handshakeResponsePayload(r).toString()
    expect(text).toBe(
      '{"ClientVersion":"1.0.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}'
    )
    expect(parseHandshakeResponse(Buffer.from(text))).toEqual(r)
    expect(() => parseHandshakeResponse(Buffer.from('{"ClientVersion":"1"}'))).toThrow(MessageFormatError)
  })

  it('channel_closed keeps its Output text, even from a non-JSON payload', () => {
    const p = channelClosedPayload('s-1', '\n----------ERROR-------\nboom')
    expect(parseChannelClosed(p)).toMatchObject({
      sessionId: 's-1',
      output: '\n----------ERROR-------\nboom'
    })
    expect(JSON.parse(p.toString())).toMatchObject({ MessageType: 'channel_closed', SchemaVersion: 1 })
    expect(parseChannelClosed(Buffer.from('plain text')).output).toBe('plain text')
  })

  it('ack payload names the acked message', () => {
    const p = ackPayload({
      messageType: MessageType.OutputStreamData,
      messageId: EXAMPLE.messageId,
      sequenceNumber: 0
    })
    expect(JSON.parse(p.toString())).toEqual({
      AcknowledgedMessageType: 'output_stream_data',
      AcknowledgedMessageId: EXAMPLE.messageId,
      AcknowledgedMessageSequenceNumber: 0,
      IsSequentialMessage: true
    })
    expect(PayloadType.Flag).toBe(10)
  })
})

describe('ackedSequenceNumber: the in-place read of an ack agrees with the JSON reader', () => {
  const full = (text: string): number | undefined => {
    try {
      return parseAck(Buffer.from(text)).acknowledgedMessageSequenceNumber
    } catch {
      return undefined
    }
  }
  const cases = [
    ackPayload({
      messageType: MessageType.OutputStreamData,
      messageId: EXAMPLE.messageId,
      sequenceNumber: 0
    }),
    ackPayload({
      messageType: MessageType.OutputStreamData,
      messageId: EXAMPLE.messageId,
      sequenceNumber: 4096
    }),
    '{"AcknowledgedMessageSequenceNumber":7}',
    '{"AcknowledgedMessageSequenceNumber":7,"IsSequentialMessage":true}',
    '{"acknowledgedmessagesequencenumber":8}',
    '{"AcknowledgedMessageSequenceNumber": 9}',
    '{"AcknowledgedMessageSequenceNumber":09}',
    '{"AcknowledgedMessageSequenceNumber":-1}',
    '{"AcknowledgedMessageSequenceNumber":1.5}',
    '{"AcknowledgedMessageSequenceNumber":12,"AcknowledgedMessageSequenceNumber":13}',
    '{"x":{"AcknowledgedMessageSequenceNumber":5}}',
    '{"AcknowledgedMessageType":"\\"AcknowledgedMessageSequenceNumber\\":5,"}',
    '{"AcknowledgedMessageSequenceNumber":12345678901234567}',
    '{"AcknowledgedMessageSequenceNumber":',
    'not json'
  ]
  it.each(cases.map(c => [c.toString()]))('%s', text => {
    expect(ackedSequenceNumber(Buffer.from(text))).toBe(full(text))
  })
})

describe('decodeAckedSequence: an ack read in place, with the checks of decodeMessage', () => {
  const ack = (seq: number) =>
    encodeAck({
      messageType: MessageType.OutputStreamData,
      messageId: '11223344-5566-4788-99aa-bbccddeeff00',
      sequenceNumber: seq
    })

  it('agrees with decodeMessage + ackedSequenceNumber on good acks', () => {
    for (const seq of [0, 1, 9, 10, 262143, 2 ** 40]) {
      const raw = ack(seq)
      expect(isAcknowledge(raw)).toBe(true)
      expect(decodeAckedSequence(raw)).toBe(ackedSequenceNumber(decodeMessage(raw).payload))
      expect(decodeAckedSequence(raw)).toBe(seq)
    }
  })

  it('only acknowledge messages are taken for acks', () => {
    expect(isAcknowledge(Buffer.from(WORKED_EXAMPLE_HEX, 'hex'))).toBe(false)
    expect(isAcknowledge(encodeMessage({ messageType: 'acknowledgeX', payload: Buffer.from('{}') }))).toBe(
      false
    )
    expect(isAcknowledge(Buffer.from('acknowledge'))).toBe(false)
  })

  it('throws what decodeMessage throws for a bad digest, header or length', () => {
    const corruptions: ((b: Buffer) => void)[] = [
      b => (b[b.length - 3] ^= 1), // payload byte: the digest no longer matches
      b => (b[90] ^= 1), // digest byte
      b => b.writeUInt32BE(0, 0), // HeaderLength 0
      b => b.writeUInt32BE(b.readUInt32BE(116) + 1, 116), // PayloadLength mismatch
      b => b.fill(0, 40, 48) // CreatedDate 0
    ]
    for (const corrupt of corruptions) {
      const raw = ack(7)
      corrupt(raw)
      expect(isAcknowledge(raw)).toBe(true)
      expect(() => decodeMessage(raw)).toThrow(MessageFormatError)
      expect(() => decodeAckedSequence(raw)).toThrow(MessageFormatError)
    }
    expect(() => decodeAckedSequence(ack(7).subarray(0, 100))).toThrow(/too short/)
  })

  it('an ack whose payload names no number gives undefined, as ackedSequenceNumber', () => {
    const raw = encodeMessage({
      messageType: MessageType.Acknowledge,
      flags: 3,
      payload: Buffer.from('{"x":1}')
    })
    expect(decodeAckedSequence(raw)).toBeUndefined()
  })
})
