import { Duplex } from 'node:stream'
import type WebSocket from 'ws'
import { TransientError } from '../../errors.js'

/** The AWS CLI never sends more than 65,000 bytes per frame; the service's own limit is unpublished. */
export const MAX_FRAME_BYTES = 65_000

export interface WsByteStreamOptions {
  maxFrameBytes?: number
  /** The error for a close that is not a normal end (code other than 1000/1005). */
  closeError(code: number, reason: string): Error
  /** What to call the peer in errors. */
  label: string
}

/**
 * Raw bytes over an open WebSocket: binary messages in, binary frames out (each at most
 * `maxFrameBytes`; buffered writes are packed into as few frames as fit). Back-pressure both ways:
 * the socket is paused while the reader is behind, and a write completes only when its frames are
 * handed to the TLS socket. No half-close exists on a WebSocket, so ending the writable side closes
 * the tunnel (code 1000). A close with 1000 (or no code) ends the stream; any other code errors it.
 */
export class WsByteStream extends Duplex {
  private readonly maxFrame: number
  private paused = false
  /** Set once the socket closed: the code and reason it closed with. */
  closeInfo?: { code: number; reason: string }

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: WsByteStreamOptions
  ) {
    super({ allowHalfOpen: false, readableHighWaterMark: 1 << 20, writableHighWaterMark: 256 * 1024 })
    this.maxFrame = Math.min(opts.maxFrameBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.destroy(
          new TransientError(
            `${opts.label} sent a text frame, which the tunnel protocol never uses: closing the tunnel.`
          )
        )
        ws.close(1003)
        return
      }
      if (!data.length) return
      if (!this.push(data) && !this.paused) {
        this.paused = true
        ws.pause()
      }
    })
    ws.once('close', (code: number, reason: Buffer) => {
      const text = reason.toString('utf8')
      this.closeInfo = { code, reason: text }
      if (code === 1000 || code === 1005) this.push(null)
      else this.destroy(opts.closeError(code, text))
    })
    ws.on('error', err =>
      this.destroy(new TransientError(`${opts.label} broke: ${err.message}`, { cause: err }))
    )
  }

  override _read(): void {
    if (this.paused) {
      this.paused = false
      this.ws.resume()
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sendFrames(frames([chunk], this.maxFrame), cb)
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.sendFrames(
      frames(
        chunks.map(c => c.chunk),
        this.maxFrame
      ),
      cb
    )
  }

  private sendFrames(list: Buffer[], cb: (err?: Error | null) => void) {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb(new TransientError(`${this.opts.label}: the tunnel is closed`))
      return
    }
    let pending = list.length
    let done = false
    for (const frame of list) {
      this.ws.send(frame, { binary: true }, err => {
        if (done) return
        if (err) {
          done = true
          cb(new TransientError(`${this.opts.label}: ${err.message}`, { cause: err }))
        } else if (--pending === 0) {
          done = true
          cb()
        }
      })
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000)
    cb()
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const state = this.ws.readyState
    if (state === this.ws.OPEN) {
      if (err) this.ws.terminate()
      else this.ws.close(1000)
    } else if (state === this.ws.CONNECTING) {
      this.ws.terminate()
    }
    cb(err)
  }

  /** End the tunnel cleanly (close 1000): the reader sees end-of-stream, not an error. */
  endTunnel(reason: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000, reason)
  }
}

/** Pack buffers into frames of at most `max` bytes: big buffers are sliced (no copy), small ones joined. */
export function frames(chunks: Buffer[], max: number): Buffer[] {
  const out: Buffer[] = []
  let group: Buffer[] = []
  let size = 0
  const flush = () => {
    if (group.length === 1) out.push(group[0])
    else if (group.length > 1) out.push(Buffer.concat(group, size))
    group = []
    size = 0
  }
  for (const chunk of chunks) {
    for (let off = 0; off < chunk.length;) {
      const take = Math.min(max - size, chunk.length - off)
      group.push(off === 0 && take === chunk.length ? chunk : chunk.subarray(off, off + take))
      size += take
      off += take
      if (size === max) flush()
    }
  }
  flush()
  return out
}
