export const id = 730;
export const ids = [730];
export const modules = {

/***/ 7578:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  it: () => (/* binding */ SSM_DEFAULT_CONNECTIONS),
  fD: () => (/* binding */ buildConfig),
  hu: () => (/* binding */ parseTarget)
});

// UNUSED EXPORTS: DEFAULT_CONCURRENCY, DEFAULT_CONNECTIONS, normalisePrivateKey, parseBoolean, parseFingerprint, parseInteger, parseList, parseReleaseId, parseRemotePath

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
;// CONCATENATED MODULE: ./build/action/delivery/s3/options.js

/** Run Command's own default MaxConcurrency. */
const DEFAULT_MAX_CONCURRENCY = '50';
const COUNT_OR_PERCENT = /^([1-9][0-9]{0,5}|[1-9][0-9]?%|100%)$/;
const ERRORS = /^(0|[1-9][0-9]{0,5}|[0-9]{1,2}%|100%)$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
function parseS3Delivery(input, failFast) {
    const bucket = input('s3-bucket').trim();
    if (!bucket)
        throw new errors/* UserError */.yo("Input 's3-bucket' is required with delivery: s3: the bucket the runner uploads to and the instances fetch from.");
    if (!BUCKET.test(bucket) || bucket.includes('..'))
        throw new errors/* UserError */.yo(`Input 's3-bucket' '${bucket}' is not a bucket name (3-63 lower-case letters, digits, '.' and '-').`);
    const prefix = input('s3-prefix')
        .trim()
        .replace(/^\/+|\/+$/g, '') || 'ec2-push';
    if (/[\\"\s]/.test(prefix) || prefix.split('/').some(p => p === '' || p === '.' || p === '..'))
        throw new errors/* UserError */.yo(`Input 's3-prefix' '${prefix}' must be a key prefix like 'deploys/web' (no spaces, quotes, backslashes, empty or '..' parts).`);
    const parallel = input('max-parallel-targets').trim() || DEFAULT_MAX_CONCURRENCY;
    if (!COUNT_OR_PERCENT.test(parallel))
        throw new errors/* UserError */.yo(`Input 'max-parallel-targets' with delivery: s3 is a count (e.g. 8) or a percentage (e.g. 10%), got '${parallel}'.`);
    const rawErrors = input('max-errors').trim();
    if (rawErrors && failFast)
        throw new errors/* UserError */.yo("Input 'max-errors' needs fail-fast: false (fail-fast stops at the first failed instance, MaxErrors 0).");
    const maxErrors = failFast ? '0' : rawErrors || '100%';
    if (!ERRORS.test(maxErrors))
        throw new errors/* UserError */.yo(`Input 'max-errors' is a count (e.g. 2) or a percentage (e.g. 10%), got '${maxErrors}'.`);
    return { bucket, prefix, maxConcurrency: parallel, maxErrors };
}

// EXTERNAL MODULE: ./build/action/forward/spec.js
var spec = __webpack_require__(6466);
;// CONCATENATED MODULE: ./build/action/config.js




/**
 * Files in flight per connection. Over a long link every file waits out two round trips (its open,
 * then its write and close), so a connection's share of small files should be in flight at once,
 * not in waves; the upload also keeps their bytes in flight under a budget (transfer/upload.ts).
 * 512 open files stay inside sftp-server's usual limit of 1,024 descriptors.
 */
const DEFAULT_CONCURRENCY = 512;
/**
 * SSH connections per target for an upload of several files: each has its own SFTP window (sshd's
 * 2 MiB per channel), TCP window and chain of waits, and takes a share of the files. Over a long
 * link one connection's windows and round trips bind; see the wan section of `npm run bench`.
 */
const DEFAULT_CONNECTIONS = 4;
/**
 * The same over ssm when `connections` is not given: a Session Manager session carries at most
 * ssm-window-bytes (1 MiB) unacknowledged, so one moves some 10 MiB/s at 100 ms, far below its TCP
 * window; more sessions are what makes a large file fast there.
 */
const SSM_DEFAULT_CONNECTIONS = 8;
const YAML_TRUE = ['true', 'True', 'TRUE'];
const YAML_FALSE = ['false', 'False', 'FALSE'];
function parseBoolean(name, raw, dflt) {
    const v = raw.trim();
    if (v === '')
        return dflt;
    if (YAML_TRUE.includes(v))
        return true;
    if (YAML_FALSE.includes(v))
        return false;
    throw new errors/* UserError */.yo(`Input '${name}' must be true or false, got '${v}'.`);
}
function parseInteger(name, raw, dflt, min, max) {
    const v = raw.trim();
    if (v === '')
        return dflt;
    if (!/^\d+$/.test(v))
        throw new errors/* UserError */.yo(`Input '${name}' must be a whole number from ${min} to ${max}, got '${v}'.`);
    const n = Number(v);
    if (n < min || n > max)
        throw new errors/* UserError */.yo(`Input '${name}' must be from ${min} to ${max}, got ${n}.`);
    return n;
}
function parseChoice(name, raw, dflt, choices) {
    const v = raw.trim();
    if (v === '')
        return dflt;
    if (!choices.includes(v)) {
        throw new errors/* UserError */.yo(`Input '${name}' must be one of ${choices.join(', ')}; got '${v}'.`);
    }
    return v;
}
/** Split a list input: one item per line or comma-separated; blank lines and `#` comments dropped. */
function parseList(raw) {
    return raw
        .split(/\r?\n/)
        .map(l => l.trim())
        .filter(l => l !== '' && !l.startsWith('#'))
        .flatMap(l => l.split(','))
        .map(s => s.trim())
        .filter(Boolean);
}
const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
/**
 * One item of 'targets'. `defaultPort` is the port of a host given without one (the 'port' input, so
 * `--mode nlb --targets 10.0.0.5 --port 2222` goes to 2222).
 */
function parseTarget(item, defaultPort = 22) {
    if (INSTANCE_ID.test(item))
        return { kind: 'instance', instanceId: item, label: item };
    // 'i-xyz' or 'i-0123' is a mistyped instance id, not the host name it would otherwise pass for.
    if (/^m?i-[A-Za-z0-9]*$/.test(item)) {
        throw new errors/* UserError */.yo(`Target '${item}' is not a valid instance id: an instance id is 'i-' and 8 or 17 hexadecimal digits (0-9, a-f), like i-0123456789abcdef0; check it in the EC2 console.`);
    }
    // `i-...@host[:port]`: an NLB address with the instance behind it named, so one-time keys can be pushed.
    const behind = /^(i-[0-9a-f]{8,17})@(.+)$/.exec(item);
    if (behind) {
        const spec = parseTarget(behind[2], defaultPort);
        if (spec.kind !== 'host')
            throw new errors/* UserError */.yo(`Target '${item}': after 'instance-id@' give host[:port].`);
        return { ...spec, instanceId: behind[1], label: item };
    }
    const tag = /^tag:([^=]+)=(.*)$/.exec(item);
    if (tag)
        return { kind: 'tag', key: tag[1], value: tag[2], label: item };
    // host, host:port, [v6]:port, or a bare IPv6 address
    let host = item;
    let port = defaultPort;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    const hostPort = /^([^:]+):(\d+)$/.exec(item);
    if (bracket) {
        host = bracket[1];
        if (bracket[2])
            port = Number(bracket[2]);
    }
    else if (hostPort) {
        host = hostPort[1];
        port = Number(hostPort[2]);
    }
    const isIPv6 = host.includes(':');
    if (!isIPv6 && !HOSTNAME.test(host)) {
        throw new errors/* UserError */.yo(`Target '${item}' is not an instance id (i-...), a tag filter (tag:Key=Value) or host[:port].`);
    }
    if (port < 1 || port > 65535)
        throw new errors/* UserError */.yo(`Target '${item}' has port ${port}; use 1-65535.`);
    return { kind: 'host', host, port, label: item };
}
const FINGERPRINT = /^(SHA256:)?[A-Za-z0-9+/]{43}=?$/;
/**
 * 'host-key-fingerprint': SHA256:<43 base64 characters>, bare, or within the whole line
 * 'ssh-keygen -lf' prints ('256 SHA256:... root@host (ED25519)').
 */
function parseFingerprint(raw) {
    const v = raw.trim();
    if (!v)
        return undefined;
    if (FINGERPRINT.test(v))
        return v;
    const inLine = /(?:^|\s)(SHA256:[A-Za-z0-9+/]{43}=?)(?=\s|$)/.exec(v);
    if (inLine)
        return inLine[1];
    const md5 = /(?:^|\s)MD5:/.test(v)
        ? " That is an MD5 fingerprint: print the SHA256 one with 'ssh-keygen -lf FILE -E sha256'."
        : '';
    throw new errors/* UserError */.yo(`Input 'host-key-fingerprint' must be SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints), got '${v}'.${md5}`);
}
/** Normalise a key pasted into a secret: CRLF, literal \n sequences, missing trailing newline. */
function normalisePrivateKey(raw) {
    let key = raw.trim();
    if (!key)
        return '';
    if (!key.includes('\n') && key.includes('\\n'))
        key = key.replace(/\\n/g, '\n');
    return key.replace(/\r\n?/g, '\n') + '\n';
}
/** The remote destination: absolute, or relative to the login directory, never climbing out with `..`. */
/**
 * `~` and `~/dir` are the login's home, as scp and sftp read them: relative paths are resolved there
 * (SFTP and ssh both start in it). `~user` is refused rather than taken as a folder named so.
 */
function fromHome(v) {
    if (v === '~' || v === '~/')
        return '.';
    if (v.startsWith('~/'))
        return v.slice(2).replace(/^\/+/, '') || '.';
    if (v.startsWith('~')) {
        throw new errors/* UserError */.yo(`Input 'remote-path' '${v}' names another user's home; give it as an absolute path (~/ alone means the login's home).`);
    }
    return v;
}
function parseRemotePath(raw) {
    const v = raw.trim();
    if (!v)
        throw new errors/* UserError */.yo("Input 'remote-path' is required: the folder on the instance to upload into.");
    if (v.includes('\0'))
        throw new errors/* UserError */.yo("Input 'remote-path' contains a NUL byte.");
    const norm = external_node_path_.posix.normalize(fromHome(v));
    if (!external_node_path_.posix.isAbsolute(norm) && (norm === '..' || norm.startsWith('../'))) {
        throw new errors/* UserError */.yo(`Input 'remote-path' '${v}' climbs above the login directory with '..'; give an absolute path or one inside the home folder.`);
    }
    return norm.length > 1 ? norm.replace(/\/+$/, '') : norm;
}
function buildConfig(raw) {
    const delivery = parseChoice('delivery', raw('delivery'), 'push', ['push', 's3']);
    // With s3, max-parallel-targets is Run Command's MaxConcurrency (a count or a percentage).
    const input = name => (delivery === 's3' && name === 'max-parallel-targets' ? '' : raw(name));
    // Read whatever the delivery, so every input of the table is read by the parser.
    const s3Inputs = new Map(['s3-bucket', 's3-prefix', 'max-errors'].map(n => [n, raw(n)]));
    const mode = parseChoice('mode', input('mode'), 'auto', ['ssm', 'eice', 'nlb', 'auto']);
    const targetItems = parseList(input('targets'));
    if (targetItems.length === 0) {
        throw new errors/* UserError */.yo("Input 'targets' is required: give instance ids (i-...), tag filters (tag:Role=web) or, for nlb, host[:port].");
    }
    const port = parseInteger('port', input('port'), 22, 1, 65535);
    const targets = targetItems.map(item => parseTarget(item, port));
    if (mode === 'nlb') {
        const notHost = targets.find(t => t.kind !== 'host');
        if (notHost) {
            throw new errors/* UserError */.yo(`mode 'nlb' needs host[:port] targets (the load balancer's DNS name); '${notHost.label}' is an instance id or tag filter.`);
        }
    }
    const files = input('files')
        .split(/\r?\n/)
        .map(l => l.trim())
        .filter(l => l !== '' && !l.startsWith('#'));
    const rollback = parseBoolean('rollback', input('rollback'), false);
    const forward = (0,spec/* parseForwardSpecs */.He)(input('forward'));
    // forward alone opens the tunnels and deploys nothing.
    const forwardOnly = forward.length > 0 && files.length === 0 && !rollback;
    if (forward.length > 0 && targets.length !== 1) {
        throw new errors/* UserError */.yo(`Input 'forward' needs exactly one target, got ${targets.length}: the listeners lead to one instance.`);
    }
    if (files.length === 0 && !rollback && !forwardOnly) {
        throw new errors/* UserError */.yo("Input 'files' is required: one glob pattern per line (e.g. dist/**), '!pattern' to exclude.");
    }
    const sshPrivateKey = normalisePrivateKey(input('ssh-private-key')) || undefined;
    const hostKeyFingerprint = parseFingerprint(input('host-key-fingerprint'));
    const accountIds = parseList(input('allowed-account-ids'));
    const badAccount = accountIds.find(a => !/^\d{12}$/.test(a));
    if (badAccount)
        throw new errors/* UserError */.yo(`Input 'allowed-account-ids' has '${badAccount}'; account ids are 12 digits.`);
    return {
        mode,
        targets,
        files,
        baseDir: input('base-dir').trim() || undefined,
        includeHiddenFiles: parseBoolean('include-hidden-files', input('include-hidden-files'), false),
        remotePath: forwardOnly ? input('remote-path').trim() : parseRemotePath(input('remote-path')),
        ifNoFilesFound: parseChoice('if-no-files-found', input('if-no-files-found'), 'error', [
            'error',
            'warn',
            'ignore'
        ]),
        user: input('user').trim() || 'ec2-user',
        port,
        sshPrivateKey,
        sshPassphrase: input('ssh-passphrase') || undefined,
        hostKeyFingerprint,
        knownHosts: input('known-hosts').trim() || undefined,
        strictHostKey: parseBoolean('strict-host-key', input('strict-host-key'), true),
        concurrency: parseInteger('concurrency', input('concurrency'), DEFAULT_CONCURRENCY, 1, 1024),
        connections: parseInteger('connections', input('connections'), DEFAULT_CONNECTIONS, 1, 16),
        connectionsGiven: input('connections').trim() !== '',
        retries: parseInteger('retries', input('retries'), 3, 0, 20),
        verify: parseChoice('verify', input('verify'), 'sha256', ['sha256', 'none']),
        timeoutSeconds: parseInteger('timeout-seconds', input('timeout-seconds'), 1800, 1, 6 * 3600),
        lockWaitSeconds: parseInteger('lock-wait-seconds', input('lock-wait-seconds'), 0, 0, 6 * 3600),
        aws: {
            region: input('aws-region').trim() || undefined,
            roleToAssume: input('role-to-assume').trim() || undefined,
            roleSessionName: input('role-session-name').trim() || 'ec2-push',
            roleDurationSeconds: parseInteger('role-duration-seconds', input('role-duration-seconds'), 3600, 900, 43200),
            audience: input('audience').trim() || 'sts.amazonaws.com',
            allowedAccountIds: accountIds
        },
        ssmDocument: parseChoice('ssm-document', input('ssm-document'), 'AWS-StartSSHSession', [
            'AWS-StartSSHSession',
            'AWS-StartPortForwardingSession'
        ]),
        ssmFrameSize: parseInteger('ssm-frame-size', input('ssm-frame-size'), 1024, 64, 65536),
        ssmWindowBytes: parseInteger('ssm-window-bytes', input('ssm-window-bytes'), 1024 * 1024, 1024, 64 * 1024 * 1024),
        eiceEndpointId: input('eice-endpoint-id').trim() || undefined,
        eiceMaxTunnels: parseInteger('eice-max-tunnels', input('eice-max-tunnels'), 8, 1, 20),
        forward,
        forwardOnly,
        ...releaseInputs(input, rollback),
        delivery,
        s3: delivery === 's3'
            ? parseS3Delivery(n => s3Inputs.get(n) ?? raw(n), parseBoolean('fail-fast', raw('fail-fast'), true))
            : undefined
    };
}
function releaseInputs(input, rollback) {
    const release = parseChoice('release', input('release'), 'none', ['none', 'atomic']);
    if (rollback && release !== 'atomic') {
        throw new errors/* UserError */.yo("Input 'rollback: true' needs 'release: atomic' (there are no releases to go back to).");
    }
    const del = parseBoolean('delete', input('delete'), false);
    return {
        release,
        keepReleases: parseInteger('keep-releases', input('keep-releases'), 5, 1, 100),
        releaseId: parseReleaseId(input('release-id')),
        rollback,
        preCommand: input('pre-command').trim() || undefined,
        postCommand: input('post-command').trim() || undefined,
        commandTimeoutSeconds: parseInteger('command-timeout-seconds', input('command-timeout-seconds'), 600, 1, 6 * 3600),
        sync: parseBoolean('sync', input('sync'), false),
        delete: del,
        protect: input('protect')
            .split(/\r?\n/)
            .map(l => l.trim())
            .filter(l => l !== '' && !l.startsWith('#')),
        followRemoteSymlinks: parseBoolean('follow-remote-symlinks', input('follow-remote-symlinks'), false),
        maxParallelTargets: parseInteger('max-parallel-targets', input('max-parallel-targets'), 1, 1, 64),
        failFast: parseBoolean('fail-fast', input('fail-fast'), true),
        dryRun: parseBoolean('dry-run', input('dry-run'), false)
    };
}
/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit (never `.`/`..`, never a path). */
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** The release id: given, else the workflow run id and attempt, else a UTC timestamp. */
function parseReleaseId(raw, env = process.env) {
    const v = raw.trim();
    if (v) {
        if (!RELEASE_ID.test(v)) {
            throw new errors/* UserError */.yo(`Input 'release-id' '${v}' may hold only letters, digits, '.', '_' and '-' (up to 100, starting with a letter or digit).`);
        }
        return v;
    }
    const runId = env.GITHUB_RUN_ID?.trim();
    if (runId && /^\d+$/.test(runId)) {
        const attempt = env.GITHUB_RUN_ATTEMPT?.trim();
        return attempt && /^\d+$/.test(attempt) ? `${runId}-${attempt}` : runId;
    }
    return new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
}


/***/ }),

/***/ 6466:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   He: () => (/* binding */ parseForwardSpecs),
/* harmony export */   RS: () => (/* binding */ isInstanceItself)
/* harmony export */ });
/* unused harmony export parseForwardSpec */
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6932);

/** Names the instance itself: forwarded over any path, as a port on the instance. */
function isInstanceItself(host) {
    return /^(localhost|127\.0\.0\.1|::1)$/i.test(host);
}
// Host names and IPv4/IPv6 addresses; nothing a shell or the document's parameter pattern refuses.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]+)$/;
function port(text, what, spec, min) {
    if (!/^\d{1,5}$/.test(text) || Number(text) < min || Number(text) > 65535) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`forward '${spec}': the ${what} '${text}' is not a port number (${min}-65535); write [local-port:]host:port, e.g. 5432:db.internal:5432`);
    }
    return Number(text);
}
function parseForwardSpec(text) {
    const spec = text.trim();
    // [local:]host:port, where host may be a bracketed IPv6 address.
    const m = /^(?:(\d+):)?(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(spec);
    if (!m) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`forward '${spec}' is not [local-port:]host:port: e.g. 5432:db.internal:5432, or 8080:localhost:80 for a port on the instance`);
    }
    const host = m[2].replace(/^\[(.*)\]$/, '$1');
    if (!HOST.test(host)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`forward '${spec}': '${host}' is not a host name or IP address`);
    }
    return {
        localPort: m[1] === undefined ? 0 : port(m[1], 'local port', spec, 0),
        host,
        port: port(m[3], 'port', spec, 1),
        text: spec
    };
}
/** One spec a line or comma-separated; blank lines and # comments are skipped. Two on one local port is an error. */
function parseForwardSpecs(raw) {
    const specs = raw
        .split(/[\n,]/)
        .map(s => s.replace(/(^|\s)#.*$/, '').trim())
        .filter(Boolean)
        .map(parseForwardSpec);
    const seen = new Map();
    for (const s of specs) {
        if (s.localPort === 0)
            continue;
        const other = seen.get(s.localPort);
        if (other)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`forward: '${other}' and '${s.text}' both ask for local port ${s.localPort}`);
        seen.set(s.localPort, s.text);
    }
    return specs;
}


/***/ }),

/***/ 4173:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   V: () => (/* binding */ streamLogger),
/* harmony export */   q: () => (/* binding */ silentLogger)
/* harmony export */ });
/* harmony import */ var _report_command_output_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1169);

/** A logger that writes to a stream (stderr by default), masking registered secrets itself. */
function streamLogger(write = line => process.stderr.write(line + '\n'), debugEnabled = false) {
    const secrets = [];
    const mask = (s) => secrets.reduce((acc, secret) => acc.split(secret).join('***'), s);
    return {
        mask: text => (0,_report_command_output_js__WEBPACK_IMPORTED_MODULE_0__/* .maskSecrets */ .QU)(text, secrets),
        info: m => write(mask(m)),
        warning: m => write(mask(`warning: ${m}`)),
        debug: m => {
            if (debugEnabled)
                write(mask(`debug: ${m}`));
        },
        setSecret: v => {
            if (v && v.length >= 4)
                secrets.push(v);
        },
        group: async (name, fn) => {
            write(mask(`== ${name}`));
            return fn();
        }
    };
}
const silentLogger = {
    info: () => { },
    warning: () => { },
    debug: () => { },
    setSecret: () => { },
    group: (_name, fn) => fn()
};


/***/ }),

/***/ 1169:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   FM: () => (/* binding */ BoundedText),
/* harmony export */   QU: () => (/* binding */ maskSecrets),
/* harmony export */   RO: () => (/* binding */ MAX_COMMAND_OUTPUT)
/* harmony export */ });
// post-command's output as a step output: bounded (the runner refuses huge outputs, and a chatty
// command should not fill the output twice) and with the run's secrets masked, since the runner
// masks the log but not what a later step reads from an output.
/** At most this many bytes (UTF-8) of post-command's output are kept: its end, where results usually are. */
const MAX_COMMAND_OUTPUT = 64 * 1024;
/** Lines kept up to a limit in bytes; past it, the oldest go and a first line says how much. */
class BoundedText {
    limit;
    lines = [];
    size = 0;
    dropped = 0;
    constructor(limit) {
        this.limit = limit;
    }
    add(line) {
        let kept = line;
        if (Buffer.byteLength(kept) > this.limit) {
            kept = Buffer.from(kept)
                .subarray(-this.limit)
                .toString()
                .replace(/^\uFFFD+/, '');
            this.dropped += Buffer.byteLength(line) - Buffer.byteLength(kept);
        }
        this.lines.push(kept);
        this.size += Buffer.byteLength(kept) + 1;
        while (this.size > this.limit && this.lines.length > 1) {
            const old = this.lines.shift();
            const n = Buffer.byteLength(old) + 1;
            this.size -= n;
            this.dropped += n;
        }
    }
    text() {
        const body = this.lines.join('\n');
        return this.dropped ? `[first ${this.dropped} bytes cut]\n${body}` : body;
    }
}
/** `text` with each secret (and each line of a multi-line secret) replaced by ***. */
function maskSecrets(text, secrets) {
    const parts = new Set();
    for (const s of secrets) {
        if (!s || s.length < 4)
            continue;
        parts.add(s);
        for (const line of s.split('\n'))
            if (line.trim().length >= 8)
                parts.add(line.trim());
    }
    let out = text;
    // Longest first, so a whole key goes before any of its lines.
    for (const p of [...parts].sort((a, b) => b.length - a.length))
        out = out.split(p).join('***');
    return out;
}


/***/ }),

/***/ 6230:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  NJ: () => (/* binding */ needsAws),
  SG: () => (/* binding */ resolveOneTarget),
  h5: () => (/* binding */ resolveTargets)
});

// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(7030);
;// CONCATENATED MODULE: ./build/action/tunnel/nlb.js


/**
 * nlb: a plain TCP connection to host:port (a Network Load Balancer listener forwarding to the
 * instance's sshd). Nothing to set up or tear down beyond the socket.
 */
function createNlbTunnel(host, port, connectTimeoutMs = 15000) {
    return {
        description: `tcp ${host}:${port}`,
        open: signal => new Promise((resolve, reject) => {
            const socket = external_node_net_.connect({ host, port, noDelay: true });
            const fail = (err) => {
                socket.destroy();
                reject(new errors/* TransientError */.N_(`cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
            };
            socket.setTimeout(connectTimeoutMs, () => fail(new Error(`no answer within ${connectTimeoutMs / 1000} s`)));
            socket.once('error', fail);
            signal?.addEventListener('abort', () => fail(new Error('cancelled')), { once: true });
            socket.once('connect', () => {
                socket.setTimeout(0);
                socket.off('error', fail);
                // ssh2 never sets TCP_NODELAY itself; without it a path with one request in flight stalls on Nagle.
                socket.setNoDelay(true);
                resolve(socket);
            });
        }),
        close: async () => { }
    };
}

;// CONCATENATED MODULE: ./build/action/tunnel/index.js


/** Does this configuration need AWS at all? (nlb to host names does not.) */
function needsAws(config) {
    return config.targets.some(t => t.kind !== 'host' || (t.instanceId !== undefined && !config.sshPrivateKey));
}
/** Turn the configured targets into tunnels, choosing the path for `auto`. */
async function resolveTargets(config, ctx) {
    const out = [];
    for (const spec of config.targets)
        if (spec.kind === 'host')
            out.push(hostTarget(config, spec));
    const instanceSpecs = config.targets.filter(t => t.kind !== 'host');
    if (instanceSpecs.length === 0)
        return out;
    // Loaded only when needed: the AWS SDK clients cost about a second of start-up and 100 MB.
    const { resolveInstanceTargets } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(193), __webpack_require__.e(736), __webpack_require__.e(977), __webpack_require__.e(935), __webpack_require__.e(201)]).then(__webpack_require__.bind(__webpack_require__, 4201));
    out.push(...(await resolveInstanceTargets(config, instanceSpecs, ctx)));
    return out;
}
/**
 * The one target a command serves (proxy, forward): an instance id, a host, or a tag filter that
 * matches exactly one instance; any other number closes what was resolved and says so.
 */
async function resolveOneTarget(config, ctx, command) {
    const targets = await resolveTargets(config, ctx);
    if (targets.length !== 1) {
        await Promise.all(targets.map(t => t.tunnel.close()));
        throw new errors/* UserError */.yo(`${command} needs exactly one instance, but '${config.targets[0].label}' matched ${targets.length}: give an instance id`);
    }
    return targets[0];
}
function hostTarget(config, spec) {
    if (config.mode !== 'nlb' && config.mode !== 'auto') {
        throw new errors/* UserError */.yo(`mode '${config.mode}' needs instance ids (i-...) or tag filters; '${spec.label}' is a host name (use mode 'nlb').`);
    }
    return {
        label: spec.label,
        mode: 'nlb',
        tunnel: createNlbTunnel(spec.host, spec.port),
        instanceId: spec.instanceId,
        host: spec.host,
        port: spec.port,
        aliases: spec.instanceId ? [spec.instanceId] : [],
        reason: config.mode === 'auto' ? 'the target is a host name' : undefined
    };
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


/***/ })

};
