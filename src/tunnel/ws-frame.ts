import * as ws from 'ws'
import type { WebSocket } from 'ws'

/**
 * Binary WebSocket frames for many messages in one buffer, to be written straight to a WebSocket's
 * socket. `ws` writes each message as its own header and body; with the ssm data channel's
 * 1,024-byte messages a burst of a thousand is two thousand socket writes, and their bookkeeping
 * costs more than the bytes. The frames themselves are ws's own (`Sender.frame`, the function its
 * `send` uses); masked frames get the all-zero key (see ./ws-mask.ts), so the body goes as it is.
 */

interface FrameOptions {
  fin: boolean
  opcode: number
  mask: boolean
  readOnly: boolean
  rsv1: boolean
  generateMask?: (mask: Buffer) => void
}
/** ws exports its Sender (ESM: wrapper.mjs) beside the WebSocket class; @types/ws does not describe it. */
const { frame } = (ws as unknown as { Sender: { frame(data: Buffer, o: FrameOptions): Buffer[] } }).Sender

const zeroKey = (mask: Buffer): void => {
  mask.fill(0)
}
const CLIENT: FrameOptions = {
  fin: true,
  opcode: 2,
  mask: true,
  readOnly: true,
  rsv1: false,
  generateMask: zeroKey
}
const SERVER: FrameOptions = { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false }

/**
 * One binary frame per message, concatenated: `masked` for a client (zero key), unmasked for a
 * server. Write it to the WebSocket's own socket only while `ws` itself has nothing queued (no
 * compression, no Blob sends), so its frames and these cannot interleave mid-frame.
 */
export function binaryFrames(messages: readonly Buffer[], masked: boolean): Buffer {
  const options = masked ? CLIENT : SERVER
  const parts: Buffer[] = []
  for (const m of messages) for (const part of frame(m, options)) parts.push(part)
  return Buffer.concat(parts)
}

/** What binaryFrames' output is written to: a WebSocket's underlying socket. */
export interface FrameSocket {
  cork(): void
  uncork(): void
  write(data: Buffer): boolean
}

/** ws's underlying net.Socket (`_socket`, stable across ws 8.x), to write many frames at once. */
export function socketOf(socket: WebSocket | undefined): FrameSocket | undefined {
  return (socket as unknown as { _socket?: FrameSocket } | undefined)?._socket ?? undefined
}
