export const id = 306;
export const ids = [306];
export const modules = {

/***/ 6306:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  deployCommand: () => (/* binding */ deployCommand),
  printOutputs: () => (/* binding */ printOutputs)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
;// CONCATENATED MODULE: ./build/action/cancellation.js
/**
 * SIGINT and SIGTERM (what the Actions runner sends when a job is cancelled, SIGINT first, then
 * SIGTERM, then a kill; and Ctrl-C on a laptop): new work stops at once, each target undoes what it
 * did within a few seconds (runner.ts), and the process exits non-zero. Should undos hang anyway,
 * the process exits on its own before the runner's kill, saying what may be left.
 */
/** After the first signal, the process exits within this long whatever is still running. */
const HARD_STOP_MS = 6500;
function watchCancellation(onGiveUp, exitCode = 1) {
    const controller = new AbortController();
    const handler = (name) => {
        if (controller.signal.aborted)
            return;
        controller.abort(new Error(`cancelled by ${name}`));
        setTimeout(() => {
            onGiveUp(`The deploy was cancelled (${name}) and its clean-up did not finish in time; the next deploy sweeps what is left, or the action's post step does.`);
            process.exit(exitCode);
        }, HARD_STOP_MS).unref();
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return {
        signal: controller.signal,
        dispose() {
            process.off('SIGINT', handler);
            process.off('SIGTERM', handler);
        }
    };
}

// EXTERNAL MODULE: ./build/action/config.js + 1 modules
var action_config = __webpack_require__(7578);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/report/results.js
var report_results = __webpack_require__(6260);
// EXTERNAL MODULE: ./node_modules/ssh2/lib/index.js
var lib = __webpack_require__(5472);
;// CONCATENATED MODULE: ./build/action/ssh/early-channels.js
/** A server's CHANNEL_OPEN_FAILURE: ssh2 gives its reason code (a lost connection gives none). */
function isOpenFailure(err) {
    return typeof err.reason === 'number';
}
/** One channel opened behind the login, waiting for whoever takes it. */
class EarlyChannel {
    internals;
    open;
    discard;
    /** ssh2's own id of the channel (-1: not known, so never counted as confirmed). */
    id = -1;
    result;
    taker;
    /** Not taken by the server: opened again the ordinary way for whoever takes it. */
    abandoned = false;
    constructor(internals, 
    /** Open the channel the ordinary way (through the client's methods, as wrapped for counting). */
    open, 
    /** Close a channel that is no longer wanted. */
    discard) {
        this.internals = internals;
        this.open = open;
        this.discard = discard;
    }
    channels() {
        return this.internals._chanMgr?._channels ?? {};
    }
    start() {
        const before = new Set(Object.keys(this.channels()));
        try {
            this.open((err, channel) => this.arrived(err, channel));
        }
        catch {
            this.abandoned = true;
            return;
        }
        const added = Object.keys(this.channels()).filter(k => !before.has(k));
        if (added.length === 1)
            this.id = Number(added[0]);
    }
    /**
     * Whether the server has yet to answer the open: ssh2 holds a function for a channel it asked for
     * and replaces it by the channel at the confirmation (a refusal removes it).
     */
    get unconfirmed() {
        if (this.result || this.abandoned)
            return false;
        return this.id < 0 || typeof this.channels()[this.id] === 'function';
    }
    arrived(err, channel) {
        if (this.abandoned) {
            if (channel)
                this.discard(channel);
            return;
        }
        if (err && isOpenFailure(err))
            return this.abandon();
        this.result = { err, channel };
        this.taker?.(err, channel);
    }
    /** The server did not take the open: whoever takes the channel gets one opened the ordinary way. */
    abandon() {
        if (this.abandoned || this.result)
            return;
        this.abandoned = true;
        if (this.taker)
            this.reopen(this.taker);
    }
    reopen(cb) {
        try {
            this.open(cb);
        }
        catch (err) {
            cb(err);
        }
    }
    take(cb) {
        this.taker = cb;
        if (this.result)
            cb(this.result.err, this.result.channel);
        else if (this.abandoned)
            this.reopen(cb);
    }
}
class EarlyChannels {
    client;
    internals;
    wanted;
    sftp;
    exec;
    /** Every channel opened early, taken or not. */
    all = [];
    opened = false;
    constructor(client, internals, wanted) {
        this.client = client;
        this.internals = internals;
        this.wanted = wanted;
    }
    /**
     * Call right after client.connect() (which makes the internals read here); undefined when nothing
     * is wanted or ssh2 is not as expected.
     */
    static prepare(client, wanted) {
        if (!wanted || (!wanted.sftp && wanted.exec === undefined))
            return undefined;
        const internals = client;
        if (typeof internals._chanMgr?._channels !== 'object' ||
            !Array.isArray(internals._callbacks) ||
            typeof internals._protocol?.ping !== 'function')
            return undefined;
        return new EarlyChannels(client, internals, wanted);
    }
    /** The signed login request has just been sent: open the channels behind it (once). */
    open() {
        if (this.opened)
            return;
        this.opened = true;
        const { client, internals, wanted } = this;
        if (wanted.sftp) {
            this.sftp = new EarlyChannel(internals, cb => client.sftp(cb), sftp => sftp.end());
            this.sftp.start();
            this.all.push(this.sftp);
        }
        const command = wanted.exec;
        if (command !== undefined) {
            this.exec = { command, channels: [] };
            for (let i = 0; i < (wanted.execs ?? 1); i++) {
                const channel = new EarlyChannel(internals, cb => client.exec(command, cb), ch => ch.close());
                this.exec.channels.push(channel);
                channel.start();
                this.all.push(channel);
            }
        }
    }
    /**
     * USERAUTH_SUCCESS is in. A global request asked now is answered after every channel the server
     * took: one still unconfirmed then was not taken.
     */
    loggedIn() {
        const early = this.all;
        if (!early.some(c => c.unconfirmed))
            return;
        const { _callbacks: callbacks, _protocol: proto } = this.internals;
        if (!callbacks || typeof proto?.ping !== 'function') {
            for (const c of early)
                c.abandon();
            return;
        }
        // ssh2 matches answers to global requests with this list, in order (its keepalives use it too).
        callbacks.push(() => {
            for (const c of early)
                if (c.unconfirmed)
                    c.abandon();
        });
        proto.ping();
    }
    /** The SFTP channel opened behind the login, if there is one not yet taken: `cb` gets it as from client.sftp. */
    takeSftp(cb) {
        const channel = this.sftp;
        if (!channel)
            return false;
        this.sftp = undefined;
        channel.take(cb);
        return true;
    }
    /** The exec channel opened behind the login for `command`, if not yet taken: `cb` gets it as from client.exec. */
    takeExec(command, cb) {
        const channel = this.exec?.command === command ? this.exec.channels.shift() : undefined;
        if (!channel)
            return false;
        channel.take(cb);
        return true;
    }
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./build/action/ssh/host-key.js


/** OpenSSH's SHA256 fingerprint of a raw public key blob: `SHA256:` + unpadded base64. */
function fingerprint(keyBlob) {
    return 'SHA256:' + (0,external_node_crypto_.createHash)('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}
function normaliseFingerprint(fp) {
    const body = fp
        .trim()
        .replace(/^SHA256:/, '')
        .replace(/=+$/, '');
    return `SHA256:${body}`;
}
function globToRegExp(pattern) {
    const escaped = pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.');
    return new RegExp(`^${escaped}$`, 'i');
}
/** Does one known_hosts host field (comma list, wildcards, `!` negation, or a hashed `|1|` entry) name one of these? */
function hostFieldMatches(field, names) {
    if (field.startsWith('|1|')) {
        const [, , salt, hash] = field.split('|');
        const key = Buffer.from(salt, 'base64');
        return names.some(n => (0,external_node_crypto_.createHmac)('sha1', key).update(n).digest('base64') === hash);
    }
    let matched = false;
    for (const raw of field.split(',')) {
        const negated = raw.startsWith('!');
        const re = globToRegExp(negated ? raw.slice(1) : raw);
        if (names.some(n => re.test(n))) {
            if (negated)
                return false;
            matched = true;
        }
    }
    return matched;
}
/**
 * The keys that known_hosts text allows for a target, which may be named several ways
 * (`host`, `[host]:port`, instance id, private IP). Lines with a marker (@cert-authority,
 * @revoked) are not supported and are said so.
 */
function keysFromKnownHosts(text, names) {
    const keys = [];
    for (const line of text.split(/\r?\n/)) {
        const l = line.trim();
        if (!l || l.startsWith('#'))
            continue;
        if (l.startsWith('@')) {
            throw new errors/* UserError */.yo(`known-hosts: markers like '${l.split(/\s+/)[0]}' are not supported; give plain 'host keytype key' lines.`);
        }
        const parts = l.split(/\s+/);
        // A bare `keytype base64` line (no host field) applies to every target.
        const [hostField, , b64] = parts[0].startsWith('ssh-') || parts[0].startsWith('ecdsa-') ? ['*', ...parts] : parts;
        if (!b64)
            throw new errors/* UserError */.yo(`known-hosts: cannot read the line '${l.slice(0, 60)}'; expected 'host keytype base64key'.`);
        if (hostFieldMatches(hostField, names))
            keys.push(Buffer.from(b64, 'base64'));
    }
    return keys;
}
/** The names a target goes by, for matching known_hosts lines. */
function targetNames(host, port, extra = []) {
    const names = [host, ...extra];
    if (port !== 22)
        names.push(`[${host}]:${port}`, ...extra.map(e => `[${e}]:${port}`));
    return names;
}

;// CONCATENATED MODULE: ./build/action/ssh/round-trips.js
/**
 * How many round trips a deploy waited for, by phase, counted as they happen on its SSH
 * connections. Each request is given a depth: one more than the deepest answer received before it
 * went out (an exchange that is several requests in a row, like opening a channel and asking it
 * for a subsystem, adds that many). Requests sent together share a depth, so a pipelined batch is
 * one round trip however many files it carries; the deepest depth reached is the round trips on the
 * longest chain of waits, which is what a long link multiplies. Each new depth is put to the phase
 * under way when it was first reached.
 */
const PHASES = (/* unused pure expression or super */ null && (['connect', 'plan', 'upload', 'verify', 'publish', 'record']));
class RoundTrips {
    phase = 'connect';
    /** A connection is being made: what is waited for counts to 'connect', whatever the phase. */
    connecting = false;
    byPhase = {
        connect: 0,
        plan: 0,
        upload: 0,
        verify: 0,
        publish: 0,
        record: 0
    };
    /** The deepest answer received so far. */
    answered = 0;
    /** The deepest request sent so far. */
    reached = 0;
    /** A request (or `steps` requests each waiting for the one before) goes out: its depth. */
    send(steps = 1) {
        const depth = this.answered + steps;
        if (depth > this.reached) {
            this.byPhase[this.connecting ? 'connect' : this.phase] += depth - this.reached;
            this.reached = depth;
        }
        return depth;
    }
    /** The answer to a request of this depth arrived. */
    answer(depth) {
        if (depth > this.answered)
            this.answered = depth;
    }
    get total() {
        return this.reached;
    }
    /**
     * The SSH handshake on a fresh stream: every time the peer answers after we wrote is a round
     * trip (the handshake takes turns), until the returned function is called (at once when the login
     * succeeds: what ssh2 sends unasked after it, like its answer to OpenSSH's host key announcement,
     * is waited for by no one).
     */
    countTurns(stream) {
        let depth = 0;
        const write = stream.write.bind(stream);
        const counting = ((...args) => {
            if (!depth)
                depth = this.send();
            return write(...args);
        });
        stream.write = counting;
        const onData = () => {
            if (!depth)
                return;
            this.answer(depth);
            depth = 0;
        };
        stream.on('data', onData);
        return () => {
            stream.removeListener('data', onData);
            // Unless someone wrapped it meanwhile.
            if (stream.write === counting)
                stream.write = write;
        };
    }
}
/** The counter of each SFTP channel's connection: Sftp (transfer/sftp.ts) counts every request it makes. */
const sftpTrips = new WeakMap();
/** Count the requests of this SFTP channel (each one made through Sftp) in `trips`. */
function countSftpRequests(sftp, trips) {
    sftpTrips.set(sftp, trips);
}
/** Where this SFTP channel's requests are counted, if anywhere. */
function sftpRoundTrips(sftp) {
    return sftpTrips.get(sftp);
}

;// CONCATENATED MODULE: ./build/action/ssh/pipelined-login.js
/**
 * The hash a public-key signature algorithm signs with: RFC 8332 names two for RSA keys besides the
 * original SHA-1 one; the other key types (ed25519, ecdsa) imply theirs, and ssh2 then passes none.
 */
function signatureHash(keyAlgo) {
    switch (keyAlgo) {
        case 'rsa-sha2-256':
            return 'sha256';
        case 'rsa-sha2-512':
            return 'sha512';
        case 'ssh-rsa':
            return 'sha1';
        default:
            return undefined;
    }
}
function isPrivateKey(key) {
    const k = key;
    return typeof k?.sign === 'function' && typeof k.isPrivateKey === 'function' && k.isPrivateKey();
}
/**
 * Call right after client.connect(): the protocol object it made is the one wrapped. `onSigned` is
 * called right after each signed request has been sent (what is sent then goes behind it).
 */
function pipelineLogin(client, onSigned) {
    const proto = client._protocol;
    const handlers = proto?._handlers;
    if (!proto ||
        !handlers ||
        typeof proto.authPK !== 'function' ||
        typeof proto.service !== 'function' ||
        typeof handlers.SERVICE_ACCEPT !== 'function')
        return;
    signAtOnce(proto, onSigned);
    authBehindService(proto, handlers);
}
/**
 * ssh2 calls authPK without a signer for the query and with one after USERAUTH_PK_OK; here the
 * query carries the signature already. The key algorithm ssh2 picked (from the server-sig-algs the
 * server announced, or its fallbacks) decides the hash, as ssh2's own signer would; a refusal comes
 * back as USERAUTH_FAILURE either way, and ssh2 goes on (next algorithm, or its error) as before.
 * Signing is not expected to fail for a key ssh2 parsed; if it does, the query goes as ssh2 sends
 * it, and ssh2 reports the failure its own way after USERAUTH_PK_OK.
 */
function signAtOnce(proto, onSigned) {
    const authPK = proto.authPK;
    proto.authPK = function (user, key, keyAlgo, sign) {
        if (sign !== undefined || typeof keyAlgo === 'function' || !isPrivateKey(key))
            return authPK.call(this, user, key, keyAlgo, sign);
        const hash = signatureHash(keyAlgo);
        authPK.call(this, user, key, keyAlgo, (data, done) => {
            let signature;
            try {
                signature = key.sign(data, hash);
            }
            catch (err) {
                signature = err;
            }
            if (signature instanceof Error)
                return authPK.call(this, user, key, keyAlgo);
            done(signature);
            onSigned?.();
        });
    };
}
/**
 * Start the login as soon as the SERVICE_REQUEST has gone and the server's EXT_INFO (which carries
 * server-sig-algs, read by ssh2 to pick an RSA key's algorithm) has arrived: OpenSSH sends EXT_INFO
 * right behind its NEWKEYS, so both are in before SERVICE_ACCEPT could be. The SERVICE_ACCEPT that
 * follows is then passed over. A server that sends no EXT_INFO is logged in to on SERVICE_ACCEPT, as
 * ssh2 does.
 */
function authBehindService(proto, handlers) {
    const accepted = handlers.SERVICE_ACCEPT;
    const extInfo = handlers.EXT_INFO;
    const service = proto.service;
    let requested = false;
    let extInfoIn = false;
    let started = false;
    const start = () => {
        if (!requested || !extInfoIn || started)
            return;
        started = true;
        accepted(proto, 'ssh-userauth');
    };
    proto.service = function (name) {
        service.call(this, name);
        if (name !== 'ssh-userauth')
            return;
        requested = true;
        start();
    };
    handlers.EXT_INFO = (...args) => {
        extInfo?.(...args);
        extInfoIn = true;
        start();
    };
    handlers.SERVICE_ACCEPT = (...args) => {
        if (args[1] === 'ssh-userauth') {
            if (started)
                return;
            started = true;
        }
        accepted(...args);
    };
}

;// CONCATENATED MODULE: ./build/action/ssh/private-key.js

/**
 * Reading the outer structure of an OpenSSH private key (`openssh-key-v1`, PROTOCOL.key) before ssh2
 * decrypts it. ssh2 runs bcrypt_pbkdf synchronously for as many rounds as the key asks, and a few
 * damaged characters can ask for hundreds of millions: nothing (not even timeout-seconds) would run
 * again for days. The structure is checked here first, so a damaged key says so in one line and a
 * round count no ssh-keygen writes is refused before any work is done.
 */
/** ssh-keygen writes 16 rounds by default and `-a 100` is the usual hardening; each round costs milliseconds. */
const MAX_KDF_ROUNDS = 1000;
/** Block size of each cipher ssh-keygen may encrypt with, and the length of its authentication tag. */
const CIPHERS = {
    none: { block: 8, tag: 0 },
    'aes128-ctr': { block: 16, tag: 0 },
    'aes192-ctr': { block: 16, tag: 0 },
    'aes256-ctr': { block: 16, tag: 0 },
    'aes128-cbc': { block: 16, tag: 0 },
    'aes192-cbc': { block: 16, tag: 0 },
    'aes256-cbc': { block: 16, tag: 0 },
    '3des-cbc': { block: 8, tag: 0 },
    'aes128-gcm@openssh.com': { block: 16, tag: 16 },
    'aes256-gcm@openssh.com': { block: 16, tag: 16 },
    'chacha20-poly1305@openssh.com': { block: 8, tag: 16 }
};
const MAGIC = Buffer.from('openssh-key-v1\0');
/** A key that is not what it claims: `what` says which part is damaged. */
function damaged(what) {
    return new errors/* UserError */.yo(`Input 'ssh-private-key' is not a valid private key (${what}): paste the whole key, including its BEGIN and END lines, from the file ssh-keygen wrote.`);
}
class Reader {
    buf;
    at = 0;
    constructor(buf) {
        this.buf = buf;
    }
    get left() {
        return this.buf.length - this.at;
    }
    uint32(what) {
        if (this.left < 4)
            throw damaged(`${what} is cut short`);
        const n = this.buf.readUInt32BE(this.at);
        this.at += 4;
        return n;
    }
    bytes(what) {
        const n = this.uint32(what);
        if (n > this.left)
            throw damaged(`${what} is cut short`);
        const out = this.buf.subarray(this.at, this.at + n);
        this.at += n;
        return out;
    }
    text(what) {
        return this.bytes(what).toString('latin1');
    }
}
/** The base64 body between an OpenSSH key's BEGIN and END lines, or undefined for other formats (PEM). */
function openSshBody(key) {
    const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)(-----END OPENSSH PRIVATE KEY-----|$)/.exec(key);
    if (!m)
        return undefined;
    if (!m[2])
        throw damaged('its END line is missing');
    const b64 = m[1].replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64))
        throw damaged('its body has characters that are not base64');
    return Buffer.from(b64, 'base64');
}
/**
 * Check an OpenSSH key's structure and how much work decrypting it asks for; undefined for keys in
 * other formats (ssh2 reads PEM without a key-derivation loop). Throws a one-line UserError.
 */
function readOpenSshKeyHeader(key) {
    const body = openSshBody(typeof key === 'string' ? key : key.toString('latin1'));
    if (!body)
        return undefined;
    if (!body.subarray(0, MAGIC.length).equals(MAGIC))
        throw damaged('its header is damaged');
    const r = new Reader(body.subarray(MAGIC.length));
    const cipher = r.text('the cipher name');
    const spec = CIPHERS[cipher];
    if (!spec)
        throw damaged(`its cipher name '${printable(cipher)}' is damaged or unknown`);
    const kdf = r.text('the key-derivation name');
    const kdfOptions = new Reader(r.bytes('the key-derivation options'));
    let rounds;
    if (kdf === 'bcrypt') {
        const salt = kdfOptions.bytes('the salt');
        rounds = kdfOptions.uint32('the round count');
        if (salt.length === 0 || kdfOptions.left !== 0)
            throw damaged('its key-derivation options are damaged');
    }
    else if (kdf !== 'none' || kdfOptions.left !== 0) {
        throw damaged(`its key-derivation name '${printable(kdf)}' is damaged or unknown`);
    }
    if ((cipher === 'none') !== (kdf === 'none'))
        throw damaged('its cipher and key derivation disagree');
    const keys = r.uint32('the number of keys');
    if (keys !== 1)
        throw damaged(`it says it holds ${keys} keys`);
    const pub = new Reader(r.bytes('the public key'));
    const type = pub.text('the key type');
    if (!/^(ssh-|ecdsa-sha2-|sk-)[a-z0-9@.-]+$/.test(type))
        throw damaged('its public key is damaged');
    const secret = r.bytes('the private part');
    if (secret.length === 0 || secret.length % spec.block !== 0 || r.left !== spec.tag)
        throw damaged('its private part is damaged or cut short');
    if (rounds !== undefined && (rounds === 0 || rounds > MAX_KDF_ROUNDS)) {
        throw new errors/* UserError */.yo(`Input 'ssh-private-key' asks for ${rounds} bcrypt rounds to decrypt (ssh-keygen writes 16; more than ${MAX_KDF_ROUNDS} would stall the deploy for minutes or days): the key is damaged, or re-encrypt it with 'ssh-keygen -p -a 100 -f KEYFILE'.`);
    }
    return { cipher, kdf, rounds };
}
function printable(s) {
    return JSON.stringify(s.slice(0, 40)).slice(1, -1);
}

;// CONCATENATED MODULE: ./build/action/ssh/sftp-ready-at-version.js
/** The SFTP channel (ssh2 made it at the open's confirmation) whose server-side id is `id`. */
function sftpChannel(client, id) {
    for (const ch of Object.values(client._chanMgr?._channels ?? {})) {
        const c = ch;
        if (c &&
            typeof c === 'object' &&
            c.outgoing?.id === id &&
            typeof c._init === 'function' &&
            c._version === -1)
            return c;
    }
    return undefined;
}
/** Call right after client.connect(): every SFTP channel of this client is ready at VERSION. */
function sftpReadyAtVersion(client) {
    const internals = client;
    const proto = internals._protocol;
    const subsystem = proto?.subsystem;
    if (!proto || typeof subsystem !== 'function')
        return;
    // The subsystem request is where ssh2 first holds the channel it will speak SFTP on.
    proto.subsystem = function (id, name, wantReply) {
        subsystem.call(this, id, name, wantReply);
        const sftp = name === 'sftp' ? sftpChannel(internals, id) : undefined;
        if (sftp)
            readyAtVersion(sftp);
    };
}
/**
 * Emit 'ready' as soon as VERSION has been read (ssh2 emits it again after the limits' answer, when
 * no one listens any more). ssh2 listens for 'ready' from the subsystem's reply on, which sshd sends
 * before the subsystem's first output; should a server answer otherwise, ssh2's own 'ready' stands.
 */
function readyAtVersion(sftp) {
    const push = sftp.push;
    sftp.push = function (...args) {
        const out = push.apply(this, args);
        if (sftp._version !== -1) {
            sftp.push = push;
            if (sftp.listenerCount('ready') > 0)
                sftp.emit('ready');
        }
        return out;
    };
}

;// CONCATENATED MODULE: ./build/action/ssh/connection.js








const { Client } = lib;
/** Whether ssh2 still sends on this SFTP channel (it drops requests once the channel is closing). */
function isOpen(sftp) {
    const state = sftp.outgoing?.state;
    return state === undefined || state === 'open';
}
/**
 * How long requests may wait with nothing at all coming back before the connection counts as stalled.
 * While requests wait, a keepalive goes out every quarter of this, and a live sshd answers it even when
 * a command is busy, so only a peer that stopped answering stays silent this long. A variable, so that
 * tests can shorten it (stallTimeoutMs in SshConnectOptions does for one connection).
 */
const stallDefaults = { timeoutMs: 20000 };
/**
 * Without any answer for this long, even when nothing waits, ssh2's keepalive count drops the connection
 * (OpenSSH's ServerAliveInterval 30 x ServerAliveCountMax 4 would say the same).
 */
const IDLE_DEAD_MS = 150000;
/**
 * Ciphers in order of preference: AES-GCM runs in OpenSSL through Node's crypto, while ssh2's
 * chacha20-poly1305 falls back to pure JavaScript without its optional native addon (several times slower).
 */
const connection_CIPHERS = [
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-ctr',
    'aes256-ctr',
    'chacha20-poly1305@openssh.com'
];
class SshConnection {
    client;
    label;
    user;
    trips;
    early;
    closed = false;
    /**
     * Operations under way. ssh2 leaves some requests pending forever when the transport dies under
     * them, so losing the connection rejects every one of them. (A Set rather than Promise.race against
     * one long-lived promise, which would keep a reaction per operation for the connection's lifetime.)
     */
    pending = new Set();
    constructor(client, label, 
    /** The login name (errors say which user could not write where). */
    user = '', 
    /** The round trips this connection's requests wait for (see round-trips.ts); connectSsh counts them. */
    trips = new RoundTrips(), 
    /** The channels opened behind the login, until taken. */
    early) {
        this.client = client;
        this.label = label;
        this.user = user;
        this.trips = trips;
        this.early = early;
        const gone = () => this.lose(`the connection to ${label} was lost`);
        client.once('close', gone);
        client.once('end', gone);
    }
    /** Mark the connection lost: every operation under way rejects (TransientError: the caller reconnects). */
    lose(why) {
        if (this.closed)
            return;
        this.closed = true;
        const err = new errors/* TransientError */.N_(why);
        for (const reject of this.pending)
            reject(err);
        this.pending.clear();
    }
    /** Are requests waiting for answers? */
    get busy() {
        return this.pending.size > 0;
    }
    /**
     * The peer stopped answering without closing (a frozen tunnel, a dead NAT entry): give up on this
     * connection now, rather than when TCP or the keepalive count notices minutes later.
     */
    stalled(stream, silentMs) {
        this.lose(`no answer from ${this.label} for ${Math.round(silentMs / 1000)} s while requests were waiting (the connection stalled)`);
        this.client.end();
        stream.destroy();
    }
    /** Settle with the operation, or reject as soon as the connection is lost. */
    guard(op) {
        if (this.closed) {
            op.catch(() => { });
            return Promise.reject(new errors/* TransientError */.N_(`the connection to ${this.label} was lost`));
        }
        return new Promise((resolve, reject) => {
            this.pending.add(reject);
            op.then(v => {
                this.pending.delete(reject);
                resolve(v);
            }, err => {
                this.pending.delete(reject);
                reject(err);
            });
        });
    }
    get isClosed() {
        return this.closed;
    }
    sftpChannel;
    /** The channel sftpChannel resolved to, once it has. */
    sftpOpen;
    /**
     * The connection's SFTP channel, opened on first use and shared until it closes, so a deploy can
     * open it early (its round trips overlapping other work) and the upload finds it ready.
     */
    sftp() {
        // A channel someone ended (an upload session does when it is done) is closing: ssh2 would drop
        // requests on it without a word, so the next user gets a new one.
        if (this.sftpOpen && !isOpen(this.sftpOpen))
            this.forgetSftp(this.sftpChannel);
        if (!this.sftpChannel) {
            const opening = this.guard(new Promise((resolve, reject) => this.openSftp((err, sftp) => err || !sftp
                ? reject(new errors/* TransientError */.N_(`SFTP on ${this.label}: ${err?.message}`))
                : resolve(sftp))));
            const forget = () => this.forgetSftp(opening);
            opening.then(sftp => {
                if (this.sftpChannel === opening)
                    this.sftpOpen = sftp;
                sftp.once('end', forget);
                sftp.once('close', forget);
            }, forget);
            this.sftpChannel = opening;
        }
        return this.sftpChannel;
    }
    openSftp(cb) {
        if (!this.early?.takeSftp(cb))
            this.client.sftp(cb);
    }
    /** An exec channel running `command`: the one opened behind the login for it if it is still there, else a new one. */
    exec(command, cb) {
        if (!this.early?.takeExec(command, cb))
            this.client.exec(command, cb);
    }
    forgetSftp(channel) {
        if (!channel || this.sftpChannel !== channel)
            return;
        this.sftpChannel = undefined;
        this.sftpOpen = undefined;
    }
    close() {
        this.client.end();
    }
}
/**
 * Count the waits of exec channels (the open and the exec request: two in a row; then each time
 * what we send is answered: a command's stdin and its output, each script of a long-lived shell)
 * and of SFTP channels (open, subsystem, version: three in a row, ready without waiting for the
 * limits, see sftp-ready-at-version.ts; then every request). A channel opened behind the login
 * (early-channels.ts) is counted from the answers in when its open goes, so its open shares the
 * login's turn.
 */
function countRequests(client, trips) {
    const wrap = (name, steps, then) => {
        const original = client[name].bind(client);
        client[name] = (...args) => {
            const cb = args[args.length - 1];
            const depth = trips.send(steps);
            args[args.length - 1] = (err, channel) => {
                trips.answer(depth);
                if (!err && channel)
                    then(channel);
                cb(err, channel);
            };
            return original(...args);
        };
    };
    wrap('exec', 2, channel => {
        const ch = channel;
        // Turns, as in the handshake: what we send after the last answer waits for the next one. A
        // long-lived shell takes one turn per script (written, then its output), a command one in all.
        // Once the peer has ended its side, what we send (our own end, in reply) waits for nothing.
        let depth = 0;
        let peerEnded = false;
        const sending = (fn) => ((...a) => {
            if (!depth && !peerEnded)
                depth = trips.send();
            return fn.apply(ch, a);
        });
        const answered = () => {
            if (!depth)
                return;
            trips.answer(depth);
            depth = 0;
        };
        const ended = () => {
            peerEnded = true;
            answered();
        };
        ch.write = sending(ch.write);
        ch.end = sending(ch.end);
        // What ssh2 hands the channel is watched where it is pushed, not with listeners: a 'data'
        // listener would start the stream flowing, and its end and close could then pass before the
        // channel's user listens for them.
        const watch = (stream) => {
            const push = stream.push.bind(stream);
            stream.push = (chunk, encoding) => {
                if (chunk === null)
                    ended();
                else
                    answered();
                return push(chunk, encoding);
            };
        };
        watch(ch);
        if (ch.stderr)
            watch(ch.stderr);
        ch.once('close', ended);
    });
    wrap('sftp', 3, sftp => countSftpRequests(sftp, trips));
}
/** Check a private key (and passphrase) before any connection, so a bad secret is one clear line. */
function checkPrivateKey(key, passphrase) {
    // The structure and the key-derivation cost first: ssh2's parse would run any round count it is given.
    const header = readOpenSshKeyHeader(key);
    if (header?.kdf === 'bcrypt' && !passphrase) {
        throw new errors/* UserError */.yo("Input 'ssh-private-key' is encrypted: give its passphrase in 'ssh-passphrase'.");
    }
    const parsed = lib.utils.parseKey(key, passphrase);
    // ssh2 reads public keys too: one pasted here would be offered, refused and retried as if the
    // instance were at fault.
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!(first instanceof Error) && first && !first.isPrivateKey()) {
        throw new errors/* UserError */.yo(`Input 'ssh-private-key' holds a public key (${first.type}), not a private key: give the private key file (the one without .pub, starting with -----BEGIN); the public key belongs in the instance's authorized_keys.`);
    }
    if (parsed instanceof Error) {
        const msg = parsed.message;
        if (/passphrase/i.test(msg) && !passphrase) {
            throw new errors/* UserError */.yo("Input 'ssh-private-key' is encrypted: give its passphrase in 'ssh-passphrase'.");
        }
        if (passphrase && /(bad passphrase|decrypt|Failed to|integrity|Malformed)/i.test(msg)) {
            throw new errors/* UserError */.yo("Input 'ssh-passphrase' does not decrypt 'ssh-private-key': check the passphrase secret.");
        }
        throw new errors/* UserError */.yo(`Input 'ssh-private-key' is not a private key ssh can read (${msg}): paste the whole key including its BEGIN and END lines.`);
    }
}
/**
 * ssh2 writes every SSH packet to the stream on its own: one system call per packet, the largest
 * single CPU cost of many small SFTP requests. Corking the stream for the rest of the tick turns the
 * packets one tick produces into one vectored write; the bytes and their order are unchanged.
 */
function coalesceWrites(stream) {
    const write = stream.write.bind(stream);
    let corked = false;
    const uncork = () => {
        corked = false;
        stream.uncork();
    };
    stream.write = ((...args) => {
        if (!corked) {
            corked = true;
            stream.cork();
            process.nextTick(uncork);
        }
        return write(...args);
    });
}
/**
 * Drop the connection when requests have waited `stallMs` with not one byte from the peer (the
 * keepalives a live peer answers included). Idle time does not count: nothing is expected then.
 */
function watchForStalls(conn, stream, stallMs) {
    let heard = Date.now();
    stream.on('data', () => {
        heard = Date.now();
    });
    const timer = setInterval(() => {
        if (conn.isClosed)
            return clearInterval(timer);
        const now = Date.now();
        if (!conn.busy)
            heard = now;
        else if (now - heard >= stallMs) {
            clearInterval(timer);
            conn.stalled(stream, now - heard);
        }
    }, Math.max(25, Math.floor(stallMs / 10)));
    timer.unref();
}
/** How long a peer may stay silent after connecting (sshd sends its version line at once). */
const GREETING_TIMEOUT_MS = 15_000;
/** Open an SSH session over any byte stream, verifying the host key as the policy says. */
function connectSsh(opts) {
    const { stream, login, hostKey, label } = opts;
    const stallMs = opts.stallTimeoutMs ?? stallDefaults.timeoutMs;
    const keepaliveMs = Math.max(50, Math.floor(stallMs / 4));
    const trips = opts.roundTrips ?? new RoundTrips();
    return new Promise((resolve, reject) => {
        const client = new Client();
        // Before the login: channels opened behind it are counted too.
        countRequests(client, trips);
        let received;
        let settled = false;
        // Set once the stream is handed to ssh2; cleared by the first byte, the login or a failure.
        const greeting = {};
        const fail = (err) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(greeting.timer);
            client.end();
            stream.destroy();
            reject(err);
        };
        client.once('ready', () => {
            settled = true;
            clearTimeout(greeting.timer);
            client.removeListener('error', onError);
            client.on('error', () => { }); // later errors surface through the operations that hit them
            early?.loggedIn();
            const conn = new SshConnection(client, label, login.user, trips, early);
            watchForStalls(conn, stream, stallMs);
            resolve(conn);
        });
        const onError = (err) => {
            if (received && err.message.includes('verification failed')) {
                const expected = hostKey.kind === 'fingerprint'
                    ? normaliseFingerprint(hostKey.fingerprint)
                    : `one of the keys in ${hostKey.kind === 'known-hosts' ? hostKey.source : 'the pinned keys'}`;
                return fail(new errors/* UserError */.yo(`Host key verification failed for ${label}: expected ${expected}, received ${received}. If the instance was rebuilt, update the pinned key.`));
            }
            if (err.level === 'client-authentication') {
                return fail(new errors/* UserError */.yo(opts.loginRefused
                    ? `SSH login to ${label} failed: ${opts.loginRefused}.`
                    : `SSH login as '${login.user}' was refused by ${label}: the key is not authorized for that user; check 'user' and the instance's authorized_keys.`));
            }
            fail(new errors/* TransientError */.N_(`SSH to ${label} failed: ${err.message}`, { cause: err }));
        };
        client.on('error', onError);
        coalesceWrites(stream);
        const stopCounting = opts.roundTrips && trips.countTurns(stream);
        if (stopCounting) {
            client.once('ready', stopCounting);
            stream.once('close', stopCounting);
        }
        stream.once('close', () => fail(new errors/* TransientError */.N_(`the connection to ${label} closed during the SSH handshake`)));
        client.connect({
            sock: stream,
            username: login.user,
            privateKey: login.privateKey,
            passphrase: login.passphrase,
            // The key is the only way in: ssh2 would first try 'none' to learn the methods, a round trip
            // that costs tens of milliseconds over ssm or eice. (A list, not a function returning the key:
            // ssh2 then signs with the key it parsed once here, and does not run an encrypted key's KDF again.)
            // pipelineLogin below sends that attempt signed, right behind the service request.
            authHandler: ['publickey'],
            readyTimeout: opts.readyTimeoutMs ?? 30000,
            // Frequent enough that a waiting request always hears something from a live peer (watchForStalls);
            // also keeps an NLB's flow (dropped after 350 s idle) open.
            keepaliveInterval: keepaliveMs,
            keepaliveCountMax: Math.ceil(IDLE_DEAD_MS / keepaliveMs),
            algorithms: { cipher: [...connection_CIPHERS] },
            hostVerifier: (key) => {
                received = fingerprint(key);
                if (hostKey.kind === 'any')
                    return true;
                if (hostKey.kind === 'fingerprint')
                    return received === normaliseFingerprint(hostKey.fingerprint);
                return hostKey.keys.some(k => k.equals(key));
            }
        });
        const early = EarlyChannels.prepare(client, opts.early);
        pipelineLogin(client, early && (() => early.open()));
        sftpReadyAtVersion(client);
        const greetingMs = opts.greetingTimeoutMs ?? GREETING_TIMEOUT_MS;
        greeting.timer = setTimeout(() => fail(new errors/* UserError */.yo(`${label} accepted the connection but sent no SSH greeting in ${Math.round(greetingMs / 1000)} s, so it is not sshd: check the address and port (for nlb, a TCP listener that forwards to the instance's sshd port and has a healthy target; for ssm and eice, the 'port' sshd listens on).`)), greetingMs);
        stream.once('data', () => clearTimeout(greeting.timer));
    });
}

// EXTERNAL MODULE: ./build/action/report/command-output.js
var command_output = __webpack_require__(1169);
// EXTERNAL MODULE: external "node:string_decoder"
var external_node_string_decoder_ = __webpack_require__(6193);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
;// CONCATENATED MODULE: ./build/action/remote/shell-session.js
/**
 * The instance side of one long-lived shell per connection (driven by ssh/shell-session.ts): the
 * bootstrap the login shell is given, and the loop that then runs the deploy's scripts one after
 * another. sshd starts every command through the user's login shell, whose start-up files may take
 * a while (a version manager in ~/.bashrc: 0.2-0.5 s); this way that is paid once per shell, not
 * once per script.
 */
/**
 * What the login shell runs: reads a script of a given length from stdin and runs it, leaving the
 * rest of stdin to it: `<bytes>\n<script>...`. The loop is read a byte at a time (dd bs=1, in GNU
 * coreutils and BusyBox alike), so not a byte past it is taken and the first script can follow it
 * at once, without waiting for the loop to say it is ready (a round trip). Only without dd does it
 * fall back to head -c, which reads no further than asked in GNU coreutils. One line, no
 * backslash, no `!`: csh and fish login shells take it as it is.
 */
const BOOT = `IFS= read -r n || exit 1; s=$(dd bs=1 count="$n" 2>/dev/null) || s=$(head -c "$n") || exit 1; eval "$s"`;
/**
 * The loop, sent through BOOT. It says it is ready with the boundary, then per script reads
 * `<bytes> <1 if stdin follows>\n<script>` and, when stdin follows, frames `<bytes>\n<bytes of
 * stdin>` up to a `0\n`. Each script runs in a subshell (its `exit`, `cd` and variables stay there)
 * and is followed by `<boundary> <exit status>\n` on stdout and `<boundary>\n` on stderr, so its
 * output and status are told apart without the channel closing. The boundary is random per shell
 * (the caller's), so nothing a script prints (file names, listings) can end its output early.
 * Stdin a script left unread is read to its end (cat), so the next header is read where it starts.
 * Variables are prefixed: a script sees them, and none of its own should be taken for them.
 * Exact reads: dd with iflag=fullblock (GNU and BusyBox), else head -c, which reads no further than
 * asked in GNU coreutils but reads ahead in BusyBox (where stdin's next frame would be lost).
 */
function sessionScript(boundary) {
    if (!/^[0-9a-f]{16,}$/.test(boundary))
        throw new Error('the boundary must be hex');
    return `ec2_push_b="$(printf '\\001')${boundary}"
if dd if=/dev/null bs=1 count=0 iflag=fullblock 2>/dev/null; then
  ec2_push_take() { dd bs="$1" count=1 iflag=fullblock 2>/dev/null; }
else
  ec2_push_take() { head -c "$1"; }
fi
ec2_push_end() { printf '%s %s\\n' "$ec2_push_b" "$1"; printf '%s\\n' "$ec2_push_b" >&2; }
ec2_push_end 0
while read -r ec2_push_n ec2_push_i; do
  ec2_push_s=$(ec2_push_take "$ec2_push_n") || exit 1
  if [ "$ec2_push_i" = 1 ]; then
    { while IFS= read -r ec2_push_k && [ "$ec2_push_k" -gt 0 ]; do ec2_push_take "$ec2_push_k" || exit 1; done; } |
      { (eval "$ec2_push_s"); ec2_push_end $?; cat >/dev/null; }
  else
    (eval "$ec2_push_s") </dev/null
    ec2_push_end $?
  fi
done`;
}
/** The byte that starts every boundary the loop prints: no text a script prints ends in it. */
const BOUNDARY_LEAD = '\x01';

// EXTERNAL MODULE: ./build/action/remote/quote.js
var quote = __webpack_require__(8774);
;// CONCATENATED MODULE: ./build/action/ssh/shell-session.js





/** The shell ended before it said it was ready (no exec allowed, say): what it reported, as a result. */
class ShellStartError extends Error {
    result;
    constructor(result) {
        super(`the shell ended before it started (exit ${result.code ?? result.signal ?? 'unknown'})`);
        this.result = result;
    }
}
/** The command a shell for scripts is started with (a connection may open its channel behind the login). */
const SHELL_COMMAND = `sh -c ${(0,quote/* shellQuote */.Z)(BOOT)}`;
/** Stdin goes in frames of at most this many bytes (the instance reads each into one buffer). */
const MAX_FRAME = 1024 * 1024;
/**
 * Finds `<boundary><rest of line>\n` in a stream, passing on what comes before it as it arrives.
 * Only a tail that could be the start of the boundary is held back (the boundary starts with a byte
 * text never ends in), so a script that prints a line and waits for stdin is answered.
 */
class BoundaryScanner {
    boundary;
    held = Buffer.alloc(0);
    tail;
    constructor(boundary) {
        this.boundary = boundary;
    }
    /**
     * Once the boundary's line is complete: the rest of that line, and what came after it (the next
     * script's output, when scripts follow each other without waiting). Else undefined.
     */
    push(chunk, emit) {
        if (this.tail)
            return this.endOfLine(Buffer.concat([this.tail, chunk]));
        const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
        const at = data.indexOf(this.boundary);
        if (at >= 0) {
            if (at > 0)
                emit(data.subarray(0, at));
            this.held = Buffer.alloc(0);
            return this.endOfLine(data.subarray(at + this.boundary.length));
        }
        let keep = Math.min(this.boundary.length - 1, data.length);
        while (keep > 0 && !data.subarray(data.length - keep).equals(this.boundary.subarray(0, keep)))
            keep--;
        if (data.length > keep)
            emit(data.subarray(0, data.length - keep));
        this.held = Buffer.from(data.subarray(data.length - keep));
        return undefined;
    }
    endOfLine(data) {
        const nl = data.indexOf(0x0a);
        if (nl < 0) {
            this.tail = Buffer.from(data);
            return undefined;
        }
        this.tail = undefined;
        return { line: data.subarray(0, nl).toString('latin1'), after: data.subarray(nl + 1) };
    }
    /** What is held back, for a stream that ended without the boundary. */
    flush() {
        const rest = this.held;
        this.held = Buffer.alloc(0);
        this.tail = undefined;
        return rest;
    }
}
class ShellSession {
    conn;
    channel;
    /**
     * What was written and not yet answered, in order: the loop's start, then scripts. Each stream
     * (stdout, stderr) belongs to the first run whose boundary it has not shown yet.
     */
    runs = [];
    stdoutScan;
    stderrScan;
    exitCode = null;
    exitSignal;
    closedFlag = false;
    onClosed = [];
    /** Settles when the loop said it is ready; rejects when the shell ended first or the login shell printed. */
    ready = Promise.resolve();
    constructor(conn, channel, boundary) {
        this.conn = conn;
        this.channel = channel;
        const mark = Buffer.from(BOUNDARY_LEAD + boundary, 'latin1');
        this.stdoutScan = new BoundaryScanner(mark);
        this.stderrScan = new BoundaryScanner(mark);
        channel.on('data', (d) => this.onData(d, false));
        channel.stderr.on('data', (d) => this.onData(d, true));
        channel.on('exit', (c, s) => {
            this.exitCode = c;
            this.exitSignal = s;
        });
        channel.once('close', () => this.onClose());
    }
    /** The shell ended (or was ended): no script runs on it any more. */
    get isClosed() {
        return this.closedFlag;
    }
    /**
     * Open the shell: the exec, then the loop written to it. It resolves without waiting for the
     * loop to say it is ready (BOOT reads the loop exactly, so a script can follow it at once); a
     * script run meanwhile waits for that answer. A shell that ends before it is ready fails that
     * script with ShellStartError; a login shell whose start-up printed to stdout with a UserError
     * naming that (the same output breaks SFTP for every tool).
     */
    static async open(conn) {
        const channel = await new Promise((resolve, reject) => conn.exec(SHELL_COMMAND, (err, ch) => err || !ch ? reject(new errors/* TransientError */.N_(`exec on ${conn.label}: ${err?.message}`)) : resolve(ch)));
        const boundary = (0,external_node_crypto_.randomBytes)(16).toString('hex');
        const session = new ShellSession(conn, channel, boundary);
        const loop = Buffer.from(sessionScript(boundary), 'utf8');
        const started = new Promise(resolve => session.runs.push(session.newRun(r => resolve(r), true)));
        channel.write(`${loop.length}\n`);
        channel.write(loop);
        session.ready = started.then(r => session.checkStart(r));
        session.ready.catch(() => { });
        return session;
    }
    checkStart(r) {
        if (r.ended) {
            throw new ShellStartError({
                code: this.exitCode,
                signal: this.exitSignal,
                stdout: r.stdout.toString('utf8'),
                stderr: r.stderr.toString('utf8'),
                timedOut: false
            });
        }
        const printed = r.stdout.toString('utf8').trim();
        if (printed) {
            this.close();
            const line = printed.split('\n')[0].slice(0, 80);
            throw new errors/* UserError */.yo(`The login shell on ${this.conn.label} printed ${JSON.stringify(line)} to stdout when it started: a start-up file (~/.bashrc, ~/.zshenv, ...) writes to stdout for non-interactive logins, which also breaks SFTP for every tool. Make it print only in interactive shells (for bash: put \`[[ $- == *i* ]] || return\` near the top of ~/.bashrc).`);
        }
    }
    /** Settles once the loop said it is ready (rejects as a script run on this shell would). */
    whenReady() {
        return this.ready;
    }
    newRun(finish, start = false) {
        return { start, out: [], err: [], stdoutDone: false, stderrDone: false, finish };
    }
    onData(d, isErr) {
        let chunk = d;
        while (chunk.length > 0) {
            // Nothing of a script's when every run has shown its boundary (a leftover child's output).
            const run = this.runs.find(r => !(isErr ? r.stderrDone : r.stdoutDone));
            if (!run)
                return;
            const scan = isErr ? this.stderrScan : this.stdoutScan;
            const end = scan.push(chunk, body => {
                if (isErr) {
                    run.err.push(Buffer.from(body));
                    run.onStderr?.(body);
                }
                else {
                    run.out.push(Buffer.from(body));
                    run.onStdout?.(body);
                }
            });
            if (end === undefined)
                return;
            chunk = end.after;
            if (isErr)
                run.stderrDone = true;
            else {
                run.stdoutDone = true;
                const code = Number(end.line.trim());
                run.code = Number.isInteger(code) ? code : undefined;
            }
            if (run.stdoutDone && run.stderrDone) {
                this.runs.splice(this.runs.indexOf(run), 1);
                run.finish({
                    code: run.code ?? null,
                    stdout: Buffer.concat(run.out),
                    stderr: Buffer.concat(run.err),
                    ended: false
                });
            }
        }
    }
    /** Call `fn` once the shell has ended. */
    whenClosed(fn) {
        if (this.closedFlag)
            fn();
        else
            this.onClosed.push(fn);
    }
    onClose() {
        this.closedFlag = true;
        for (const fn of this.onClosed.splice(0))
            fn();
        const runs = this.runs.splice(0);
        const out = this.stdoutScan.flush();
        const err = this.stderrScan.flush();
        // What was held back belongs to the first run still listening on that stream.
        runs.find(r => !r.stdoutDone)?.out.push(out);
        runs.find(r => !r.stderrDone)?.err.push(err);
        for (const run of runs)
            run.finish({ code: null, stdout: Buffer.concat(run.out), stderr: Buffer.concat(run.err), ended: true });
    }
    /** End the shell (a script timed out or was cancelled): signal it, close our side. */
    close() {
        try {
            this.channel.signal('KILL');
        }
        catch {
            /* the channel may be gone already */
        }
        this.channel.close();
    }
    /**
     * Run one POSIX sh script in a subshell, with `opts.stdin` as its stdin. On timeout or abort the
     * shell is ended (a script cannot be stopped alone), so the next script gets another.
     */
    async run(script, opts = {}) {
        const result = this.runScript(script, opts);
        result.catch(() => { });
        // A shell that failed to start answers for the script sent behind its start.
        await this.ready;
        return result;
    }
    runScript(script, opts) {
        if (this.closedFlag)
            return Promise.reject(new errors/* TransientError */.N_(`the shell on ${this.conn.label} ended`));
        if (this.runs.some(r => !r.start))
            return Promise.reject(new Error('one script at a time on a shell'));
        const { channel } = this;
        const stdin = opts.stdin;
        let stopFeeding = () => { };
        return new Promise((resolve, reject) => {
            let timedOut = false;
            let settled = false;
            const settle = (fn) => {
                if (settled)
                    return;
                settled = true;
                clearTimeout(timer);
                opts.signal?.removeEventListener('abort', onAbort);
                stopFeeding();
                fn();
            };
            const run = this.newRun(r => settle(() => resolve({
                // A shell that ended under the script is no success, whatever it said last.
                code: r.ended ? this.exitCode || null : r.code,
                signal: r.ended ? this.exitSignal : undefined,
                stdout: r.stdout.toString('utf8'),
                stderr: r.stderr.toString('utf8'),
                timedOut
            })));
            run.onStdout = opts.onStdout;
            run.onStderr = opts.onStderr;
            this.runs.push(run);
            const timer = opts.timeoutMs
                ? setTimeout(() => {
                    timedOut = true;
                    this.close();
                }, opts.timeoutMs)
                : undefined;
            const onAbort = () => {
                this.close();
                settle(() => reject(new Error('cancelled')));
            };
            opts.signal?.addEventListener('abort', onAbort, { once: true });
            // A last line that is a comment: $(...) strips trailing newlines, which a here-document's end
            // marker needs, and a comment leaves the script's exit status as it was.
            const text = Buffer.from(`${script}\n#`, 'utf8');
            channel.write(`${text.length} ${stdin === undefined ? 0 : 1}\n`);
            channel.write(text);
            if (stdin === undefined)
                return;
            if (!(stdin instanceof external_node_stream_.Readable)) {
                const bytes = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
                for (let at = 0; at < bytes.length; at += MAX_FRAME) {
                    const frame = bytes.subarray(at, at + MAX_FRAME);
                    channel.write(`${frame.length}\n`);
                    channel.write(frame);
                }
                channel.write('0\n');
                return;
            }
            stopFeeding = this.feed(stdin);
        });
    }
    /**
     * Frame a stream onto the shell's stdin until it ends; returns how to stop early (the script
     * ended first: its stdin ends there, and the shell reads the next script after it).
     */
    feed(stream) {
        const { channel } = this;
        let ended = false;
        const end = () => {
            if (ended)
                return;
            ended = true;
            stream.off('data', onData);
            stream.off('end', end);
            stream.off('error', end);
            stream.off('close', end);
            channel.off('drain', resume);
            if (!this.closedFlag)
                channel.write('0\n');
        };
        const resume = () => stream.resume();
        const onData = (chunk) => {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
            let full = false;
            // Empty chunks are skipped: a 0 frame would end the stdin.
            for (let at = 0; at < bytes.length; at += MAX_FRAME) {
                const frame = bytes.subarray(at, at + MAX_FRAME);
                channel.write(`${frame.length}\n`);
                full = !channel.write(frame);
            }
            if (full) {
                stream.pause();
                channel.once('drain', resume);
            }
        };
        if (stream.readableEnded || stream.destroyed) {
            end();
            return end;
        }
        stream.on('data', onData);
        stream.once('end', end);
        stream.once('error', end);
        stream.once('close', end);
        return end;
    }
}

;// CONCATENATED MODULE: ./build/action/ssh/exec.js
/**
 * Running things on the instance: one command on its own exec channel (execChannel), or a POSIX sh
 * script on one of the connection's long-lived shells (execScript).
 */



/**
 * Run one command over an exec channel with stdin, a timeout and cancellation. On timeout or
 * abort the remote process gets SIGKILL (sshd forwards signals) and the channel is closed.
 */
function execChannel(conn, command, opts = {}) {
    if (opts.signal?.aborted)
        return Promise.reject(new Error('cancelled'));
    return conn.guard(openExec(conn, command).then(h => drive(h, opts)));
}
function openExec(conn, command) {
    return new Promise((resolve, reject) => conn.client.exec(command, (err, channel) => {
        if (err)
            return reject(new errors/* TransientError */.N_(`exec on ${conn.label}: ${err.message}`));
        const h = {
            channel,
            out: [],
            err: [],
            code: null,
            isClosed: false,
            closed: Promise.resolve()
        };
        channel.on('data', (d) => {
            h.out.push(d);
            h.onStdout?.(d);
        });
        channel.stderr.on('data', (d) => {
            h.err.push(d);
            h.onStderr?.(d);
        });
        channel.on('exit', (c, s) => {
            h.code = c;
            h.signal = s;
        });
        h.closed = new Promise(done => channel.once('close', () => {
            h.isClosed = true;
            done();
        }));
        resolve(h);
    }));
}
/**
 * Per connection, the shells that run scripts (ssh/shell-session.ts): one is enough for scripts run
 * one after another; a second lets a script run while another holds the first. A script fed a
 * stream (the instance hashing a file while it is written) may hold a shell for as long as the
 * file takes: up to four more for those. However many scripts a deploy runs, these are all the
 * login shells it starts for them.
 */
const MAX_SHELLS = 2;
const MAX_SHELLS_WITH_STREAMS = MAX_SHELLS + 4;
const pools = new WeakMap();
function poolOf(conn) {
    let pool = pools.get(conn);
    if (!pool) {
        pool = { slots: [], waiting: [] };
        pools.set(conn, pool);
    }
    return pool;
}
function openSlot(conn, pool, taken) {
    const slot = { session: conn.guard(ShellSession.open(conn)), taken };
    pool.slots.push(slot);
    // A shell that failed to start leaves room for another (the error goes to whoever takes it).
    slot.session.then(s => s.whenClosed(() => dropSlot(pool, slot)), () => dropSlot(pool, slot));
    return slot;
}
function dropSlot(pool, slot) {
    const at = pool.slots.indexOf(slot);
    if (at < 0)
        return;
    pool.slots.splice(at, 1);
    pool.waiting.shift()?.();
}
/** A shell for one script: a free one, a new one while there is room, or the next one freed. */
async function takeSlot(conn, long, signal) {
    const pool = poolOf(conn);
    for (;;) {
        if (signal?.aborted)
            throw new Error('cancelled');
        const free = pool.slots.find(s => !s.taken);
        if (free) {
            free.taken = true;
            return free;
        }
        if (pool.slots.length < (long ? MAX_SHELLS_WITH_STREAMS : MAX_SHELLS))
            return openSlot(conn, pool, true);
        await conn.guard(new Promise(resolve => pool.waiting.push(resolve)));
    }
}
function giveBack(conn, slot) {
    const pool = poolOf(conn);
    slot.taken = false;
    pool.waiting.shift()?.();
}
/**
 * Start a shell for scripts now, ahead of the first one: it is ready when the first script comes
 * (the login shell's start and the channel's open, round trips over ssm or eice, are not waited for).
 */
function keepShellReady(conn, shells = 1) {
    if (conn.isClosed)
        return;
    const pool = poolOf(conn);
    const want = Math.min(shells, MAX_SHELLS);
    while (pool.slots.length < want)
        openSlot(conn, pool, false).session.catch(() => { });
}
/** The shells the connection has for scripts (ready, starting or busy). */
function shellsOf(conn) {
    return pools.get(conn)?.slots.length ?? 0;
}
/**
 * Run a POSIX sh script on one of the connection's shells (in a subshell: its `exit`, `cd` and
 * variables stay there), after the scripts before it. `opts.stdin` is the script's stdin. The
 * script goes through stdin, so its length is not bounded by the command line.
 */
async function execScript(conn, script, opts = {}) {
    if (opts.signal?.aborted)
        throw new Error('cancelled');
    const slot = await takeSlot(conn, opts.stdin instanceof external_node_stream_.Readable, opts.signal);
    try {
        try {
            const session = await slot.session;
            return await conn.guard(session.run(script, opts));
        }
        catch (err) {
            // The shell ended before it started (no exec allowed, say): what it reported, as the result.
            if (err instanceof ShellStartError)
                return err.result;
            throw err;
        }
    }
    finally {
        giveBack(conn, slot);
    }
}
function drive(h, opts) {
    const { channel } = h;
    return new Promise((resolve, reject) => {
        let timedOut = false;
        let settled = false;
        const settle = (fn) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(timer);
            opts.signal?.removeEventListener('abort', onAbort);
            fn();
        };
        const result = () => ({
            code: h.code,
            signal: h.signal,
            timedOut,
            stdout: Buffer.concat(h.out).toString('utf8'),
            stderr: Buffer.concat(h.err).toString('utf8')
        });
        // A process that keeps its output open (a child in the background) would hold the channel
        // open: signal it, close our side, and settle now rather than wait for the server.
        const stop = () => {
            try {
                channel.signal('KILL');
            }
            catch {
                /* the channel may be gone already */
            }
            channel.close();
        };
        const timer = opts.timeoutMs
            ? setTimeout(() => {
                timedOut = true;
                stop();
                settle(() => resolve(result()));
            }, opts.timeoutMs)
            : undefined;
        const onAbort = () => {
            stop();
            settle(() => reject(new Error('cancelled')));
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        // What came before anyone listened first, then the rest as it comes.
        for (const d of h.out)
            opts.onStdout?.(d);
        for (const d of h.err)
            opts.onStderr?.(d);
        h.onStdout = opts.onStdout;
        h.onStderr = opts.onStderr;
        void h.closed.then(() => settle(() => resolve(result())));
        if (opts.stdin instanceof external_node_stream_.Readable)
            opts.stdin.pipe(channel);
        else if (opts.stdin !== undefined)
            channel.end(opts.stdin);
        else
            channel.end();
    });
}

;// CONCATENATED MODULE: ./build/action/ssh/run-script.js

/**
 * Run a POSIX sh script on the instance: the script goes through stdin (execScript), so its length
 * is not bounded by the command line, and the login shell (bash, zsh, fish...) does not matter.
 */
function runScript(conn, script, opts = {}) {
    return execScript(conn, script, opts);
}
/** Run a script and require exit 0; anything else is an error naming `what`. */
async function runScriptOk(conn, script, what, opts = {}) {
    const r = await runScript(conn, script, opts);
    if (r.code !== 0) {
        const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ');
        throw new Error(`${what} failed on ${conn.label} (exit ${r.code ?? r.signal}): ${detail || 'no output'}`);
    }
    return r.stdout;
}


;// CONCATENATED MODULE: ./build/action/deploy/user-command.js




/**
 * The command line sent to the login shell: the variables are exported in the shell itself
 * (sshd refuses SetEnv unless AcceptEnv allows it), `set -e` as in a workflow's `run:`, and the
 * user's lines run in remote-path.
 */
function commandLine(ctx) {
    const exports = Object.entries(ctx.env).map(([k, v]) => `export ${k}=${(0,quote/* shellQuote */.Z)(v)}`);
    const script = [
        ...exports,
        'set -e',
        `cd -- ${(0,quote/* shellQuote */.Z)(ctx.cwd)}`,
        // stderr joins stdout so the log keeps the order the command wrote in.
        'exec 2>&1',
        ctx.command
    ].join('\n');
    // coreutils `timeout` kills the command's whole process group at the limit (a background child
    // would otherwise outlive it); the client's own timer is the backstop where it is missing.
    const secs = Math.max(1, Math.ceil(ctx.timeoutMs / 1000));
    const sh = '"${SHELL:-/bin/sh}"';
    return `if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 ${secs} ${sh} -c ${(0,quote/* shellQuote */.Z)(script)}; else exec ${sh} -c ${(0,quote/* shellQuote */.Z)(script)}; fi`;
}
/** Exit status of coreutils `timeout` when the limit was reached. */
const TIMEOUT_EXIT = 124;
/** Run a pre- or post-command, streaming its output line by line; non-zero exit or timeout throws. */
async function runUserCommand(conn, ctx) {
    let partial = '';
    // One decoder per stream: a character split across two chunks is held until its last byte comes.
    const reader = (decoder) => (d) => {
        const lines = (partial + decoder.write(d)).split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const l of lines)
            ctx.onLine(l);
    };
    const stdout = new external_node_string_decoder_.StringDecoder('utf8');
    const stderr = new external_node_string_decoder_.StringDecoder('utf8');
    const started = Date.now();
    const r = await execChannel(conn, commandLine(ctx), {
        timeoutMs: ctx.timeoutMs + 3000,
        signal: ctx.signal,
        onStdout: reader(stdout),
        onStderr: reader(stderr)
    });
    partial += stdout.end() + stderr.end();
    if (partial)
        ctx.onLine(partial);
    if (r.timedOut || (r.code === TIMEOUT_EXIT && Date.now() - started >= ctx.timeoutMs - 100)) {
        throw new errors/* UserError */.yo(`${ctx.name} on ${conn.label} did not finish within command-timeout-seconds (${ctx.timeoutMs / 1000} s) and was killed.`);
    }
    if (r.code !== 0) {
        const how = r.code === null ? `was killed by signal ${r.signal ?? '?'}` : `exited with code ${r.code}`;
        throw new errors/* UserError */.yo(`${ctx.name} on ${conn.label} ${how}; its output is in the log above.`);
    }
}

// EXTERNAL MODULE: ./build/action/remote/names.js
var names = __webpack_require__(8978);
// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __webpack_require__(8522);
;// CONCATENATED MODULE: ./build/action/remote/listing.js



const FIND_TYPES = '\\( -type f -o -type l \\)';
/** type, inode, size, ctime, mode, path relative to the folder listed. */
const FIND_FORMAT = '%y %i %s %C@ %m %P\\0';
/**
 * `find` over the current folder (our metadata folder skipped), one FIND_FORMAT record per file or symlink
 * ending in `end`; `select` narrows it further.
 */
function findEntries(select = '', end = '\\0') {
    return `find . -mindepth 1 -path ./${names/* META_DIR */.AB} -prune -o ${FIND_TYPES} ${select} -printf '${FIND_FORMAT.replace('\\0', end)}'`;
}
/**
 * FIND_FORMAT records for these paths under `dir` (with `./`, so names that start with '-' or
 * '(' do not read as find expressions; parseEntry takes the `./` off), each ending in `end`.
 */
function relistScript(dir, rels, end = '\\0') {
    if (rels.length === 0)
        return ':\n';
    const format = FIND_FORMAT.replace('%P', '%p').replace('\\0', end);
    return `( cd -- ${(0,quote/* shellQuote */.Z)(dir)} 2>/dev/null || exit 0
${(0,quote/* nulList */.S)(rels.map(rel => `./${rel}`))} | xargs -0 sh -c 'exec find "$@" -maxdepth 0 ${FIND_TYPES} -printf "${format}"' find 2>/dev/null
exit 0 )
`;
}
/** Every file and symlink under `dir`, uncompressed (nothing when `dir` does not exist). */
function rawListingScript(dir) {
    return `( cd -- ${(0,quote/* shellQuote */.Z)(dir)} 2>/dev/null || exit 0
${findEntries()} || true )
`;
}
/** The listing as a script fragment (its output compressed; parseListing reads it). */
function listingScript(dir) {
    return compressedOutput(rawListingScript(dir));
}
const GZ_BEGIN = '--ec2-push-gzip-base64--';
const GZ_END = '--ec2-push-gzip-end--';
/**
 * Run a script fragment with its output gzipped and base64-encoded when the instance has both tools
 * (every mainstream AMI does). Listings and manifests come back from the instance, and over ssm
 * that direction runs at the agent's pace (about 1 MB/s): 2,000 files' listing and manifest, 440 KB,
 * come back as 210 KB. Without gzip the output comes back as it is; readers accept both.
 * The fragment is written once, as a function (run in a subshell, as a pipeline's part would be):
 * it can hold a sync request's 170 KB here-document, which would otherwise go up twice.
 */
function compressedOutput(fragment) {
    return `ec2_push_fragment() (
${fragment}
)
if command -v gzip >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then
echo ${GZ_BEGIN}
ec2_push_fragment | gzip -1 | base64
echo ${GZ_END}
else
ec2_push_fragment
fi
`;
}
/** Undo compressedOutput wherever its blocks appear in an exec's output. */
function expandCompressed(out) {
    let at = out.indexOf(GZ_BEGIN);
    while (at >= 0) {
        const end = out.indexOf(GZ_END, at);
        if (end < 0)
            throw new Error('the instance sent a truncated compressed listing');
        const encoded = out.slice(at + GZ_BEGIN.length, end);
        const text = (0,external_node_zlib_.gunzipSync)(Buffer.from(encoded, 'base64')).toString('utf8');
        const after = out.slice(end + GZ_END.length).replace(/^\n/, '');
        out = out.slice(0, at) + text + after;
        at = out.indexOf(GZ_BEGIN, at + text.length);
    }
    return out;
}
function parseListing(out) {
    const map = new Map();
    for (const rec of expandCompressed(out).split('\0')) {
        const e = parseEntry(rec);
        if (e)
            map.set(e.path, e);
    }
    return map;
}
/** One `FIND_FORMAT` record (without its terminator); undefined for our own files and for noise. */
function parseEntry(rec) {
    const m = /^([fl]) (\d+) (\d+) ([\d.]+) ([0-7]+) (.+)$/s.exec(rec);
    if (!m)
        return undefined;
    const [, y, inode, size, ctime, mode, found] = m;
    const rel = found.startsWith('./') ? found.slice(2) : found; // relist's `%p` names
    if ((0,names/* isOwnFile */.Z4)(rel))
        return undefined;
    return {
        path: rel,
        type: y === 'f' ? 'file' : 'link',
        size: Number(size),
        mode: parseInt(mode, 8),
        stamp: `${inode} ${size} ${ctime}`
    };
}

;// CONCATENATED MODULE: ./build/action/remote/manifest-lines.js
/**
 * The sync manifest's line format, which the awk programs on the instance read and write as well
 * as this side (docs/remote-protocol.md, "The manifest"). The seal over it is in sync/manifest.ts.
 */
const MANIFEST_HEADER = 'ec2-push-manifest 2';
/** A path the line format can hold: the path ends the line, so no control characters in it. */
function isLinePath(rel) {
    // eslint-disable-next-line no-control-regex
    return !/[\x00-\x1f]/.test(rel);
}
/** `<sha256> <mode, octal> <inode> <size> <ctime> <path>`: the path last, so it may hold spaces. */
function manifestLine(rel, e) {
    return `${e.sha256} ${e.mode.toString(8)} ${e.stamp} ${rel}`;
}
/** One manifest line; undefined for anything else (the header, the seal). */
function parseManifestLine(line) {
    const m = /^([0-9a-f]{64}) ([0-7]+) (\d+ \d+ [\d.]+) (.+)$/.exec(line);
    return m ? [m[4], { sha256: m[1], mode: parseInt(m[2], 8), stamp: m[3] }] : undefined;
}

;// CONCATENATED MODULE: ./build/action/remote/sync-snapshot.js




const JOINED = '--ec2-push-joined--';
const RAW = '--ec2-push-raw--';
const MANIFEST_SEPARATOR = '\0--ec2-push-manifest--\0';
/**
 * On the instance (POSIX awk): stdin holds the planned files (`sha size mode path`) up to a `--`
 * line, then the listing (`y inode size ctime mode path`); M names the manifest. Prints `R <manifest
 * sha or -> <listing record>` for what differs or is not planned, `M <path>` for planned paths
 * missing there, and `S <count>` of the rest.
 */
const JOIN_AWK = `BEGIN {
  while ((getline l < M) > 0) {
    if (length(l) < 66 || substr(l, 65, 1) != " ") continue
    split(l, f, " ")
    p = l; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
    msha[p] = f[1]; mmode[p] = f[2]; mstamp[p] = f[3] " " f[4] " " f[5]
  }
}
phase == 0 {
  if ($0 == "--") { phase = 1; next }
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", p)
  want[p] = $1; wsize[p] = $2; wmode[p] = $3
  next
}
{
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
  st = $2 " " $3 " " $4
  trusted = (p in msha) && mstamp[p] == st && mmode[p] "" == $5 ""
  if (p in want) {
    seen[p] = 1
    if ($1 == "f" && $3 + 0 == wsize[p] + 0 && $5 "" == wmode[p] "" && trusted && msha[p] "" == want[p] "") { same++; next }
  }
  print "R " ((p in want) && trusted ? msha[p] : "-") " " $0
}
END {
  for (p in want) if (!(p in seen)) print "M " p
  print "S " (same + 0)
}`;
/**
 * The same join with the listing first and the planned files after it, as they come on the
 * script's stdin (plannedInput): the instance lists the folder and reads the manifest while the
 * runner is still hashing its files. Prints what JOIN_AWK prints.
 */
const JOIN_AWK_LISTING_FIRST = `BEGIN {
  while ((getline l < M) > 0) {
    if (length(l) < 66 || substr(l, 65, 1) != " ") continue
    split(l, f, " ")
    p = l; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
    msha[p] = f[1]; mmode[p] = f[2]; mstamp[p] = f[3] " " f[4] " " f[5]
  }
}
phase == 0 {
  if ($0 == "--") { phase = 1; next }
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
  rec[p] = $0; ty[p] = $1; sz[p] = $3; md[p] = $5; st[p] = $2 " " $3 " " $4
  next
}
{
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", p)
  if (!(p in rec)) { print "M " p; next }
  trusted = (p in msha) && mstamp[p] == st[p] && mmode[p] "" == md[p] ""
  if (ty[p] == "f" && sz[p] + 0 == $2 + 0 && md[p] "" == $3 "" && trusted && msha[p] "" == $1 "") same++
  else print "R " (trusted ? msha[p] : "-") " " rec[p]
  delete rec[p]
}
END {
  for (p in rec) print "R - " rec[p]
  print "S " (same + 0)
}`;
/** The planned files' lines for a snapshot that reads them from stdin (snapshotScript with 'stdin'). */
function plannedInput(request) {
    return comparedFiles(request)
        .map(f => `${request.digests.get(f.relativePath)} ${f.size} ${(f.mode & 0o777).toString(8)} ${f.relativePath}\n`)
        .join('');
}
/** The planned files the instance compares (the rest, if any, are judged from the listing). */
function comparedFiles(request) {
    return request.files.filter(f => request.digests.has(f.relativePath) && isLinePath(f.relativePath));
}
/** fnmatch pattern for a path with a control character (listed apart, NUL-terminated). */
const CONTROL = `"*[$(printf '\\001-\\037')]*"`;
/**
 * The snapshot of `dir`: compared there when `request` is given and the tools are there. With
 * 'stdin', the planned files come on the script's stdin (plannedInput), read after the listing.
 */
function snapshotScript(dir, request, 
/** The manifest, named from inside `dir` (remote/names.ts manifestFromDir). */
manifestFile = (0,names/* manifestFromDir */.NZ)()) {
    if (!request)
        return compressedOutput(rawListingScript(dir));
    const manifest = (0,quote/* shellQuote */.Z)(manifestFile);
    const seal = `echo ${JOINED}
if [ -f ${manifest} ]; then
  printf 'H %s\\nD %s\\nT %s\\n' "$(head -n 1 ${manifest})" "$(sed '$d' ${manifest} | sha256sum | cut -c1-64)" "$(tail -n 1 ${manifest})"
fi`;
    if (request === 'stdin') {
        return joinedOrRaw(dir, manifest, `${seal}
{ ${findEntries(`! -path ${CONTROL}`, '\\n')}
echo --
cat
} | awk -v M=${manifest} '${JOIN_AWK_LISTING_FIRST}' || exit 1
echo ${RAW}
${findEntries(`-path ${CONTROL}`)}`);
    }
    const expected = comparedFiles(request).map(f => `${request.digests.get(f.relativePath)} ${f.size} ${(f.mode & 0o777).toString(8)} ${f.relativePath}`);
    // The here-document ends at a line no planned path can make (each line starts with a sha256).
    const joined = `${seal}
{ cat <<'EC2_PUSH_PLANNED'
${expected.join('\n')}
EC2_PUSH_PLANNED
echo --
${findEntries(`! -path ${CONTROL}`, '\\n')}
} | awk -v M=${manifest} '${JOIN_AWK}' || exit 1
echo ${RAW}
${findEntries(`-path ${CONTROL}`)}`;
    return joinedOrRaw(dir, manifest, joined);
}
/** `joined` where the instance has awk, sha256sum and sed; else the listing and the manifest whole. */
function joinedOrRaw(dir, manifest, joined) {
    return compressedOutput(`( cd -- ${(0,quote/* shellQuote */.Z)(dir)} 2>/dev/null || exit 0
if command -v awk >/dev/null 2>&1 && command -v sha256sum >/dev/null 2>&1 && command -v sed >/dev/null 2>&1; then
${joined}
else
${findEntries()}
printf '\\0--ec2-push-manifest--\\0'
cat -- ${manifest} 2>/dev/null
fi
exit 0 )
`);
}
function parseSnapshot(compressed, request) {
    const out = expandCompressed(compressed);
    const j = out.indexOf(`${JOINED}\n`);
    if (j < 0) {
        const at = out.indexOf(MANIFEST_SEPARATOR);
        if (at < 0)
            return { listing: parseListing(out), manifestText: '' };
        return {
            listing: parseListing(out.slice(0, at)),
            manifestText: out.slice(at + MANIFEST_SEPARATOR.length)
        };
    }
    const raw = out.indexOf(`${RAW}\n`, j);
    if (raw < 0)
        throw new Error('the instance sent a truncated comparison');
    const listing = parseListing(out.slice(raw + RAW.length + 1));
    const missing = new Set();
    const manifestSha = new Map();
    const claim = {};
    let sameCount;
    for (const line of out.slice(j + JOINED.length + 1, raw).split('\n')) {
        const kind = line.slice(0, 2);
        const rest = line.slice(2);
        if (kind === 'R ') {
            const sp = rest.indexOf(' ');
            const e = parseEntry(rest.slice(sp + 1));
            if (!e)
                continue;
            listing.set(e.path, e);
            if (/^[0-9a-f]{64}$/.test(rest.slice(0, sp)))
                manifestSha.set(e.path, rest.slice(0, sp));
        }
        else if (kind === 'M ')
            missing.add(rest);
        else if (kind === 'S ')
            sameCount = Number(rest);
        else if (kind === 'H ')
            claim.header = rest;
        else if (kind === 'D ')
            claim.bodyDigest = rest;
        else if (kind === 'T ')
            claim.sealLine = rest;
    }
    if (sameCount === undefined)
        throw new Error('the instance sent a truncated comparison');
    const compared = new Set(request ? comparedFiles(request).map(f => f.relativePath) : []);
    const seal = claim.header !== undefined && claim.bodyDigest && claim.sealLine !== undefined
        ? claim
        : undefined;
    return { listing, manifestText: '', joined: { seal, missing, sameCount, manifestSha, compared } };
}

// EXTERNAL MODULE: ./build/action/remote/probes.js
var probes = __webpack_require__(7147);
;// CONCATENATED MODULE: ./build/action/remote/verify.js


/**
 * Hashing files on the instance, the scripts the upload's verification and sync's comparison run
 * and how their answers are read (docs/remote-protocol.md, "Verification"). Everything the
 * TypeScript side trusts here is what the instance's own sha256sum (or OpenSSL) printed.
 */
/** `sha256sum` of these absolute paths, listed as sha256sum lists (parseSha256sum reads it). */
function sha256sumScript(paths) {
    return `sha256sum -- ${paths.map(quote/* shellQuote */.Z).join(' ')}`;
}
/**
 * `sha256sum` of these paths relative to `dir`, through xargs (no command-line limit). Each goes as
 * `./<path>`: sha256sum reads a file named `-` as its stdin even after `--`.
 */
function hashUnderScript(dir, rels) {
    return `cd -- ${(0,quote/* shellQuote */.Z)(dir)} || exit 1\n${(0,quote/* nulList */.S)(rels.map(rel => `./${rel}`))} | xargs -0 sha256sum --\n`;
}
/** hashUnderScript's answer: relative path -> hex digest. */
function parseHashUnder(output) {
    const out = new Map();
    for (const [p, digest] of parseSha256sum(output))
        out.set(p.startsWith('./') ? p.slice(2) : p, digest);
    return out;
}
/** Undo sha256sum's escaping of a file name (a line starting with `\` has `\\`, `\n`, `\r` escaped). */
function unescapeSha256sumName(name) {
    return name.replace(/\\(\\|n|r)/g, (_m, c) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}
/** Parse `sha256sum` output into path -> hex digest. */
function parseSha256sum(output) {
    const out = new Map();
    for (const line of output.split('\n')) {
        if (!line)
            continue;
        const escaped = line.startsWith('\\');
        const m = /^\\?([0-9a-f]{64}) [ *](.*)$/s.exec(line);
        if (!m)
            continue;
        out.set(escaped ? unescapeSha256sumName(m[2]) : m[2], m[1]);
    }
    return out;
}
/**
 * sha256 of files whose names a sha256sum listing cannot carry (a line break, which BusyBox does not
 * escape): each file read on stdin, its digest printed after its index in `paths`. A process a file,
 * so only for such names.
 */
function indexedSha256Script(paths) {
    return paths.map((p, i) => `printf '%s ' ${i}; sha256sum < ${(0,quote/* shellQuote */.Z)(p)} || echo`).join('\n') + '\n';
}
/** indexedSha256Script's answer: path -> hex digest (a file that could not be read is left out). */
function parseIndexedSha256(output, paths) {
    const out = new Map();
    for (const line of output.split('\n')) {
        const m = /^(\d+) ([0-9a-f]{64})(?:\s|$)/.exec(line);
        const p = m ? paths[Number(m[1])] : undefined;
        if (m && p !== undefined)
            out.set(p, m[2]);
    }
    return out;
}
/**
 * Paths sha256sum -c reads as they are: a backslash or a line break in a name would need its escaped
 * form, which older coreutils read differently. Such files are hashed with sha256sumScript instead.
 */
function checkable(remotePath) {
    return !/[\\\n\r]/.test(remotePath);
}
/** The comparison on the instance: the expected sums go up in a here-document (no line starts like its end). */
function checkScript(expected) {
    const lines = [...expected].map(([p, digest]) => `${digest}  ${p}`);
    return `sha256sum --quiet --strict -c - <<'EC2_PUSH_SUMS'\n${lines.join('\n')}\nEC2_PUSH_SUMS`;
}
/**
 * What checkScript's run said: the paths that failed, or undefined when the answer is not one
 * `sha256sum --quiet -c` gives (the option is missing, or a line names no file that was sent).
 */
function parseCheck(r, expected) {
    if (r.code === 0 && r.stdout === '')
        return new Set();
    if (r.code !== 1)
        return undefined;
    const failed = new Set();
    for (const line of r.stdout.split('\n')) {
        if (!line)
            continue;
        const p = line.replace(/: FAILED( open or read)?$/, '');
        if (p === line || !expected.has(p))
            return undefined;
        failed.add(p);
    }
    return failed.size ? failed : undefined;
}
/** The block the streamed hash reads in; its stdin announces how many more blocks are written. */
const STREAM_BLOCK = 64 * 1024;
/**
 * The line that sets `$h` to the large-file hash command: the probe's choice (remote/probes.ts),
 * or, where no probe answered, OpenSSL if it is on PATH (a broken one then gives no digest, which
 * never confirms a file).
 */
function hasherLine(hasher) {
    if (hasher === 'openssl')
        return `h='${probes/* OPENSSL_SHA256 */.rT}'`;
    if (hasher === 'sha256sum')
        return 'h=sha256sum';
    return `if command -v openssl >/dev/null 2>&1; then h='${probes/* OPENSSL_SHA256 */.rT}'; else h=sha256sum; fi`;
}
/**
 * The hash taken while a file is being written: it reads `remotePath` in order, `n` blocks for each
 * line `n` on stdin, into one hash (hasherLine's), and prints the hash's line when stdin ends. Run
 * as `sh -c`.
 */
function streamHashScript(remotePath, hasher) {
    return `exec 3< ${(0,quote/* shellQuote */.Z)(remotePath)} || exit 1
${hasherLine(hasher)}
# shellcheck disable=SC2086 # $h is a command and its options, split on purpose
{ while read -r n; do dd bs=${STREAM_BLOCK} count="$n" <&3 2>/dev/null || exit 1; done; } | $h`;
}
/**
 * The digest streamHashScript printed, or undefined if it failed: exit 0 and one line whose first
 * word is 64 hex digits (`<hex>  -` from sha256sum, `<hex> *stdin` from OpenSSL), nothing else.
 */
function parseStreamHash(r) {
    const m = r?.code === 0 ? /^([0-9a-f]{64}) [^\n]*\n?$/.exec(r.stdout) : null;
    return m?.[1];
}

;// CONCATENATED MODULE: ./build/action/remote/range-hash.js


/**
 * The instance's half of the range upload's verification (transfer/striped.ts): the sha256 of byte
 * ranges of the files being written, each asked for as soon as its bytes are, so the instance
 * hashes while the rest goes up and only a range that came out wrong has to be sent again. One
 * script per connection serves every file: each request names its file. Ranges start on
 * RANGE_BLOCK boundaries (dd's skip counts blocks; `iflag=skip_bytes` is GNU only) and the last
 * one of a file runs to its end.
 */
const RANGE_BLOCK = 1024 * 1024;
/**
 * Reads `skip count path` lines on stdin (skip and count in RANGE_BLOCKs; count 0: the whole file;
 * the path as requestPath writes it) and answers each with `skip path digest`, the digest empty when
 * the file is not there or the hash printed no 64-hex digest (so a broken hasher's text never
 * reaches the answer line, let alone confirms). Hashes with hasherLine's command. A whole file is
 * hashed from a redirect: no dd, no pipe (files sent as one range are many, and each process
 * costs). Run as `sh -c` or on a shell session, its stdin a stream.
 */
function rangeHashScript(hasher) {
    return `${hasherLine(hasher)}
while read -r s c p; do
  # shellcheck disable=SC2059 # octal escapes, which printf's format turns back into the path's bytes
  case $p in
  :*) f=\${p#:} ;;
  *) f=$(printf "\${p#=}"; echo x); f=\${f%x} ;;
  esac
  d=
  # shellcheck disable=SC2086 # $h is a command and its options, split on purpose
  if [ ! -f "$f" ]; then :
  elif [ "$c" = 0 ]; then d=$($h <"$f")
  else d=$(dd if="$f" bs=${RANGE_BLOCK} skip="$s" count="$c" 2>/dev/null | $h)
  fi
  d=\${d%% *}
  case $d in *[!0-9a-f]*) d= ;; esac
  [ \${#d} -eq 64 ] || d=
  printf '%s %s %s\\n' "$s" "$p" "$d"
done`;
}
/** rangeHashScript in `dir`, for paths relative to it asked as `./<path>` (a sync's whole files). */
function rangeHashUnderScript(dir, hasher) {
    return `cd -- ${(0,quote/* shellQuote */.Z)(dir)} || exit 1\n${rangeHashScript(hasher)}`;
}
/**
 * A path as the last word of a request: as it is after a `:` when \`read -r\` keeps it whole (no
 * line break, no backslash), else after a `=` with every byte but letters, digits and `/._-` as a
 * three-digit octal escape for printf's format.
 */
function requestPath(p) {
    if (!/[\n\r\\]/.test(p) && p.trim() === p)
        return `:${p}`;
    let out = '=';
    for (const b of Buffer.from(p, 'utf8')) {
        out += /[A-Za-z0-9/._-]/.test(String.fromCharCode(b))
            ? String.fromCharCode(b)
            : `\\${b.toString(8).padStart(3, '0')}`;
    }
    return out;
}
/** The request for the range [offset, offset + length) of `path` (requestPath's); `whole`: the file entire. */
function rangeHashRequest(path, offset, length, whole = false) {
    return `${offset / RANGE_BLOCK} ${whole ? 0 : Math.ceil(length / RANGE_BLOCK)} ${path}\n`;
}
/** One answer line: the range's offset in bytes, its path as requested, its digest ('' if it could not be read). */
function parseRangeHash(line) {
    const m = /^(\d+) ([:=].*?) ?([0-9a-f]{64})?$/s.exec(line);
    return m ? { offset: Number(m[1]) * RANGE_BLOCK, path: m[2], digest: m[3] ?? '' } : undefined;
}

;// CONCATENATED MODULE: ./build/action/transfer/verify.js








/** Verifying uploaded files: on the instance (the scripts are in remote/verify.ts) or by reading them back. */
/** Keep each command line well under any server's limit. */
const MAX_COMMAND_BYTES = 64 * 1024;
const verify_probes = new WeakMap();
function verdictOf(answer) {
    if (!answer.sha256sum)
        return { method: 'read-back' };
    return { method: 'sha256sum', large: answer.openssl ? 'openssl' : 'sha256sum' };
}
/**
 * Can we run `sha256sum` on the instance? (An SFTP-only account cannot exec; then we read files
 * back.) Asked once per connection; a deploy may ask early so the answer is ready for the upload.
 */
function probeVerifyMethod(conn) {
    let probe = verify_probes.get(conn);
    if (!probe) {
        probe = probeOnce(conn);
        // Asked early and awaited later, or not at all: a rejection is not unhandled meanwhile.
        probe.catch(() => { });
        verify_probes.set(conn, probe);
    }
    return probe.then(v => v.method);
}
/**
 * `conn` takes the probe's answer of `from`, another connection with the same login to the same
 * instance (asked there if it was not yet), instead of asking its own: each probe is an exec, with
 * a session, a shell, OpenSSL and sha256sum on the instance. Nothing when `conn` has one already.
 */
function shareVerifyMethod(conn, from) {
    if (verify_probes.has(conn) || conn === from)
        return;
    void probeVerifyMethod(from);
    verify_probes.set(conn, verify_probes.get(from));
}
/** The probe's answer, learnt by a script that asked it on the way (the deploy lock's). */
function knowVerifyMethod(conn, answer) {
    if (!verify_probes.has(conn))
        verify_probes.set(conn, Promise.resolve(verdictOf(answer)));
}
/**
 * What the scripts that hash large files on this connection's instance use, as its probe found;
 * undefined when no probe was asked there (or it failed), and the script chooses for itself.
 */
async function largeFileHasher(conn) {
    return (await verify_probes.get(conn)?.catch(() => undefined))?.large;
}
async function probeOnce(conn) {
    try {
        return verdictOf((0,probes/* readProbe */.f1)(await execScript(conn, probes/* SHA256SUM_PROBE */.mM)));
    }
    catch (err) {
        // A login shell that prints when it starts is said as it is, not worked around.
        if (err instanceof errors/* UserError */.yo)
            throw err;
        return { method: 'read-back' };
    }
}
/** Remote sha256 of many files with as few `sha256sum` execs as the command-line limit allows. */
async function remoteSha256(conn, paths) {
    const result = new Map();
    // A name with a line break would split BusyBox's listing (GNU escapes it): hashed one by one.
    const odd = [];
    const listed = [];
    for (const p of paths)
        (checkable(p) ? listed : odd).push(p);
    if (odd.length) {
        const r = await execScript(conn, indexedSha256Script(odd));
        for (const [p, digest] of parseIndexedSha256(r.stdout, odd))
            result.set(p, digest);
    }
    let batch = [];
    let bytes = 0;
    const flush = async () => {
        if (batch.length === 0)
            return;
        const r = await execScript(conn, sha256sumScript(batch));
        for (const [p, digest] of parseSha256sum(r.stdout))
            result.set(p, digest);
        batch = [];
        bytes = 0;
    };
    for (const p of listed) {
        const quoted = (0,quote/* shellQuote */.Z)(p).length + 1;
        if (bytes + quoted > MAX_COMMAND_BYTES)
            await flush();
        batch.push(p);
        bytes += quoted;
    }
    await flush();
    return result;
}
/**
 * sha256 of whole files under `dir` (relative paths), each by a process of the large-file hasher
 * (largeFileHasher; rangeHashScript asked for whole files): relative path -> digest. A file that
 * could not be hashed has no entry, and counts as different.
 */
async function remoteWholeSha256(conn, dir, rels) {
    const out = new Map();
    if (rels.length === 0)
        return out;
    const asked = new Map(rels.map(rel => [requestPath(`./${rel}`), rel]));
    const script = rangeHashUnderScript(dir, await largeFileHasher(conn));
    const stdin = [...asked.keys()].map(p => rangeHashRequest(p, 0, 0, true)).join('');
    const r = await execScript(conn, script, { stdin });
    for (const line of r.stdout.split('\n')) {
        const answer = parseRangeHash(line);
        const rel = answer?.digest && answer.offset === 0 ? asked.get(answer.path) : undefined;
        if (rel !== undefined)
            out.set(rel, answer.digest);
    }
    return out;
}
/** Connections whose sha256sum cannot `--quiet -c` (BusyBox): remoteCheck is not tried again. */
const noCheck = new WeakSet();
/**
 * Verify on the instance: the expected sha256 go up with the script and `sha256sum --quiet -c`
 * compares them there, naming only the files that differ or cannot be read. sha256sum's own listing
 * is 116 bytes a file, and over ssm what the instance sends comes at the agent's pace (about 1 MB/s):
 * for 2,000 small files that listing was a third of a second. Resolves with the paths that failed;
 * undefined where the instance cannot answer this way, and the caller hashes with remoteSha256.
 * (--strict: a line sha256sum could not read fails the run rather than being skipped unchecked.)
 * The answer is trusted exactly as sha256sum's listing is.
 */
async function remoteCheck(conn, expected) {
    if (expected.size === 0)
        return new Set();
    if (noCheck.has(conn))
        return undefined;
    const failed = parseCheck(await execScript(conn, checkScript(expected)), expected);
    if (!failed)
        noCheck.add(conn);
    return failed;
}
/** Announce written blocks to streamRemoteSha256's reader this many at a time. */
const STREAM_STEP_BLOCKS = 64;
/**
 * sha256 of a remote file computed while it is being written: one exec reads the file in order, a
 * block range at a time as the client announces that range complete, into a single hash (OpenSSL's
 * where the probe saw it work, remote/probes.ts). The
 * instance hashes during the upload instead of after it, so a large file's verification costs
 * about nothing at the end. Announcements are whole blocks; the last one reads to the end.
 */
function streamRemoteSha256(conn, remotePath) {
    const feed = new external_node_stream_.PassThrough();
    const result = largeFileHasher(conn).then(h => execScript(conn, streamHashScript(remotePath, h), { stdin: feed }));
    result.catch(() => { });
    let announced = 0;
    return {
        advance(bytes) {
            if (feed.writableEnded)
                return;
            const blocks = Math.floor(bytes / STREAM_BLOCK);
            // Every announcement costs a dd process on the instance: a few MiB at a time, not every write.
            if (blocks - announced >= STREAM_STEP_BLOCKS) {
                feed.write(`${blocks - announced}\n`);
                announced = blocks;
            }
        },
        async finish(size) {
            if (feed.writableEnded)
                return undefined; // cancelled
            const total = Math.ceil(size / STREAM_BLOCK);
            if (total > announced)
                feed.write(`${total - announced}\n`);
            announced = total;
            feed.end();
            return parseStreamHash(await result.catch(() => undefined));
        },
        cancel() {
            if (!feed.writableEnded)
                feed.end();
        }
    };
}
/** Fallback: read a remote file back over SFTP and hash it here (pipelined reads). */
async function readBackSha256(sftp, remotePath, size) {
    const hash = (0,external_node_crypto_.createHash)('sha256');
    const handle = await sftp.open(remotePath, 'r', 0);
    const CHUNK = 32 * 1024;
    const DEPTH = 16;
    try {
        let next = 0;
        const pending = [];
        const issue = () => {
            const pos = next;
            const len = Math.min(CHUNK, size - pos);
            next += len;
            const buf = Buffer.allocUnsafe(len);
            pending.push(sftp.read(handle, buf, len, pos).then(n => {
                if (n !== len)
                    throw new Error(`short read of ${remotePath} at ${pos}`);
                return buf;
            }));
        };
        while (next < size && pending.length < DEPTH)
            issue();
        while (pending.length) {
            hash.update(await pending.shift());
            if (next < size)
                issue();
        }
    }
    finally {
        await sftp.closeHandle(handle).catch(() => { });
    }
    return hash.digest('hex');
}

// EXTERNAL MODULE: ./build/action/util/sha256.js
var util_sha256 = __webpack_require__(1129);
;// CONCATENATED MODULE: ./build/action/sync/manifest.js



/**
 * The manifest the action leaves beside the files it deployed: one line per file, its sha256, mode
 * and the stamp (inode, size, ctime) it had right after it was verified, then a seal: an HMAC, with
 * a key derived from the deploy key (which the instance never sees), of the folder and the sha256
 * of every line above it. On the next sync an entry counts only when the seal is intact and the
 * file's stamp is unchanged; anything else is hashed on the instance. With one-time keys there is
 * no lasting secret, so no manifest is written or trusted.
 *
 * The seal covers the lines' digest rather than the lines so the instance can do the comparing
 * (remote/sync-snapshot.ts): it reports the digest, and the lines themselves never cross the network. The
 * digest then comes from the instance's sha256sum, which the upload's verification trusts already.
 */
/** The sealing key, or undefined when no lasting private key was given. */
function manifestKey(privateKey) {
    if (!privateKey)
        return undefined;
    return (0,external_node_crypto_.createHmac)('sha256', 'ec2-push manifest key v1').update(privateKey.trim()).digest();
}
function seal(key, dir, bodyDigest) {
    return (0,external_node_crypto_.createHmac)('sha256', key).update(`${dir}\n${bodyDigest}`).digest('hex');
}
/** A manifest's lines and seal, in the order given (paths the format cannot hold are left out). */
function formatManifest(key, dir, entries) {
    const lines = [MANIFEST_HEADER];
    for (const [rel, e] of entries)
        if (isLinePath(rel))
            lines.push(manifestLine(rel, e));
    const body = lines.join('\n') + '\n';
    return `${body}${sealLine(key, dir, (0,util_sha256/* sha256Hex */.fg)(Buffer.from(body, 'utf8')))}\n`;
}
function sealLine(key, dir, bodyDigest) {
    return `hmac ${seal(key, dir, bodyDigest)}`;
}
/** Whether a manifest with these parts may be trusted; `reason` says why not. */
function checkSeal(claim, key, dir) {
    if (!claim)
        return { reason: 'no manifest' };
    if (!key)
        return { reason: 'no lasting key to check a manifest with (one-time keys)' };
    if (claim.header !== MANIFEST_HEADER) {
        return {
            reason: /^ec2-push-manifest \d+$/.test(claim.header)
                ? 'the manifest was written by an older ec2-push (rewritten by this deploy)'
                : 'the manifest is malformed'
        };
    }
    const given = Buffer.from(claim.sealLine.replace(/^hmac /, ''), 'hex');
    const want = Buffer.from(seal(key, dir, claim.bodyDigest), 'hex');
    if (!claim.sealLine.startsWith('hmac ') || given.length !== want.length || !(0,external_node_crypto_.timingSafeEqual)(given, want)) {
        return {
            reason: 'the manifest seal does not match (edited, copied from elsewhere, or written with another key)'
        };
    }
    return {};
}
/** Parse and check a whole manifest (where the instance could not compare); `reason` says why it is not trusted. */
function parseManifest(text, key, dir) {
    if (!text)
        return { reason: 'no manifest' };
    const trimmed = text.endsWith('\n') ? text.slice(0, -1) : text;
    const at = trimmed.lastIndexOf('\n');
    const body = text.slice(0, at + 1);
    const claim = {
        header: text.slice(0, text.indexOf('\n') >>> 0),
        bodyDigest: (0,util_sha256/* sha256Hex */.fg)(Buffer.from(body, 'utf8')),
        sealLine: trimmed.slice(at + 1)
    };
    const { reason } = checkSeal(at < 0 ? undefined : claim, key, dir);
    if (reason)
        return { reason: at < 0 ? 'the manifest is malformed' : reason };
    const entries = new Map();
    for (const line of body.split('\n').slice(1)) {
        const e = parseManifestLine(line);
        if (e)
            entries.set(e[0], e[1]);
    }
    return { entries };
}

;// CONCATENATED MODULE: ./build/action/sync/compare.js





/**
 * Files from this size on are hashed one process each by the large-file hasher (OpenSSL where the
 * probe saw it work: a fraction of sha256sum's CPU); smaller ones share one sha256sum through xargs.
 */
const WHOLE_HASH_BYTES = 8 * 1024 * 1024;
/**
 * Compare the planned files with what `dir` on the instance holds: same size and mode, and the
 * same sha256, taken from the sealed manifest when the file's stamp is unchanged, else computed
 * there (small files by one `sha256sum` through xargs, large ones by the large-file hasher). Reads
 * only. Without local digests, only lists.
 */
async function compareWithRemote(conn, dir, files, localDigests, key, snapshot, 
/** The manifest, named from inside `dir` (when the snapshot is read here). */
manifestFile) {
    const request = localDigests && { files, digests: localDigests };
    const snap = snapshot ?? (await readSnapshot(conn, dir, request, manifestFile));
    const { listing, joined } = snap;
    const planned = new Set(files.map(f => f.relativePath));
    // A listed entry where the set has a folder is a symbolic link to one (find does not follow it): the
    // deploy writes through it, so it is never an extra to delete.
    const folders = new Set(files.flatMap(f => ancestors(f.relativePath)));
    const extras = [...listing.keys()].filter(rel => !planned.has(rel) && !folders.has(rel)).sort();
    const carried = new Set();
    if (!localDigests) {
        // Only the listing is wanted (delete, protect): everything counts as changed.
        return { changed: files, same: [], extras, hashedRemotely: 0, manifest: 'not compared', listing, carried };
    }
    // The manifest's sha256 for a file as listed, when the manifest is trusted and records this stamp.
    let manifestSha;
    let reason;
    if (joined) {
        reason = checkSeal(joined.seal, key, dir).reason;
        manifestSha = rel => (reason ? undefined : joined.manifestSha.get(rel));
    }
    else {
        const parsed = parseManifest(snap.manifestText, key, dir);
        reason = parsed.reason;
        manifestSha = (rel, e) => {
            const m = parsed.entries?.get(rel);
            return m && m.stamp === e.stamp ? m.sha256 : undefined;
        };
    }
    const known = new Map();
    const toHash = [];
    const candidates = [];
    const changed = [];
    // Files the instance found as the manifest records them (nothing about them came back).
    const foundSame = [];
    for (const f of files) {
        if (joined?.compared.has(f.relativePath) && !listing.has(f.relativePath)) {
            if (joined.missing.has(f.relativePath))
                changed.push(f);
            else
                foundSame.push(f);
            continue;
        }
        const e = listing.get(f.relativePath);
        if (!e || e.type !== 'file' || e.size !== f.size || (e.mode & 0o777) !== (f.mode & 0o777)) {
            changed.push(f);
            continue;
        }
        candidates.push(f);
        const sha = manifestSha(f.relativePath, e);
        if (sha)
            known.set(f.relativePath, sha);
        else
            toHash.push(f.relativePath);
    }
    // Their word counts only under an intact seal, and when their number is the instance's own count.
    const sameTrusted = !!joined && !reason && foundSame.length === joined.sameCount;
    for (const f of foundSame) {
        candidates.push(f);
        if (sameTrusted) {
            known.set(f.relativePath, localDigests.get(f.relativePath));
            carried.add(f.relativePath);
        }
        else
            toHash.push(f.relativePath);
    }
    const trusted = known.size;
    if (toHash.length) {
        // The instance's size equals the planned one for every file hashed there (a candidate).
        const sizes = new Map(files.map(f => [f.relativePath, f.size]));
        const large = toHash.filter(rel => sizes.get(rel) >= WHOLE_HASH_BYTES);
        const rest = large.length ? toHash.filter(rel => sizes.get(rel) < WHOLE_HASH_BYTES) : toHash;
        const [listed, whole] = await Promise.all([
            rest.length
                ? runScript(conn, hashUnderScript(dir, rest)).then(r => parseHashUnder(r.stdout))
                : new Map(),
            remoteWholeSha256(conn, dir, large)
        ]);
        for (const [rel, digest] of [...listed, ...whole])
            known.set(rel, digest);
    }
    const same = [];
    for (const f of candidates) {
        if (known.get(f.relativePath) === localDigests.get(f.relativePath))
            same.push(f);
        else
            changed.push(f);
    }
    return {
        changed,
        same,
        extras,
        hashedRemotely: toHash.length,
        manifest: reason ? `manifest not used: ${reason}` : `manifest trusted for ${trusted} files`,
        listing,
        carried
    };
}
/** What sync compares against, in one exec (remote/sync-snapshot.ts). */
async function readSnapshot(conn, dir, request, manifestFile) {
    return parseSnapshot(await runScriptOk(conn, snapshotScript(dir, request, manifestFile), `Reading ${dir}`), request);
}
/** `a/b/c` -> `a`, `a/b`. */
function ancestors(rel) {
    const parts = rel.split('/');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

;// CONCATENATED MODULE: ./build/action/sync/protect.js
function protect_globToRegExp(glob) {
    let re = '';
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === '*') {
            if (glob[i + 1] === '*') {
                i++;
                if (glob[i + 1] === '/') {
                    i++;
                    re += '(?:.*/)?';
                }
                else
                    re += '.*';
            }
            else
                re += '[^/]*';
        }
        else if (c === '?')
            re += '[^/]';
        else
            re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`, 's');
}
function protectMatcher(patterns) {
    const regexps = patterns
        .map(p => p.trim().replace(/^\.\//, '').replace(/\/+$/, ''))
        .filter(Boolean)
        .map(p => (p.includes('/') ? protect_globToRegExp(p.replace(/^\//, '')) : protect_globToRegExp(`**/${p}`)));
    if (regexps.length === 0)
        return () => false;
    return rel => {
        const parts = rel.split('/');
        // The path itself or any folder above it.
        for (let n = parts.length; n > 0; n--) {
            const prefix = parts.slice(0, n).join('/');
            if (regexps.some(r => r.test(prefix)))
                return true;
        }
        return false;
    };
}

// EXTERNAL MODULE: ./build/action/transfer/file-writes.js
var file_writes = __webpack_require__(2414);
;// CONCATENATED MODULE: ./build/action/transfer/ranges.js


/**
 * How files are cut into ranges for the range upload (transfer/striped.ts), and the queue the
 * channels take a file's ranges from. One SFTP channel carries at most sshd's channel window (2 MiB)
 * per round trip, and one connection at most its TCP window: a file of STRIPE_MIN_BYTES or more is
 * written by every channel of every connection at once, each range at its offset. Files from
 * RANGED_MIN_BYTES go the same way as one range each, many files at once, so the channels stream
 * from one file into the next.
 */
const STRIPE_MIN_BYTES = 16 * 1024 * 1024;
const RANGED_MIN_BYTES = RANGE_BLOCK;
/** Ranges never smaller than one channel window (the tail), nor larger than a cheap re-send. */
const MIN_RANGE = 2 * RANGE_BLOCK;
const MAX_RANGE = 16 * RANGE_BLOCK;
function isStriped(file) {
    return file.size >= STRIPE_MIN_BYTES;
}
/** Files the range upload takes: striped ones, and those sent as one range. */
function isRanged(file) {
    return file.size >= RANGED_MIN_BYTES;
}
/** How many connections an upload of these files can keep busy: one a file, or all with a striped file. */
function connectionsUsable(files) {
    return files.some(isStriped) ? Infinity : files.length;
}
/** Bytes of small files (packs) each connection beyond the second is opened for. */
const SMALL_BYTES_PER_CONNECTION = 8 * 1024 * 1024;
/**
 * How many connections an upload of these files is worth when the user did not say
 * (`connections` empty; not over ssm, see deploy/context.ts): as connectionsUsable, but where every file is small (they go in packs,
 * transfer/pack.ts) two, and one more per SMALL_BYTES_PER_CONNECTION beyond 16 MiB. Every connection
 * costs a key exchange, a login, an sshd and a shell, in CPU on both ends; small files cost CPU
 * more than window, so beyond two connections (each moving sshd's 2 MiB channel window a round
 * trip, both ends' CPUs busy) more of them only share that CPU with their handshakes.
 */
function connectionsWorth(files) {
    const usable = connectionsUsable(files);
    if (files.some(f => f.size > file_writes/* SMALL_FILE_BYTES */.XG))
        return usable;
    const bytes = files.reduce((n, f) => n + f.size, 0);
    return Math.min(usable, Math.max(2, Math.ceil(bytes / SMALL_BYTES_PER_CONNECTION)));
}
/**
 * The ranges of one file not yet taken. New ranges shrink as the file runs out (a share of what is
 * left per lane, in whole RANGE_BLOCKs), so the channels finish close together instead of one
 * carrying a large last range alone; ranges handed back (their connection was cut, their digest
 * did not match) go out again first. A whole share, not less: each range costs the instance a dd
 * and a hash process of its own, and the shares still shrink by a lane's part at every take.
 */
class RangeQueue {
    size;
    lanes;
    next = 0;
    again = [];
    constructor(size, lanes) {
        this.size = size;
        this.lanes = lanes;
    }
    take() {
        const back = this.again.shift();
        if (back)
            return back;
        const remaining = this.size - this.next;
        if (remaining <= 0)
            return undefined;
        if (!isStriped(this)) {
            this.next = this.size;
            return { offset: 0, length: this.size, failures: 0 };
        }
        const share = Math.ceil(remaining / this.lanes / RANGE_BLOCK) * RANGE_BLOCK;
        let length = Math.min(MAX_RANGE, Math.max(MIN_RANGE, share));
        if (remaining - length < MIN_RANGE)
            length = remaining;
        const range = { offset: this.next, length, failures: 0 };
        this.next += length;
        return range;
    }
    putBack(range) {
        this.again.push(range);
    }
    /** Nothing left to hand out (ranges out may still come back). */
    get empty() {
        return this.again.length === 0 && this.next >= this.size;
    }
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./build/action/remote/lock.js
var lock = __webpack_require__(6971);
;// CONCATENATED MODULE: ./build/action/remote/pack.js





/**
 * Extracting a pack of small files (docs/remote-protocol.md, "Packs"): the upload sends many small
 * files as one ustar archive on a script's stdin (transfer/pack.ts) instead of an SFTP open, write and
 * close each. Each folder's members are extracted into a stage of the run in that folder (a temporary
 * folder, mode 700, made by the script), under their own names, so tar never writes a final path.
 * The archive's last member is the list of the others' sha256 (the upload hashes as it streams):
 * the script checks them with `sha256sum --quiet -c`, or lists their digests where sha256sum cannot
 * (BusyBox) and compares the list with its own. When every member is as sent, one `mv` per stage
 * (of at most MV_NAMES names) renames them over their final paths (each a rename(2): never
 * half-written, a link in the way replaced, not followed), instead of a request each over SFTP;
 * what a rename refused (a folder in the way) stays in its stage and is named in the answer, for the
 * upload to publish over SFTP, which says what is wrong. When tar or the check cannot run, the
 * script removes every member it may have extracted and the stages, so nothing of a failed pack
 * stays behind.
 */
const PACK_BEGIN = '--ec2-push-pack--';
const PACK_END = '--ec2-push-pack-end--';
/** Follows the check's answer when the script renamed the members itself (see parsePack). */
const PACK_MOVED = '--ec2-push-pack-moved--';
/** Names per `mv`: well under any ARG_MAX with the longest names ustar can carry. */
const MV_NAMES = 256;
/** The members' paths in the archive (relative to the pack's root), stage by stage. */
function stageMembers(stages) {
    return stages.flatMap(st => st.names.map(n => `${st.dir}/${n}`));
}
/**
 * The script: `root` is remote-path (or a release folder), `folders` the folders under it the
 * members are in (made over SFTP, so they have the modes the SFTP path gives folders; their mkdir
 * requests go out with the script, not answered first, so the script waits up to a second for each
 * to be there, and leaves the pack to SFTP when one is not: a round trip fewer when folders are new,
 * as in every release), `stages` where the members go (a stage per folder; the members' paths in
 * the archive are `<stage>/<name>`), `sums` the last member's (the sha256 list). Files come out with
 * the archive's modes exactly (umask 0 for tar alone), owned by the login (-o), modified when
 * extracted (-m), as an SFTP write leaves them. `marker` (a temporary's name under `root`) holds
 * the shell's process id while the script runs: when the deploy is gone (killed, cut), what it sent
 * may still be extracted for a while, and the clean-up waits for that first (waitForPacksScript).
 */
function packScript(root, folders, stages, sums, marker) {
    if (!/^[A-Za-z0-9._-]+$/.test(marker))
        throw new Error(`not a marker's name: ${marker}`);
    const q = (0,quote/* shellQuote */.Z)(sums);
    const members = stageMembers(stages);
    const stageList = stages.map(st => (0,quote/* shellQuote */.Z)(st.dir)).join(' ');
    const drop = `{ ec2_push_m | xargs -0 rm -f -- 2>/dev/null; rmdir -- ${stageList} 2>/dev/null; }`;
    // One mv per stage (no subshell: each process costs more than the renames), then one rmdir.
    const moves = stages.flatMap(st => {
        const into = (0,quote/* shellQuote */.Z)(external_node_path_.posix.dirname(st.dir));
        const out = [];
        for (let at = 0; at < st.names.length; at += MV_NAMES) {
            const names = st.names.slice(at, at + MV_NAMES).map(n => (0,quote/* shellQuote */.Z)(`${st.dir}/${n}`));
            out.push(`  mv -f -- ${names.join(' ')} ${into} 2>/dev/null`);
        }
        return out;
    });
    // A stage left (a rename refused): its number, then what is in it as `<number>/<name>`.
    const kept = stages.map((st, i) => `  [ ! -d ${(0,quote/* shellQuote */.Z)(st.dir)} ] || { echo ${i}; ( cd -- ${(0,quote/* shellQuote */.Z)(st.dir)} && ls -A1 ) | sed 's|^|${i}/|'; }`);
    const lines = [
        // tar would make a missing folder itself, with the archive's umask: the upload makes them (the
        // root too, on a first deploy). 100 waits of 10 ms (of 1 s, and fewer, where sleep takes whole
        // seconds only).
        `ec2_push_w() { ec2_push_t=0; while [ ! -d "$1" ]; do [ "$ec2_push_t" -lt 100 ] || return 1; sleep 0.01 2>/dev/null || { sleep 1; ec2_push_t=$((ec2_push_t + 49)); }; ec2_push_t=$((ec2_push_t + 1)); done; }`,
        `ec2_push_w ${(0,quote/* shellQuote */.Z)(root)} || exit 4`,
        `cd -- ${(0,quote/* shellQuote */.Z)(root)} || exit 1`,
        `ec2_push_m() { ${(0,quote/* nulList */.S)([...members, sums])}; }`,
        ...folders.map(d => `ec2_push_w ${(0,quote/* shellQuote */.Z)(d)} || exit 4`),
        `echo "$$" > ${marker} || exit 1`,
        `trap 'rm -f -- ${marker}' EXIT`,
        // Made here, so tar makes no folder (it would, with the archive's umask of 0).
        `mkdir -m 700 -- ${stageList} || { rmdir -- ${stageList} 2>/dev/null; exit 1; }`,
        // Without a pack to read (no tar), or when it stops half-way, what it wrote goes.
        `if ! (umask 0 && tar -x -m -o -f -); then`,
        `  ${drop}`,
        `  exit 2`,
        `fi`,
        `echo ${PACK_BEGIN}`,
        `ec2_push_ok=`,
        `ec2_push_c=$(sha256sum --quiet --strict -c -- ${q} 2>/dev/null); ec2_push_s=$?`,
        `if [ "$ec2_push_s" = 0 ] || { [ "$ec2_push_s" = 1 ] && [ -n "$ec2_push_c" ]; }; then`,
        `  echo "C $ec2_push_s"`,
        `  printf '%s\\n' "$ec2_push_c"`,
        `  [ "$ec2_push_s" = 0 ] && ec2_push_ok=1`,
        // The list's names, a line each (no member's name has a line break), hashed as sha256sum lists.
        `elif ec2_push_c=$(sed 's/^[0-9a-f]*  //' ${q} | tr '\\n' '\\0' | xargs -0 sha256sum --); then`,
        `  echo L`,
        `  printf '%s\\n' "$ec2_push_c"`,
        // Listed as the sums are written (same order, same form): equal only when every one matches.
        `  [ "$ec2_push_c" = "$(cat -- ${q})" ] && ec2_push_ok=1`,
        `else`,
        `  ${drop}`,
        `  exit 3`,
        `fi`,
        `rm -f -- ${q}`,
        `if [ -n "$ec2_push_ok" ]; then`,
        `  echo ${PACK_MOVED}`,
        ...moves,
        `  rmdir -- ${stageList} 2>/dev/null`,
        ...kept,
        `fi`,
        `echo ${PACK_END}`
    ];
    return lines.join('\n') + '\n';
}
/** The name of a pack's marker: a temporary of the run, told from its files' by what follows the token. */
function packMarkerName(token, n) {
    return (0,names/* tempName */.bL)(token, `pack${n}`);
}
/**
 * Wait (10 s at most) while a pack of run `token` is still being extracted anywhere under `root`: a
 * marker whose process is alive. Goes before the clean-up of a deploy that was killed, cut or
 * cancelled, so that it does not remove a folder tar is still writing in (tar would make it again).
 */
function waitForPacksScript(root, token) {
    const pattern = (0,quote/* shellQuote */.Z)(`${names/* TEMP_PREFIX */.MX}${(0,lock/* safeWord */.ms)(token)}.pack*`);
    return `( cd -- ${(0,quote/* shellQuote */.Z)(root)} 2>/dev/null || exit 0
ec2_push_n=0
while [ "$ec2_push_n" -lt 100 ]; do
  ec2_push_busy=
  # The markers' process ids (a word each; anything else is skipped below).
  ec2_push_ids=$(find . -name ${pattern} -type f -exec cat -- {} + 2>/dev/null)
  for ec2_push_p in $ec2_push_ids; do
    case $ec2_push_p in *[!0-9]* | '') continue ;; esac
    if kill -0 "$ec2_push_p" 2>/dev/null; then ec2_push_busy=1; fi
  done
  [ -n "$ec2_push_busy" ] || break
  sleep 0.1 2>/dev/null || sleep 1
  ec2_push_n=$((ec2_push_n + 1))
done ); :
`;
}
/**
 * The members a pack's run says are in place and as sent: all of them when nothing is verified
 * (`expected` undefined), else those its check passed or whose listed digest is the expected one;
 * those the script also renamed into place; the stages it left. Undefined when the run did not get
 * to the end (nothing it extracted stays: the script removed it).
 */
function parsePack(r, stages, expected) {
    const begin = r.stdout.indexOf(`${PACK_BEGIN}\n`);
    const end = r.stdout.lastIndexOf(`${PACK_END}\n`);
    if (r.code !== 0 || begin < 0 || end < begin)
        return undefined;
    let body = r.stdout.slice(begin + PACK_BEGIN.length + 1, end);
    const moved = body.indexOf(`${PACK_MOVED}\n`);
    const tail = moved < 0 ? undefined : body.slice(moved + PACK_MOVED.length + 1);
    if (moved >= 0)
        body = body.slice(0, moved);
    const good = expected ? checked(body, expected) : new Set(stageMembers(stages));
    if (!good)
        return undefined;
    const kept = new Set();
    const left = new Set();
    for (const line of tail === undefined ? [] : tail.split('\n')) {
        const m = /^(\d+)(?:\/(.*))?$/s.exec(line);
        const st = m ? stages[Number(m[1])] : undefined;
        if (!st)
            continue;
        kept.add(Number(m[1]));
        if (m[2] !== undefined)
            left.add(`${st.dir}/${m[2]}`);
    }
    // The script renames only when every member it was sent checked out; else every stage is left.
    const published = new Set();
    if (tail === undefined)
        stages.forEach((_, i) => kept.add(i));
    else
        for (const rel of good)
            if (!left.has(rel))
                published.add(rel);
    return { good, published, kept };
}
/** The check's answer (`C <status>` or `L`, then its lines): the members that are as sent. */
function checked(body, expected) {
    const nl = body.indexOf('\n');
    const head = nl < 0 ? body : body.slice(0, nl);
    const answer = nl < 0 ? '' : body.slice(nl + 1);
    const good = new Set();
    if (head === 'C 0' || head === 'C 1') {
        const failed = parseCheck({ code: Number(head.slice(2)), stdout: answer.trim() === '' ? '' : answer }, expected);
        if (!failed)
            return undefined;
        for (const p of expected.keys())
            if (!failed.has(p))
                good.add(p);
        return good;
    }
    if (head !== 'L')
        return undefined;
    const digests = parseSha256sum(answer);
    for (const [p, digest] of expected)
        if (digests.get(p) === digest)
            good.add(p);
    return good;
}

;// CONCATENATED MODULE: ./build/action/util/plain-path.js
/** A part of a path that is empty, `.` or `..` (or a leading or trailing `/`, which make an empty part). */
const ODD_PART = /(?:^|\/)\.{0,2}(?:\/|$)/;
/**
 * Whether `rel` is a relative path that path.posix.normalize leaves as it is and that climbs
 * nowhere: no empty, `.` or `..` part, no leading or trailing `/`. Planned files' paths are such;
 * the checks that need this run once a file, so a regular expression, not a split or a normalize.
 */
function isPlainRelative(rel) {
    return !ODD_PART.test(rel);
}

;// CONCATENATED MODULE: ./build/action/transfer/remote-path.js


/** The last root seen to be absolute and normalised, with no trailing `/` (a deploy has one or two). */
let plainRoot;
/**
 * Where a planned file goes on the instance: path.posix.join's answer, by concatenation where both
 * parts are already normal (every file of a deploy asks, several times: join normalises each).
 */
function remoteFilePath(remoteRoot, relativePath) {
    if (remoteRoot !== plainRoot) {
        const plain = remoteRoot.startsWith('/') &&
            external_node_path_.posix.normalize(remoteRoot) === remoteRoot &&
            (remoteRoot === '/' || !remoteRoot.endsWith('/'));
        if (!plain)
            return external_node_path_.posix.join(remoteRoot, relativePath);
        plainRoot = remoteRoot;
    }
    if (!isPlainRelative(relativePath))
        return external_node_path_.posix.join(remoteRoot, relativePath);
    return remoteRoot === '/' ? `/${relativePath}` : `${remoteRoot}/${relativePath}`;
}

;// CONCATENATED MODULE: ./build/action/transfer/ustar.js

/**
 * The POSIX ustar archive format, as far as the upload's packs use it (transfer/pack.ts): regular
 * files only, each a 512-byte header and its bytes padded to 512, two zero blocks at the end. GNU
 * tar and BusyBox tar both read it. A name goes in the header's 100-byte name field, or split at a
 * `/` into the 155-byte prefix and the name; a path that cannot be carried so is not packed.
 */
const BLOCK = 512;
/** The end of an archive: two zero blocks. */
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
/**
 * A relative path as a member's name (prefix and name fields, UTF-8), or undefined when it cannot be
 * one exactly: too long for the fields, a NUL, an empty part, a `.` or `..` part, or a leading `/`
 * (tar would change or refuse any of those).
 */
function ustarName(rel) {
    if (!carriable(rel))
        return undefined;
    const name = Buffer.from(rel, 'utf8');
    if (name.length <= NAME_BYTES)
        return { prefix: Buffer.alloc(0), base: name };
    // The prefix is what comes before a `/`; the rest must fit the name field and not be empty.
    for (let at = Math.min(PREFIX_BYTES, name.length - 2); at > 0; at--) {
        if (name[at] !== 0x2f)
            continue;
        if (name.length - at - 1 > NAME_BYTES)
            return undefined;
        return { prefix: name.subarray(0, at), base: name.subarray(at + 1) };
    }
    return undefined;
}
/** A path tar keeps as it is: relative, no NUL, no empty, `.` or `..` part. */
function carriable(rel) {
    return rel !== '' && !rel.includes('\0') && isPlainRelative(rel);
}
/** Whether a relative path can be a member's name exactly (ustarName; the name field alone without making a buffer). */
function fitsUstar(rel) {
    if (!carriable(rel))
        return false;
    return Buffer.byteLength(rel, 'utf8') <= NAME_BYTES || ustarName(rel) !== undefined;
}
function octal(buf, at, width, value) {
    // width - 1 digits and a NUL, as every tar writes them.
    let v = value;
    for (let i = width - 2; i >= 0; i--) {
        buf[at + i] = 0x30 + (v & 7);
        v = Math.floor(v / 8);
    }
    buf[at + width - 1] = 0;
}
/** The fields every member's header shares: owner and group 0, a regular file, the ustar magic. */
const TEMPLATE = (() => {
    const h = Buffer.alloc(BLOCK);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    h[156] = 0x30; // '0': a regular file
    h.write('ustar\0' + '00', 257, 8, 'latin1');
    return h;
})();
/**
 * A regular file's header: `rel` (fitsUstar), `mode` (permission bits), `size` bytes, modified at
 * `mtime` (seconds), owned by uid and gid 0 (the packs are extracted without restoring owners).
 */
function fileHeader(rel, mode, size, mtime) {
    const h = Buffer.allocUnsafe(BLOCK);
    writeFileHeader(h, 0, rel, mode, size, mtime);
    return h;
}
/**
 * fileHeader written into `buf` at `at` (its BLOCK bytes there are overwritten whole). Made from a
 * template and digits written in place: it runs once per small file, on the upload's critical path.
 */
function writeFileHeader(buf, at, rel, mode, size, mtime) {
    const parts = ustarName(rel);
    if (!parts)
        throw new Error(`not a ustar name: ${JSON.stringify(rel)}`);
    if (size >= 8 ** 11)
        throw new Error('too large for a ustar header');
    TEMPLATE.copy(buf, at);
    parts.base.copy(buf, at);
    octal(buf, at + 100, 8, mode & 0o777);
    octal(buf, at + 124, 12, size);
    octal(buf, at + 136, 12, Math.max(0, Math.floor(mtime)));
    parts.prefix.copy(buf, at + 345);
    // The checksum counts its own field as eight spaces.
    let sum = 8 * 0x20;
    for (let i = at; i < at + 148; i++)
        sum += buf[i];
    for (let i = at + 156; i < at + BLOCK; i++)
        sum += buf[i];
    // Six digits, a NUL and a space.
    octal(buf, at + 148, 7, sum);
    buf[at + 155] = 0x20;
}
/** A member's bytes in the archive: its header and its data padded to whole blocks. */
function memberBytes(size) {
    return BLOCK + Math.ceil(size / BLOCK) * BLOCK;
}
/** The zero bytes that pad `size` bytes of a member to a whole block. */
function padding(size) {
    const rest = size % BLOCK;
    return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

;// CONCATENATED MODULE: ./build/action/transfer/pack.js










/**
 * Small files in one pack (the script is remote/pack.ts): instead of an SFTP open, write and close
 * each, a batch of small files goes as one ustar archive on the stdin of one script on the
 * connection's shell, extracted under remote-path to the files' temporary names and checked there
 * by sha256 in the same script, which then renames them into place (one `mv` per folder). One round
 * trip for the batch's upload, verification and publication; what the script could not put in place
 * goes over SFTP as any other file (renamed from its stage when it checked out, sent again if not).
 * The archive is made as the channel takes it (a few files' bytes held at a time), each file read
 * and hashed once, as the SFTP path does.
 */
/** A pack's archive at most (about: a file over it closes the batch), and its files at most. */
const PACK_BYTES = 8 * 1024 * 1024;
const PACK_FILES = 4096;
/**
 * The archive goes to the instance in pieces of about this size, each read there by one dd: under
 * the shell's frame of 1 MiB (ssh/shell-session.ts) by more than a small file, so a piece is one frame.
 */
const PIECE_BYTES = 1024 * 1024 - 2 * (file_writes/* SMALL_FILE_BYTES */.XG + BLOCK);
/** A planned file's folder ('.' for the root) and name: its path is plain (util/plain-path.ts), no dirname needed. */
function folderAndName(rel) {
    const slash = rel.lastIndexOf('/');
    return slash < 0 ? { folder: '.', name: rel } : { folder: rel.slice(0, slash), name: rel.slice(slash + 1) };
}
/** Stage `n` in `folder`, relative to the root. */
function stageIn(folder, n) {
    const stage = (0,names/* stageName */.CT)(names/* RUN_TOKEN */.u8, n);
    return folder === '.' ? stage : `${folder}/${stage}`;
}
/** The file's place in a pack under `root`, or undefined when it goes by SFTP (too large, a name tar cannot carry exactly). */
function packMember(root, file) {
    if (file.size > file_writes/* SMALL_FILE_BYTES */.XG)
        return undefined;
    const final = remoteFilePath(root, file.relativePath);
    // Every stage's name has the same length: the one it will have is as long as this.
    const { folder, name } = folderAndName(file.relativePath);
    const rel = `${stageIn(folder, 0)}/${name}`;
    if (!fitsUstar(rel) || !checkable(rel))
        return undefined;
    return { file, final, temp: remoteFilePath(root, rel), rel };
}
/** Stages made by this process: each has its own name. */
let stagesMade = 0;
/**
 * The stages of a batch about to be sent under `root`: a new one per folder its members are in,
 * each member's `temp` and `rel` set in it (a stage is the pack's own: two packs in one folder
 * never share one, so neither removes the other's).
 */
function stagePack(root, batch) {
    const byFolder = new Map();
    for (const m of batch) {
        const { folder, name } = folderAndName(m.file.relativePath);
        let st = byFolder.get(folder);
        if (!st)
            byFolder.set(folder, (st = { dir: stageIn(folder, stagesMade++), names: [] }));
        st.names.push(name);
        m.rel = `${st.dir}/${name}`;
        m.temp = remoteFilePath(root, m.rel);
    }
    return [...byFolder.values()];
}
/**
 * Packs a connection sends at once, each on a shell of its own (the deploy keeps that many ready):
 * each shell's channel takes at most sshd's window (2 MiB) a round trip, and each pack is extracted
 * and checked while the other is sent.
 */
const PACKS_AT_ONCE = 2;
/** A batch is split for PACKS_AT_ONCE only where each part is at least this much archive. */
const SPLIT_MIN_BYTES = 1024 * 1024;
/**
 * `members` in batches a pack each, of at most PACK_BYTES of archive and PACK_FILES files, and in
 * `atOnce` batches about equal at least (the packs sent at once) where they are large enough.
 */
function packBatches(members, atOnce = 1) {
    const out = [];
    const total = members.reduce((n, m) => n + memberBytes(m.file.size), 0);
    const limit = Math.min(PACK_BYTES, Math.max(SPLIT_MIN_BYTES, Math.ceil(total / atOnce)));
    let batch = [];
    let bytes = 0;
    for (const m of members) {
        const size = memberBytes(m.file.size);
        if (batch.length && (bytes + size > limit || batch.length >= PACK_FILES)) {
            out.push(batch);
            batch = [];
            bytes = 0;
        }
        batch.push(m);
        bytes += size;
    }
    if (batch.length)
        out.push(batch);
    return out;
}
/** The archive of a batch, made as it is read: files that cannot be read now are left out (`skipped`). */
class PackArchive extends external_node_stream_.Readable {
    members;
    sumsRel;
    onBytes;
    next = 0;
    ended = false;
    skipped = [];
    sent = [];
    mtime = Math.floor(Date.now() / 1000);
    constructor(members, sumsRel, onBytes) {
        super();
        this.members = members;
        this.sumsRel = sumsRel;
        this.onBytes = onBytes;
    }
    building = false;
    /**
     * The next piece, made on the next turn of the event loop: the stream asks again as soon as a
     * piece is pushed, and made at once the pieces would all be made before the first is written to
     * the connection (its writes wait for the end of the turn) or the other connections' packs start.
     */
    _read() {
        if (this.ended || this.building)
            return;
        this.building = true;
        setImmediate(() => {
            this.building = false;
            if (!this.destroyed)
                this.piece();
        });
    }
    /**
     * A piece: its members' headers and bytes in one buffer, each file read straight into its place
     * and hashed there (no buffer of its own, no copy into the piece).
     */
    piece() {
        const from = this.next;
        let planned = 0;
        while (this.next < this.members.length && planned < PIECE_BYTES)
            planned += memberBytes(this.members[this.next++].file.size);
        // One byte more: the last file is read one byte past its size, to see that it grew.
        const piece = Buffer.allocUnsafe(planned + 1);
        let at = 0;
        for (let i = from; i < this.next; i++) {
            const m = this.members[i];
            let n;
            try {
                n = (0,file_writes/* readSmallFileInto */.CG)(m.file, piece, at + BLOCK);
            }
            catch {
                // The SFTP path reads it again and says what is wrong with it.
                this.skipped.push(m);
                continue;
            }
            m.sha256 = (0,util_sha256/* sha256Hex */.fg)(piece.subarray(at + BLOCK, at + BLOCK + n));
            writeFileHeader(piece, at, m.rel, m.file.mode, n, this.mtime);
            const end = at + memberBytes(n);
            piece.fill(0, at + BLOCK + n, end);
            at = end;
            this.sent.push(m);
            this.onBytes?.(n);
        }
        const parts = [piece.subarray(0, at)];
        if (this.next >= this.members.length) {
            const list = Buffer.from(this.sent.map(m => `${m.sha256}  ${m.rel}\n`).join(''), 'utf8');
            parts.push(fileHeader(this.sumsRel, 0o600, list.length, this.mtime), list, padding(list.length));
            parts.push(END_OF_ARCHIVE);
            this.ended = true;
        }
        this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        if (this.ended)
            this.push(null);
    }
}
/** Packs sent by this process: each has its own marker. */
let packs = 0;
/** Connections where a pack could not run at all (no tar, say): none is tried again. */
const unusable = new WeakSet();
function packsUsable(conn) {
    return !unusable.has(conn);
}
/** The script's exit statuses that say it left nothing extracted behind (see packScript). */
const CLEAN_EXITS = new Set([1, 2, 3, 4]);
/**
 * Send a batch in one pack under `root`, in `stages` (stagePack); `folders` are those its members
 * go in (there, or their mkdir requests sent: the script waits for them). The stages and the list
 * of sums are temporaries too, in `openTemps` while they may be on the instance (a stage the answer
 * names as left stays listed until the caller removes it), as the caller keeps the members'.
 * Resolves with what became of each member; rejects only when the connection is lost. `stop` ends
 * the archive early (the upload was cancelled): tar then finds it cut short, and the script removes
 * what it extracted, as for any other failed pack.
 */
async function sendPack(conn, root, folders, batch, stages, openTemps, onBytes, stop) {
    const sumsTemp = (0,names/* tempPathFor */.FD)(external_node_path_.posix.join(root, 'sums'));
    const sumsRel = external_node_path_.posix.basename(sumsTemp);
    const marker = packMarkerName(names/* RUN_TOKEN */.u8, packs++);
    const markerTemp = external_node_path_.posix.join(root, marker);
    const stageDirs = stages.map(st => remoteFilePath(root, st.dir));
    openTemps.add(sumsTemp);
    openTemps.add(markerTemp);
    for (const d of stageDirs)
        openTemps.add(d);
    const stream = new PackArchive(batch, sumsRel, onBytes);
    const script = packScript(root, folders, stages, sumsRel, marker);
    const cut = () => stream.destroy();
    stop?.addEventListener('abort', cut, { once: true });
    if (stop?.aborted)
        cut();
    const r = await execScript(conn, script, { stdin: stream }).finally(() => {
        stop?.removeEventListener('abort', cut);
        stream.destroy();
    });
    const expected = new Map(stream.sent.map(m => [m.rel, m.sha256]));
    const answer = parsePack(r, stages, expected);
    // An answer means the script ended, and its marker went with it.
    if (r.code !== null)
        openTemps.delete(markerTemp);
    if (!answer) {
        const clean = r.code !== null && CLEAN_EXITS.has(r.code);
        // A folder gone meanwhile says nothing of the instance; anything else, that packs do not work there.
        if (r.code !== 4)
            unusable.add(conn);
        if (clean)
            for (const t of [sumsTemp, ...stageDirs])
                openTemps.delete(t);
        return {
            published: [],
            good: [],
            rest: batch,
            stale: clean ? [] : stream.sent,
            gone: clean ? batch : stream.skipped,
            stages: clean ? [] : stageDirs
        };
    }
    openTemps.delete(sumsTemp);
    stageDirs.forEach((d, i) => answer.kept.has(i) || openTemps.delete(d));
    const { good, published } = answer;
    const sent = new Set(stream.sent);
    return {
        published: stream.sent.filter(m => published.has(m.rel)),
        good: stream.sent.filter(m => good.has(m.rel) && !published.has(m.rel)),
        rest: batch.filter(m => !sent.has(m) || !good.has(m.rel)),
        stale: stream.sent.filter(m => !good.has(m.rel)),
        gone: stream.skipped,
        stages: stageDirs.filter((_, i) => answer.kept.has(i))
    };
}

// EXTERNAL MODULE: ./build/action/util/retry.js
var retry = __webpack_require__(2046);
;// CONCATENATED MODULE: ./build/action/deploy/connection.js




/**
 * One target's SSH connection, kept across the steps of a deploy (lock, commands, upload, switch)
 * and reopened through the tunnel when it is lost.
 */
class TargetConnection {
    o;
    conn;
    opened = 0;
    /** Connection attempts after the first one. */
    reconnects = 0;
    /** The round trips this target's connections waited for, by phase. */
    trips = new RoundTrips();
    constructor(o) {
        this.o = o;
    }
    get label() {
        return this.o.target.label;
    }
    /** The live connection, if there is one now (nothing is opened). */
    get live() {
        return this.conn && !this.conn.isClosed ? this.conn : undefined;
    }
    /** A connection being opened, shared by every caller until it settles. */
    connecting;
    /** The live connection, or a new one (a single attempt; callers decide about retries). */
    get(signal) {
        if (this.conn && !this.conn.isClosed)
            return Promise.resolve(this.conn);
        this.conn = undefined;
        if (!this.connecting) {
            const opening = this.open(signal);
            this.connecting = opening;
            const settled = () => {
                if (this.connecting === opening)
                    this.connecting = undefined;
            };
            opening.then(settled, settled);
        }
        return this.connecting;
    }
    /**
     * Start connecting now, so the connection is ready (or on its way) when the first step wants it;
     * a failure here is forgotten and that step connects again. `signal` stops an unfinished attempt.
     */
    prewarm(signal) {
        this.get(signal).catch(() => { });
    }
    /** Wait until no connection attempt is under way (for a clean close). */
    async settle() {
        await this.connecting?.catch(() => { });
    }
    /** Set the onConnect hook, and call it now if a connection is already open. */
    setOnConnect(fn) {
        this.o.onConnect = fn;
        if (!this.conn || this.conn.isClosed)
            return;
        // The channels it opens count to connecting, as they do when the hook runs on connecting (a
        // connection can be up before the deploy has planned its files).
        const was = this.trips.connecting;
        this.trips.connecting = true;
        try {
            fn(this.conn);
        }
        finally {
            this.trips.connecting = was;
        }
    }
    async open(signal) {
        if (this.opened++ > 0)
            this.reconnects++;
        this.trips.connecting = true;
        try {
            return await this.connect(signal);
        }
        finally {
            this.trips.connecting = false;
        }
    }
    async connect(signal) {
        // Opening the tunnel counts as one wait, whatever it takes inside (a TCP connect for nlb; an API
        // call and a WebSocket for ssm and eice).
        const opened = this.trips.send();
        const stream = await this.o.target.tunnel.open(signal);
        this.trips.answer(opened);
        if (this.o.beforeConnect) {
            const pushed = this.trips.send();
            await this.o.beforeConnect(signal);
            this.trips.answer(pushed);
        }
        this.conn = await connectSsh({
            label: this.label,
            stream,
            login: this.o.login,
            hostKey: this.o.hostKey,
            loginRefused: this.o.loginRefused,
            roundTrips: this.trips,
            early: this.o.early
        });
        // Channels opened on connecting count to it.
        this.o.onConnect?.(this.conn);
        // What is waited for next, before the upload, is planning (the lock, reading the instance).
        if (this.trips.phase === 'connect')
            this.trips.phase = 'plan';
        return this.conn;
    }
    drop() {
        this.conn?.close();
        this.conn = undefined;
    }
    /**
     * Run an idempotent step. When the connection fails under it, reconnect with backoff and run it
     * again (up to `retries` times); an error on a live connection, or a UserError, is final.
     */
    async step(what, fn, signal) {
        for (let attempt = 1;; attempt++) {
            if (signal?.aborted)
                throw new errors/* UserError */.yo(`${what} on ${this.label} was cancelled.`);
            let conn;
            try {
                conn = await this.get(signal);
                return await fn(conn);
            }
            catch (err) {
                if (err instanceof errors/* UserError */.yo)
                    throw err;
                if (signal?.aborted)
                    throw new errors/* UserError */.yo(`${what} on ${this.label} was cancelled.`);
                const lost = !conn || conn.isClosed || err instanceof errors/* TransientError */.N_;
                if (!lost)
                    throw new errors/* UserError */.yo(`${what} on ${this.label}: ${(0,errors/* errorMessage */.gJ)(err)}`);
                if (attempt > this.o.retries) {
                    throw new errors/* UserError */.yo(`${what} on ${this.label}: ${(0,errors/* errorMessage */.gJ)(err)} (gave up after ${attempt} attempts)`);
                }
                this.drop();
                const delay = (0,retry/* backoffDelay */.EY)(attempt, this.o.backoffBaseMs, 15000);
                this.o.logger.info(`${this.label}: ${what}: ${(0,errors/* errorMessage */.gJ)(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${this.o.retries + 1})`);
                await (0,retry/* sleep */.yy)(delay);
            }
        }
    }
    close() {
        this.drop();
    }
}

;// CONCATENATED MODULE: ./build/action/remote/free-space.js

/**
 * The instance-side command that says which file system holds a folder and what is free on it: POSIX
 * `df -P` (one header line, then `filesystem blocks used available capacity mountpoint` in 1024-byte
 * blocks), asked about the folder or, when it does not exist yet, its nearest existing ancestor.
 */
function freeSpaceScript(dir) {
    return [
        // The name is data: single quotes keep a `$(...)` in it from running, which is what SC2016 asks about.
        '# shellcheck disable=SC2016',
        `d=${(0,quote/* shellQuote */.Z)(dir)}`,
        'while [ ! -d "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname -- "$d"); done',
        'df -P -- "$d"'
    ].join('\n');
}
/** Read `df -P` output; undefined when it is not what POSIX df prints. */
function parseFreeSpace(output) {
    const lines = output.trim().split('\n');
    if (lines.length < 2 || !/^Filesystem\s/.test(lines[0]))
        return undefined;
    // A long device name may push the figures onto a line of their own.
    const fields = lines.slice(1).join(' ').trim().split(/\s+/);
    if (fields.length < 6)
        return undefined;
    const [filesystem, blocks, , available] = fields;
    if (!/^\d+$/.test(blocks) || !/^\d+$/.test(available))
        return undefined;
    return {
        filesystem,
        mountpoint: fields.slice(5).join(' '),
        totalBytes: Number(blocks) * 1024,
        availableBytes: Number(available) * 1024
    };
}

;// CONCATENATED MODULE: ./build/action/transfer/sftp.js


/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const SFTP_STATUS = {
    EOF: 1,
    NO_SUCH_FILE: 2,
    PERMISSION_DENIED: 3,
    FAILURE: 4,
    OP_UNSUPPORTED: 8
};
/** A path mkdirp must make a folder of is something else (a file, a link to one). */
class NotAFolderError extends Error {
    path;
    code = SFTP_STATUS.FAILURE;
    constructor(path) {
        super(`${path} exists and is not a folder`);
        this.path = path;
    }
}
class Sftp {
    raw;
    guard;
    /** Folders known to exist on this connection, so `mkdir -p` costs one round trip per new folder. */
    dirs = new Map();
    assumed = new Set();
    /** The folders of `dirs` whose making has settled well (or that are assumed). */
    ready = new Set();
    hasPosixRename;
    hasStatvfs;
    /** Where this channel's requests are counted. */
    trips;
    /** `guard` makes every call reject as soon as the connection underneath is lost. */
    constructor(raw, guard = op => op) {
        this.raw = raw;
        this.guard = guard;
        // ssh2 records the extensions the server announced in its VERSION packet.
        const exts = raw._extensions ?? {};
        this.hasPosixRename = 'posix-rename@openssh.com' in exts;
        this.hasStatvfs = 'statvfs@openssh.com' in exts;
        this.trips = sftpRoundTrips(raw);
        coalesceRequests(raw);
    }
    /**
     * Open a file. `then`, when given, is called with the handle as the answer is read, before the
     * promise settles: requests it makes go out at once, ahead of whatever else the same read of the
     * connection brought (the round-trip counter sees them as what they are, one wait after the open).
     */
    open(p, flags, mode, then) {
        return this.call(cb => this.raw.open(p, flags, { mode }, cb), then);
    }
    /**
     * Resolves once every byte is acknowledged; `buf` may be reused as soon as this returns. ssh2
     * copies a request's bytes as it makes it, but what is over the server's write limit it sends
     * only after the first part is answered, from `buf` as it is by then: so each part is asked for
     * here, at once (the limit is about 33 KiB for a server that is not OpenSSH).
     */
    write(handle, buf, len, position) {
        const max = this.maxWriteBytes();
        if (len <= max)
            return this.call(cb => this.raw.write(handle, buf, 0, len, position, cb));
        const parts = [];
        for (let off = 0; off < len; off += max) {
            const n = Math.min(max, len - off);
            parts.push(this.call(cb => this.raw.write(handle, buf, off, n, position + off, cb)));
        }
        return Promise.all(parts).then(() => { });
    }
    /** ssh2's largest write request for this server (its own field; a cautious size should it go). */
    maxWriteBytes() {
        const max = this.raw._maxWriteLen;
        return typeof max === 'number' && max > 0 ? max : 32 * 1024;
    }
    read(handle, buf, len, position) {
        return this.call(cb => this.raw.read(handle, buf, 0, len, position, (err, n) => cb(err, n)));
    }
    fstat(handle) {
        return this.call(cb => this.raw.fstat(handle, cb));
    }
    fchmod(handle, mode) {
        return this.call(cb => this.raw.fchmod(handle, mode, cb));
    }
    chmod(p, mode) {
        return this.call(cb => this.raw.chmod(p, mode, cb));
    }
    closeHandle(handle) {
        return this.call(cb => this.raw.close(handle, cb));
    }
    unlink(p) {
        return this.call(cb => this.raw.unlink(p, cb));
    }
    /** Remove an empty folder. */
    rmdir(p) {
        return this.call(cb => this.raw.rmdir(p, cb));
    }
    stat(p) {
        return this.call(cb => this.raw.stat(p, cb));
    }
    realpath(p) {
        return this.call(cb => this.raw.realpath(p, cb));
    }
    readlink(p) {
        return this.call(cb => this.raw.readlink(p, cb));
    }
    lstat(p) {
        return this.call(cb => this.raw.lstat(p, cb));
    }
    /** The file system's figures (statvfs@openssh.com), or undefined when the server has no such extension. */
    async statvfs(p) {
        if (!this.hasStatvfs)
            return undefined;
        return this.call(cb => this.raw.ext_openssh_statvfs(p, cb));
    }
    /** Replace `to` with `from` in one step (posix-rename), or as close to it as the server allows. */
    renameOver(from, to) {
        if (this.hasPosixRename)
            return this.call(cb => this.raw.ext_openssh_rename(from, to, cb));
        return this.renameThenReplace(from, to);
    }
    async renameThenReplace(from, to) {
        try {
            await this.call(cb => this.raw.rename(from, to, cb));
        }
        catch {
            // Plain SFTP rename refuses to overwrite: remove the old file first (a short window without it).
            await this.unlink(to).catch(() => { });
            await this.call(cb => this.raw.rename(from, to, cb));
        }
    }
    /**
     * A whole file in one exchange: the open, then the write of `data` (none when it is empty), what
     * `opened` sends with the handle (it is called as the open's answer is read) and the close, all
     * sent together as soon as the open is answered. Settles once the write and the close are
     * answered, with the first error. One promise for the file rather than one per request: with
     * thousands of small files in flight, the promises and their reactions were a large part of the
     * client's CPU. An error before `opened` is called is the open's.
     */
    putWhole(p, mode, data, opened) {
        const trips = this.trips;
        const raw = this.raw;
        return this.guard(new Promise((resolve, reject) => {
            const depth = trips ? trips.send() : 0;
            raw.open(p, 'w', { mode }, (err, handle) => {
                if (trips)
                    trips.answer(depth);
                if (err)
                    return reject(err);
                let left = data.length > 0 ? 2 : 1;
                let settled = false;
                const answered = (e) => {
                    if (settled)
                        return;
                    if (e) {
                        settled = true;
                        reject(e);
                    }
                    else if (--left === 0) {
                        settled = true;
                        resolve();
                    }
                };
                const next = trips ? trips.send() : 0;
                if (data.length > 0)
                    raw.write(handle, data, 0, data.length, 0, e => {
                        if (trips)
                            trips.answer(next);
                        answered(e);
                    });
                try {
                    opened(handle);
                }
                catch (e) {
                    answered(e); // inside ssh2's reading of the connection: never thrown there
                }
                raw.close(handle, e => {
                    if (trips)
                        trips.answer(next);
                    answered(e);
                });
            });
        }));
    }
    /** Is this folder known to exist (made, seen, or assumed) on this connection? */
    hasDir(dir) {
        return this.ready.has(dir);
    }
    /**
     * One request: counted as a round trip (ssh/round-trips.ts) from when it is made until its answer
     * is read; `then` gets a successful answer right there, before the promise settles.
     */
    call(fn, then) {
        const trips = this.trips;
        const depth = trips ? trips.send() : 0;
        return this.guard(new Promise((resolve, reject) => fn((err, v) => {
            if (trips)
                trips.answer(depth);
            if (err)
                return reject(err);
            try {
                then?.(v);
            }
            catch (e) {
                return reject(e); // inside ssh2's reading of the connection: never thrown there
            }
            resolve(v);
        })));
    }
    /** Folders known to exist already (a sync saw files in them): mkdirp asks nothing about them. */
    assumeDirs(dirs) {
        for (const d of dirs) {
            if (this.dirs.has(d))
                continue;
            this.dirs.set(d, Promise.resolve());
            this.assumed.add(d);
            this.ready.add(d);
        }
    }
    /**
     * Make folders without waiting for them (parents first): each mkdir goes out now, ahead of the
     * opens that need it, and sftp-server handles a channel's requests in the order they came, so
     * those opens find their folders in the same round trip. No answer is waited for: a folder still
     * missing makes its files' opens fail, and the upload then makes it with mkdirp, which says why
     * it cannot. (A server that reorders requests costs that fallback, never a misplaced file.) A
     * pack sent meanwhile on the shell waits for its folders there (remote/pack.ts).
     */
    mkdirAhead(dirs) {
        for (const d of dirs)
            this.call(cb => this.raw.mkdir(d, cb)).catch(() => { });
        this.assumeDirs(dirs);
    }
    /** A folder assumed to exist was missing after all: assume none, and mkdirp asks again. */
    forgetAssumedDirs() {
        for (const d of this.assumed) {
            this.dirs.delete(d);
            this.ready.delete(d);
        }
        this.assumed.clear();
    }
    /**
     * `mkdir -p`, once per folder per connection. Asks about the folder itself first: on a redeploy it
     * exists, and that is one round trip instead of one or two per level of the path (which add up
     * over ssm, where a round trip is tens of milliseconds).
     */
    mkdirp(dir) {
        if (dir === '/' || dir === '.' || dir === '')
            return Promise.resolve();
        let p = this.dirs.get(dir);
        if (!p) {
            p = (async () => {
                const st = await this.stat(dir).catch((err) => {
                    if (err.code === SFTP_STATUS.NO_SUCH_FILE)
                        return undefined;
                    throw err;
                });
                if (st) {
                    if (st.isDirectory())
                        return;
                    throw new NotAFolderError(dir);
                }
                await this.mkdirp(external_node_path_.posix.dirname(dir));
                try {
                    await this.call(cb => this.raw.mkdir(dir, cb));
                }
                catch (err) {
                    // Made by someone else meanwhile?
                    const again = await this.stat(dir).catch(() => undefined);
                    if (!again?.isDirectory())
                        throw err;
                }
            })();
            this.dirs.set(dir, p);
            p.then(() => {
                if (this.dirs.get(dir) === p)
                    this.ready.add(dir);
            }, () => this.dirs.delete(dir));
        }
        return p;
    }
    end() {
        this.raw.end();
    }
}
/** Channels already gathering: a connection's channel outlives one upload session, and is wrapped once. */
const gathering = new WeakSet();
/**
 * ssh2 sends every SFTP request in an SSH packet of its own, and each packet is encrypted and
 * authenticated on its own: with many small files in flight, that per-packet work is most of the
 * client's CPU. SFTP is a byte stream inside its channel, so the requests of one tick can share
 * packets: this channel's data is gathered until the end of the tick (or a full packet) and sent
 * together. Any other call ssh2 makes for the channel sends what is gathered first, so nothing
 * overtakes it. ssh2 has already split the data to the packet size and counted it against the window.
 */
function coalesceRequests(raw) {
    if (gathering.has(raw))
        return;
    gathering.add(raw);
    const sftp = raw;
    const protocol = sftp._protocol;
    const outgoing = sftp.outgoing;
    // A different ssh2 inside: leave it as it is.
    if (!protocol || typeof protocol.channelData !== 'function' || !outgoing?.packetSize)
        return;
    let pending = [];
    let pendingBytes = 0;
    let scheduled = false;
    const flush = () => {
        if (pendingBytes === 0)
            return;
        const data = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        protocol.channelData(outgoing.id, data);
    };
    const gather = (id, data) => {
        // Large pieces (file data) fill packets by themselves: they go straight out, after what is gathered.
        if (id !== outgoing.id || !Buffer.isBuffer(data) || data.length > outgoing.packetSize / 4) {
            flush();
            return protocol.channelData(id, data);
        }
        if (pendingBytes + data.length > outgoing.packetSize)
            flush();
        pending.push(data);
        pendingBytes += data.length;
        if (!scheduled) {
            scheduled = true;
            process.nextTick(() => {
                scheduled = false;
                flush();
            });
        }
    };
    sftp._protocol = new Proxy(protocol, {
        get(target, prop) {
            if (prop === 'channelData')
                return gather;
            const value = Reflect.get(target, prop);
            if (typeof value !== 'function')
                return value;
            return (...args) => {
                flush();
                return value.apply(target, args);
            };
        }
    });
}

;// CONCATENATED MODULE: ./build/action/transfer/failures.js





const ST_RDONLY = 1;
async function explainWriteFailure(err, w) {
    if (err instanceof errors/* UserError */.yo || w.conn.isClosed)
        return err;
    try {
        return (await diagnose(err, w)) ?? err;
    }
    catch {
        return err; // the diagnosis itself failed (the connection went): the original error stands
    }
}
async function diagnose(err, w) {
    const { conn, final } = w;
    const where = `on ${conn.label}`;
    const as = conn.user ? ` as '${conn.user}'` : '';
    const dir = external_node_path_.posix.dirname(final);
    if (err instanceof NotAFolderError)
        return notAFolder(err.path, final, where);
    const code = err.code;
    if (code === SFTP_STATUS.PERMISSION_DENIED) {
        const who = conn.user ? `'${conn.user}'` : 'the login user';
        return new errors/* UserError */.yo(`Permission denied writing '${final}' ${where}${as}: give ${who} write access to '${dir}' (chown or chmod on the instance), or choose a remote-path ${who} can write.`);
    }
    if (code !== SFTP_STATUS.FAILURE && code !== SFTP_STATUS.NO_SUCH_FILE)
        return undefined;
    const inTheWay = await folderInTheWay(w.sftp, final);
    if (inTheWay)
        return notAFolder(inTheWay, final, where);
    if (code === SFTP_STATUS.NO_SUCH_FILE)
        return undefined;
    const st = await w.sftp.lstat(final).catch(() => undefined);
    if (st?.isDirectory()) {
        return new errors/* UserError */.yo(`'${final}' ${where} is a folder where a file of the same name goes: remove or rename that folder (or leave the file out of 'files'), then deploy again.`);
    }
    const fs = await statvfsNearest(w.sftp, dir);
    if (fs && Number(fs.f_flag) & ST_RDONLY) {
        return new errors/* UserError */.yo(`'${dir}' ${where} is on a read-only file system: remount it read-write, or choose a remote-path on a writable one.`);
    }
    const free = await freeSpace(conn, dir);
    const statFree = fs && Number(fs.f_bavail) * Number(fs.f_frsize);
    const available = free?.availableBytes ?? statFree;
    const noInodes = fs !== undefined && Number(fs.f_favail) === 0;
    if ((available !== undefined && available <= Math.max(w.size, 4096)) || noInodes) {
        const on = free ? `${free.filesystem} (mounted on ${free.mountpoint})` : `the file system of '${dir}'`;
        const left = noInodes ? 'no free inodes' : `${bytes(available)} free`;
        const total = free ? ` of ${bytes(free.totalBytes)}` : '';
        return new errors/* UserError */.yo(`No space left ${where} writing '${final}' (${bytes(w.size)})${as}: ${on} has ${left}${total}. Free space there (or raise the disk quota${as ? ` of '${conn.user}'` : ''}), or choose a remote-path on another file system.`);
    }
    // Not one of the above: retried, but the last attempt's message says what was ruled out.
    const room = available !== undefined ? `${bytes(available)} free there` : 'free space unknown';
    return Object.assign(new Error(`the instance's SFTP server said "${(0,errors/* errorMessage */.gJ)(err)}" writing it${as} (${room}; not a read-only file system or a folder in the way: a disk quota, or a file system error?)`), { code });
}
function notAFolder(file, final, where) {
    return new errors/* UserError */.yo(`'${file}' ${where} is a file where a folder must be (to hold '${final}'): remove or rename it, or choose another remote-path.`);
}
/** The nearest ancestor of `p` that exists and is not a folder (ENOTDIR reaches SFTP as "no such file"). */
async function folderInTheWay(sftp, p) {
    const ancestors = [];
    for (let d = external_node_path_.posix.dirname(p); d !== '/' && d !== '.'; d = external_node_path_.posix.dirname(d))
        ancestors.push(d);
    for (const d of ancestors) {
        const st = await sftp.stat(d).catch((e) => e);
        if (st instanceof Error) {
            if (st.code === SFTP_STATUS.NO_SUCH_FILE)
                continue;
            return undefined;
        }
        return st.isDirectory() ? undefined : d;
    }
    return undefined;
}
/** statvfs of `dir`, or of its nearest ancestor that exists (a folder not made yet). */
async function statvfsNearest(sftp, dir) {
    for (let d = dir;; d = external_node_path_.posix.dirname(d)) {
        const fs = await sftp.statvfs(d).catch(() => null);
        if (fs !== null || d === '/' || d === '.')
            return fs ?? undefined;
    }
}
/** `df -P` on the instance (which file system, what is free), or undefined when it cannot run there. */
async function freeSpace(conn, dir) {
    try {
        const res = await execChannel(conn, freeSpaceScript(dir), { timeoutMs: 15000 });
        return res.code === 0 ? parseFreeSpace(res.stdout) : undefined;
    }
    catch {
        return undefined;
    }
}
function bytes(n) {
    if (n < 1024)
        return `${n} bytes`;
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

;// CONCATENATED MODULE: ./build/action/transfer/folders.js


/** Every folder above `dir`, nearest first, up to (not including) `/` or the home folder. */
function above(dir) {
    const out = [];
    for (let d = external_node_path_.posix.dirname(dir); d !== '/' && d !== '.'; d = external_node_path_.posix.dirname(d))
        out.push(d);
    return out;
}
/** Where a path leads, or undefined when it is missing; any other failure is the caller's. */
async function lookUp(sftp, p, resolve) {
    const missing = (err) => {
        if (err.code === SFTP_STATUS.NO_SUCH_FILE)
            return undefined;
        throw err;
    };
    const [st, real] = await Promise.all([
        sftp.stat(p).catch(missing),
        resolve ? sftp.realpath(p).catch(missing) : p
    ]);
    return st ? real : undefined;
}
/** Ask about remote-path, the folders above it and `rels` (folders under it): one round trip. */
async function surveyFolders(sftp, root, rels) {
    const folders = [...new Set(rels)].filter(d => d !== '.' && d !== '');
    const ups = above(root);
    const [rootReal, upReal, real] = await Promise.all([
        lookUp(sftp, root, true),
        Promise.all(ups.map(d => lookUp(sftp, d, false))),
        Promise.all(folders.map(rel => lookUp(sftp, external_node_path_.posix.join(root, rel), true)))
    ]);
    const survey = {
        root,
        rootReal,
        resolved: new Map(),
        missing: new Set(),
        missingAbove: new Set(ups.filter((_, i) => upReal[i] === undefined))
    };
    folders.forEach((rel, i) => {
        const r = real[i];
        if (r === undefined)
            survey.missing.add(rel);
        else
            survey.resolved.set(rel, r);
    });
    return survey;
}
/** The folders an upload of these files writes into, relative to remote-path. */
function foldersUnder(relativePaths) {
    const folders = new Set();
    for (const rel of relativePaths) {
        for (let d = external_node_path_.posix.dirname(rel); d !== '.' && !folders.has(d); d = external_node_path_.posix.dirname(d))
            folders.add(d);
    }
    return folders;
}
/**
 * The same questions asked by a script on the instance (remote/folder-survey.ts): the paths it
 * asks about, in order (remote-path, the folders above it, then `rels`), and the survey its
 * answers make.
 */
function surveyPaths(root, rels) {
    return [root, ...above(root), ...[...rels].map(rel => external_node_path_.posix.join(root, rel))];
}
function surveyFrom(root, rels, answers) {
    const ups = above(root);
    const folders = [...rels];
    const rootReal = answers[0].kind === 'folder' ? answers[0].real : undefined;
    if (answers[0].kind === 'as-named')
        return undefined;
    const survey = {
        root,
        rootReal,
        resolved: new Map(),
        missing: new Set(),
        missingAbove: new Set(ups.filter((_, i) => answers[1 + i].kind === 'missing'))
    };
    for (const [i, rel] of folders.entries()) {
        const a = answers[1 + ups.length + i];
        if (a.kind === 'missing')
            survey.missing.add(rel);
        else if (a.kind === 'folder')
            survey.resolved.set(rel, a.real);
        // Under remote-path with no link on the way: where remote-path leads, then the folder's own path.
        else if (rootReal !== undefined)
            survey.resolved.set(rel, external_node_path_.posix.join(rootReal, rel));
        else
            return undefined;
    }
    return survey;
}
/**
 * The part of `survey` (of remote-path `root`) about `rels`, or undefined when it does not answer
 * for every one of them.
 */
function surveyFor(survey, root, rels) {
    if (survey.root !== root)
        return undefined;
    const part = { ...survey, resolved: new Map(), missing: new Set() };
    for (const rel of rels) {
        const real = survey.resolved.get(rel);
        if (real !== undefined)
            part.resolved.set(rel, real);
        else if (survey.missing.has(rel))
            part.missing.add(rel);
        else
            return undefined;
    }
    return part;
}
/**
 * What the survey says for the upload (absolute paths): the folders there already, and those to
 * make, parents before children.
 */
function foldersOf(survey) {
    const { root } = survey;
    const toMake = [...survey.missingAbove].reverse();
    if (survey.rootReal === undefined)
        toMake.push(root);
    const rels = [...survey.missing].sort((a, b) => a.split('/').length - b.split('/').length);
    for (const rel of rels)
        toMake.push(external_node_path_.posix.join(root, rel));
    const present = [...survey.resolved.keys()].map(rel => external_node_path_.posix.join(root, rel));
    if (survey.rootReal !== undefined)
        present.push(root);
    return { present, toMake };
}

;// CONCATENATED MODULE: ./build/action/transfer/remote-links.js


/**
 * Symbolic links on the instance that would carry a deploy out of remote-path. A file is always
 * replaced by a rename, which replaces a link rather than following it; a folder on the way to a file
 * is followed. So each folder the upload writes into is resolved (SFTP realpath, all at once: one
 * round trip, folders.ts), and one that resolves outside remote-path is refused, naming the link and where it
 * points, unless follow-remote-symlinks says such links are meant (shared folders). With delete, a link
 * to another folder inside remote-path is refused too, whatever follow says: the listing shows the files
 * written through it under the folder it points to, where they are not in the set, and delete would
 * remove them again.
 */
async function checkRemoteLinks(sftp, survey, label, opts) {
    if (opts.follow && !opts.deleting)
        return;
    const { root, rootReal } = survey;
    if (rootReal === undefined)
        return; // nothing there yet: no link either
    const resolved = [...survey.resolved].map(([rel, real]) => ({ rel, real }));
    const under = rootReal === '/' ? '/' : `${rootReal}/`;
    const inside = (real) => real === rootReal || real.startsWith(under);
    // The shallowest folder that does not resolve to itself is the link (its parent did).
    const moved = resolved
        .filter(r => r.real !== external_node_path_.posix.join(rootReal, r.rel))
        .filter(r => (inside(r.real) ? opts.deleting : !opts.follow))
        .sort((a, b) => a.rel.split('/').length - b.rel.split('/').length)[0];
    if (!moved)
        return;
    const link = external_node_path_.posix.join(root, moved.rel);
    const target = await sftp.readlink(link).catch(() => moved.real);
    if (inside(moved.real)) {
        const there = moved.real === rootReal ? '.' : moved.real.slice(under.length);
        throw new errors/* UserError */.yo(`'${link}' on ${label} is a symbolic link to '${target}', inside remote-path: with delete: true the files written through it would be listed under '${there}' and deleted as extras. Replace the link with a folder, or deploy without delete.`);
    }
    throw new errors/* UserError */.yo(`'${link}' on ${label} is a symbolic link to '${target}', outside remote-path: ec2-push does not write or delete through it. Replace the link with a folder, or set follow-remote-symlinks: true if it is a shared folder on purpose.`);
}

;// CONCATENATED MODULE: ./build/action/transfer/striped.js

















/**
 * The range upload: files of a MiB and more (transfer/ranges.ts) are cut into ranges that every
 * SFTP channel of every connection to the target takes from one queue, in file order (a fast channel
 * takes more, and a channel streams from one file into the next). Each range is written at its
 * offset into its file's temporary; the instance hashes it once its writes are acknowledged
 * (remote/range-hash.ts) and it is compared with the digest of the local bytes the lane read to
 * send it, hashed as they were read (before the buffer is reused), so the file is read once. A
 * range whose digest differs, or whose connection was cut before it was confirmed, is written
 * again by whichever channel is free. Only when every range of a file is confirmed is its temporary renamed over the
 * final path; a file that cannot be completed fails the upload and its temporary is removed.
 */
/**
 * SFTP channels per connection: sshd gives each 2 MiB of window, and two fill the TCP window a
 * connection usually gets (4 MiB).
 */
const CHANNELS_PER_CONNECTION = 2;
/** SFTP's WRITE and CREAT open flags without TRUNC (ssh2 has no name for them). */
const WRITE_OR_CREATE = 0x02 | 0x08;
const READ_BLOCK = 16 * file_writes/* WRITE_CHUNK */.oc;
/** Files begun and not yet published, at most (each holds a temporary and open handles). */
const FILES_OPEN = 32;
/** Upload the files in ranges over every connection; rejects with the first file that cannot be completed. */
async function uploadStriped(files, o) {
    if (files.length === 0)
        return;
    const carriers = o.links.map(l => new Carrier(l, o));
    const work = new Work(files, o, carriers);
    const cancel = () => {
        work.settle(cancelled(o));
        for (const c of carriers)
            c.endChannels(true);
    };
    o.signal?.addEventListener('abort', cancel, { once: true });
    try {
        await work.run();
    }
    finally {
        o.signal?.removeEventListener('abort', cancel);
        for (const c of carriers)
            c.endChannels(false);
    }
}
function cancelled(o) {
    return new errors/* UserError */.yo(`Upload to ${o.links[0].label} was cancelled.`);
}
/** SFTP channels beside the connection's shared one (which the rest of the upload uses after this). */
function openSftpChannel(conn) {
    return conn.guard(new Promise((resolve, reject) => conn.client.sftp((err, sftp) => err ? reject(new errors/* TransientError */.N_(`SFTP on ${conn.label}: ${err.message}`)) : resolve(sftp))));
}
/** One connection's part: its channels, reopened with the connection, and its run of failures. */
class Carrier {
    link;
    o;
    conn;
    /** The connection's shared SFTP channel, ready as soon as the connection is. */
    first;
    /** The channels beside it, opened meanwhile (three round trips: the first lane does not wait). */
    more = Promise.resolve([]);
    extra = [];
    /** Failures in a row (reset when a range this carrier wrote is confirmed). */
    failures = 0;
    gaveUp = false;
    constructor(link, o) {
        this.link = link;
        this.o = o;
    }
    get label() {
        return this.link.label;
    }
    /**
     * The connection and its shared channel; `more`: the channels opened beside it, for lanes that
     * join as they are ready (settles once per connection: a failure to open them is the connection's).
     */
    async ready() {
        const conn = await this.link.get(this.o.signal);
        if (conn !== this.conn || !this.first) {
            // Another connection to the same instance hashes its ranges as the first one's probe found.
            const first = this.o.links[0].live;
            if (this.o.verify !== 'none' && first)
                shareVerifyMethod(conn, first);
            this.endChannels(false);
            const dirs = [...(this.o.existingDirs ?? [])].map(d => remoteFilePath(this.o.remoteRoot, d));
            const wrap = (raw) => {
                const sftp = new Sftp(raw, op => conn.guard(op));
                sftp.assumeDirs(dirs);
                return sftp;
            };
            const opening = Array.from({ length: CHANNELS_PER_CONNECTION - 1 }, () => openSftpChannel(conn));
            this.first = wrap(await conn.sftp());
            this.conn = conn;
            this.more = Promise.all(opening).then(raws => {
                // Ended (the connection was lost or the upload is over) before they opened.
                if (this.conn !== conn || !this.first) {
                    for (const raw of raws)
                        raw.end();
                    return [];
                }
                this.extra = raws;
                return raws.map(wrap);
            });
            this.more.catch(() => { });
        }
        return { conn, first: this.first, more: this.more };
    }
    /** The live connection's first channel, if there is one now (for removing a temporary). */
    liveChannel() {
        return this.conn && !this.conn.isClosed ? this.first : undefined;
    }
    lost() {
        this.endChannels(false);
        this.conn = undefined;
        this.link.drop();
    }
    /** End the channels this opened; `all`: the connection's shared one too (a cancellation). */
    endChannels(all) {
        for (const raw of this.extra)
            raw.end();
        if (all)
            this.first?.end();
        this.extra = [];
        this.first = undefined;
        this.more = Promise.resolve([]);
    }
}
/** One file: its ranges, what is confirmed, its temporary. */
class Stripe {
    file;
    final;
    temp;
    /** The temporary as the instance's hasher is asked about it. */
    asked;
    queue;
    striped;
    confirmed = 0;
    published = false;
    /** Its folder, made once for every lane. */
    folder;
    /** The temporary may exist on the instance (removed when the upload fails). */
    begun = false;
    local;
    constructor(file, remoteRoot, lanes) {
        this.file = file;
        this.final = remoteFilePath(remoteRoot, file.relativePath);
        this.temp = (0,names/* tempPathFor */.FD)(this.final);
        this.asked = requestPath(this.temp);
        this.queue = new RangeQueue(file.size, lanes);
        this.striped = isStriped(file);
    }
    /** The local file, opened once for every lane (and checked unchanged at the end). */
    localFile() {
        this.local ??= (async () => {
            const fh = await (0,promises_.open)(this.file.localPath, 'r');
            const st = await fh.stat();
            if (st.size !== this.file.size) {
                await fh.close();
                throw changedLocally(this.file);
            }
            return { fh, mtimeMs: st.mtimeMs };
        })();
        return this.local.then(l => l.fh);
    }
    async closeLocal(check) {
        const l = await this.local?.catch(() => undefined);
        if (!l)
            return;
        this.local = undefined;
        const st = check ? await l.fh.stat().catch(() => undefined) : undefined;
        await l.fh.close().catch(() => { });
        if (check && (!st || st.size !== this.file.size || st.mtimeMs !== l.mtimeMs))
            throw changedLocally(this.file);
    }
    /** The temporary's folder, made once (by whichever lane comes first). */
    madeFolder(sftp) {
        if (!this.folder) {
            const making = sftp.mkdirp(external_node_path_.posix.dirname(this.final));
            this.folder = making;
            making.catch(() => {
                if (this.folder === making)
                    this.folder = undefined;
            });
        }
        return this.folder;
    }
    /** The temporary, created empty with the file's mode (its folder made first). */
    async create(sftp, conn) {
        try {
            await this.madeFolder(sftp);
            this.begun = true;
            return await sftp.open(this.temp, 'w', this.file.mode & 0o777);
        }
        catch (err) {
            throw await this.explain(err, sftp, conn);
        }
    }
    /**
     * A striped file's temporary, opened for writing by each lane at once: made by whichever open the
     * server takes first and never truncated (a lane that joins later, or after a cut, leaves the
     * ranges already written in place; the name is this run's own, so nothing else was there). Its
     * mode is set exactly right behind the open (`mode`: that request, which the lane's writes follow).
     */
    async openForRanges(sftp, conn) {
        const mode = this.file.mode & 0o777;
        let chmod = Promise.resolve();
        try {
            await this.madeFolder(sftp);
            this.begun = true;
            const handle = await sftp.open(this.temp, WRITE_OR_CREATE, mode, h => {
                chmod = sftp.fchmod(h, mode);
                chmod.catch(() => { });
            });
            return { handle, mode: chmod };
        }
        catch (err) {
            throw await this.explain(err, sftp, conn);
        }
    }
    /** The umask may have taken bits off at the open: the mode is set exactly, sent with the close. */
    closeWithMode(sftp, handle) {
        const chmod = sftp.fchmod(handle, this.file.mode & 0o777);
        chmod.catch(() => { });
        return Promise.all([chmod, sftp.closeHandle(handle)]);
    }
    explain(err, sftp, conn) {
        return explainWriteFailure(err, { sftp, conn, final: this.final, size: this.file.size });
    }
}
/** Every file's ranges, the channels that write them, and how the upload ends. */
class Work {
    o;
    carriers;
    stripes;
    next = 0;
    again = [];
    /** Settled: undefined while running, then null (every file published) or the failure. */
    outcome;
    waiting = [];
    publishedCount = 0;
    publishing = new Set();
    constructor(files, o, carriers) {
        this.o = o;
        this.carriers = carriers;
        const lanes = carriers.length * CHANNELS_PER_CONNECTION;
        this.stripes = files.map(f => new Stripe(f, o.remoteRoot, lanes));
    }
    linksChecked;
    /**
     * The folders every file goes into, checked once for links out of remote-path (transfer/
     * remote-links.ts) before the first temporary is made, by whichever connection comes first.
     */
    checkLinks(sftp, conn) {
        if (!this.linksChecked) {
            const folders = this.stripes.flatMap(s => {
                const parts = s.file.relativePath.split('/');
                return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
            });
            const checking = surveyFolders(sftp, this.o.remoteRoot, folders).then(survey => checkRemoteLinks(sftp, survey, conn.label, {
                follow: !!this.o.followRemoteSymlinks,
                deleting: !!this.o.deletesExtras
            }));
            this.linksChecked = checking;
            checking.catch(() => {
                if (this.linksChecked === checking)
                    this.linksChecked = undefined;
            });
            return checking;
        }
        return this.linksChecked;
    }
    async run() {
        await Promise.all(this.carriers.map(c => this.carry(c)));
        await Promise.allSettled([...this.publishing]);
        if (this.outcome === undefined)
            this.settle(new errors/* UserError */.yo('The upload ended with files not written.'));
        if (this.outcome === null)
            return;
        for (const s of this.stripes)
            await s.closeLocal(false);
        await this.removeTemps();
        throw this.outcome;
    }
    /** The next piece: one handed back first, then the next range in file order. */
    take() {
        const back = this.again.shift();
        if (back)
            return back;
        while (this.next < this.stripes.length) {
            const s = this.stripes[this.next];
            const r = s.queue.take();
            if (r)
                return { ...r, stripe: s };
            if (this.next - this.publishedCount >= FILES_OPEN)
                return undefined;
            this.next++;
        }
        return undefined;
    }
    putBack(p) {
        this.again.push(p);
        this.notify();
    }
    settle(outcome) {
        if (this.outcome !== undefined)
            return;
        this.outcome = outcome;
        this.notify();
    }
    notify() {
        const w = this.waiting;
        this.waiting = [];
        for (const fn of w)
            fn();
    }
    /** Resolves at the next change: a piece handed back, a file published, the upload settled, a crew stopped. */
    changed() {
        return new Promise(resolve => this.waiting.push(resolve));
    }
    /** A piece is confirmed (by the instance's digest, or acknowledged when nothing is verified). */
    confirm(p, crew, c) {
        if (crew.stopped || !crew.held.delete(p))
            return;
        c.failures = 0;
        const s = p.stripe;
        s.confirmed += p.length;
        if (s.confirmed < s.file.size || this.outcome !== undefined)
            return;
        const pub = this.publish(s, c).then(() => {
            this.publishing.delete(pub);
            s.published = true;
            this.publishedCount++;
            this.o.onFileDone(s.file);
            if (this.publishedCount === this.stripes.length)
                this.settle(null);
            else
                this.notify();
        }, err => {
            this.publishing.delete(pub);
            this.settle(err);
        });
        this.publishing.add(pub);
    }
    /** A piece came out wrong on a live connection: again, or the upload fails once it has had its retries. */
    failed(p, crew, why) {
        if (crew.stopped || !crew.held.delete(p))
            return;
        p.failures++;
        if (p.failures > this.o.retries) {
            this.settle(new errors/* UserError */.yo(`Could not upload ${p.stripe.file.relativePath}: ${why} (bytes ${p.offset}-${p.offset + p.length - 1}, after ${p.failures} attempts).`));
        }
        else {
            this.o.logger.debug(`${p.stripe.file.relativePath}: ${why}; sending that range again`);
            this.putBack(p);
        }
    }
    /** Rename over the final path, on the connection that confirmed the last range or another live one. */
    async publish(s, first) {
        await s.closeLocal(true);
        for (let attempt = 0;; attempt++) {
            const c = attempt === 0 ? first : (this.carriers.find(x => !x.gaveUp) ?? first);
            let conn;
            try {
                const ready = await c.ready();
                conn = ready.conn;
                const sftp = ready.first;
                await sftp.renameOver(s.temp, s.final).catch(async (err) => {
                    throw await s.explain(err, sftp, ready.conn);
                });
                return;
            }
            catch (err) {
                if (err instanceof errors/* UserError */.yo || attempt >= this.o.retries || this.outcome !== undefined)
                    throw err;
                if (!conn || conn.isClosed || err instanceof errors/* TransientError */.N_)
                    c.lost();
                await (0,retry/* sleep */.yy)((0,retry/* backoffDelay */.EY)(attempt + 1, this.o.backoffBaseMs, 15000));
            }
        }
    }
    /** Remove the temporaries of the files not published, over any live connection (else the deploy's undo does). */
    async removeTemps() {
        const left = this.stripes.filter(s => s.begun && !s.published);
        for (const c of this.carriers) {
            const sftp = c.liveChannel();
            if (!sftp || left.length === 0)
                continue;
            const results = await Promise.allSettled(left.map(s => sftp.unlink(s.temp)));
            for (let i = results.length - 1; i >= 0; i--)
                if (results[i].status === 'fulfilled')
                    left.splice(i, 1);
        }
    }
    /** This carrier's part: its lanes until the upload settles, reconnecting when cut. */
    async carry(c) {
        while (this.outcome === undefined && !c.gaveUp) {
            const crew = { stopped: false, held: new Set() };
            let conn;
            let lanes = [];
            try {
                const ready = await c.ready();
                conn = ready.conn;
                await this.checkLinks(ready.first, conn);
                if (this.o.verify !== 'none')
                    crew.hasher = new RangeHasher(conn, this, crew, c);
                // The first lane starts at once; the others as their channels open.
                const joining = ready.more.then(more => Promise.all(more.map(sftp => this.lane(sftp, ready.conn, crew, c))));
                lanes = [this.lane(ready.first, ready.conn, crew, c), joining.then(() => { })];
                await Promise.race([Promise.all(lanes), crew.hasher?.broken ?? new Promise(() => { })]);
                return;
            }
            catch (err) {
                crew.stopped = true;
                this.notify();
                crew.hasher?.end();
                await Promise.allSettled(lanes);
                for (const p of crew.held)
                    this.putBack(p);
                crew.held.clear();
                if (this.outcome !== undefined)
                    return;
                if (err instanceof errors/* UserError */.yo)
                    return this.settle(err);
                if (this.o.signal?.aborted)
                    return this.settle(cancelled(this.o));
                const lost = !conn || conn.isClosed || err instanceof errors/* TransientError */.N_;
                if (lost)
                    c.lost();
                c.failures++;
                if (c.failures > this.o.retries) {
                    c.gaveUp = true;
                    if (this.carriers.every(x => x.gaveUp))
                        this.settle(new errors/* UserError */.yo(`${(0,errors/* errorMessage */.gJ)(err)} (gave up after ${c.failures} attempts)`));
                    return;
                }
                const delay = (0,retry/* backoffDelay */.EY)(c.failures, this.o.backoffBaseMs, 15000);
                this.o.logger.info(`${c.label}: ${(0,errors/* errorMessage */.gJ)(err)}; ${lost ? 'reconnecting' : 'trying again'} in ${(delay / 1000).toFixed(1)} s (attempt ${c.failures + 1} of ${this.o.retries + 1}); the ranges it had not confirmed go to the other connections`);
                await (0,retry/* sleep */.yy)(delay);
            }
            finally {
                crew.hasher?.end();
            }
        }
    }
    /**
     * One channel: takes pieces and writes them with WRITES_IN_FLIGHT requests outstanding (the
     * channel's window), the next piece's writes right behind the last one's; a piece whose writes
     * are all acknowledged goes to the instance to be hashed (or is confirmed, without verification).
     */
    async lane(sftp, conn, crew, c) {
        const handles = new Map();
        const buffer = Buffer.allocUnsafe(READ_BLOCK);
        const inflight = new Set();
        let failed;
        let current;
        // The lane waits for room one wait at a time: a request that settles wakes it when there is room
        // (a race over every request in flight would subscribe to each of them again at every write).
        let wake;
        const settled = () => {
            if (wake && (inflight.size <= wake.below || failed)) {
                const { resolve } = wake;
                wake = undefined;
                resolve();
            }
        };
        const track = (op, stripe, n) => {
            const w = op.then(() => {
                inflight.delete(w);
                if (n)
                    this.o.onBytes(n);
                settled();
            }, err => {
                inflight.delete(w);
                failed ??= { err, stripe };
                settled();
            });
            inflight.add(w);
            return w;
        };
        const drain = async (below) => {
            while (inflight.size > below && !failed)
                await new Promise(resolve => (wake = { below, resolve }));
            if (failed)
                throw failed.err;
        };
        // Handles of striped files with nothing left to hand out are closed (after their writes, in order).
        const closeDone = (keep) => {
            for (const [s, h] of handles) {
                if (s === keep || !s.queue.empty)
                    continue;
                handles.delete(s);
                sftp.closeHandle(h).catch(() => { });
            }
        };
        try {
            for (;;) {
                if (this.outcome !== undefined || crew.stopped)
                    break;
                const piece = this.take();
                if (!piece) {
                    await drain(0);
                    closeDone();
                    if (this.outcome !== undefined || crew.stopped)
                        break;
                    await this.changed();
                    continue;
                }
                crew.held.add(piece);
                const s = piece.stripe;
                current = s;
                const chunk = writeChunk(sftp, file_writes/* WRITE_CHUNK */.oc);
                let handle = handles.get(s);
                if (!handle) {
                    if (s.striped) {
                        const opened = await s.openForRanges(sftp, conn);
                        handle = opened.handle;
                        handles.set(s, handle);
                        track(opened.mode, s, 0);
                    }
                    else
                        handle = await s.create(sftp, conn);
                }
                closeDone(s);
                const local = await s.localFile();
                const acks = [];
                const hash = this.o.verify !== 'none' ? (0,external_node_crypto_.createHash)('sha256') : undefined;
                const end = piece.offset + piece.length;
                for (let pos = piece.offset; pos < end; pos += READ_BLOCK) {
                    const len = Math.min(READ_BLOCK, end - pos);
                    const { bytesRead } = await local.read(buffer, 0, len, pos);
                    if (bytesRead !== len)
                        throw changedLocally(s.file);
                    hash?.update(buffer.subarray(0, len));
                    const step = chunk - handle.length;
                    for (let off = 0; off < len; off += step) {
                        const n = Math.min(step, len - off);
                        acks.push(track(sftp.write(handle, buffer.subarray(off, off + n), n, pos + off), s, n));
                        await drain(file_writes/* WRITES_IN_FLIGHT */.wF - 1);
                    }
                }
                // A file sent whole: its mode and close go right behind its writes.
                if (!s.striped)
                    acks.push(track(s.closeWithMode(sftp, handle), s, 0));
                const digest = hash?.digest('hex');
                void Promise.all(acks)
                    .then(() => !failed && this.o.onRangeWritten?.(s.temp, piece))
                    .then(() => {
                    if (failed || crew.stopped || !crew.held.has(piece) || this.outcome !== undefined)
                        return;
                    if (crew.hasher)
                        crew.hasher.ask(piece, digest ?? '');
                    else
                        this.confirm(piece, crew, c);
                })
                    .catch(() => { });
            }
        }
        catch (err) {
            const on = failed?.stripe ?? current;
            const why = failed ? failed.err : err;
            throw on ? await on.explain(why, sftp, conn) : why;
        }
        finally {
            for (const h of handles.values())
                sftp.closeHandle(h).catch(() => { });
        }
    }
}
/**
 * Bytes per write request, header included, as close to `target` as fills whole SSH packets: a
 * request of exactly 64 KiB of data would take two full packets and a third of a few dozen bytes,
 * each encrypted and sent on its own. The caller takes the request's own header off (25 bytes and
 * the handle).
 */
function writeChunk(sftp, target) {
    const packet = sftp.raw.outgoing?.packetSize;
    if (!packet || packet < 4096)
        return target;
    return Math.max(1, Math.round(target / packet)) * packet - 25;
}
function changedLocally(file) {
    return new errors/* UserError */.yo(`Local file '${file.localPath}' changed during the upload.`);
}
/**
 * The instance hashing ranges for one connection (remote/range-hash.ts): a piece is asked for once
 * its writes are acknowledged, and its answer confirms it or sends it again.
 */
class RangeHasher {
    work;
    crew;
    carrier;
    feed = new external_node_stream_.PassThrough();
    /** Pieces asked for, with the digest of the local bytes sent for them. */
    asked = new Map();
    partial = '';
    ended = false;
    /** Rejects when the script (or its connection) ends while the upload still needs it. */
    broken;
    constructor(conn, work, crew, carrier) {
        this.work = work;
        this.crew = crew;
        this.carrier = carrier;
        const run = largeFileHasher(conn).then(h => execScript(conn, rangeHashScript(h), { stdin: this.feed, onStdout: chunk => this.read(chunk) }));
        this.broken = run.then(r => {
            if (this.ended)
                return new Promise(() => { });
            throw new errors/* TransientError */.N_(`hashing ranges on the instance ended (exit ${r.code ?? r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n').pop()}` : ''})`);
        });
        this.broken.catch(() => { });
    }
    ask(p, local) {
        if (this.feed.writableEnded)
            return;
        this.asked.set(`${p.offset} ${p.stripe.asked}`, { p, local });
        this.feed.write(rangeHashRequest(p.stripe.asked, p.offset, p.length, !p.stripe.striped));
    }
    read(chunk) {
        this.partial += chunk.toString('latin1');
        for (let nl = this.partial.indexOf('\n'); nl >= 0; nl = this.partial.indexOf('\n')) {
            const answer = parseRangeHash(this.partial.slice(0, nl));
            this.partial = this.partial.slice(nl + 1);
            const key = answer && `${answer.offset} ${answer.path}`;
            const asked = key && this.asked.get(key);
            if (!asked)
                continue;
            this.asked.delete(key);
            const { p, local } = asked;
            // parseRangeHash gives 64 hex digits or nothing: no digest never matches, even an empty local one.
            if (answer.digest && answer.digest === local)
                this.work.confirm(p, this.crew, this.carrier);
            else
                this.work.failed(p, this.crew, `sha256 on the instance does not match (got ${answer.digest || 'nothing'})`);
        }
    }
    end() {
        this.ended = true;
        if (!this.feed.writableEnded)
            this.feed.end();
    }
}

// EXTERNAL MODULE: ./build/action/files/hash.js
var hash = __webpack_require__(8263);
;// CONCATENATED MODULE: ./build/action/util/limit.js
/** At most `max` of the functions given to `run` are running at any time; the rest wait their turn, in order. */
class Limit {
    max;
    running = 0;
    waiting = [];
    constructor(max) {
        this.max = max;
    }
    async run(fn) {
        while (this.running >= this.max)
            await new Promise(resolve => this.waiting.push(resolve));
        this.running++;
        try {
            return await fn();
        }
        finally {
            this.running--;
            this.waiting.shift()?.();
        }
    }
}

;// CONCATENATED MODULE: ./build/action/transfer/upload.js
















/** Files from this size on are hashed on the instance while they are written (see streamRemoteSha256). */
const STREAM_VERIFY_BYTES = 8 * 1024 * 1024;
/**
 * Each streamed verification holds an exec session open; sshd allows 10 per connection by default
 * (MaxSessions), shared with SFTP, the batch sha256sum, the shell kept ready (ssh/exec.ts) and
 * commands: at most 8 at once. Larger files beyond this many at once are verified in the batch instead.
 */
const MAX_STREAMED_VERIFICATIONS = 4;
/**
 * Large files in flight at once, whatever `concurrency` says: each holds up to 2 MiB of writes in
 * flight, and a few already fill the path; the other workers go on with small files meanwhile.
 */
const MAX_LARGE_IN_FLIGHT = 8;
/**
 * Files verified together by one `sha256sum` exec at most (a batch goes sooner when nothing is left
 * in flight to join it); large files fill a batch by their bytes.
 */
const VERIFY_BATCH_FILES = 1024;
const VERIFY_BATCH_BYTES = 64 * 1024 * 1024;
/**
 * Bytes of small files in flight at once on a connection (each is read whole before it is sent):
 * enough to keep more than sshd's 2 MiB channel window full, at a bounded memory cost.
 */
const SMALL_BYTES_IN_FLIGHT = 16 * 1024 * 1024;
/** A file that failed on a live connection (the connection itself is fine). */
class FileError extends Error {
    file;
    permanent;
    constructor(file, message, permanent) {
        super(message);
        this.file = file;
        this.permanent = permanent;
    }
}
/**
 * Uploads over one SSH connection: each file goes to a temporary name beside its destination,
 * is verified there (sha256 on the instance, or read back), and only then renamed over the final
 * name, so a final path never holds a partial or unverified file.
 */
class UploadSession {
    conn;
    opts;
    sftp;
    verifyMethod = 'none';
    /** Temporary files this session created and has not yet renamed or removed. */
    openTemps = new Set();
    streamsOpen = 0;
    large = new Limit(MAX_LARGE_IN_FLIGHT);
    modes;
    /** The first failure no retry can change. */
    stopped;
    /**
     * uploadAll's state (one call per session), kept in fields and stepped by methods rather than
     * closures made anew by each call: each call site then sees one function whatever the session, where
     * V8 dropped and recompiled its optimised code for every new session's closures.
     */
    queue = [];
    next = 0;
    inFlight = 0;
    smallInFlight = 0;
    smallBytes = 0;
    batch = [];
    batchBytes = 0;
    failed = [];
    publishing = [];
    /** A failure that is not a file's own (the connection dropped). */
    lost;
    running;
    /** Aborted by end(): a pack being sent is cut short (the instance removes what it extracted). */
    ended = new AbortController();
    constructor(conn, opts) {
        this.conn = conn;
        this.opts = opts;
    }
    async start() {
        // The probe runs on a shell while the SFTP channel opens: two round trips saved.
        const probe = this.opts.verify === 'none' ? Promise.resolve('none') : probeVerifyMethod(this.conn);
        const raw = await this.conn.sftp().catch(async (err) => {
            await probe.catch(() => { });
            throw err;
        });
        this.sftp = new Sftp(raw, op => this.conn.guard(op));
        this.sftp.assumeDirs([...(this.opts.existingDirs ?? [])].map(d => remoteFilePath(this.opts.remoteRoot, d)));
        this.modes = new file_writes/* ExactModes */.q_(this.sftp);
        this.verifyMethod = await probe;
        return this.verifyMethod;
    }
    /**
     * Remove temporary files an earlier, dropped connection left behind. Each one removed (or already
     * gone) leaves the set; the rest stay for the next connection.
     */
    async removeTemps(temps) {
        // Files first: a pack's stage is removed once the files in it are.
        const stages = [...temps].filter(names/* isStagePath */.Kz);
        await Promise.all([...temps].filter(t => !(0,names/* isStagePath */.Kz)(t)).map(t => this.remove(temps, t, false)));
        await Promise.all(stages.map(t => this.remove(temps, t, true)));
    }
    /** Remove a temporary (a stage: an empty folder) and strike it from `temps` once it is gone. */
    remove(temps, t, stage) {
        return (stage ? this.sftp.rmdir(t) : this.sftp.unlink(t)).then(() => void temps.delete(t), (err) => void (err.code === SFTP_STATUS.NO_SUCH_FILE && temps.delete(t)));
    }
    /**
     * Upload the files; resolves with the ones that failed on this (still live) connection.
     * A dropped connection rejects instead, and the caller reconnects for the rest.
     *
     * What waits for what, so that the round trips do not grow with the number of files: the folders
     * are asked about together (one round trip) and the missing ones made in front of the files; every
     * small file the limits allow is in flight at once (open, then its write and close); a batch is
     * verified as soon as nothing is left in flight to join it, and its renames go out together. Batches
     * are verified side by side, not one after another.
     */
    async uploadAll(files) {
        await this.prepareFolders(files);
        this.next = this.inFlight = this.smallInFlight = this.smallBytes = this.batchBytes = 0;
        this.batch = [];
        this.failed = [];
        this.publishing = [];
        this.lost = undefined;
        // Small files go in packs where the instance can take them (transfer/pack.ts), beside the
        // rest; what a pack could not put in place goes over SFTP after it.
        const { packed, rest } = this.packsFor(files);
        const packing = packed.length ? this.sendPacks(packed) : Promise.resolve([]);
        // Whatever happens to the SFTP files, the packs' scripts are over before this returns: a
        // cancelled deploy's undo must not run beside a tar still writing.
        const [sent, left] = await Promise.allSettled([this.run(rest), packing]);
        if (sent.status === 'rejected')
            throw sent.reason;
        if (left.status === 'rejected')
            throw left.reason;
        if (left.value.length && !this.ended.signal.aborted)
            await this.run(left.value);
        this.flush();
        await Promise.all(this.publishing);
        return this.failed;
    }
    /**
     * Upload `files` over SFTP. Files are started from their predecessors' callbacks (no loop awaiting
     * room): a file takes a place among `concurrency` and, when small, its bytes within the budget
     * (read into memory until written). A failure that is not the file's own (the connection dropped)
     * rejects once no more files are to start, as a Promise.all over the files did.
     */
    run(files) {
        this.queue = files;
        this.next = 0;
        return new Promise((resolve, reject) => {
            this.running = { resolve, reject };
            this.pump();
        });
    }
    /** Packs sent at once: one per shell the connection keeps (no pack waits for a shell to open), PACKS_AT_ONCE at most. */
    packsAtOnce() {
        return Math.max(1, Math.min(PACKS_AT_ONCE, shellsOf(this.conn)));
    }
    /** The files that go in packs, in batches, and the rest. */
    packsFor(files) {
        if (this.opts.packs === false || this.verifyMethod !== 'sha256sum' || !packsUsable(this.conn))
            return { packed: [], rest: files };
        const members = [];
        const rest = [];
        for (const f of files) {
            const m = packMember(this.opts.remoteRoot, f);
            if (m)
                members.push(m);
            else
                rest.push(f);
        }
        return { packed: packBatches(members, this.packsAtOnce()), rest };
    }
    /**
     * Send the packs, PACKS_AT_ONCE at a time (each holds a shell), right behind the mkdir requests
     * of the folders they go in (the script waits for those: remote/pack.ts); their good files go to
     * be renamed as they are known. Resolves with the files left for SFTP once no pack's script is
     * running (rejects so too, with the first failure).
     */
    async sendPacks(batches) {
        const left = [];
        let next = 0;
        const sender = async () => {
            while (next < batches.length)
                await this.sendBatch(batches[next++], left);
        };
        const senders = Array.from({ length: Math.min(this.packsAtOnce(), batches.length) }, sender);
        const failed = (await Promise.allSettled(senders)).find(r => r.status === 'rejected');
        if (failed)
            throw failed.reason;
        return left;
    }
    /** One pack (sendPacks): its files that are not put in place go to `left`. */
    async sendBatch(batch, left) {
        const { remoteRoot } = this.opts;
        if (this.stopped || this.ended.signal.aborted || !packsUsable(this.conn)) {
            left.push(...batch.map(m => m.file));
            return;
        }
        const folders = [...new Set(batch.map(m => external_node_path_.posix.dirname(m.file.relativePath)))].filter(d => d !== '.');
        const stages = stagePack(remoteRoot, batch);
        // Recorded before the script runs: a connection that drops leaves them to the next one.
        for (const m of batch)
            this.openTemps.add(m.temp);
        const out = await sendPack(this.conn, remoteRoot, folders, batch, stages, this.openTemps, n => this.opts.onBytes?.(n), this.ended.signal);
        for (const m of out.published) {
            this.openTemps.delete(m.temp);
            this.opts.onFileDone(m.file);
        }
        const emptied = out.stale.map(m => this.dropTemp(m.temp));
        for (const m of [...out.gone, ...out.published])
            this.openTemps.delete(m.temp);
        left.push(...out.rest.map(m => m.file));
        // Ended meanwhile (cancelled): nothing more is renamed; the temporaries stay listed for the clean-up.
        if (this.ended.signal.aborted)
            left.push(...out.good.map(m => m.file));
        else if (out.good.length) {
            const staged = out.good.map(m => ({
                file: m.file,
                temp: m.temp,
                final: m.final,
                sha256: m.sha256,
                // Checked on the instance by the pack's own script.
                remoteSha256: m.sha256
            }));
            const p = this.publish(staged, this.failed);
            p.catch(() => { });
            emptied.push(p);
        }
        // Once what is left in them has gone (renamed or removed), the stages go too; after a cancel
        // or a lost connection they stay listed for the clean-up.
        const removed = Promise.all(emptied).then(() => this.ended.signal.aborted ? undefined : this.removeStages(out.stages));
        removed.catch(() => { });
        this.publishing.push(removed);
    }
    /** Stages emptied of their files: removed (one that is not stays listed for the clean-up). */
    async removeStages(dirs) {
        await Promise.all(dirs.map(d => this.remove(this.openTemps, d, true)));
    }
    /** Start files while there is room; settle uploadAll's wait once none is left to start or in flight. */
    pump() {
        const files = this.queue;
        while (this.next < files.length && !this.stopped) {
            const file = files[this.next];
            const small = file.size <= file_writes/* SMALL_FILE_BYTES */.XG;
            if (this.inFlight >= this.opts.concurrency ||
                (small && this.smallInFlight > 0 && this.smallBytes + file.size > SMALL_BYTES_IN_FLIGHT))
                return;
            this.next++;
            this.inFlight++;
            if (small) {
                this.smallInFlight++;
                this.smallBytes += file.size;
            }
            this.stage(file).then(this.onStaged, (err) => this.onFailed(file, err));
        }
        // After a failure no retry can change (a full disk, a file where a folder goes), no new file starts.
        if (this.lost)
            this.running?.reject(this.lost.err);
        else if (this.inFlight === 0)
            this.running?.resolve();
    }
    onStaged = (s) => {
        this.batch.push(s);
        this.batchBytes += s.file.size;
        this.settled(s.file.size);
    };
    onFailed(file, err) {
        try {
            this.failed.push(this.asFileError(file, err));
        }
        catch (e) {
            this.lost ??= { err: e };
        }
        this.settled(file.size);
    }
    settled(size) {
        this.inFlight--;
        if (size <= file_writes/* SMALL_FILE_BYTES */.XG) {
            this.smallInFlight--;
            this.smallBytes -= size;
        }
        // Verified as soon as no small file is left to join the batch (or it is full).
        if (this.batch.length >= VERIFY_BATCH_FILES ||
            this.batchBytes >= VERIFY_BATCH_BYTES ||
            this.smallInFlight === 0)
            this.flush();
        this.pump();
    }
    /** The staged files so far go to be verified and published. */
    flush() {
        if (this.batch.length === 0)
            return;
        const p = this.publish(this.batch, this.failed);
        p.catch(() => { }); // awaited at the end of uploadAll, with the rest
        this.publishing.push(p);
        this.batch = [];
        this.batchBytes = 0;
    }
    /**
     * Before any file: where the folders lead (one round trip for all), links out of remote-path
     * refused, and the missing folders' mkdir requests sent ahead of the files that go in them (nothing
     * waits for their answers: an open behind them finds the folder, a pack's script waits for it).
     */
    async prepareFolders(files) {
        const folders = foldersUnder(files.map(f => f.relativePath));
        const { remoteRoot, survey: made } = this.opts;
        const survey = (made && surveyFor(made, remoteRoot, folders)) ?? (await surveyFolders(this.sftp, remoteRoot, folders));
        await checkRemoteLinks(this.sftp, survey, this.conn.label, {
            follow: !!this.opts.followRemoteSymlinks,
            deleting: !!this.opts.deletesExtras
        });
        const { present, toMake } = foldersOf(survey);
        this.sftp.assumeDirs(present);
        this.sftp.mkdirAhead(toMake);
    }
    /** A failed write on a live connection, as the instance explains it (a UserError when no retry can help). */
    async explain(err, file, final) {
        const why = await explainWriteFailure(err, { sftp: this.sftp, conn: this.conn, final, size: file.size });
        if (why instanceof errors/* UserError */.yo)
            this.stopped ??= why;
        return why;
    }
    asFileError(file, err) {
        if (err instanceof FileError)
            return err;
        if (this.conn.isClosed)
            throw err; // the connection dropped: let the caller reconnect
        // Explained where it happened (explain): the message already names the path and what to fix.
        if (err instanceof errors/* UserError */.yo)
            return new FileError(file, err.message, true);
        const e = err;
        return new FileError(file, `${file.relativePath}: ${e.message}`, e.code === SFTP_STATUS.PERMISSION_DENIED);
    }
    /** Remove a temporary file; it stays on the list for the next connection unless the removal is confirmed. */
    async dropTemp(temp) {
        await this.sftp.unlink(temp).then(() => this.openTemps.delete(temp), () => { });
    }
    /**
     * Open a temporary file; when a folder assumed to exist does not, it is made and the open tried
     * again. `then` is given the handle as soon as the answer is read (see Sftp.open).
     */
    async openTemp(temp, dir, mode, then) {
        try {
            return await this.sftp.open(temp, 'w', mode, then);
        }
        catch (err) {
            if (err.code !== SFTP_STATUS.NO_SUCH_FILE)
                throw err;
            this.sftp.forgetAssumedDirs();
            await this.sftp.mkdirp(dir);
            return this.sftp.open(temp, 'w', mode, then);
        }
    }
    /** Write one file to its temporary name; large files wait for one of the MAX_LARGE_IN_FLIGHT places. */
    stage(file) {
        return file.size <= file_writes/* SMALL_FILE_BYTES */.XG ? this.stageSmall(file) : this.large.run(() => this.stageLarge(file));
    }
    /** Where a file goes: its final path, a temporary beside it, and their folder (made if need be). */
    async place(file) {
        const final = remoteFilePath(this.opts.remoteRoot, file.relativePath);
        const temp = (0,names/* tempPathFor */.FD)(final);
        const dir = external_node_path_.posix.dirname(final);
        if (!this.sftp.hasDir(dir))
            await this.sftp.mkdirp(dir).catch(async (err) => {
                throw await this.explain(err, file, final);
            });
        return { final, temp };
    }
    /**
     * A small file: one read, hashed from the same bytes, and every request after the open sent at
     * once: the write, the mode check and the close go out together as soon as the open is answered
     * (SFTP has the server answer as if each request had waited for the one before), so the file is
     * one round trip after its open. Written with callbacks, not async and await: it runs for every
     * file, and V8 compiles a plain function of this size much more cheaply than a generator.
     */
    stageSmall(file) {
        const final = remoteFilePath(this.opts.remoteRoot, file.relativePath);
        if (!this.sftp.hasDir(external_node_path_.posix.dirname(final)))
            return this.place(file).then(({ temp }) => this.sendSmall(file, final, temp));
        return this.sendSmall(file, final, (0,names/* tempPathFor */.FD)(final));
    }
    sendSmall(file, final, temp) {
        const mode = file.mode & 0o777;
        let data;
        let sha256 = '';
        try {
            data = (0,file_writes/* readSmallFile */.EW)(file);
            if (this.opts.verify !== 'none')
                sha256 = (0,util_sha256/* sha256Hex */.fg)(data);
        }
        catch (err) {
            return this.smallFailed(err, file, final, temp);
        }
        // Recorded before the open: when the connection drops, the server may have created the file even
        // though its answer never arrived, and the next connection must remove it.
        this.openTemps.add(temp);
        const sent = { opened: false, chmod: false };
        const opened = (h) => {
            sent.opened = true;
            sent.chmod = this.modes.send(h, mode);
            if (sent.chmod)
                sent.chmod.catch(() => { });
        };
        const staged = { file, temp, final, sha256 };
        const written = () => {
            this.opts.onBytes?.(data.length);
            if (!sent.chmod)
                return staged;
            // The first file of a mode, or one sent while its check was out: the mode set by path if need be.
            return sent.chmod
                .then(wrong => (wrong ? this.sftp.chmod(temp, mode) : undefined))
                .then(() => staged, err => this.smallFailed(err, file, final, temp));
        };
        return this.sftp.putWhole(temp, mode, data, opened).then(written, err => {
            // A folder assumed to exist does not: made, and the file sent again.
            if (sent.opened || err.code !== SFTP_STATUS.NO_SUCH_FILE)
                return this.smallFailed(err, file, final, temp);
            this.sftp.forgetAssumedDirs();
            return this.sftp
                .mkdirp(external_node_path_.posix.dirname(final))
                .then(() => this.sftp.putWhole(temp, mode, data, opened))
                .then(written, err2 => this.smallFailed(err2, file, final, temp));
        });
    }
    async smallFailed(err, file, final, temp) {
        throw await this.dropFailed(err, file, final, temp);
    }
    /** After a failed write: the failure as the instance explains it, and the partial temporary removed. */
    async dropFailed(err, file, final, temp) {
        // Asked while the partial temporary still takes its space (a full disk is seen as full).
        const why = await this.explain(err, file, final);
        // On a live connection, remove the partial temporary now; after a drop, the next connection does.
        if (!this.conn.isClosed)
            await this.dropTemp(temp);
        return why;
    }
    /** A large file: pipelined writes, hashed on the worker thread meanwhile (and on the instance, when it is large enough). */
    async stageLarge(file) {
        const { final, temp } = await this.place(file);
        const dir = external_node_path_.posix.dirname(final);
        const mode = file.mode & 0o777;
        let handle;
        let streaming;
        let remoteSha256;
        // Not hashed at all when nothing is verified.
        const digest = this.opts.verify !== 'none' ? (0,hash/* sha256File */.Q)(file.localPath) : Promise.resolve('');
        digest.catch(() => { });
        try {
            this.openTemps.add(temp);
            handle = await this.openTemp(temp, dir, mode);
            if (this.verifyMethod === 'sha256sum' &&
                file.size >= STREAM_VERIFY_BYTES &&
                this.streamsOpen < MAX_STREAMED_VERIFICATIONS) {
                streaming = streamRemoteSha256(this.conn, temp);
                this.streamsOpen++;
            }
            await (0,file_writes/* writeLarge */.HG)(this.sftp, handle, file, {
                onBytes: n => this.opts.onBytes?.(n),
                onWritten: bytes => streaming?.advance(bytes)
            });
            const chmod = this.modes.send(handle, mode);
            if (chmod)
                chmod.catch(() => { });
            remoteSha256 = await streaming?.finish(file.size);
            const closing = this.sftp.closeHandle(handle);
            handle = undefined;
            await closing;
            if (chmod && (await chmod))
                await this.sftp.chmod(temp, mode);
        }
        catch (err) {
            streaming?.cancel();
            if (handle)
                await this.sftp.closeHandle(handle).catch(() => { });
            throw await this.dropFailed(err, file, final, temp);
        }
        finally {
            if (streaming)
                this.streamsOpen--;
        }
        const sha256 = await digest;
        // A streamed digest only ever confirms; anything else is left to the batch's own sha256sum.
        return { file, temp, final, sha256, remoteSha256: remoteSha256 === sha256 ? remoteSha256 : undefined };
    }
    /** Verify a batch of staged files, rename the good ones into place, drop and report the rest. */
    async publish(staged, failed) {
        if (staged.length === 0)
            return;
        const trips = this.conn.trips;
        trips.phase = 'verify';
        const there = await this.checkOnInstance(staged.filter(s => s.remoteSha256 === undefined));
        trips.phase = 'publish';
        await Promise.all(staged.map(s => this.publishOne(s, there).catch((err) => {
            failed.push(this.asFileError(s.file, err));
        })));
        trips.phase = 'upload';
    }
    /** One staged file: its verdict, then the rename over its final path (a plain function: it runs for every file). */
    publishOne(s, there) {
        const known = this.knownMismatch(s, there);
        if (known === null)
            return this.mismatch(s, there).then(wrong => this.renameChecked(s, wrong));
        return this.renameChecked(s, known);
    }
    /** Renamed into place when nothing is wrong; a mismatch drops the temporary and fails the file. */
    renameChecked(s, wrong) {
        if (wrong !== undefined)
            return this.dropTemp(s.temp).then(() => {
                throw new FileError(s.file, `${s.file.relativePath}: sha256 on the instance does not match${wrong}`, false);
            });
        return this.sftp.renameOver(s.temp, s.final).then(() => {
            this.openTemps.delete(s.temp);
            this.opts.onFileDone(s.file);
        }, err => this.renameFailed(err, s));
    }
    async renameFailed(err, s) {
        const why = await this.explain(err, s.file, s.final);
        // A failed rename drops its verified temporary now (a retry writes a new one), not with the next run.
        if (!this.conn.isClosed)
            await this.dropTemp(s.temp);
        throw why;
    }
    /**
     * One batch's check by sha256sum on the instance: compared there where it can be (remoteCheck:
     * only the failures come back), the rest listed. Nothing when the account cannot exec.
     */
    async checkOnInstance(unhashed) {
        if (this.verifyMethod !== 'sha256sum' || unhashed.length === 0)
            return {};
        const compared = unhashed.filter(s => checkable(s.temp));
        const failed = await remoteCheck(this.conn, new Map(compared.map(s => [s.temp, s.sha256])));
        const listed = failed ? unhashed.filter(s => !checkable(s.temp)) : unhashed;
        const digests = listed.length
            ? await remoteSha256(this.conn, listed.map(s => s.temp))
            : undefined;
        return { failed, digests };
    }
    /**
     * Why the instance's copy of a staged file is not the local one (after "does not match"; '' when
     * only the verdict came back), or undefined when it is, or nothing is verified; null when only
     * reading the file back can tell (mismatch does).
     */
    knownMismatch(s, there) {
        if (this.verifyMethod === 'none' || s.remoteSha256 !== undefined)
            return undefined;
        if (there.failed && checkable(s.temp))
            return there.failed.has(s.temp) ? '' : undefined;
        if (!there.digests)
            return null;
        const digest = there.digests.get(s.temp);
        return digest === s.sha256 ? undefined : ` (got ${digest ?? 'nothing'})`;
    }
    /** knownMismatch, reading the file back where the instance could not hash it. */
    async mismatch(s, there) {
        const known = this.knownMismatch(s, there);
        if (known !== null)
            return known;
        const digest = await readBackSha256(this.sftp, s.temp, s.file.size);
        return digest === s.sha256 ? undefined : ` (got ${digest ?? 'nothing'})`;
    }
    end() {
        this.ended.abort();
        this.sftp?.end();
    }
}

;// CONCATENATED MODULE: ./build/action/deploy/upload-files.js






const PROGRESS_EVERY_MS = 10000;
/**
 * Upload files into remoteRoot over the target's connection. When the connection drops, it is
 * reopened (with backoff) and the upload carries on with the files not yet published. A file that
 * fails on a live connection is retried up to `retries` times.
 */
async function uploadFiles(opts) {
    const all = [opts.link, ...(opts.extraLinks ?? [])];
    const striped = await stripedFiles(opts);
    if (striped.length) {
        await uploadStriped(striped, {
            ...opts,
            links: all.slice(0, Math.max(1, connectionsUsable(striped))),
            onBytes: ticker(opts, striped),
            onFileDone: f => {
                opts.progress.filesUploaded++;
                opts.progress.bytesTransferred += f.size;
            }
        });
    }
    const files = striped.length ? opts.files.filter(f => !striped.includes(f)) : opts.files;
    if (files.length === 0)
        return;
    const links = all.slice(0, Math.max(1, files.length));
    if (links.length === 1)
        return uploadOver(opts.link, files, opts);
    const shares = shareOut(files, links.length);
    // Each connection retries and resumes its own share; the first failure is the upload's.
    const settled = await Promise.allSettled(shares.map((share, i) => uploadOver(links[i], share, opts)));
    const failed = settled.find(r => r.status === 'rejected');
    if (failed)
        throw failed.reason;
}
/**
 * The files written in ranges over every connection (transfer/striped.ts): those of a MiB and more,
 * when the instance can hash ranges (an account that cannot exec has its files read back whole instead).
 */
async function stripedFiles(opts) {
    const large = opts.files.filter(isRanged);
    if (large.length === 0 || opts.verify === 'none')
        return large;
    const method = await opts.link.step('Connecting', conn => probeVerifyMethod(conn), opts.signal);
    if (method !== 'sha256sum')
        return [];
    if (opts.progress.verification === 'pending')
        opts.progress.verification = 'sha256 (hashed on the instance)';
    return large;
}
/** Progress lines for striped files, as uploadOver writes them for the rest. */
function ticker(opts, files) {
    const started = Date.now();
    const total = files.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    let last = started;
    return n => {
        sent += n;
        if (Date.now() - last < PROGRESS_EVERY_MS)
            return;
        last = Date.now();
        const secs = (last - started) / 1000;
        opts.logger.info(`${opts.link.label}: ${mib(Math.min(sent, total))}/${mib(total)} MiB of ${files.length} large files sent (${(sent / 1e6 / secs).toFixed(1)} MB/s)`);
    };
}
/**
 * `count` shares of about equal bytes, each a run of consecutive files (files in one folder mostly
 * stay together, so each connection makes few folders). None is empty while there are files.
 */
function shareOut(files, count) {
    const shares = Array.from({ length: Math.min(count, files.length) }, () => []);
    if (!shares.length)
        return [];
    // A small file costs about as much as a request's worth of bytes: count each as at least 16 KiB.
    const weight = (f) => Math.max(f.size, 16 * 1024);
    let remaining = files.reduce((n, f) => n + weight(f), 0);
    let target = remaining / shares.length;
    let taken = 0;
    let k = 0;
    files.forEach((f, i) => {
        const last = k === shares.length - 1;
        // Move on when this share has its part (what is left, over the shares left), or when the rest
        // are just enough for one file each.
        if (!last && shares[k].length > 0) {
            const full = taken + weight(f) / 2 > target;
            if (full || files.length - i <= shares.length - 1 - k) {
                remaining -= taken;
                k++;
                taken = 0;
                target = remaining / (shares.length - k);
            }
        }
        shares[k].push(f);
        taken += weight(f);
    });
    return shares;
}
async function uploadOver(link, files, opts) {
    const { logger, progress } = opts;
    const label = link.label;
    const started = Date.now();
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    let pending = [...files];
    const done = new Set();
    const fileAttempts = new Map();
    const leftoverTemps = new Set();
    let consecutiveFailures = 0;
    let filesDone = 0;
    let bytesDone = 0;
    let bytesSent = 0;
    let lastProgress = Date.now();
    const tick = () => {
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS)
            return;
        lastProgress = Date.now();
        const secs = (Date.now() - started) / 1000;
        logger.info(`${label}: ${filesDone}/${files.length} files, ${mib(bytesDone)}/${mib(totalBytes)} MiB published (${(bytesSent / 1e6 / secs).toFixed(1)} MB/s)`);
    };
    while (pending.length > 0) {
        if (opts.signal?.aborted)
            throw new errors/* UserError */.yo(`Upload to ${label} was cancelled.`);
        let session;
        const before = filesDone;
        // A cancellation ends the SFTP channel at once: the requests in flight fail and nothing new starts.
        const stop = () => session?.end();
        opts.signal?.addEventListener('abort', stop, { once: true });
        try {
            const conn = await link.get(opts.signal);
            // Another connection to the same instance: the first one's probe answers for it too.
            const first = opts.link.live;
            if (link !== opts.link && first && opts.verify !== 'none')
                shareVerifyMethod(conn, first);
            session = new UploadSession(conn, {
                remoteRoot: opts.remoteRoot,
                existingDirs: opts.existingDirs,
                survey: opts.survey,
                concurrency: opts.concurrency,
                verify: opts.verify,
                followRemoteSymlinks: opts.followRemoteSymlinks,
                deletesExtras: opts.deletesExtras,
                onFileDone: f => {
                    done.add(f);
                    filesDone++;
                    bytesDone += f.size;
                    progress.filesUploaded++;
                    progress.bytesTransferred += f.size;
                    tick();
                },
                onBytes: n => {
                    bytesSent += n;
                    tick();
                }
            });
            const method = await session.start();
            if (progress.verification === 'pending')
                progress.verification =
                    method === 'sha256sum' ? 'sha256 (hashed on the instance)' : 'sha256 (read back over SFTP)';
            if (leftoverTemps.size)
                await session.removeTemps(leftoverTemps);
            const failed = await session.uploadAll(pending);
            if (opts.signal?.aborted)
                throw new errors/* UserError */.yo(`Upload to ${label} was cancelled.`);
            if (conn.isClosed)
                throw new Error('the connection closed during the upload');
            consecutiveFailures = 0;
            pending = retryableFiles(failed, fileAttempts, opts.retries, logger, label);
            if (pending.length)
                await (0,retry/* sleep */.yy)((0,retry/* backoffDelay */.EY)(Math.max(...pending.map(f => fileAttempts.get(f))), opts.backoffBaseMs, 15000));
        }
        catch (err) {
            if (err instanceof errors/* UserError */.yo)
                throw err;
            if (opts.signal?.aborted)
                throw new errors/* UserError */.yo(`Upload to ${label} was cancelled.`);
            for (const t of session?.openTemps ?? [])
                leftoverTemps.add(t);
            pending = pending.filter(f => !done.has(f));
            if (filesDone > before)
                consecutiveFailures = 0;
            consecutiveFailures++;
            link.drop();
            if (consecutiveFailures > opts.retries) {
                throw new errors/* UserError */.yo(`${(0,errors/* errorMessage */.gJ)(err)} (gave up after ${consecutiveFailures} attempts)`);
            }
            const delay = (0,retry/* backoffDelay */.EY)(consecutiveFailures, opts.backoffBaseMs, 15000);
            logger.info(`${label}: ${(0,errors/* errorMessage */.gJ)(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${consecutiveFailures + 1} of ${opts.retries + 1}), ${pending.length} files left`);
            await (0,retry/* sleep */.yy)(delay);
        }
        finally {
            opts.signal?.removeEventListener('abort', stop);
            session?.end();
        }
    }
}
function mib(n) {
    return (n / 1048576).toFixed(1);
}
function retryableFiles(failed, attempts, retries, logger, label) {
    const again = [];
    // A failure no retry can change ends the upload at once, in its own words.
    const permanent = failed.find(f => f.permanent);
    if (permanent)
        throw new errors/* UserError */.yo(permanent.message);
    for (const f of failed) {
        const n = (attempts.get(f.file) ?? 0) + 1;
        attempts.set(f.file, n);
        if (n > retries) {
            throw new errors/* UserError */.yo(`Could not upload ${f.message} on ${label} (after ${n} attempts).`);
        }
        logger.debug(`${label}: ${f.message}; retrying (attempt ${n + 1} of ${retries + 1})`);
        again.push(f.file);
    }
    // Each attempt is in the debug log; the log shows one line per round.
    if (again.length)
        logger.info(`${label}: ${again.length} files failed (first: ${failed[0].message}); retrying them after a pause`);
    return again;
}

;// CONCATENATED MODULE: ./build/action/deploy/context.js

















/**
 * The connection a deploy to one target uses; runDeploy makes it early so connecting overlaps planning.
 * `early`: the channels it opens behind each login (deployChannels for a deploy's first connection).
 */
function targetConnection(o, early) {
    return new TargetConnection({
        target: o.target,
        login: o.login,
        hostKey: o.hostKey,
        logger: o.logger,
        retries: o.config.retries,
        backoffBaseMs: o.backoffBaseMs ?? 1000,
        beforeConnect: o.beforeConnect,
        loginRefused: o.loginRefused,
        early
    });
}
/**
 * The channels a deploy's first connection opens as it connects, before the files are planned: a
 * shell for the scripts (the lock is the first), and unless nothing is to be uploaded (a rollback, a
 * dry run) the upload's SFTP channel.
 */
function deployChannels(config) {
    const upload = !config.rollback && !config.dryRun;
    // Decided before the files are known: an upload that verifies may send packs, a shell each.
    const execs = upload && config.verify !== 'none' ? PACKS_AT_ONCE : 1;
    return { sftp: upload, exec: SHELL_COMMAND, execs };
}
/**
 * A connection beside a deploy's first that the upload shares files with, its round trips counted
 * to the upload: an SFTP channel and, where files are verified, `shells` opened behind the login
 * (PACKS_AT_ONCE where small files may go in packs).
 */
function extraLink(o, shells = PACKS_AT_ONCE) {
    const verify = o.config.verify !== 'none';
    const l = targetConnection(o, { sftp: true, exec: verify ? SHELL_COMMAND : undefined, execs: shells });
    l.trips.phase = 'upload';
    return l;
}
/**
 * Whether an upload of files found so far (`count` of them, the last `size` bytes) will use a
 * second connection wherever one is allowed: two files or more, or one striped (connectionsWorth
 * and connectionsUsable are at least 2 then), so runDeploy opens it while the rest is planned.
 */
function worthSecondConnection(count, size) {
    return count >= 2 || isStriped({ size });
}
/** Bytes one connection carries in about the time another takes to open (its TCP window a round trip). */
const LATE_EXTRA_BYTES = 64 * 1024 * 1024;
/**
 * The connections worth using for an upload decided late (a sync knows what changed only after
 * the comparison): another connection then opens on the critical path, some ten round trips, so it
 * pays only for more than one connection carries meanwhile: files beyond what `concurrency` keeps
 * in flight twice over, many bytes, or a file striped over every connection.
 */
function lateConnections(files, concurrency) {
    const bytes = files.reduce((n, f) => n + f.size, 0);
    if (files.length > 2 * concurrency || bytes > LATE_EXTRA_BYTES)
        return connectionsUsable(files);
    return Math.min(1, connectionsUsable(files));
}
/**
 * The connections an upload of `files` is worth: all it can use when `connections` was given, or
 * over ssm, whose data channel carries at most its window (ssm-window-bytes) a round trip per
 * connection, so that each connection counts there whatever the files; else connectionsWorth.
 */
function connectionsFor(config, mode, files) {
    if (config.connectionsGiven || mode === 'ssm')
        return connectionsUsable(files);
    return connectionsWorth(files);
}
/**
 * How many connections an upload to one target may use: `connections` (when not given, 8 over ssm,
 * SSM_DEFAULT_CONNECTIONS), and over eice its share of the endpoint's tunnels.
 */
function connectionLimit(config, mode) {
    const tunnels = mode === 'eice' ? Math.floor(config.eiceMaxTunnels / Math.max(1, config.maxParallelTargets)) : Infinity;
    const wanted = !config.connectionsGiven && mode === 'ssm' ? action_config/* SSM_DEFAULT_CONNECTIONS */.it : config.connections;
    return Math.max(1, Math.min(wanted, tunnels));
}
/** The folders (relative, with every ancestor, and the root itself as '.') that hold these files. */
function context_foldersOf(rels) {
    const dirs = new Set();
    for (const rel of rels) {
        for (let d = external_node_path_.posix.dirname(rel); !dirs.has(d); d = external_node_path_.posix.dirname(d)) {
            dirs.add(d);
            if (d === '.')
                break;
        }
    }
    return dirs;
}
/**
 * What every step of one target's deploy shares: the options, the connection, the result's figures
 * (the steps add to them), and the helpers steps use (log lines, user commands, the upload, the
 * comparison). It holds no step's state: that is DeployState, handed from step to step.
 */
class DeployContext {
    o;
    result;
    link;
    isProtected;
    root;
    /** This deploy's lock token (unique per deploy) and the token its temporaries carry (per run). */
    token = `${names/* RUN_TOKEN */.u8}-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`;
    tempToken = names/* RUN_TOKEN */.u8;
    /** Steps whose fragment rode along with an earlier exec (the runner skips them). */
    absorbed = new Set();
    /** The steps after the one running (for execWithTail). */
    following = [];
    /** While undoing after a cancellation: the budget's signal (undos pass it to their execs). */
    undoSignal;
    constructor(o) {
        this.o = o;
        const { config, target, plan } = o;
        this.result = {
            target: target.label,
            mode: target.mode,
            status: 'failure',
            filesUploaded: 0,
            filesSkipped: 0,
            filesTotal: plan.files.length,
            bytesTransferred: 0,
            durationMs: 0,
            verification: config.verify === 'none' ? 'none' : 'pending',
            reconnects: 0
        };
        this.link = o.link ?? targetConnection(o, deployChannels(o.config));
        if (o.extraLink)
            this.extra.push(this.ready(o.extraLink));
        this.isProtected = protectMatcher(config.protect);
        this.root = config.remotePath;
    }
    /**
     * The upload's SFTP channel, the verification probe and a shell for the next script open
     * alongside the first steps (lock, listing): each costs round trips, which over ssm or eice are
     * tens of milliseconds apiece.
     */
    prepareConnection() {
        const { config, plan } = this.o;
        const upload = !config.rollback && plan.files.length > 0;
        // The verification probe is asked in the lock's exec (verifyProbe), so the lock's script
        // goes to the shell kept ready here rather than wait for one of its own to start.
        const shells = this.packShells();
        this.link.setOnConnect(conn => {
            if (upload)
                conn.sftp().catch(() => { });
            keepShellReady(conn, shells);
        });
        // A full upload of several files shares them among more connections: open those alongside the
        // first (a sync decides later, once it knows how many files changed).
        if (upload && !config.sync)
            this.extraLinks(connectionsFor(config, this.o.target.mode, plan.files));
    }
    /** Shells each connection keeps ready: one for scripts, and where small files go in packs, one per pack sent at once. */
    packShells() {
        const { config, plan } = this.o;
        const packs = config.verify !== 'none' && plan.files.some(f => f.size <= file_writes/* SMALL_FILE_BYTES */.XG);
        return packs ? PACKS_AT_ONCE : 1;
    }
    /**
     * What the lock's exec asks of the verification probe for the upload (transfer/verify.ts), if
     * anything: OpenSSL only where a file will be hashed by the large-file hasher (a ranged upload, a
     * sync's comparison).
     */
    verifyProbe() {
        const { config, plan } = this.o;
        if (config.rollback || plan.files.length === 0 || config.verify === 'none')
            return undefined;
        return { openssl: !!config.sync || plan.files.some(isRanged) };
    }
    /** Connections beside `link` that the upload shares files with. */
    extra = [];
    connectionLimit() {
        return connectionLimit(this.o.config, this.o.target.mode);
    }
    /** The connections beside `link` for an upload that can use `usable` connections, opened (and made ready) now. */
    extraLinks(usable) {
        const want = Math.min(this.connectionLimit() - 1, usable - 1);
        while (this.extra.length < want) {
            const l = extraLink(this.o, this.packShells());
            l.prewarm(this.o.signal ?? new AbortController().signal);
            this.extra.push(this.ready(l));
        }
        return this.extra.slice(0, Math.max(0, want));
    }
    /**
     * What an extra connection starts as it connects: the upload's SFTP channel and the shells packs
     * need (set here for one runDeploy opened before the files were planned, too).
     */
    ready(l) {
        const verify = this.o.config.verify !== 'none';
        const shells = this.packShells();
        // No probe of their own: the upload gives them the first connection's answer (shareVerifyMethod).
        l.setOnConnect(conn => {
            conn.sftp().catch(() => { });
            if (verify)
                keepShellReady(conn, shells);
        });
        return l;
    }
    /** Close every connection and put their figures in the result. */
    async closeLinks() {
        this.link.close();
        for (const l of this.extra) {
            await l.settle();
            l.close();
        }
        this.result.reconnects = this.link.reconnects + this.extra.reduce((n, l) => n + l.reconnects, 0);
        // The connections wait side by side: each phase took as many round trips as the longest chain.
        const trips = { ...this.link.trips.byPhase };
        for (const l of this.extra)
            for (const p of Object.keys(trips))
                trips[p] = Math.max(trips[p], l.trips.byPhase[p]);
        this.result.roundTrips = trips;
        this.result.connections = 1 + this.extra.length;
    }
    get config() {
        return this.o.config;
    }
    get label() {
        return this.o.target.label;
    }
    get cancelled() {
        return !!this.o.signal?.aborted;
    }
    throwIfCancelled() {
        if (this.cancelled)
            throw new errors/* UserError */.yo(`The deploy to ${this.label} was cancelled`);
    }
    /** The signal a step's work stops on: the deploy's, or while undoing, the undo budget's. */
    get signal() {
        return this.undoSignal ?? this.o.signal;
    }
    info(line) {
        this.o.logger.info(this.o.parallel ? `[${this.label}] ${line}` : line);
    }
    warn(line) {
        this.o.logger.warning(line);
    }
    /** A log group when targets run one at a time; plain prefixed lines when they run together. */
    phase(name, fn) {
        return this.o.parallel ? fn() : this.o.logger.group(`${name}`, fn);
    }
    /** Run a script as one idempotent step (reconnecting when the connection drops under it). */
    exec(what, script, signal = this.signal) {
        return this.link.step(what, conn => runScriptOk(conn, script, what), signal);
    }
    /**
     * Run `script` with the fragments of the steps right after this one that can ride along (unlock,
     * for one), in one exec. Returns the output and what those steps would have returned.
     */
    async execWithTail(what, script, state, run = (conn, s) => runScriptOk(conn, s, what)) {
        const { riders, tail, done } = this.fragments(this.following, state);
        const out = await this.link.step(what, conn => run(conn, script + tail), this.signal);
        for (const step of riders)
            this.absorbed.add(step);
        return { out, done };
    }
    /** The fragments of the first of `steps` that have one, in a row (unlock's, for one). */
    fragments(steps, state) {
        const riders = [];
        const done = {};
        let tail = '';
        for (const step of steps) {
            const f = step.fragment?.(this, { ...state, ...done });
            if (!f)
                break;
            riders.push(step);
            tail += f.script;
            Object.assign(done, f.done);
        }
        return { riders, tail, done };
    }
    commandEnv(releasePath, previous) {
        const env = {
            EC2_PUSH_RELEASE_PATH: releasePath,
            EC2_PUSH_RELEASE_ID: this.result.releaseId ?? this.config.releaseId,
            EC2_PUSH_REMOTE_PATH: this.root,
            EC2_PUSH_TARGET: this.label
        };
        if (previous)
            env.EC2_PUSH_PREVIOUS_RELEASE_PATH = (0,names/* releaseDir */.ZI)(this.root, previous);
        return env;
    }
    /** pre-command / post-command over the same connection (never retried: it may not be idempotent). */
    async command(name, env) {
        const command = name === 'pre-command' ? this.config.preCommand : this.config.postCommand;
        if (!command)
            return;
        // post-command's output becomes the command-output step output (kept when it fails too). Lines
        // are masked whole, before the bound could cut a secret in two.
        const output = name === 'post-command' ? new command_output/* BoundedText */.FM(command_output/* MAX_COMMAND_OUTPUT */.RO) : undefined;
        const mask = (line) => this.o.logger.mask?.(line) ?? line;
        try {
            await this.phase(`${name} on ${this.label}`, async () => {
                const conn = await this.link.get(this.signal);
                await runUserCommand(conn, {
                    name,
                    command,
                    cwd: this.root,
                    env,
                    timeoutMs: this.config.commandTimeoutSeconds * 1000,
                    signal: this.signal,
                    onLine: line => {
                        this.info(line);
                        output?.add(mask(line));
                    }
                });
            });
        }
        finally {
            if (output)
                this.result.commandOutput = output.text();
        }
    }
    /**
     * `present`: files already in place under remoteRoot (their folders need no mkdir); `survey`:
     * the folders as the lock's exec found them.
     */
    async upload(files, remoteRoot, present = [], survey) {
        const { config, target } = this.o;
        if (files.length === 0 && this.o.plan.files.length > 0) {
            if (this.result.verification === 'pending')
                this.result.verification = 'sha256 (all unchanged on the instance)';
            this.info(`${this.label}: nothing to upload, all ${this.result.filesSkipped} files unchanged`);
            return;
        }
        await this.phase(`Upload to ${this.label} (${target.mode}: ${target.tunnel.description})`, async () => {
            this.link.trips.phase = 'upload';
            await uploadFiles({
                link: this.link,
                extraLinks: this.extraLinks(this.config.sync
                    ? Math.min(lateConnections(files, config.concurrency), connectionsFor(config, target.mode, files))
                    : connectionsFor(config, target.mode, files)),
                files,
                remoteRoot,
                existingDirs: context_foldersOf(present),
                survey,
                concurrency: config.concurrency,
                verify: config.verify,
                followRemoteSymlinks: config.followRemoteSymlinks,
                deletesExtras: config.delete,
                retries: config.retries,
                backoffBaseMs: this.o.backoffBaseMs ?? 1000,
                logger: this.o.logger,
                progress: this.result,
                signal: this.o.signal
            });
            this.info(`${this.label}: ${this.result.filesUploaded} files uploaded (${this.result.bytesTransferred} bytes)${this.result.filesSkipped ? `, ${this.result.filesSkipped} unchanged` : ''}, verified: ${this.result.verification}`);
        });
    }
    /** With sync, what the instance compares the folder with (the local digests: this waits for them). */
    async snapshotRequest() {
        const digests = this.config.sync ? await this.o.localDigests : undefined;
        return digests && { files: this.o.plan.files, digests };
    }
    compare(dir, what, snapshot, manifestFile) {
        return this.link.step(what, async (conn) => compareWithRemote(conn, dir, this.o.plan.files, this.config.sync ? await this.o.localDigests : undefined, this.o.manifestKey, snapshot, manifestFile), this.signal);
    }
    /** The sealed manifest for the next sync (without it the next sync hashes on the instance). */
    willWriteManifest() {
        return !!this.o.manifestKey && !!this.o.localDigests && this.config.verify !== 'none';
    }
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/commands.js

/**
 * pre-command and post-command: the user's shell on the instance, in remote-path, with the
 * release's paths exported. Neither has an undo: a command's effects are its own; a failing
 * post-command makes the runner undo the publish (an atomic release goes back).
 */
const preCommand = {
    name: 'pre-command',
    applies: c => !!c.config.preCommand,
    run: (c, s) => c.command('pre-command', env(c, s))
};
const postCommand = {
    name: 'post-command',
    applies: c => !!c.config.postCommand,
    run: (c, s) => c.command('post-command', env(c, s))
};
function env(c, s) {
    if (s.rollbackTo)
        return c.commandEnv((0,names/* releaseDir */.ZI)(c.root, s.rollbackTo), s.previous);
    if (s.release)
        return c.commandEnv(s.release.dir, s.previous);
    return c.commandEnv(c.root);
}

;// CONCATENATED MODULE: ./build/action/remote/folder-survey.js

/**
 * The upload's folder survey as a script (docs/remote-protocol.md, "Folder survey"): for each path,
 * whether it is there and, for a folder, where it leads. transfer/folders.ts asks the same over SFTP;
 * asked in the lock's exec instead, the answer is in when the SFTP channel gets ready, and the
 * upload's first requests (the missing folders, the opens) go out a round trip sooner. Only shell
 * builtins run per path (cd, test, printf), so a survey of many folders costs no processes.
 */
const SURVEY_BEGIN = '--ec2-push-folders--';
const SURVEY_END = '--ec2-push-folders-end--';
/**
 * One line per path, in order: `<i> -` when nothing is there (not even a dangling link), `<i> R<real
 * path>` for a folder (its physical path, as SFTP's realpath gives it), or `<i> =` for one of `rels`
 * whose physical path is remote-path's own followed by the folder's (no link on the way: the common
 * case, a few bytes back instead of a path, which counts over ssm), `<i> ?` for anything the script
 * cannot say on one line (a file or a dangling link in the way, a folder it may not enter, a real path
 * with a line break): the upload then asks over SFTP as before. `paths` starts with remote-path;
 * the last `rels.length` of them are remote-path joined with each of `rels`. Paths that are not
 * absolute are taken from the login's home folder, as SFTP takes them.
 */
function folderSurveyScript(paths, rels) {
    const first = paths.length - rels.length;
    const lines = [
        `echo ${SURVEY_BEGIN}`,
        'ec2_push_h=$PWD',
        // $1 index, $2 path, $3 the physical path it has when no link is on the way (or nothing).
        `ec2_push_look() {
  ec2_push_real=
  cd -- "$ec2_push_h" || { echo "$1 ?"; return; }
  if [ ! -e "$2" ] && [ ! -L "$2" ]; then
    echo "$1 -"
  elif [ -d "$2" ] && cd -P -- "$2" 2>/dev/null; then
    ec2_push_real=$PWD
    if [ -n "$3" ] && [ "$PWD" = "$3" ]; then
      echo "$1 ="
    else
      case $PWD in
      *'
'*) echo "$1 ?" ;;
      *) printf '%s R%s\\n' "$1" "$PWD" ;;
      esac
    fi
  else
    echo "$1 ?"
  fi
}`,
        // Where remote-path (the first path) leads, for the folders under it.
        ...paths
            .slice(0, first)
            .flatMap((p, i) => [
            `ec2_push_look ${i} ${(0,quote/* shellQuote */.Z)(p)} ''`,
            ...(i === 0 ? ['ec2_push_r=$ec2_push_real'] : [])
        ]),
        ...rels.map((rel, i) => `ec2_push_look ${first + i} ${(0,quote/* shellQuote */.Z)(paths[first + i])} "$ec2_push_r"/${(0,quote/* shellQuote */.Z)(rel)}`),
        // Back where the next fragment of the same script expects to be.
        `cd -- "$ec2_push_h" || :`,
        `echo ${SURVEY_END}`
    ];
    return lines.join('\n') + '\n';
}
/**
 * The survey's block in `out`: the answers by index, or undefined when the block is absent or
 * incomplete or any path was `?`; and `out` without the block.
 */
function parseFolderSurvey(out, count) {
    const begin = out.indexOf(`${SURVEY_BEGIN}\n`);
    const end = begin < 0 ? -1 : out.indexOf(`${SURVEY_END}\n`, begin);
    if (end < 0)
        return { rest: out };
    const rest = out.slice(0, begin) + out.slice(end + SURVEY_END.length + 1);
    const answers = [];
    for (const line of out.slice(begin + SURVEY_BEGIN.length + 1, end).split('\n')) {
        if (line === '')
            continue;
        const m = /^(\d+) (-|\?|=|R(\/.*))$/.exec(line);
        if (!m || Number(m[1]) !== answers.length || m[2] === '?')
            return { rest };
        answers.push(m[2] === '-'
            ? { kind: 'missing' }
            : m[2] === '='
                ? { kind: 'as-named' }
                : { kind: 'folder', real: m[3] });
    }
    return answers.length === count ? { answers, rest } : { rest };
}

// EXTERNAL MODULE: ./build/action/remote/releases.js
var remote_releases = __webpack_require__(6458);
;// CONCATENATED MODULE: ./build/action/deploy/steps/first-read.js





/** What a deploy reads from the instance first (in the lock's exec): its releases, or the folder. */
async function firstReadScript(c) {
    const { config } = c;
    if (config.release === 'atomic' || config.rollback)
        return (0,remote_releases/* releaseStateScript */.a6)(c.root);
    if (config.sync || config.delete)
        return snapshotScript(c.root, await c.snapshotRequest(), (0,names/* manifestFromDir */.NZ)());
    return '';
}
/**
 * The same read for the lock's exec, without waiting for the local digests: with sync, the planned
 * files follow on the script's stdin once hashed, so the instance lists the folder meanwhile.
 */
function firstReadStreamed(c) {
    const { config } = c;
    if (config.release === 'atomic' || config.rollback || !config.sync)
        return { script: '' };
    const input = c.snapshotRequest().then(r => plannedInput(r));
    input.catch(() => { });
    return { script: snapshotScript(c.root, 'stdin', (0,names/* manifestFromDir */.NZ)()), input };
}
/** Does a dry run of this configuration read the instance at all? */
function readsInstance(config) {
    return config.sync || config.delete || config.rollback;
}
/** Up to this many folders are surveyed in the lock's exec; beyond, the upload asks over SFTP. */
const MAX_SURVEYED = 5000;
/**
 * The upload's folder survey, asked in the lock's exec (remote/folder-survey.ts): when the files go
 * into remote-path itself (a release's folder is made later) and nothing runs between the lock and
 * the upload that could change the folders (a pre-command). Its block is taken out of the exec's
 * output before the first read's parsers see it; an answer the script could not give on its own
 * leaves the survey to the upload.
 */
function folderSurveyRead(c) {
    const { config, plan } = c.o;
    if (config.rollback || config.release === 'atomic' || config.preCommand || plan.files.length === 0)
        return undefined;
    const rels = foldersUnder(plan.files.map(f => f.relativePath));
    if (rels.size > MAX_SURVEYED)
        return undefined;
    const paths = surveyPaths(c.root, rels);
    return {
        script: folderSurveyScript(paths, [...rels]),
        take(out) {
            const { answers, rest } = parseFolderSurvey(out, paths.length);
            return { rest, folders: answers && surveyFrom(c.root, rels, answers) };
        }
    };
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/connect.js

/** connect: the SSH connection through the tunnel (usually already on its way: runDeploy prewarms it). */
const connect = {
    name: 'connect',
    applies: () => true,
    async run(c) {
        await c.link.step('Connecting', async () => undefined, c.signal);
    },
    async plan(c) {
        if (readsInstance(c.config))
            await c.link.step('Connecting', async () => undefined, c.signal);
    }
};

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:timers/promises"
var external_node_timers_promises_ = __webpack_require__(8500);
;// CONCATENATED MODULE: ./build/action/deploy/steps/lock.js









/**
 * lock: every deploy that writes holds the lock on the instance from here to `unlock`. What the
 * deploy reads first (its releases, or the folder) comes back in the same exec. A held lock makes
 * the deploy wait up to lock-wait-seconds, then fail naming the holder; a lock whose holder ran
 * past its own limit (or whose process is gone from this machine) is broken with a warning.
 */
const lock_lock = {
    name: 'lock',
    applies: () => true,
    async run(c) {
        // Marked until the lock's answer is in: a cancellation meanwhile leaves the undo to release it.
        inFlight.add(c);
        try {
            return await takeLock(c);
        }
        finally {
            if (!c.cancelled)
                inFlight.delete(c);
        }
    },
    async plan(c) {
        if (!readsInstance(c.config))
            return;
        const then = await firstReadScript(c);
        if (then)
            return { firstRead: await c.exec('Reading the instance', then) };
    },
    async undo(c, s) {
        // Cancelled while the lock's exec was in flight, the instance may hold the lock though no answer
        // came back: release it anyway (the release only removes a lock holding this deploy's token).
        if (s.lockReleased || (!s.lock && !inFlight.has(c)))
            return;
        await c.exec('Releasing the deploy lock', (0,lock/* releaseLockScript */.s)(c.root, s.lock?.token ?? c.token));
        c.o.onLock?.(cleanupNote(c), false);
    }
};
/**
 * Why the lock could not be made, said as the upload says it for a file (transfer/failures.ts):
 * these are the instance's own state, so they are not retried, and they name what to fix.
 */
async function lockFailure(c, stderr) {
    const where = `on ${c.label}`;
    const quoted = /cannot create directory ['‘]([^'’]+)['’]/.exec(stderr)?.[1];
    if (quoted && /Not a directory|File exists/.test(stderr)) {
        // mkdir's message names the folder it could not make, not always the file in its way: ask.
        const inTheWay = (await c.exec('Finding the file in the way', (0,lock/* fileInTheWayScript */.d0)(quoted)).catch(() => '')).trim();
        return new errors/* UserError */.yo(`'${inTheWay || quoted}' ${where} is a file where a folder must be (to hold '${(0,names/* lockPath */.HZ)(c.root)}'): remove or rename it, or choose another remote-path.`);
    }
    if (/Read-only file system/.test(stderr))
        return new errors/* UserError */.yo(`'${c.root}' ${where} is on a read-only file system: remount it read-write, or choose a remote-path on a writable one.`);
    if (/No space left|I\/O error|quota exceeded/i.test(stderr))
        return new errors/* UserError */.yo(`No space left ${where} for the deploy lock '${(0,names/* lockPath */.HZ)(c.root)}' (${stderr.split('\n')[0]}): free space there (or raise the disk quota), or choose a remote-path on another file system.`);
    return new errors/* UserError */.yo(`Taking the deploy lock on ${c.label} failed: ${stderr}`);
}
/** Deploys whose lock exec was sent and has not answered yet (see the lock's undo). */
const inFlight = new WeakSet();
async function takeLock(c) {
    // A sync's read goes out now, its planned files behind it on stdin once they are hashed.
    const streamed = firstReadStreamed(c);
    const read = streamed.script || (await firstReadScript(c));
    // The upload's folders are asked about too, so its first requests need not wait for that answer.
    const survey = folderSurveyRead(c);
    const then = (survey?.script ?? '') + read;
    const owner = lockOwner(c);
    // The upload's question (can sha256sum, and OpenSSL, hash there?) rides along: it needs no shell of its own.
    const probe = c.verifyProbe();
    const waitUntil = Date.now() + c.config.lockWaitSeconds * 1000;
    let waiting = false;
    for (;;) {
        const r = await c.link.step('Taking the deploy lock', async (conn) => {
            const stdin = streamed.input && new external_node_stream_.PassThrough();
            if (stdin)
                streamed.input.then(t => stdin.end(t), () => stdin.end());
            const r = await execScript(conn, (0,lock/* acquireLockScript */.xD)(c.root, owner, then || ':', probe), { stdin });
            const answer = (0,lock/* readLockAnswer */.ac)(r.stdout, probe);
            if (answer.probe)
                knowVerifyMethod(conn, answer.probe);
            return { ...r, answer };
        }, c.signal);
        if (!r.answer.shell) {
            if (read || c.config.preCommand || c.config.postCommand) {
                throw new errors/* UserError */.yo(`${c.label} does not let this account run commands (SFTP only); release, rollback, sync, delete and pre/post-command need a shell there.`);
            }
            c.warn(`${c.label}: this account cannot run commands (SFTP only), so the deploy takes no lock there.`);
            return {};
        }
        const out = r.answer.rest;
        if (r.code !== 0)
            throw await lockFailure(c, r.stderr.trim() || `exit ${r.code}`);
        if (out.startsWith('ACQUIRED')) {
            c.o.onLock?.(cleanupNote(c), true);
            const after = out.slice(out.indexOf(lock/* THEN_MARK */._r) + lock/* THEN_MARK */._r.length + 1);
            const { folders, rest } = survey?.take(after) ?? { rest: after };
            return { lock: { token: owner.token }, firstRead: rest, folders };
        }
        const f = (0,lock/* parseFields */.L5)(out);
        if (f.token === owner.token) {
            // Ours, taken before a reconnect: read what comes with it on its own.
            c.o.onLock?.(cleanupNote(c), true);
            const reread = streamed.script ? await firstReadScript(c) : read;
            const again = reread ? await c.exec('Reading the instance', reread) : '';
            return { lock: { token: owner.token }, firstRead: again };
        }
        const holder = describeHolder(f);
        if (holder.stale) {
            c.warn(`${c.label}: breaking the deploy lock ${f.path} of ${holder.who}: ${holder.stale}.`);
            await c.exec('Breaking a stale deploy lock', (0,lock/* breakLockScript */.iy)(f.path, f.token ?? '', owner.token));
            continue;
        }
        if (Date.now() < waitUntil) {
            if (!waiting)
                c.info(`${c.label}: waiting for the deploy lock held by ${holder.who} (${holder.age})`);
            waiting = true;
            await (0,external_node_timers_promises_.setTimeout)(Math.min(2000, waitUntil - Date.now()), undefined, { signal: c.signal }).catch(() => { });
            c.throwIfCancelled();
            continue;
        }
        const waited = c.config.lockWaitSeconds
            ? ` after waiting lock-wait-seconds (${c.config.lockWaitSeconds} s)`
            : '';
        throw new errors/* UserError */.yo(`Another deploy holds the lock ${f.path} on ${c.label}${waited}: ${holder.who}, ${holder.age}; set 'lock-wait-seconds' to wait for it, or use a workflow 'concurrency' group so deploys queue.`);
    }
}
/** unlock: the end of every deploy that took the lock (it rides along with the last exec when it can). */
const unlock = {
    name: 'unlock',
    applies: () => true,
    fragment(c, s) {
        if (!s.lock || s.lockReleased)
            return undefined;
        return { script: (0,lock/* releaseLockScript */.s)(c.root, s.lock.token), done: { lockReleased: true } };
    },
    async run(c, s) {
        if (!s.lock || s.lockReleased)
            return;
        c.link.trips.phase = 'record';
        const token = s.lock.token;
        const released = await c.link
            .step('Releasing the deploy lock', conn => runScriptOk(conn, (0,lock/* releaseLockScript */.s)(c.root, token), 'Releasing the deploy lock'), c.signal)
            .then(() => true)
            .catch((err) => {
            c.warn(`${c.label}: could not release the deploy lock (it expires with this run's timeout): ${String(err)}`);
            return false;
        });
        return { lockReleased: released };
    }
};
function lockOwner(c, env = process.env) {
    return {
        token: c.token,
        repo: env.GITHUB_REPOSITORY ?? '',
        run: env.GITHUB_RUN_ID ?? 'local',
        attempt: env.GITHUB_RUN_ATTEMPT ?? '',
        runner: env.RUNNER_NAME ?? '',
        host: external_node_os_.hostname(),
        pid: process.pid,
        ttl: c.config.timeoutSeconds + 60
    };
}
function cleanupNote(c, releaseId) {
    return { target: c.label, root: c.root, token: c.token, tempToken: c.tempToken, releaseId };
}
/** Who holds a lock (from its owner file), for how long, and whether it may be broken. */
function describeHolder(f, here = { host: external_node_os_.hostname(), alive: processAlive }) {
    const now = Number(f.now);
    if (!f.token) {
        const age = now - Number(f.dirtime);
        const who = 'a deploy that had not written its owner file yet';
        // Killed between its mkdir and its owner file: nobody else can ever remove it.
        if (age > 120)
            return { who, age: `${age} s old`, stale: 'no owner file after 2 minutes' };
        return { who, age: `${age} s old` };
    }
    const since = Number(f.since);
    const age = now - since;
    const ageText = Number.isFinite(age) ? `holding it for ${age} s` : 'for an unknown time';
    const run = f.repo && f.repo !== '-'
        ? `${f.repo} run ${f.run}${f.attempt && f.attempt !== '-' ? ` attempt ${f.attempt}` : ''}`
        : `run ${f.run ?? '?'}`;
    const runner = f.runner && f.runner !== '-' ? ` on runner ${f.runner}` : '';
    const who = `${run}${runner} (host ${f.host ?? '?'}, pid ${f.pid ?? '?'}${Number.isFinite(since) ? `, since ${new Date(since * 1000).toISOString()}` : ''})`;
    const ttl = Number(f.ttl);
    if (Number.isFinite(age) && Number.isFinite(ttl) && age > ttl)
        return { who, age: ageText, stale: `held ${age} s, past its owner's limit of ${ttl} s` };
    if (f.host === (0,lock/* safeWord */.ms)(here.host) && f.pid && !here.alive(Number(f.pid)))
        return { who, age: ageText, stale: `its process ${f.pid} no longer exists on ${f.host}` };
    return { who, age: ageText };
}
function processAlive(pid) {
    if (!Number.isInteger(pid) || pid <= 0)
        return true;
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (err) {
        return err.code === 'EPERM';
    }
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/prune.js



/**
 * prune: release: atomic — old releases go, after the new one went live. It comes before the
 * manifest is recorded: unlinking old releases changes the ctime of files they share by hard links
 * with the new one, and the manifest must hold the stamps the next deploy will see (so the new
 * release's listing is taken in the same exec). Best effort: a failure is a warning.
 */
const prune = {
    name: 'prune',
    applies: c => c.config.release === 'atomic' && !c.config.rollback,
    async run(c, s) {
        const { id, seq } = s.release;
        const doomed = releasesToPrune([...(s.releases?.releases ?? []).filter(r => r.id !== id), { id, seq, outcome: 'live' }], id, c.config.keepReleases);
        const manifest = c.willWriteManifest();
        c.link.trips.phase = 'record';
        try {
            const { out, done } = await c.execWithTail('Removing old releases', (0,remote_releases/* removeReleasesScript */.CY)(c.root, doomed) + (manifest ? listingScript(s.release.dir) : ''), s);
            if (doomed.length)
                c.info(`${c.label}: removed old releases ${doomed.join(', ')}`);
            return { ...done, pruned: doomed, listing: manifest ? parseListing(out) : undefined };
        }
        catch (err) {
            c.warn(`${c.label}: could not remove old releases: ${(0,errors/* errorMessage */.gJ)(err)}`);
        }
    }
};
/**
 * The releases to remove: every failed or unfinished one first (never current), then the oldest
 * good ones beyond `keep` (current counts as one). Only releases marked as ours are ever listed, and
 * the removal re-checks the mark on the instance.
 */
function releasesToPrune(releases, current, keep) {
    const ordered = [...releases].sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id));
    const others = ordered.filter(r => r.id !== current);
    const kept = (r) => (0,remote_releases/* isGood */.Kg)(r) || r.outcome === 'rolled-back';
    const bad = others.filter(r => !kept(r));
    const good = others.filter(kept);
    return [...bad, ...good.slice(0, Math.max(0, good.length - (keep - 1)))].map(r => r.id);
}

;// CONCATENATED MODULE: ./build/action/remote/switch.js


/**
 * Point `<root>/current` at `releases/<id>` in one rename: a new symlink is made under a temporary
 * name and renamed over `current` (GNU `mv -T`, BSD `mv -h`), so `current` never goes missing and
 * never points at anything but a whole release. The link is relative, so the tree can move.
 * `expect`: in the same exec, the release must hold exactly that many files and bytes (temporaries
 * aside; a release holds nothing of ec2-push's), or current is left alone. Prints where current points.
 */
function switchCurrentScript(root, id, token, expect) {
    const tmp = `${names/* TEMP_PREFIX */.MX}${token}.current`;
    const target = `${names/* RELEASES_DIR */.Dy}/${id}`;
    const check = expect
        ? `got=$(find ${(0,quote/* shellQuote */.Z)(target)} -type f ! -name '${names/* TEMP_PREFIX */.MX}*' -printf '%s\\n' | awk '{ n++; b += $1 } END { printf "%d %d", n, b }')
[ "$got" = "${expect.files} ${expect.bytes}" ] || { echo "the release is incomplete: $got files/bytes instead of ${expect.files} ${expect.bytes}" >&2; exit 1; }
`
        : '';
    // A subshell, so what follows in the same exec runs where the exec started.
    return `( cd -- ${(0,quote/* shellQuote */.Z)(root)} || exit 1
[ -d ${(0,quote/* shellQuote */.Z)(target)} ] || { echo "release ${id} is missing" >&2; exit 1; }
${check}if [ -e ${names/* CURRENT_LINK */.Rv} ] && [ ! -L ${names/* CURRENT_LINK */.Rv} ]; then echo "current is not a symlink" >&2; exit 1; fi
ln -s -- ${(0,quote/* shellQuote */.Z)(target)} ${tmp} || exit 1
if ! mv -Tf -- ${tmp} ${names/* CURRENT_LINK */.Rv} 2>/dev/null && ! mv -hf -- ${tmp} ${names/* CURRENT_LINK */.Rv} 2>/dev/null; then
  rm -f -- ${tmp}; echo "mv cannot rename a symlink over current (needs GNU mv -T or BSD mv -h)" >&2; exit 1
fi
readlink ${names/* CURRENT_LINK */.Rv} ) || exit 1
`;
}

;// CONCATENATED MODULE: ./build/action/remote/delete.js

/**
 * Removing and reusing files on the instance by name (docs/remote-protocol.md, "Delete and
 * reuse"). Names go in NUL-separated through xargs, never through the shell's own parsing, and only
 * contained relative paths are ever rendered.
 */
/** A relative path that stays inside its folder (no absolute paths, no `..` parts, no empty parts). */
function isContained(rel) {
    if (!rel || rel.startsWith('/') || rel.includes('\0'))
        return false;
    return rel.split('/').every(p => p !== '' && p !== '.' && p !== '..');
}
/**
 * Remove files (and symlinks, never followed) under `root`, then the folders `dirs` (deepest
 * first) where they are empty: `rmdir` refuses anything that is not. Prints nothing; exits 0 unless
 * `root` cannot be entered.
 */
function deleteScript(root, rels, dirs) {
    const safe = rels.filter(isContained);
    const folders = dirs.filter(isContained);
    return `cd -- ${(0,quote/* shellQuote */.Z)(root)} || exit 1
${(0,quote/* nulList */.S)(safe)} | xargs -0 rm -f --
${folders.length ? `${(0,quote/* nulList */.S)(folders)} | xargs -0 rmdir -- 2>/dev/null` : ''}
exit 0
`;
}
/**
 * Put these files of `fromDir` into `toDir` without uploading: hard links (`cp -l`, same inode,
 * no copy) when the file system allows, else a copy on the instance. Exits non-zero when neither
 * worked. The caller refuses paths that are not contained; this renders only contained ones.
 */
function linkScript(fromDir, toDir, rels) {
    const safe = rels.filter(isContained);
    return `T=$(cd -- ${(0,quote/* shellQuote */.Z)(toDir)} && pwd) || exit 1
cd -- ${(0,quote/* shellQuote */.Z)(fromDir)} || exit 1
if ! ${(0,quote/* nulList */.S)(safe)} | xargs -0 cp -l --parents -t "$T" -- 2>/dev/null; then
  ${(0,quote/* nulList */.S)(safe)} | xargs -0 cp -pf --parents -t "$T" -- || exit 1
fi
`;
}

;// CONCATENATED MODULE: ./build/action/sync/apply.js



/** Deleting extras and reusing unchanged files (the scripts are in remote/delete.ts). */
/** What `delete` would remove: extras that are contained and not protected. */
function deletable(extras, isProtected) {
    return extras.filter(rel => isContained(rel) && !isProtected(rel));
}
/**
 * Remove files (and symlinks, never followed) under `root`, then the folders they leave empty,
 * deepest first (`rmdir` refuses anything not empty, and protected folders are not tried).
 */
async function deleteRemoteFiles(conn, root, rels, isProtected) {
    const safe = rels.filter(isContained);
    if (safe.length === 0)
        return;
    const dirs = new Set();
    for (const rel of safe) {
        for (let d = external_node_path_.posix.dirname(rel); d !== '.'; d = external_node_path_.posix.dirname(d))
            if (!isProtected(d))
                dirs.add(d);
    }
    const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1));
    await runScriptOk(conn, deleteScript(root, safe, deepestFirst), 'Deleting files no longer in the set');
}
/**
 * Put unchanged files of the previous release into the new one without uploading: hard links
 * (`cp -l`, same inode, no copy) when the file system allows, else a local copy on the instance.
 * Safe because a published file is never written in place, only replaced by a rename.
 */
async function linkFromPrevious(conn, fromDir, toDir, rels) {
    const safe = rels.filter(isContained);
    if (safe.length !== rels.length)
        throw new Error('refusing to link a path that leaves its folder');
    if (safe.length === 0)
        return;
    await runScriptOk(conn, linkScript(fromDir, toDir, safe), 'Reusing unchanged files of the previous release');
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/publish.js






/**
 * publish: release: atomic — current is switched to the new release in one rename, after checking
 * it is complete, and the release log records it as live (all in one exec); the undo switches back
 * and records it as failed. rollback — current goes back to the chosen release. In place, files
 * were published one by one as they were staged; what is left is deleting what left the set.
 */
const publish = {
    name: 'publish',
    applies: c => c.config.rollback || c.config.release === 'atomic' || c.config.delete,
    async run(c, s) {
        if (s.rollbackTo) {
            const to = s.rollbackTo;
            const events = [
                { id: s.previous, outcome: 'rolled-back' },
                { id: to, outcome: 'live' }
            ];
            await switchTo(c, to, undefined, (0,remote_releases/* logReleaseScript */.PZ)(c.root, events, (0,remote_releases/* runLabel */.Az)()));
            c.result.rolledBack = true;
            c.info(`${c.label}: rolled back on purpose: current -> releases/${to} (was ${s.previous})`);
            return { switched: true };
        }
        if (s.release) {
            const { id } = s.release;
            c.throwIfCancelled();
            await switchTo(c, id, s.expected, (0,remote_releases/* logReleaseScript */.PZ)(c.root, [{ id, outcome: 'live' }], (0,remote_releases/* runLabel */.Az)()));
            c.info(`${c.label}: current -> releases/${id}`);
            return { switched: true };
        }
        if (!s.cmp)
            return;
        const doomed = deletable(s.cmp.extras, c.isProtected);
        const kept = s.cmp.extras.length - doomed.length;
        await c.link.step('Deleting files no longer in the set', conn => deleteRemoteFiles(conn, c.root, doomed, c.isProtected));
        c.result.filesDeleted = doomed.length;
        c.info(`${c.label}: deleted ${doomed.length} files no longer in the set${kept ? `, kept ${kept} protected` : ''}`);
    },
    async undo(c, s) {
        if (!s.release || !s.switched)
            return;
        const { id } = s.release;
        const failed = (0,remote_releases/* logReleaseScript */.PZ)(c.root, [{ id, outcome: 'failed' }], (0,remote_releases/* runLabel */.Az)());
        if (!s.previous) {
            await c.exec('Recording the failed release', failed).catch(() => { });
            return `there is no earlier release to roll back to, so current still points to releases/${id}`;
        }
        try {
            await switchTo(c, s.previous, undefined, failed, c.undoSignal);
            c.result.rolledBack = true;
            c.result.releasePath = (0,names/* releaseDir */.ZI)(c.root, s.previous);
            c.info(`${c.label}: rolled back: current -> releases/${s.previous}`);
            return `rolled back: current points to releases/${s.previous} again`;
        }
        catch (err) {
            return `the rollback to releases/${s.previous} also failed (${(0,errors/* errorMessage */.gJ)(err)}), so current still points to releases/${id}`;
        }
    }
};
/** Switch current (never cut short by the deploy's cancellation: a switch is one rename). */
async function switchTo(c, id, expect, after, signal) {
    const target = `releases/${id}`;
    const out = await c.link.step(id === c.result.releaseId && c.result.rolledBack ? 'Rolling back' : 'Switching current', conn => runScriptOk(conn, switchCurrentScript(c.root, id, c.tempToken, expect) + after, `Switching current to ${id}`), signal);
    const now = out.split('\n')[0].trim();
    if (now !== target)
        throw new Error(`after the switch, current points to '${now}', not ${target}`);
}

;// CONCATENATED MODULE: ./build/action/sync/listing.js

/** Above this many changed files, listing the whole folder is shorter than naming each one. */
const RELIST_MAX = 200;
/**
 * `base` (an earlier listing of `dir`) brought up to date for `changed` files: those are listed
 * again and the rest are taken as they were (nothing touched them since). Without a base, or with
 * many changes, the whole folder is listed.
 */
function refreshListing(dir, base, changed = []) {
    if (!base || changed.length > RELIST_MAX)
        return { script: listingScript(dir), parse: parseListing };
    const script = relistScript(dir, changed.map(f => f.relativePath));
    return {
        script,
        parse(out) {
            const now = new Map(base);
            for (const f of changed)
                now.delete(f.relativePath);
            for (const [rel, e] of parseListing(out))
                now.set(rel, e);
            return now;
        }
    };
}

;// CONCATENATED MODULE: ./build/action/remote/manifest-write.js




/**
 * Writing the sync manifest on the instance: the scripts, the lines they are sent and the markers
 * the conversation turns on (docs/remote-protocol.md, "Writing the manifest"). The manifest goes
 * in under a temporary name and is renamed into place, so a reader sees the old one or the new.
 */
/** Ends the listing part of a listed write; the manifest goes in on stdin after it. */
const LISTED = '--ec2-push-listed--';
/** Precedes the digest of the lines the instance put together (carriedWriteScript). */
const DIGEST = '--ec2-push-digest--';
/** The manifest `file`, read whole from stdin, put in place (its folder made if need be); then `after`. */
function writeScript(file, after = '') {
    const tmp = (0,quote/* shellQuote */.Z)((0,names/* tempPathFor */.FD)(file));
    return `mkdir -p -- ${(0,quote/* shellQuote */.Z)(external_node_path_.posix.dirname(file))} && cat > ${tmp} && mv -f -- ${tmp} ${(0,quote/* shellQuote */.Z)(file)} || exit 1\n${after}`;
}
/**
 * `listing` (a script listing the folder), LISTED, then writeScript: one exec in which the listing
 * comes back and the manifest made from it goes in on stdin.
 */
function listedWriteScript(listing, file, after = '') {
    return `${listing}echo ${LISTED}\n${writeScript(file, after)}`;
}
/**
 * The counted lines carriedWriteScript reads first: `K <path>` (carry), `L <line>` (as it is),
 * `N <sha256> <path>` (make from the listing). Paths the line format cannot hold are left out.
 */
function carriedInput(parts) {
    const input = [
        ...[...parts.carried].filter(isLinePath).map(rel => `K ${rel}`),
        ...[...parts.known].filter(([rel]) => isLinePath(rel)).map(([rel, e]) => `L ${manifestLine(rel, e)}`),
        ...[...parts.uploaded].filter(([rel]) => isLinePath(rel)).map(([rel, sha]) => `N ${sha} ${rel}`)
    ];
    return [String(input.length), ...input, ''].join('\n');
}
/**
 * The instance puts the manifest's lines together (awk), prints DIGEST and their sha256, reads the
 * seal line made here from that digest, and renames the whole into place. `relist` lists the
 * uploaded files (remote/listing.ts relistScript with '\n' ends).
 * The lines come counted, so they are read without waiting for the end of stdin (the seal comes
 * on it later); awk reads them from head, not from stdin (mawk would wait to fill its buffer).
 */
function carriedWriteScript(file, relist, after = '') {
    const final = (0,quote/* shellQuote */.Z)(file);
    const tmp = (0,quote/* shellQuote */.Z)((0,names/* tempPathFor */.FD)(file));
    const body = (0,quote/* shellQuote */.Z)((0,names/* tempPathFor */.FD)(file));
    return `IFS= read -r n || exit 1
{ head -n "$n"; echo --
${relist}} | awk -v M=${final} '${CARRY_AWK}' > ${body} || { rm -f -- ${body}; exit 1; }
printf '%s %s\\n' ${DIGEST} "$(sha256sum < ${body} | cut -c1-64)"
IFS= read -r seal || { rm -f -- ${body}; exit 1; }
{ cat -- ${body} && printf '%s\\n' "$seal"; } > ${tmp} && mv -f -- ${tmp} ${final}; s=$?
rm -f -- ${body}
[ $s -eq 0 ] || exit 1
${after}`;
}
/** The digest carriedWriteScript printed, once it is in `out` (all its output so far). */
function carriedDigest(out) {
    return new RegExp(`${DIGEST} ([0-9a-f]{64})\\n`).exec(out)?.[1];
}
/**
 * On the instance (POSIX awk): reads `K <path>` (carry this file's line from the manifest M),
 * `L <line>` (a line as it is) and `N <sha256> <path>` (a line to make from the file's listing)
 * up to `--`, then the listing of the N files (`y inode size ctime mode ./path`); prints the
 * header and the lines.
 */
const CARRY_AWK = `phase == 0 {
  if ($0 == "--") { phase = 1; next }
  t = substr($0, 1, 2); v = substr($0, 3)
  if (t == "K ") keep[v] = 1
  else if (t == "L ") add[++n] = v
  else if (t == "N ") { p = v; sub(/^[^ ]+ /, "", p); nsha[p] = substr(v, 1, 64) }
  next
}
{
  p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p); sub(/^\\.\\//, "", p)
  if ($1 == "f" && (p in nsha)) add[++n] = nsha[p] " " $5 " " $2 " " $3 " " $4 " " p
}
END {
  print "${MANIFEST_HEADER}"
  while ((getline l < M) > 0) {
    if (length(l) < 66 || substr(l, 65, 1) != " ") continue
    p = l; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p)
    if (p in keep) { print l; delete keep[p] }
  }
  for (i = 1; i <= n; i++) print add[i]
}`;

;// CONCATENATED MODULE: ./build/action/sync/manifest-write.js






/**
 * Writing the manifest (its format and seal are in manifest.ts, the scripts in
 * remote/manifest-write.ts), in the exec that releases the lock.
 */
function entriesFor(digests, now, skip) {
    const entries = new Map();
    for (const [rel, sha256] of digests) {
        const e = now.get(rel);
        if (!skip?.has(rel) && e?.type === 'file')
            entries.set(rel, { sha256, mode: e.mode, stamp: e.stamp });
    }
    return entries;
}
function failed(final, r) {
    if (r.code !== 0)
        throw new Error(`writing ${final} failed: ${r.stderr.trim()}`);
}
/**
 * Write the manifest for the files now in `dir` (their digests are the verified local ones), the
 * whole text made here from every file's stamp.
 */
async function writeManifest(conn, key, dir, 
/** Where the manifest goes (remote/names.ts manifestPath: in .ec2-push/, beside the folder). */
final, digests, 
/** The files' stamps now, or how to list them (then in the same exec as the write). */
listing, 
/** A script to run in the same exec once the manifest is in place. */
after = '') {
    if (listing instanceof Map) {
        const text = formatManifest(key, dir, entriesFor(digests, listing));
        return failed(final, await execScript(conn, writeScript(final, after), { stdin: text }));
    }
    // One exec, one conversation: the instance lists, the listing comes back, the manifest sealed
    // from it goes in on stdin (a round trip fewer than listing and writing separately).
    const stdin = new external_node_stream_.PassThrough();
    const out = [];
    // The last bytes seen, too few to hold the marker: only they and a new chunk can complete it.
    let seen = Buffer.alloc(0);
    let answered = false;
    const onStdout = (d) => {
        if (answered)
            return;
        out.push(d);
        const recent = Buffer.concat([seen, d]);
        if (recent.indexOf(LISTED) < 0) {
            seen = recent.subarray(-(LISTED.length - 1));
            return;
        }
        answered = true;
        const all = Buffer.concat(out);
        const at = all.indexOf(LISTED);
        try {
            const now = listing.parse(all.subarray(0, at).toString('utf8'));
            stdin.end(formatManifest(key, dir, entriesFor(digests, now)));
        }
        catch (err) {
            stdin.destroy(err);
        }
    };
    const r = await execScript(conn, listedWriteScript(listing.script, final, after), {
        stdin,
        onStdout
    }).finally(() => stdin.end());
    if (!answered)
        throw new Error(`listing ${dir} failed: ${r.stderr.trim() || 'no listing came back'}`);
    failed(final, r);
}
/**
 * Write the manifest with the instance putting the lines together (it has awk): the lines of
 * `carried` files (found unchanged under an intact seal) are copied from the manifest there, the
 * uploaded files' lines are made there from their digests and their stamps now, and only the
 * other files' lines (`known` stamps) are made here. Nothing has to come down but the digest of
 * the result, which comes back to be sealed: one exec, one round trip beside its own.
 * `wrap` puts the writing inside a larger script (remote/put-files.ts), which may end before it:
 * then the output comes back with `written` false instead of an error.
 */
async function writeCarriedManifest(conn, key, dir, final, digests, parts, after = '', wrap) {
    const uploaded = new Map(parts.uploaded.filter(rel => isLinePath(rel) && digests.has(rel)).map(rel => [rel, digests.get(rel)]));
    const skip = new Set([...parts.carried, ...uploaded.keys()]);
    const input = carriedInput({
        carried: parts.carried,
        known: entriesFor(digests, parts.known, skip),
        uploaded
    });
    const relist = relistScript(dir, [...uploaded.keys()], '\\n');
    const stdin = new external_node_stream_.PassThrough();
    stdin.write(input);
    let out = '';
    let sealed = false;
    const onStdout = (d) => {
        if (sealed)
            return;
        out += d.toString('latin1');
        const digest = carriedDigest(out);
        if (!digest)
            return;
        sealed = true;
        stdin.end(`${sealLine(key, dir, digest)}\n`);
    };
    const script = carriedWriteScript(final, relist, after);
    const r = await execScript(conn, wrap ? wrap(script) : script, { stdin, onStdout }).finally(() => stdin.end());
    const failure = !sealed
        ? `writing ${final} failed: ${r.stderr.trim() || 'the instance did not answer'}`
        : r.code !== 0
            ? `writing ${final} failed: ${r.stderr.trim()}`
            : undefined;
    // Inside a larger script, what came before the writing is the caller's to read, even when it failed.
    if (wrap)
        return { out: r.stdout, written: !failure, failure: r.code === 0 && !sealed ? undefined : failure };
    if (failure)
        throw new Error(failure);
    return { out: r.stdout, written: true };
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/record.js




/**
 * record: the sealed sync manifest of what was deployed, in .ec2-push/ (the release log was written
 * with the publish). In place it is written before post-command, so it records the files as they
 * were verified; for a release, after prune (see prune.ts). Best effort: without it the next sync
 * hashes on the instance. The unlock rides along in the same exec when it comes next.
 */
const record = {
    name: 'record',
    applies: c => c.willWriteManifest() && !c.config.rollback,
    async run(c, s) {
        const key = c.o.manifestKey;
        const digests = (await c.o.localDigests);
        const id = s.release?.id;
        const dir = s.release?.dir ?? c.root;
        const file = (0,names/* manifestPath */.ji)(c.root, id);
        c.link.trips.phase = 'record';
        try {
            const { done } = await c.execWithTail('Writing the sync manifest', '', s, async (conn, after) => {
                const carried = carriedParts(s);
                if (carried) {
                    await writeCarriedManifest(conn, key, dir, file, digests, carried, after);
                }
                else {
                    // Files not uploaded kept the stamps the comparison listed; only the uploaded ones are listed again.
                    const now = s.listing ??
                        refreshListing(dir, s.release ? undefined : s.cmp?.listing, s.release ? undefined : s.toUpload);
                    await writeManifest(conn, key, dir, file, digests, now, after);
                }
                return '';
            });
            return done;
        }
        catch (err) {
            c.warn(`${c.label}: could not write the sync manifest: ${(0,errors/* errorMessage */.gJ)(err)}`);
        }
    }
};
/**
 * In place, when the comparison trusted the old manifest for some files: the parts the instance
 * makes the new manifest from (those files' lines carried over, the uploaded ones made there).
 */
function carriedParts(s) {
    const cmp = s.cmp;
    if (s.release || !cmp || !cmp.carried.size)
        return undefined;
    return { carried: cmp.carried, uploaded: s.toUpload.map(f => f.relativePath), known: cmp.listing };
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/snapshot.js




/**
 * snapshot: what the instance holds, from the read made with the lock. release: atomic — the
 * releases, where current points and this release's id and order; rollback — the release to go
 * back to; in place with sync or delete — the comparison of the folder with the files.
 */
const snapshot = {
    name: 'snapshot',
    applies: () => true,
    run: snapshot_readSnapshot,
    plan: snapshot_readSnapshot
};
async function snapshot_readSnapshot(c, s) {
    const { config } = c;
    if (config.rollback)
        return rollbackPlan(c, s);
    if (config.release === 'atomic')
        return atomicPlan(c, s);
    c.result.releasePath = c.root;
    if (!config.sync && !config.delete)
        return;
    const request = await c.snapshotRequest();
    const cmp = await c.compare(c.root, 'Comparing with the instance', parseSnapshot(s.firstRead, request), (0,names/* manifestFromDir */.NZ)());
    if (!config.sync)
        return { cmp };
    c.result.filesSkipped = cmp.same.length;
    c.info(`${c.label}: ${cmp.changed.length} files to upload, ${cmp.same.length} unchanged (${cmp.manifest})`);
    return { cmp, toUpload: cmp.changed, present: cmp.same.map(f => f.relativePath) };
}
function atomicPlan(c, s) {
    const state = (0,remote_releases/* parseReleaseState */.Ig)(s.firstRead);
    if (state.current.kind === 'other') {
        throw new errors/* UserError */.yo(`${(0,names/* currentPath */.No)(c.root)} on ${c.label} is ${state.current.detail}; ec2-push keeps 'current' as a symlink to releases/<id>: move it away (or use another remote-path) and re-run.`);
    }
    const previous = state.current.kind === 'release' ? state.current.id : undefined;
    const id = c.config.releaseId;
    if (id === previous) {
        throw new errors/* UserError */.yo(`Release ${id} is already current on ${c.label}; each deploy needs its own 'release-id' (the default is the run id and attempt).`);
    }
    const dir = (0,names/* releaseDir */.ZI)(c.root, id);
    Object.assign(c.result, { releaseId: id, releasePath: dir, previousRelease: previous });
    const seq = Math.max(0, ...state.releases.map(r => r.seq)) + 1;
    return { releases: state, previous, release: { id, dir, seq } };
}
function rollbackPlan(c, s) {
    const state = (0,remote_releases/* parseReleaseState */.Ig)(s.firstRead);
    if (state.current.kind !== 'release') {
        throw new errors/* UserError */.yo(`Nothing to roll back on ${c.label}: ${(0,names/* currentPath */.No)(c.root)} is ${state.current.kind === 'missing' ? 'missing' : state.current.detail}.`);
    }
    const cur = state.current.id;
    const target = (0,remote_releases/* rollbackTarget */.es)(state, cur);
    if (!target)
        throw new errors/* UserError */.yo(`No release before ${cur} on ${c.label} to roll back to (one that went live and did not fail).`);
    Object.assign(c.result, {
        releaseId: target.id,
        releasePath: (0,names/* releaseDir */.ZI)(c.root, target.id),
        previousRelease: cur
    });
    return { releases: state, previous: cur, rollbackTo: target.id };
}

;// CONCATENATED MODULE: ./build/action/remote/put-files.js


/** Ends the lines that say which files were put (`P <n>`) and which were left (`F <n>`). */
const PUT_DONE = '--ec2-push-put--';
const DATA_END = 'EC2_PUSH_DATA';
/** Every folder above `rel` (`a/b/c` -> `a`, `a/b`), as `./` paths. */
function folders(rel) {
    const out = [];
    for (let d = external_node_path_.posix.dirname(rel); d !== '.'; d = external_node_path_.posix.dirname(d))
        out.unshift(`./${d}`);
    return out;
}
/**
 * Put `files` under `dir` (which must exist), print `P <index>` or `F <index>` for each, then
 * PUT_DONE; `then` runs only when every file was put (else the script ends there, with status 0).
 */
function putFilesScript(dir, files, then = '') {
    const lines = [
        `cd -- ${(0,quote/* shellQuote */.Z)(dir)} || exit 1`,
        // $1 temporary, $2 final path, $3 mode, $4 sha256; the bytes in base64 on stdin.
        `ec2_push_put() {
  if base64 -d > "$1" && chmod "$3" -- "$1" && ec2_push_s=$(sha256sum < "$1") && [ "\${ec2_push_s%% *}" = "$4" ] && mv -fT -- "$1" "$2"; then
    return 0
  fi
  rm -f -- "$1"
  return 1
}`,
        'ec2_push_left=0'
    ];
    files.forEach((f, i) => {
        const checks = folders(f.rel).map(d => `[ -d ${(0,quote/* shellQuote */.Z)(d)} ] && [ ! -L ${(0,quote/* shellQuote */.Z)(d)} ] && `);
        const b64 = f.data.toString('base64').replace(/.{1,76}/g, '$&\n');
        lines.push(`if ${checks.join('')}ec2_push_put ${(0,quote/* shellQuote */.Z)(`./${f.temp}`)} ${(0,quote/* shellQuote */.Z)(`./${f.rel}`)} ${(f.mode & 0o777).toString(8)} ${f.sha256} 2>/dev/null <<'${DATA_END}'; then echo 'P ${i}'; else echo 'F ${i}'; ec2_push_left=1; fi
${b64}${DATA_END}`);
    });
    lines.push(`echo ${PUT_DONE}`, '[ "$ec2_push_left" = 0 ] || exit 0', then);
    return lines.join('\n') + '\n';
}
/** What putFilesScript said: the indexes put, and whether its answer was whole (PUT_DONE seen). */
function parsePut(out) {
    const at = out.indexOf(`${PUT_DONE}\n`);
    const put = new Set();
    for (const line of (at < 0 ? out : out.slice(0, at)).split('\n')) {
        const m = /^P (\d+)$/.exec(line);
        if (m)
            put.add(Number(m[1]));
    }
    return { put, whole: at >= 0 };
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/verify.js
/**
 * verify: each file was checked on the instance before it left its temporary (sha256 there, or
 * read back), during staging; what is left is to say so. A release's completeness (every planned
 * file, every byte) is checked in the same exec as its publish, so current never points to less.
 */
const verify = {
    name: 'verify',
    applies: c => !c.config.rollback,
    async run(c) {
        if (c.result.verification === 'pending')
            c.result.verification = 'nothing to verify';
    }
};

;// CONCATENATED MODULE: ./build/action/deploy/put-small.js







/**
 * A sync redeploy in place that changed a few small files: their bytes go up inside the exec that
 * writes the sealed manifest (and releases the lock, when that comes next), each put in place on
 * the instance as the upload would (temporary, mode, sha256 checked there, rename: remote/put-files.ts).
 * One exec instead of an SFTP open, write, check and rename, then the manifest's own exec: over a
 * long link, three or four round trips fewer. What cannot be put that way (a folder to make, a link
 * on the way, any failure) goes up over SFTP as usual, and the manifest is then written by record.
 */
/** Up to this many files, of this many bytes in all, ride in the script's text (base64). */
const MAX_FILES = 16;
const MAX_BYTES = 256 * 1024;
/**
 * Put `s.toUpload` in place with the manifest written in the same exec, when this deploy can.
 * Returns undefined when it cannot (nothing was done), else the state to merge.
 */
async function putWithManifest(c, s) {
    const files = s.toUpload;
    const bytes = files.reduce((n, f) => n + f.size, 0);
    if (!c.config.sync || s.release || files.length === 0 || files.length > MAX_FILES || bytes > MAX_BYTES)
        return undefined;
    if (files.some(f => f.size > file_writes/* SMALL_FILE_BYTES */.XG))
        return undefined;
    // Only the verification's report stands between staging and record (no deletes, no command).
    const at = c.following.indexOf(record);
    if (at < 0 || !c.following.slice(0, at).every(step => step === verify))
        return undefined;
    const parts = carriedParts(s);
    const key = c.o.manifestKey;
    const digests = await c.o.localDigests;
    if (!parts || !key || !digests || !c.willWriteManifest())
        return undefined;
    const put = [];
    for (const f of files) {
        const data = (0,file_writes/* readSmallFile */.EW)(f);
        const sha256 = (0,util_sha256/* sha256Hex */.fg)(data);
        // Changed since it was hashed: the usual upload reads and hashes it again.
        if (sha256 !== digests.get(f.relativePath))
            return undefined;
        put.push({ rel: f.relativePath, temp: (0,names/* tempPathFor */.FD)(f.relativePath), mode: f.mode, sha256, data });
    }
    const after = c.fragments(c.following.slice(at + 1), s);
    c.link.trips.phase = 'upload';
    const answer = await c.link.step('Putting the changed files in place', conn => writeCarriedManifest(conn, key, c.root, (0,names/* manifestPath */.ji)(c.root), digests, parts, after.tail, script => putFilesScript(c.root, put, script)), c.signal);
    const { put: done, whole } = parsePut(answer.out);
    if (!whole && answer.failure)
        throw new Error(`Putting the changed files in place on ${c.label}: ${answer.failure}`);
    const putFiles = files.filter((_, i) => done.has(i));
    count(c, putFiles);
    if (putFiles.length === files.length) {
        c.info(`${c.label}: ${files.length} files put in place with the manifest (${bytes} bytes), ${c.result.filesSkipped} unchanged, verified: ${c.result.verification}`);
        const riders = [record];
        if (answer.written)
            riders.push(...after.riders);
        else
            c.warn(`${c.label}: could not write the sync manifest: ${answer.failure ?? 'no answer'}`);
        for (const step of riders)
            c.absorbed.add(step);
        return answer.written ? after.done : {};
    }
    // The rest over SFTP, which makes folders, follows the rules for links and says what went wrong.
    const rest = files.filter((_, i) => !done.has(i));
    await c.upload(rest, c.root, [...s.present, ...putFiles.map(f => f.relativePath)]);
    return {};
}
function count(c, files) {
    if (files.length === 0)
        return;
    c.result.filesUploaded += files.length;
    c.result.bytesTransferred += files.reduce((n, f) => n + f.size, 0);
    if (c.result.verification === 'pending')
        c.result.verification = 'sha256 (hashed on the instance)';
}

;// CONCATENATED MODULE: ./build/action/deploy/steps/stage.js










/**
 * stage: the files go up. In place, each file is written to a temporary beside its final path,
 * verified there and renamed over it (so staging and publishing go file by file). release: atomic —
 * a new releases/<id> (unchanged files of the previous release hard-linked in, protected ones
 * carried over), filled the same way; nothing points to it yet. The undo removes this run's
 * temporaries, and a release that never went live.
 */
const stage = {
    name: 'stage',
    applies: c => !c.config.rollback,
    async run(c, s) {
        if (!s.release) {
            // A few small changes ride with the manifest's exec (deploy/put-small.ts), else SFTP.
            const put = await putWithManifest(c, s);
            if (put)
                return put;
            await c.upload(s.toUpload, c.root, s.present, s.folders);
            return;
        }
        return stageRelease(c, s);
    },
    async plan(c, s) {
        if (!s.release || !s.previous || !c.config.sync)
            return;
        const prevDir = (0,names/* releaseDir */.ZI)(c.root, s.previous);
        const cmp = await c.compare(prevDir, 'Comparing with the current release', undefined, (0,names/* manifestFromDir */.NZ)(s.previous));
        return { cmp, toUpload: cmp.changed, present: cmp.same.map(f => f.relativePath) };
    },
    async undo(c, s) {
        // A pack the deploy sent before it lost its connection may still be extracted: waited for first.
        const packs = waitForPacksScript(c.root, c.tempToken);
        const temps = (0,lock/* removeOwnTempsScript */.nB)(c.root, c.tempToken);
        if (!s.release) {
            await c.exec('Removing temporaries', packs + temps);
            return;
        }
        if (s.switched)
            return;
        const { id } = s.release;
        const removed = await c
            .exec('Removing the unfinished release', packs + (0,remote_releases/* removeReleasesScript */.CY)(c.root, [id]) + temps)
            .then(() => true)
            .catch(() => false);
        const where = s.previous ? `still points to releases/${s.previous}` : 'was not created';
        return `current ${where}, nothing was switched${removed ? ` (the unfinished release ${id} was removed)` : ''}`;
    }
};
async function stageRelease(c, s) {
    const { config, plan } = c.o;
    const { id, dir, seq } = s.release;
    const previous = s.previous;
    const compareWithPrevious = !!previous && (config.sync || config.protect.length > 0);
    const prevDir = (0,names/* releaseDir */.ZI)(c.root, previous ?? '');
    // The release being made is what a cleanup after a kill must remove.
    if (s.lock)
        c.o.onLock?.(cleanupNote(c, id), true);
    // The previous release is read in the same exec that creates the new one.
    const request = compareWithPrevious ? await c.snapshotRequest() : undefined;
    const out = await c.exec('Creating the release', (0,remote_releases/* createReleaseScript */.pO)(c.root, id, seq, (0,remote_releases/* runLabel */.Az)(), compareWithPrevious ? snapshotScript(prevDir, request, (0,names/* manifestFromDir */.NZ)(previous)) : ''));
    if (out.includes('FOREIGN') && !out.includes('CREATED\n')) {
        throw new errors/* UserError */.yo(`${dir} exists and was not made by ec2-push (no marker in .ec2-push/releases/); move it away or choose another release-id.`);
    }
    const created = out.slice(out.indexOf('CREATED\n') + 'CREATED\n'.length);
    let files = plan.files;
    const reused = [];
    const expected = { files: plan.files.length, bytes: plan.totalBytes };
    let cmp;
    if (previous && compareWithPrevious) {
        cmp = await c.compare(prevDir, 'Comparing with the current release', parseSnapshot(created, request));
        const reuse = [];
        if (config.sync) {
            files = cmp.changed;
            reuse.push(...cmp.same.map(f => f.relativePath));
            c.result.filesSkipped = cmp.same.length;
        }
        // Protected paths of the previous release that the new file set lacks carry over.
        const carried = cmp.extras.filter(rel => isContained(rel) && c.isProtected(rel));
        reuse.push(...carried);
        for (const rel of carried) {
            const e = cmp.listing.get(rel);
            if (e?.type === 'file') {
                expected.files++;
                expected.bytes += e.size;
            }
        }
        c.info(`${c.label}: ${files.length} files to upload, ${cmp.same.length} reused from release ${previous}${carried.length ? `, ${carried.length} protected files carried over` : ''}${config.sync ? ` (${cmp.manifest})` : ''}`);
        await c.link.step('Reusing unchanged files', conn => linkFromPrevious(conn, prevDir, dir, reuse), c.signal);
        reused.push(...reuse);
    }
    await c.upload(files, dir, reused);
    return { created: true, expected, cmp, toUpload: files, present: reused };
}

;// CONCATENATED MODULE: ./build/action/deploy/recipe.js









/**
 * One target's deploy, as the ordered list of its steps (each in steps/, each skipping itself when
 * the configuration does not need it). The runner (runner.ts) walks it, and on a failure or a
 * cancellation undoes the steps done, newest first; a dry run walks the same list reading only.
 */
function recipe(config) {
    if (config.release === 'atomic' || config.rollback) {
        // A release is recorded after prune, which changes the stamps of files it shares by hard links.
        return [connect, lock_lock, snapshot, preCommand, stage, verify, publish, postCommand, prune, record, unlock];
    }
    // In place, the manifest records the files as verified, before post-command can touch them.
    return [connect, lock_lock, snapshot, preCommand, stage, verify, publish, record, postCommand, unlock];
}

;// CONCATENATED MODULE: ./build/action/deploy/runner.js

/** How long undos may take in all after a cancellation (the runner kills a job soon after SIGINT). */
const CANCEL_UNDO_MS = 5000;
async function runSteps(c, steps, state, dryRun = false) {
    const list = steps.filter(s => s.applies(c));
    const started = [];
    try {
        for (let i = 0; i < list.length; i++) {
            const step = list[i];
            if (c.absorbed.has(step))
                continue;
            c.throwIfCancelled();
            started.push(step);
            c.following = list.slice(i + 1);
            const out = dryRun ? await step.plan?.(c, state) : await step.run(c, state);
            if (out)
                Object.assign(state, out);
        }
        return state;
    }
    catch (err) {
        if (dryRun)
            throw err;
        const notes = await undoAll(c, started.reverse(), state, err);
        throw composeError(c, err, notes);
    }
}
async function undoAll(c, steps, state, cause) {
    const notes = [];
    // After a cancellation the undos share a budget; after a failure each may take its usual time.
    const budget = c.cancelled ? AbortSignal.timeout(CANCEL_UNDO_MS) : undefined;
    c.undoSignal = budget;
    for (const step of steps) {
        if (!step.undo)
            continue;
        if (budget?.aborted) {
            c.warn(`${c.label}: no time left to undo '${step.name}' after the cancellation`);
            continue;
        }
        try {
            const undo = step.undo(c, state, cause);
            const note = budget ? await Promise.race([undo, aborted(budget)]) : await undo;
            if (note)
                notes.push(note);
        }
        catch (err) {
            c.warn(`${c.label}: undoing '${step.name}' failed: ${(0,errors/* errorMessage */.gJ)(err)}`);
        }
    }
    return notes;
}
function aborted(signal) {
    return new Promise(resolve => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
}
function composeError(c, err, notes) {
    let msg = (0,errors/* errorMessage */.gJ)(err).replace(/\.$/, '');
    if (c.cancelled && !/cancel/i.test(msg))
        msg = `${msg} (cancelled)`;
    if (notes.length === 0)
        return err instanceof Error ? err : new Error(msg);
    return new errors/* UserError */.yo(`${msg}; ${notes.join('; ')}.`);
}

;// CONCATENATED MODULE: ./build/action/deploy/state.js
function initialState(files) {
    return { firstRead: '', toUpload: files, present: [] };
}

;// CONCATENATED MODULE: ./build/action/deploy/deploy-target.js






/**
 * Deploy the plan to one target: the recipe's steps, walked by the runner. Throws a one-line error
 * with the figures so far in its `result`.
 */
async function deployToTarget(o) {
    const c = new DeployContext(o);
    c.prepareConnection();
    const started = Date.now();
    const state = initialState(o.plan.files);
    try {
        await runSteps(c, recipe(o.config), state);
        c.result.status = 'success';
    }
    catch (err) {
        c.result.error = (0,errors/* errorMessage */.gJ)(err);
        if (c.cancelled)
            c.result.status = 'cancelled';
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { result: c.result });
    }
    finally {
        if (state.lock && state.lockReleased)
            o.onLock?.(cleanupNote(c), false);
        await c.closeLinks();
        c.result.durationMs = Date.now() - started;
    }
    return c.result;
}

;// CONCATENATED MODULE: ./build/action/deploy/plan.js








async function planTarget(o) {
    const { config, plan, target } = o;
    const root = config.remotePath;
    const atomic = config.release === 'atomic';
    const out = {
        target: target.label,
        mode: target.mode,
        remotePath: atomic ? (0,names/* releaseDir */.ZI)(root, config.releaseId) : root,
        files: []
    };
    const c = new DeployContext({ ...o, link: undefined, extraLink: undefined });
    const state = initialState(plan.files);
    try {
        await runSteps(c, recipe(config), state, true);
    }
    catch (err) {
        if (!(err instanceof errors/* UserError */.yo))
            throw err;
        out.error = err.message;
    }
    finally {
        await c.closeLinks();
    }
    out.current = state.previous;
    if (config.rollback) {
        out.rollbackTo = state.rollbackTo;
        out.remotePath = state.rollbackTo ? (0,names/* releaseDir */.ZI)(root, state.rollbackTo) : root;
        return out;
    }
    const present = new Set(state.present);
    if (config.delete && !atomic && state.cmp) {
        out.delete = deletable(state.cmp.extras, c.isProtected);
        out.protected = state.cmp.extras.filter(r => c.isProtected(r));
    }
    for (const f of plan.files) {
        out.files.push({
            local: f.localPath,
            remote: external_node_path_.posix.join(out.remotePath, f.relativePath),
            size: f.size,
            action: present.has(f.relativePath) ? (atomic ? 'reuse' : 'skip') : 'upload'
        });
    }
    return out;
}
/** Print a target's plan, one line per file. */
function logTargetPlan(p, logger) {
    if (p.error) {
        logger.warning(`dry-run ${p.target}: ${p.error}`);
        return;
    }
    if (p.rollbackTo) {
        logger.info(`dry-run ${p.target}: would switch current from releases/${p.current} to releases/${p.rollbackTo}`);
        return;
    }
    const counts = { upload: 0, skip: 0, reuse: 0 };
    for (const e of p.files) {
        counts[e.action]++;
        logger.info(`${e.action.padEnd(6)} ${e.local} -> ${e.remote} (${e.size} bytes)`);
    }
    for (const d of p.delete ?? [])
        logger.info(`delete ${external_node_path_.posix.join(p.remotePath, d)}`);
    for (const d of p.protected ?? [])
        logger.info(`keep   ${external_node_path_.posix.join(p.remotePath, d)} (protected)`);
    logger.info(`dry-run ${p.target} (${p.mode}): would upload ${counts.upload} files${counts.skip ? `, skip ${counts.skip} unchanged` : ''}${counts.reuse ? `, reuse ${counts.reuse} from the current release` : ''}${p.delete ? `, delete ${p.delete.length}` : ''} into ${p.remotePath}; nothing was written.`);
}
/** The plan as the `plan` output: JSON, with the file lists dropped if it would exceed the output limit. */
function planOutput(plan, maxChars = 900_000) {
    const full = JSON.stringify(plan);
    if (full.length <= maxChars)
        return full;
    return JSON.stringify({
        ...plan,
        truncated: true,
        targets: plan.targets.map(t => ({
            ...t,
            files: undefined,
            upload: t.files.filter(f => f.action === 'upload').length,
            skip: t.files.filter(f => f.action !== 'upload').length
        }))
    });
}

// EXTERNAL MODULE: ./build/action/files/plan.js + 2 modules
var files_plan = __webpack_require__(944);
// EXTERNAL MODULE: ./build/action/fleet/pool.js
var pool = __webpack_require__(2372);
// EXTERNAL MODULE: ./build/action/sync/local-hash.js
var local_hash = __webpack_require__(3317);
// EXTERNAL MODULE: ./build/action/tunnel/index.js + 1 modules
var tunnel = __webpack_require__(6230);
;// CONCATENATED MODULE: ./build/action/run-deploy.js













/**
 * The whole deploy, shared by the action and the CLI: validate secrets, plan the files, resolve the
 * targets, deploy to them (up to max-parallel-targets at once; fail-fast stops the others on the
 * first failure), and add up the figures. Never throws: a failure comes back as `error` (one line)
 * next to whatever results there are.
 */
async function runDeploy(config, logger, opts = {}) {
    if (config.delivery === 's3' && config.s3) {
        // Loaded on demand: push never pays for the S3 client.
        const { runS3Delivery } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(695), __webpack_require__.e(193), __webpack_require__.e(736), __webpack_require__.e(358), __webpack_require__.e(223), __webpack_require__.e(577)]).then(__webpack_require__.bind(__webpack_require__, 7577));
        return runS3Delivery(config, config.s3, logger, opts);
    }
    const started = Date.now();
    let results = [];
    let filesTotal = 0;
    let mode = config.mode;
    const releasePath = config.release === 'atomic' && !config.rollback
        ? (0,names/* releaseDir */.ZI)(config.remotePath, config.releaseId)
        : config.remotePath;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.timeoutSeconds * 1000);
    const cancel = opts.cancel ?? new AbortController().signal;
    let targets = [];
    /** Connections opened before the files are matched (the first targets to deploy). */
    const early = new Map();
    /** Second connections opened as soon as the files found say the upload will use one. */
    const earlyExtra = new Map();
    const stopEarly = new AbortController();
    try {
        if (config.sshPrivateKey)
            logger.setSecret(config.sshPrivateKey.trim());
        if (config.sshPassphrase)
            logger.setSecret(config.sshPassphrase);
        if (config.sshPrivateKey)
            checkPrivateKey(config.sshPrivateKey, config.sshPassphrase);
        else {
            const hostOnly = config.targets.find(t => t.kind === 'host' && !t.instanceId);
            if (hostOnly) {
                throw new errors/* UserError */.yo(`Target '${hostOnly.label}' needs 'ssh-private-key', or the instance behind it named as 'i-...@${hostOnly.label}' so a one-time key can be pushed with EC2 Instance Connect.`);
            }
        }
        // Targets first: their connections open while the files are matched (connecting costs round
        // trips, a quarter of a second or more over ssm or eice).
        const access = await targetAccess(config, logger, opts);
        targets = access.targets;
        mode = [...new Set(targets.map(t => t.mode))].join(',');
        const { connectionOptions } = access;
        const key = manifestKey(config.sshPrivateKey);
        if (!config.dryRun) {
            for (const target of targets.slice(0, config.maxParallelTargets)) {
                try {
                    const link = targetConnection(connectionOptions(target), deployChannels(config));
                    link.prewarm(AbortSignal.any([stopEarly.signal, controller.signal, cancel]));
                    early.set(target, link);
                }
                catch {
                    // A target whose host key cannot be checked: its deploy reports it.
                }
            }
        }
        // A full upload of two files or more uses a second connection: it opens as soon as the walk
        // finds them, not once every file is planned (a sync decides later, on what changed).
        let found = 0;
        let decided = !!config.sync;
        const onFile = (size) => {
            if (decided || !worthSecondConnection(++found, size))
                return;
            decided = true;
            for (const target of early.keys()) {
                if (connectionLimit(config, target.mode) < 2)
                    continue;
                const extra = extraLink(connectionOptions(target));
                extra.prewarm(AbortSignal.any([stopEarly.signal, controller.signal, cancel]));
                earlyExtra.set(target, extra);
            }
        };
        const plan = config.rollback
            ? { root: '', files: [], totalBytes: 0 }
            : await logger.group('Files', async () => {
                const p = await (0,files_plan/* planFiles */.C)({
                    patterns: config.files,
                    baseDir: config.baseDir,
                    includeHiddenFiles: config.includeHiddenFiles,
                    ifNoFilesFound: config.ifNoFilesFound,
                    logger,
                    cwd: opts.cwd,
                    onFile
                });
                logger.info(`${p.files.length} files, ${p.totalBytes} bytes, from ${p.root} to ${releasePath}`);
                for (const f of p.files)
                    logger.debug(`${f.localPath} -> ${releasePath}/${f.relativePath} (${f.size} bytes)`);
                return p;
            });
        filesTotal = plan.files.length;
        if (plan.files.length === 0 && !config.rollback)
            return { outputs: (0,report_results/* summarise */.fS)(results, Date.now() - started, 0, mode), releasePath };
        // Local hashing (sync) overlaps the first steps on the instance (lock, listing).
        const localDigests = config.sync ? (0,local_hash/* hashLocalFiles */.v)(plan.files) : undefined;
        localDigests?.catch(() => { });
        const perTarget = (target) => ({
            ...connectionOptions(target),
            plan,
            localDigests,
            manifestKey: key
        });
        if (config.dryRun) {
            const planned = await logger.group('Dry run: the plan (nothing is written)', async () => {
                const out = [];
                for (const target of targets) {
                    try {
                        const p = await planTarget(perTarget(target));
                        logTargetPlan(p, logger);
                        out.push(p);
                    }
                    finally {
                        await target.tunnel.close();
                    }
                }
                return out;
            });
            const deployPlan = { dryRun: true, release: config.release, releasePath, targets: planned };
            return {
                outputs: (0,report_results/* summarise */.fS)(results, Date.now() - started, filesTotal, mode),
                releasePath,
                plan: planOutput(deployPlan)
            };
        }
        const parallel = config.maxParallelTargets > 1 && targets.length > 1;
        const stop = new AbortController();
        const slots = new Array(targets.length);
        let firstFailure;
        await (0,pool/* runPool */.k)(targets, config.maxParallelTargets, async (target, i) => {
            const signal = AbortSignal.any([controller.signal, stop.signal, cancel]);
            try {
                const res = await deployToTarget({
                    ...perTarget(target),
                    link: early.get(target),
                    extraLink: earlyExtra.get(target),
                    signal,
                    parallel,
                    backoffBaseMs: opts.backoffBaseMs,
                    onLock: opts.onLock
                });
                slots[i] = res;
                logger.info(`${target.label}: ${res.filesUploaded} files, ${res.bytesTransferred} bytes in ${(res.durationMs / 1000).toFixed(1)} s${res.filesSkipped ? `, ${res.filesSkipped} unchanged` : ''}, verified: ${res.verification}`);
            }
            catch (err) {
                const res = err.result ?? failedResult(target, plan.files.length, err);
                if ((stop.signal.aborted || cancel.aborted) &&
                    !controller.signal.aborted &&
                    res.status !== 'success')
                    res.status = 'cancelled';
                else
                    res.status = 'failure';
                slots[i] = res;
                if (res.status === 'failure') {
                    // The step's error says it (one annotation per failure); with several targets the log names each.
                    if (targets.length > 1)
                        logger.info(`${target.label}: failed: ${(0,errors/* errorMessage */.gJ)(err)}`);
                    if (!(err instanceof errors/* UserError */.yo))
                        logger.debug(err instanceof Error ? (err.stack ?? '') : String(err));
                    if (firstFailure === undefined)
                        firstFailure = target.label;
                    if (config.failFast && !stop.signal.aborted)
                        stop.abort();
                }
            }
            finally {
                await target.tunnel.close();
            }
        }, {
            stop: AbortSignal.any([stop.signal, cancel]),
            skip: (target, i) => {
                slots[i] = {
                    ...failedResult(target, plan.files.length, `not started: fail-fast stopped the deploy after ${firstFailure} failed`),
                    status: 'skipped'
                };
            }
        });
        results = slots.filter((r) => !!r);
        if (controller.signal.aborted)
            throw new Error('timeout');
        if (cancel.aborted)
            return {
                outputs: (0,report_results/* summarise */.fS)(results, Date.now() - started, filesTotal, mode),
                releasePath,
                error: cancelledError(results)
            };
        const failed = results.filter(r => r.status !== 'success');
        const outputs = (0,report_results/* summarise */.fS)(results, Date.now() - started, filesTotal, mode);
        // After a rollback the path is the release current went back to.
        const finalPath = results.find(r => r.status === 'success' && r.releasePath)?.releasePath ?? releasePath;
        if (failed.length === 0)
            return { outputs, releasePath: finalPath };
        return { outputs, releasePath: finalPath, error: fleetError(results, config.failFast) };
    }
    catch (err) {
        let message = (0,errors/* errorMessage */.gJ)(err);
        if (controller.signal.aborted) {
            message = `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s); raise 'timeout-seconds' or deploy fewer files.`;
        }
        if (!(err instanceof errors/* UserError */.yo))
            logger.debug(err instanceof Error ? (err.stack ?? message) : message);
        return {
            outputs: (0,report_results/* summarise */.fS)(results, Date.now() - started, filesTotal, mode),
            releasePath,
            error: message
        };
    }
    finally {
        clearTimeout(timer);
        // Early connections nobody used (no files, a failure first, fail-fast): end them, and end the
        // tunnels (an ssm session is terminated) whether or not a deploy ran on them.
        stopEarly.abort();
        const opened = [...early.values(), ...earlyExtra.values()];
        await Promise.all(opened.map(link => link.settle()));
        for (const link of opened)
            link.drop();
        await Promise.all(targets.map(t => t.tunnel.close().catch(() => { })));
    }
}
/**
 * How to reach each target: the targets resolved, and per target the login, the host key policy and
 * the one-time key push (shared by the deploy and the action's post step).
 */
async function targetAccess(config, logger, opts = {}) {
    let awsContext;
    const aws = () => (awsContext ??= logger.group('AWS credentials', async () => {
        // Loaded on demand: nlb with a provided key never pays for the AWS SDK.
        const { resolveAwsContext } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(695), __webpack_require__.e(223)]).then(__webpack_require__.bind(__webpack_require__, 2223));
        return resolveAwsContext(config.aws, logger, opts.aws);
    }));
    const targets = await (0,tunnel/* resolveTargets */.h5)(config, { logger, aws });
    const keys = config.sshPrivateKey
        ? {
            privateKey: config.sshPrivateKey,
            passphrase: config.sshPassphrase,
            oneTime: false,
            beforeConnect: async () => { }
        }
        : (await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(254), __webpack_require__.e(97)]).then(__webpack_require__.bind(__webpack_require__, 1097))).createKeySource({
            user: config.user,
            aws: await aws(),
            logger
        });
    if (keys.oneTime) {
        logger.info(`Using a one-time ed25519 key (${keys.fingerprint}), pushed with EC2 Instance Connect before each connection.`);
    }
    const login = { user: config.user, privateKey: keys.privateKey, passphrase: keys.passphrase };
    // Worked out once per target: the policy may warn (unpinned host key) or refuse (known-hosts).
    const hostKeys = new Map();
    const hostKeyOf = (target) => {
        if (!hostKeys.has(target)) {
            try {
                hostKeys.set(target, hostKeyPolicy(config, target, logger));
            }
            catch (err) {
                hostKeys.set(target, err);
            }
        }
        const policy = hostKeys.get(target);
        if (policy instanceof Error)
            throw policy;
        return policy;
    };
    const connectionOptions = (target) => ({
        target,
        config,
        login,
        hostKey: hostKeyOf(target),
        logger,
        beforeConnect: keys.oneTime
            ? (signal) => keys.beforeConnect(target.instanceId, target.availabilityZone, signal)
            : undefined,
        loginRefused: keys.loginRefused?.(target.instanceId),
        backoffBaseMs: opts.backoffBaseMs
    });
    return { targets, connectionOptions };
}
/** One line after a cancellation: what each target was left as. */
function cancelledError(results) {
    const said = results
        .filter(r => r.status !== 'success' && r.error)
        .map(r => (results.length > 1 ? `${r.target}: ${r.error}` : r.error));
    return `The deploy was cancelled${said.length ? `: ${said.join(' | ')}` : '.'}`;
}
/** One line for the step: the single target's error, or how many failed and why. */
function fleetError(results, failFast) {
    const failures = results.filter(r => r.status === 'failure');
    if (results.length === 1)
        return results[0].error ?? 'the deploy failed';
    const stopped = results.filter(r => r.status === 'cancelled' || r.status === 'skipped').length;
    const first = failures
        .slice(0, 3)
        .map(r => `${r.target}: ${r.error ?? 'failed'}`)
        .join(' | ');
    return `${failures.length} of ${results.length} targets failed${failFast && stopped ? ` (fail-fast stopped ${stopped} others)` : ''}: ${first}`;
}
function failedResult(target, filesTotal, err) {
    return {
        target: target.label,
        mode: target.mode,
        status: 'failure',
        filesUploaded: 0,
        filesSkipped: 0,
        filesTotal,
        bytesTransferred: 0,
        durationMs: 0,
        verification: 'not reached',
        reconnects: 0,
        error: (0,errors/* errorMessage */.gJ)(err)
    };
}
/** A pinned fingerprint or known_hosts lines when given; nlb refuses to go without one unless told. */
function hostKeyPolicy(config, target, logger) {
    if (config.hostKeyFingerprint)
        return { kind: 'fingerprint', fingerprint: config.hostKeyFingerprint };
    if (config.knownHosts) {
        const names = targetNames(target.host ?? target.label, target.port ?? 22, target.aliases ?? []);
        const keys = keysFromKnownHosts(config.knownHosts, names);
        if (keys.length === 0) {
            throw new errors/* UserError */.yo(`'known-hosts' has no line for ${names.join(' or ')}: add one (ssh-keyscan output works) or use 'host-key-fingerprint'.`);
        }
        return { kind: 'known-hosts', keys, source: "'known-hosts'" };
    }
    if (target.mode !== 'nlb') {
        logger.info(`${target.label}: host key not pinned; the ${target.mode} tunnel is authenticated by AWS. Pin it with 'host-key-fingerprint' for defence in depth.`);
        return { kind: 'any' };
    }
    if (config.strictHostKey) {
        throw new errors/* UserError */.yo(`mode 'nlb' needs the instance's host key pinned: set 'host-key-fingerprint' (SHA256:..., from 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on the instance) or 'known-hosts', or set strict-host-key: false to connect without checking.`);
    }
    if (config.strictHostKey === false)
        logger.warning(`${target.label}: the host key is not checked (strict-host-key: false); anyone in the path could impersonate the instance.`);
    return { kind: 'any' };
}

// EXTERNAL MODULE: ./build/action/cli/args.js
var cli_args = __webpack_require__(5);
// EXTERNAL MODULE: ./build/action/cli/aws-env.js
var aws_env = __webpack_require__(5649);
// EXTERNAL MODULE: ./build/action/cli/help.js
var help = __webpack_require__(8483);
// EXTERNAL MODULE: ./build/action/cli/options.js
var options = __webpack_require__(3960);
// EXTERNAL MODULE: ./build/action/cli/progress.js
var progress = __webpack_require__(7239);
;// CONCATENATED MODULE: ./build/action/cli/deploy.js












/**
 * `ec2-push deploy`: the action's inputs as flags, the same engine (runDeploy), the action's outputs
 * on stdout (`name=value` lines, or one JSON object with --json), logs and the one-line error on stderr.
 */
async function deployCommand(argv, io) {
    const args = (0,cli_args/* parseArgs */.Zy)(argv, [...options/* DEPLOY_INPUTS */.U, ...options/* DEPLOY_EXTRA_FLAGS */.D, { name: 'help', kind: 'boolean', short: 'h' }], 'deploy');
    if ((0,cli_args/* isSet */.vM)(args, 'help')) {
        io.out((0,help/* deployHelp */.ty)());
        return 0;
    }
    if (args.positionals.length) {
        throw new errors/* UserError */.yo(`'ec2-push deploy' takes no arguments, only options (got '${args.positionals[0]}'); files go in --files PATTERN (see ec2-push deploy --help)`);
    }
    const logger = (0,progress/* cliLogger */.$)(io, { debug: (0,cli_args/* isSet */.vM)(args, 'debug'), quiet: (0,cli_args/* isSet */.vM)(args, 'quiet') });
    // Mask secrets before anything can echo them.
    for (const name of ['ssh-private-key', 'ssh-passphrase'])
        logger.setSecret((0,cli_args/* last */.HV)(args, name) ?? '');
    if ((0,cli_args/* last */.HV)(args, 'ssh-passphrase') !== undefined)
        logger.warning(PASSPHRASE_IN_ARGS);
    (0,aws_env/* applyProfile */.mO)((0,cli_args/* last */.HV)(args, 'profile'));
    const inputs = await inputsOf(args);
    logger.setSecret(inputs.get('ssh-private-key')?.trim() ?? '');
    logger.setSecret(inputs.get('ssh-passphrase') ?? '');
    const input = name => inputs.get(name) ?? '';
    const config = (0,action_config/* buildConfig */.fD)(input);
    if (config.forward.length) {
        throw new errors/* UserError */.yo("deploy does not keep port forwards open after it ends: run 'ec2-push forward <target> [local-port:]host:port' (the action's forward input runs it in the background for later steps)");
    }
    if ((0,tunnel/* needsAws */.NJ)(config) && !config.aws.region) {
        config.aws.region = (await (0,aws_env/* resolveRegion */.Zv)(undefined)) || undefined;
        if (!config.aws.region)
            throw new errors/* UserError */.yo(aws_env/* NO_REGION */.tR);
    }
    const awsOptions = (0,aws_env/* idTokenOptions */.Ne)(config.aws.roleToAssume, (0,cli_args/* last */.HV)(args, 'web-identity-token-file'));
    const cancellation = watchCancellation(line => io.err(`ec2-push: ${line}`), 130);
    const run = await runDeploy(config, logger, { aws: awsOptions, cancel: cancellation.signal }).finally(() => cancellation.dispose());
    printOutputs(io, run, (0,cli_args/* isSet */.vM)(args, 'json'));
    if (run.error) {
        io.err(`ec2-push: ${run.error}`);
        return cancellation.signal.aborted ? 130 : 1;
    }
    // The figures a person reads last, the same as the job summary's (bytes-per-second included).
    if (!(0,cli_args/* isSet */.vM)(args, 'quiet') && !config.dryRun)
        io.err(`ec2-push: ${(0,report_results/* figuresLine */.oL)(run.outputs)}`);
    return 0;
}
/** Flag values as action inputs: lists joined one per line, files read, --region as aws-region. */
async function inputsOf(args) {
    const inputs = new Map();
    for (const { name, kind } of options/* DEPLOY_INPUTS */.U) {
        const values = args.flags.get(name);
        if (values)
            inputs.set(name, kind === 'list' ? values.join('\n') : values[values.length - 1]);
    }
    const region = (0,cli_args/* last */.HV)(args, 'region');
    if (region !== undefined) {
        if (inputs.has('aws-region') && inputs.get('aws-region') !== region) {
            throw new errors/* UserError */.yo('--region and --aws-region disagree: give one of them');
        }
        inputs.set('aws-region', region);
    }
    const keyFile = (0,cli_args/* last */.HV)(args, 'ssh-private-key-file');
    if (keyFile !== undefined) {
        if (inputs.has('ssh-private-key')) {
            throw new errors/* UserError */.yo('give --ssh-private-key or --ssh-private-key-file, not both');
        }
        inputs.set('ssh-private-key', await readText(keyFile, 'the private key file'));
    }
    const passphrase = await passphraseOf(args);
    if (passphrase !== undefined)
        inputs.set('ssh-passphrase', passphrase);
    const knownHostsFile = (0,cli_args/* last */.HV)(args, 'known-hosts-file');
    if (knownHostsFile !== undefined) {
        const lines = await readText(knownHostsFile, 'the known_hosts file');
        inputs.set('known-hosts', [inputs.get('known-hosts'), lines].filter(Boolean).join('\n'));
    }
    return inputs;
}
const PASSPHRASE_IN_ARGS = '--ssh-passphrase puts the passphrase on the command line, where other users of this machine can read it (ps, /proc); use --ssh-passphrase-file FILE or the EC2_PUSH_SSH_PASSPHRASE environment variable instead.';
/**
 * The key's passphrase from --ssh-passphrase-file (its first line) or EC2_PUSH_SSH_PASSPHRASE, which
 * other users cannot read the way they read a command line; undefined to leave --ssh-passphrase as it is.
 */
async function passphraseOf(args) {
    const file = (0,cli_args/* last */.HV)(args, 'ssh-passphrase-file');
    if (file !== undefined) {
        if ((0,cli_args/* last */.HV)(args, 'ssh-passphrase') !== undefined) {
            throw new errors/* UserError */.yo('give --ssh-passphrase or --ssh-passphrase-file, not both');
        }
        return (await readText(file, 'the passphrase file')).replace(/\r?\n$/, '');
    }
    const env = process.env.EC2_PUSH_SSH_PASSPHRASE;
    if ((0,cli_args/* last */.HV)(args, 'ssh-passphrase') === undefined && env)
        return env;
    return undefined;
}
async function readText(file, what) {
    try {
        return await (0,promises_.readFile)(file, 'utf8');
    }
    catch (err) {
        throw new errors/* UserError */.yo(`cannot read ${what} '${file}': ${(0,errors/* errorMessage */.gJ)(err)}`);
    }
}
/**
 * The action's outputs, every one runDeploy returns, in its order: `name=value` lines (objects as one
 * JSON line), or one JSON object. `release-path` and `plan` come beside the figures, as in the action.
 */
function printOutputs(io, run, json) {
    const extra = run;
    const all = { ...run.outputs };
    if ('releasePath' in extra)
        all['release-path'] = extra.releasePath ?? '';
    if (extra.plan !== undefined)
        all.plan = json ? JSON.parse(extra.plan) : extra.plan;
    if (json) {
        io.out(JSON.stringify({ ...all, ...(run.error ? { error: run.error } : {}) }));
        return;
    }
    for (const [name, v] of Object.entries(all)) {
        if (v === undefined)
            continue;
        // A multi-line value (command-output) as a JSON string, so each output stays one line.
        const asJson = typeof v === 'object' || (typeof v === 'string' && v.includes('\n'));
        io.out(`${name}=${asJson ? JSON.stringify(v) : String(v)}`);
    }
}


/***/ }),

/***/ 7239:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $: () => (/* binding */ cliLogger)
/* harmony export */ });
/* unused harmony export progressBar */
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(4173);

/**
 * The CLI's logger: stderr lines, secrets masked (streamLogger). On a terminal the engine's periodic
 * progress lines ("web-1: 12/30 files, 40.0/100.0 MiB published (11.2 MB/s)") become one bar that
 * redraws in place; anywhere else they stay plain lines, so logs and CI output read as before.
 */
const PROGRESS = /^(.+): (\d+)\/(\d+) files, ([\d.]+)\/([\d.]+) MiB published \(([\d.]+) MB\/s\)$/;
function cliLogger(io, opts = {}) {
    const tty = opts.tty ?? !!io.stderr.isTTY;
    let barShown = false;
    const clearBar = () => {
        if (barShown)
            io.stderr.write('\r\x1b[2K');
        barShown = false;
    };
    const write = (line) => {
        const m = tty ? PROGRESS.exec(line) : null;
        if (m) {
            clearBar();
            io.stderr.write(progressBar(m, io.stderr.columns ?? 80));
            barShown = true;
            return;
        }
        clearBar();
        io.stderr.write(line + '\n');
    };
    const inner = (0,_log_js__WEBPACK_IMPORTED_MODULE_0__/* .streamLogger */ .V)(write, !!opts.debug);
    if (!opts.quiet)
        return inner;
    return { ...inner, info: () => { }, group: (_name, fn) => fn() };
}
/** `web-1 [#########.........]  45% 12/30 files 40.0/100.0 MiB 11.2 MB/s`, fitted to the width. */
function progressBar(m, columns) {
    const [, label, done, total, mib, totalMib, rate] = m;
    const fraction = Number(totalMib) > 0 ? Math.min(1, Number(mib) / Number(totalMib)) : 0;
    const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${done}/${total} files ${mib}/${totalMib} MiB ${rate} MB/s`;
    const width = Math.max(10, Math.min(40, columns - label.length - tail.length - 4));
    const filled = Math.round(fraction * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${tail}`.slice(0, Math.max(20, columns - 1));
}


/***/ }),

/***/ 8263:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Q: () => (/* binding */ sha256File)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3024);
/* harmony import */ var node_worker_threads__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5919);



/**
 * sha256 of local files on a worker thread, so hashing (one of the largest CPU costs of an upload)
 * runs on another core while the main thread drives SSH. The worker is inline CommonJS code, so it
 * needs no separate file in the bundle. Falls back to the main thread if a worker cannot start.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { createReadStream } = require('node:fs')
parentPort.on('message', ({ id, path }) => {
  const hash = createHash('sha256')
  createReadStream(path, { highWaterMark: 1 << 20 })
    .on('data', chunk => hash.update(chunk))
    .on('error', err => parentPort.postMessage({ id, error: err.message }))
    .on('end', () => parentPort.postMessage({ id, digest: hash.digest('hex') }))
})
`;
let worker;
let workerFailed = false;
let nextId = 0;
const waiting = new Map();
function getWorker() {
    if (worker || workerFailed)
        return worker;
    try {
        worker = new node_worker_threads__WEBPACK_IMPORTED_MODULE_2__.Worker(WORKER_SOURCE, { eval: true });
        worker.unref(); // never keeps the process alive
        worker.on('message', (r) => {
            const w = waiting.get(r.id);
            waiting.delete(r.id);
            if (r.digest)
                w?.resolve(r.digest);
            else
                w?.reject(new Error(r.error ?? 'hashing failed'));
        });
        worker.on('error', err => {
            workerFailed = true;
            worker = undefined;
            for (const w of waiting.values())
                w.reject(err);
            waiting.clear();
        });
    }
    catch {
        workerFailed = true;
    }
    return worker;
}
function hashHere(path) {
    return new Promise((resolve, reject) => {
        const hash = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256');
        (0,node_fs__WEBPACK_IMPORTED_MODULE_1__.createReadStream)(path, { highWaterMark: 1 << 20 })
            .on('data', chunk => hash.update(chunk))
            .on('error', reject)
            .on('end', () => resolve(hash.digest('hex')));
    });
}
/** Hex sha256 of a local file. */
function sha256File(path) {
    const w = getWorker();
    if (!w)
        return hashHere(path);
    const id = nextId++;
    return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.ref();
        w.postMessage({ id, path });
    }).finally(() => {
        if (waiting.size === 0)
            worker?.unref();
    });
}


/***/ }),

/***/ 944:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  C: () => (/* binding */ planFiles)
});

// UNUSED EXPORTS: commonAncestor

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
;// CONCATENATED MODULE: ./build/action/files/utf8-names.js
/**
 * Local file names read as bytes: ec2-push names files on the instance in UTF-8, so a name that is
 * not valid UTF-8 stops the deploy, shown exactly with escapes.
 */
/** A file name's bytes as text: valid UTF-8 as it is, every other byte as `\xNN`. */
function escapeName(name) {
    let out = '';
    for (let i = 0; i < name.length;) {
        const n = utf8SequenceAt(name, i);
        if (n === 0) {
            out += `\\x${name[i].toString(16).padStart(2, '0')}`;
            i++;
        }
        else {
            out += name.subarray(i, i + n).toString('utf8');
            i += n;
        }
    }
    return out;
}
function isUtf8(name) {
    for (let i = 0; i < name.length;) {
        const n = utf8SequenceAt(name, i);
        if (n === 0)
            return false;
        i += n;
    }
    return true;
}
/** The length of the valid UTF-8 sequence starting at `i`, or 0 when there is none. */
function utf8SequenceAt(b, i) {
    const lead = b[i];
    const n = lead < 0x80
        ? 1
        : lead >= 0xc2 && lead <= 0xdf
            ? 2
            : lead >= 0xe0 && lead <= 0xef
                ? 3
                : lead >= 0xf0 && lead <= 0xf4
                    ? 4
                    : 0;
    if (n <= 1 || i + n > b.length)
        return n === 1 ? 1 : 0;
    const seq = b.subarray(i, i + n);
    // Decoding and encoding again keeps the bytes only for a valid sequence (no overlong form, no surrogate).
    return Buffer.from(seq.toString('utf8')).equals(seq) ? n : 0;
}

;// CONCATENATED MODULE: ./build/action/files/tree.js




/**
 * The folder a file pattern lists whole: a single line, not negated, that is an absolute, normalised
 * path with no wildcard, escape or character set, alone or followed by `/**` (the glob's search path
 * is then that path, and everything under it matches). Anything else goes to the glob.
 */
function wholeTreeOf(lines) {
    if (external_node_path_.sep !== '/' || lines.length !== 1)
        return undefined;
    const [line] = lines;
    const root = line.endsWith('/**') ? line.slice(0, -3) : line;
    if (!external_node_path_.isAbsolute(root) || root.endsWith('/') || /[*?[\]\\]/.test(root))
        return undefined;
    return external_node_path_.posix.normalize(root) === root ? root : undefined;
}
/** Statistics of a path, following links; undefined when nothing is there (a broken link). */
function statOrNothing(p) {
    return (0,external_node_fs_.statSync)(p, { throwIfNoEntry: false });
}
/**
 * The walk; `onFile` hears of each file as it is found. Errors the glob would raise (a folder that
 * cannot be read, a link loop) are raised the same way; a file gone between the listing and its
 * stat is left out, as the glob leaves it out.
 */
async function walkTree(root, includeHidden, onFile) {
    const tree = { files: [], brokenLinks: [] };
    const found = (file) => {
        tree.files.push(file);
        onFile?.(file.stats);
    };
    const rootLink = await (0,promises_.lstat)(root).catch((err) => {
        if (err.code === 'ENOENT')
            return undefined;
        throw err;
    });
    if (!rootLink)
        return tree;
    const rootStats = await (0,promises_.stat)(root).catch((err) => {
        if (err.code === 'ENOENT')
            return undefined;
        throw err;
    });
    if (!rootStats) {
        tree.brokenLinks.push(root);
        return tree;
    }
    if (!includeHidden && external_node_path_.basename(root).startsWith('.'))
        return tree;
    if (!rootStats.isDirectory()) {
        if (rootStats.isFile())
            found({ localPath: root, stats: rootStats });
        return tree;
    }
    const slash = Buffer.from('/');
    /** The real paths of the folders above (and including) the one being read: a link back into one is a cycle. */
    const chain = [];
    const walk = async (dir, real) => {
        chain.push(real);
        const dirBytes = Buffer.from(dir);
        const entries = await (0,promises_.readdir)(dir, { withFileTypes: true, encoding: 'buffer' });
        for (const entry of entries) {
            const bytes = entry.name;
            if (!includeHidden && bytes[0] === 0x2e)
                continue;
            if (!isUtf8(bytes)) {
                tree.notUtf8 = Buffer.concat([dirBytes, slash, bytes]);
                return;
            }
            const name = bytes.toString('utf8');
            const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
            if (entry.isFile()) {
                const stats = statOrNothing(p);
                if (stats?.isFile())
                    found({ localPath: p, stats });
            }
            else if (entry.isDirectory()) {
                // A folder that is not a link is where its parent's real path says it is.
                const childReal = real === '/' ? `/${name}` : `${real}/${name}`;
                if (!chain.includes(childReal))
                    await walk(p, childReal);
            }
            else if (entry.isSymbolicLink()) {
                const stats = statOrNothing(p);
                if (!stats)
                    tree.brokenLinks.push(p);
                else if (stats.isDirectory()) {
                    const childReal = (0,external_node_fs_.realpathSync)(p);
                    if (!chain.includes(childReal))
                        await walk(p, childReal);
                }
                else if (stats.isFile())
                    found({ localPath: p, stats });
            }
            if (tree.notUtf8)
                return;
        }
        chain.pop();
    };
    await walk(root, await (0,promises_.realpath)(root));
    return tree;
}

// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
;// CONCATENATED MODULE: ./build/action/files/plan.js






/** The deepest folder that contains every path (upload-artifact's rule for several search paths). */
function commonAncestor(paths) {
    const split = paths.map(p => external_node_path_.resolve(p).split(external_node_path_.sep));
    const first = split[0];
    let i = 0;
    while (i < first.length && split.every(parts => parts[i] === first[i]))
        i++;
    return first.slice(0, i).join(external_node_path_.sep) || external_node_path_.sep;
}
/**
 * Match files the way actions/upload-artifact does: multi-line patterns, `!` excludes, hidden files
 * left out unless asked, symlinks followed (broken ones skipped with a warning), and the root is the
 * search path of a single pattern, the least common ancestor of several, or the parent of a single
 * literal file; `base-dir` overrides the root.
 */
async function planFiles(opts) {
    const { logger } = opts;
    const cwd = opts.cwd ?? process.cwd();
    const patterns = opts.patterns.map(p => {
        const neg = p.startsWith('!');
        const body = neg ? p.slice(1) : p;
        const abs = external_node_path_.isAbsolute(body) || body.startsWith('~') ? body : external_node_path_.join(cwd, body);
        return (neg ? '!' : '') + abs;
    });
    // The lines as the glob reads them: trimmed, no blank lines or comments.
    const lines = patterns
        .join('\n')
        .split('\n')
        .map(l => l.trim())
        .filter(l => l && !l.startsWith('#'));
    const whole = wholeTreeOf(lines);
    let searchPaths;
    let found;
    if (whole) {
        searchPaths = [whole];
        found = await listTree(whole, opts.includeHiddenFiles, logger, opts.onFile);
    }
    else {
        // Loaded only here: @actions/glob brings @actions/core and its HTTP client (undici) with it,
        // a fifth of a second of start-up that a whole folder does not need.
        const glob = await Promise.all(/* import() */[__webpack_require__.e(421), __webpack_require__.e(377)]).then(__webpack_require__.bind(__webpack_require__, 2377));
        const globber = await glob.create(patterns.join('\n'), {
            followSymbolicLinks: true,
            implicitDescendants: true,
            matchDirectories: false,
            omitBrokenSymbolicLinks: true,
            excludeHiddenFiles: !opts.includeHiddenFiles
        });
        searchPaths = globber.getSearchPaths();
        found = await listMatches(globber, patterns, opts.includeHiddenFiles, logger);
        for (const f of found)
            if (f.stats.isFile())
                opts.onFile?.(f.stats.size);
    }
    let root;
    if (opts.baseDir)
        root = external_node_path_.resolve(cwd, opts.baseDir);
    else if (searchPaths.length > 1)
        root = commonAncestor(searchPaths);
    else if (found.length === 1 && searchPaths[0] === found[0].localPath)
        root = external_node_path_.dirname(found[0].localPath);
    else
        root = searchPaths[0] ?? cwd;
    const files = [];
    const seenLower = new Map();
    found.sort((a, b) => (a.localPath < b.localPath ? -1 : a.localPath > b.localPath ? 1 : 0));
    const under = root.endsWith(external_node_path_.sep) ? root : root + external_node_path_.sep;
    for (const { localPath, stats: st } of found) {
        if (!st.isFile())
            continue;
        const rel = localPath.startsWith(under) ? localPath.slice(under.length) : external_node_path_.relative(root, localPath);
        // `..hidden` and `...` are names inside the root; only a whole `..` segment climbs out of it.
        if (rel === '..' || rel.startsWith(`..${external_node_path_.sep}`) || external_node_path_.isAbsolute(rel)) {
            throw new errors/* UserError */.yo(`File '${localPath}' is outside base-dir '${root}': widen 'base-dir' or narrow 'files'.`);
        }
        const relativePath = external_node_path_.sep === '/' ? rel : rel.split(external_node_path_.sep).join('/');
        const lower = relativePath.toLowerCase();
        const clash = seenLower.get(lower);
        if (clash)
            logger.warning(`'${relativePath}' and '${clash}' differ only in case; they collide on case-insensitive file systems.`);
        seenLower.set(lower, relativePath);
        files.push({ localPath, relativePath, size: st.size, mode: st.mode & 0o7777 });
    }
    if (files.length === 0) {
        const msg = `No files matched 'files' (${opts.patterns.join(', ')}) under ${cwd}.`;
        if (opts.ifNoFilesFound === 'error') {
            throw new errors/* UserError */.yo(`${msg} Check the patterns, or set if-no-files-found to warn or ignore.`);
        }
        if (opts.ifNoFilesFound === 'warn')
            logger.warning(`${msg} Nothing to upload.`);
        else
            logger.info(`${msg} Nothing to upload.`);
    }
    return { root, files, totalBytes: files.reduce((n, f) => n + f.size, 0) };
}
function notUtf8Error(name) {
    return new errors/* UserError */.yo(`Local file name '${escapeName(name)}' is not valid UTF-8 (shown with \\x escapes), and ec2-push names files on the instance in UTF-8: rename it (convmv -f latin1 -t utf-8 converts a tree), or move it out of 'files'.`);
}
/** A whole folder (tree.ts): the files with their statistics, broken links named. */
async function listTree(root, includeHidden, logger, onFile) {
    const tree = await walkTree(root, includeHidden, onFile && (st => onFile(st.size)));
    if (tree.notUtf8)
        throw notUtf8Error(tree.notUtf8);
    for (const p of tree.brokenLinks)
        logger.warning(`Skipping broken symbolic link '${p}'.`);
    return tree.files;
}
/** Any other patterns: the glob's matches, each given its statistics. */
async function listMatches(globber, patterns, includeHidden, logger) {
    const matches = [];
    for await (const p of globber.globGenerator())
        matches.push(p);
    const walked = await walkSearchPaths(globber.getSearchPaths(), includeHidden);
    if (walked.notUtf8)
        throw notUtf8Error(walked.notUtf8);
    if (walked.brokenLink)
        await warnAboutBrokenLinks(patterns, includeHidden, new Set(matches), logger);
    // Synchronous: the glob has just read these very entries, so they are in the page cache, and
    // one statSync (microseconds) beats a thread-pool round trip per file.
    return matches.map(localPath => ({ localPath, stats: (0,external_node_fs_.statSync)(localPath) }));
}
/**
 * One readdir walk (no stat per file) over the search paths, for what @actions/glob passes over in
 * silence: a broken symbolic link (then a second, non-following glob pass names each), and a name that
 * is not valid UTF-8 (the glob decodes names to strings, the path no longer names the file, and it is
 * dropped). Names are read as bytes so the first such name can be shown exactly.
 */
async function walkSearchPaths(roots, includeHidden) {
    const seen = new Set();
    const found = { brokenLink: false };
    const walk = async (dir) => {
        const real = await (0,promises_.realpath)(dir).catch(() => dir.toString('latin1'));
        if (seen.has(real))
            return;
        seen.add(real);
        const entries = await (0,promises_.readdir)(dir, { withFileTypes: true, encoding: 'buffer' }).catch(() => []);
        for (const e of entries) {
            const name = e.name;
            if (!includeHidden && name[0] === 0x2e)
                continue;
            const p = Buffer.concat([dir, Buffer.from(external_node_path_.sep), name]);
            if (!found.notUtf8 && !isUtf8(name))
                found.notUtf8 = p;
            if (e.isDirectory())
                await walk(p);
            else if (e.isSymbolicLink()) {
                const target = await (0,promises_.stat)(p).catch(() => undefined);
                if (!target)
                    found.brokenLink = true;
                else if (target.isDirectory())
                    await walk(p);
            }
            if (found.notUtf8)
                return;
        }
    };
    for (const root of roots) {
        const st = await (0,promises_.lstat)(root).catch(() => undefined);
        if (st?.isSymbolicLink() && !(await (0,promises_.stat)(root).catch(() => undefined)))
            found.brokenLink = true;
        if (st)
            await walk(Buffer.from(root));
        if (found.notUtf8)
            break;
    }
    return found;
}
/** @actions/glob drops broken symlinks silently; find them with a non-following pass and say so. */
async function warnAboutBrokenLinks(patterns, includeHidden, kept, logger) {
    const glob = await Promise.all(/* import() */[__webpack_require__.e(421), __webpack_require__.e(377)]).then(__webpack_require__.bind(__webpack_require__, 2377));
    const raw = await glob.create(patterns.join('\n'), {
        followSymbolicLinks: false,
        implicitDescendants: true,
        matchDirectories: false,
        excludeHiddenFiles: !includeHidden
    });
    for await (const p of raw.globGenerator()) {
        if (kept.has(p))
            continue;
        const l = await (0,promises_.lstat)(p).catch(() => undefined);
        if (!l?.isSymbolicLink())
            continue;
        const target = await (0,promises_.stat)(p).catch(() => undefined);
        if (!target)
            logger.warning(`Skipping broken symbolic link '${p}'.`);
    }
}


/***/ }),

/***/ 2372:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   k: () => (/* binding */ runPool)
/* harmony export */ });
/**
 * Run `work` for every item with at most `limit` at once, in order of the items. Items not yet
 * started when `stop` is aborted are handed to `skip` instead.
 */
async function runPool(items, limit, work, opts = {}) {
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            if (opts.stop?.aborted)
                opts.skip?.(items[i], i);
            else
                await work(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}


/***/ }),

/***/ 6971:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Fg: () => (/* binding */ ownerFields),
/* harmony export */   L5: () => (/* binding */ parseFields),
/* harmony export */   _r: () => (/* binding */ THEN_MARK),
/* harmony export */   ac: () => (/* binding */ readLockAnswer),
/* harmony export */   d0: () => (/* binding */ fileInTheWayScript),
/* harmony export */   iy: () => (/* binding */ breakLockScript),
/* harmony export */   ms: () => (/* binding */ safeWord),
/* harmony export */   nB: () => (/* binding */ removeOwnTempsScript),
/* harmony export */   s: () => (/* binding */ releaseLockScript),
/* harmony export */   xD: () => (/* binding */ acquireLockScript)
/* harmony export */ });
/* unused harmony exports SHELL_MARK, sweepTempsScript */
/* harmony import */ var _quote_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(8774);
/* harmony import */ var _names_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8978);
/* harmony import */ var _probes_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(7147);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6760);




/** Marks the end of the lock's own output, before the output of the script run with it. */
const THEN_MARK = '--ec2-push-then--';
const SHELL_MARK = 'ec2-push-shell';
/** A word safe to put in the owner file unquoted and to print back. */
function safeWord(s) {
    return (s || '-').replace(/[^A-Za-z0-9._#/:@-]/g, '_').slice(0, 200);
}
/** The owner file's lines (all but `since`, which the instance adds). */
function ownerFields(owner) {
    return `token=${safeWord(owner.token)}
repo=${safeWord(owner.repo)}
run=${safeWord(owner.run)}
attempt=${safeWord(owner.attempt)}
runner=${safeWord(owner.runner)}
host=${safeWord(owner.host)}
pid=${owner.pid}
ttl=${owner.ttl}`;
}
/**
 * Take the lock, or print who holds it. After SHELL_MARK, with `probe`, the verification probe's lines
 * (remote/probes.ts, verifyProbeLines). On success: ACQUIRED, the sweep, THEN_MARK, then `then`'s output. When held:
 * HELD and `key=value` lines (path, now, dirtime, the owner's fields). A lock left by an older
 * ec2-push (`<remote-path>/.ec2-push.lock`) counts as held by its owner.
 */
function acquireLockScript(root, owner, then = ':', probe) {
    const fields = ownerFields(owner);
    return `echo ${SHELL_MARK}
${probe ? `${(0,_probes_js__WEBPACK_IMPORTED_MODULE_1__/* .verifyProbeLines */ .$l)(probe)}\n` : ''}L=${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)((0,_names_js__WEBPACK_IMPORTED_MODULE_0__/* .lockPath */ .HZ)(root))}
O=${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(node_path__WEBPACK_IMPORTED_MODULE_2__.posix.join(root, _names_js__WEBPACK_IMPORTED_MODULE_0__/* .OLD_LOCK */ .wj))}
mkdir -p -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)((0,_names_js__WEBPACK_IMPORTED_MODULE_0__/* .metaPath */ .bs)(root))} || exit 1
if [ ! -d "$O" ] && mkdir -- "$L" 2>/dev/null; then
  if ! { printf '%s\\n' ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(fields)} && printf 'since=%s\\n' "$(date +%s)"; } > "$L/owner.tmp" || ! mv -f -- "$L/owner.tmp" "$L/owner"; then
    rm -rf -- "$L"; echo "cannot write the lock's owner file in $L" >&2; exit 1
  fi
  echo ACQUIRED
  ${sweepTempsScript(root, owner.token)}
  echo ${THEN_MARK}
  ${then}
else
  H=$L; [ -d "$O" ] && H=$O
  echo HELD
  printf 'path=%s\\n' "$H"
  echo "now=$(date +%s)"
  echo "dirtime=$(stat -c %Y -- "$H" 2>/dev/null || echo 0)"
  cat -- "$H/owner" 2>/dev/null
  exit 0
fi
`;
}
/**
 * What acquireLockScript printed: whether a shell ran it at all (an SFTP-only account runs nothing),
 * the probe's verdict when it was asked, and the rest (ACQUIRED... or HELD...).
 */
function readLockAnswer(stdout, probe) {
    if (!stdout.startsWith(`${SHELL_MARK}\n`))
        return { shell: false, rest: stdout };
    const rest = stdout.slice(SHELL_MARK.length + 1);
    if (!probe)
        return { shell: true, rest };
    const { sha256sum, openssl, rest: after } = (0,_probes_js__WEBPACK_IMPORTED_MODULE_1__/* .readProbeLines */ .k9)(rest, probe);
    return { shell: true, probe: { sha256sum, openssl }, rest: after };
}
/** find's tail for the temporaries it matched: a file, or a stage folder whole (not entered). */
const TEMP_TYPES = `\\( -type f -o -type d -prune \\) -exec rm -rf -- {} + 2>/dev/null`;
/**
 * Remove temporaries under remote-path that are not this run's (links are not followed): files, and
 * packs' stage folders with what is in them. Runs only while the lock is held, so none of them can
 * belong to a live deploy.
 */
function sweepTempsScript(root, token) {
    return `( cd -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(root)} 2>/dev/null && find . -name '${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .TEMP_PREFIX */ .MX}*' ! -name '${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .TEMP_PREFIX */ .MX}${safeWord(token)}.*' ${TEMP_TYPES} ); :`;
}
/** Remove this run's own temporaries (the undo of an upload cut short). */
function removeOwnTempsScript(root, token) {
    return `( cd -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(root)} 2>/dev/null && find . -name '${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .TEMP_PREFIX */ .MX}${safeWord(token)}.*' ${TEMP_TYPES} ); :
`;
}
/** Release the lock if it is still ours (a fragment that can end another script). */
function releaseLockScript(root, token) {
    return `( L=${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)((0,_names_js__WEBPACK_IMPORTED_MODULE_0__/* .lockPath */ .HZ)(root))}
[ "$(sed -n 's/^token=//p' "$L/owner" 2>/dev/null)" = ${safeWord(token)} ] && rm -rf -- "$L" ); :
`;
}
/**
 * Break a lock whose holder is gone, only if it still holds the token seen (a lock taken meanwhile
 * by someone else is left alone): it is renamed aside first, so two breakers cannot both win.
 */
function breakLockScript(heldPath, staleToken, token) {
    const aside = `${heldPath}.broken.${safeWord(token)}`;
    // Without a token seen, the lock had no owner file (its taker was killed in between).
    const stillStale = staleToken
        ? `[ "$(sed -n 's/^token=//p' "$H/owner" 2>/dev/null)" = ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(staleToken)} ]`
        : `[ ! -e "$H/owner" ]`;
    return `H=${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(heldPath)}
if ${stillStale}; then
  mv -- "$H" ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(aside)} && rm -rf -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(aside)}
fi
:
`;
}
/** The `key=value` lines of a HELD answer. */
function parseFields(out) {
    const f = {};
    for (const line of out.split('\n')) {
        const at = line.indexOf('=');
        if (at > 0)
            f[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return f;
}
/** The nearest of `p` and its ancestors that exists and is not a folder (prints nothing if none). */
function fileInTheWayScript(p) {
    return `( p=${(0,_quote_js__WEBPACK_IMPORTED_MODULE_3__/* .shellQuote */ .Z)(p)}
while [ -n "$p" ] && [ "$p" != / ] && [ "$p" != . ]; do
  if [ -e "$p" ] && [ ! -d "$p" ]; then printf '%s\\n' "$p"; exit 0; fi
  p=$(dirname -- "$p")
done ); :
`;
}


/***/ }),

/***/ 8978:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   AB: () => (/* binding */ META_DIR),
/* harmony export */   CT: () => (/* binding */ stageName),
/* harmony export */   Dy: () => (/* binding */ RELEASES_DIR),
/* harmony export */   FD: () => (/* binding */ tempPathFor),
/* harmony export */   HZ: () => (/* binding */ lockPath),
/* harmony export */   Kz: () => (/* binding */ isStagePath),
/* harmony export */   MX: () => (/* binding */ TEMP_PREFIX),
/* harmony export */   NZ: () => (/* binding */ manifestFromDir),
/* harmony export */   No: () => (/* binding */ currentPath),
/* harmony export */   PW: () => (/* binding */ releaseLogPath),
/* harmony export */   Rv: () => (/* binding */ CURRENT_LINK),
/* harmony export */   Z4: () => (/* binding */ isOwnFile),
/* harmony export */   ZI: () => (/* binding */ releaseDir),
/* harmony export */   Zq: () => (/* binding */ S3_MANIFEST),
/* harmony export */   bL: () => (/* binding */ tempName),
/* harmony export */   bs: () => (/* binding */ metaPath),
/* harmony export */   ji: () => (/* binding */ manifestPath),
/* harmony export */   u8: () => (/* binding */ RUN_TOKEN),
/* harmony export */   uX: () => (/* binding */ RELEASE_ID),
/* harmony export */   vy: () => (/* binding */ OLD_RELEASE_MARKER),
/* harmony export */   wj: () => (/* binding */ OLD_LOCK)
/* harmony export */ });
/* unused harmony exports markerPath, isTempName */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6760);


/**
 * The names ec2-push reserves on the instance, in one place (docs/remote-protocol.md, "Reserved
 * names"): what the listing hides, what `delete` never removes and what the scripts here write.
 * Everything of ec2-push's lives in one metadata folder beside the user's files and releases,
 * never inside a release: Everything of its own lives in one metadata
 *
 *   <remote-path>/.ec2-push/lock/owner          the deploy lock (a mkdir lock) and who holds it
 *   <remote-path>/.ec2-push/manifest            the sync manifest of an in-place deploy
 *   <remote-path>/.ec2-push/manifests/<id>      the sync manifest of release <id>
 *   <remote-path>/.ec2-push/s3-manifest         sha256 TAB path of what `delivery: s3` last published
 *   <remote-path>/.ec2-push/releases/<id>       the marker of release <id> (seq, time, run)
 *   <remote-path>/.ec2-push/log                 one line per event: <id> TAB live|failed|rolled-back TAB <time> TAB <run>
 *   <remote-path>/releases/<id>/                a release: the user's files and nothing else
 *   <remote-path>/current -> releases/<id>      switched by one rename
 *
 * Temporaries sit beside their final path as `.ec2-push-tmp.<run token>.<n>`, so the deploy that
 * made them can remove exactly its own, and the next deploy can sweep those of runs that are gone.
 * A pack's files are extracted into a folder of that form instead (`.ec2-push-tmp.<run token>.s<n>`,
 * a stage: remote/pack.ts), under their own names, so that one `mv` publishes a folder's worth.
 */
const META_DIR = '.ec2-push';
const RELEASES_DIR = 'releases';
const CURRENT_LINK = 'current';
const TEMP_PREFIX = '.ec2-push-tmp.';
/** `delivery: s3`'s own reuse manifest in META_DIR (push's sealed manifest is another format). */
const S3_MANIFEST = 's3-manifest';
/** Layouts written by earlier versions, recognised when met on an instance. */
const OLD_LOCK = '.ec2-push.lock';
const OLD_RELEASE_MARKER = '.ec2-push-release';
/** Release ids: a safe single folder name. */
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
function metaPath(root, ...parts) {
    return node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join(root, META_DIR, ...parts);
}
function lockPath(root) {
    return metaPath(root, 'lock');
}
function releaseDir(root, id) {
    return node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join(root, RELEASES_DIR, id);
}
function currentPath(root) {
    return node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join(root, CURRENT_LINK);
}
function markerPath(root, id) {
    return metaPath(root, 'releases', id);
}
function releaseLogPath(root) {
    return metaPath(root, 'log');
}
/** The sync manifest of `root` deployed in place, or of release `id`. */
function manifestPath(root, id) {
    return id === undefined ? metaPath(root, 'manifest') : metaPath(root, 'manifests', id);
}
/** The same manifest named from inside the folder it describes (scripts that `cd` there read it so). */
function manifestFromDir(id) {
    return id === undefined
        ? node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join(META_DIR, 'manifest')
        : node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join('..', '..', META_DIR, 'manifests', id);
}
/** A temporary's name for this run: the token says whose it is. */
function tempName(token, n) {
    return `${TEMP_PREFIX}${token}.${n}`;
}
/**
 * This run's token: random per process, so two runs never pick the same name. Every temporary the
 * run makes carries it, so the run (or the action's post step after it) removes exactly its own,
 * and the next deploy knows the rest are orphans.
 */
const RUN_TOKEN = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.randomBytes)(6).toString('hex');
let tempCounter = 0;
/**
 * A temporary name beside the final one, so the rename that publishes it stays on one file system:
 * `.ec2-push-tmp.<run token>.<n>`, hidden, short for any NAME_MAX, and no user name in it.
 */
function tempPathFor(finalPath) {
    return node_path__WEBPACK_IMPORTED_MODULE_1__.posix.join(node_path__WEBPACK_IMPORTED_MODULE_1__.posix.dirname(finalPath), tempName(RUN_TOKEN, (tempCounter++).toString(16)));
}
/** Whether a file name (no folder) is one of our temporaries (any run's). */
function isTempName(base) {
    return base.startsWith(TEMP_PREFIX);
}
/** A pack's stage folder: one name length for every `n` (the pack's members are sized by it). */
function stageName(token, n) {
    return tempName(token, `s${n.toString(16).padStart(6, '0')}`);
}
/** Whether a temporary's path is a stage folder (removed with rmdir once its files are gone). */
function isStagePath(p) {
    return /(^|\/)\.ec2-push-tmp\.[^/]*\.s[0-9a-f]{6}$/.test(p);
}
/**
 * Is this relative path (as a listing of a deployed folder names it) ec2-push's own, not the user's?
 * The metadata folder, temporaries and what is in a stage; user files named `.ec2-push*` otherwise
 * are the user's.
 */
function isOwnFile(rel) {
    if (rel === META_DIR || rel.startsWith(`${META_DIR}/`))
        return true;
    return rel.split('/').some(isTempName);
}


/***/ }),

/***/ 7147:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $l: () => (/* binding */ verifyProbeLines),
/* harmony export */   f1: () => (/* binding */ readProbe),
/* harmony export */   k9: () => (/* binding */ readProbeLines),
/* harmony export */   mM: () => (/* binding */ SHA256SUM_PROBE),
/* harmony export */   rT: () => (/* binding */ OPENSSL_SHA256)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);

/**
 * Questions asked of the instance before the work starts (docs/remote-protocol.md, "Probes"). Each
 * is a command whose answer cannot be produced by accident: a login banner or an SFTP-only account
 * never prints it.
 */
/**
 * How the instance hashes a large file when OpenSSL works there: it takes a fraction of coreutils'
 * CPU on CPUs with SHA instructions (most EC2 types). `-r` prints the digest first, as sha256sum
 * does; the probe runs exactly this command, so an OpenSSL without `-r` is never used.
 */
const OPENSSL_SHA256 = 'openssl dgst -sha256 -r';
/** The digest of `abc` (FIPS 180-2's example), what a working OpenSSL_SHA256 must print for it. */
const ABC_DIGEST = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
/** The digest `echo ec2-push-probe | sha256sum` must print, proving exec and sha256sum both work. */
const PROBE_DIGEST = (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256').update('ec2-push-probe\n').digest('hex');
/**
 * Can this account run commands, does sha256sum work, and does OpenSSL hash? Its exit status is
 * sha256sum's, whatever OpenSSL did. No redirection: the login shell may not be a Bourne shell.
 */
const SHA256SUM_PROBE = `printf abc | ${OPENSSL_SHA256}; echo ec2-push-probe | sha256sum`;
/**
 * The probe as lines of a larger script (the deploy lock's, so it costs no exec of its own):
 * `probe <what sha256sum printed>`, then with `openssl` `probe <what OpenSSL printed, line breaks
 * as spaces>` (`probe ` when either could not run). OpenSSL's start-up is most of the probe's time
 * (some 15 ms a run): a deploy with no large file to hash does not ask it.
 */
function verifyProbeLines(asked) {
    const sums = `printf 'probe %s\\n' "$(echo ec2-push-probe | sha256sum 2>/dev/null)"`;
    if (!asked.openssl)
        return sums;
    return `${sums}
printf 'probe %s\\n' "$(printf abc | ${OPENSSL_SHA256} 2>/dev/null | tr '\\n' ' ')"`;
}
/**
 * Whether what OpenSSL printed is its digest of `abc`: its only 64-hex word must be exactly that
 * (1.0.2 prints `(stdin)= <hex>` without -r, 3.x `SHA2-256(stdin)= <hex>`, both `<hex> *stdin`
 * with it). Error text, or a program that prints something else, says no. `besides`: a word of
 * another command's output in the same text, not counted.
 */
function opensslHashes(text, besides) {
    const words = text.split(/\s+/).filter(w => /^[0-9a-f]{64}$/.test(w) && w !== besides);
    return words.length === 1 && words[0] === ABC_DIGEST;
}
/**
 * verifyProbeLines' lines at the start of `text` (two with `asked.openssl`, else one): the verdicts,
 * and the text after them. Anything else there (no shell ran the script) answers no to both, as
 * does OpenSSL when it was not asked.
 */
function readProbeLines(text, asked = { openssl: true }) {
    const first = text.indexOf('\n');
    const second = first < 0 || !asked.openssl ? -1 : text.indexOf('\n', first + 1);
    const line = (from, to) => (to < 0 ? text.slice(from) : text.slice(from, to));
    const sums = line(0, first);
    const ssl = first < 0 || !asked.openssl ? '' : line(first + 1, second);
    const end = asked.openssl ? second : first;
    const rest = end < 0 ? '' : text.slice(end + 1);
    const sha256sum = sums.startsWith('probe ') && sums.includes(PROBE_DIGEST);
    return { sha256sum, openssl: sha256sum && ssl.startsWith('probe ') && opensslHashes(ssl.slice(6)), rest };
}
/** What SHA256SUM_PROBE's run said. OpenSSL counts only where sha256sum works (it is the fallback). */
function readProbe(r) {
    const sha256sum = r.code === 0 && r.stdout.includes(PROBE_DIGEST);
    return { sha256sum, openssl: sha256sum && opensslHashes(r.stdout, PROBE_DIGEST) };
}


/***/ }),

/***/ 8774:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   S: () => (/* binding */ nulList),
/* harmony export */   Z: () => (/* binding */ shellQuote)
/* harmony export */ });
/**
 * Quoting for the scripts rendered in this folder: every name that goes into an instance-side
 * script goes through one of these, so no byte of a name is ever read as shell syntax
 * (docs/remote-protocol.md, "Names in scripts").
 */
/** Quote one argument for a POSIX shell: everything inside single quotes, `'` as `'\''`. */
function shellQuote(s) {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
/**
 * `printf '%s\0' 'a' 'b' ...`: a NUL-separated list for `xargs -0`, with no argv limit (printf is
 * a builtin), in groups of 500 so no single command line grows without bound.
 */
function nulList(paths) {
    if (paths.length === 0)
        return 'printf ""';
    const lines = [];
    for (let i = 0; i < paths.length; i += 500) {
        lines.push(`printf '%s\\0' ${paths
            .slice(i, i + 500)
            .map(shellQuote)
            .join(' ')}`);
    }
    return `{ ${lines.join('; ')}; }`;
}


/***/ }),

/***/ 6458:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Az: () => (/* binding */ runLabel),
/* harmony export */   CY: () => (/* binding */ removeReleasesScript),
/* harmony export */   Ig: () => (/* binding */ parseReleaseState),
/* harmony export */   Kg: () => (/* binding */ isGood),
/* harmony export */   PZ: () => (/* binding */ logReleaseScript),
/* harmony export */   a6: () => (/* binding */ releaseStateScript),
/* harmony export */   es: () => (/* binding */ rollbackTarget),
/* harmony export */   pO: () => (/* binding */ createReleaseScript)
/* harmony export */ });
/* harmony import */ var _quote_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8774);
/* harmony import */ var _names_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8978);


/** Read the markers, the log and where `current` points (a subshell: it can follow other commands). */
function releaseStateScript(root) {
    return `( cd -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(root)} 2>/dev/null || exit 0
if [ -L ${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .CURRENT_LINK */ .Rv} ]; then printf 'link\\t%s\\n' "$(readlink ${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .CURRENT_LINK */ .Rv})"
elif [ -e ${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .CURRENT_LINK */ .Rv} ]; then printf 'other\\t\\n'; fi
for d in ${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy}/*/; do
  n=\${d#${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy}/}; n=\${n%/}
  if [ -f ".ec2-push/releases/$n" ]; then m=".ec2-push/releases/$n"
  elif [ -f "$d${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .OLD_RELEASE_MARKER */ .vy}" ]; then m="$d${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .OLD_RELEASE_MARKER */ .vy}"
  else continue; fi
  printf 'release\\t%s\\t%s\\n' "$n" "$(tr '\\n\\t' '  ' < "$m")"
done
[ -f .ec2-push/log ] && awk '{ print "event\\t" $0 }' .ec2-push/log
exit 0 )
`;
}
function parseReleaseState(out) {
    const byId = new Map();
    const outcomes = new Map();
    let current = { kind: 'missing' };
    for (const line of out.split('\n')) {
        const [kind, a, b] = line.split('\t');
        if (kind === 'release' && _names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASE_ID */ .uX.test(a)) {
            const fields = Object.fromEntries((b ?? '')
                .split(' ')
                .filter(Boolean)
                .map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
            const seq = Number(fields.seq);
            byId.set(a, {
                id: a,
                seq: Number.isFinite(seq) ? seq : 0,
                created: fields.created,
                old: fields.v !== '2'
            });
        }
        else if (kind === 'event') {
            const [id, outcome] = [a, b];
            if (outcome === 'live' || outcome === 'failed' || outcome === 'rolled-back')
                outcomes.set(id, outcome);
        }
        else if (kind === 'link') {
            const m = /^(?:\.\/)?releases\/([^/]+)\/?$/.exec(a ?? '');
            current = m ? { kind: 'release', id: m[1] } : { kind: 'other', detail: `a symlink to '${a}'` };
        }
        else if (kind === 'other') {
            current = { kind: 'other', detail: 'not a symlink (a folder or file)' };
        }
    }
    const releases = [...byId.values()].map(r => ({ ...r, outcome: outcomes.get(r.id) }));
    releases.sort((x, y) => x.seq - y.seq || x.id.localeCompare(y.id));
    if (current.kind === 'release' && !byId.has(current.id)) {
        const id = current.id;
        current = {
            kind: 'other',
            detail: `a symlink to releases/${id}, which ec2-push did not make (no marker)`
        };
    }
    return { releases, current };
}
/** A release that went live and did not fail; releases of older versions (no log) count as good. */
function isGood(r) {
    return r.outcome === 'live' || (r.outcome === undefined && !!r.old);
}
/** rollback: true — the newest good release older than `current`. */
function rollbackTarget(state, current) {
    const cur = state.releases.find(r => r.id === current);
    if (!cur)
        return undefined;
    return [...state.releases].reverse().find(r => r.seq < cur.seq && r.id !== current && isGood(r));
}
/**
 * Create `releases/<id>` and its marker. A leftover folder of the same id is replaced only when
 * it is marked as ours (a failed earlier attempt); anything else there is refused (FOREIGN). `then`
 * runs in the same exec afterwards; its output follows CREATED.
 */
function createReleaseScript(root, id, seq, run, then = '') {
    const rel = (0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy}/${id}`);
    const marker = (0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`.ec2-push/releases/${id}`);
    const oldMarker = (0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy}/${id}/${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .OLD_RELEASE_MARKER */ .vy}`);
    // A subshell, so `then` runs where the exec started (its paths are relative to there).
    return `( mkdir -p -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(root)} && cd -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(root)} && mkdir -p ${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy} .ec2-push/releases || exit 1
if [ -e ${rel} ] || [ -L ${rel} ]; then
  if { [ -f ${marker} ] || [ -f ${oldMarker} ]; } && [ ! -L ${rel} ]; then rm -rf -- ${rel} || exit 1
  else echo FOREIGN; exit 0; fi
fi
printf 'v=2 seq=%s created=%s run=%s\\n' ${seq} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(run)} > ${marker} || exit 1
mkdir -- ${rel} || exit 1
echo CREATED ) || exit 1
${then}`;
}
/**
 * Remove releases (their folder, marker and manifest), each only if it is marked as ours and not a
 * symlink, and forget them in the log. A subshell: it can follow other commands.
 */
function removeReleasesScript(root, ids) {
    const safe = ids.filter(id => _names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASE_ID */ .uX.test(id));
    if (safe.length === 0)
        return ':\n';
    const lines = safe.map(id => {
        const rel = (0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy}/${id}`);
        return `if { [ -f ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`.ec2-push/releases/${id}`)} ] || [ -f ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASES_DIR */ .Dy}/${id}/${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .OLD_RELEASE_MARKER */ .vy}`)} ]; } && [ ! -L ${rel} ]; then rm -rf -- ${rel} && rm -f -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`.ec2-push/releases/${id}`)} ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`.ec2-push/manifests/${id}`)}; fi`;
    });
    return `( cd -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(root)} || exit 1
${lines.join('\n')}
if [ -f .ec2-push/log ]; then
  awk -F '\t' ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(`BEGIN { split("${safe.join(' ')}", d, " "); for (i in d) gone[d[i]] = 1 } !($1 in gone)`)} .ec2-push/log > .ec2-push/${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .TEMP_PREFIX */ .MX}log && mv -f -- .ec2-push/${_names_js__WEBPACK_IMPORTED_MODULE_0__/* .TEMP_PREFIX */ .MX}log .ec2-push/log
fi
)
`;
}
/** Append events to the release log (a fragment; the log is only written under the lock). */
function logReleaseScript(root, events, run) {
    const lines = events
        .filter(e => _names_js__WEBPACK_IMPORTED_MODULE_0__/* .RELEASE_ID */ .uX.test(e.id))
        .map(e => `printf '%s\\t%s\\t%s\\t%s\\n' ${e.id} ${e.outcome} "$T" ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)(run)} >> ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)((0,_names_js__WEBPACK_IMPORTED_MODULE_0__/* .releaseLogPath */ .PW)(root))}`);
    if (lines.length === 0)
        return ':\n';
    return `( mkdir -p -- ${(0,_quote_js__WEBPACK_IMPORTED_MODULE_1__/* .shellQuote */ .Z)((0,_names_js__WEBPACK_IMPORTED_MODULE_0__/* .metaPath */ .bs)(root))} && T=$(date -u +%Y-%m-%dT%H:%M:%SZ) && ${lines.join(' && ')} ) || echo "could not write the release log" >&2
`;
}
/** How a run names itself in the release records: repo#run.attempt, or 'local'. */
function runLabel(env = process.env) {
    const repo = env.GITHUB_REPOSITORY;
    const id = env.GITHUB_RUN_ID;
    if (repo && id)
        return `${repo}#${id}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`;
    return 'local';
}


/***/ }),

/***/ 6260:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   fS: () => (/* binding */ summarise),
/* harmony export */   oL: () => (/* binding */ figuresLine)
/* harmony export */ });
/* unused harmony exports bytesPerSecond, throughputMBps */
function summarise(results, durationMs, filesTotal, mode) {
    const bytes = results.reduce((n, r) => n + r.bytesTransferred, 0);
    return {
        'bytes-transferred': bytes,
        'duration-ms': durationMs,
        'bytes-per-second': bytesPerSecond(bytes, durationMs),
        'files-uploaded': results.reduce((n, r) => n + r.filesUploaded, 0),
        'files-skipped': results.reduce((n, r) => n + r.filesSkipped, 0),
        'files-total': filesTotal,
        mode,
        results,
        'command-output': results.length === 1 ? (results[0].commandOutput ?? '') : ''
    };
}
function bytesPerSecond(bytes, ms) {
    return ms > 0 ? Math.round((bytes * 1000) / ms) : 0;
}
/** The step's figures in one line, as the job summary and the CLI's last line say them. */
function figuresLine(out) {
    return `${out['files-uploaded']} files uploaded (${out['files-skipped']} unchanged), ${out['bytes-transferred']} bytes in ${(out['duration-ms'] / 1000).toFixed(1)} s: ${out['bytes-per-second']} bytes/s`;
}
function throughputMBps(bytes, ms) {
    return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : '0.0';
}


/***/ }),

/***/ 3317:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   v: () => (/* binding */ hashLocalFiles)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var _files_hash_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(8263);
/* harmony import */ var _transfer_file_writes_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(2414);
/* harmony import */ var _util_sha256_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1129);




/**
 * Small files (the upload's own threshold) are hashed on this thread, from one synchronous read: for
 * a small file a round trip to the hashing worker costs several times the hash itself (2,000 files
 * of 2 KiB: about 350 ms through the worker, 40 ms here).
 */
const INLINE_BYTES = _transfer_file_writes_js__WEBPACK_IMPORTED_MODULE_2__/* .SMALL_FILE_BYTES */ .XG;
/** Yield to the event loop this often while hashing inline, so a connection being opened meanwhile progresses. */
const SLICE_MS = 10;
/** sha256 of every planned file, keyed by relative path. */
async function hashLocalFiles(files, concurrency = 16) {
    const out = new Map();
    // Large files on the worker thread, several queued at once, while the small ones are hashed here.
    const large = files.filter(f => f.size > INLINE_BYTES);
    let next = 0;
    const worker = async () => {
        while (next < large.length) {
            const f = large[next++];
            out.set(f.relativePath, await (0,_files_hash_js__WEBPACK_IMPORTED_MODULE_1__/* .sha256File */ .Q)(f.localPath));
        }
    };
    const largeDone = Promise.all(Array.from({ length: Math.min(concurrency, large.length) }, worker));
    largeDone.catch(() => { });
    let sliceStart = performance.now();
    for (const f of files) {
        if (f.size > INLINE_BYTES)
            continue;
        out.set(f.relativePath, (0,_util_sha256_js__WEBPACK_IMPORTED_MODULE_3__/* .sha256Hex */ .fg)((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(f.localPath)));
        if (performance.now() - sliceStart > SLICE_MS) {
            await new Promise(resolve => setImmediate(resolve));
            sliceStart = performance.now();
        }
    }
    await largeDone;
    return out;
}


/***/ }),

/***/ 2414:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   CG: () => (/* binding */ readSmallFileInto),
/* harmony export */   EW: () => (/* binding */ readSmallFile),
/* harmony export */   HG: () => (/* binding */ writeLarge),
/* harmony export */   XG: () => (/* binding */ SMALL_FILE_BYTES),
/* harmony export */   oc: () => (/* binding */ WRITE_CHUNK),
/* harmony export */   q_: () => (/* binding */ ExactModes),
/* harmony export */   wF: () => (/* binding */ WRITES_IN_FLIGHT)
/* harmony export */ });
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1455);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6932);



/**
 * Putting one file's bytes and mode into an open remote file: small files in one write, large ones
 * streamed with pipelined writes. Bytes per SFTP write request and requests in flight per file:
 * 32 x 64 KiB = 2 MiB, OpenSSH's own channel window. Measured (128 MiB, nlb, loopback): 16 in flight
 * 29 MiB/s, 32 in flight 43 MiB/s, 64 x 32 KiB 39 MiB/s, 8 x 256 KiB 34 MiB/s, on a loaded 2-core
 * machine; reading 1 MiB from disk at a time for those writes then took 256 MiB from 2.2-3.0 s to
 * 1.6 s, and one read buffer for the whole file instead of one per MiB from 1.54 to 1.41 s.
 */
const WRITE_CHUNK = 64 * 1024;
const WRITES_IN_FLIGHT = 32;
const READ_BLOCK = 16 * WRITE_CHUNK;
/**
 * Files up to this size are read whole with one synchronous read (a few microseconds from the page
 * cache, against four thread-pool round trips for open/read/close) and hashed from the same bytes.
 */
const SMALL_FILE_BYTES = WRITE_CHUNK;
function changedSize(file) {
    return new _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .UserError */ .yo(`Local file '${file.localPath}' changed size during the upload.`);
}
/**
 * A small file's bytes: open, one read and close, without the fstat readFileSync adds. One byte more
 * than planned is asked for, so a file that grew is seen as well as one that shrank.
 */
function readSmallFile(file) {
    const data = Buffer.allocUnsafe(file.size + 1);
    return data.subarray(0, readSmallFileInto(file, data, 0));
}
/**
 * readSmallFile into `buf` at `at`, which has room for one byte more than the file's planned size
 * (that byte may be overwritten). Returns the size read, which is the planned one.
 */
function readSmallFileInto(file, buf, at) {
    const want = file.size + 1;
    const fd = (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.openSync)(file.localPath, 'r');
    let n = 0;
    try {
        // A read of a regular file comes back short only at its end: when that leaves exactly the
        // planned size, no second read is spent to see the end (a system call per small file).
        for (let r = 1; r > 0 && n < want;) {
            r = (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readSync)(fd, buf, at + n, want - n, n);
            n += r;
            if (n === file.size && r > 0)
                break;
        }
    }
    finally {
        (0,node_fs__WEBPACK_IMPORTED_MODULE_0__.closeSync)(fd);
    }
    if (n !== file.size)
        throw changedSize(file);
    return n;
}
/**
 * Stream a large file: WRITES_IN_FLIGHT requests of WRITE_CHUNK bytes outstanding at any time,
 * read from disk READ_BLOCK bytes at a time (fewer reads and allocations; the writes take slices).
 * `onWritten` hears the length of the prefix written without a gap as acknowledgements arrive.
 */
async function writeLarge(sftp, handle, file, on) {
    const local = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.open)(file.localPath, 'r');
    const inflight = new Set();
    const done = new Set();
    let prefix = 0;
    const acked = (at) => {
        done.add(at);
        if (at !== prefix)
            return;
        while (done.delete(prefix))
            prefix += Math.min(WRITE_CHUNK, file.size - prefix);
        on.onWritten(prefix);
    };
    // One block for the whole file: ssh2 copies each write's bytes into its request as the write is
    // made, so a block is free again once its writes are issued (256 MiB -> 1 MiB allocated).
    const buffer = Buffer.allocUnsafe(Math.min(READ_BLOCK, file.size));
    try {
        let pos = 0;
        while (pos < file.size) {
            const blockLen = Math.min(READ_BLOCK, file.size - pos);
            const block = buffer.subarray(0, blockLen);
            const { bytesRead } = await local.read(block, 0, blockLen, pos);
            if (bytesRead !== blockLen)
                throw changedSize(file);
            for (let off = 0; off < blockLen; off += WRITE_CHUNK) {
                const len = Math.min(WRITE_CHUNK, blockLen - off);
                const at = pos + off;
                const w = sftp.write(handle, block.subarray(off, off + len), len, at).then(() => {
                    inflight.delete(w);
                    acked(at);
                    on.onBytes(len);
                });
                w.catch(() => { });
                inflight.add(w);
                if (inflight.size >= WRITES_IN_FLIGHT)
                    await Promise.race(inflight);
            }
            pos += blockLen;
        }
        await Promise.all(inflight);
    }
    finally {
        await local.close();
    }
}
/**
 * Gives files their exact mode. The mode is asked for at the open already, but the server's umask
 * applies there; the first file of each mode on a connection checks what the server made of it
 * (fstat) and later ones skip the extra request when the umask left it alone. Files of that mode
 * sent while the first one's check is out wait for its answer rather than ask again (with every
 * small file in flight at once, all of them would). Everything is sent with the file's other
 * requests, never waited for before the close: a mode found wrong is set by path after the close.
 * (setuid, setgid and sticky are dropped on purpose.)
 */
class ExactModes {
    sftp;
    /** Per mode: does the server keep it exactly when a file is created with it? */
    keptAtOpen = new Map();
    /** Per mode: the check under way. */
    checking = new Map();
    constructor(sftp) {
        this.sftp = sftp;
    }
    /**
     * Send what `handle` needs now (before its close); resolves true when a chmod by path must follow.
     * False at once when the open gives the mode exactly (no request, no promise: the common case).
     */
    send(handle, mode) {
        const exact = this.keptAtOpen.get(mode);
        if (exact === true)
            return false;
        if (exact === false)
            return this.sftp.fchmod(handle, mode).then(() => false);
        // A check that failed says nothing: the files that waited for it set their mode by path.
        const pending = this.checking.get(mode);
        if (pending)
            return pending.then(kept => !kept, () => true);
        const check = this.sftp.fstat(handle).then(st => {
            const kept = (st.mode & 0o777) === mode;
            this.keptAtOpen.set(mode, kept);
            return kept;
        });
        this.checking.set(mode, check);
        const done = () => this.checking.delete(mode);
        check.then(done, done);
        return check.then(kept => !kept);
    }
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
