export const id = 201;
export const ids = [201];
export const modules = {

/***/ 8087:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   G7: () => (/* binding */ MAX_TUNNEL_SECONDS),
/* harmony export */   gV: () => (/* binding */ rfc3986),
/* harmony export */   ks: () => (/* binding */ presignOpenTunnelUrl),
/* harmony export */   u7: () => (/* binding */ NodeSha256)
/* harmony export */ });
/* unused harmony exports EICE_SIGNING_SERVICE, PRESIGN_EXPIRES_SECONDS, hostHeaderFor */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var _smithy_signature_v4__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5118);


/** SigV4 signing name of the EICE tunnel endpoint (not `ec2`). */
const EICE_SIGNING_SERVICE = 'ec2-instance-connect';
/** The AWS CLI signs every tunnel URL for 60 s and opens it at once; so do we. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** The service ends every tunnel after at most this many seconds. */
const MAX_TUNNEL_SECONDS = 3600;
/** SHA-256 for @smithy/signature-v4 from node:crypto (keeps @smithy/hash-node out of the dependency list). */
class NodeSha256 {
    secret;
    hash;
    constructor(secret) {
        this.secret = secret;
        this.hash = this.fresh();
    }
    fresh() {
        return this.secret === undefined ? (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256') : (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHmac)('sha256', toBinary(this.secret));
    }
    update(data) {
        this.hash.update(data);
    }
    async digest() {
        return new Uint8Array(this.hash.digest());
    }
    reset() {
        this.hash = this.fresh();
    }
}
function toBinary(data) {
    if (typeof data === 'string')
        return data;
    if (ArrayBuffer.isView(data))
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new Uint8Array(data);
}
/**
 * The value Node's http client sends as Host for `wss://<dnsName>`: the name, plus `:port` unless
 * the port is 443. The signature covers this header, so it must match byte for byte.
 */
function hostHeaderFor(dnsName) {
    return new URL(`wss://${dnsName}/`).host;
}
/**
 * Build the presigned `wss://<DnsName>/openTunnel?...` URL (SigV4 query auth, only `host` signed,
 * empty-body payload hash, session token inside the signed query). The URL is a bearer credential
 * for 60 s: callers must mask it before it can reach a log.
 */
async function presignOpenTunnelUrl(p) {
    const host = hostHeaderFor(p.dnsName);
    const url = new URL(`wss://${host}/openTunnel`);
    const query = {
        instanceConnectEndpointId: p.endpointId,
        remotePort: String(p.remotePort),
        privateIpAddress: p.privateIpAddress
    };
    if (p.maxTunnelDuration !== undefined)
        query.maxTunnelDuration = String(p.maxTunnelDuration);
    const signer = new _smithy_signature_v4__WEBPACK_IMPORTED_MODULE_1__.SignatureV4({
        service: EICE_SIGNING_SERVICE,
        region: p.region,
        credentials: p.credentials,
        sha256: NodeSha256
    });
    const signed = await signer.presign({
        method: 'GET',
        protocol: 'wss:',
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: '/openTunnel',
        query,
        // Without an explicit host header smithy signs no headers at all; the service needs `host`.
        headers: { host }
    }, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: p.signingDate ?? new Date() });
    // Operation parameters first, then the X-Amz-* ones with the signature last, as the CLI emits them.
    const order = (k) => (k === 'X-Amz-Signature' ? 2 : k.startsWith('X-Amz-') ? 1 : 0);
    const signedQuery = signed.query ?? {};
    const keys = Object.keys(signedQuery).sort((a, b) => order(a) - order(b));
    const pairs = keys.map(k => `${rfc3986(k)}=${rfc3986(String(signedQuery[k]))}`);
    return `wss://${host}/openTunnel?${pairs.join('&')}`;
}
/** encodeURIComponent leaves !'()* alone; SigV4 (and the service) encode them. */
function rfc3986(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}


/***/ }),

/***/ 4201:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  resolveInstanceTargets: () => (/* binding */ resolveInstanceTargets)
});

// EXTERNAL MODULE: ./build/action/aws/auto-mode.js
var auto_mode = __webpack_require__(7791);
// EXTERNAL MODULE: ./build/action/aws/instances.js
var aws_instances = __webpack_require__(8513);
// EXTERNAL MODULE: ./build/action/aws/ssm-info.js
var ssm_info = __webpack_require__(4045);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/tunnel/eice/endpoint.js
var eice_endpoint = __webpack_require__(960);
// EXTERNAL MODULE: ./node_modules/ws/wrapper.mjs
var wrapper = __webpack_require__(2977);
// EXTERNAL MODULE: ./build/action/aws/ec2.js
var ec2 = __webpack_require__(1043);
// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
// EXTERNAL MODULE: ./build/action/tunnel/ws-mask.js
var ws_mask = __webpack_require__(1523);
;// CONCATENATED MODULE: ./build/action/tunnel/eice/errors.js

const where = (f) => `EC2 Instance Connect Endpoint ${f.endpointId}`;
/** Read a rejected upgrade's body (bounded in size and time). */
function readBody(res, limit = 16 * 1024, timeoutMs = 5000) {
    return new Promise(resolve => {
        const parts = [];
        let size = 0;
        const done = () => {
            clearTimeout(timer);
            res.destroy();
            resolve(Buffer.concat(parts).toString('utf8'));
        };
        const timer = setTimeout(done, timeoutMs);
        res.on('data', (d) => {
            if (size < limit)
                parts.push(d.subarray(0, limit - size));
            size += d.length;
        });
        res.once('end', done);
        res.once('error', done);
    });
}
/** A rejected upgrade (`{"ErrorCode","Message"}` with a non-101 status) as a one-line error. */
function upgradeRejected(f, status, body, requestId) {
    let code = '';
    let message = '';
    try {
        const parsed = JSON.parse(body);
        code = String(parsed.ErrorCode ?? parsed.__type ?? parsed.code ?? '');
        message = String(parsed.Message ?? parsed.message ?? '');
    }
    catch {
        message = body.slice(0, 300);
    }
    message = message.replace(/\s+/g, ' ').trim();
    const detail = `HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${requestId ? `; request id ${requestId}` : ''}`;
    const head = `${where(f)} refused the tunnel to ${f.instanceId} (${detail})`;
    if (code === 'AccessDeniedException' || (!code && status === 403)) {
        const clock = /expired|not yet current|signature/i.test(message)
            ? " If the message is about the signature's time, fix the runner's clock (NTP)."
            : '';
        const resource = f.endpointArn ?? `arn:aws:ec2:REGION:ACCOUNT:instance-connect-endpoint/${f.endpointId}`;
        return new errors/* UserError */.yo(`${head}: the credentials need ec2-instance-connect:OpenTunnel on ${resource}, and any policy conditions must allow remotePort ${f.port}, privateIpAddress ${f.address} and maxTunnelDuration ${f.maxTunnelDuration}.${clock}`);
    }
    if (code === 'InvalidParameter' && (/remoteport/i.test(message) || (f.port !== 22 && f.port !== 3389))) {
        return new errors/* UserError */.yo(`${head}: EICE only tunnels to port 22 or 3389; set 'port' to 22 and have sshd listen on it.`);
    }
    if (code === 'ThrottlingException' || status === 429) {
        return new errors/* TransientError */.N_(`${head}: the endpoint is at its limit of 20 open connections (shared by everyone using it); retrying later.`);
    }
    if (status >= 500)
        return new errors/* TransientError */.N_(`${head}: a service-side failure; retrying.`);
    return new errors/* UserError */.yo(`${head}.`);
}
/** The tunnel closed with a code other than 1000: "Unable to connect to target" names the missing rule. */
function tunnelClosed(f, code, reason) {
    if (/unable to connect to target/i.test(reason)) {
        const groups = f.endpointSecurityGroups.length
            ? f.endpointSecurityGroups.join(', ')
            : "the endpoint's security group";
        return new errors/* TransientError */.N_(`${where(f)} could not reach ${f.instanceId} at ${f.address}:${f.port} ("${reason}", close code ${code}): the instance's security group must allow inbound TCP ${f.port} from ${groups}, that group must allow outbound TCP ${f.port} to the instance, and sshd must be running.`);
    }
    return new errors/* TransientError */.N_(`${where(f)} closed the tunnel to ${f.instanceId} (close code ${code}${reason ? `: ${reason}` : ''}).`);
}
const TLS_TRUST_CODES = new Set([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'ERR_TLS_CERT_ALTNAME_INVALID'
]);
/** A failure before any HTTP answer (DNS, TCP, TLS, handshake timeout). */
function connectFailed(f, err) {
    const head = `Cannot reach ${where(f)} at ${f.dnsName}`;
    if (err.code && TLS_TRUST_CODES.has(err.code)) {
        return new errors/* UserError */.yo(`${head}: its TLS certificate is not trusted (${err.code}); behind a TLS-inspecting proxy, point NODE_EXTRA_CA_CERTS at the proxy's CA file.`);
    }
    return new errors/* TransientError */.N_(`${head}: ${err.message}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`, { cause: err });
}

;// CONCATENATED MODULE: ./build/action/tunnel/eice/limiter.js
/**
 * Process-wide count of open tunnels per EICE endpoint. An endpoint serves at most 20 connections,
 * shared with every other user of it, so a deploy keeps its own number under a configured limit:
 * `acquireTunnelSlot` waits (in arrival order) until a slot is free.
 */
const byEndpoint = new Map();
function slotsOf(endpointId) {
    let s = byEndpoint.get(endpointId);
    if (!s) {
        s = { active: 0, waiters: [] };
        byEndpoint.set(endpointId, s);
    }
    return s;
}
function pump(s) {
    while (s.waiters.length && s.active < s.waiters[0].limit) {
        s.active++;
        s.waiters.shift().grant();
    }
}
/** Wait for a slot; resolves to its release function (idempotent). Rejects when `signal` aborts first. */
function acquireTunnelSlot(endpointId, limit, signal) {
    const s = slotsOf(endpointId);
    const max = Math.max(1, Math.floor(limit));
    return new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(new Error('cancelled while waiting for an EICE tunnel slot'));
        let released = false;
        const release = () => {
            if (released)
                return;
            released = true;
            s.active--;
            pump(s);
        };
        const onAbort = () => {
            const i = s.waiters.indexOf(waiter);
            if (i >= 0)
                s.waiters.splice(i, 1);
            reject(new Error('cancelled while waiting for an EICE tunnel slot'));
        };
        const waiter = {
            limit: max,
            grant: () => {
                signal?.removeEventListener('abort', onAbort);
                resolve(release);
            }
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        s.waiters.push(waiter);
        pump(s);
    });
}
/** Tunnels currently holding a slot on this endpoint (for logs and tests). */
function tunnelsInUse(endpointId) {
    return byEndpoint.get(endpointId)?.active ?? 0;
}
/** Callers waiting for a slot on this endpoint. */
function tunnelsWaiting(endpointId) {
    return byEndpoint.get(endpointId)?.waiters.length ?? 0;
}

// EXTERNAL MODULE: ./build/action/tunnel/eice/signer.js
var signer = __webpack_require__(8087);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
;// CONCATENATED MODULE: ./build/action/tunnel/eice/ws-stream.js


/** The AWS CLI never sends more than 65,000 bytes per frame; the service's own limit is unpublished. */
const MAX_FRAME_BYTES = 65_000;
/**
 * Raw bytes over an open WebSocket: binary messages in, binary frames out (each at most
 * `maxFrameBytes`; buffered writes are packed into as few frames as fit). Back-pressure both ways:
 * the socket is paused while the reader is behind, and a write completes only when its frames are
 * handed to the TLS socket. No half-close exists on a WebSocket, so ending the writable side closes
 * the tunnel (code 1000). A close with 1000 (or no code) ends the stream; any other code errors it.
 */
class WsByteStream extends external_node_stream_.Duplex {
    ws;
    opts;
    maxFrame;
    paused = false;
    /** Set once the socket closed: the code and reason it closed with. */
    closeInfo;
    constructor(ws, opts) {
        super({ allowHalfOpen: false, readableHighWaterMark: 1 << 20, writableHighWaterMark: 256 * 1024 });
        this.ws = ws;
        this.opts = opts;
        this.maxFrame = Math.min(opts.maxFrameBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES);
        ws.on('message', (data, isBinary) => {
            if (!isBinary) {
                this.destroy(new errors/* TransientError */.N_(`${opts.label} sent a text frame, which the tunnel protocol never uses: closing the tunnel.`));
                ws.close(1003);
                return;
            }
            if (!data.length)
                return;
            if (!this.push(data) && !this.paused) {
                this.paused = true;
                ws.pause();
            }
        });
        ws.once('close', (code, reason) => {
            const text = reason.toString('utf8');
            this.closeInfo = { code, reason: text };
            if (code === 1000 || code === 1005)
                this.push(null);
            else
                this.destroy(opts.closeError(code, text));
        });
        ws.on('error', err => this.destroy(new errors/* TransientError */.N_(`${opts.label} broke: ${err.message}`, { cause: err })));
    }
    _read() {
        if (this.paused) {
            this.paused = false;
            this.ws.resume();
        }
    }
    _write(chunk, _enc, cb) {
        this.sendFrames(ws_stream_frames([chunk], this.maxFrame), cb);
    }
    _writev(chunks, cb) {
        this.sendFrames(ws_stream_frames(chunks.map(c => c.chunk), this.maxFrame), cb);
    }
    sendFrames(list, cb) {
        if (this.ws.readyState !== this.ws.OPEN) {
            cb(new errors/* TransientError */.N_(`${this.opts.label}: the tunnel is closed`));
            return;
        }
        let pending = list.length;
        let done = false;
        for (const frame of list) {
            this.ws.send(frame, { binary: true }, err => {
                if (done)
                    return;
                if (err) {
                    done = true;
                    cb(new errors/* TransientError */.N_(`${this.opts.label}: ${err.message}`, { cause: err }));
                }
                else if (--pending === 0) {
                    done = true;
                    cb();
                }
            });
        }
    }
    _final(cb) {
        if (this.ws.readyState === this.ws.OPEN)
            this.ws.close(1000);
        cb();
    }
    _destroy(err, cb) {
        const state = this.ws.readyState;
        if (state === this.ws.OPEN) {
            if (err)
                this.ws.terminate();
            else
                this.ws.close(1000);
        }
        else if (state === this.ws.CONNECTING) {
            this.ws.terminate();
        }
        cb(err);
    }
    /** End the tunnel cleanly (close 1000): the reader sees end-of-stream, not an error. */
    endTunnel(reason) {
        if (this.ws.readyState === this.ws.OPEN)
            this.ws.close(1000, reason);
    }
}
/** Pack buffers into frames of at most `max` bytes: big buffers are sliced (no copy), small ones joined. */
function ws_stream_frames(chunks, max) {
    const out = [];
    let group = [];
    let size = 0;
    const flush = () => {
        if (group.length === 1)
            out.push(group[0]);
        else if (group.length > 1)
            out.push(Buffer.concat(group, size));
        group = [];
        size = 0;
    };
    for (const chunk of chunks) {
        for (let off = 0; off < chunk.length;) {
            const take = Math.min(max - size, chunk.length - off);
            group.push(off === 0 && take === chunk.length ? chunk : chunk.subarray(off, off + take));
            size += take;
            off += take;
            if (size === max)
                flush();
        }
    }
    flush();
    return out;
}

;// CONCATENATED MODULE: ./build/action/tunnel/eice/tunnel.js










/** Seconds before maxTunnelDuration at which a tunnel ends itself (so it ends cleanly, not by the service's cut). */
function expiryMarginSeconds(duration) {
    return Math.min(30, duration * 0.1);
}
/**
 * eice: each open() signs a fresh `wss://<endpoint>/openTunnel` URL (valid 60 s), waits for a slot
 * under the per-endpoint limit, opens the WebSocket and returns its byte stream once the instance's
 * sshd has answered. The endpoint lookup is done once and reused by later opens (reconnects).
 */
function createEiceTunnel(opts) {
    const { instance, logger } = opts;
    const duration = opts.maxTunnelDurationSeconds ?? signer/* MAX_TUNNEL_SECONDS */.G7;
    if (!Number.isInteger(duration) || duration < 1 || duration > signer/* MAX_TUNNEL_SECONDS */.G7) {
        throw new errors/* UserError */.yo(`The EICE tunnel duration must be a whole number of seconds from 1 to 3600, got ${duration}.`);
    }
    let target;
    const open = new Set();
    let closed = false;
    const resolveTarget = () => {
        target ??= (async () => {
            const endpoint = await (0,eice_endpoint/* findEndpoint */.vS)(instance, opts.aws, opts.endpointId);
            const address = (0,eice_endpoint/* targetAddress */.sj)(instance, endpoint);
            const crossAz = endpoint.availabilityZone &&
                instance.availabilityZone &&
                endpoint.availabilityZone !== instance.availabilityZone;
            logger.info(`eice: ${instance.instanceId} via ${endpoint.endpointId} (${endpoint.state}, ${endpoint.subnetId === instance.subnetId ? 'same subnet' : `subnet ${endpoint.subnetId}`}${crossAz ? ', cross-AZ' : ''}) to ${address}:${opts.port}`);
            if (opts.port !== 22 && opts.port !== 3389)
                logger.warning(`eice: EC2 Instance Connect Endpoints only tunnel to ports 22 and 3389; port ${opts.port} will likely be refused.`);
            if (endpoint.vpcId && instance.vpcId && endpoint.vpcId !== instance.vpcId) {
                logger.warning(`eice: endpoint ${endpoint.endpointId} is in ${endpoint.vpcId}, but ${instance.instanceId} is in ${instance.vpcId}; the tunnel works only if routing allows it.`);
            }
            return { endpoint, address };
        })();
        // A failed lookup is not cached: the next open() asks again.
        target.catch(() => (target = undefined));
        return target;
    };
    return {
        description: `eice ${instance.instanceId}${opts.endpointId ? ` via ${opts.endpointId}` : ''}`,
        open: async (signal) => {
            if (closed)
                throw new errors/* TransientError */.N_('the EICE tunnel was closed');
            const { endpoint, address } = await resolveTarget();
            const facts = {
                instanceId: instance.instanceId,
                endpointId: endpoint.endpointId,
                endpointArn: endpoint.arn,
                endpointSecurityGroups: endpoint.securityGroupIds,
                dnsName: endpoint.dnsName,
                address,
                port: opts.port,
                maxTunnelDuration: duration
            };
            const release = await acquireTunnelSlot(endpoint.endpointId, opts.maxTunnelsPerEndpoint, signal);
            try {
                const stream = await openOnce(opts, facts, duration, signal);
                open.add(stream);
                stream.once('close', () => {
                    open.delete(stream);
                    release();
                });
                return stream;
            }
            catch (err) {
                release();
                throw err;
            }
        },
        close: async () => {
            closed = true;
            for (const s of open)
                s.destroy();
            open.clear();
        }
    };
}
async function openOnce(opts, f, duration, signal) {
    const client = (0,ec2/* ec2ClientFor */.pI)(opts.aws);
    const credentials = await client.config.credentials();
    const region = opts.aws.region || (await client.config.region());
    // Signed after the slot wait: the URL is only valid for 60 s.
    const url = await (0,signer/* presignOpenTunnelUrl */.ks)({
        dnsName: f.dnsName,
        endpointId: f.endpointId,
        remotePort: f.port,
        privateIpAddress: f.address,
        maxTunnelDuration: duration,
        region,
        credentials
    });
    opts.logger.setSecret(url);
    opts.logger.setSecret(new URL(url).searchParams.get('X-Amz-Signature') ?? '');
    opts.logger.debug(`eice: opening a tunnel to ${f.instanceId} ${f.address}:${f.port} through ${f.endpointId} (maxTunnelDuration ${duration} s)`);
    const ws = new wrapper/* default */.Ay(url, {
        perMessageDeflate: false,
        handshakeTimeout: opts.handshakeTimeoutMs ?? 20_000,
        headers: { 'User-Agent': 'ec2-push' },
        followRedirects: false,
        agent: (0,proxy_agent/* webSocketAgent */.nz)(url),
        ...(0,ws_mask/* maskOptions */.h)(opts.frameMask),
        ...(opts.tlsCaForTests ? { ca: opts.tlsCaForTests } : {})
    });
    const stream = new WsByteStream(ws, {
        maxFrameBytes: opts.maxFrameBytes ?? MAX_FRAME_BYTES,
        label: `EICE tunnel to ${f.instanceId} through ${f.endpointId}`,
        closeError: (code, reason) => tunnelClosed(f, code, reason)
    });
    // Until the caller has the stream, its errors are reported through open()'s rejection.
    const quiet = () => { };
    stream.on('error', quiet);
    await new Promise((resolve, reject) => {
        let settled = false;
        const settle = (err) => {
            if (settled)
                return;
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            ws.off('open', onOpen);
            ws.off('error', onError);
            ws.off('unexpected-response', onRejected);
            if (err) {
                stream.destroy();
                reject(err);
            }
            else
                resolve();
        };
        const onAbort = () => settle(new Error('cancelled while opening the EICE tunnel'));
        const onOpen = () => {
            ws.off('error', onError);
            waitForFirstBytes();
        };
        const onError = (err) => settle(err instanceof errors/* UserError */.yo ? err : connectFailed(f, scrub(err, url)));
        const onRejected = (_req, res) => {
            const rid = res.headers['x-amzn-requestid'];
            void readBody(res).then(body => settle(upgradeRejected(f, res.statusCode ?? 0, body, Array.isArray(rid) ? rid[0] : rid)));
        };
        // "Unable to connect to target" arrives as a close right after the upgrade; sshd speaks first,
        // so the first binary message (or that close) tells whether the instance was reached.
        const waitForFirstBytes = () => {
            const timer = setTimeout(() => settle(), opts.firstByteTimeoutMs ?? 15_000);
            const onMessage = (_data, isBinary) => {
                // A text frame is the stream's protocol error, reported through onStreamError.
                if (!isBinary || stream.destroyed)
                    return;
                ws.off('message', onMessage);
                clearTimeout(timer);
                stream.off('error', onStreamError);
                stream.off('end', onEnd);
                settle();
            };
            const onStreamError = (err) => {
                ws.off('message', onMessage);
                clearTimeout(timer);
                settle(err);
            };
            const onEnd = () => {
                clearTimeout(timer);
                settle(new errors/* TransientError */.N_(`EC2 Instance Connect Endpoint ${f.endpointId} closed the tunnel to ${f.instanceId} before sshd answered.`));
            };
            ws.on('message', onMessage);
            stream.once('error', onStreamError);
            ws.once('close', (code) => {
                if (code === 1000 || code === 1005)
                    onEnd();
            });
        };
        if (signal?.aborted)
            return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        ws.once('open', onOpen);
        ws.once('error', onError);
        ws.once('unexpected-response', onRejected);
    });
    stream.off('error', quiet);
    // End before the service's cut, cleanly: the engine sees end-of-stream and reopens.
    const marginMs = expiryMarginSeconds(duration) * 1000;
    const expiry = setTimeout(() => {
        opts.logger.debug(`eice: tunnel to ${f.instanceId} is near its ${duration} s limit; ending it so the next one can take over`);
        stream.endTunnel('tunnel reached its maximum duration');
    }, duration * 1000 - marginMs);
    expiry.unref();
    stream.once('close', () => clearTimeout(expiry));
    return stream;
}
/** `ws` errors do not include the URL today; make sure a presigned one can never leak through them. */
function scrub(err, url) {
    if (err.message.includes(url))
        err.message = err.message.split(url).join('***');
    return err;
}

// EXTERNAL MODULE: ./build/action/tunnel/ssm/tunnel.js + 2 modules
var tunnel = __webpack_require__(3792);
;// CONCATENATED MODULE: ./build/action/tunnel/instance-targets.js







/** Instance ids and tag filters -> ssm or eice tunnels (and the choice between them for `auto`). */
async function resolveInstanceTargets(config, instanceSpecs, ctx) {
    const out = [];
    const aws = await ctx.aws();
    // ssm reaches instance ids (and mi- managed nodes) without EC2 at all; only tag filters need a lookup.
    if (config.mode === 'ssm') {
        const ids = instanceSpecs.filter(t => t.kind === 'instance');
        const tags = instanceSpecs.filter(t => t.kind === 'tag');
        for (const spec of ids)
            out.push(ssmTarget(config, spec.instanceId, spec.label, aws, ctx.logger));
        if (tags.length) {
            for (const i of await (0,aws_instances/* describeTargets */.Eg)(tags, aws))
                out.push(ssmTarget(config, i.instanceId, label(i), aws, ctx.logger, i));
        }
        return out;
    }
    const instances = await (0,aws_instances/* describeTargets */.Eg)(instanceSpecs, aws);
    for (const instance of instances) {
        if (config.mode === 'eice') {
            out.push(eiceTarget(config, instance, aws, ctx.logger));
            continue;
        }
        out.push(await autoTarget(config, instance, aws, ctx.logger));
    }
    return out;
}
function label(i) {
    return i.target === i.instanceId ? i.instanceId : `${i.instanceId} (${i.target})`;
}
function ssmTarget(config, instanceId, targetLabel, aws, logger, instance, reason) {
    return {
        label: targetLabel,
        mode: 'ssm',
        instanceId,
        availabilityZone: instance?.availabilityZone,
        host: instanceId,
        port: config.port,
        aliases: instance?.privateIpAddress ? [instance.privateIpAddress] : [],
        reason,
        tunnel: (0,tunnel.createSsmTunnel)({
            instanceId,
            port: config.port,
            document: config.ssmDocument,
            frameSize: config.ssmFrameSize,
            windowBytes: config.ssmWindowBytes,
            aws,
            logger
        })
    };
}
function eiceTarget(config, instance, aws, logger, endpointId = config.eiceEndpointId, reason) {
    return {
        label: label(instance),
        mode: 'eice',
        instanceId: instance.instanceId,
        availabilityZone: instance.availabilityZone,
        host: instance.instanceId,
        port: config.port,
        aliases: instance.privateIpAddress ? [instance.privateIpAddress] : [],
        reason,
        tunnel: createEiceTunnel({
            instance,
            port: config.port,
            endpointId,
            aws,
            logger,
            maxTunnelsPerEndpoint: config.eiceMaxTunnels
        })
    };
}
/** `auto` for an instance: eice when its VPC has a usable endpoint, else ssm when managed and Online. */
async function autoTarget(config, instance, aws, logger) {
    let endpointId;
    let endpointCheckError;
    try {
        endpointId = (await (0,eice_endpoint/* findEndpoint */.vS)(instance, aws, config.eiceEndpointId)).endpointId;
    }
    catch (err) {
        // "None usable" is a finding, not a failure; anything else (permissions) is reported as not checked.
        if (!(err instanceof errors/* UserError */.yo) || /denied|not authorized|permission/i.test(err.message)) {
            endpointCheckError = (0,errors/* errorMessage */.gJ)(err);
        }
    }
    let ssm;
    let ssmCheckError;
    if (!endpointId) {
        try {
            ssm = await (0,ssm_info/* ssmManagedStatus */.T)(instance.instanceId, aws);
        }
        catch (err) {
            ssmCheckError = (0,errors/* errorMessage */.gJ)(err);
        }
    }
    const decision = (0,auto_mode/* chooseMode */.j)({
        isHost: false,
        target: label(instance),
        instance,
        usableEndpoint: endpointCheckError ? undefined : !!endpointId,
        endpointId,
        endpointCheckError,
        ssmManagedOnline: ssm,
        ssmCheckError
    });
    if ('error' in decision)
        throw new errors/* UserError */.yo(decision.error);
    logger.info(`${label(instance)}: mode auto chose ${decision.mode}: ${decision.reason}`);
    if (decision.mode === 'eice')
        return eiceTarget(config, instance, aws, logger, endpointId, decision.reason);
    return ssmTarget(config, instance.instanceId, label(instance), aws, logger, instance, decision.reason);
}


/***/ })

};
