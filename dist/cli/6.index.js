export const id = 6;
export const ids = [6];
export const modules = {

/***/ 5:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   HV: () => (/* binding */ last),
/* harmony export */   Zy: () => (/* binding */ parseArgs),
/* harmony export */   vM: () => (/* binding */ isSet)
/* harmony export */ });
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6932);

function parseArgs(argv, specs, command) {
    const byName = new Map(specs.map(s => [s.name, s]));
    const byShort = new Map(specs.filter(s => s.short).map(s => [s.short, s]));
    const flags = new Map();
    const positionals = [];
    const add = (name, value) => flags.set(name, [...(flags.get(name) ?? []), value]);
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '--') {
            positionals.push(...argv.slice(i + 1));
            break;
        }
        if (!arg.startsWith('-') || arg === '-') {
            positionals.push(arg);
            continue;
        }
        let name;
        let inline;
        if (arg.startsWith('--')) {
            const eq = arg.indexOf('=');
            name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
            inline = eq < 0 ? undefined : arg.slice(eq + 1);
        }
        else {
            const spec = byShort.get(arg.slice(1));
            if (!spec)
                throw unknown(arg, specs, command);
            name = spec.name;
        }
        const spec = byName.get(name);
        if (!spec && name.startsWith('no-') && inline === undefined) {
            const negated = byName.get(name.slice(3));
            if (negated?.kind === 'boolean') {
                add(negated.name, 'false');
                continue;
            }
        }
        if (!spec)
            throw unknown(`--${name}`, specs, command);
        if (spec.kind === 'boolean') {
            // `--flag`, `--flag=false`, or `--flag false` (only the words true/false are taken as its value).
            const next = argv[i + 1];
            const v = inline ?? (next !== undefined && /^(true|false)$/i.test(next) ? argv[++i] : 'true');
            if (!/^(true|false)$/i.test(v)) {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`--${name} takes true or false, got '${v}' (see ec2-push ${command} --help)`);
            }
            add(name, v.toLowerCase());
            continue;
        }
        if (inline !== undefined) {
            add(name, inline);
            continue;
        }
        if (i + 1 >= argv.length) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`--${name} needs a value (see ec2-push ${command} --help)`);
        }
        add(name, argv[++i]);
    }
    return { flags, positionals };
}
/** The last value of a flag, or undefined. */
function last(args, name) {
    const v = args.flags.get(name);
    return v ? v[v.length - 1] : undefined;
}
function isSet(args, name) {
    return last(args, name) === 'true';
}
function unknown(flag, specs, command) {
    const bare = flag.replace(/^-+/, '');
    const close = specs
        .map(s => ({ s, d: distance(bare, s.name) }))
        .filter(x => x.d <= Math.max(2, Math.floor(bare.length / 4)))
        .sort((a, b) => a.d - b.d)[0];
    const hint = close ? `; did you mean --${close.s.name}?` : '';
    return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`unknown option '${flag}' for 'ec2-push ${command}'${hint} (see ec2-push ${command} --help)`);
}
/** Levenshtein distance, for "did you mean" hints. */
function distance(a, b) {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) {
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = cur;
    }
    return prev[b.length];
}


/***/ }),

/***/ 5649:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Ne: () => (/* binding */ idTokenOptions),
/* harmony export */   Zv: () => (/* binding */ resolveRegion),
/* harmony export */   mO: () => (/* binding */ applyProfile),
/* harmony export */   tR: () => (/* binding */ NO_REGION)
/* harmony export */ });
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1455);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6932);


/**
 * The standard AWS environment on a workstation: `--profile` (AWS_PROFILE), `--region`, and the
 * region of the profile in ~/.aws/config when neither the flag nor AWS_REGION gives one. Credentials
 * come from the SDK's default chain (environment, SSO, profiles, process, instance).
 */
function applyProfile(profile, env = process.env) {
    if (profile === undefined)
        return;
    if (!profile.trim())
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo('--profile needs a profile name (as in ~/.aws/config)');
    env.AWS_PROFILE = profile.trim();
}
/** The region: the flag, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's; '' when none. */
async function resolveRegion(flag) {
    if (flag?.trim())
        return flag.trim();
    const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    if (fromEnv)
        return fromEnv;
    // A client's resolved config reads the profile's `region` the way the AWS CLI does. (Loaded here:
    // a deploy over nlb never needs the SDK.)
    const { STSClient } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(695)]).then(__webpack_require__.t.bind(__webpack_require__, 1695, 19));
    const client = new STSClient({});
    try {
        return (await client.config.region()) || '';
    }
    catch {
        return '';
    }
    finally {
        client.destroy();
    }
}
const NO_REGION = 'no AWS region: pass --region, set AWS_REGION, or set region for the profile in ~/.aws/config';
/**
 * Where `--role-to-assume` gets its OIDC token outside the action: inside a GitHub Actions job the
 * job's token (as the action does), else a token file (`--web-identity-token-file` or
 * AWS_WEB_IDENTITY_TOKEN_FILE, as the SDK uses).
 */
function idTokenOptions(roleToAssume, tokenFile) {
    if (!roleToAssume)
        return {};
    if (!tokenFile && process.env.ACTIONS_ID_TOKEN_REQUEST_URL)
        return {};
    const file = tokenFile || process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
    if (!file) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo('--role-to-assume needs an OIDC token: outside a GitHub Actions job give --web-identity-token-file FILE, or leave --role-to-assume out and use your own credentials (--profile, or AWS_ACCESS_KEY_ID...)');
    }
    return {
        getIdToken: async () => {
            try {
                return (await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readFile)(file, 'utf8')).trim();
            }
            catch (err) {
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`cannot read the web identity token file '${file}': ${(0,_errors_js__WEBPACK_IMPORTED_MODULE_1__/* .errorMessage */ .gJ)(err)}`);
            }
        }
    };
}


/***/ }),

/***/ 8673:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   fD: () => (/* binding */ buildConfig),
/* harmony export */   hu: () => (/* binding */ parseTarget)
/* harmony export */ });
/* unused harmony exports DEFAULT_CONCURRENCY, parseBoolean, parseInteger, parseList, normalisePrivateKey, parseRemotePath, parseReleaseId */
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6760);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6932);


/**
 * Files in flight per target. Each costs little (a small file is at most 64 KiB in memory, large
 * ones are capped apart in the upload), and over ssm or eice every file waits out round trips: 2,000
 * small files through the ssm simulator at 20 ms RTT took 7.2 s with 32 in flight, 3.75 s with
 * 128 (and on loopback 1.20x -> 1.36x OpenSSH's files/s). 128 stays well inside sftp-server's
 * open-file limits.
 */
const DEFAULT_CONCURRENCY = 128;
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
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input '${name}' must be true or false, got '${v}'.`);
}
function parseInteger(name, raw, dflt, min, max) {
    const v = raw.trim();
    if (v === '')
        return dflt;
    if (!/^\d+$/.test(v))
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input '${name}' must be a whole number from ${min} to ${max}, got '${v}'.`);
    const n = Number(v);
    if (n < min || n > max)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input '${name}' must be from ${min} to ${max}, got ${n}.`);
    return n;
}
function parseChoice(name, raw, dflt, choices) {
    const v = raw.trim();
    if (v === '')
        return dflt;
    if (!choices.includes(v)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input '${name}' must be one of ${choices.join(', ')}; got '${v}'.`);
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
function parseTarget(item) {
    if (INSTANCE_ID.test(item))
        return { kind: 'instance', instanceId: item, label: item };
    // `i-...@host[:port]`: an NLB address with the instance behind it named, so one-time keys can be pushed.
    const behind = /^(i-[0-9a-f]{8,17})@(.+)$/.exec(item);
    if (behind) {
        const spec = parseTarget(behind[2]);
        if (spec.kind !== 'host')
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Target '${item}': after 'instance-id@' give host[:port].`);
        return { ...spec, instanceId: behind[1], label: item };
    }
    const tag = /^tag:([^=]+)=(.*)$/.exec(item);
    if (tag)
        return { kind: 'tag', key: tag[1], value: tag[2], label: item };
    // host, host:port, [v6]:port, or a bare IPv6 address
    let host = item;
    let port = 22;
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Target '${item}' is not an instance id (i-...), a tag filter (tag:Key=Value) or host[:port].`);
    }
    if (port < 1 || port > 65535)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Target '${item}' has port ${port}; use 1-65535.`);
    return { kind: 'host', host, port, label: item };
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
function parseRemotePath(raw) {
    const v = raw.trim();
    if (!v)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo("Input 'remote-path' is required: the folder on the instance to upload into.");
    if (v.includes('\0'))
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo("Input 'remote-path' contains a NUL byte.");
    const norm = node_path__WEBPACK_IMPORTED_MODULE_0__.posix.normalize(v);
    if (!node_path__WEBPACK_IMPORTED_MODULE_0__.posix.isAbsolute(norm) && (norm === '..' || norm.startsWith('../'))) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input 'remote-path' '${v}' climbs above the login directory with '..'; give an absolute path or one inside the home folder.`);
    }
    return norm.length > 1 ? norm.replace(/\/+$/, '') : norm;
}
function buildConfig(input) {
    const mode = parseChoice('mode', input('mode'), 'auto', ['ssm', 'eice', 'nlb', 'auto']);
    const targetItems = parseList(input('targets'));
    if (targetItems.length === 0) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo("Input 'targets' is required: give instance ids (i-...), tag filters (tag:Role=web) or, for nlb, host[:port].");
    }
    const targets = targetItems.map(parseTarget);
    if (mode === 'nlb') {
        const notHost = targets.find(t => t.kind !== 'host');
        if (notHost) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`mode 'nlb' needs host[:port] targets (the load balancer's DNS name); '${notHost.label}' is an instance id or tag filter.`);
        }
    }
    const files = input('files')
        .split(/\r?\n/)
        .map(l => l.trim())
        .filter(l => l !== '' && !l.startsWith('#'));
    const rollback = parseBoolean('rollback', input('rollback'), false);
    if (files.length === 0 && !rollback) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo("Input 'files' is required: one glob pattern per line (e.g. dist/**), '!pattern' to exclude.");
    }
    const sshPrivateKey = normalisePrivateKey(input('ssh-private-key')) || undefined;
    const hostKeyFingerprint = input('host-key-fingerprint').trim() || undefined;
    if (hostKeyFingerprint && !/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/.test(hostKeyFingerprint)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input 'host-key-fingerprint' must look like SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints), got '${hostKeyFingerprint}'.`);
    }
    const accountIds = parseList(input('allowed-account-ids'));
    const badAccount = accountIds.find(a => !/^\d{12}$/.test(a));
    if (badAccount)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input 'allowed-account-ids' has '${badAccount}'; account ids are 12 digits.`);
    return {
        mode,
        targets,
        files,
        baseDir: input('base-dir').trim() || undefined,
        includeHiddenFiles: parseBoolean('include-hidden-files', input('include-hidden-files'), false),
        remotePath: parseRemotePath(input('remote-path')),
        ifNoFilesFound: parseChoice('if-no-files-found', input('if-no-files-found'), 'error', [
            'error',
            'warn',
            'ignore'
        ]),
        user: input('user').trim() || 'ec2-user',
        port: parseInteger('port', input('port'), 22, 1, 65535),
        sshPrivateKey,
        sshPassphrase: input('ssh-passphrase') || undefined,
        hostKeyFingerprint,
        knownHosts: input('known-hosts').trim() || undefined,
        strictHostKey: parseBoolean('strict-host-key', input('strict-host-key'), true),
        concurrency: parseInteger('concurrency', input('concurrency'), DEFAULT_CONCURRENCY, 1, 256),
        retries: parseInteger('retries', input('retries'), 3, 0, 20),
        verify: parseChoice('verify', input('verify'), 'sha256', ['sha256', 'none']),
        timeoutSeconds: parseInteger('timeout-seconds', input('timeout-seconds'), 1800, 1, 6 * 3600),
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
        ...releaseInputs(input, rollback)
    };
}
function releaseInputs(input, rollback) {
    const release = parseChoice('release', input('release'), 'none', ['none', 'atomic']);
    if (rollback && release !== 'atomic') {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo("Input 'rollback: true' needs 'release: atomic' (there are no releases to go back to).");
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
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Input 'release-id' '${v}' may hold only letters, digits, '.', '_' and '-' (up to 100, starting with a letter or digit).`);
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

/***/ 4173:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   V: () => (/* binding */ streamLogger),
/* harmony export */   q: () => (/* binding */ silentLogger)
/* harmony export */ });
/** A logger that writes to a stream (stderr by default), masking registered secrets itself. */
function streamLogger(write = line => process.stderr.write(line + '\n'), debugEnabled = false) {
    const secrets = [];
    const mask = (s) => secrets.reduce((acc, secret) => acc.split(secret).join('***'), s);
    return {
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

/***/ 6230:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  N: () => (/* binding */ needsAws),
  h: () => (/* binding */ resolveTargets)
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
    const { resolveInstanceTargets } = await Promise.all(/* import() */[__webpack_require__.e(861), __webpack_require__.e(96), __webpack_require__.e(977), __webpack_require__.e(738)]).then(__webpack_require__.bind(__webpack_require__, 738));
    out.push(...(await resolveInstanceTargets(config, instanceSpecs, ctx)));
    return out;
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


/***/ })

};
