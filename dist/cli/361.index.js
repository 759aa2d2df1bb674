export const id = 361;
export const ids = [361];
export const modules = {

/***/ 5361:
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
// EXTERNAL MODULE: ./build/action/config.js
var action_config = __webpack_require__(8673);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./node_modules/ssh2/lib/index.js
var lib = __webpack_require__(5472);
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

;// CONCATENATED MODULE: ./build/action/ssh/connection.js



const { Client } = lib;
/** Whether ssh2 still sends on this SFTP channel (it drops requests once the channel is closing). */
function isOpen(sftp) {
    const state = sftp.outgoing?.state;
    return state === undefined || state === 'open';
}
/**
 * Ciphers in order of preference: AES-GCM runs in OpenSSL through Node's crypto, while ssh2's
 * chacha20-poly1305 falls back to pure JavaScript without its optional native addon (several times slower).
 */
const CIPHERS = [
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-ctr',
    'aes256-ctr',
    'chacha20-poly1305@openssh.com'
];
class SshConnection {
    client;
    label;
    closed = false;
    /**
     * Operations under way. ssh2 leaves some requests pending forever when the transport dies under
     * them, so losing the connection rejects every one of them. (A Set rather than Promise.race against
     * one long-lived promise, which would keep a reaction per operation for the connection's lifetime.)
     */
    pending = new Set();
    constructor(client, label) {
        this.client = client;
        this.label = label;
        const gone = () => {
            if (this.closed)
                return;
            this.closed = true;
            const err = new errors/* TransientError */.N_(`the connection to ${label} was lost`);
            for (const reject of this.pending)
                reject(err);
            this.pending.clear();
        };
        client.once('close', gone);
        client.once('end', gone);
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
            const opening = this.guard(new Promise((resolve, reject) => this.client.sftp((err, sftp) => err ? reject(new errors/* TransientError */.N_(`SFTP on ${this.label}: ${err.message}`)) : resolve(sftp))));
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
/** Check a private key (and passphrase) before any connection, so a bad secret is one clear line. */
function checkPrivateKey(key, passphrase) {
    const parsed = lib.utils.parseKey(key, passphrase);
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
/** Open an SSH session over any byte stream, verifying the host key as the policy says. */
function connectSsh(opts) {
    const { stream, login, hostKey, label } = opts;
    return new Promise((resolve, reject) => {
        const client = new Client();
        let received;
        let settled = false;
        const fail = (err) => {
            if (settled)
                return;
            settled = true;
            client.end();
            stream.destroy();
            reject(err);
        };
        client.once('ready', () => {
            settled = true;
            client.removeListener('error', onError);
            client.on('error', () => { }); // later errors surface through the operations that hit them
            resolve(new SshConnection(client, label));
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
        stream.once('close', () => fail(new errors/* TransientError */.N_(`the connection to ${label} closed during the SSH handshake`)));
        client.connect({
            sock: stream,
            username: login.user,
            privateKey: login.privateKey,
            passphrase: login.passphrase,
            // The key is the only way in: ssh2 would first try 'none' to learn the methods, a round trip
            // that costs tens of milliseconds over ssm or eice.
            authHandler: ['publickey'],
            readyTimeout: opts.readyTimeoutMs ?? 30000,
            keepaliveInterval: opts.keepaliveIntervalMs ?? 30000,
            keepaliveCountMax: 4,
            algorithms: { cipher: [...CIPHERS] },
            hostVerifier: (key) => {
                received = fingerprint(key);
                if (hostKey.kind === 'any')
                    return true;
                if (hostKey.kind === 'fingerprint')
                    return received === normaliseFingerprint(hostKey.fingerprint);
                return hostKey.keys.some(k => k.equals(key));
            }
        });
    });
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
;// CONCATENATED MODULE: ./build/action/transfer/remote-path.js


/** Quote one argument for a POSIX shell: everything inside single quotes, `'` as `'\''`. */
function shellQuote(s) {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
function remoteFilePath(remoteRoot, relativePath) {
    return external_node_path_.posix.join(remoteRoot, relativePath);
}
/** Random per process, so two runs never pick the same name; a counter keeps names unique within one. */
const TEMP_PREFIX = (0,external_node_crypto_.randomBytes)(6).toString('hex');
let tempCounter = 0;
/**
 * A temporary name beside the final one, so the rename that publishes it stays on one file system.
 * Starts with a dot (hidden), says who made it, and is short enough for any NAME_MAX.
 */
function tempPathFor(finalPath) {
    const dir = external_node_path_.posix.dirname(finalPath);
    const base = external_node_path_.posix.basename(finalPath).slice(0, 60);
    return external_node_path_.posix.join(dir, `.${base}.ec2-push-${TEMP_PREFIX}${(tempCounter++).toString(16)}.tmp`);
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

;// CONCATENATED MODULE: ./build/action/ssh/exec.js



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
 * A shell that reads a script of a given length from stdin and runs it, leaving the rest of stdin
 * to the script: `<bytes>\n<script><the script's own stdin>`. (head -c reads no further than it is
 * asked to, where the shell reading a script from stdin would read ahead.) One line, no backslash:
 * csh and fish login shells take it as it is.
 */
const BOOT = `IFS= read -r n || exit 1; s=$(head -c "$n") || exit 1; eval "$s"`;
const bootCommand = `sh -c ${shellQuote(BOOT)}`;
/** Per connection: one shell opened ahead of need, and whether to open the next one when it is taken. */
const ready = new WeakMap();
const keepReady = new WeakSet();
/**
 * Keep a shell open ahead of the next script on this connection: a script then costs no channel
 * open and no exec request (two round trips, tens of milliseconds apiece over ssm or eice).
 */
function keepShellReady(conn) {
    keepReady.add(conn);
    if (ready.has(conn) || conn.isClosed)
        return;
    ready.set(conn, conn.guard(openExec(conn, bootCommand)).catch(() => undefined));
}
/**
 * Run a POSIX sh script: on the shell kept ready when there is one (the next one is opened at
 * once), else on a new one. `opts.stdin` follows the script on the same stdin.
 */
async function execScript(conn, script, opts = {}) {
    if (opts.signal?.aborted)
        throw new Error('cancelled');
    const spare = ready.get(conn);
    ready.delete(conn);
    if (keepReady.has(conn))
        keepShellReady(conn);
    let h = spare && (await spare);
    if (!h || h.isClosed)
        h = await conn.guard(openExec(conn, bootCommand));
    // A last line that is a comment: $(...) strips trailing newlines, which a here-document's end
    // marker needs, and a comment leaves the script's exit status as it was.
    const text = Buffer.from(`${script}\n#`, 'utf8');
    h.channel.write(`${text.length}\n`);
    h.channel.write(text);
    return conn.guard(drive(h, opts));
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

;// CONCATENATED MODULE: ./build/action/release/shell.js


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
/** `printf '%s\0' 'a' 'b' ...`: a NUL-separated list for `xargs -0`, with no argv limit (printf is a builtin). */
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


;// CONCATENATED MODULE: ./build/action/release/commands.js


/**
 * The command line sent to the login shell: the variables are exported in the shell itself
 * (sshd refuses SetEnv unless AcceptEnv allows it), `set -e` as in a workflow's `run:`, and the
 * user's lines run in remote-path.
 */
function commandLine(ctx) {
    const exports = Object.entries(ctx.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    const script = [
        ...exports,
        'set -e',
        `cd -- ${shellQuote(ctx.cwd)}`,
        // stderr joins stdout so the log keeps the order the command wrote in.
        'exec 2>&1',
        ctx.command
    ].join('\n');
    // coreutils `timeout` kills the command's whole process group at the limit (a background child
    // would otherwise outlive it); the client's own timer is the backstop where it is missing.
    const secs = Math.max(1, Math.ceil(ctx.timeoutMs / 1000));
    const sh = '"${SHELL:-/bin/sh}"';
    return `if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 ${secs} ${sh} -c ${shellQuote(script)}; else exec ${sh} -c ${shellQuote(script)}; fi`;
}
/** Exit status of coreutils `timeout` when the limit was reached. */
const TIMEOUT_EXIT = 124;
/** Run a pre- or post-command, streaming its output line by line; non-zero exit or timeout throws. */
async function runUserCommand(conn, ctx) {
    let partial = '';
    const onData = (d) => {
        const text = partial + d.toString('utf8');
        const lines = text.split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const l of lines)
            ctx.onLine(l);
    };
    const started = Date.now();
    const r = await execChannel(conn, commandLine(ctx), {
        timeoutMs: ctx.timeoutMs + 3000,
        signal: ctx.signal,
        onStdout: onData,
        onStderr: onData
    });
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

;// CONCATENATED MODULE: ./build/action/sync/apply.js


/** A relative path that stays inside its folder (no absolute paths, no `..` parts, no empty parts). */
function isContained(rel) {
    if (!rel || rel.startsWith('/') || rel.includes('\0'))
        return false;
    return rel.split('/').every(p => p !== '' && p !== '.' && p !== '..');
}
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
    await runScriptOk(conn, `cd -- ${shellQuote(root)} || exit 1
${nulList(safe)} | xargs -0 rm -f --
${deepestFirst.length ? `${nulList(deepestFirst)} | xargs -0 rmdir -- 2>/dev/null` : ''}
exit 0
`, 'Deleting files no longer in the set');
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
    await runScriptOk(conn, `T=$(cd -- ${shellQuote(toDir)} && pwd) || exit 1
cd -- ${shellQuote(fromDir)} || exit 1
if ! ${nulList(safe)} | xargs -0 cp -l --parents -t "$T" -- 2>/dev/null; then
  ${nulList(safe)} | xargs -0 cp -pf --parents -t "$T" -- || exit 1
fi
`, 'Reusing unchanged files of the previous release');
}

// EXTERNAL MODULE: external "node:zlib"
var external_node_zlib_ = __webpack_require__(8522);
;// CONCATENATED MODULE: ./build/action/release/layout.js



/** Names this action owns on the instance. Nothing without its marker is ever removed. */
const RELEASE_MARKER = '.ec2-push-release';
const MANIFEST_NAME = '.ec2-push-manifest';
const LOCK_NAME = '.ec2-push.lock';
const RELEASES_DIR = 'releases';
const CURRENT_LINK = 'current';
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
function releaseDir(root, id) {
    return external_node_path_.posix.join(root, RELEASES_DIR, id);
}
function currentPath(root) {
    return external_node_path_.posix.join(root, CURRENT_LINK);
}
/** Read the releases (their markers) and where `current` points, in one exec. */
async function readReleaseState(conn, root) {
    return parseReleaseState(await runScriptOk(conn, releaseStateScript(root), 'Reading the releases'));
}
/** The script behind readReleaseState (runs in a subshell, so it can follow other commands). */
function releaseStateScript(root) {
    return `( cd -- ${shellQuote(root)} 2>/dev/null || exit 0
if [ -L ${CURRENT_LINK} ]; then printf 'link\\t%s\\n' "$(readlink ${CURRENT_LINK})"
elif [ -e ${CURRENT_LINK} ]; then printf 'other\\t\\n'; fi
for d in ${RELEASES_DIR}/*/; do
  [ -f "$d${RELEASE_MARKER}" ] || continue
  n=\${d#${RELEASES_DIR}/}; n=\${n%/}
  printf 'release\\t%s\\t%s\\n' "$n" "$(tr '\\n\\t' '  ' < "$d${RELEASE_MARKER}")"
done )
`;
}
function parseReleaseState(out) {
    const releases = [];
    let current = { kind: 'missing' };
    for (const line of out.split('\n')) {
        const [kind, a, b] = line.split('\t');
        if (kind === 'release' && RELEASE_ID.test(a)) {
            const fields = Object.fromEntries((b ?? '')
                .split(' ')
                .filter(Boolean)
                .map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
            const seq = Number(fields.seq);
            releases.push({ id: a, seq: Number.isFinite(seq) ? seq : 0, created: fields.created });
        }
        else if (kind === 'link') {
            const m = /^(?:\.\/)?releases\/([^/]+)\/?$/.exec(a ?? '');
            current = m ? { kind: 'release', id: m[1] } : { kind: 'other', detail: `a symlink to '${a}'` };
        }
        else if (kind === 'other') {
            current = { kind: 'other', detail: 'not a symlink (a folder or file)' };
        }
    }
    releases.sort((x, y) => x.seq - y.seq || x.id.localeCompare(y.id));
    if (current.kind === 'release' && !releases.some(r => r.id === current.id)) {
        const id = current.id;
        current = { kind: 'other', detail: `a symlink to releases/${id}, which has no ${RELEASE_MARKER} marker` };
    }
    return { releases, current };
}
/**
 * Create `releases/<id>` with its marker. A leftover folder of the same id is replaced only when
 * it carries our marker (a failed earlier attempt); anything else there is refused. `then` runs
 * in the same exec afterwards (its output is returned).
 */
async function createRelease(conn, root, id, seq, run, then = '') {
    const rel = `${RELEASES_DIR}/${id}`;
    const out = await runScriptOk(conn, `set -e
mkdir -p -- ${shellQuote(root)}
cd -- ${shellQuote(root)}
mkdir -p ${RELEASES_DIR}
if [ -e ${shellQuote(rel)} ] || [ -L ${shellQuote(rel)} ]; then
  if [ -f ${shellQuote(rel + '/' + RELEASE_MARKER)} ] && [ ! -L ${shellQuote(rel)} ]; then rm -rf -- ${shellQuote(rel)}
  else echo FOREIGN; exit 0; fi
fi
mkdir -- ${shellQuote(rel)}
printf 'seq=%s created=%s run=%s\\n' ${seq} "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ${shellQuote(run)} > ${shellQuote(rel + '/' + RELEASE_MARKER)}
echo CREATED
${then}`, 'Creating the release folder');
    if (out.includes('FOREIGN')) {
        throw new errors/* UserError */.yo(`${external_node_path_.posix.join(root, rel)} exists and was not made by ec2-push (no ${RELEASE_MARKER}); move it away or choose another release-id.`);
    }
    return out.slice(out.indexOf('CREATED\n') + 'CREATED\n'.length);
}
/** Remove one of our release folders (re-checking its marker on the instance first). */
async function removeRelease(conn, root, id) {
    await runScriptOk(conn, removeReleasesScript(root, [id]), `Removing release ${id}`);
}
/** Remove releases, each only if it still carries our marker and is not a symlink. */
function removeReleasesScript(root, ids) {
    const lines = ids
        .filter(id => RELEASE_ID.test(id))
        .map(id => {
        const rel = shellQuote(`${RELEASES_DIR}/${id}`);
        const marker = shellQuote(`${RELEASES_DIR}/${id}/${RELEASE_MARKER}`);
        return `if [ -f ${marker} ] && [ ! -L ${rel} ]; then rm -rf -- ${rel}; fi`;
    });
    return `( cd -- ${shellQuote(root)} || exit 1
${lines.join('\n')}
)
`;
}

;// CONCATENATED MODULE: ./build/action/sync/listing.js



/** Our own bookkeeping files and temporaries, never part of a deploy's set nor deleted by `delete`. */
function isOwnFile(rel) {
    if (rel === MANIFEST_NAME || rel === RELEASE_MARKER || rel === LOCK_NAME || rel.startsWith(`${LOCK_NAME}/`))
        return true;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    return /^\..*\.ec2-push-[0-9a-f]+\.tmp$/.test(base);
}
const FIND_TYPES = '\\( -type f -o -type l \\)';
/** type, inode, size, ctime, mode, path relative to the folder listed. */
const FIND_FORMAT = '%y %i %s %C@ %m %P\\0';
/**
 * `find` over the current folder (our lock skipped), one FIND_FORMAT record per file or symlink
 * ending in `end`; `select` narrows it further.
 */
function findEntries(select = '', end = '\\0') {
    return `find . -mindepth 1 -path ./${LOCK_NAME} -prune -o ${FIND_TYPES} ${select} -printf '${FIND_FORMAT.replace('\\0', end)}'`;
}
/**
 * FIND_FORMAT records for these paths under `dir` (with `./`, so names that start with '-' or
 * '(' do not read as find expressions; parseEntry takes the `./` off), each ending in `end`.
 */
function relistScript(dir, rels, end = '\\0') {
    if (rels.length === 0)
        return ':\n';
    const format = FIND_FORMAT.replace('%P', '%p').replace('\\0', end);
    return `( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
${nulList(rels.map(rel => `./${rel}`))} | xargs -0 sh -c 'exec find "$@" -maxdepth 0 ${FIND_TYPES} -printf "${format}"' find 2>/dev/null
exit 0 )
`;
}
function rawListingScript(dir) {
    return `( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
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
    if (isOwnFile(rel))
        return undefined;
    return {
        path: rel,
        type: y === 'f' ? 'file' : 'link',
        size: Number(size),
        mode: parseInt(mode, 8),
        stamp: `${inode} ${size} ${ctime}`
    };
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
 * (sync/snapshot.ts): it reports the digest, and the lines themselves never cross the network. The
 * digest then comes from the instance's sha256sum, which the upload's verification trusts already.
 */
const MANIFEST_HEADER = 'ec2-push-manifest 2';
/** The sealing key, or undefined when no lasting private key was given. */
function manifestKey(privateKey) {
    if (!privateKey)
        return undefined;
    return (0,external_node_crypto_.createHmac)('sha256', 'ec2-push manifest key v1').update(privateKey.trim()).digest();
}
function seal(key, dir, bodyDigest) {
    return (0,external_node_crypto_.createHmac)('sha256', key).update(`${dir}\n${bodyDigest}`).digest('hex');
}
/** A path the line format can hold: the path ends the line, so no control characters in it. */
function isLinePath(rel) {
    // eslint-disable-next-line no-control-regex
    return !/[\x00-\x1f]/.test(rel);
}
function manifestLine(rel, e) {
    return `${e.sha256} ${e.mode.toString(8)} ${e.stamp} ${rel}`;
}
/** A manifest's lines and seal, in the order given (paths the format cannot hold are left out). */
function formatManifest(key, dir, entries) {
    const lines = [MANIFEST_HEADER];
    for (const [rel, e] of entries)
        if (isLinePath(rel))
            lines.push(manifestLine(rel, e));
    const body = lines.join('\n') + '\n';
    return `${body}${sealLine(key, dir, (0,util_sha256/* sha256Hex */.f)(Buffer.from(body, 'utf8')))}\n`;
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
/** One manifest line; undefined for anything else (the header, the seal). */
function parseManifestLine(line) {
    const m = /^([0-9a-f]{64}) ([0-7]+) (\d+ \d+ [\d.]+) (.+)$/.exec(line);
    return m ? [m[4], { sha256: m[1], mode: parseInt(m[2], 8), stamp: m[3] }] : undefined;
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
        bodyDigest: (0,util_sha256/* sha256Hex */.f)(Buffer.from(body, 'utf8')),
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

;// CONCATENATED MODULE: ./build/action/sync/snapshot.js




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
/** The planned files the instance compares (the rest, if any, are judged from the listing). */
function comparedFiles(request) {
    return request.files.filter(f => request.digests.has(f.relativePath) && isLinePath(f.relativePath));
}
/** fnmatch pattern for a path with a control character (listed apart, NUL-terminated). */
const CONTROL = `"*[$(printf '\\001-\\037')]*"`;
/** The snapshot of `dir`: compared there when `request` is given and the tools are there. */
function snapshotScript(dir, request) {
    if (!request)
        return compressedOutput(rawListingScript(dir));
    const manifest = shellQuote(MANIFEST_NAME);
    const expected = comparedFiles(request).map(f => `${request.digests.get(f.relativePath)} ${f.size} ${(f.mode & 0o777).toString(8)} ${f.relativePath}`);
    // The here-document ends at a line no planned path can make (each line starts with a sha256).
    const joined = `echo ${JOINED}
if [ -f ${manifest} ]; then
  printf 'H %s\\nD %s\\nT %s\\n' "$(head -n 1 ${manifest})" "$(sed '$d' ${manifest} | sha256sum | cut -c1-64)" "$(tail -n 1 ${manifest})"
fi
{ cat <<'EC2_PUSH_PLANNED'
${expected.join('\n')}
EC2_PUSH_PLANNED
echo --
${findEntries(`! -path ${CONTROL}`, '\\n')}
} | awk -v M=${manifest} '${JOIN_AWK}' || exit 1
echo ${RAW}
${findEntries(`-path ${CONTROL}`)}`;
    return compressedOutput(`( cd -- ${shellQuote(dir)} 2>/dev/null || exit 0
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
async function readSnapshot(conn, dir, request) {
    return parseSnapshot(await runScriptOk(conn, snapshotScript(dir, request), `Reading ${dir}`), request);
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
;// CONCATENATED MODULE: ./build/action/release/lock.js






function runLabel(env = process.env) {
    const repo = env.GITHUB_REPOSITORY;
    const id = env.GITHUB_RUN_ID;
    if (repo && id)
        return `${repo}#${id}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`;
    return 'local';
}
function lockPath(root) {
    return external_node_path_.posix.join(root, LOCK_NAME);
}
const THEN = '--ec2-push-then--';
/**
 * Take the lock or throw a one-line UserError naming the holder. Re-taking our own lock succeeds.
 * `then` is a script fragment run right after the lock is taken, in the same exec (round trips
 * are the slow part of a deploy); its output comes back as `thenOutput`.
 */
async function acquireLock(conn, root, opts) {
    const lock = lockPath(root);
    const token = opts.token ?? (0,external_node_crypto_.randomBytes)(12).toString('hex');
    const run = safeWord(opts.run ?? runLabel());
    const host = safeWord(external_node_os_.hostname());
    const r = await runScript(conn, `echo ec2-push-shell
mkdir -p -- ${shellQuote(root)} || exit 1
L=${shellQuote(lock)}
if mkdir -- "$L" 2>/dev/null; then
  printf 'token=%s\\nrun=%s\\nhost=%s\\npid=%s\\nsince=%s\\nttl=%s\\n' ${token} ${shellQuote(run)} ${shellQuote(host)} ${process.pid} "$(date +%s)" ${opts.ttlSeconds} > "$L/owner.tmp" && mv -f -- "$L/owner.tmp" "$L/owner" || { rm -rf -- "$L"; exit 1; }
  echo ACQUIRED
  echo ${THEN}
  ${opts.then ?? ':'}
else
  echo HELD
  echo "now=$(date +%s)"
  echo "dirtime=$(stat -c %Y -- "$L" 2>/dev/null || echo 0)"
  cat -- "$L/owner" 2>/dev/null
fi
`);
    if (!r.stdout.startsWith('ec2-push-shell\n')) {
        throw new errors/* UserError */.yo(`${conn.label} does not let this account run commands (SFTP only); release, rollback, sync, delete and pre/post-command need a shell there.`);
    }
    const out = r.stdout.slice('ec2-push-shell\n'.length);
    if (r.code !== 0)
        throw new Error(`taking the deploy lock failed (exit ${r.code}): ${r.stderr.trim()}`);
    if (out.startsWith('ACQUIRED')) {
        return { path: lock, token, thenOutput: out.slice(out.indexOf(THEN) + THEN.length + 1) };
    }
    const f = fields(out);
    if (f.token === token) {
        // Ours, from before a reconnect: run the follow-up on its own.
        const again = opts.then ? await runScriptOk(conn, opts.then, 'Reading the instance') : '';
        return { path: lock, token, thenOutput: again };
    }
    throw new errors/* UserError */.yo(describeHeldLock(lock, conn.label, f));
}
function describeHeldLock(lock, label, f) {
    const now = Number(f.now);
    const remove = `if no deploy is running there, remove it on the instance with: rm -rf ${shellQuote(lock)}`;
    if (!f.token) {
        const age = now - Number(f.dirtime);
        if (age > 120) {
            return `The deploy lock ${lock} on ${label} has no owner file and is ${age} s old (a run was killed while taking it); ${remove}`;
        }
        return `Another deploy is taking the lock ${lock} on ${label} right now; wait for it, or use a workflow 'concurrency' group so deploys queue.`;
    }
    const since = Number(f.since);
    const who = `run ${f.run ?? '?'} on ${f.host ?? '?'} (pid ${f.pid ?? '?'}), since ${Number.isFinite(since) ? new Date(since * 1000).toISOString() : '?'}`;
    const age = now - since;
    const ttl = Number(f.ttl);
    let stale;
    if (Number.isFinite(age) && Number.isFinite(ttl) && age > ttl)
        stale = `held ${age} s, past its owner's limit of ${ttl} s`;
    else if (f.host === safeWord(external_node_os_.hostname()) && f.pid && !processAlive(Number(f.pid)))
        stale = `its process ${f.pid} no longer exists on ${f.host}`;
    if (stale)
        return `The deploy lock ${lock} on ${label} is stale (${who}; ${stale}); ${remove}, then re-run.`;
    return `Another deploy holds the lock ${lock} on ${label} (${who}); wait for it to finish, or use a workflow 'concurrency' group so deploys queue.`;
}
/** Release the lock if it is still ours (best effort: a lost connection leaves it to be reported). */
async function releaseLock(conn, lock) {
    await runScriptOk(conn, releaseLockScript(lock) + 'exit 0\n', 'Releasing the deploy lock');
}
/** The script behind releaseLock, to end another exec with. */
function releaseLockScript(lock) {
    return `( L=${shellQuote(lock.path)}
[ "$(sed -n 's/^token=//p' "$L/owner" 2>/dev/null)" = ${lock.token} ] && rm -rf -- "$L" )
`;
}
function fields(out) {
    const f = {};
    for (const line of out.split('\n')) {
        const at = line.indexOf('=');
        if (at > 0)
            f[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return f;
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
function safeWord(s) {
    return s.replace(/[^A-Za-z0-9._#/:@-]/g, '_').slice(0, 200);
}

;// CONCATENATED MODULE: ./build/action/release/prune.js
/**
 * The releases to remove so the newest `keep` remain (by creation order), never `current`. Only
 * releases with our marker are ever listed, and the removal re-checks the marker on the instance.
 */
function releasesToPrune(releases, current, keep) {
    const ordered = [...releases].sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id));
    return ordered
        .slice(0, Math.max(0, ordered.length - keep))
        .filter(r => r.id !== current)
        .map(r => r.id);
}

;// CONCATENATED MODULE: ./build/action/release/switch.js



/**
 * Point `<root>/current` at `releases/<id>` in one rename: a new symlink is made under a temporary
 * name and renamed over `current` (GNU `mv -T`, BSD `mv -h`), so `current` never goes missing and
 * never points at anything but a whole release. The link is relative, so the tree can move.
 */
async function switchCurrent(conn, root, id, expect) {
    const tmp = `.${CURRENT_LINK}.ec2-push-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}.tmp`;
    const target = `${RELEASES_DIR}/${id}`;
    const out = await runScriptOk(conn, `cd -- ${shellQuote(root)} || exit 1
[ -d ${shellQuote(target)} ] || { echo "release ${id} is missing" >&2; exit 1; }
${expect ? completenessCheck(target, expect) : ''}if [ -e ${CURRENT_LINK} ] && [ ! -L ${CURRENT_LINK} ]; then echo "current is not a symlink" >&2; exit 1; fi
ln -s -- ${shellQuote(target)} ${tmp} || exit 1
if ! mv -Tf -- ${tmp} ${CURRENT_LINK} 2>/dev/null && ! mv -hf -- ${tmp} ${CURRENT_LINK} 2>/dev/null; then
  rm -f -- ${tmp}; echo "mv cannot rename a symlink over current (needs GNU mv -T or BSD mv -h)" >&2; exit 1
fi
readlink ${CURRENT_LINK}
`, `Switching ${CURRENT_LINK} to ${id}`);
    if (out.trim() !== target)
        throw new Error(`after the switch, current points to '${out.trim()}', not ${target}`);
}
/**
 * In the same exec as the switch: the release must hold exactly the expected number of files and
 * bytes (our marker, manifest and temporaries aside), or current is left alone.
 */
function completenessCheck(target, expect) {
    return `got=$(find ${shellQuote(target)} -type f ! -name '.ec2-push-*' ! -name '.*.ec2-push-*.tmp' -printf '%s\\n' | awk '{ n++; b += $1 } END { printf "%d %d", n, b }')
[ "$got" = "${expect.files} ${expect.bytes}" ] || { echo "the release is incomplete: $got files/bytes instead of ${expect.files} ${expect.bytes}" >&2; exit 1; }
`;
}

;// CONCATENATED MODULE: ./build/action/release/flows.js









/**
 * The release flows of one target's deploy (deploy.ts runs them with its steps): an atomic release
 * with its recovery, and a rollback on purpose.
 */
/** release: atomic — a new releases/<id>, then `current` switched to it in one rename. */
async function atomicRelease(d) {
    const { config, plan } = d.o;
    const root = d.root;
    const state = parseReleaseState(d.firstRead);
    if (state.current.kind === 'other') {
        throw new errors/* UserError */.yo(`${currentPath(root)} on ${d.label} is ${state.current.detail}; ec2-push keeps 'current' as a symlink to releases/<id>: move it away (or use another remote-path) and re-run.`);
    }
    const previous = state.current.kind === 'release' ? state.current.id : undefined;
    const id = config.releaseId;
    if (id === previous) {
        throw new errors/* UserError */.yo(`Release ${id} is already current on ${d.label}; each deploy needs its own 'release-id' (the default is the run id and attempt).`);
    }
    const dir = releaseDir(root, id);
    Object.assign(d.result, { releaseId: id, releasePath: dir, previousRelease: previous });
    const seq = Math.max(0, ...state.releases.map(r => r.seq)) + 1;
    const env = d.commandEnv(dir, previous);
    await d.command('pre-command', env, d.o.signal);
    let switched = false;
    try {
        const compareWithPrevious = !!previous && (config.sync || config.protect.length > 0);
        const prevDir = releaseDir(root, previous ?? '');
        // The previous release is read in the same exec that creates the new one.
        const request = compareWithPrevious ? await d.snapshotRequest() : undefined;
        const created = await d.link.step('Creating the release', conn => createRelease(conn, root, id, seq, runLabel(), compareWithPrevious ? snapshotScript(prevDir, request) : ''), d.o.signal);
        let files = plan.files;
        const reused = [];
        const expected = { files: plan.files.length, bytes: plan.totalBytes };
        if (previous && compareWithPrevious) {
            const snapshot = parseSnapshot(created, request);
            const cmp = await d.compare(prevDir, 'Comparing with the current release', snapshot);
            const reuse = [];
            if (config.sync) {
                files = cmp.changed;
                reuse.push(...cmp.same.map(f => f.relativePath));
                d.result.filesSkipped = cmp.same.length;
            }
            // Protected paths of the previous release that the new file set lacks carry over.
            const carried = cmp.extras.filter(rel => isContained(rel) && d.isProtected(rel));
            reuse.push(...carried);
            for (const rel of carried) {
                const e = cmp.listing.get(rel);
                if (e?.type === 'file') {
                    expected.files++;
                    expected.bytes += e.size;
                }
            }
            d.info(`${d.label}: ${files.length} files to upload, ${cmp.same.length} reused from release ${previous}${carried.length ? `, ${carried.length} protected files carried over` : ''}${config.sync ? ` (${cmp.manifest})` : ''}`);
            await d.link.step('Reusing unchanged files', conn => linkFromPrevious(conn, prevDir, dir, reuse), d.o.signal);
            reused.push(...reuse);
        }
        await d.upload(files, dir, reused);
        d.o.signal?.throwIfAborted();
        // Every planned file must be in place before `current` may point here (checked in the same exec).
        await d.link.step('Switching current', conn => switchCurrent(conn, root, id, expected));
        switched = true;
        d.info(`${d.label}: current -> releases/${id}`);
        await d.command('post-command', env, d.o.signal);
    }
    catch (err) {
        throw await recover(d, err, switched, previous, id);
    }
    // Old releases go first: unlinking them changes the ctime of files shared by hard links, and
    // the manifest must record the stamps the next deploy will see. One exec for both.
    const doomed = releasesToPrune([...state.releases.filter(r => r.id !== id), { id, seq }], id, config.keepReleases);
    const manifest = d.willWriteManifest();
    const unlock = !manifest && d.lock ? releaseLockScript(d.lock) : '';
    const listing = await d.link
        .step('Removing old releases', async (conn) => {
        const script = removeReleasesScript(root, doomed) + (manifest ? listingScript(dir) : unlock);
        const out = await runScriptOk(conn, script, 'Removing old releases');
        d.lockReleased = !!unlock;
        return parseListing(out);
    })
        .then(l => {
        if (doomed.length)
            d.info(`${d.label}: removed old releases ${doomed.join(', ')}`);
        return l;
    })
        .catch(err => {
        d.o.logger.warning(`${d.label}: could not remove old releases: ${(0,errors/* errorMessage */.gJ)(err)}`);
        return undefined;
    });
    await d.saveManifest(dir, listing);
}
/** After a failure: put `current` back (or leave it untouched) and say which. Never throws itself. */
async function recover(d, err, switched, previous, id) {
    const root = d.root;
    let msg = (0,errors/* errorMessage */.gJ)(err).replace(/\.$/, '');
    if (d.o.signal?.aborted && !/cancel/i.test(msg))
        msg = `${msg} (cancelled)`;
    if (!switched) {
        const removed = await d.link
            .step('Removing the unfinished release', conn => removeRelease(conn, root, id))
            .then(() => true)
            .catch(() => false);
        const where = previous ? `still points to releases/${previous}` : 'was not created';
        return new errors/* UserError */.yo(`${msg}; current ${where}, nothing was switched${removed ? ` (the unfinished release ${id} was removed)` : ''}.`);
    }
    if (!previous) {
        return new errors/* UserError */.yo(`${msg}; there is no earlier release to roll back to, so current still points to releases/${id}.`);
    }
    try {
        await d.link.step('Rolling back', conn => switchCurrent(conn, root, previous));
        d.result.rolledBack = true;
        d.result.releasePath = releaseDir(root, previous);
        d.info(`${d.label}: rolled back: current -> releases/${previous}`);
        return new errors/* UserError */.yo(`${msg}; rolled back: current points to releases/${previous} again.`);
    }
    catch (rbErr) {
        return new errors/* UserError */.yo(`${msg}; the rollback to releases/${previous} also failed (${(0,errors/* errorMessage */.gJ)(rbErr)}), so current still points to releases/${id}.`);
    }
}
/** rollback: true — switch `current` to the release before it, uploading nothing. */
async function rollbackOnPurpose(d) {
    const root = d.root;
    const state = parseReleaseState(d.firstRead);
    if (state.current.kind !== 'release') {
        throw new errors/* UserError */.yo(`Nothing to roll back on ${d.label}: ${currentPath(root)} is ${state.current.kind === 'missing' ? 'missing' : state.current.detail}.`);
    }
    const cur = state.current.id;
    const at = state.releases.findIndex(r => r.id === cur);
    const target = at > 0 ? state.releases[at - 1] : undefined;
    if (!target)
        throw new errors/* UserError */.yo(`No release before ${cur} on ${d.label} to roll back to.`);
    Object.assign(d.result, {
        releaseId: target.id,
        releasePath: releaseDir(root, target.id),
        previousRelease: cur
    });
    const env = d.commandEnv(releaseDir(root, target.id), cur);
    await d.command('pre-command', env, d.o.signal);
    await d.link.step('Rolling back', conn => switchCurrent(conn, root, target.id), d.o.signal);
    d.result.rolledBack = true;
    d.info(`${d.label}: rolled back on purpose: current -> releases/${target.id} (was ${cur})`);
    await d.command('post-command', env, d.o.signal);
}

;// CONCATENATED MODULE: ./build/action/sync/compare.js




/**
 * Compare the planned files with what `dir` on the instance holds: same size and mode, and the
 * same sha256, taken from the sealed manifest when the file's stamp is unchanged, else computed
 * there with `sha256sum` (batched through xargs). Reads only. Without local digests, only lists.
 */
async function compareWithRemote(conn, dir, files, localDigests, key, snapshot) {
    const request = localDigests && { files, digests: localDigests };
    const snap = snapshot ?? (await readSnapshot(conn, dir, request));
    const { listing, joined } = snap;
    const planned = new Set(files.map(f => f.relativePath));
    const extras = [...listing.keys()].filter(rel => !planned.has(rel)).sort();
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
        const r = await runScript(conn, `cd -- ${shellQuote(dir)} || exit 1\n${nulList(toHash)} | xargs -0 sha256sum --\n`);
        for (const [rel, digest] of parseSha256sum(r.stdout))
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

;// CONCATENATED MODULE: ./build/action/sync/manifest-write.js







/** Writing the manifest (its format and seal are in manifest.ts), in the exec that releases the lock. */
/** Ends the listing part of writeManifest's exec. */
const LISTED = '--ec2-push-listed--';
/** Precedes the digest of the lines the instance put together. */
const DIGEST = '--ec2-push-digest--';
function tempName(dir) {
    return external_node_path_.posix.join(dir, `.${MANIFEST_NAME}.ec2-push-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}.tmp`);
}
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
async function writeManifest(conn, key, dir, digests, 
/** The files' stamps now, or how to list them (then in the same exec as the write). */
listing, 
/** A script to run in the same exec once the manifest is in place. */
after = '') {
    const final = external_node_path_.posix.join(dir, MANIFEST_NAME);
    const tmp = tempName(dir);
    const write = `cat > ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(final)} || exit 1\n${after}`;
    if (listing instanceof Map) {
        const text = formatManifest(key, dir, entriesFor(digests, listing));
        return failed(final, await execScript(conn, write, { stdin: text }));
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
    const r = await execScript(conn, `${listing.script}echo ${LISTED}\n${write}`, { stdin, onStdout }).finally(() => stdin.end());
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
 */
async function writeCarriedManifest(conn, key, dir, digests, parts, after = '') {
    const final = external_node_path_.posix.join(dir, MANIFEST_NAME);
    const tmp = tempName(dir);
    const body = tempName(dir);
    const uploaded = new Set(parts.uploaded.filter(rel => isLinePath(rel) && digests.has(rel)));
    const skip = new Set([...parts.carried, ...uploaded]);
    const input = [
        ...[...parts.carried].filter(isLinePath).map(rel => `K ${rel}`),
        ...[...entriesFor(digests, parts.known, skip)]
            .filter(([rel]) => isLinePath(rel))
            .map(([rel, e]) => `L ${manifestLine(rel, e)}`),
        ...[...uploaded].map(rel => `N ${digests.get(rel)} ${rel}`)
    ];
    // The lines come counted, so they are read without waiting for the end of stdin (the seal comes
    // on it later); awk reads them from head, not from stdin (mawk would wait to fill its buffer).
    const relist = relistScript(dir, [...uploaded], '\\n');
    const script = `IFS= read -r n || exit 1
{ head -n "$n"; echo --
${relist}} | awk -v M=${shellQuote(final)} '${CARRY_AWK}' > ${shellQuote(body)} || { rm -f -- ${shellQuote(body)}; exit 1; }
printf '%s %s\\n' ${DIGEST} "$(sha256sum < ${shellQuote(body)} | cut -c1-64)"
IFS= read -r seal || { rm -f -- ${shellQuote(body)}; exit 1; }
{ cat -- ${shellQuote(body)} && printf '%s\\n' "$seal"; } > ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(final)}; s=$?
rm -f -- ${shellQuote(body)}
[ $s -eq 0 ] || exit 1
${after}`;
    const stdin = new external_node_stream_.PassThrough();
    stdin.write([String(input.length), ...input, ''].join('\n'));
    let out = '';
    let sealed = false;
    const onStdout = (d) => {
        if (sealed)
            return;
        out += d.toString('latin1');
        const m = new RegExp(`${DIGEST} ([0-9a-f]{64})\\n`).exec(out);
        if (!m)
            return;
        sealed = true;
        stdin.end(`${sealLine(key, dir, m[1])}\n`);
    };
    const r = await execScript(conn, script, { stdin, onStdout }).finally(() => stdin.end());
    if (!sealed)
        throw new Error(`writing ${final} failed: ${r.stderr.trim() || 'the instance did not answer'}`);
    failed(final, r);
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

// EXTERNAL MODULE: ./build/action/util/retry.js
var retry = __webpack_require__(2046);
;// CONCATENATED MODULE: ./build/action/target/connection.js



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
    constructor(o) {
        this.o = o;
    }
    get label() {
        return this.o.target.label;
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
        if (this.conn && !this.conn.isClosed)
            fn(this.conn);
    }
    async open(signal) {
        if (this.opened++ > 0)
            this.reconnects++;
        const stream = await this.o.target.tunnel.open(signal);
        await this.o.beforeConnect?.(signal);
        this.conn = await connectSsh({
            label: this.label,
            stream,
            login: this.o.login,
            hostKey: this.o.hostKey,
            loginRefused: this.o.loginRefused
        });
        this.o.onConnect?.(this.conn);
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
                this.o.logger.warning(`${this.label}: ${what}: ${(0,errors/* errorMessage */.gJ)(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${this.o.retries + 1})`);
                await (0,retry/* sleep */.yy)(delay);
            }
        }
    }
    close() {
        this.drop();
    }
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:worker_threads"
var external_node_worker_threads_ = __webpack_require__(5919);
;// CONCATENATED MODULE: ./build/action/files/hash.js



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
        worker = new external_node_worker_threads_.Worker(WORKER_SOURCE, { eval: true });
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
        const hash = (0,external_node_crypto_.createHash)('sha256');
        (0,external_node_fs_.createReadStream)(path, { highWaterMark: 1 << 20 })
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

;// CONCATENATED MODULE: ./build/action/transfer/file-writes.js



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
    return new errors/* UserError */.yo(`Local file '${file.localPath}' changed size during the upload.`);
}
function readSmallFile(file) {
    const data = (0,external_node_fs_.readFileSync)(file.localPath);
    if (data.length !== file.size)
        throw changedSize(file);
    return data;
}
/**
 * Stream a large file: WRITES_IN_FLIGHT requests of WRITE_CHUNK bytes outstanding at any time,
 * read from disk READ_BLOCK bytes at a time (fewer reads and allocations; the writes take slices).
 * `onWritten` hears the length of the prefix written without a gap as acknowledgements arrive.
 */
async function writeLarge(sftp, handle, file, on) {
    const local = await (0,promises_.open)(file.localPath, 'r');
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
 * (fstat) and later ones skip the extra request when the umask left it alone. Everything is sent
 * with the file's other requests, never waited for before the close: a mode the fstat finds wrong
 * is set by path after the close. (setuid, setgid and sticky are dropped on purpose.)
 */
class ExactModes {
    sftp;
    /** Per mode: does the server keep it exactly when a file is created with it? */
    keptAtOpen = new Map();
    constructor(sftp) {
        this.sftp = sftp;
    }
    /** Send what `handle` needs now (before its close); resolves true when a chmod by path must follow. */
    send(handle, mode) {
        const exact = this.keptAtOpen.get(mode);
        if (exact === true)
            return Promise.resolve(false);
        if (exact === false)
            return this.sftp.fchmod(handle, mode).then(() => false);
        return this.sftp.fstat(handle).then(st => {
            const kept = (st.mode & 0o777) === mode;
            this.keptAtOpen.set(mode, kept);
            return !kept;
        });
    }
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
class Sftp {
    raw;
    guard;
    /** Folders known to exist on this connection, so `mkdir -p` costs one round trip per new folder. */
    dirs = new Map();
    assumed = new Set();
    hasPosixRename;
    /** `guard` makes every call reject as soon as the connection underneath is lost. */
    constructor(raw, guard = op => op) {
        this.raw = raw;
        this.guard = guard;
        // ssh2 records the extensions the server announced in its VERSION packet.
        const exts = raw._extensions ?? {};
        this.hasPosixRename = 'posix-rename@openssh.com' in exts;
        coalesceRequests(raw);
    }
    open(p, flags, mode) {
        return this.call(cb => this.raw.open(p, flags, { mode }, cb));
    }
    write(handle, buf, len, position) {
        return this.call(cb => this.raw.write(handle, buf, 0, len, position, cb));
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
    stat(p) {
        return this.call(cb => this.raw.stat(p, cb));
    }
    /** Replace `to` with `from` in one step (posix-rename), or as close to it as the server allows. */
    async renameOver(from, to) {
        if (this.hasPosixRename)
            return this.call(cb => this.raw.ext_openssh_rename(from, to, cb));
        try {
            await this.call(cb => this.raw.rename(from, to, cb));
        }
        catch {
            // Plain SFTP rename refuses to overwrite: remove the old file first (a short window without it).
            await this.unlink(to).catch(() => { });
            await this.call(cb => this.raw.rename(from, to, cb));
        }
    }
    call(fn) {
        return this.guard(new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v)))));
    }
    /** Folders known to exist already (a sync saw files in them): mkdirp asks nothing about them. */
    assumeDirs(dirs) {
        for (const d of dirs) {
            if (this.dirs.has(d))
                continue;
            this.dirs.set(d, Promise.resolve());
            this.assumed.add(d);
        }
    }
    /** A folder assumed to exist was missing after all: assume none, and mkdirp asks again. */
    forgetAssumedDirs() {
        for (const d of this.assumed)
            this.dirs.delete(d);
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
                    throw Object.assign(new Error(`${dir} exists and is not a folder`), { code: SFTP_STATUS.FAILURE });
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
            p.catch(() => this.dirs.delete(dir));
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

;// CONCATENATED MODULE: ./build/action/transfer/verify.js




/** The digest `echo ec2-push-probe | sha256sum` must print, proving exec and sha256sum both work. */
const PROBE_DIGEST = (0,external_node_crypto_.createHash)('sha256').update('ec2-push-probe\n').digest('hex');
/** Keep each command line well under any server's limit. */
const MAX_COMMAND_BYTES = 64 * 1024;
const probes = new WeakMap();
/**
 * Can we run `sha256sum` on the instance? (An SFTP-only account cannot exec; then we read files
 * back.) Asked once per connection; a deploy may ask early so the answer is ready for the upload.
 */
function probeVerifyMethod(conn) {
    let probe = probes.get(conn);
    if (!probe) {
        probe = probeOnce(conn);
        probes.set(conn, probe);
    }
    return probe;
}
async function probeOnce(conn) {
    try {
        const r = await execChannel(conn, 'echo ec2-push-probe | sha256sum');
        return r.code === 0 && r.stdout.includes(PROBE_DIGEST) ? 'sha256sum' : 'read-back';
    }
    catch {
        return 'read-back';
    }
}
/** Remote sha256 of many files with as few `sha256sum` execs as the command-line limit allows. */
async function remoteSha256(conn, paths) {
    const result = new Map();
    let batch = [];
    let bytes = 0;
    const flush = async () => {
        if (batch.length === 0)
            return;
        const r = await execScript(conn, `sha256sum -- ${batch.map(shellQuote).join(' ')}`);
        for (const [p, digest] of parseSha256sum(r.stdout))
            result.set(p, digest);
        batch = [];
        bytes = 0;
    };
    for (const p of paths) {
        const quoted = shellQuote(p).length + 1;
        if (bytes + quoted > MAX_COMMAND_BYTES)
            await flush();
        batch.push(p);
        bytes += quoted;
    }
    await flush();
    return result;
}
/**
 * Paths sha256sum -c reads as they are: a backslash or a line break in a name would need its escaped
 * form, which older coreutils read differently. Such files are hashed with remoteSha256 instead.
 */
function checkable(remotePath) {
    return !/[\\\n\r]/.test(remotePath);
}
/** Connections whose sha256sum cannot `--quiet -c` (BusyBox): remoteCheck is not tried again. */
const noCheck = new WeakSet();
/** The script for remoteCheck: the expected sums go up in a here-document (no line starts like its end). */
function checkScript(expected) {
    const lines = [...expected].map(([p, digest]) => `${digest}  ${p}`);
    return `sha256sum --quiet --strict -c - <<'EC2_PUSH_SUMS'\n${lines.join('\n')}\nEC2_PUSH_SUMS`;
}
/**
 * What remoteCheck's run said: the paths that failed, or undefined when the answer is not one
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
/** The remote side of streamRemoteSha256: reads the file as announced blocks arrive, into one sha256sum. */
const STREAM_BLOCK = 64 * 1024;
const STREAM_STEP_BLOCKS = 64;
/**
 * sha256 of a remote file computed while it is being written: one exec reads the file in order, a
 * block range at a time as the client announces that range complete, into a single sha256sum. The
 * instance hashes during the upload instead of after it, so a large file's verification costs
 * about nothing at the end. Announcements are whole blocks; the last one reads to the end.
 */
function streamRemoteSha256(conn, remotePath) {
    const feed = new external_node_stream_.PassThrough();
    // OpenSSL's sha256 takes half the CPU of coreutils' (a quarter or less where the CPU has SHA
    // instructions, as most EC2 types do); the instance hashes the whole file, so it is used when there.
    const script = `exec 3< ${shellQuote(remotePath)} || exit 1
if command -v openssl >/dev/null 2>&1; then h='openssl dgst -sha256 -r'; else h=sha256sum; fi
{ while read n; do dd bs=${STREAM_BLOCK} count="$n" <&3 2>/dev/null || exit 1; done; } | $h`;
    const result = execChannel(conn, `sh -c ${shellQuote(script)}`, { stdin: feed });
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
            const r = await result.catch(() => undefined);
            const m = r?.code === 0 ? /^([0-9a-f]{64}) /.exec(r.stdout) : null;
            return m?.[1];
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
/** Files verified together by one `sha256sum` exec; large files flush the batch sooner. */
const VERIFY_BATCH_FILES = 256;
const VERIFY_BATCH_BYTES = 64 * 1024 * 1024;
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
    constructor(conn, opts) {
        this.conn = conn;
        this.opts = opts;
    }
    async start() {
        // The probe runs on its own channel while the SFTP one opens: two round trips saved.
        const probe = this.opts.verify === 'none' ? Promise.resolve('none') : probeVerifyMethod(this.conn);
        const raw = await this.conn.sftp().catch(async (err) => {
            await probe.catch(() => { });
            throw err;
        });
        this.sftp = new Sftp(raw, op => this.conn.guard(op));
        this.sftp.assumeDirs([...(this.opts.existingDirs ?? [])].map(d => remoteFilePath(this.opts.remoteRoot, d)));
        this.modes = new ExactModes(this.sftp);
        this.verifyMethod = await probe;
        return this.verifyMethod;
    }
    /**
     * Remove temporary files an earlier, dropped connection left behind. Each one removed (or already
     * gone) leaves the set; the rest stay for the next connection.
     */
    async removeTemps(temps) {
        await Promise.all([...temps].map(t => this.sftp.unlink(t).then(() => temps.delete(t), (err) => void (err.code === SFTP_STATUS.NO_SUCH_FILE && temps.delete(t)))));
    }
    /**
     * Upload the files; resolves with the ones that failed on this (still live) connection.
     * A dropped connection rejects instead, and the caller reconnects for the rest.
     */
    async uploadAll(files) {
        const failed = [];
        let batch = [];
        let batchBytes = 0;
        let flushing = Promise.resolve();
        const flush = () => {
            const staged = batch;
            batch = [];
            batchBytes = 0;
            flushing = flushing.then(() => this.publish(staged, failed));
            return flushing;
        };
        let next = 0;
        const worker = async () => {
            while (next < files.length) {
                const file = files[next++];
                try {
                    const staged = await this.stage(file);
                    batch.push(staged);
                    batchBytes += file.size;
                    if (batch.length >= VERIFY_BATCH_FILES || batchBytes >= VERIFY_BATCH_BYTES)
                        await flush();
                }
                catch (err) {
                    failed.push(this.asFileError(file, err));
                }
            }
        };
        await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, files.length) }, worker));
        await flush();
        return failed;
    }
    asFileError(file, err) {
        if (err instanceof FileError)
            return err;
        if (this.conn.isClosed)
            throw err; // the connection dropped: let the caller reconnect
        const e = err;
        const permanent = e.code === SFTP_STATUS.PERMISSION_DENIED || err instanceof errors/* UserError */.yo;
        return new FileError(file, `${file.relativePath}: ${e.message}`, permanent);
    }
    /** Remove a temporary file; it stays on the list for the next connection unless the removal is confirmed. */
    async dropTemp(temp) {
        await this.sftp.unlink(temp).then(() => this.openTemps.delete(temp), () => { });
    }
    /** Open a temporary file; when a folder assumed to exist does not, it is made and the open tried again. */
    async openTemp(temp, dir, mode) {
        try {
            return await this.sftp.open(temp, 'w', mode);
        }
        catch (err) {
            if (err.code !== SFTP_STATUS.NO_SUCH_FILE)
                throw err;
            this.sftp.forgetAssumedDirs();
            await this.sftp.mkdirp(dir);
            return this.sftp.open(temp, 'w', mode);
        }
    }
    /** Write one file to its temporary name; large files wait for one of the MAX_LARGE_IN_FLIGHT places. */
    async stage(file) {
        return file.size <= SMALL_FILE_BYTES ? this.stageOne(file) : this.large.run(() => this.stageOne(file));
    }
    /** Write one file to its temporary name (pipelined writes). */
    async stageOne(file) {
        const final = remoteFilePath(this.opts.remoteRoot, file.relativePath);
        const temp = tempPathFor(final);
        const dir = external_node_path_.posix.dirname(final);
        await this.sftp.mkdirp(dir);
        const verify = this.opts.verify !== 'none';
        let handle;
        let digest = Promise.resolve('');
        let streaming;
        let remoteSha256;
        let chmod = Promise.resolve(false);
        try {
            if (file.size <= SMALL_FILE_BYTES) {
                // Small files: one read, hashed from the same bytes, and every request after the open sent at once.
                const data = readSmallFile(file);
                if (verify)
                    digest = Promise.resolve((0,util_sha256/* sha256Hex */.f)(data));
                // Recorded before the open: when the connection drops, the server may have created the file even
                // though its answer never arrived, and the next connection must remove it.
                this.openTemps.add(temp);
                handle = await this.openTemp(temp, dir, file.mode & 0o777);
                // The write, the mode check and the close go out together (SFTP has the server answer as if
                // each request had waited for the one before): the file is one round trip after its open.
                const sent = data.length > 0 ? this.sftp.write(handle, data, data.length, 0) : Promise.resolve();
                sent.catch(() => { });
                chmod = this.modes.send(handle, file.mode & 0o777);
                chmod.catch(() => { });
                const closing = this.sftp.closeHandle(handle);
                closing.catch(() => { });
                handle = undefined;
                await sent;
                this.opts.onBytes?.(data.length);
                await closing;
            }
            else {
                // Hashed on the worker thread while this thread uploads; not at all when nothing is verified.
                if (verify)
                    digest = sha256File(file.localPath);
                digest.catch(() => { });
                this.openTemps.add(temp);
                handle = await this.openTemp(temp, dir, file.mode & 0o777);
                if (this.verifyMethod === 'sha256sum' &&
                    file.size >= STREAM_VERIFY_BYTES &&
                    this.streamsOpen < MAX_STREAMED_VERIFICATIONS) {
                    streaming = streamRemoteSha256(this.conn, temp);
                    this.streamsOpen++;
                }
                await writeLarge(this.sftp, handle, file, {
                    onBytes: n => this.opts.onBytes?.(n),
                    onWritten: bytes => streaming?.advance(bytes)
                });
                chmod = this.modes.send(handle, file.mode & 0o777);
                chmod.catch(() => { });
                remoteSha256 = await streaming?.finish(file.size);
                const closing = this.sftp.closeHandle(handle);
                handle = undefined;
                await closing;
            }
            if (await chmod)
                await this.sftp.chmod(temp, file.mode & 0o777);
        }
        catch (err) {
            streaming?.cancel();
            if (handle)
                await this.sftp.closeHandle(handle).catch(() => { });
            // On a live connection, remove the partial temporary now; after a drop, the next connection does.
            if (!this.conn.isClosed)
                await this.dropTemp(temp);
            throw err;
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
        const there = await this.checkOnInstance(staged.filter(s => s.remoteSha256 === undefined));
        await Promise.all(staged.map(async (s) => {
            try {
                const wrong = await this.mismatch(s, there);
                if (wrong !== undefined) {
                    await this.dropTemp(s.temp);
                    throw new FileError(s.file, `${s.file.relativePath}: sha256 on the instance does not match${wrong}`, false);
                }
                await this.sftp.renameOver(s.temp, s.final);
                this.openTemps.delete(s.temp);
                this.opts.onFileDone(s.file);
            }
            catch (err) {
                failed.push(this.asFileError(s.file, err));
            }
        }));
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
     * only the verdict came back), or undefined when it is, or nothing is verified.
     */
    async mismatch(s, there) {
        if (this.verifyMethod === 'none' || s.remoteSha256 !== undefined)
            return undefined;
        if (there.failed && checkable(s.temp))
            return there.failed.has(s.temp) ? '' : undefined;
        const digest = there.digests
            ? there.digests.get(s.temp)
            : await readBackSha256(this.sftp, s.temp, s.file.size);
        return digest === s.sha256 ? undefined : ` (got ${digest ?? 'nothing'})`;
    }
    end() {
        this.sftp?.end();
    }
}

;// CONCATENATED MODULE: ./build/action/target/upload-files.js



const PROGRESS_EVERY_MS = 10000;
/**
 * Upload files into remoteRoot over the target's connection. When the connection drops, it is
 * reopened (with backoff) and the upload carries on with the files not yet published. A file that
 * fails on a live connection is retried up to `retries` times.
 */
async function uploadFiles(opts) {
    const { link, logger, progress } = opts;
    const label = link.label;
    const started = Date.now();
    const totalBytes = opts.files.reduce((n, f) => n + f.size, 0);
    let pending = [...opts.files];
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
        logger.info(`${label}: ${filesDone}/${opts.files.length} files, ${mib(bytesDone)}/${mib(totalBytes)} MiB published (${(bytesSent / 1e6 / secs).toFixed(1)} MB/s)`);
    };
    while (pending.length > 0) {
        if (opts.signal?.aborted)
            throw new errors/* UserError */.yo(`Upload to ${label} was cancelled.`);
        let session;
        const before = filesDone;
        try {
            const conn = await link.get(opts.signal);
            session = new UploadSession(conn, {
                remoteRoot: opts.remoteRoot,
                existingDirs: opts.existingDirs,
                concurrency: opts.concurrency,
                verify: opts.verify,
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
                    method === 'sha256sum' ? 'sha256 (sha256sum on the instance)' : 'sha256 (read back over SFTP)';
            if (leftoverTemps.size)
                await session.removeTemps(leftoverTemps);
            const failed = await session.uploadAll(pending);
            if (conn.isClosed)
                throw new Error('the connection closed during the upload');
            consecutiveFailures = 0;
            pending = retryableFiles(failed, fileAttempts, opts.retries, logger, label);
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
            logger.warning(`${label}: ${(0,errors/* errorMessage */.gJ)(err)}; reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${consecutiveFailures + 1} of ${opts.retries + 1}), ${pending.length} files left`);
            await (0,retry/* sleep */.yy)(delay);
        }
        finally {
            session?.end();
        }
    }
}
function mib(n) {
    return (n / 1048576).toFixed(1);
}
function retryableFiles(failed, attempts, retries, logger, label) {
    const again = [];
    for (const f of failed) {
        const n = (attempts.get(f.file) ?? 0) + 1;
        attempts.set(f.file, n);
        if (f.permanent || n > retries) {
            throw new errors/* UserError */.yo(`Could not upload ${f.message} on ${label}${n > 1 ? ` (after ${n} attempts)` : ''}.`);
        }
        logger.warning(`${label}: ${f.message}; retrying (attempt ${n + 1} of ${retries + 1})`);
        again.push(f.file);
    }
    return again;
}

;// CONCATENATED MODULE: ./build/action/deploy.js

















/** The connection a deploy to one target uses; runDeploy makes it early so connecting overlaps planning. */
function targetConnection(o) {
    return new TargetConnection({
        target: o.target,
        login: o.login,
        hostKey: o.hostKey,
        logger: o.logger,
        retries: o.config.retries,
        backoffBaseMs: o.backoffBaseMs ?? 1000,
        beforeConnect: o.beforeConnect,
        loginRefused: o.loginRefused
    });
}
/** The folders (relative, with every ancestor, and the root itself as '.') that hold these files. */
function foldersOf(rels) {
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
/** Does this configuration need a shell on the instance (beyond SFTP)? */
function needsShell(config) {
    return (config.release === 'atomic' ||
        config.rollback ||
        config.sync ||
        config.delete ||
        !!config.preCommand ||
        !!config.postCommand);
}
/**
 * Deploy the plan to one target: lock, pre-command, upload (in place, or into a new release that
 * `current` is switched to), delete, post-command; an atomic release rolls back when a step after
 * the upload fails. Throws a one-line error; `result` (given in the error's `result`) has the figures.
 */
async function deployToTarget(opts) {
    return new TargetDeploy(opts).run();
}
/** One target's deploy; the release flows (release/flows.ts) use its steps. */
class TargetDeploy {
    o;
    result;
    link;
    isProtected;
    root;
    /** Output of the script run together with taking the lock (release state or a snapshot). */
    firstRead = '';
    lock;
    /** The lock went with the last exec of a successful deploy (one round trip fewer). */
    lockReleased = false;
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
        this.link = o.link ?? targetConnection(o);
        // The upload's SFTP channel, the verification probe and a shell for the next script open
        // alongside the first steps (lock, listing): each costs round trips, which over ssm or eice are
        // tens of milliseconds apiece.
        const upload = !config.rollback && plan.files.length > 0;
        const verify = upload && config.verify !== 'none';
        if (upload || needsShell(config)) {
            this.link.setOnConnect(conn => {
                if (upload)
                    conn.sftp().catch(() => { });
                if (verify)
                    void probeVerifyMethod(conn);
                if (verify || needsShell(config))
                    keepShellReady(conn);
            });
        }
        this.isProtected = protectMatcher(config.protect);
        this.root = config.remotePath;
    }
    get label() {
        return this.o.target.label;
    }
    info(line) {
        this.o.logger.info(this.o.parallel ? `[${this.label}] ${line}` : line);
    }
    /** A log group when targets run one at a time; plain prefixed lines when they run together. */
    phase(name, fn) {
        return this.o.parallel ? fn() : this.o.logger.group(`${name}`, fn);
    }
    async run() {
        const started = Date.now();
        const { config } = this.o;
        let lock;
        try {
            if (needsShell(config)) {
                // The lock, and what the deploy reads first, in one round trip (each exec costs one).
                const then = config.release === 'atomic' || config.rollback
                    ? releaseStateScript(this.root)
                    : config.sync || config.delete
                        ? snapshotScript(this.root, await this.snapshotRequest())
                        : undefined;
                const token = (0,external_node_crypto_.randomBytes)(12).toString('hex');
                const held = await this.link.step('Taking the deploy lock', conn => acquireLock(conn, this.root, { token, ttlSeconds: config.timeoutSeconds + 60, then }), this.o.signal);
                lock = held;
                this.lock = held;
                this.firstRead = held.thenOutput;
            }
            if (config.rollback)
                await rollbackOnPurpose(this);
            else if (config.release === 'atomic')
                await atomicRelease(this);
            else
                await this.inPlace();
            this.result.status = 'success';
            if (this.result.verification === 'pending')
                this.result.verification = 'nothing to verify';
        }
        catch (err) {
            this.result.error = (0,errors/* errorMessage */.gJ)(err);
            if (this.o.signal?.aborted)
                this.result.status = 'cancelled';
            throw Object.assign(err instanceof Error ? err : new Error(String(err)), { result: this.result });
        }
        finally {
            if (lock && !this.lockReleased) {
                const held = lock;
                await this.link
                    .step('Releasing the deploy lock', conn => releaseLock(conn, held))
                    .catch(err => this.o.logger.warning(`${this.label}: could not release the deploy lock: ${(0,errors/* errorMessage */.gJ)(err)}`));
            }
            this.link.close();
            this.result.reconnects = this.link.reconnects;
            this.result.durationMs = Date.now() - started;
        }
        return this.result;
    }
    commandEnv(releasePath, previous) {
        const env = {
            EC2_PUSH_RELEASE_PATH: releasePath,
            EC2_PUSH_RELEASE_ID: this.o.config.releaseId,
            EC2_PUSH_REMOTE_PATH: this.root,
            EC2_PUSH_TARGET: this.label
        };
        if (this.result.releaseId)
            env.EC2_PUSH_RELEASE_ID = this.result.releaseId;
        if (previous)
            env.EC2_PUSH_PREVIOUS_RELEASE_PATH = releaseDir(this.root, previous);
        return env;
    }
    /** pre-command / post-command over the same connection (never retried: it may not be idempotent). */
    async command(name, env, signal) {
        const command = name === 'pre-command' ? this.o.config.preCommand : this.o.config.postCommand;
        if (!command)
            return;
        await this.phase(`${name} on ${this.label}`, async () => {
            const conn = await this.link.get(signal);
            await runUserCommand(conn, {
                name,
                command,
                cwd: this.root,
                env,
                timeoutMs: this.o.config.commandTimeoutSeconds * 1000,
                signal,
                onLine: line => this.info(line)
            });
        });
    }
    /** `present`: files already in place under remoteRoot (their folders need no mkdir). */
    async upload(files, remoteRoot, present = []) {
        const { config, target } = this.o;
        if (files.length === 0 && this.o.plan.files.length > 0) {
            if (this.result.verification === 'pending')
                this.result.verification = 'sha256 (all unchanged on the instance)';
            this.info(`${this.label}: nothing to upload, all ${this.result.filesSkipped} files unchanged`);
            return;
        }
        await this.phase(`Upload to ${this.label} (${target.mode}: ${target.tunnel.description})`, async () => {
            await uploadFiles({
                link: this.link,
                files,
                remoteRoot,
                existingDirs: foldersOf(present),
                concurrency: config.concurrency,
                verify: config.verify,
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
        const digests = this.o.config.sync ? await this.o.localDigests : undefined;
        return digests && { files: this.o.plan.files, digests };
    }
    compare(dir, what, snapshot) {
        const { config } = this.o;
        return this.link.step(what, async (conn) => compareWithRemote(conn, dir, this.o.plan.files, config.sync ? await this.o.localDigests : undefined, this.o.manifestKey, snapshot), this.o.signal);
    }
    /** release: none — write into remote-path, each file atomically; sync and delete work in place. */
    async inPlace() {
        const { config, plan } = this.o;
        this.result.releasePath = this.root;
        await this.command('pre-command', this.commandEnv(this.root), this.o.signal);
        let files = plan.files;
        let cmp;
        if (config.sync || config.delete) {
            const snapshot = parseSnapshot(this.firstRead, await this.snapshotRequest());
            cmp = await this.compare(this.root, 'Comparing with the instance', snapshot);
            if (config.sync) {
                files = cmp.changed;
                this.result.filesSkipped = cmp.same.length;
                this.info(`${this.label}: ${cmp.changed.length} files to upload, ${cmp.same.length} unchanged (${cmp.manifest})`);
            }
        }
        await this.upload(files, this.root, cmp?.same.map(f => f.relativePath));
        if (config.delete && cmp) {
            const doomed = deletable(cmp.extras, this.isProtected);
            const kept = cmp.extras.length - doomed.length;
            await this.link.step('Deleting files no longer in the set', conn => deleteRemoteFiles(conn, this.root, doomed, this.isProtected));
            this.result.filesDeleted = doomed.length;
            this.info(`${this.label}: deleted ${doomed.length} files no longer in the set${kept ? `, kept ${kept} protected` : ''}`);
        }
        // Files not uploaded kept the stamps the comparison listed; only the uploaded ones are listed again.
        if (config.sync)
            await this.saveManifest(this.root, cmp && { base: cmp.listing, changed: files, carried: cmp.carried });
        await this.command('post-command', this.commandEnv(this.root), this.o.signal);
    }
    /** The sealed manifest for the next sync (best effort: without it the next sync hashes on the instance). */
    willWriteManifest() {
        return !!this.o.manifestKey && !!this.o.localDigests && this.o.config.verify !== 'none';
    }
    /** Also releases the lock in the same exec. */
    async saveManifest(dir, listing) {
        const key = this.o.manifestKey;
        const digests = await this.o.localDigests;
        if (!key || !digests || !this.willWriteManifest())
            return;
        const unlock = this.lock ? releaseLockScript(this.lock) : '';
        await this.link
            .step('Writing the sync manifest', async (conn) => {
            if (listing && !(listing instanceof Map) && listing.carried.size) {
                const uploaded = listing.changed.map(f => f.relativePath);
                const parts = { carried: listing.carried, uploaded, known: listing.base };
                await writeCarriedManifest(conn, key, dir, digests, parts, unlock);
            }
            else {
                const now = listing instanceof Map ? listing : refreshListing(dir, listing?.base, listing?.changed);
                await writeManifest(conn, key, dir, digests, now, unlock);
            }
            this.lockReleased = !!unlock;
        })
            .catch(err => this.o.logger.warning(`${this.label}: could not write the sync manifest: ${(0,errors/* errorMessage */.gJ)(err)}`));
    }
}

// EXTERNAL MODULE: ./node_modules/@actions/glob/lib/glob.js + 17 modules
var glob = __webpack_require__(2377);
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
    const globber = await glob/* create */.v(patterns.join('\n'), {
        followSymbolicLinks: true,
        implicitDescendants: true,
        matchDirectories: false,
        omitBrokenSymbolicLinks: true,
        excludeHiddenFiles: !opts.includeHiddenFiles
    });
    const matches = [];
    for await (const p of globber.globGenerator())
        matches.push(p);
    const searchPaths = globber.getSearchPaths();
    if (await anyBrokenLink(searchPaths)) {
        await warnAboutBrokenLinks(patterns, opts.includeHiddenFiles, new Set(matches), logger);
    }
    let root;
    if (opts.baseDir)
        root = external_node_path_.resolve(cwd, opts.baseDir);
    else if (searchPaths.length > 1)
        root = commonAncestor(searchPaths);
    else if (matches.length === 1 && searchPaths[0] === matches[0])
        root = external_node_path_.dirname(matches[0]);
    else
        root = searchPaths[0] ?? cwd;
    const files = [];
    const seenLower = new Map();
    matches.sort();
    for (const localPath of matches) {
        // Synchronous: the glob has just read these very entries, so they are in the page cache, and
        // one statSync (microseconds) beats a thread-pool round trip per file.
        const st = (0,external_node_fs_.statSync)(localPath);
        if (!st.isFile())
            continue;
        const rel = external_node_path_.relative(root, localPath);
        if (rel.startsWith('..') || external_node_path_.isAbsolute(rel)) {
            throw new errors/* UserError */.yo(`File '${localPath}' is outside base-dir '${root}': widen 'base-dir' or narrow 'files'.`);
        }
        const relativePath = rel.split(external_node_path_.sep).join('/');
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
/**
 * Is there a broken symbolic link anywhere under these folders? A readdir walk (no stat per file) is
 * much cheaper than a second glob pass, which only runs when the answer is yes.
 */
async function anyBrokenLink(roots) {
    const seen = new Set();
    const walk = async (dir) => {
        const real = await (0,promises_.realpath)(dir).catch(() => dir);
        if (seen.has(real))
            return false;
        seen.add(real);
        const entries = await (0,promises_.readdir)(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
            const p = external_node_path_.join(dir, e.name);
            if (e.isDirectory() && (await walk(p)))
                return true;
            if (e.isSymbolicLink()) {
                const target = await (0,promises_.stat)(p).catch(() => undefined);
                if (!target)
                    return true;
                if (target.isDirectory() && (await walk(p)))
                    return true;
            }
        }
        return false;
    };
    for (const root of roots) {
        const st = await (0,promises_.lstat)(root).catch(() => undefined);
        if (st?.isSymbolicLink() && !(await (0,promises_.stat)(root).catch(() => undefined)))
            return true;
        if (st && (await walk(root)))
            return true;
    }
    return false;
}
/** @actions/glob drops broken symlinks silently; find them with a non-following pass and say so. */
async function warnAboutBrokenLinks(patterns, includeHidden, kept, logger) {
    const raw = await glob/* create */.v(patterns.join('\n'), {
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

;// CONCATENATED MODULE: ./build/action/fleet/dry-run.js






async function planTarget(o) {
    const { config, plan, target } = o;
    const root = config.remotePath;
    const atomic = config.release === 'atomic';
    const out = {
        target: target.label,
        mode: target.mode,
        remotePath: atomic ? releaseDir(root, config.releaseId) : root,
        files: []
    };
    const actions = new Map();
    const needsInstance = config.sync || config.delete || config.rollback;
    if (needsInstance) {
        const link = new TargetConnection({
            target,
            login: o.login,
            hostKey: o.hostKey,
            logger: o.logger,
            retries: config.retries,
            backoffBaseMs: 1000,
            beforeConnect: o.beforeConnect,
            loginRefused: o.loginRefused
        });
        try {
            let compareDir = root;
            if (atomic) {
                const state = await link.step('Reading the releases', conn => readReleaseState(conn, root));
                const cur = state.current.kind === 'release' ? state.current.id : undefined;
                out.current = cur;
                compareDir = cur ? releaseDir(root, cur) : undefined;
                if (config.rollback) {
                    const at = state.releases.findIndex(r => r.id === cur);
                    out.rollbackTo = at > 0 ? state.releases[at - 1].id : undefined;
                    if (!out.rollbackTo)
                        out.error = `no release before ${cur ?? '(none)'} to roll back to`;
                    out.remotePath = out.rollbackTo ? releaseDir(root, out.rollbackTo) : root;
                    return out;
                }
            }
            if (compareDir) {
                const dir = compareDir;
                const cmp = await link.step('Comparing with the instance', async (conn) => compareWithRemote(conn, dir, plan.files, config.sync ? await o.localDigests : undefined, o.manifestKey));
                for (const f of cmp.same)
                    actions.set(f.relativePath, atomic ? 'reuse' : 'skip');
                if (config.delete && !atomic) {
                    const isProtected = protectMatcher(config.protect);
                    out.delete = deletable(cmp.extras, isProtected);
                    out.protected = cmp.extras.filter(r => isProtected(r));
                }
            }
        }
        finally {
            link.close();
        }
    }
    for (const f of plan.files) {
        out.files.push({
            local: f.localPath,
            remote: external_node_path_.posix.join(out.remotePath, f.relativePath),
            size: f.size,
            action: actions.get(f.relativePath) ?? 'upload'
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

;// CONCATENATED MODULE: ./build/action/fleet/pool.js
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

;// CONCATENATED MODULE: ./build/action/sync/local-hash.js




/**
 * Small files (the upload's own threshold) are hashed on this thread, from one synchronous read: for
 * a small file a round trip to the hashing worker costs several times the hash itself (2,000 files
 * of 2 KiB: about 350 ms through the worker, 40 ms here).
 */
const INLINE_BYTES = SMALL_FILE_BYTES;
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
            out.set(f.relativePath, await sha256File(f.localPath));
        }
    };
    const largeDone = Promise.all(Array.from({ length: Math.min(concurrency, large.length) }, worker));
    largeDone.catch(() => { });
    let sliceStart = performance.now();
    for (const f of files) {
        if (f.size > INLINE_BYTES)
            continue;
        out.set(f.relativePath, (0,util_sha256/* sha256Hex */.f)((0,external_node_fs_.readFileSync)(f.localPath)));
        if (performance.now() - sliceStart > SLICE_MS) {
            await new Promise(resolve => setImmediate(resolve));
            sliceStart = performance.now();
        }
    }
    await largeDone;
    return out;
}

;// CONCATENATED MODULE: ./build/action/report/results.js
function summarise(results, durationMs, filesTotal, mode) {
    return {
        'bytes-transferred': results.reduce((n, r) => n + r.bytesTransferred, 0),
        'duration-ms': durationMs,
        'files-uploaded': results.reduce((n, r) => n + r.filesUploaded, 0),
        'files-skipped': results.reduce((n, r) => n + r.filesSkipped, 0),
        'files-total': filesTotal,
        mode,
        results
    };
}
function throughputMBps(bytes, ms) {
    return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : '0.0';
}

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
    const started = Date.now();
    let results = [];
    let filesTotal = 0;
    let mode = config.mode;
    const releasePath = config.release === 'atomic' && !config.rollback
        ? releaseDir(config.remotePath, config.releaseId)
        : config.remotePath;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.timeoutSeconds * 1000);
    let targets = [];
    /** Connections opened before the files are matched (the first targets to deploy). */
    const early = new Map();
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
        let awsContext;
        const aws = () => (awsContext ??= logger.group('AWS credentials', async () => {
            // Loaded on demand: nlb with a provided key never pays for the AWS SDK.
            const { resolveAwsContext } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(695), __webpack_require__.e(223)]).then(__webpack_require__.bind(__webpack_require__, 2223));
            return resolveAwsContext(config.aws, logger, opts.aws);
        }));
        // Targets first: their connections open while the files are matched (connecting costs round
        // trips, a quarter of a second or more over ssm or eice).
        targets = await (0,tunnel/* resolveTargets */.h)(config, { logger, aws });
        mode = [...new Set(targets.map(t => t.mode))].join(',');
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
        const key = manifestKey(config.sshPrivateKey);
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
        if (!config.dryRun) {
            for (const target of targets.slice(0, config.maxParallelTargets)) {
                try {
                    const link = targetConnection(connectionOptions(target));
                    link.prewarm(AbortSignal.any([stopEarly.signal, controller.signal]));
                    early.set(target, link);
                }
                catch {
                    // A target whose host key cannot be checked: its deploy reports it.
                }
            }
        }
        const plan = config.rollback
            ? { root: '', files: [], totalBytes: 0 }
            : await logger.group('Files', async () => {
                const p = await planFiles({
                    patterns: config.files,
                    baseDir: config.baseDir,
                    includeHiddenFiles: config.includeHiddenFiles,
                    ifNoFilesFound: config.ifNoFilesFound,
                    logger,
                    cwd: opts.cwd
                });
                logger.info(`${p.files.length} files, ${p.totalBytes} bytes, from ${p.root} to ${releasePath}`);
                for (const f of p.files)
                    logger.debug(`${f.localPath} -> ${releasePath}/${f.relativePath} (${f.size} bytes)`);
                return p;
            });
        filesTotal = plan.files.length;
        if (plan.files.length === 0 && !config.rollback)
            return { outputs: summarise(results, Date.now() - started, 0, mode), releasePath };
        // Local hashing (sync) overlaps the first steps on the instance (lock, listing).
        const localDigests = config.sync ? hashLocalFiles(plan.files) : undefined;
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
                outputs: summarise(results, Date.now() - started, filesTotal, mode),
                releasePath,
                plan: planOutput(deployPlan)
            };
        }
        const parallel = config.maxParallelTargets > 1 && targets.length > 1;
        const stop = new AbortController();
        const slots = new Array(targets.length);
        let firstFailure;
        await runPool(targets, config.maxParallelTargets, async (target, i) => {
            const signal = AbortSignal.any([controller.signal, stop.signal]);
            try {
                const res = await deployToTarget({
                    ...perTarget(target),
                    link: early.get(target),
                    signal,
                    parallel,
                    backoffBaseMs: opts.backoffBaseMs
                });
                slots[i] = res;
                logger.info(`${target.label}: ${res.filesUploaded} files, ${res.bytesTransferred} bytes in ${(res.durationMs / 1000).toFixed(1)} s${res.filesSkipped ? `, ${res.filesSkipped} unchanged` : ''}, verified: ${res.verification}`);
            }
            catch (err) {
                const res = err.result ?? failedResult(target, plan.files.length, err);
                if (stop.signal.aborted && !controller.signal.aborted && res.status !== 'success')
                    res.status = 'cancelled';
                else
                    res.status = 'failure';
                slots[i] = res;
                if (res.status === 'failure') {
                    logger.warning(`${target.label}: ${(0,errors/* errorMessage */.gJ)(err)}`);
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
            stop: stop.signal,
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
        const failed = results.filter(r => r.status !== 'success');
        const outputs = summarise(results, Date.now() - started, filesTotal, mode);
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
            outputs: summarise(results, Date.now() - started, filesTotal, mode),
            releasePath,
            error: message
        };
    }
    finally {
        clearTimeout(timer);
        // Early connections nobody used (no files, a failure first, fail-fast): end them, and end the
        // tunnels (an ssm session is terminated) whether or not a deploy ran on them.
        stopEarly.abort();
        await Promise.all([...early.values()].map(link => link.settle()));
        for (const link of early.values())
            link.drop();
        await Promise.all(targets.map(t => t.tunnel.close().catch(() => { })));
    }
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
    (0,aws_env/* applyProfile */.mO)((0,cli_args/* last */.HV)(args, 'profile'));
    const inputs = await inputsOf(args);
    logger.setSecret(inputs.get('ssh-private-key')?.trim() ?? '');
    const input = name => inputs.get(name) ?? '';
    const config = (0,action_config/* buildConfig */.fD)(input);
    if ((0,tunnel/* needsAws */.N)(config) && !config.aws.region) {
        config.aws.region = (await (0,aws_env/* resolveRegion */.Zv)(undefined)) || undefined;
        if (!config.aws.region)
            throw new errors/* UserError */.yo(aws_env/* NO_REGION */.tR);
    }
    const awsOptions = (0,aws_env/* idTokenOptions */.Ne)(config.aws.roleToAssume, (0,cli_args/* last */.HV)(args, 'web-identity-token-file'));
    const run = await runDeploy(config, logger, { aws: awsOptions });
    printOutputs(io, run, (0,cli_args/* isSet */.vM)(args, 'json'));
    if (run.error) {
        io.err(`ec2-push: ${run.error}`);
        return 1;
    }
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
    const knownHostsFile = (0,cli_args/* last */.HV)(args, 'known-hosts-file');
    if (knownHostsFile !== undefined) {
        const lines = await readText(knownHostsFile, 'the known_hosts file');
        inputs.set('known-hosts', [inputs.get('known-hosts'), lines].filter(Boolean).join('\n'));
    }
    return inputs;
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
        io.out(`${name}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
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

/***/ 2046:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   EY: () => (/* binding */ backoffDelay),
/* harmony export */   L5: () => (/* binding */ retry),
/* harmony export */   yy: () => (/* binding */ sleep)
/* harmony export */ });
/** Retries with exponential backoff and full jitter (as configure-aws-credentials does). */
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms));
function backoffDelay(attempt, baseDelayMs, maxDelayMs) {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2);
}
async function retry(fn, opts) {
    const { attempts, baseDelayMs = 500, maxDelayMs = 10000, shouldRetry = () => true, onRetry } = opts;
    const wait = opts.sleep ?? sleep;
    for (let attempt = 1;; attempt++) {
        try {
            return await fn(attempt);
        }
        catch (err) {
            if (attempt >= attempts || !shouldRetry(err) || opts.signal?.aborted)
                throw err;
            const delay = backoffDelay(attempt, baseDelayMs, maxDelayMs);
            onRetry?.(err, attempt, delay);
            await wait(delay);
        }
    }
}


/***/ }),

/***/ 1129:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   f: () => (/* binding */ sha256Hex),
/* harmony export */   s: () => (/* binding */ sha256)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);

/** One-shot hashing (Node >= 20.12): a fraction of the cost of a createHash object for small inputs. */
const hashOnce = node_crypto__WEBPACK_IMPORTED_MODULE_0__.hash;
/** SHA-256 of a buffer, as raw bytes. */
function sha256(data) {
    return hashOnce ? hashOnce('sha256', data, 'buffer') : node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash('sha256').update(data).digest();
}
/** SHA-256 of a buffer, as lower-case hex. */
function sha256Hex(data) {
    return hashOnce ? hashOnce('sha256', data, 'hex') : node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash('sha256').update(data).digest('hex');
}


/***/ })

};
