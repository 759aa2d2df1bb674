import { randomUUID } from 'node:crypto'
import net from 'node:net'
import WebSocket from 'ws'
import {
  ActionStatus,
  channelClosedPayload,
  decodeMessage,
  encodeAck,
  encodeMessage,
  HeaderFlags,
  handshakeCompletePayload,
  handshakeRequestPayload,
  MessageFormatError,
  MessageType,
  parseAck,
  parseFlag,
  parseHandshakeResponse,
  PayloadType,
  SsmMessage,
  StreamFlag
} from '../../src/tunnel/ssm/message.js'
import { binaryFrames, socketOf, type FrameSocket } from '../../src/tunnel/ws-frame.js'
import { DelayLine, FaultyLink, seededRandom, SsmSimFaults } from './faults.js'

/**
 * One simulated session: the Session Manager service and the SSM Agent on the instance as one black
 * box (ssm-protocol.md §12). The agent side follows the real agent: ack after processing, re-ack
 * duplicates, buffer out-of-order, head-only retransmission with the TCP-style RTO, ack-and-discard
 * data before the handshake, "handler not ready" (no ack) until the target is dialed.
 */

export const AGENT_VERSION = '3.3.987.0'
const AGENT_CHUNK = 1024
const RESEND_TICK_MS = 100
const BUFFER_CAPACITY = 100000
const ERROR_MARK = '\n----------ERROR-------\n'

export interface SessionTarget {
  host: string
  port: number
}

export interface SessionSpec {
  sessionId: string
  instanceId: string
  document: string
  /** The document's properties after substitution, as the agent sees them (§5.2). */
  properties: Record<string, string>
  /** Where "localhost:<portNumber>" on the instance leads; undefined = nothing listens there. */
  target?: SessionTarget
  /** Whether the instance's resolver knows `properties.host` (default true). */
  hostResolves?: boolean
}

/**
 * The agent's default deny list for port forwarding to a remote host (the instance metadata, DNS, time
 * and other link-local services); the VPC's own DNS addresses are denied too, which the simulator has not.
 */
const DENIED_REMOTE_IPS = new Set([
  '169.254.169.254',
  'fd00:ec2::254',
  '169.254.169.253',
  'fd00:ec2::253',
  '169.254.169.123',
  'fd00:ec2::123',
  '169.254.169.250',
  '169.254.169.251',
  'fd00:ec2::240'
])

/**
 * What one agent read of the target socket returns, taken from the bytes queued since: everything
 * that arrived, up to `max` bytes. The agent reads into a 1024-byte buffer after each 1 ms sleep, so
 * small pieces that arrived meanwhile leave in one message.
 */
export function agentRead(queue: Buffer[], max: number): Buffer | undefined {
  const first = queue.shift()
  if (!first || first.length >= max || queue.length === 0) return first
  const parts = [first]
  let size = first.length
  while (queue.length && size < max) {
    const head = queue[0]
    const take = Math.min(head.length, max - size)
    parts.push(head.subarray(0, take))
    size += take
    if (take === head.length) queue.shift()
    else queue[0] = head.subarray(take)
  }
  return Buffer.concat(parts, size)
}

/** How many recent client messages a resend is checked against. */
const FRAME_IDS_KEPT = 50000

/** What identifies a client frame: its MessageId (16 bytes) and the first 12 bytes of its digest, as words. */
const ID_WORDS = 7
const ID_AT = [64, 68, 72, 76, 80, 84, 88]

export interface SessionRecord {
  sessionId: string
  connects: number
  clientIds: string[]
  clientVersion?: string
  handshakeCompleted: boolean
  discardedBeforeHandshake: number
  clientFrames: number
  clientDuplicates: number
  uploadBytes: number
  agentRetransmits: number
  /** Client data left unacknowledged because the target was not connected yet ("handler not ready"). */
  notReady: number
  withheldAcks: number
  /** Connections to the target that it closed itself (the agent saw the close; not DisconnectToPort). */
  targetCloses: number
  endedWith?: string
  violations: string[]
  /** Every TokenValue issued for this session (tests check none leaks into logs). */
  issuedTokens: string[]
}

export class AgentSession {
  readonly record: SessionRecord
  private token: string
  private ws?: WebSocket
  private ended = false
  private readonly random: () => number
  private readonly toAgentDelay = new DelayLine(
    () => (this.faults().rttMs ?? 0) / 2,
    run => this.batchToClient(() => this.batchToTarget(run))
  )
  private readonly toClientDelay = new DelayLine(
    () => (this.faults().rttMs ?? 0) / 2,
    run => this.batchToClient(run)
  )
  private readonly toAgentLink: FaultyLink
  private readonly toClientLink: FaultyLink
  private readonly timers = new Set<NodeJS.Timeout>()
  private tick?: NodeJS.Timeout
  private handshakeTimer?: NodeJS.Timeout

  // What the service checks of the client's frames.
  private maxClientSeq = -1
  /**
   * The last FRAME_IDS_KEPT client sequence numbers (at seq % FRAME_IDS_KEPT): MessageId and digest
   * words, ID_WORDS each (flat: one object per frame kept this long would cost the collector more).
   */
  private readonly clientFrameIds = new Uint32Array(FRAME_IDS_KEPT * ID_WORDS)
  private readonly agentIds = new Map<number, string>()
  private killDone = false
  private pauseDone = false

  // Agent: client -> agent stream.
  private handshakeState: 'none' | 'requested' | 'complete' | 'failed' = 'none'
  private expectedIn = 0
  private readonly inBuffer = new Map<number, SsmMessage>()
  private readonly withheld = new Set<number>()

  // Agent: agent -> client stream.
  private outSeq = 0
  private readonly outUnacked = new Map<number, { frame: Buffer; lastSent: number; resent: boolean }>()
  private srtt = 100
  private rttvar = 0
  private rto = 200
  private readonly outQueue: Buffer[] = []
  private pumping = false

  // Pacing of client frames (the official client's 1 frame/ms).
  private readonly pacedQueue: (() => void)[] = []
  private pacer?: NodeJS.Timeout

  // Target connection.
  private socket?: net.Socket
  private targetState: 'none' | 'dialing' | 'connected' | 'closed' = 'none'
  /** The target has been dialled once (a later dial is a reconnect). */
  private dialled = false

  constructor(
    readonly spec: SessionSpec,
    private readonly faults: () => SsmSimFaults,
    private readonly onEnd: (s: AgentSession) => void
  ) {
    this.token = newToken()
    this.record = {
      sessionId: spec.sessionId,
      connects: 0,
      clientIds: [],
      handshakeCompleted: false,
      discardedBeforeHandshake: 0,
      clientFrames: 0,
      clientDuplicates: 0,
      uploadBytes: 0,
      agentRetransmits: 0,
      notReady: 0,
      withheldAcks: 0,
      targetCloses: 0,
      violations: [],
      issuedTokens: [this.token]
    }
    this.random = seededRandom(faults().seed ?? 1)
    this.toAgentLink = new FaultyLink(() => this.faults().clientToAgent, this.random)
    this.toClientLink = new FaultyLink(() => this.faults().agentToClient, this.random)
    // The real agent starts its handshake clock as soon as the session exists.
    this.handshakeTimer = setTimeout(() => {
      if (this.handshakeState !== 'complete' && !this.faults().handshakeNeverCompletes) {
        this.end(
          `${ERROR_MARK}Encountered error while initiating handshake. Handshake timed out. Please ensure that you have the latest version of the session manager plugin.`
        )
      }
    }, faults().handshakeTimeoutMs ?? 15000)
    this.tick = setInterval(() => this.resendTick(), RESEND_TICK_MS)
  }

  get currentToken(): string {
    return this.token
  }

  get isEnded(): boolean {
    return this.ended
  }

  /** ResumeSession: a new single-use token. */
  issueToken(): string {
    this.token = newToken()
    this.record.issuedTokens.push(this.token)
    return this.token
  }

  violation(text: string): void {
    this.record.violations.push(text)
  }

  /** A client passed the token check on a new WebSocket. */
  attach(ws: WebSocket, open: { ClientId: string; ClientVersion?: string }): void {
    this.token = '' // single use
    if (this.ws && this.ws !== ws) this.ws.terminate()
    this.ws = ws
    this.record.connects++
    if (this.record.clientIds.length && !this.record.clientIds.includes(open.ClientId)) {
      this.violation(`ClientId changed on reconnect: ${this.record.clientIds[0]} -> ${open.ClientId}`)
    }
    if (!this.record.clientIds.includes(open.ClientId)) this.record.clientIds.push(open.ClientId)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.ws !== ws) return
      if (!isBinary) return this.violation('text frame after the open message')
      this.fromClient(data)
    })
    ws.on('close', () => {
      if (this.ws === ws) this.ws = undefined
    })
    if (this.handshakeState === 'none') {
      this.handshakeState = 'requested'
      const actions: { ActionType: string; ActionParameters: unknown }[] = [
        {
          ActionType: 'SessionType',
          ActionParameters: { SessionType: 'Port', Properties: this.spec.properties }
        }
      ]
      if (this.faults().requestKms) {
        actions.push({
          ActionType: 'KMSEncryption',
          ActionParameters: { KMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/sim', Challenge: 'c2lt' }
        })
      }
      this.sendStream(PayloadType.HandshakeRequest, handshakeRequestPayload(AGENT_VERSION, actions))
    } else {
      // Back after a drop: everything the client has not acknowledged goes again.
      for (const [seq, m] of this.outUnacked) this.transmit(seq, m.frame)
      this.pumpTarget()
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Service: what arrives from the client

  private fromClient(raw: Buffer): void {
    const f = this.faults()
    let msg: SsmMessage
    try {
      msg = decodeMessage(raw, { strict: true })
    } catch (err) {
      this.violation(`invalid frame: ${(err as Error).message}`)
      return
    }
    const isNew = msg.messageType === MessageType.InputStreamData && msg.sequenceNumber > this.maxClientSeq
    if (!this.validate(msg, raw)) return
    if (msg.messageType === MessageType.InputStreamData && msg.payloadType === PayloadType.Output) {
      if (f.maxFramePayload !== undefined && msg.payload.length > f.maxFramePayload) {
        this.end(
          `${ERROR_MARK}message payload of ${msg.payload.length} bytes exceeds the maximum accepted frame size (${f.maxFramePayload} bytes)`,
          1009
        )
        return
      }
      if (isNew) this.record.uploadBytes += msg.payload.length
      this.maybeInjectConnectionFaults()
    }
    const deliver = () => this.toAgentLink.pass(() => this.agentReceive(msg))
    const paced = f.officialClientPacing && msg.messageType === MessageType.InputStreamData
    this.toAgentDelay.push(paced ? () => this.paceClientFrame(deliver) : deliver)
  }

  /** Strict checks of a client frame beyond its layout; false = drop it (recorded as a violation). */
  private validate(msg: SsmMessage, raw: Buffer): boolean {
    const bad = (text: string) => {
      this.violation(text)
      return false
    }
    if (msg.createdDate === 0) return bad('CreatedDate is 0')
    if (msg.messageType === MessageType.Acknowledge) {
      if (msg.sequenceNumber !== 0 || msg.flags !== HeaderFlags.Ack || msg.payloadType !== 0) {
        return bad(
          `acknowledge header must be seq 0, flags 3, PayloadType 0 (got ${msg.sequenceNumber}/${msg.flags}/${msg.payloadType})`
        )
      }
      let ack
      try {
        ack = parseAck(msg.payload)
      } catch (err) {
        return bad(`acknowledge payload: ${(err as Error).message}`)
      }
      const sentId = this.agentIds.get(ack.acknowledgedMessageSequenceNumber)
      if (sentId === undefined)
        return bad(`ack for seq ${ack.acknowledgedMessageSequenceNumber}, which the agent never sent`)
      if (ack.acknowledgedMessageId !== sentId)
        return bad(`ack MessageId ${ack.acknowledgedMessageId} != sent ${sentId} (UUID half-swap?)`)
      if (ack.acknowledgedMessageType !== MessageType.OutputStreamData)
        return bad(`ack names type '${ack.acknowledgedMessageType}'`)
      if (!ack.isSequentialMessage) return bad('ack IsSequentialMessage is not true')
      return true
    }
    if (msg.messageType !== MessageType.InputStreamData)
      return bad(`client sent MessageType '${msg.messageType}'`)
    if (msg.flags !== 0) return bad(`input_stream_data flags ${msg.flags}`)
    const seq = msg.sequenceNumber
    // The digest stands for the payload: the strict decode checked it against the payload's SHA-256.
    if (seq > this.maxClientSeq + 1) return bad(`sequence jumped from ${this.maxClientSeq} to ${seq}`)
    const at = (seq % FRAME_IDS_KEPT) * ID_WORDS
    if (seq <= this.maxClientSeq) {
      if (seq > this.maxClientSeq - FRAME_IDS_KEPT) {
        for (let i = 0; i < ID_WORDS; i++) {
          if (this.clientFrameIds[at + i] !== raw.readUInt32BE(ID_AT[i]))
            return bad(`seq ${seq} resent with a different MessageId or payload`)
        }
      }
    } else {
      this.maxClientSeq = seq
      for (let i = 0; i < ID_WORDS; i++) this.clientFrameIds[at + i] = raw.readUInt32BE(ID_AT[i])
    }
    switch (msg.payloadType) {
      case PayloadType.Output:
      case PayloadType.Size:
        return true
      case PayloadType.HandshakeResponse:
        try {
          const r = parseHandshakeResponse(msg.payload)
          if (!/^\d+(\.\d+)*$/.test(r.ClientVersion))
            return bad(
              `ClientVersion '${r.ClientVersion}' is not numeric (the agent would compare it as text)`
            )
          this.record.clientVersion = r.ClientVersion
          if (
            this.spec.properties.type === 'LocalPortForwarding' &&
            compareVersions(r.ClientVersion, '1.1.70') >= 0
          ) {
            return bad(
              `ClientVersion ${r.ClientVersion} >= 1.1.70 selects smux, which this client must not use`
            )
          }
        } catch (err) {
          return bad(`HandshakeResponse: ${(err as Error).message}`)
        }
        return true
      case PayloadType.Flag:
        try {
          const flag = parseFlag(msg.payload)
          if (flag !== StreamFlag.DisconnectToPort && flag !== StreamFlag.TerminateSession)
            return bad(`client sent flag ${flag}`)
        } catch (err) {
          return bad((err as Error).message)
        }
        return true
      default:
        return bad(`client sent PayloadType ${msg.payloadType}`)
    }
  }

  private maybeInjectConnectionFaults(): void {
    const f = this.faults()
    if (f.killAfterBytes && !this.killDone && this.record.uploadBytes >= f.killAfterBytes.bytes && this.ws) {
      this.killDone = true
      if (f.killAfterBytes.code === 1006) this.ws.terminate()
      else this.ws.close(1000, 'Bye')
      this.ws = undefined
    }
    if (f.pauseAfterBytes && !this.pauseDone && this.record.uploadBytes >= f.pauseAfterBytes.bytes) {
      this.pauseDone = true
      this.sendControl(MessageType.PausePublication)
      this.later(f.pauseAfterBytes.ms, () => this.sendControl(MessageType.StartPublication))
    }
  }

  private paceClientFrame(deliver: () => void): void {
    this.pacedQueue.push(deliver)
    if (this.pacer) return
    const step = () => {
      this.pacer = undefined
      const next = this.pacedQueue.shift()
      if (!next || this.ended) return
      next()
      this.pacer = setTimeout(step, 1)
    }
    step()
  }

  // ---------------------------------------------------------------------------------------------
  // Agent: receiving

  private agentReceive(msg: SsmMessage): void {
    if (this.ended) return
    if (msg.messageType === MessageType.Acknowledge) return this.onAck(msg)
    this.record.clientFrames++
    const seq = msg.sequenceNumber
    if (seq < this.expectedIn) {
      this.record.clientDuplicates++
      this.ack(msg)
      return
    }
    if (seq > this.expectedIn) {
      if (this.inBuffer.size < BUFFER_CAPACITY) {
        this.inBuffer.set(seq, msg)
        this.ack(msg)
      }
      return
    }
    if (!this.handleInOrder(msg, false)) return
    this.expectedIn++
    this.drain()
  }

  private drain(): void {
    for (
      let next = this.inBuffer.get(this.expectedIn);
      next && !this.ended;
      next = this.inBuffer.get(this.expectedIn)
    ) {
      if (!this.handleInOrder(next, true)) return
      this.inBuffer.delete(this.expectedIn)
      this.expectedIn++
    }
  }

  private ack(msg: SsmMessage): void {
    const seq = msg.sequenceNumber
    if (this.faults().withholdAcks?.includes(seq) && !this.withheld.has(seq)) {
      this.withheld.add(seq)
      this.record.withheldAcks++
      return
    }
    this.toClient(encodeAck(msg))
  }

  /** Process one in-order client stream message; false = "handler not ready" (no ack, retry later). */
  private handleInOrder(msg: SsmMessage, acked: boolean): boolean {
    const ackNow = () => {
      if (!acked) this.ack(msg)
    }
    if (this.handshakeState !== 'complete') {
      if (msg.payloadType === PayloadType.HandshakeResponse && this.handshakeState === 'requested') {
        ackNow()
        this.onHandshakeResponse(msg)
      } else {
        // The real agent acknowledges and throws away stream data that beats its handshake.
        this.record.discardedBeforeHandshake++
        this.violation(
          `stream data (PayloadType ${msg.payloadType}, seq ${msg.sequenceNumber}) before HandshakeComplete was discarded`
        )
        ackNow()
      }
      return true
    }
    switch (msg.payloadType) {
      case PayloadType.Output:
        if (this.targetState === 'closed' && this.spec.properties.type === 'LocalPortForwarding') this.dial()
        if (this.targetState !== 'connected' || !this.socket) {
          if (!acked) this.record.notReady++
          return false
        }
        if (this.targetOut) this.targetOut.push(msg.payload)
        else this.socket.write(msg.payload)
        ackNow()
        return true
      case PayloadType.Flag: {
        ackNow()
        const flag = parseFlag(msg.payload)
        if (flag === StreamFlag.TerminateSession) this.end('')
        else if (flag === StreamFlag.DisconnectToPort) this.disconnectTarget()
        return true
      }
      default:
        ackNow()
        return true
    }
  }

  private onHandshakeResponse(msg: SsmMessage): void {
    const response = parseHandshakeResponse(msg.payload)
    const failed = response.ProcessedClientActions.find(a => a.ActionStatus !== ActionStatus.Success)
    if (failed) {
      this.handshakeState = 'failed'
      this.end(
        `${ERROR_MARK}Encountered error while initiating handshake. ${failed.ActionType} failed on client with status ${failed.ActionStatus} error: ${failed.Error}`
      )
      return
    }
    if (this.faults().handshakeNeverCompletes) return
    this.handshakeState = 'complete'
    this.record.handshakeCompleted = true
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    this.sendStream(PayloadType.HandshakeComplete, handshakeCompletePayload(246993163, ''))
    const closing = this.faults().channelClosedAfterHandshake
    if (closing !== undefined) {
      this.end(closing)
      return
    }
    this.later(this.faults().dialDelayMs ?? 0, () => this.dial())
  }

  private onAck(msg: SsmMessage): void {
    const seq = parseAck(msg.payload).acknowledgedMessageSequenceNumber
    const m = this.outUnacked.get(seq)
    if (!m) return
    if (!m.resent) {
      const rtt = Date.now() - m.lastSent
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt)
      this.srtt = 0.875 * this.srtt + 0.125 * rtt
      this.rto = Math.min(1000, this.srtt + Math.max(10, 4 * this.rttvar))
    }
    this.outUnacked.delete(seq)
    this.pumpTarget()
  }

  // ---------------------------------------------------------------------------------------------
  // Agent: sending

  private sendStream(payloadType: number, payload: Buffer): void {
    const seq = this.outSeq++
    const messageId = randomUUID()
    this.agentIds.set(seq, messageId)
    const frame = encodeMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: seq,
      flags: seq === 0 ? HeaderFlags.Syn : 0,
      payloadType,
      payload,
      messageId
    })
    this.outUnacked.set(seq, { frame, lastSent: Date.now(), resent: false })
    this.transmit(seq, frame)
  }

  private transmit(_seq: number, frame: Buffer): void {
    this.toClient(frame)
  }

  private toClient(frame: Buffer): void {
    const ws = this.ws
    if (!ws) return
    this.toClientDelay.push(() =>
      this.toClientLink.pass(() => {
        this.sendTo(ws, frame)
      })
    )
  }

  /** Service messages: unsequenced, unacknowledged, not subject to the frame faults. */
  private sendControl(type: string, payload = Buffer.alloc(0)): void {
    const ws = this.ws
    if (!ws) return
    const frame = encodeMessage({ messageType: type, payload })
    this.toClientDelay.push(() => this.sendTo(ws, frame))
  }

  private resendTick(): void {
    if (this.ended || !this.ws) return
    const head = this.outUnacked.entries().next().value
    if (!head) return
    const [seq, m] = head
    if (Date.now() - m.lastSent > this.rto) {
      m.lastSent = Date.now()
      m.resent = true
      this.record.agentRetransmits++
      this.transmit(seq, m.frame)
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Batched writes: each delay-line batch (a burst of the client's frames, or of what goes back)
  // leaves in one socket write per direction, as a real service's would in few TCP segments.

  /** Frames for the client socket during a batch (written by flushToClient), and that socket. */
  private clientOut?: { ws: WebSocket; raw: FrameSocket; frames: Buffer[] }
  /** Bytes for the target during a batch. */
  private targetOut?: Buffer[]

  private sendTo(ws: WebSocket, frame: Buffer): void {
    if (ws.readyState !== WebSocket.OPEN) return
    if (this.clientOut?.ws === ws) this.clientOut.frames.push(frame)
    else ws.send(frame)
  }

  private batchToClient(run: () => void): void {
    const ws = this.ws
    const raw = socketOf(ws)
    if (this.clientOut || !ws || !raw) return run()
    this.clientOut = { ws, raw, frames: [] }
    try {
      run()
    } finally {
      this.flushToClient()
      this.clientOut = undefined
    }
  }

  /** Write the batch's frames so far (ws itself sends nothing compressed or queued here: see ws-frame.ts). */
  private flushToClient(): void {
    const out = this.clientOut
    if (!out || out.frames.length === 0) return
    const frames = out.frames
    out.frames = []
    if (out.ws.readyState === WebSocket.OPEN) out.raw.write(binaryFrames(frames, false))
  }

  private batchToTarget(run: () => void): void {
    const socket = this.socket
    if (this.targetOut || !socket) return run()
    const out: Buffer[] = (this.targetOut = [])
    try {
      run()
    } finally {
      this.targetOut = undefined
      // A socket replaced or destroyed meanwhile would have lost these bytes under a cork too.
      if (out.length > 0 && socket === this.socket && !socket.destroyed)
        socket.write(out.length === 1 ? out[0] : Buffer.concat(out))
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Port plugin: the target connection

  private dial(): void {
    if (this.ended || this.targetState === 'dialing' || this.targetState === 'connected') return
    const port = Number(this.spec.properties.portNumber ?? '22')
    const target = this.spec.target
    const host = this.spec.properties.host ?? ''
    // As the port plugin: the first dial's failure is the session's output, as the plugin sets it
    // (no error banner); a later one (a reconnect on new client data after the target closed) ends
    // the session with no output at all.
    const first = !this.dialled
    this.dialled = true
    const fail = (why: string) => this.end(first ? `Unable to connect to specified port: ${why}` : '')
    if (first && host && this.spec.hostResolves !== false && DENIED_REMOTE_IPS.has(host)) {
      return this.end(`Forwarding to IP address ${host} is forbidden.`)
    }
    // The plugin dials the addresses the host resolved to; none resolved is its "missing address".
    if (host && this.spec.hostResolves === false) return fail('missing address')
    // The address Go's dial error names: the one dialled (the simulator resolves no names, so a routed
    // name stands for its address).
    const address = `${!host || host === 'localhost' ? '127.0.0.1' : net.isIPv6(host) ? `[${host}]` : host}:${port}`
    const refuse = () => fail(`dial tcp ${address}: connect: connection refused`)
    if (!target || this.faults().dialFails) return refuse()
    this.targetState = 'dialing'
    const socket = net.connect({ host: target.host, port: target.port })
    this.socket = socket
    socket.setNoDelay(true)
    socket.once('connect', () => {
      if (this.socket !== socket) return
      this.targetState = 'connected'
      // Client data that was left unacked or buffered can now be processed.
      this.drain()
    })
    socket.on('data', (chunk: Buffer) => {
      for (let off = 0; off < chunk.length; off += AGENT_CHUNK)
        this.outQueue.push(chunk.subarray(off, off + AGENT_CHUNK))
      if (this.outQueue.length > 256) socket.pause()
      this.pumpTarget()
    })
    socket.on('error', () => {
      if (this.socket !== socket) return
      if (this.targetState === 'dialing') return refuse()
      // A read error on the SSH document's connection fails the plugin with no output.
      if (this.spec.properties.type !== 'LocalPortForwarding') this.end('')
    })
    socket.on('close', () => {
      if (this.socket !== socket || this.targetState === 'dialing') return
      this.targetState = 'closed'
      this.socket = undefined
      this.record.targetCloses++
      // SSH document: EOF at the target ends the session once our output is delivered.
      if (this.spec.properties.type !== 'LocalPortForwarding') this.whenOutputDrained(() => this.end(''))
    })
  }

  private disconnectTarget(): void {
    const s = this.socket
    this.socket = undefined
    this.targetState = 'closed'
    s?.destroy()
    // The SSH document's session ends with the connection (its read fails; no output is set).
    if (this.spec.properties.type !== 'LocalPortForwarding') this.end('')
  }

  /** Send target bytes as Output messages, one per agentPacingMs (the agent's WritePump). */
  private pumpTarget(): void {
    if (this.pumping || this.ended) return
    const pace = this.faults().agentPacingMs ?? 1
    const step = () => {
      this.pumping = false
      if (this.ended || !this.ws) return
      const next = agentRead(this.outQueue, AGENT_CHUNK)
      if (!next) {
        this.socket?.resume()
        return
      }
      this.sendStream(PayloadType.Output, next)
      if (this.outQueue.length < 64) this.socket?.resume()
      this.pumping = true
      if (pace > 0) this.later(pace, step)
      else setImmediate(step)
    }
    this.pumping = true
    step()
  }

  /** Like the agent's PrepareToCloseChannel: wait up to 2 s for our output to be acknowledged. */
  private whenOutputDrained(fn: () => void): void {
    const deadline = Date.now() + 2000
    const check = () => {
      if (this.ended) return
      if ((this.outQueue.length === 0 && this.outUnacked.size === 0) || Date.now() > deadline) return fn()
      this.later(20, check)
    }
    check()
  }

  // ---------------------------------------------------------------------------------------------

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (!this.ended) fn()
    }, ms)
    this.timers.add(t)
  }

  /** End the session: channel_closed (Output '' on a normal end), then close the socket. */
  end(output: string, closeCode = 1000): void {
    if (this.ended) return
    this.ended = true
    this.record.endedWith = output
    const ws = this.ws
    if (ws && ws.readyState === WebSocket.OPEN) {
      const frame = encodeMessage({
        messageType: MessageType.ChannelClosed,
        payload: channelClosedPayload(this.spec.sessionId, output, this.spec.instanceId)
      })
      // Let data already in the delay line go first, then the notice, then the close. The socket
      // goes when the client answers the close (ws itself gives up on a silent client after 30 s):
      // destroyed earlier, with the client's data still unread here, it would be reset, and the
      // reset can discard the notice before a busy client has read it.
      this.toClientDelay.push(() => {
        if (ws.readyState !== WebSocket.OPEN) return this.releaseResources()
        ws.once('close', () => this.releaseResources())
        this.sendTo(ws, frame)
        this.flushToClient()
        ws.close(closeCode, closeCode === 1000 ? '' : 'message too big')
      })
    } else {
      this.releaseResources()
    }
    this.onEnd(this)
  }

  private released = false

  private releaseResources(): void {
    if (this.released) return
    this.released = true
    if (this.tick) clearInterval(this.tick)
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    if (this.pacer) clearTimeout(this.pacer)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.toAgentDelay.close()
    this.toClientDelay.close()
    this.toAgentLink.close()
    this.toClientLink.close()
    this.socket?.destroy()
    this.socket = undefined
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate()
    this.ws = undefined
  }

  /** Simulator shutdown. */
  dispose(): void {
    this.ended = true
    this.releaseResources()
  }
}

function newToken(): string {
  return Buffer.from(randomUUID() + randomUUID()).toString('base64')
}

/** The agent's versionutil comparison for purely numeric dotted versions. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

export { MessageFormatError }
