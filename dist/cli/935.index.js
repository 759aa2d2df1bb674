export const id = 935;
export const ids = [935];
export const modules = {

/***/ 2935:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createSsmTunnel: () => (/* binding */ createSsmTunnel)
});

// UNUSED EXPORTS: ssmStreamStats

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ssm/dist-cjs/index.js
var dist_cjs = __webpack_require__(4736);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
// EXTERNAL MODULE: ./node_modules/ws/wrapper.mjs
var wrapper = __webpack_require__(2977);
// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
;// CONCATENATED MODULE: ./build/action/tunnel/ws-frame.js

/** ws exports its Sender (ESM: wrapper.mjs) beside the WebSocket class; @types/ws does not describe it. */
const { frame: ws_frame_frame } = wrapper/* Sender */.U1;
const zeroKey = (mask) => {
    mask.fill(0);
};
const CLIENT = {
    fin: true,
    opcode: 2,
    mask: true,
    readOnly: true,
    rsv1: false,
    generateMask: zeroKey
};
const SERVER = { fin: true, opcode: 2, mask: false, readOnly: true, rsv1: false };
/**
 * One binary frame per message, concatenated: `masked` for a client (zero key), unmasked for a
 * server. Write it to the WebSocket's own socket only while `ws` itself has nothing queued (no
 * compression, no Blob sends), so its frames and these cannot interleave mid-frame.
 */
function binaryFrames(messages, masked) {
    const options = masked ? CLIENT : SERVER;
    const parts = [];
    for (const m of messages)
        for (const part of ws_frame_frame(m, options))
            parts.push(part);
    return Buffer.concat(parts);
}
/** ws's underlying net.Socket (`_socket`, stable across ws 8.x), to write many frames at once. */
function socketOf(socket) {
    return socket?._socket ?? undefined;
}

// EXTERNAL MODULE: ./build/action/tunnel/ws-mask.js
var ws_mask = __webpack_require__(1523);
// EXTERNAL MODULE: ./build/action/util/sha256.js
var sha256 = __webpack_require__(1129);
;// CONCATENATED MODULE: ./build/action/tunnel/ssm/message.js


/**
 * The Session Manager data-channel binary message (ssm-protocol.md §3): a fixed 120-byte header
 * followed by the payload. Pure functions only; the data channel and the simulator share them.
 */
/** HeaderLength as sent: the offset of PayloadLength. The payload starts 4 bytes later. */
const HEADER_LENGTH = 116;
const PAYLOAD_OFFSET = HEADER_LENGTH + 4;
const MESSAGE_TYPE_BYTES = 32;
const MessageType = {
    InputStreamData: 'input_stream_data',
    OutputStreamData: 'output_stream_data',
    Acknowledge: 'acknowledge',
    ChannelClosed: 'channel_closed',
    StartPublication: 'start_publication',
    PausePublication: 'pause_publication'
};
const PayloadType = {
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
};
/** Header Flags field values (informational; §3.3). */
const HeaderFlags = { None: 0, Syn: 1, Fin: 2, Ack: 3 };
/** PayloadType Flag values (§4.3). */
const StreamFlag = { DisconnectToPort: 1, TerminateSession: 2, ConnectToPortError: 3 };
class MessageFormatError extends Error {
    constructor(message) {
        super(message);
        this.name = 'MessageFormatError';
    }
}
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A UUID the reference Go code would parse: RFC 4122 variant, version 1..5. */
function isValidUuid(id) {
    if (!UUID_RE.test(id))
        return false;
    const version = parseInt(id[14], 16);
    const variant = parseInt(id[19], 16);
    return version >= 1 && version <= 5 && (variant & 0xc) === 0x8;
}
/** Write the UUID as its second 8 bytes then its first 8 bytes (§3.2). */
function uuidToWire(id) {
    const out = Buffer.allocUnsafe(16);
    writeUuid(id, out, 0);
    return out;
}
/** uuidToWire into `out` at `at`, without intermediate buffers (the per-frame path). */
function writeUuid(id, out, at) {
    const lower = id.toLowerCase();
    if (!UUID_RE.test(lower))
        throw new MessageFormatError(`not a UUID: ${id}`);
    out.write(lower.slice(19, 23), at, 'hex');
    out.write(lower.slice(24, 36), at + 2, 'hex');
    out.write(lower.slice(0, 8), at + 8, 'hex');
    out.write(lower.slice(9, 13), at + 12, 'hex');
    out.write(lower.slice(14, 18), at + 14, 'hex');
}
function uuidFromWire(wire) {
    if (wire.length !== 16)
        throw new MessageFormatError(`MessageId must be 16 bytes, got ${wire.length}`);
    return uuidAt(wire, 0);
}
/** The UUID whose wire form (halves swapped) is `buf[at .. at + 16]`. */
function uuidAt(buf, at) {
    const h = buf.toString('hex', at, at + 16);
    return `${h.slice(16, 24)}-${h.slice(24, 28)}-${h.slice(28, 32)}-${h.slice(0, 4)}-${h.slice(4, 16)}`;
}
/** Whether a wire-form MessageId is a version 1-5, RFC 4122 variant UUID (what isValidUuid checks of its text). */
function wireUuidValid(buf, at) {
    const version = buf[at + 14] >> 4;
    return version >= 1 && version <= 5 && (buf[at] & 0xc0) === 0x80;
}
/** Random bytes for new MessageIds, drawn 16 at a time (as randomUUID does internally, minus the text). */
const ID_POOL_BYTES = 16 * 256;
let idPool = Buffer.alloc(0);
let idPoolAt = 0;
/** A fresh random (version 4) MessageId written in wire order: the per-frame path, no text form. */
function writeRandomUuid(out, at) {
    if (idPoolAt >= idPool.length) {
        idPool = (0,external_node_crypto_.randomBytes)(ID_POOL_BYTES);
        idPoolAt = 0;
    }
    idPool.copy(out, at, idPoolAt, idPoolAt + 16);
    idPoolAt += 16;
    // Wire byte 14 is the UUID's byte 6 (version), wire byte 0 its byte 8 (variant).
    out[at + 14] = (out[at + 14] & 0x0f) | 0x40;
    out[at] = (out[at] & 0x3f) | 0x80;
}
const TWO_32 = 2 ** 32;
/** Non-negative integers below 2^53 as big-endian 64-bit, without BigInt (the per-frame path). */
function writeU64(out, n, at) {
    out.writeUInt32BE(Math.floor(n / TWO_32), at);
    out.writeUInt32BE(n >>> 0, at + 4);
}
/** Encode one message; missing fields get the values the reference clients use. */
function encodeMessage(m) {
    const payload = m.payload ?? Buffer.alloc(0);
    // Every header byte is written by sealFrame, so the buffer needs no zero-fill.
    const out = Buffer.allocUnsafe(PAYLOAD_OFFSET + payload.length);
    payload.copy(out, PAYLOAD_OFFSET);
    return sealFrame(out, m);
}
/**
 * Write the header of a message whose payload is already in place (`frame` from PAYLOAD_OFFSET to
 * its end): the data channel fills frames straight from the stream, so each byte is copied once.
 */
function sealFrame(frame, m) {
    const padded = paddedType(m.messageType);
    const payloadLength = frame.length - PAYLOAD_OFFSET;
    frame.writeUInt32BE(HEADER_LENGTH, 0);
    padded.copy(frame, 4);
    frame.writeUInt32BE(m.schemaVersion ?? 1, 36);
    writeU64(frame, m.createdDate ?? Date.now(), 40);
    const seq = m.sequenceNumber ?? 0;
    if (seq >= 0 && Number.isSafeInteger(seq))
        writeU64(frame, seq, 48);
    else
        frame.writeBigInt64BE(BigInt(seq), 48);
    writeU64(frame, m.flags ?? 0, 56);
    if (m.messageId === undefined)
        writeRandomUuid(frame, 64);
    else
        writeUuid(m.messageId, frame, 64);
    frame.write((0,sha256/* sha256Latin1 */.r_)(frame.subarray(PAYLOAD_OFFSET)), 80, 'latin1');
    frame.writeUInt32BE(m.payloadType ?? 0, 112);
    frame.writeUInt32BE(payloadLength, 116);
    return frame;
}
/** A MessageType as written and as the strict reader expects it: left-aligned, space-padded (cached). */
const paddedTypes = new Map();
function paddedType(messageType) {
    let padded = paddedTypes.get(messageType);
    if (!padded) {
        const length = Buffer.byteLength(messageType, 'ascii');
        if (length === 0 || length > MESSAGE_TYPE_BYTES) {
            throw new MessageFormatError(`MessageType must be 1..32 bytes: '${messageType}'`);
        }
        padded = Buffer.alloc(MESSAGE_TYPE_BYTES, 0x20);
        padded.write(messageType, 0, 'ascii');
        if (paddedTypes.size < 64)
            paddedTypes.set(messageType, padded);
    }
    return padded;
}
/** The types every data channel carries, space-padded, by their first letter (each type's is its own). */
const KNOWN_TYPES = new Map(Object.values(MessageType).map(type => [type.charCodeAt(0), { type, padded: paddedType(type) }]));
/** The MessageType field as text: a known type's padded bytes directly, anything else trimmed of NULs and spaces. */
function readMessageType(buf) {
    const known = KNOWN_TYPES.get(buf[4]);
    if (known && known.padded.compare(buf, 4, 4 + MESSAGE_TYPE_BYTES) === 0)
        return known.type;
    return buf
        .subarray(4, 4 + MESSAGE_TYPE_BYTES)
        .toString('ascii')
        .replace(/^\0+|\0+$/g, '')
        .trim();
}
/** An unsigned 64-bit big-endian field as a Number (exact below 2^53, rounded above). */
function readU64(buf, at) {
    return buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}
/** Decode one WebSocket binary message; throws MessageFormatError when it fails validation. */
function decodeMessage(buf, opts = {}) {
    if (buf.length < 4 + MESSAGE_TYPE_BYTES)
        throw new MessageFormatError(`message too short: ${buf.length} bytes`);
    const messageType = readMessageType(buf);
    const lenient = !opts.strict &&
        (messageType === MessageType.StartPublication || messageType === MessageType.PausePublication);
    if (buf.length < PAYLOAD_OFFSET) {
        if (!lenient)
            throw new MessageFormatError(`message too short: ${buf.length} bytes`);
        // The service may send publication notices with incomplete headers (§3.1); only the type matters.
        const nil = '00000000-0000-0000-0000-000000000000';
        return {
            messageType,
            schemaVersion: 0,
            createdDate: 0,
            sequenceNumber: 0,
            flags: 0,
            messageId: nil,
            payloadType: 0,
            payload: Buffer.alloc(0)
        };
    }
    const payload = lenient
        ? buf.subarray(Math.min(buf.readUInt32BE(0) + 4, buf.length))
        : checkedPayload(buf, messageType, opts.strict === true);
    return {
        messageType,
        schemaVersion: buf.readUInt32BE(36),
        createdDate: readU64(buf, 40),
        sequenceNumber: buf.readUInt32BE(48) < 0x200000 ? readU64(buf, 48) : Number(buf.readBigInt64BE(48)),
        flags: readU64(buf, 56),
        messageId: uuidAt(buf, 64),
        payloadType: buf.readUInt32BE(112),
        payload
    };
}
/** The payload of a message at least PAYLOAD_OFFSET long, once its header passes decodeMessage's checks. */
function checkedPayload(buf, messageType, strict) {
    const headerLength = buf.readUInt32BE(0);
    if (headerLength === 0)
        throw new MessageFormatError('HeaderLength is 0');
    if (strict && headerLength !== HEADER_LENGTH) {
        throw new MessageFormatError(`HeaderLength must be ${HEADER_LENGTH}, got ${headerLength}`);
    }
    const payloadStart = headerLength + 4;
    if (payloadStart > buf.length || headerLength < HEADER_LENGTH) {
        throw new MessageFormatError(`HeaderLength ${headerLength} does not fit a ${buf.length}-byte message`);
    }
    if (!messageType)
        throw new MessageFormatError('MessageType is empty');
    if (strict) {
        if (paddedType(messageType).compare(buf, 4, 4 + MESSAGE_TYPE_BYTES) !== 0)
            throw new MessageFormatError(`MessageType '${messageType}' is not left-aligned and space-padded`);
    }
    const schemaVersion = buf.readUInt32BE(36);
    if (strict && schemaVersion !== 1)
        throw new MessageFormatError(`SchemaVersion must be 1, got ${schemaVersion}`);
    if (readU64(buf, 40) === 0)
        throw new MessageFormatError('CreatedDate is 0');
    if (strict && !wireUuidValid(buf, 64))
        throw new MessageFormatError(`MessageId ${uuidAt(buf, 64)} is not a version 1-5 UUID`);
    const payloadLength = buf.readUInt32BE(116);
    const payload = buf.subarray(payloadStart);
    if (payloadLength !== payload.length) {
        throw new MessageFormatError(`PayloadLength ${payloadLength} does not match the ${payload.length} payload bytes`);
    }
    if ((payloadLength !== 0 || strict) && (0,sha256/* sha256Latin1 */.r_)(payload) !== buf.toString('latin1', 80, 112)) {
        throw new MessageFormatError('PayloadDigest does not match SHA-256 of the payload');
    }
    return payload;
}
const ACKNOWLEDGE_TYPE = paddedType(MessageType.Acknowledge);
/** Whether a received message's MessageType is acknowledge (as decodeMessage would read it). */
function isAcknowledge(buf) {
    return (buf.length >= 4 + MESSAGE_TYPE_BYTES &&
        buf[4] === 0x61 &&
        ACKNOWLEDGE_TYPE.compare(buf, 4, 4 + MESSAGE_TYPE_BYTES) === 0);
}
/**
 * ackedSequenceNumber(decodeMessage(buf).payload) for an acknowledge message (isAcknowledge), with
 * the same checks and errors, without building the message: a sender gets one per message it sends.
 */
function decodeAckedSequence(buf) {
    if (buf.length < PAYLOAD_OFFSET)
        throw new MessageFormatError(`message too short: ${buf.length} bytes`);
    return ackedSequenceNumber(checkedPayload(buf, MessageType.Acknowledge, false));
}
/** Read a key the way Go's encoding/json does: exact match first, then case-insensitive. */
function field(obj, key) {
    if (!obj || typeof obj !== 'object')
        return undefined;
    const o = obj;
    if (key in o)
        return o[key];
    const lower = key.toLowerCase();
    const found = Object.keys(o).find(k => k.toLowerCase() === lower);
    return found === undefined ? undefined : o[found];
}
function parseJsonPayload(payload) {
    let value;
    try {
        value = JSON.parse(payload.toString('utf8'));
    }
    catch {
        throw new MessageFormatError('payload is not JSON');
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
        throw new MessageFormatError('payload is not a JSON object');
    return value;
}
/** The known message types as JSON strings, for the payload written once per message received. */
const QUOTED_TYPES = new Map(Object.values(MessageType).map(type => [type, JSON.stringify(type)]));
function ackPayloadText(of) {
    // JSON.stringify of the same object, key for key, with the values' JSON spelled out.
    const type = QUOTED_TYPES.get(of.messageType) ?? JSON.stringify(of.messageType);
    const seq = Number.isSafeInteger(of.sequenceNumber)
        ? String(of.sequenceNumber)
        : JSON.stringify(of.sequenceNumber);
    return `{"AcknowledgedMessageType":${type},"AcknowledgedMessageId":${JSON.stringify(of.messageId)},"AcknowledgedMessageSequenceNumber":${seq},"IsSequentialMessage":true}`;
}
function ackPayload(of) {
    return Buffer.from(ackPayloadText(of));
}
/** The acknowledge message for a received stream message: seq 0, flags 3, PayloadType 0 (§3.3). */
function encodeAck(of) {
    const text = ackPayloadText(of);
    // The payload is written in place: one buffer per ack.
    const out = Buffer.allocUnsafe(PAYLOAD_OFFSET + Buffer.byteLength(text));
    out.write(text, PAYLOAD_OFFSET);
    return sealFrame(out, {
        messageType: MessageType.Acknowledge,
        sequenceNumber: 0,
        flags: HeaderFlags.Ack,
        payloadType: PayloadType.None
    });
}
function parseAck(payload) {
    const j = parseJsonPayload(payload);
    const seq = field(j, 'AcknowledgedMessageSequenceNumber');
    if (typeof seq !== 'number' || !Number.isInteger(seq))
        throw new MessageFormatError('acknowledge without a sequence number');
    return {
        acknowledgedMessageType: String(field(j, 'AcknowledgedMessageType') ?? ''),
        acknowledgedMessageId: String(field(j, 'AcknowledgedMessageId') ?? ''),
        acknowledgedMessageSequenceNumber: seq,
        isSequentialMessage: field(j, 'IsSequentialMessage') === true
    };
}
const ACKED_SEQ_KEY = Buffer.from('"AcknowledgedMessageSequenceNumber":');
/**
 * The sequence number an acknowledge names. Acks arrive one per message sent, so the agent's own
 * spelling (Go's json.Marshal of a flat object: the key once, right after '{' or ',', then digits
 * without a leading zero, then ',' or '}') is read in place; anything else goes through the full
 * JSON reader. undefined: not an ack we can read (dropped, like the plugin).
 */
function ackedSequenceNumber(payload) {
    const at = payload.indexOf(ACKED_SEQ_KEY);
    const flat = payload[0] === 0x7b && payload.indexOf(0x7b, 1) < 0;
    if (flat && at > 0 && (payload[at - 1] === 0x7b || payload[at - 1] === 0x2c)) {
        const start = at + ACKED_SEQ_KEY.length;
        let n = 0;
        let i = start;
        for (; i < payload.length && i - start < 16; i++) {
            const c = payload[i];
            if (c < 0x30 || c > 0x39)
                break;
            n = n * 10 + (c - 0x30);
        }
        const digits = i - start;
        const end = payload[i];
        const leadingZero = digits > 1 && payload[start] === 0x30;
        if (digits > 0 &&
            digits < 16 &&
            !leadingZero &&
            (end === 0x2c || end === 0x7d) &&
            payload.indexOf(ACKED_SEQ_KEY, at + 1) < 0)
            return n;
    }
    try {
        return parseAck(payload).acknowledgedMessageSequenceNumber;
    }
    catch {
        return undefined;
    }
}
function flagPayload(flag) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(flag, 0);
    return b;
}
function parseFlag(payload) {
    if (payload.length !== 4)
        throw new MessageFormatError(`Flag payload must be 4 bytes, got ${payload.length}`);
    return payload.readUInt32BE(0);
}
const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 };
function handshakeRequestPayload(agentVersion, actions) {
    return Buffer.from(JSON.stringify({ AgentVersion: agentVersion, RequestedClientActions: actions }));
}
function parseHandshakeRequest(payload) {
    const j = parseJsonPayload(payload);
    const actions = field(j, 'RequestedClientActions');
    if (!Array.isArray(actions))
        throw new MessageFormatError('HandshakeRequest without RequestedClientActions');
    return {
        agentVersion: String(field(j, 'AgentVersion') ?? ''),
        requestedClientActions: actions.map(a => ({
            actionType: String(field(a, 'ActionType') ?? ''),
            actionParameters: field(a, 'ActionParameters')
        }))
    };
}
function handshakeResponsePayload(r) {
    return Buffer.from(JSON.stringify(r));
}
function parseHandshakeResponse(payload) {
    const j = parseJsonPayload(payload);
    const actions = field(j, 'ProcessedClientActions');
    if (!Array.isArray(actions))
        throw new MessageFormatError('HandshakeResponse without ProcessedClientActions');
    const errors = field(j, 'Errors');
    if (errors !== null && errors !== undefined && !Array.isArray(errors))
        throw new MessageFormatError('HandshakeResponse Errors must be an array or null');
    return {
        ClientVersion: String(field(j, 'ClientVersion') ?? ''),
        ProcessedClientActions: actions.map(a => {
            const status = field(a, 'ActionStatus');
            if (typeof status !== 'number')
                throw new MessageFormatError('ProcessedClientAction without a numeric ActionStatus');
            return {
                ActionType: String(field(a, 'ActionType') ?? ''),
                ActionStatus: status,
                ActionResult: field(a, 'ActionResult') ?? null,
                Error: String(field(a, 'Error') ?? '')
            };
        }),
        Errors: errors ?? null
    };
}
function handshakeCompletePayload(nanos, customerMessage = '') {
    return Buffer.from(JSON.stringify({ HandshakeTimeToComplete: nanos, CustomerMessage: customerMessage }));
}
function parseHandshakeComplete(payload) {
    const j = parseJsonPayload(payload);
    return {
        handshakeTimeToComplete: Number(field(j, 'HandshakeTimeToComplete') ?? 0),
        customerMessage: String(field(j, 'CustomerMessage') ?? '')
    };
}
function channelClosedPayload(sessionId, output, destinationId = '') {
    return Buffer.from(JSON.stringify({
        MessageId: randomUUID(),
        CreatedDate: new Date().toISOString(),
        DestinationId: destinationId,
        SessionId: sessionId,
        MessageType: MessageType.ChannelClosed,
        SchemaVersion: 1,
        Output: output
    }));
}
/** channel_closed payloads come from the service; tolerate anything and keep the Output text. */
function parseChannelClosed(payload) {
    let j = {};
    try {
        j = parseJsonPayload(payload);
    }
    catch {
        return { messageId: '', sessionId: '', output: payload.toString('utf8') };
    }
    return {
        messageId: String(field(j, 'MessageId') ?? ''),
        sessionId: String(field(j, 'SessionId') ?? ''),
        output: String(field(j, 'Output') ?? '')
    };
}
function openDataChannelMessage(tokenValue, clientId, clientVersion) {
    const m = {
        MessageSchemaVersion: '1.0',
        RequestId: (0,external_node_crypto_.randomUUID)(),
        TokenValue: tokenValue,
        ClientId: clientId,
        ClientVersion: clientVersion
    };
    return JSON.stringify(m);
}

;// CONCATENATED MODULE: ./build/action/tunnel/ssm/data-channel.js







/**
 * The client end of a Session Manager data channel (ssm-protocol.md §2, §5-§10) carrying one port
 * session's bytes, exposed as a Duplex.
 *
 * ClientVersion must be purely numeric and below 1.1.70: the agent compares it with 1.1.70 to
 * decide whether an AWS-StartPortForwardingSession speaks smux, and a higher (or non-numeric, which
 * compares as text and sorts higher) version would make the agent parse our raw SSH bytes as smux
 * frames. We speak the basic (raw bytes) mode only.
 */
const CLIENT_VERSION = '1.0.0.0';
/** Reliability constants shared by the plugin and the agent (§6.4, Appendix B). */
const RESEND_TICK_MS = 100;
const INITIAL_RTO_MS = 200;
const INITIAL_SRTT_MS = 100;
const CLOCK_GRANULARITY_MS = 10;
const MAX_RTO_MS = 1000;
/** Out-of-order messages kept while waiting for a gap to fill (the plugin's capacity). */
const INCOMING_BUFFER_CAPACITY = 10000;
/** Upper bound on unacknowledged messages whatever their size (tiny writes could otherwise pile up). */
const MAX_UNACKED_MESSAGES = 10000;
/** Delivered bytes ssh2 has not read yet above which new in-order data is left unacked (back-pressure). */
const READ_BACKLOG_LIMIT = 4 * 1024 * 1024;
/** How many expired messages one resend tick may retransmit (oldest first). */
const RESEND_BUDGET_PER_TICK = 32;
/** Acks of later messages that make us resend an older one before its timer runs out. */
const FAST_RESEND_AFTER_LATER_ACKS = 3;
const DEFAULT_TIMEOUTS = {
    handshakeMs: 30000,
    pingIntervalMs: 30000,
    deadAfterMs: 70000,
    noProgressMs: 120000,
    maxPauseMs: 60000,
    finishAckMs: 2000,
    reconnectAttempts: 6,
    dialMs: 15000
};
function outgoing(payloadType, size, data) {
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
    };
}
const BINARY = { binary: true };
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms));
class SsmDataChannel {
    opts;
    stream;
    stats = {
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
    };
    t;
    log;
    label;
    ws;
    wsReady = false;
    ended = false;
    everReceived = false;
    handshakeDone = false;
    handshake;
    connectStarted = 0;
    // client -> agent
    outSeq = 0;
    /** Messages not yet sent: sendQueue[sendHead..] (an index, not shift(): the queue holds a window's worth). */
    sendQueue = [];
    sendHead = 0;
    queuedBytes = 0;
    unacked = new Map();
    inflightBytes = 0;
    blockedWrite;
    srtt = INITIAL_SRTT_MS;
    rttvar = 0;
    rto = INITIAL_RTO_MS;
    lastProgress = 0;
    paused = false;
    pausedAt = 0;
    // agent -> client
    expectedSeq = 0;
    inBuffer = new Map();
    lastHeard = 0;
    lastPing = 0;
    timer;
    finishing;
    failedWith;
    constructor(opts) {
        this.opts = opts;
        this.t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
        this.log = opts.logger;
        this.label = opts.label ?? 'ssm';
        if (!(opts.frameSize >= 1))
            throw new Error(`frameSize must be positive, got ${opts.frameSize}`);
        if (!(opts.windowBytes >= opts.frameSize))
            throw new Error(`windowBytes (${opts.windowBytes}) must be >= frameSize (${opts.frameSize})`);
        this.stream = new external_node_stream_.Duplex({
            allowHalfOpen: false,
            writableHighWaterMark: 64 * 1024,
            read: () => { },
            write: (chunk, _enc, cb) => this.onWrite(chunk, cb),
            final: cb => this.onFinal(cb),
            destroy: (err, cb) => {
                this.shutdown(true);
                cb(err);
            }
        });
    }
    /** Dial the StreamUrl, authenticate, and complete the agent's handshake. */
    async connect(signal) {
        if (signal?.aborted)
            throw new Error('cancelled');
        this.connectStarted = Date.now();
        const done = new Promise((resolve, reject) => (this.handshake = { resolve, reject }));
        done.catch(() => { }); // observed below; this only keeps an early failure from being "unhandled"
        const onAbort = () => this.fail(new Error('cancelled'));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.timer = setInterval(() => this.tick(), RESEND_TICK_MS);
        try {
            await this.dial(this.opts.tokenValue);
            await done;
        }
        catch (err) {
            this.fail(err);
            throw err;
        }
        finally {
            signal?.removeEventListener('abort', onAbort);
        }
    }
    /** Queue a sequenced Flag message (DisconnectToPort / TerminateSession). */
    sendFlag(flag, onAcked) {
        const payload = flagPayload(flag);
        this.enqueue(outgoing(PayloadType.Flag, payload.length, { payload, onAcked }));
    }
    get isEnded() {
        return this.ended;
    }
    /** The error the channel failed with, if it did. */
    get failure() {
        return this.failedWith;
    }
    // ---------------------------------------------------------------------------------------------
    // WebSocket
    dial(token) {
        return new Promise((resolve, reject) => {
            const ws = new wrapper/* default */.Ay(this.opts.streamUrl, {
                perMessageDeflate: false,
                handshakeTimeout: this.t.dialMs,
                agent: (0,proxy_agent/* webSocketAgent */.nz)(this.opts.streamUrl),
                ...(0,ws_mask/* maskOptions */.h)(this.opts.frameMask)
            });
            this.ws = ws;
            this.wsReady = false;
            let opened = false;
            ws.on('open', () => {
                if (this.ws !== ws || this.ended)
                    return void ws.close(1000);
                opened = true;
                this.wsReady = true;
                this.lastHeard = this.lastPing = Date.now();
                ws.ping('keepalive');
                // Authentication: the token travels in this first text frame, not in the URL or headers.
                ws.send(openDataChannelMessage(token, this.opts.clientId, this.opts.clientVersion ?? CLIENT_VERSION));
                resolve();
            });
            ws.on('message', (data, isBinary) => {
                if (this.ws !== ws)
                    return;
                this.lastHeard = Date.now();
                if (isBinary)
                    this.onFrame(data);
            });
            ws.on('pong', () => {
                if (this.ws === ws)
                    this.lastHeard = Date.now();
            });
            ws.on('error', err => {
                this.log.debug(`${this.label}: data channel socket error: ${err.message}`);
                // A proxy's refusal is the user's to fix (one line naming the proxy); retrying cannot help.
                if (!opened)
                    reject(err instanceof errors/* UserError */.yo
                        ? err
                        : new errors/* TransientError */.N_(`cannot open the SSM data channel: ${err.message}`, { cause: err }));
            });
            ws.on('close', (code, reason) => {
                if (!opened)
                    reject(new errors/* TransientError */.N_(`cannot open the SSM data channel (closed with ${code})`));
                if (this.ws !== ws)
                    return;
                this.ws = undefined;
                this.wsReady = false;
                this.onSocketClosed(code, reason.toString());
            });
        });
    }
    onSocketClosed(code, reason) {
        if (this.ended)
            return;
        this.log.debug(`${this.label}: data channel closed (${code}${reason ? ` ${reason}` : ''})`);
        if (!this.everReceived) {
            this.fail(new errors/* TransientError */.N_(`the SSM data channel closed (code ${code}) before the agent said anything: the session token was refused or the session ended`));
            return;
        }
        void this.reconnect();
    }
    /** ResumeSession + re-dial with the new token; keeps every sequence counter and unacked message. */
    async reconnect() {
        this.stats.reconnects++;
        let delay = 100 + Math.floor(Math.random() * 100);
        let lastError = '';
        for (let attempt = 0; attempt < this.t.reconnectAttempts && !this.ended; attempt++) {
            await sleep(delay);
            delay = delay * 2 > 5000 ? 100 : delay * 2;
            if (this.ended)
                return;
            let token;
            try {
                token = await this.opts.resumeSession();
            }
            catch (err) {
                if (err instanceof errors/* UserError */.yo)
                    return this.fail(err);
                lastError = (0,errors/* errorMessage */.gJ)(err);
                continue;
            }
            if (!token)
                return this.fail(new errors/* TransientError */.N_('the SSM session ended while its data channel was reconnecting (ResumeSession returned no token)'));
            try {
                await this.dial(token);
            }
            catch (err) {
                lastError = (0,errors/* errorMessage */.gJ)(err);
                continue;
            }
            if (this.ended)
                return;
            this.log.debug(`${this.label}: data channel resumed; resending ${this.unacked.size} unacknowledged messages`);
            this.lastProgress = Date.now();
            for (const m of this.unacked.values())
                this.resend(m);
            this.pump();
            return;
        }
        if (!this.ended)
            this.fail(new errors/* TransientError */.N_(`lost the SSM data channel and could not resume it: ${lastError || 'no attempts left'}`));
    }
    send(frame) {
        // A send while the socket is down is not an error: the message stays unacked and goes again after
        // resume. A failed write closes the socket (its 'close' starts the resume), so no per-frame callback.
        if (!this.ws || !this.wsReady || this.ws.readyState !== wrapper/* default */.Ay.OPEN)
            return;
        if (this.outBatch)
            this.outBatch.push(frame);
        else
            this.ws.send(frame, BINARY);
    }
    // ---------------------------------------------------------------------------------------------
    // Receiving
    onFrame(data) {
        if (isAcknowledge(data)) {
            // One per message sent: read in place, with the checks decodeMessage makes.
            let seq;
            try {
                seq = decodeAckedSequence(data);
            }
            catch (err) {
                this.log.debug(`${this.label}: dropped an invalid message: ${(0,errors/* errorMessage */.gJ)(err)}`);
                return;
            }
            this.everReceived = true;
            return this.onAck(seq);
        }
        let msg;
        try {
            msg = decodeMessage(data);
        }
        catch (err) {
            // Invalid messages are dropped unacknowledged; the sender's retransmission repairs them.
            this.log.debug(`${this.label}: dropped an invalid message: ${(0,errors/* errorMessage */.gJ)(err)}`);
            return;
        }
        this.everReceived = true;
        switch (msg.messageType) {
            // An ack whose type is padded otherwise than with spaces (NULs): the reader trims both.
            case MessageType.Acknowledge:
                return this.onAck(ackedSequenceNumber(msg.payload));
            case MessageType.OutputStreamData:
                this.clearPause();
                return this.onStreamMessage(msg);
            case MessageType.ChannelClosed:
                return this.onChannelClosed(msg);
            case MessageType.PausePublication:
                if (!this.paused) {
                    this.paused = true;
                    this.pausedAt = Date.now();
                    this.stats.pauses++;
                    this.log.debug(`${this.label}: pause_publication (agent not connected); holding new data`);
                }
                return;
            case MessageType.StartPublication:
                this.log.debug(`${this.label}: start_publication`);
                this.clearPause();
                return;
            default:
                this.log.debug(`${this.label}: ignored message type ${msg.messageType}`);
        }
    }
    clearPause() {
        if (!this.paused)
            return;
        this.paused = false;
        this.lastProgress = Date.now();
        const oldest = this.unacked.values().next().value;
        if (oldest)
            this.resend(oldest);
        this.pump();
    }
    sendAck(msg) {
        this.send(encodeAck(msg));
    }
    onStreamMessage(msg) {
        this.stats.framesReceived++;
        const seq = msg.sequenceNumber;
        if (seq < this.expectedSeq) {
            // Re-ack duplicates: the first ack may have been lost, and the agent resends until it gets one.
            this.stats.duplicatesReceived++;
            this.sendAck(msg);
            return;
        }
        if (seq > this.expectedSeq) {
            this.stats.outOfOrderReceived++;
            if (this.inBuffer.has(seq) || this.inBuffer.size < INCOMING_BUFFER_CAPACITY) {
                this.inBuffer.set(seq, msg);
                this.sendAck(msg);
            }
            return;
        }
        if (!this.process(msg, false))
            return;
        this.expectedSeq++;
        for (let next = this.inBuffer.get(this.expectedSeq); next; next = this.inBuffer.get(this.expectedSeq)) {
            this.inBuffer.delete(this.expectedSeq);
            this.process(next, true);
            this.expectedSeq++;
            if (this.ended)
                return;
        }
    }
    /** Handle one in-order stream message. Returns false to leave it unacknowledged (not accepted). */
    process(msg, alreadyAcked) {
        if (msg.payloadType === PayloadType.Output) {
            if (!alreadyAcked && this.stream.readableLength > READ_BACKLOG_LIMIT)
                return false;
            if (!alreadyAcked)
                this.sendAck(msg);
            // Data that overtook HandshakeComplete was buffered above and arrives here in order after it.
            if (!this.ended)
                this.stream.push(msg.payload);
            return true;
        }
        if (!alreadyAcked)
            this.sendAck(msg);
        switch (msg.payloadType) {
            case PayloadType.HandshakeRequest:
                this.onHandshakeRequest(msg);
                break;
            case PayloadType.HandshakeComplete: {
                const complete = parseHandshakeComplete(msg.payload);
                if (complete.customerMessage)
                    this.log.info(`${this.label}: ${complete.customerMessage}`);
                this.handshakeDone = true;
                this.lastProgress = Date.now();
                this.log.debug(`${this.label}: handshake complete`);
                this.handshake?.resolve();
                this.pump();
                break;
            }
            case PayloadType.Flag: {
                let flag = 0;
                try {
                    flag = parseFlag(msg.payload);
                }
                catch {
                    break;
                }
                if (flag === StreamFlag.ConnectToPortError) {
                    this.fail(new errors/* TransientError */.N_('the SSM agent could not connect to the SSH port on the instance (ConnectToPortError)'));
                }
                break;
            }
            case PayloadType.EncChallengeRequest:
                this.fail(unsupportedKms());
                break;
            default:
                this.log.debug(`${this.label}: ignored payload type ${msg.payloadType}`);
        }
        return true;
    }
    onHandshakeRequest(msg) {
        let request;
        try {
            request = parseHandshakeRequest(msg.payload);
        }
        catch (err) {
            this.fail(new errors/* TransientError */.N_(`the SSM agent sent an unreadable handshake: ${(0,errors/* errorMessage */.gJ)(err)}`));
            return;
        }
        this.log.debug(`${this.label}: handshake request from agent ${request.agentVersion}`);
        let kms = false;
        const processed = request.requestedClientActions.map(a => {
            if (a.actionType === 'SessionType') {
                return { ActionType: a.actionType, ActionStatus: ActionStatus.Success, ActionResult: null, Error: '' };
            }
            if (a.actionType === 'KMSEncryption')
                kms = true;
            return {
                ActionType: a.actionType,
                ActionStatus: ActionStatus.Unsupported,
                ActionResult: null,
                Error: `${a.actionType} is not supported by ec2-push`
            };
        });
        const payload = handshakeResponsePayload({
            ClientVersion: this.opts.clientVersion ?? CLIENT_VERSION,
            ProcessedClientActions: processed,
            Errors: null
        });
        this.enqueue(outgoing(PayloadType.HandshakeResponse, payload.length, { payload, control: true }));
        // The agent cancels the session on an Unsupported answer; say why instead of waiting for its
        // channel_closed (the response above is already on the socket, ahead of our close frame).
        if (kms)
            this.fail(unsupportedKms());
    }
    onAck(seq) {
        if (seq === undefined)
            return;
        const acked = this.unacked.get(seq);
        if (!acked)
            return;
        const now = Date.now();
        // Karn: a resent message's ack cannot tell which copy it answers, so it gives no RTT sample.
        if (!acked.retransmitted)
            this.updateRto(now - acked.lastSent);
        this.unacked.delete(seq);
        this.inflightBytes -= acked.size;
        this.lastProgress = now;
        // Older messages sent before this one and still unacked after several later acks were likely lost.
        for (const older of this.unacked.values()) {
            if (older.seq > seq)
                break;
            if (older.lastSent <= acked.lastSent && ++older.laterAcks >= FAST_RESEND_AFTER_LATER_ACKS) {
                this.stats.fastRetransmits++;
                this.resend(older);
            }
        }
        acked.onAcked?.();
        this.schedulePump();
    }
    pumpScheduled = false;
    /** Acks come in bursts (one TCP read holds many): refill the window once per burst, in one write. */
    schedulePump() {
        if (this.pumpScheduled)
            return;
        this.pumpScheduled = true;
        queueMicrotask(() => {
            this.pumpScheduled = false;
            this.pump();
        });
    }
    updateRto(rtt) {
        this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
        this.srtt = 0.875 * this.srtt + 0.125 * rtt;
        this.rto = Math.min(MAX_RTO_MS, this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar));
        this.stats.rtoMs = this.rto;
    }
    onChannelClosed(msg) {
        const output = parseChannelClosed(msg.payload).output.trim();
        this.log.debug(`${this.label}: channel_closed${output ? `: ${output}` : ''}`);
        if (output || !this.handshakeDone) {
            const text = output || 'the session ended before the handshake completed';
            this.fail(this.opts.channelClosedError?.(text) ?? new errors/* TransientError */.N_(`SSM session closed: ${text}`));
            return;
        }
        // A normal end: everything received in order has been pushed already.
        this.ended = true;
        this.finishing?.();
        this.stream.push(null);
        this.shutdown(false);
    }
    // ---------------------------------------------------------------------------------------------
    // Sending
    onWrite(chunk, cb) {
        if (this.ended)
            return cb(new errors/* TransientError */.N_('the SSM session has ended'));
        const frameSize = this.opts.frameSize;
        for (let off = 0; off < chunk.length;) {
            // Top up the last queued data message before starting a new one: fewer, fuller frames. The
            // bytes go straight into the message's buffer, where its header is written when it is sent.
            let last = this.sendQueue[this.sendQueue.length - 1];
            if (!last?.frame || last.size === frameSize) {
                last = outgoing(PayloadType.Output, 0, { frame: Buffer.allocUnsafe(PAYLOAD_OFFSET + frameSize) });
                this.sendQueue.push(last);
            }
            const take = Math.min(frameSize - last.size, chunk.length - off);
            chunk.copy(last.frame, PAYLOAD_OFFSET + last.size, off, off + take);
            last.size += take;
            this.queuedBytes += take;
            off += take;
        }
        this.pump();
        if (this.queuedBytes <= this.opts.windowBytes)
            cb();
        else
            this.blockedWrite = () => cb();
    }
    enqueue(q) {
        if (!q.control)
            this.sendQueue.push(q);
        else if (this.sendHead > 0)
            this.sendQueue[--this.sendHead] = q;
        else
            this.sendQueue.unshift(q);
        this.queuedBytes += q.size;
        this.pump();
    }
    /** Frames sent during a pump, written at its end as one buffer (see pump). */
    outBatch;
    /**
     * Send queued messages while the window has room (no per-frame sleep: the window is the pacing).
     * A burst goes in one socket write: ws writes every message separately, and with small frames the
     * per-write cost dominates. With zero masks the burst is one buffer of frames (../ws-frame.ts); with
     * random masks ws sends each frame, under a cork.
     */
    pump() {
        // Re-entered when releasing a blocked write lets the stream hand over its next chunk at once:
        // those frames join the outer burst, after its own.
        if (this.outBatch)
            return this.pumpCorked();
        const ws = this.ws;
        const raw = socketOf(ws);
        if (!raw || !this.wsReady)
            return this.pumpCorked();
        if ((this.opts.frameMask ?? 'zero') !== 'zero') {
            raw.cork();
            try {
                this.pumpCorked();
            }
            finally {
                raw.uncork();
            }
            return;
        }
        const batch = (this.outBatch = []);
        try {
            this.pumpCorked();
        }
        finally {
            this.outBatch = undefined;
            // Whatever ended the socket meanwhile also ended the burst: unacked, it goes again after resume.
            if (batch.length > 0 && this.ws === ws && this.wsReady && ws?.readyState === wrapper/* default */.Ay.OPEN)
                raw.write(binaryFrames(batch, true));
        }
    }
    pumpCorked() {
        while (this.sendHead < this.sendQueue.length && this.wsReady && !this.ended) {
            const next = this.sendQueue[this.sendHead];
            if (!next.control) {
                if (this.paused || !this.handshakeDone)
                    break;
                if (this.inflightBytes > 0 && this.inflightBytes + next.size > this.opts.windowBytes)
                    break;
                if (this.unacked.size >= MAX_UNACKED_MESSAGES)
                    break;
            }
            this.takeQueued();
            this.queuedBytes -= next.size;
            const seq = this.outSeq++;
            const header = {
                messageType: MessageType.InputStreamData,
                sequenceNumber: seq,
                flags: 0,
                payloadType: next.payloadType
            };
            const frame = next.frame
                ? sealFrame(next.frame.subarray(0, PAYLOAD_OFFSET + next.size), header)
                : encodeMessage({ ...header, payload: next.payload });
            const now = Date.now();
            if (this.unacked.size === 0)
                this.lastProgress = now;
            next.seq = seq;
            next.frame = frame;
            next.payload = undefined;
            next.lastSent = now;
            this.unacked.set(seq, next);
            this.inflightBytes += next.size;
            this.stats.framesSent++;
            this.stats.payloadBytesSent += next.size;
            this.send(frame);
        }
        if (this.blockedWrite && this.queuedBytes <= this.opts.windowBytes) {
            const release = this.blockedWrite;
            this.blockedWrite = undefined;
            release();
        }
    }
    /** Drop the head of sendQueue. */
    takeQueued() {
        this.sendHead++;
        if (this.sendHead === this.sendQueue.length) {
            this.sendQueue = [];
            this.sendHead = 0;
        }
        else if (this.sendHead >= 1024 && this.sendHead * 2 >= this.sendQueue.length) {
            this.sendQueue = this.sendQueue.slice(this.sendHead);
            this.sendHead = 0;
        }
    }
    resend(m) {
        m.lastSent = Date.now();
        m.retransmitted = true;
        m.laterAcks = 0;
        this.stats.retransmits++;
        this.send(m.frame);
    }
    tick() {
        if (this.ended)
            return;
        const now = Date.now();
        if (!this.handshakeDone && now - this.connectStarted > this.t.handshakeMs) {
            this.fail(new errors/* TransientError */.N_(`the SSM agent did not complete the session handshake within ${Math.round(this.t.handshakeMs / 1000)} s: check that the SSM Agent on the instance is online and up to date`));
            return;
        }
        if (this.ws && this.wsReady) {
            if (now - this.lastPing >= this.t.pingIntervalMs) {
                this.lastPing = now;
                this.ws.ping('keepalive');
            }
            if (now - this.lastHeard > this.t.deadAfterMs) {
                this.log.debug(`${this.label}: nothing heard for ${now - this.lastHeard} ms; dropping the socket to resume`);
                this.ws.terminate();
                return;
            }
        }
        if (this.finishing && now - this.lastProgress > this.t.finishAckMs)
            return this.finishing();
        if (this.paused) {
            if (now - this.pausedAt > this.t.maxPauseMs) {
                this.fail(new errors/* TransientError */.N_(`the SSM agent stayed disconnected from the service for ${Math.round(this.t.maxPauseMs / 1000)} s (pause_publication)`));
            }
            return;
        }
        if (!this.wsReady || this.unacked.size === 0)
            return;
        if (now - this.lastProgress > this.t.noProgressMs) {
            this.fail(new errors/* TransientError */.N_(`the SSM agent acknowledged nothing for ${Math.round(this.t.noProgressMs / 1000)} s`));
            return;
        }
        // Oldest first, each on its own timer (lastSent is refreshed on resend, unlike the plugin). The map
        // is in first-send order, so once a message never resent is within its timer, every later one is
        // too (each was first sent no earlier): the scan stops there instead of visiting the whole window.
        let budget = RESEND_BUDGET_PER_TICK;
        for (const m of this.unacked.values()) {
            if (now - m.lastSent > this.rto) {
                this.resend(m);
                if (--budget === 0)
                    break;
            }
            else if (!m.retransmitted)
                break;
        }
    }
    // ---------------------------------------------------------------------------------------------
    // Ending
    /** ssh2 ended its side: send the TerminateSession flag after the data, wait briefly for its ack. */
    onFinal(cb) {
        if (this.ended)
            return cb();
        let done = false;
        const finish = () => {
            if (done)
                return;
            done = true;
            this.finishing = undefined;
            if (!this.ended) {
                this.ended = true;
                this.stream.push(null);
                this.shutdown(false);
            }
            cb();
            setImmediate(() => this.stream.destroy());
        };
        this.finishing = finish;
        this.lastProgress = Date.now();
        this.sendFlag(StreamFlag.TerminateSession, finish);
    }
    /** Fail the channel: reject the pending connect, or destroy the stream with the error. */
    fail(err) {
        if (this.ended)
            return;
        this.ended = true;
        this.failedWith = err;
        this.log.debug(`${this.label}: data channel failed: ${err.message}`);
        this.finishing?.();
        if (!this.handshakeDone)
            this.handshake?.reject(err);
        this.shutdown(true);
        if (this.handshakeDone)
            this.stream.destroy(err);
    }
    /** Stop timers and close the socket; on an abrupt end tell the agent first (best effort). */
    shutdown(abrupt) {
        this.ended = true;
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
        const ws = this.ws;
        this.ws = undefined;
        this.wsReady = false;
        this.blockedWrite = undefined;
        if (!ws)
            return;
        if (abrupt && this.handshakeDone && ws.readyState === wrapper/* default */.Ay.OPEN) {
            ws.send(encodeMessage({
                messageType: MessageType.InputStreamData,
                sequenceNumber: this.outSeq++,
                payloadType: PayloadType.Flag,
                payload: flagPayload(StreamFlag.TerminateSession)
            }));
        }
        if (ws.readyState === wrapper/* default */.Ay.OPEN)
            ws.close(1000);
        else if (ws.readyState === wrapper/* default */.Ay.CONNECTING)
            ws.terminate();
    }
}
function unsupportedKms() {
    return new errors/* UserError */.yo('the SSM session asked for KMS encryption, which ec2-push does not support: use a Session Manager preference without a KMS key for this document, or mode eice/nlb');
}

;// CONCATENATED MODULE: ./build/action/tunnel/ssm/tunnel.js





const statsOf = new WeakMap();
/** Reliability counters of a stream returned by an ssm tunnel (retransmits, reconnects...), for logs and tests. */
function ssmStreamStats(stream) {
    return statsOf.get(stream);
}
/** Our ClientId: one per process, the same on every reconnect of every session (like the plugin). */
const CLIENT_ID = (0,external_node_crypto_.randomUUID)();
/**
 * ssm: one Session Manager port session per open(), its data channel spoken natively over a
 * WebSocket (no AWS CLI, no session-manager-plugin). Every session started is terminated through
 * the API when its stream ends, when opening fails, and on close().
 */
function createSsmTunnel(opts) {
    const { instanceId, document, logger } = opts;
    // The endpoint comes from AWS_ENDPOINT_URL_SSM when set (the SDK reads it), else the region's.
    const client = new dist_cjs/* SSMClient */.jBj({
        region: opts.aws.region,
        credentials: opts.aws.credentials,
        ...(0,proxy_agent/* sdkProxyConfig */.L)()
    });
    const live = new Map();
    let closed = false;
    /** TerminateSession calls under way: close() waits for them (a stream's own close may have started one). */
    const terminating = new Set();
    const terminate = (sessionId) => {
        if (!live.has(sessionId))
            return Promise.resolve();
        live.delete(sessionId);
        const call = (async () => {
            try {
                await client.send(new dist_cjs/* TerminateSessionCommand */.nv5({ SessionId: sessionId }));
                logger.debug(`ssm ${instanceId}: session ${sessionId} terminated`);
            }
            catch (err) {
                logger.warning(`ssm ${instanceId}: could not terminate session ${sessionId}: ${(0,errors/* errorMessage */.gJ)(err)}`);
            }
        })();
        terminating.add(call);
        void call.finally(() => terminating.delete(call));
        return call;
    };
    const parameters = { portNumber: [String(opts.port)] };
    // The agent ignores localPortNumber in our basic mode; the document requires a value.
    if (document !== 'AWS-StartSSHSession')
        parameters.localPortNumber = ['0'];
    if (document === 'AWS-StartPortForwardingSessionToRemoteHost') {
        if (!opts.host)
            throw new Error('AWS-StartPortForwardingSessionToRemoteHost needs a host');
        parameters.host = [opts.host];
    }
    const where = opts.host ? `${opts.host}:${opts.port}` : `port ${opts.port}`;
    const start = async (signal) => {
        try {
            return await client.send(new dist_cjs/* StartSessionCommand */.EMb({ Target: instanceId, DocumentName: document, Parameters: parameters }), { abortSignal: signal });
        }
        catch (err) {
            throw await explainStartError(mapStartError(err, opts), opts);
        }
    };
    return {
        description: `ssm ${instanceId} (${document}, ${where})`,
        async check(signal) {
            // A session started and ended before its data channel opens: the agent never dials the port.
            const { SessionId: sessionId, TokenValue: token } = await start(signal);
            if (token)
                logger.setSecret(token);
            if (!sessionId)
                return;
            live.set(sessionId, undefined);
            await terminate(sessionId);
        },
        async open(signal) {
            if (closed)
                throw new Error('the ssm tunnel is closed');
            const started = await start(signal);
            const { SessionId: sessionId, TokenValue: token, StreamUrl: streamUrl } = started;
            if (token)
                logger.setSecret(token);
            if (streamUrl)
                logger.setSecret(streamUrl);
            if (!sessionId)
                throw new errors/* TransientError */.N_(`ssm ${instanceId}: StartSession returned no SessionId`);
            live.set(sessionId, undefined);
            if (!token || !streamUrl) {
                await terminate(sessionId);
                throw new errors/* TransientError */.N_(`ssm ${instanceId}: StartSession returned no TokenValue/StreamUrl`);
            }
            logger.debug(`ssm ${instanceId}: session ${sessionId} started`);
            const channel = new SsmDataChannel({
                streamUrl,
                tokenValue: token,
                clientId: CLIENT_ID,
                frameSize: opts.frameSize,
                windowBytes: opts.windowBytes,
                logger,
                label: `ssm ${instanceId}`,
                timeouts: opts.timeouts,
                channelClosedError: output => channelClosedError(output, opts),
                resumeSession: async () => {
                    try {
                        const resumed = await client.send(new dist_cjs/* ResumeSessionCommand */.JNG({ SessionId: sessionId }));
                        if (resumed.TokenValue)
                            logger.setSecret(resumed.TokenValue);
                        if (resumed.StreamUrl)
                            logger.setSecret(resumed.StreamUrl);
                        return resumed.TokenValue;
                    }
                    catch (err) {
                        const name = err.name;
                        if (name === 'AccessDeniedException') {
                            throw new errors/* UserError */.yo(`ssm ${instanceId}: the data channel dropped and resuming it was denied: allow ssm:ResumeSession on your own sessions (${(0,errors/* errorMessage */.gJ)(err)})`);
                        }
                        if (name === 'DoesNotExistException')
                            return undefined;
                        throw err;
                    }
                }
            });
            live.set(sessionId, channel);
            // A safety net (errors can come before anyone listens); the SSH layer's own listener still gets them.
            channel.stream.on('error', err => logger.debug(`ssm ${instanceId}: stream error: ${err.message}`));
            try {
                await channel.connect(signal);
            }
            catch (err) {
                await terminate(sessionId);
                if (signal?.aborted)
                    throw new Error('cancelled');
                throw err;
            }
            channel.stream.once('close', () => void terminate(sessionId));
            statsOf.set(channel.stream, channel.stats);
            if (channel.failure) {
                await terminate(sessionId);
                throw channel.failure;
            }
            if (closed) {
                channel.stream.destroy();
                throw new Error('the ssm tunnel is closed');
            }
            return channel.stream;
        },
        async close() {
            closed = true;
            const ids = [...live.keys()];
            for (const id of ids)
                live.get(id)?.stream.destroy();
            await Promise.all([...ids.map(terminate), ...terminating]);
            client.destroy();
        }
    };
}
/** TargetNotConnected from StartSession: its wording until we know more (see explainStartError). */
class NotConnectedError extends errors/* UserError */.yo {
}
function notConnected(id, msg) {
    // Session Manager answers the same for an id that does not exist (a wrong id, Region or account)
    // as for an instance whose agent is offline; explainStartError asks EC2 which it is.
    return new NotConnectedError(`ssm: ${id} is not connected to Session Manager (${msg}): check that ${id} exists in this Region and account; if it does, check that its SSM Agent is online (Fleet Manager / DescribeInstanceInformation) and that the instance reaches the ssm and ssmmessages endpoints (a NAT gateway, or VPC interface endpoints).`);
}
/**
 * For an EC2 instance id that Session Manager calls not connected, ask EC2 whether it exists and
 * runs, so the line says which: it does not exist, it is stopped, or its agent is not connected.
 * When EC2 cannot be asked (no ec2:DescribeInstances), the line names both possibilities.
 */
async function explainStartError(err, opts) {
    const id = opts.instanceId;
    if (!(err instanceof NotConnectedError) || !id.startsWith('i-'))
        return err;
    const { instanceExistence, notRunning } = await Promise.all(/* import() */[__webpack_require__.e(193), __webpack_require__.e(513)]).then(__webpack_require__.bind(__webpack_require__, 8513));
    const found = await instanceExistence(id, opts.aws);
    if ('missing' in found)
        return new errors/* UserError */.yo(`ssm: ${found.missing.message}`);
    if ('unknown' in found) {
        opts.logger.debug(`ssm ${id}: could not ask EC2 whether it exists: ${found.unknown}`);
        return err;
    }
    const stopped = notRunning(found.info);
    if (stopped)
        return new errors/* UserError */.yo(`ssm: ${stopped.message}`);
    return new errors/* UserError */.yo(`ssm: ${id} is running but not connected to Session Manager: check that its SSM Agent is online (Fleet Manager / DescribeInstanceInformation) and that the instance reaches the ssm and ssmmessages endpoints (a NAT gateway, or VPC interface endpoints for ssm and ssmmessages).`);
}
function mapStartError(err, opts) {
    if (err instanceof errors/* UserError */.yo)
        return err; // e.g. a proxy that refuses: its message names it
    const name = err.name ?? '';
    const msg = (0,errors/* errorMessage */.gJ)(err);
    const id = opts.instanceId;
    switch (name) {
        case 'TargetNotConnected':
            return notConnected(id, msg);
        case 'AccessDeniedException':
            return new errors/* UserError */.yo(`ssm: not allowed to start a session on ${id} (${msg}): the role needs ssm:StartSession on arn:aws:ec2:${opts.aws.region}:<account>:instance/${id} and on the document arn:aws:ssm:${opts.aws.region}::document/${opts.document}, plus ssm:TerminateSession and ssm:ResumeSession.`);
        case 'InvalidDocument':
            return new errors/* UserError */.yo(`ssm: the session document ${opts.document} cannot be used (${msg}): check the ssm-document input and that the document exists in ${opts.aws.region}.`);
        case 'InvalidTarget':
        case 'InvalidInstanceId':
            return new errors/* UserError */.yo(`ssm: ${id} is not a valid Session Manager target (${msg}): check the instance id and region ${opts.aws.region}.`);
        case 'UnrecognizedClientException':
        case 'InvalidSignatureException':
        case 'ExpiredTokenException':
        case 'MissingAuthenticationTokenException':
            return new errors/* UserError */.yo(`ssm: AWS rejected the credentials (${name}: ${msg}): check the configured role/credentials and region.`);
        case 'CredentialsProviderError':
            return new errors/* UserError */.yo(`ssm: no AWS credentials found (${msg}): configure credentials (e.g. aws-actions/configure-aws-credentials or role-to-assume).`);
        default:
            return new errors/* TransientError */.N_(`ssm: StartSession on ${id} failed: ${name ? `${name}: ` : ''}${msg}`, {
                cause: err
            });
    }
}
function channelClosedError(output, opts) {
    const text = output
        .replace(/-{3,}ERROR-{3,}/g, '')
        .replace(/\s*\n\s*/g, ' ')
        .trim();
    return new errors/* UserError */.yo(`ssm: Session Manager closed the session on ${opts.instanceId}: ${text} (check that the SSM Agent is online and up to date and that ${opts.host ? `the instance reaches ${opts.host}:${opts.port}` : `something listens on port ${opts.port} on the instance`})`);
}


/***/ }),

/***/ 1523:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   h: () => (/* binding */ maskOptions)
/* harmony export */ });
function zeroMask(mask) {
    mask.fill(0);
}
/** The `ws` client options for a masking choice (default 'zero'). */
function maskOptions(mask = 'zero') {
    return mask === 'zero' ? { generateMask: zeroMask } : {};
}


/***/ }),

/***/ 1129:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   fg: () => (/* binding */ sha256Hex),
/* harmony export */   r_: () => (/* binding */ sha256Latin1)
/* harmony export */ });
/* unused harmony export sha256 */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);

/** One-shot hashing (Node >= 20.12): a fraction of the cost of a createHash object for small inputs. */
const hashOnce = node_crypto__WEBPACK_IMPORTED_MODULE_0__.hash;
/** SHA-256 of a buffer, as raw bytes. */
function sha256(data) {
    return hashOnce ? hashOnce('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}
/** SHA-256 of a buffer, as lower-case hex. */
function sha256Hex(data) {
    return hashOnce ? hashOnce('sha256', data, 'hex') : node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash('sha256').update(data).digest('hex');
}
/**
 * SHA-256 of a buffer as a 32-character latin1 string (one character per byte). Where a digest is
 * written into or compared with a buffer, this is a fraction of the cost of the Buffer form: a
 * short string is cheap to make, a Buffer is a new ArrayBuffer each time.
 */
function sha256Latin1(data) {
    return hashOnce
        ? hashOnce('sha256', data, 'binary')
        : node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash('sha256').update(data).digest('binary');
}


/***/ })

};
