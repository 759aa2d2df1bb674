import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import { SsmDataChannel } from '../../src/tunnel/ssm/data-channel.js'
import {
  channelClosedPayload,
  decodeMessage,
  encodeAck,
  encodeMessage,
  handshakeCompletePayload,
  handshakeRequestPayload,
  MessageType,
  parseAck,
  parseHandshakeResponse,
  PayloadType,
  SsmMessage
} from '../../src/tunnel/ssm/message.js'
import { agentRead } from '../../sim/ssm/agent-session.js'
import { capturingLogger } from './helpers.js'

/**
 * The client data channel against a scripted agent on a real WebSocket: each test plays the agent
 * by hand to put the client in one precise situation.
 */

interface Peer {
  ws: WebSocket
  open: Record<string, unknown>
  /** Every binary frame from the client, in arrival order, with the raw bytes. */
  frames: { msg: SsmMessage; raw: Buffer; at: number }[]
  waitFor(pred: (m: SsmMessage) => boolean, what: string): Promise<SsmMessage>
  out(seq: number, payloadType: number, payload: Buffer | string): SsmMessage
  ack(m: SsmMessage): void
  control(type: string, payload?: Buffer): void
}

let wss: WebSocketServer
let url: string
const peers: Peer[] = []
let onPeer: ((p: Peer) => void) | undefined

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(r => wss.once('listening', r))
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/data-channel/s-1?role=publish_subscribe`
  wss.on('connection', ws => {
    ws.once('message', (first: Buffer) => {
      const frames: Peer['frames'] = []
      const waiters: { pred: (m: SsmMessage) => boolean; resolve: (m: SsmMessage) => void }[] = []
      ws.on('message', (raw: Buffer) => {
        const msg = decodeMessage(raw, { strict: true })
        frames.push({ msg, raw, at: frames.length })
        for (const w of [...waiters]) {
          if (w.pred(msg)) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve(msg)
          }
        }
      })
      const peer: Peer = {
        ws,
        open: JSON.parse(first.toString()),
        frames,
        waitFor: (pred, what) =>
          new Promise((resolve, reject) => {
            const seen = frames.find(f => pred(f.msg))
            if (seen) return resolve(seen.msg)
            const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10000)
            waiters.push({ pred, resolve: m => (clearTimeout(t), resolve(m)) })
          }),
        out: (seq, payloadType, payload) => {
          const messageId = randomUUID()
          const body = typeof payload === 'string' ? Buffer.from(payload) : payload
          const frame = encodeMessage({
            messageType: MessageType.OutputStreamData,
            sequenceNumber: seq,
            flags: seq === 0 ? 1 : 0,
            payloadType,
            payload: body,
            messageId
          })
          ws.send(frame)
          return decodeMessage(frame)
        },
        ack: m => ws.send(encodeAck(m)),
        control: (type, payload) => ws.send(encodeMessage({ messageType: type, payload }))
      }
      peers.push(peer)
      onPeer?.(peer)
    })
  })
})

afterAll(async () => {
  for (const c of wss.clients) c.terminate()
  await new Promise(r => wss.close(r))
})

const isData = (m: SsmMessage) =>
  m.messageType === MessageType.InputStreamData && m.payloadType === PayloadType.Output
const isAckOf = (seq: number) => (m: SsmMessage) =>
  m.messageType === MessageType.Acknowledge && parseAck(m.payload).acknowledgedMessageSequenceNumber === seq
const nextPeer = () => new Promise<Peer>(resolve => (onPeer = resolve))

const channels: SsmDataChannel[] = []
afterEach(() => {
  for (const ch of channels.splice(0)) ch.stream.destroy()
})

function channel(over: Partial<ConstructorParameters<typeof SsmDataChannel>[0]> = {}) {
  const ch = new SsmDataChannel({
    streamUrl: url,
    tokenValue: 'token-1',
    clientId: randomUUID(),
    frameSize: 1024,
    windowBytes: 64 * 1024,
    logger: capturingLogger(),
    resumeSession: async () => 'token-2',
    ...over
  })
  ch.stream.on('error', () => {}) // tests that expect an error listen for it themselves
  channels.push(ch)
  return ch
}

/** Agent side of the handshake up to (not including) HandshakeComplete. */
async function handshakeUntilComplete(peer: Peer) {
  peer.out(
    0,
    PayloadType.HandshakeRequest,
    handshakeRequestPayload('3.3.987.0', [
      {
        ActionType: 'SessionType',
        ActionParameters: { SessionType: 'Port', Properties: { portNumber: '22' } }
      }
    ])
  )
  await peer.waitFor(isAckOf(0), 'ack of HandshakeRequest')
  const response = await peer.waitFor(
    m => m.payloadType === PayloadType.HandshakeResponse,
    'HandshakeResponse'
  )
  peer.ack(response)
  return response
}

function readAll(stream: NodeJS.ReadableStream, length: number): Promise<string> {
  return new Promise(resolve => {
    let got = ''
    const onData = (d: Buffer) => {
      got += d.toString()
      if (got.length >= length) {
        stream.off('data', onData)
        resolve(got)
      }
    }
    stream.on('data', onData)
  })
}

describe('ssm data channel (client) against a scripted agent', () => {
  it('opens with the text message, answers the handshake, holds data until HandshakeComplete, keeps data that overtakes it', async () => {
    const clientId = randomUUID()
    const peerP = nextPeer()
    const ch = channel({ clientId })
    // Written before the handshake: must not leave before HandshakeComplete (the agent would discard it).
    ch.stream.write('early bytes')
    const connected = ch.connect()
    const peer = await peerP
    expect(peer.open).toMatchObject({
      MessageSchemaVersion: '1.0',
      TokenValue: 'token-1',
      ClientId: clientId,
      ClientVersion: '1.0.0.0'
    })
    expect(String(peer.open.RequestId)).toMatch(/^[0-9a-f-]{36}$/)

    const response = await handshakeUntilComplete(peer)
    expect(response.sequenceNumber).toBe(0)
    expect(response.flags).toBe(0)
    const parsed = parseHandshakeResponse(response.payload)
    expect(parsed.ProcessedClientActions).toEqual([
      { ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }
    ])
    // The ack of the request came before the response.
    expect(peer.frames.findIndex(f => isAckOf(0)(f.msg))).toBeLessThan(
      peer.frames.findIndex(f => f.msg === response)
    )

    // sshd's banner (seq 2) overtakes HandshakeComplete (seq 1).
    const banner = peer.out(2, PayloadType.Output, 'SSH-2.0-OpenSSH_9.6\r\n')
    await peer.waitFor(isAckOf(2), 'ack of the overtaking banner')
    expect(peer.frames.some(f => isData(f.msg))).toBe(false)
    const sentCompleteAt = peer.frames.length
    peer.out(1, PayloadType.HandshakeComplete, handshakeCompletePayload(1000))
    await connected
    await peer.waitFor(isAckOf(1), 'ack of HandshakeComplete')
    const early = await peer.waitFor(isData, 'the early bytes')
    expect(early.payload.toString()).toBe('early bytes')
    expect(early.sequenceNumber).toBe(1)
    expect(peer.frames.findIndex(f => f.msg === early)).toBeGreaterThanOrEqual(sentCompleteAt)

    // Out of order: seq 4 before seq 3; both acked, delivered in order after the banner.
    const reading = readAll(ch.stream, 'SSH-2.0-OpenSSH_9.6\r\nCD'.length)
    peer.out(4, PayloadType.Output, 'D')
    await peer.waitFor(isAckOf(4), 'ack of seq 4')
    peer.out(3, PayloadType.Output, 'C')
    expect(await reading).toBe('SSH-2.0-OpenSSH_9.6\r\nCD')

    // A duplicate is acknowledged again (its first ack may have been lost) and not delivered twice.
    const acksOf2 = () => peer.frames.filter(f => isAckOf(2)(f.msg)).length
    const before = acksOf2()
    peer.ws.send(
      encodeMessage({
        messageType: MessageType.OutputStreamData,
        sequenceNumber: 2,
        payloadType: PayloadType.Output,
        payload: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'),
        messageId: banner.messageId
      })
    )
    await peer.waitFor(() => acksOf2() > before, 'a second ack of seq 2')
    const ackMsg = peer.frames.filter(f => isAckOf(2)(f.msg)).at(-1)!.msg
    expect(parseAck(ackMsg.payload)).toMatchObject({
      acknowledgedMessageId: banner.messageId,
      acknowledgedMessageType: 'output_stream_data',
      isSequentialMessage: true
    })
    expect(ackMsg).toMatchObject({ sequenceNumber: 0, flags: 3, payloadType: 0 })

    // channel_closed with an Output fails the stream with that text.
    const failed = new Promise<Error>(resolve => ch.stream.once('error', resolve))
    peer.control(
      MessageType.ChannelClosed,
      channelClosedPayload('s-1', '\n----------ERROR-------\nagent gave up')
    )
    expect((await failed).message).toMatch(/agent gave up/)
  })

  it('retransmits an unacknowledged message byte for byte, bounds the window, resumes after pause', async () => {
    const peerP = nextPeer()
    const ch = channel({ windowBytes: 4096 })
    const connected = ch.connect()
    const peer = await peerP
    await handshakeUntilComplete(peer)
    peer.out(1, PayloadType.HandshakeComplete, handshakeCompletePayload(1000))
    await connected

    // 10 KiB with no acks: only 4 frames (4096 bytes) may be in flight.
    ch.stream.write(Buffer.alloc(10 * 1024, 7))
    const first = await peer.waitFor(m => isData(m) && m.sequenceNumber === 1, 'seq 1')
    await peer.waitFor(m => isData(m) && m.sequenceNumber === 4, 'seq 4')
    // The oldest is resent unchanged when its timer runs out.
    await peer.waitFor(
      () => peer.frames.filter(f => isData(f.msg) && f.msg.sequenceNumber === 1).length >= 2,
      'a retransmission of seq 1'
    )
    const copies = peer.frames.filter(f => isData(f.msg) && f.msg.sequenceNumber === 1)
    expect(copies[1].raw.equals(copies[0].raw)).toBe(true)
    expect(copies[0].msg.messageId).toBe(first.messageId)
    const maxSeq = () => Math.max(...peer.frames.filter(f => isData(f.msg)).map(f => f.msg.sequenceNumber))
    expect(maxSeq()).toBe(4)

    // pause_publication: acks for seq 1..4 arrive, yet nothing new is sent until start_publication.
    peer.control(MessageType.PausePublication)
    for (const f of peer.frames.filter(f => isData(f.msg)).slice(0, 4)) peer.ack(f.msg)
    // A ping round trip is a sync point: anything the acks made the client send arrives before the pong.
    await new Promise(resolve => {
      peer.ws.once('pong', resolve)
      peer.ws.ping()
    })
    expect(maxSeq()).toBe(4)
    peer.control(MessageType.StartPublication)
    await peer.waitFor(m => isData(m) && m.sequenceNumber === 5, 'seq 5 after start_publication')
    ch.stream.destroy()
  })

  it('takes NUL-padded acks as acks and drops an ack whose digest is wrong', async () => {
    const peerP = nextPeer()
    const ch = channel({ windowBytes: 2048 })
    const connected = ch.connect()
    const peer = await peerP
    await handshakeUntilComplete(peer)
    peer.out(1, PayloadType.HandshakeComplete, handshakeCompletePayload(1000))
    await connected
    const maxSeq = () => Math.max(...peer.frames.filter(f => isData(f.msg)).map(f => f.msg.sequenceNumber))
    const sync = () =>
      new Promise(resolve => {
        peer.ws.once('pong', resolve)
        peer.ws.ping()
      })

    // Two frames in flight (seq 1, 2); the rest waits for acks.
    ch.stream.write(Buffer.alloc(6 * 1024, 3))
    const one = await peer.waitFor(m => isData(m) && m.sequenceNumber === 1, 'seq 1')
    const two = await peer.waitFor(m => isData(m) && m.sequenceNumber === 2, 'seq 2')
    const nulPadded = encodeAck(one)
    nulPadded.fill(0, 4 + MessageType.Acknowledge.length, 36)
    peer.ws.send(nulPadded)
    await peer.waitFor(m => isData(m) && m.sequenceNumber === 3, 'seq 3 after the NUL-padded ack of seq 1')
    const badDigest = encodeAck(two)
    badDigest[90] ^= 1
    peer.ws.send(badDigest)
    await sync()
    expect(maxSeq()).toBe(3)
    peer.ack(two)
    await peer.waitFor(m => isData(m) && m.sequenceNumber === 4, 'seq 4 after a good ack of seq 2')
    ch.stream.destroy()
  })

  it('resumes on a dropped socket with a new token, the same ClientId and the same sequence numbers', async () => {
    const clientId = randomUUID()
    let resumes = 0
    const peerP = nextPeer()
    const ch = channel({
      clientId,
      resumeSession: async () => {
        resumes++
        return 'token-2'
      }
    })
    const connected = ch.connect()
    const peer = await peerP
    await handshakeUntilComplete(peer)
    peer.out(1, PayloadType.HandshakeComplete, handshakeCompletePayload(1000))
    await connected
    ch.stream.write('before drop')
    const m1 = await peer.waitFor(isData, 'data before the drop')
    const second = nextPeer()
    peer.ws.terminate()
    // Written while the socket is down: queued, never an error.
    ch.stream.write('during drop')
    const peer2 = await second
    expect(resumes).toBe(1)
    expect(peer2.open).toMatchObject({ TokenValue: 'token-2', ClientId: clientId })
    expect(peer2.open.RequestId).not.toBe(peer.open.RequestId)
    const again = await peer2.waitFor(
      m => isData(m) && m.sequenceNumber === m1.sequenceNumber,
      'unacked seq resent'
    )
    expect(again.messageId).toBe(m1.messageId)
    peer2.ack(again)
    const later = await peer2.waitFor(
      m => isData(m) && m.payload.toString() === 'during drop',
      'data written during the drop'
    )
    expect(later.sequenceNumber).toBe(m1.sequenceNumber + 1)
    // ssh2 ending the stream: TerminateSession flag (2) as a sequenced message.
    peer2.ack(later)
    ch.stream.end()
    const flag = await peer2.waitFor(m => m.payloadType === PayloadType.Flag, 'TerminateSession flag')
    expect(flag.payload.toString('hex')).toBe('00000002')
    expect(flag.sequenceNumber).toBe(later.sequenceNumber + 1)
    peer2.ack(flag)
    await new Promise(resolve => ch.stream.once('close', resolve))
  })
})

test('the simulated agent reads like the real one: what arrived since its last read, up to 1024 bytes', () => {
  const piece = (n: number, fill: number) => Buffer.alloc(n, fill)
  const queue = [piece(100, 1), piece(200, 2), piece(900, 3), piece(10, 4)]
  const first = agentRead(queue, 1024)!
  expect(first.length).toBe(1024)
  expect([first[0], first[100], first[300], first[1023]]).toEqual([1, 2, 3, 3])
  const second = agentRead(queue, 1024)!
  expect(second.length).toBe(900 - 724 + 10)
  expect([second[0], second.at(-1)]).toEqual([3, 4])
  expect(agentRead(queue, 1024)).toBeUndefined()
  // A full piece leaves alone, as it was read.
  expect(agentRead([piece(1024, 5), piece(3, 6)], 1024)!.length).toBe(1024)
})
