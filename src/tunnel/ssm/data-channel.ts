import { Duplex } from 'node:stream'
import WebSocket from 'ws'
import { errorMessage, TransientError, UserError } from '../../errors.js'
import type { Logger } from '../../log.js'
import { webSocketAgent } from '../../net/proxy-agent.js'
import { binaryFrames, socketOf } from '../ws-frame.js'
import { maskOptions, type FrameMask } from '../ws-mask.js'
import {
  ackedSequenceNumber,
  ActionStatus,
  decodeAckedSequence,
  decodeMessage,
  encodeAck,
  encodeMessage,
  flagPayload,
  handshakeResponsePayload,
  isAcknowledge,
  MessageType,
  openDataChannelMessage,
  PAYLOAD_OFFSET,
  parseChannelClosed,
  parseFlag,
  parseHandshakeComplete,
  parseHandshakeRequest,
  PayloadType,
  ProcessedClientAction,
  sealFrame,
  SsmMessage,
  StreamFlag
} from './message.js'

/**
 * The client end of a Session Manager data channel (ssm-protocol.md §2, §5-§10) carrying one port
 * session's bytes, exposed as a Duplex.
 *
 * ClientVersion must be purely numeric and below 1.1.70: the agent compares it with 1.1.70 to
 * decide whether an AWS-StartPortForwardingSession speaks smux, and a higher (or non-numeric, which
 * compares as text and sorts higher) version would make the agent parse our raw SSH bytes as smux
 * frames. We speak the basic (raw bytes) mode only.
 */
export const CLIENT_VERSION = '1.0.0.0'

/** Reliability constants shared by the plugin and the agent (§6.4, Appendix B). */
export const RESEND_TICK_MS = 100
const INITIAL_RTO_MS = 200
const INITIAL_SRTT_MS = 100
const CLOCK_GRANULARITY_MS = 10
const MAX_RTO_MS = 1000
/** Out-of-order messages kept while waiting for a gap to fill (the plugin's capacity). */
const INCOMING_BUFFER_CAPACITY = 10000
/** Upper bound on unacknowledged messages whatever their size (tiny writes could otherwise pile up). */
const MAX_UNACKED_MESSAGES = 10000
/** Delivered bytes ssh2 has not read yet above which new in-order data is left unacked (back-pressure). */
const READ_BACKLOG_LIMIT = 4 * 1024 * 1024
/** How many expired messages one resend tick may retransmit (oldest first). */
const RESEND_BUDGET_PER_TICK = 32
/** Acks of later messages that make us resend an older one before its timer runs out. */
const FAST_RESEND_AFTER_LATER_ACKS = 3

export interface DataChannelTimeouts {
  /** Connect + HandshakeComplete (the agent itself gives up after 15 s without our response). */
  handshakeMs: number
  pingIntervalMs: number
  /** Nothing heard (frames or pongs) for this long: consider the socket dead and resume. */
  deadAfterMs: number
  /** Oldest unacknowledged message this old while connected: the tunnel is dead. */
  noProgressMs: number
  /** pause_publication lasting longer than this: the agent is gone. */
  maxPauseMs: number
  /** After the TerminateSession flag, how long to wait for its ack / channel_closed. */
  finishAckMs: number
  /** ResumeSession + re-dial attempts after a drop. */
  reconnectAttempts: number
  /** WebSocket upgrade timeout. */
  dialMs: number
}

export const DEFAULT_TIMEOUTS: DataChannelTimeouts = {
  handshakeMs: 30000,
  pingIntervalMs: 30000,
  deadAfterMs: 70000,
  noProgressMs: 120000,
  maxPauseMs: 60000,
  finishAckMs: 2000,
  reconnectAttempts: 6,
  dialMs: 15000
}

export interface DataChannelOptions {
  streamUrl: string
  tokenValue: string
  /** Same value on every (re)connect of this client. */
  clientId: string
  clientVersion?: string
  /** Largest payload per input_stream_data message. */
  frameSize: number
  /** Bound on unacknowledged payload bytes in flight. */
  windowBytes: number
  /** WebSocket frame masking: see ../ws-mask.ts (default 'zero'). */
  frameMask?: FrameMask
  logger: Logger
  /** Calls ResumeSession and returns the new TokenValue ('' / undefined: the session is over). */
  resumeSession: () => Promise<string | undefined>
  /** Turns a channel_closed Output (non-empty) into the error the stream fails with. */
  channelClosedError?: (output: string) => Error
  timeouts?: Partial<DataChannelTimeouts>
  /** For logs. */
  label?: string
}

export interface DataChannelStats {
  framesSent: number
  payloadBytesSent: number
  retransmits: number
  fastRetransmits: number
  framesReceived: number
  duplicatesReceived: number
  outOfOrderReceived: number
  reconnects: number
  pauses: number
  rtoMs: number
}

/**
 * One outgoing message, queued then in flight (the same object: it lives a round trip either way,
 * and one per 1 KiB frame is what the collector has to move).
 */
interface Outgoing {
  payloadType: number
  /** A control or flag message's payload (until sent). */
  payload: Buffer | undefined
  /**
   * Queued stream data: the message being filled in place, its payload from PAYLOAD_OFFSET (`size`
   * bytes so far). Once sent, every message's encoded form.
   */
  frame: Buffer | undefined
  /** Payload bytes. */
  size: number
  /** Control messages (HandshakeResponse) skip the window, the pause and the handshake gate. */
  control: boolean
  onAcked: (() => void) | undefined
  /** Set when sent. */
  seq: number
  lastSent: number
  retransmitted: boolean
  laterAcks: number
}

type InFlight = Outgoing & { frame: Buffer }

function outgoing(
  payloadType: number,
  size: number,
  data: { frame?: Buffer; payload?: Buffer; control?: boolean; onAcked?: () => void }
): Outgoing {
  return {
    payloadType,
    payload: data.payload,
    frame: data.frame,
    size,
    control: data.control === true,
    onAcked: data.onAcked,
    seq: -1,
    lastSent: 0,
    retransmitted: false,
    laterAcks: 0
  }
}

const BINARY = { binary: true } as const

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))

export class SsmDataChannel {
  readonly stream: Duplex
  readonly stats: DataChannelStats = {
    framesSent: 0,
    payloadBytesSent: 0,
    retransmits: 0,
    fastRetransmits: 0,
    framesReceived: 0,
    duplicatesReceived: 0,
    outOfOrderReceived: 0,
    reconnects: 0,
    pauses: 0,
    rtoMs: INITIAL_RTO_MS
  }

  private readonly t: DataChannelTimeouts
  private readonly log: Logger
  private readonly label: string
  private ws?: WebSocket
  private wsReady = false
  private ended = false
  private everReceived = false
  private handshakeDone = false
  private handshake?: { resolve: () => void; reject: (err: Error) => void }
  private connectStarted = 0

  // client -> agent
  private outSeq = 0
  /** Messages not yet sent: sendQueue[sendHead..] (an index, not shift(): the queue holds a window's worth). */
  private sendQueue: Outgoing[] = []
  private sendHead = 0
  private queuedBytes = 0
  private readonly unacked = new Map<number, InFlight>()
  private inflightBytes = 0
  private blockedWrite?: () => void
  private srtt = INITIAL_SRTT_MS
  private rttvar = 0
  private rto = INITIAL_RTO_MS
  private lastProgress = 0
  private paused = false
  private pausedAt = 0

  // agent -> client
  private expectedSeq = 0
  private readonly inBuffer = new Map<number, SsmMessage>()

  private lastHeard = 0
  private lastPing = 0
  private timer?: NodeJS.Timeout
  private finishing?: () => void
  private failedWith?: Error

  constructor(private readonly opts: DataChannelOptions) {
    this.t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts }
    this.log = opts.logger
    this.label = opts.label ?? 'ssm'
    if (!(opts.frameSize >= 1)) throw new Error(`frameSize must be positive, got ${opts.frameSize}`)
    if (!(opts.windowBytes >= opts.frameSize))
      throw new Error(`windowBytes (${opts.windowBytes}) must be >= frameSize (${opts.frameSize})`)
    this.stream = new Duplex({
      allowHalfOpen: false,
      writableHighWaterMark: 64 * 1024,
      read: () => {},
      write: (chunk: Buffer, _enc, cb) => this.onWrite(chunk, cb),
      final: cb => this.onFinal(cb),
      destroy: (err, cb) => {
        this.shutdown(true)
        cb(err)
      }
    })
  }

  /** Dial the StreamUrl, authenticate, and complete the agent's handshake. */
  async connect(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new Error('cancelled')
    this.connectStarted = Date.now()
    const done = new Promise<void>((resolve, reject) => (this.handshake = { resolve, reject }))
    done.catch(() => {}) // observed below; this only keeps an early failure from being "unhandled"
    const onAbort = () => this.fail(new Error('cancelled'))
    signal?.addEventListener('abort', onAbort, { once: true })
    this.timer = setInterval(() => this.tick(), RESEND_TICK_MS)
    try {
      await this.dial(this.opts.tokenValue)
      await done
    } catch (err) {
      this.fail(err as Error)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Queue a sequenced Flag message (DisconnectToPort / TerminateSession). */
  sendFlag(flag: number, onAcked?: () => void): void {
    const payload = flagPayload(flag)
    this.enqueue(outgoing(PayloadType.Flag, payload.length, { payload, onAcked }))
  }

  get isEnded(): boolean {
    return this.ended
  }

  /** The error the channel failed with, if it did. */
  get failure(): Error | undefined {
    return this.failedWith
  }

  // ---------------------------------------------------------------------------------------------
  // WebSocket

  private dial(token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.opts.streamUrl, {
        perMessageDeflate: false,
        handshakeTimeout: this.t.dialMs,
        agent: webSocketAgent(this.opts.streamUrl),
        ...maskOptions(this.opts.frameMask)
      })
      this.ws = ws
      this.wsReady = false
      let opened = false
      ws.on('open', () => {
        if (this.ws !== ws || this.ended) return void ws.close(1000)
        opened = true
        this.wsReady = true
        this.lastHeard = this.lastPing = Date.now()
        ws.ping('keepalive')
        // Authentication: the token travels in this first text frame, not in the URL or headers.
        ws.send(openDataChannelMessage(token, this.opts.clientId, this.opts.clientVersion ?? CLIENT_VERSION))
        resolve()
      })
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (this.ws !== ws) return
        this.lastHeard = Date.now()
        if (isBinary) this.onFrame(data)
      })
      ws.on('pong', () => {
        if (this.ws === ws) this.lastHeard = Date.now()
      })
      ws.on('error', err => {
        this.log.debug(`${this.label}: data channel socket error: ${err.message}`)
        // A proxy's refusal is the user's to fix (one line naming the proxy); retrying cannot help.
        if (!opened)
          reject(
            err instanceof UserError
              ? err
              : new TransientError(`cannot open the SSM data channel: ${err.message}`, { cause: err })
          )
      })
      ws.on('close', (code, reason) => {
        if (!opened) reject(new TransientError(`cannot open the SSM data channel (closed with ${code})`))
        if (this.ws !== ws) return
        this.ws = undefined
        this.wsReady = false
        this.onSocketClosed(code, reason.toString())
      })
    })
  }

  private onSocketClosed(code: number, reason: string): void {
    if (this.ended) return
    this.log.debug(`${this.label}: data channel closed (${code}${reason ? ` ${reason}` : ''})`)
    if (!this.everReceived) {
      this.fail(
        new TransientError(
          `the SSM data channel closed (code ${code}) before the agent said anything: the session token was refused or the session ended`
        )
      )
      return
    }
    void this.reconnect()
  }

  /** ResumeSession + re-dial with the new token; keeps every sequence counter and unacked message. */
  private async reconnect(): Promise<void> {
    this.stats.reconnects++
    let delay = 100 + Math.floor(Math.random() * 100)
    let lastError = ''
    for (let attempt = 0; attempt < this.t.reconnectAttempts && !this.ended; attempt++) {
      await sleep(delay)
      delay = delay * 2 > 5000 ? 100 : delay * 2
      if (this.ended) return
      let token: string | undefined
      try {
        token = await this.opts.resumeSession()
      } catch (err) {
        if (err instanceof UserError) return this.fail(err)
        lastError = errorMessage(err)
        continue
      }
      if (!token)
        return this.fail(
          new TransientError(
            'the SSM session ended while its data channel was reconnecting (ResumeSession returned no token)'
          )
        )
      try {
        await this.dial(token)
      } catch (err) {
        lastError = errorMessage(err)
        continue
      }
      if (this.ended) return
      this.log.debug(
        `${this.label}: data channel resumed; resending ${this.unacked.size} unacknowledged messages`
      )
      this.lastProgress = Date.now()
      for (const m of this.unacked.values()) this.resend(m)
      this.pump()
      return
    }
    if (!this.ended)
      this.fail(
        new TransientError(
          `lost the SSM data channel and could not resume it: ${lastError || 'no attempts left'}`
        )
      )
  }

  private send(frame: Buffer): void {
    // A send while the socket is down is not an error: the message stays unacked and goes again after
    // resume. A failed write closes the socket (its 'close' starts the resume), so no per-frame callback.
    if (!this.ws || !this.wsReady || this.ws.readyState !== WebSocket.OPEN) return
    if (this.outBatch) this.outBatch.push(frame)
    else this.ws.send(frame, BINARY)
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  private onFrame(data: Buffer): void {
    if (isAcknowledge(data)) {
      // One per message sent: read in place, with the checks decodeMessage makes.
      let seq: number | undefined
      try {
        seq = decodeAckedSequence(data)
      } catch (err) {
        this.log.debug(`${this.label}: dropped an invalid message: ${errorMessage(err)}`)
        return
      }
      this.everReceived = true
      return this.onAck(seq)
    }
    let msg: SsmMessage
    try {
      msg = decodeMessage(data)
    } catch (err) {
      // Invalid messages are dropped unacknowledged; the sender's retransmission repairs them.
      this.log.debug(`${this.label}: dropped an invalid message: ${errorMessage(err)}`)
      return
    }
    this.everReceived = true
    switch (msg.messageType) {
      // An ack whose type is padded otherwise than with spaces (NULs): the reader trims both.
      case MessageType.Acknowledge:
        return this.onAck(ackedSequenceNumber(msg.payload))
      case MessageType.OutputStreamData:
        this.clearPause()
        return this.onStreamMessage(msg)
      case MessageType.ChannelClosed:
        return this.onChannelClosed(msg)
      case MessageType.PausePublication:
        if (!this.paused) {
          this.paused = true
          this.pausedAt = Date.now()
          this.stats.pauses++
          this.log.debug(`${this.label}: pause_publication (agent not connected); holding new data`)
        }
        return
      case MessageType.StartPublication:
        this.log.debug(`${this.label}: start_publication`)
        this.clearPause()
        return
      default:
        this.log.debug(`${this.label}: ignored message type ${msg.messageType}`)
    }
  }

  private clearPause(): void {
    if (!this.paused) return
    this.paused = false
    this.lastProgress = Date.now()
    const oldest = this.unacked.values().next().value
    if (oldest) this.resend(oldest)
    this.pump()
  }

  private sendAck(msg: SsmMessage): void {
    this.send(encodeAck(msg))
  }

  private onStreamMessage(msg: SsmMessage): void {
    this.stats.framesReceived++
    const seq = msg.sequenceNumber
    if (seq < this.expectedSeq) {
      // Re-ack duplicates: the first ack may have been lost, and the agent resends until it gets one.
      this.stats.duplicatesReceived++
      this.sendAck(msg)
      return
    }
    if (seq > this.expectedSeq) {
      this.stats.outOfOrderReceived++
      if (this.inBuffer.has(seq) || this.inBuffer.size < INCOMING_BUFFER_CAPACITY) {
        this.inBuffer.set(seq, msg)
        this.sendAck(msg)
      }
      return
    }
    if (!this.process(msg, false)) return
    this.expectedSeq++
    for (let next = this.inBuffer.get(this.expectedSeq); next; next = this.inBuffer.get(this.expectedSeq)) {
      this.inBuffer.delete(this.expectedSeq)
      this.process(next, true)
      this.expectedSeq++
      if (this.ended) return
    }
  }

  /** Handle one in-order stream message. Returns false to leave it unacknowledged (not accepted). */
  private process(msg: SsmMessage, alreadyAcked: boolean): boolean {
    if (msg.payloadType === PayloadType.Output) {
      if (!alreadyAcked && this.stream.readableLength > READ_BACKLOG_LIMIT) return false
      if (!alreadyAcked) this.sendAck(msg)
      // Data that overtook HandshakeComplete was buffered above and arrives here in order after it.
      if (!this.ended) this.stream.push(msg.payload)
      return true
    }
    if (!alreadyAcked) this.sendAck(msg)
    switch (msg.payloadType) {
      case PayloadType.HandshakeRequest:
        this.onHandshakeRequest(msg)
        break
      case PayloadType.HandshakeComplete: {
        const complete = parseHandshakeComplete(msg.payload)
        if (complete.customerMessage) this.log.info(`${this.label}: ${complete.customerMessage}`)
        this.handshakeDone = true
        this.lastProgress = Date.now()
        this.log.debug(`${this.label}: handshake complete`)
        this.handshake?.resolve()
        this.pump()
        break
      }
      case PayloadType.Flag: {
        let flag = 0
        try {
          flag = parseFlag(msg.payload)
        } catch {
          break
        }
        if (flag === StreamFlag.ConnectToPortError) {
          this.fail(
            new TransientError(
              'the SSM agent could not connect to the SSH port on the instance (ConnectToPortError)'
            )
          )
        }
        break
      }
      case PayloadType.EncChallengeRequest:
        this.fail(unsupportedKms())
        break
      default:
        this.log.debug(`${this.label}: ignored payload type ${msg.payloadType}`)
    }
    return true
  }

  private onHandshakeRequest(msg: SsmMessage): void {
    let request
    try {
      request = parseHandshakeRequest(msg.payload)
    } catch (err) {
      this.fail(new TransientError(`the SSM agent sent an unreadable handshake: ${errorMessage(err)}`))
      return
    }
    this.log.debug(`${this.label}: handshake request from agent ${request.agentVersion}`)
    let kms = false
    const processed: ProcessedClientAction[] = request.requestedClientActions.map(a => {
      if (a.actionType === 'SessionType') {
        return { ActionType: a.actionType, ActionStatus: ActionStatus.Success, ActionResult: null, Error: '' }
      }
      if (a.actionType === 'KMSEncryption') kms = true
      return {
        ActionType: a.actionType,
        ActionStatus: ActionStatus.Unsupported,
        ActionResult: null,
        Error: `${a.actionType} is not supported by ec2-push`
      }
    })
    const payload = handshakeResponsePayload({
      ClientVersion: this.opts.clientVersion ?? CLIENT_VERSION,
      ProcessedClientActions: processed,
      Errors: null
    })
    this.enqueue(outgoing(PayloadType.HandshakeResponse, payload.length, { payload, control: true }))
    // The agent cancels the session on an Unsupported answer; say why instead of waiting for its
    // channel_closed (the response above is already on the socket, ahead of our close frame).
    if (kms) this.fail(unsupportedKms())
  }

  private onAck(seq: number | undefined): void {
    if (seq === undefined) return
    const acked = this.unacked.get(seq)
    if (!acked) return
    const now = Date.now()
    // Karn: a resent message's ack cannot tell which copy it answers, so it gives no RTT sample.
    if (!acked.retransmitted) this.updateRto(now - acked.lastSent)
    this.unacked.delete(seq)
    this.inflightBytes -= acked.size
    this.lastProgress = now
    // Older messages sent before this one and still unacked after several later acks were likely lost.
    for (const older of this.unacked.values()) {
      if (older.seq > seq) break
      if (older.lastSent <= acked.lastSent && ++older.laterAcks >= FAST_RESEND_AFTER_LATER_ACKS) {
        this.stats.fastRetransmits++
        this.resend(older)
      }
    }
    acked.onAcked?.()
    this.schedulePump()
  }

  private pumpScheduled = false

  /** Acks come in bursts (one TCP read holds many): refill the window once per burst, in one write. */
  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    queueMicrotask(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private updateRto(rtt: number): void {
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt)
    this.srtt = 0.875 * this.srtt + 0.125 * rtt
    this.rto = Math.min(MAX_RTO_MS, this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar))
    this.stats.rtoMs = this.rto
  }

  private onChannelClosed(msg: SsmMessage): void {
    const output = parseChannelClosed(msg.payload).output.trim()
    this.log.debug(`${this.label}: channel_closed${output ? `: ${output}` : ''}`)
    if (output || !this.handshakeDone) {
      const text = output || 'the session ended before the handshake completed'
      this.fail(this.opts.channelClosedError?.(text) ?? new TransientError(`SSM session closed: ${text}`))
      return
    }
    // A normal end: everything received in order has been pushed already.
    this.ended = true
    this.finishing?.()
    this.stream.push(null)
    this.shutdown(false)
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  private onWrite(chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (this.ended) return cb(new TransientError('the SSM session has ended'))
    const frameSize = this.opts.frameSize
    for (let off = 0; off < chunk.length;) {
      // Top up the last queued data message before starting a new one: fewer, fuller frames. The
      // bytes go straight into the message's buffer, where its header is written when it is sent.
      let last = this.sendQueue[this.sendQueue.length - 1]
      if (!last?.frame || last.size === frameSize) {
        last = outgoing(PayloadType.Output, 0, { frame: Buffer.allocUnsafe(PAYLOAD_OFFSET + frameSize) })
        this.sendQueue.push(last)
      }
      const take = Math.min(frameSize - last.size, chunk.length - off)
      chunk.copy(last.frame!, PAYLOAD_OFFSET + last.size, off, off + take)
      last.size += take
      this.queuedBytes += take
      off += take
    }
    this.pump()
    if (this.queuedBytes <= this.opts.windowBytes) cb()
    else this.blockedWrite = () => cb()
  }

  private enqueue(q: Outgoing): void {
    if (!q.control) this.sendQueue.push(q)
    else if (this.sendHead > 0) this.sendQueue[--this.sendHead] = q
    else this.sendQueue.unshift(q)
    this.queuedBytes += q.size
    this.pump()
  }

  /** Frames sent during a pump, written at its end as one buffer (see pump). */
  private outBatch?: Buffer[]

  /**
   * Send queued messages while the window has room (no per-frame sleep: the window is the pacing).
   * A burst goes in one socket write: ws writes every message separately, and with small frames the
   * per-write cost dominates. With zero masks the burst is one buffer of frames (../ws-frame.ts); with
   * random masks ws sends each frame, under a cork.
   */
  private pump(): void {
    // Re-entered when releasing a blocked write lets the stream hand over its next chunk at once:
    // those frames join the outer burst, after its own.
    if (this.outBatch) return this.pumpCorked()
    const ws = this.ws
    const raw = socketOf(ws)
    if (!raw || !this.wsReady) return this.pumpCorked()
    if ((this.opts.frameMask ?? 'zero') !== 'zero') {
      raw.cork()
      try {
        this.pumpCorked()
      } finally {
        raw.uncork()
      }
      return
    }
    const batch: Buffer[] = (this.outBatch = [])
    try {
      this.pumpCorked()
    } finally {
      this.outBatch = undefined
      // Whatever ended the socket meanwhile also ended the burst: unacked, it goes again after resume.
      if (batch.length > 0 && this.ws === ws && this.wsReady && ws?.readyState === WebSocket.OPEN)
        raw.write(binaryFrames(batch, true))
    }
  }

  private pumpCorked(): void {
    while (this.sendHead < this.sendQueue.length && this.wsReady && !this.ended) {
      const next = this.sendQueue[this.sendHead]
      if (!next.control) {
        if (this.paused || !this.handshakeDone) break
        if (this.inflightBytes > 0 && this.inflightBytes + next.size > this.opts.windowBytes) break
        if (this.unacked.size >= MAX_UNACKED_MESSAGES) break
      }
      this.takeQueued()
      this.queuedBytes -= next.size
      const seq = this.outSeq++
      const header = {
        messageType: MessageType.InputStreamData,
        sequenceNumber: seq,
        flags: 0,
        payloadType: next.payloadType
      }
      const frame = next.frame
        ? sealFrame(next.frame.subarray(0, PAYLOAD_OFFSET + next.size), header)
        : encodeMessage({ ...header, payload: next.payload })
      const now = Date.now()
      if (this.unacked.size === 0) this.lastProgress = now
      next.seq = seq
      next.frame = frame
      next.payload = undefined
      next.lastSent = now
      this.unacked.set(seq, next as InFlight)
      this.inflightBytes += next.size
      this.stats.framesSent++
      this.stats.payloadBytesSent += next.size
      this.send(frame)
    }
    if (this.blockedWrite && this.queuedBytes <= this.opts.windowBytes) {
      const release = this.blockedWrite
      this.blockedWrite = undefined
      release()
    }
  }

  /** Drop the head of sendQueue. */
  private takeQueued(): void {
    this.sendHead++
    if (this.sendHead === this.sendQueue.length) {
      this.sendQueue = []
      this.sendHead = 0
    } else if (this.sendHead >= 1024 && this.sendHead * 2 >= this.sendQueue.length) {
      this.sendQueue = this.sendQueue.slice(this.sendHead)
      this.sendHead = 0
    }
  }

  private resend(m: InFlight): void {
    m.lastSent = Date.now()
    m.retransmitted = true
    m.laterAcks = 0
    this.stats.retransmits++
    this.send(m.frame)
  }

  private tick(): void {
    if (this.ended) return
    const now = Date.now()
    if (!this.handshakeDone && now - this.connectStarted > this.t.handshakeMs) {
      this.fail(
        new TransientError(
          `the SSM agent did not complete the session handshake within ${Math.round(this.t.handshakeMs / 1000)} s: check that the SSM Agent on the instance is online and up to date`
        )
      )
      return
    }
    if (this.ws && this.wsReady) {
      if (now - this.lastPing >= this.t.pingIntervalMs) {
        this.lastPing = now
        this.ws.ping('keepalive')
      }
      if (now - this.lastHeard > this.t.deadAfterMs) {
        this.log.debug(
          `${this.label}: nothing heard for ${now - this.lastHeard} ms; dropping the socket to resume`
        )
        this.ws.terminate()
        return
      }
    }
    if (this.finishing && now - this.lastProgress > this.t.finishAckMs) return this.finishing()
    if (this.paused) {
      if (now - this.pausedAt > this.t.maxPauseMs) {
        this.fail(
          new TransientError(
            `the SSM agent stayed disconnected from the service for ${Math.round(this.t.maxPauseMs / 1000)} s (pause_publication)`
          )
        )
      }
      return
    }
    if (!this.wsReady || this.unacked.size === 0) return
    if (now - this.lastProgress > this.t.noProgressMs) {
      this.fail(
        new TransientError(
          `the SSM agent acknowledged nothing for ${Math.round(this.t.noProgressMs / 1000)} s`
        )
      )
      return
    }
    // Oldest first, each on its own timer (lastSent is refreshed on resend, unlike the plugin). The map
    // is in first-send order, so once a message never resent is within its timer, every later one is
    // too (each was first sent no earlier): the scan stops there instead of visiting the whole window.
    let budget = RESEND_BUDGET_PER_TICK
    for (const m of this.unacked.values()) {
      if (now - m.lastSent > this.rto) {
        this.resend(m)
        if (--budget === 0) break
      } else if (!m.retransmitted) break
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Ending

  /** ssh2 ended its side: send the TerminateSession flag after the data, wait briefly for its ack. */
  private onFinal(cb: (err?: Error | null) => void): void {
    if (this.ended) return cb()
    let done = false
    const finish = () => {
      if (done) return
      done = true
      this.finishing = undefined
      if (!this.ended) {
        this.ended = true
        this.stream.push(null)
        this.shutdown(false)
      }
      cb()
      setImmediate(() => this.stream.destroy())
    }
    this.finishing = finish
    this.lastProgress = Date.now()
    this.sendFlag(StreamFlag.TerminateSession, finish)
  }

  /** Fail the channel: reject the pending connect, or destroy the stream with the error. */
  private fail(err: Error): void {
    if (this.ended) return
    this.ended = true
    this.failedWith = err
    this.log.debug(`${this.label}: data channel failed: ${err.message}`)
    this.finishing?.()
    if (!this.handshakeDone) this.handshake?.reject(err)
    this.shutdown(true)
    if (this.handshakeDone) this.stream.destroy(err)
  }

  /** Stop timers and close the socket; on an abrupt end tell the agent first (best effort). */
  private shutdown(abrupt: boolean): void {
    this.ended = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    const ws = this.ws
    this.ws = undefined
    this.wsReady = false
    this.blockedWrite = undefined
    if (!ws) return
    if (abrupt && this.handshakeDone && ws.readyState === WebSocket.OPEN) {
      ws.send(
        encodeMessage({
          messageType: MessageType.InputStreamData,
          sequenceNumber: this.outSeq++,
          payloadType: PayloadType.Flag,
          payload: flagPayload(StreamFlag.TerminateSession)
        })
      )
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(1000)
    else if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
  }
}

function unsupportedKms(): UserError {
  return new UserError(
    'the SSM session asked for KMS encryption, which ec2-push does not support: use a Session Manager preference without a KMS key for this document, or mode eice/nlb'
  )
}
