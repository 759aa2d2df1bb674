export const id = 990;
export const ids = [990];
export const modules = {

/***/ 1097:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createKeySource: () => (/* binding */ createKeySource),
  oneTimeKeyRefusedHint: () => (/* binding */ oneTimeKeyRefusedHint),
  pushErrorToUserError: () => (/* binding */ pushErrorToUserError)
});

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ec2-instance-connect/dist-cjs/index.js
var dist_cjs = __webpack_require__(9254);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/util/retry.js
var retry = __webpack_require__(2046);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./build/action/aws/openssh-key.js

const KEY_TYPE = 'ssh-ed25519';
function sshString(data) {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
}
function uint32(n) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
}
function generateEd25519KeyPair(comment = '') {
    const { privateKey } = (0,external_node_crypto_.generateKeyPairSync)('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d, 'base64url');
    const pub = Buffer.from(jwk.x, 'base64url');
    const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
    // Private section: two equal check words, the key (OpenSSH keeps seed || public as the
    // 64-byte private part), the comment, then padding 1,2,3... to the cipher block size (8 for "none").
    const check = (0,external_node_crypto_.randomBytes)(4);
    const section = Buffer.concat([
        check,
        check,
        sshString(KEY_TYPE),
        sshString(pub),
        sshString(Buffer.concat([seed, pub])),
        sshString(comment)
    ]);
    const padLength = (8 - (section.length % 8)) % 8;
    const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
    const body = Buffer.concat([
        Buffer.from('openssh-key-v1\0'),
        sshString('none'), // cipher
        sshString('none'), // kdf
        sshString(''), // kdf options
        uint32(1), // number of keys
        sshString(publicBlob),
        sshString(Buffer.concat([section, padding]))
    ]);
    seed.fill(0);
    const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
    return {
        privateKey: [
            '-----BEGIN OPENSSH PRIVATE KEY-----',
            ...lines,
            '-----END OPENSSH PRIVATE KEY-----',
            ''
        ].join('\n'),
        publicKey: `${KEY_TYPE} ${publicBlob.toString('base64')}`,
        fingerprint: 'SHA256:' + (0,external_node_crypto_.createHash)('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')
    };
}
/** The parts of a PEM/OpenSSH private key worth masking: the whole text and each base64 line. */
function secretPartsOfKey(key) {
    const lines = key
        .split(/\r?\n/)
        .map(l => l.trim())
        .filter(l => l.length >= 8 && !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l));
    return [key, key.trim(), ...lines];
}

// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
;// CONCATENATED MODULE: ./build/action/aws/instance-key.js





/** AWS error names worth another try after a pause. */
const RETRYABLE = new Set([
    'ThrottlingException',
    'TooManyRequestsException',
    'ServiceException',
    'EC2InstanceUnavailableException',
    'InternalFailure',
    'ServiceUnavailable'
]);
function awsErrorName(err) {
    return typeof err === 'object' && err !== null && 'name' in err
        ? String(err.name)
        : '';
}
function isRetryable(err) {
    if (err instanceof errors/* UserError */.yo)
        return false;
    const name = awsErrorName(err);
    if (RETRYABLE.has(name))
        return true;
    // Network trouble before any answer (reset, refused, DNS) is worth another try too.
    const code = err?.code;
    return (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND)$/.test(code));
}
/** The SDK's error message without a trailing period, for embedding in one line. */
function awsSays(err) {
    const m = (0,errors/* errorMessage */.gJ)(err).trim().replace(/\.$/, '');
    return m ? ` (AWS: ${m})` : '';
}
/**
 * Turn a SendSSHPublicKey failure into a one-line error that says what is wrong and what to do.
 * Exported so the caller can reuse it (and tests can check each message).
 */
function pushErrorToUserError(err, ctx) {
    const { instanceId, user, region } = ctx;
    const fallback = 'or give ssh-private-key to log in with your own key instead of a one-time key';
    switch (awsErrorName(err)) {
        case 'AccessDeniedException':
        case 'AuthException':
            return new errors/* UserError */.yo(`EC2 Instance Connect refused to push the one-time SSH key to ${instanceId}: the AWS role needs ` +
                `ec2-instance-connect:SendSSHPublicKey on arn:aws:ec2:${region}:<account>:instance/${instanceId} ` +
                `with the condition ec2:osuser = "${user}" (the user input), ${fallback}${awsSays(err)}`);
        case 'EC2InstanceNotFoundException':
            return new errors/* UserError */.yo(`EC2 Instance Connect found no instance ${instanceId} in ${region}: check the target id and aws-region${awsSays(err)}`);
        case 'EC2InstanceStateInvalidException':
            return new errors/* UserError */.yo(`instance ${instanceId} is not running, so EC2 Instance Connect cannot push a key to it: start it or remove it from targets${awsSays(err)}`);
        case 'EC2InstanceUnavailableException':
            return new errors/* UserError */.yo(`EC2 Instance Connect cannot push keys to ${instanceId}: the instance is unavailable to it (still booting, or its AMI ` +
                `lacks the ec2-instance-connect package: preinstalled on Amazon Linux 2023 and Amazon Linux 2, installable on ` +
                `Ubuntu and some others); install the package, ${fallback}${awsSays(err)}`);
        case 'EC2InstanceTypeInvalidException':
            return new errors/* UserError */.yo(`EC2 Instance Connect does not support instance ${instanceId}'s type: ${fallback.replace(/^or /, '')}${awsSays(err)}`);
        case 'InvalidArgsException':
            return new errors/* UserError */.yo(`SendSSHPublicKey rejected the request for ${instanceId} as user "${user}": check the user input ` +
                `(an existing OS user, 1-32 characters) and the instance id${awsSays(err)}`);
        case 'UnrecognizedClientException':
        case 'InvalidSignatureException':
        case 'IncompleteSignatureException':
        case 'MissingAuthenticationTokenException':
        case 'ExpiredTokenException':
        case 'InvalidClientTokenId':
            return new errors/* UserError */.yo(`AWS rejected the credentials used for SendSSHPublicKey: check role-to-assume / the configured credentials and aws-region${awsSays(err)}`);
        case 'CredentialsProviderError':
            return new errors/* UserError */.yo(`no AWS credentials to push the one-time SSH key: set role-to-assume (with id-token: write) or run ` +
                `aws-actions/configure-aws-credentials first, ${fallback}`);
    }
    if (/region is missing/i.test((0,errors/* errorMessage */.gJ)(err))) {
        return new errors/* UserError */.yo(`no AWS region to push the one-time SSH key: set aws-region (or AWS_REGION), ${fallback}`);
    }
    if (isRetryable(err)) {
        return new errors/* TransientError */.N_(`SendSSHPublicKey for ${instanceId} kept failing after retries (${awsErrorName(err) || 'network error'}); ` +
            `try again later or lower max-parallel-targets${awsSays(err)}`, { cause: err });
    }
    return new errors/* UserError */.yo(`SendSSHPublicKey for ${instanceId} failed: ${(0,errors/* errorMessage */.gJ)(err).split('\n')[0]}`);
}
function providedKeySource(opts) {
    const key = opts.providedKey;
    for (const part of secretPartsOfKey(key))
        opts.logger.setSecret(part);
    if (opts.passphrase)
        opts.logger.setSecret(opts.passphrase);
    return {
        privateKey: key,
        passphrase: opts.passphrase || undefined,
        oneTime: false,
        beforeConnect: async () => { }
    };
}
/** The key to log in with: the provided one, or a one-time key pushed before every connection. */
function createKeySource(opts) {
    if (opts.providedKey && opts.providedKey.trim())
        return providedKeySource(opts);
    const { logger, user, aws } = opts;
    const pair = generateEd25519KeyPair();
    for (const part of secretPartsOfKey(pair.privateKey))
        logger.setSecret(part);
    let client = opts.client;
    const getClient = () => (client ??= new dist_cjs/* EC2InstanceConnectClient */.VJ({
        region: aws.region || undefined,
        credentials: aws.credentials,
        ...(0,proxy_agent/* sdkProxyConfig */.L)()
    }));
    const push = async (instanceId, availabilityZone, signal) => {
        if (!instanceId) {
            throw new errors/* UserError */.yo('a one-time SSH key needs the EC2 instance id of the target (EC2 Instance Connect pushes the key to an instance): ' +
                'give the instance id with the target, or give ssh-private-key');
        }
        if (!/^i-[0-9a-f]+$/.test(instanceId)) {
            throw new errors/* UserError */.yo(`${instanceId} is not an EC2 instance id (i-...): one-time keys are pushed with EC2 Instance Connect, which only serves EC2 instances; give ssh-private-key for this target`);
        }
        const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '<region>';
        try {
            await (0,retry/* retry */.L5)(() => getClient().send(new dist_cjs/* SendSSHPublicKeyCommand */.iV({
                InstanceId: instanceId,
                InstanceOSUser: user,
                SSHPublicKey: pair.publicKey,
                ...(availabilityZone ? { AvailabilityZone: availabilityZone } : {})
            }), { abortSignal: signal }), {
                attempts: 4,
                baseDelayMs: 500,
                maxDelayMs: 5000,
                shouldRetry: isRetryable,
                onRetry: (err, attempt, delay) => logger.debug(`SendSSHPublicKey ${instanceId}: ${awsErrorName(err) || (0,errors/* errorMessage */.gJ)(err)}; retry ${attempt} in ${delay} ms`),
                signal,
                ...opts.retry
            });
        }
        catch (err) {
            if (signal?.aborted)
                throw err;
            throw pushErrorToUserError(err, { instanceId, user, region });
        }
        logger.debug(`pushed one-time key ${pair.fingerprint} to ${instanceId} for user ${user} (valid 60 s)`);
    };
    return {
        privateKey: pair.privateKey,
        oneTime: true,
        publicKey: pair.publicKey,
        fingerprint: pair.fingerprint,
        beforeConnect: push,
        loginRefused: instanceId => oneTimeKeyRefusedHint(instanceId ?? 'target', opts.user)
    };
}
/**
 * A hint for when sshd refuses a pushed one-time key although the push succeeded: the push cannot
 * tell whether the instance will honour it.
 */
function oneTimeKeyRefusedHint(instanceId, user) {
    return (`the instance ${instanceId} refused the one-time key pushed for user "${user}": it needs the ec2-instance-connect ` +
        `package (with IMDS reachable) and the OS user "${user}" must exist; fix that or give ssh-private-key`);
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

/***/ 1990:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  proxyCommand: () => (/* binding */ proxyCommand)
});

// EXTERNAL MODULE: ./build/action/aws/credentials.js
var credentials = __webpack_require__(2223);
// EXTERNAL MODULE: ./build/action/config.js + 1 modules
var action_config = __webpack_require__(7578);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/tunnel/index.js + 1 modules
var tunnel = __webpack_require__(6230);
// EXTERNAL MODULE: ./build/action/cli/args.js
var cli_args = __webpack_require__(5);
// EXTERNAL MODULE: ./build/action/cli/aws-env.js
var aws_env = __webpack_require__(5649);
// EXTERNAL MODULE: ./build/action/cli/aws-flags.js
var aws_flags = __webpack_require__(5693);
// EXTERNAL MODULE: ./build/action/cli/help.js
var help = __webpack_require__(8483);
// EXTERNAL MODULE: ./build/action/cli/progress.js
var progress = __webpack_require__(7239);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ec2-instance-connect/dist-cjs/index.js
var dist_cjs = __webpack_require__(9254);
// EXTERNAL MODULE: ./build/action/aws/instance-key.js + 1 modules
var instance_key = __webpack_require__(1097);
// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
;// CONCATENATED MODULE: ./build/action/cli/push-key.js





const KEY_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( .*)?$/;
/** Read an OpenSSH public key file (`~/.ssh/id_ed25519.pub`): its one `type base64 [comment]` line. */
async function readPublicKeyFile(file) {
    let text;
    try {
        text = await (0,promises_.readFile)(file, 'utf8');
    }
    catch (err) {
        throw new errors/* UserError */.yo(`cannot read the public key file '${file}': ${(0,errors/* errorMessage */.gJ)(err)}`);
    }
    if (/PRIVATE KEY/.test(text)) {
        throw new errors/* UserError */.yo(`'${file}' is a private key: give --push-key the public half (the .pub file next to it); private keys never leave this machine`);
    }
    const line = text
        .split(/\r?\n/)
        .map(l => l.trim())
        .find(l => l && !l.startsWith('#'));
    if (!line || !KEY_LINE.test(line)) {
        throw new errors/* UserError */.yo(`'${file}' is not an OpenSSH public key (expected one line such as 'ssh-ed25519 AAAA... comment'; EC2 Instance Connect accepts ed25519, RSA and ECDSA keys)`);
    }
    return line;
}
/**
 * Push the user's own public key to an instance with EC2 Instance Connect SendSSHPublicKey: sshd on
 * the instance accepts it for `user` for 60 seconds, long enough for the login that follows.
 */
async function pushPublicKey(opts) {
    const { instanceId, user, aws } = opts;
    if (!/^i-[0-9a-f]+$/.test(instanceId)) {
        throw new errors/* UserError */.yo(`--push-key needs an EC2 instance (i-...); ${instanceId} is not one (EC2 Instance Connect serves only EC2 instances)`);
    }
    const client = new dist_cjs/* EC2InstanceConnectClient */.VJ({
        region: aws.region,
        credentials: aws.credentials,
        ...(0,proxy_agent/* sdkProxyConfig */.L)()
    });
    try {
        await client.send(new dist_cjs/* SendSSHPublicKeyCommand */.iV({
            InstanceId: instanceId,
            InstanceOSUser: user,
            SSHPublicKey: opts.publicKey,
            ...(opts.availabilityZone ? { AvailabilityZone: opts.availabilityZone } : {})
        }));
    }
    catch (err) {
        throw (0,instance_key.pushErrorToUserError)(err, { instanceId, user, region: aws.region });
    }
    finally {
        client.destroy();
    }
    opts.logger.info(`pushed your public key to ${instanceId} for user ${user} (valid 60 s)`);
}

;// CONCATENATED MODULE: ./build/action/cli/proxy.js










/**
 * `ec2-push proxy <instance> [port]`: an OpenSSH ProxyCommand. Opens one tunnel (ssm, eice, or what
 * auto picks) and copies bytes between it and stdin/stdout; nothing else ever goes to stdout. Ends
 * when either side closes or on SIGINT/SIGTERM/SIGHUP (ssh sends SIGHUP to its proxy when it exits),
 * and closes the tunnel on every path, so no Session Manager session is left open.
 */
const FLAGS = [
    ...aws_flags/* AWS_FLAGS */.E0,
    ...aws_flags/* TUNNEL_FLAGS */.ju,
    { name: 'port', kind: 'string' },
    { name: 'push-key', kind: 'string' },
    { name: 'user', kind: 'string' },
    { name: 'ssm-document', kind: 'string' }
];
const SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
/** After stdin ends, how long the tunnel may take to flush and close before we close it ourselves. */
const END_GRACE_MS = 5000;
async function proxyCommand(argv, io) {
    const args = (0,cli_args/* parseArgs */.Zy)(argv, FLAGS, 'proxy');
    if ((0,cli_args/* isSet */.vM)(args, 'help')) {
        io.out((0,help/* proxyHelp */.Yj)());
        return 0;
    }
    const [target, portArg, ...extra] = args.positionals;
    if (!target)
        throw new errors/* UserError */.yo('proxy needs the instance to reach: ec2-push proxy i-0123456789abcdef0 [port]');
    if (extra.length)
        throw new errors/* UserError */.yo(`proxy takes an instance and a port, got also '${extra.join(' ')}'`);
    const port = (0,cli_args/* last */.HV)(args, 'port') ?? portArg ?? '22';
    if (portArg && (0,cli_args/* last */.HV)(args, 'port') && portArg !== (0,cli_args/* last */.HV)(args, 'port')) {
        throw new errors/* UserError */.yo(`the port is given twice (${portArg} and --port ${(0,cli_args/* last */.HV)(args, 'port')}): give one`);
    }
    const pushKeyFile = (0,cli_args/* last */.HV)(args, 'push-key');
    const user = (0,cli_args/* last */.HV)(args, 'user');
    if (pushKeyFile && !user) {
        throw new errors/* UserError */.yo('--push-key needs --user: the OS user on the instance the key is for (ssh config: --user %r)');
    }
    const logger = (0,progress/* cliLogger */.$)(io, {
        debug: (0,cli_args/* isSet */.vM)(args, 'debug'),
        quiet: !(0,cli_args/* isSet */.vM)(args, 'verbose') && !(0,cli_args/* isSet */.vM)(args, 'debug'),
        tty: false
    });
    const mode = (0,cli_args/* last */.HV)(args, 'mode') ?? 'auto';
    if (mode === 'nlb') {
        throw new errors/* UserError */.yo("proxy reaches instances through ssm or eice (--mode ssm|eice|auto); for an NLB, point ssh at the load balancer's address directly");
    }
    const awsFlags = await (0,aws_flags/* awsInputsOf */.A)(args);
    if (!awsFlags.inputs['aws-region'])
        throw new errors/* UserError */.yo(aws_env/* NO_REGION */.tR);
    const values = {
        ...awsFlags.inputs,
        mode,
        targets: target,
        port,
        user: user ?? '',
        'eice-endpoint-id': (0,cli_args/* last */.HV)(args, 'eice-endpoint-id') ?? '',
        'ssm-document': (0,cli_args/* last */.HV)(args, 'ssm-document') ?? '',
        // Required by the deploy schema, unused here.
        files: '*',
        'remote-path': '.'
    };
    const config = (0,action_config/* buildConfig */.fD)(name => values[name] ?? '');
    const publicKey = pushKeyFile ? await readPublicKeyFile(pushKeyFile) : undefined;
    const stop = new AbortController();
    let stoppedBy;
    const onSignal = (sig) => () => {
        stoppedBy ??= sig;
        stop.abort();
    };
    // Installed for the rest of the process: a late signal (ssh sends SIGHUP as it exits) must not kill
    // the process while the tunnel is still terminating its session.
    for (const s of Object.keys(SIGNALS))
        process.on(s, onSignal(s));
    let resolved;
    try {
        let awsContext;
        const aws = () => (awsContext ??= (0,credentials.resolveAwsContext)(config.aws, logger, awsFlags.options));
        resolved = await oneTarget(config, logger, aws);
        if (stop.signal.aborted)
            return SIGNALS[stoppedBy];
        if (publicKey) {
            await pushPublicKey({
                instanceId: resolved.instanceId ?? target,
                availabilityZone: resolved.availabilityZone,
                user: user,
                publicKey,
                aws: await aws(),
                logger
            });
        }
        logger.info(`ec2-push proxy: opening ${resolved.tunnel.description}`);
        let stream;
        try {
            stream = await resolved.tunnel.open(stop.signal);
        }
        catch (err) {
            if (stop.signal.aborted)
                return SIGNALS[stoppedBy];
            throw err;
        }
        const failure = await pipeUntilClosed(stream, io, stop.signal);
        if (stoppedBy)
            return SIGNALS[stoppedBy];
        if (failure) {
            io.err(`ec2-push: the tunnel to ${resolved.label} failed: ${failure}`);
            return 1;
        }
        return 0;
    }
    finally {
        await resolved?.tunnel
            .close()
            .catch(err => logger.warning(`could not close the tunnel: ${(0,errors/* errorMessage */.gJ)(err)}`));
        io.stdin.destroy();
    }
}
/** The one instance the proxy serves: never a host (ssh reaches those itself). */
async function oneTarget(config, logger, aws) {
    const target = await (0,tunnel/* resolveOneTarget */.SG)(config, { logger, aws }, 'proxy');
    if (target.mode === 'nlb') {
        await target.tunnel.close();
        throw new errors/* UserError */.yo(`proxy reaches instances by id (i-...), not host names; ssh to '${target.label}' directly`);
    }
    return target;
}
/**
 * Copy stdin -> tunnel and tunnel -> stdout with back-pressure until the tunnel closes, stdout goes
 * away, or `signal` fires. stdin's end half-closes the tunnel (which then flushes and closes).
 * Resolves with the tunnel's error message, if it failed.
 */
function pipeUntilClosed(stream, io, signal) {
    const { stdin, stdout } = io;
    return new Promise(resolve => {
        let settled = false;
        let grace;
        const finish = (failure) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(grace);
            signal.removeEventListener('abort', onAbort);
            stdin.off('data', onStdin);
            stdin.pause();
            stream.off('data', onTunnel);
            resolve(failure);
        };
        const onAbort = () => finish();
        const onTunnel = (chunk) => {
            if (!stdout.write(chunk)) {
                stream.pause();
                stdout.once('drain', () => stream.resume());
            }
        };
        const onStdin = (chunk) => {
            if (!stream.write(chunk)) {
                stdin.pause();
                stream.once('drain', () => stdin.resume());
            }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        stream.on('data', onTunnel);
        stream.once('end', () => finish());
        stream.once('close', () => finish());
        stream.on('error', err => finish((0,errors/* errorMessage */.gJ)(err)));
        stdout.on('error', () => finish()); // EPIPE: the client went away
        stdin.on('data', onStdin);
        stdin.once('end', () => {
            stream.end();
            grace = setTimeout(() => finish(), END_GRACE_MS);
        });
        stdin.on('error', () => finish());
        if (signal.aborted)
            finish();
    });
}


/***/ })

};
