import * as ws from 'ws'
import { binaryFrames } from '../../src/tunnel/ws-frame.js'

/** ws's own frame parser (the one the simulator and every ws server run) reads what binaryFrames wrote. */
interface Parser {
  write(chunk: Buffer, encoding: string, cb: (err?: Error) => void): void
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void
  on(event: 'error', fn: (err: Error) => void): void
}
const Receiver = (ws as unknown as { Receiver: new (o: object) => Parser }).Receiver

async function parse(bytes: Buffer, isServer: boolean): Promise<Buffer[]> {
  const receiver = new Receiver({ isServer, maxPayload: 0 })
  const got: Buffer[] = []
  receiver.on('message', (data, isBinary) => {
    expect(isBinary).toBe(true)
    got.push(Buffer.from(data))
  })
  const errors: Error[] = []
  receiver.on('error', err => errors.push(err))
  // Split at an odd size so frames straddle chunks, as they do on a socket.
  for (let at = 0; at < bytes.length; at += 4093)
    receiver.write(bytes.subarray(at, at + 4093), 'buffer', () => {})
  await new Promise(resolve => setImmediate(resolve)) // stream errors are emitted on a later tick
  expect(errors).toEqual([])
  return got
}

describe('binaryFrames: whole frames for a WebSocket socket, many to one buffer', () => {
  const sizes = [0, 1, 125, 126, 1144, 65535, 65536, 70000]
  const messages = sizes.map((n, i) => Buffer.alloc(n, i + 1))

  it('client frames (masked with the zero key) are read back by a server parser unchanged', async () => {
    const wire = binaryFrames(messages, true)
    expect(await parse(wire, true)).toEqual(messages)
    // The mask bit is set and the key is zero on each frame: the first one here is empty.
    expect([...wire.subarray(0, 6)]).toEqual([0x82, 0x80, 0, 0, 0, 0])
  })

  it('server frames (unmasked) are read back by a client parser unchanged', async () => {
    expect(await parse(binaryFrames(messages, false), false)).toEqual(messages)
  })

  it('a server refuses unmasked frames, so the masking choice is not cosmetic', async () => {
    const receiver = new Receiver({ isServer: true, maxPayload: 0 })
    const errors: Error[] = []
    receiver.on('error', err => errors.push(err))
    receiver.write(binaryFrames([Buffer.from('x')], false), 'buffer', () => {})
    await new Promise(resolve => setImmediate(resolve))
    expect(errors.map(e => e.message)).toEqual([expect.stringMatching(/MASK must be set/)])
  })
})
