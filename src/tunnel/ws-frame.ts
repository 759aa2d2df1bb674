/**
 * RFC 6455 binary frames written straight to a WebSocket's socket, many to one buffer. `ws` writes
 * each message as its own header and body; with the ssm data channel's 1,024-byte messages a burst
 * of a thousand is two thousand socket writes, and their bookkeeping costs more than the bytes.
 * Masked frames use the all-zero key (see ./ws-mask.ts), so the body goes as it is.
 */

/** The header length of one unfragmented frame carrying `length` bytes. */
function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0)
}

function writeHeader(out: Buffer, at: number, length: number, masked: boolean): number {
  const maskBit = masked ? 0x80 : 0
  out[at++] = 0x82 // FIN, opcode 2 (binary)
  if (length < 126) {
    out[at++] = maskBit | length
  } else if (length < 65536) {
    out[at++] = maskBit | 126
    out.writeUInt16BE(length, at)
    at += 2
  } else {
    out[at++] = maskBit | 127
    out.writeUInt32BE(Math.floor(length / 2 ** 32), at)
    out.writeUInt32BE(length >>> 0, at + 4)
    at += 8
  }
  if (masked) {
    out.writeUInt32BE(0, at) // the zero key: XOR with it leaves the body unchanged
    at += 4
  }
  return at
}

/**
 * One binary frame per message, concatenated: `masked` for a client (zero key), unmasked for a
 * server. Write it to the WebSocket's own socket only while `ws` itself has nothing queued (no
 * compression, no Blob sends), so its frames and these cannot interleave mid-frame.
 */
export function binaryFrames(messages: readonly Buffer[], masked: boolean): Buffer {
  let total = 0
  for (const m of messages) total += headerLength(m.length, masked) + m.length
  const out = Buffer.allocUnsafe(total)
  let at = 0
  for (const m of messages) {
    at = writeHeader(out, at, m.length, masked)
    at += m.copy(out, at)
  }
  return out
}
