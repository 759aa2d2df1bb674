export const id = 97;
export const ids = [97];
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

/***/ 1442:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  L: () => (/* binding */ sdkProxyConfig),
  nz: () => (/* binding */ webSocketAgent)
});

// UNUSED EXPORTS: ProxyError, ProxyHttpAgent, ProxyHttpsAgent, connectThroughProxy

// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(7067);
// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(4708);
// EXTERNAL MODULE: external "node:tls"
var external_node_tls_ = __webpack_require__(1692);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(7030);
;// CONCATENATED MODULE: ./build/action/net/proxy-env.js


function envValue(env, name) {
    for (const n of [name.toLowerCase(), name.toUpperCase()]) {
        const value = env[n]?.trim();
        if (value)
            return { name: n, value };
    }
    return undefined;
}
/** The proxy URL with its password (if any) masked: what every message names the proxy by. */
function maskedProxyUrl(url) {
    const auth = url.username ? `${url.username}${url.password ? ':***' : ''}@` : '';
    return `${url.protocol}//${auth}${url.host}`;
}
/** Parse a proxy variable's value as curl does: no scheme means http://; no port means 1080 (443 for https://). */
function parseProxyUrl(value, variable) {
    const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
    let url;
    try {
        url = new URL(text);
    }
    catch {
        throw new errors/* UserError */.yo(`${variable} is not a proxy URL ('${value.replace(/:[^:@/]*@/, ':***@')}'): use http://host:port`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new errors/* UserError */.yo(`${variable} names a ${url.protocol.slice(0, -1)} proxy (${maskedProxyUrl(url)}); only http:// and https:// proxies are supported`);
    }
    const portGiven = /:\d+(\/|$)/.test(text.replace(/^[a-z]+:\/\/([^@/]*@)?/i, ''));
    if (url.protocol === 'http:' && !portGiven)
        url.port = '1080';
    return url;
}
/** The proxy's port (URL drops a scheme's default port from `port`). */
function proxyPort(url) {
    return Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
}
/** The proxy for a connection to host:port over TLS (`secure`) or not, or undefined to go direct. */
function proxyFor(host, port, secure, env = process.env) {
    const found = envValue(env, secure ? 'https_proxy' : 'http_proxy');
    if (!found)
        return undefined;
    if (bypassesProxy(host, port, envValue(env, 'no_proxy')?.value ?? ''))
        return undefined;
    const url = parseProxyUrl(found.value, found.name);
    return { url, label: `${maskedProxyUrl(url)} (${found.name})` };
}
/** True when any proxy variable is set (so connections need the proxy-aware agents at all). */
function anyProxyConfigured(env = process.env) {
    return envValue(env, 'https_proxy') !== undefined || envValue(env, 'http_proxy') !== undefined;
}
/**
 * curl's NO_PROXY matching: entries separated by commas (or spaces); `*` alone matches every host; a
 * name matches itself and its subdomains (`example.com` and `.example.com` both match example.com and
 * www.example.com, not notexample.com); an IP address matches that address, a CIDR (10.0.0.0/8) its
 * range; names compare without case and without a trailing dot. As in Go and @actions/http-client, an
 * entry with a port (`host:8443`, `[::1]:8443`) matches only connections to that port.
 */
function bypassesProxy(host, port, noProxy) {
    const target = normaliseHost(host);
    for (const raw of noProxy.split(/[\s,]+/)) {
        if (!raw)
            continue;
        if (raw === '*')
            return true;
        const { name, port: entryPort } = splitEntry(raw);
        if (entryPort !== undefined && entryPort !== port)
            continue;
        if (!name)
            continue;
        if (name.includes('/')) {
            if (external_node_net_.isIP(target) && inCidr(target, name))
                return true;
            continue;
        }
        if (external_node_net_.isIP(name) || external_node_net_.isIP(target)) {
            if (external_node_net_.isIP(name) && external_node_net_.isIP(target) && sameAddress(name, target))
                return true;
            continue;
        }
        const domain = name.replace(/^\*?\./, '');
        if (target === domain || target.endsWith(`.${domain}`))
            return true;
    }
    return false;
}
function normaliseHost(host) {
    return host
        .replace(/^\[(.*)\]$/, '$1')
        .replace(/\.$/, '')
        .toLowerCase();
}
function splitEntry(entry) {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed)
        return { name: bracketed[1].toLowerCase(), port: bracketed[2] ? Number(bracketed[2]) : undefined };
    // A bare IPv6 address (two colons or more) carries no port.
    if ((entry.match(/:/g) ?? []).length >= 2)
        return { name: normaliseHost(entry) };
    const withPort = /^(.*):(\d+)$/.exec(entry);
    if (withPort)
        return { name: normaliseHost(withPort[1]), port: Number(withPort[2]) };
    return { name: normaliseHost(entry) };
}
/** CIDR ranges and single addresses, compared by Node's BlockList (IPv4 and IPv6 alike). */
function inCidr(address, cidr) {
    const [base, bitsText] = cidr.split('/');
    const family = external_node_net_.isIPv4(base) ? 'ipv4' : external_node_net_.isIPv6(base) ? 'ipv6' : undefined;
    if (!family || !/^\d+$/.test(bitsText) || Number(bitsText) > (family === 'ipv4' ? 32 : 128))
        return false;
    const list = new external_node_net_.BlockList();
    list.addSubnet(base, Number(bitsText), family);
    return list.check(address, external_node_net_.isIPv4(address) ? 'ipv4' : 'ipv6');
}
function sameAddress(a, b) {
    return inCidr(b, `${a}/${external_node_net_.isIPv4(a) ? 32 : 128}`);
}

;// CONCATENATED MODULE: ./build/action/net/proxy-agent.js





/**
 * HTTP agents that reach their hosts through the proxy the environment names (proxy-env.ts), by an
 * HTTP CONNECT tunnel, and go direct where NO_PROXY says so or no proxy is set. The AWS SDK clients
 * get them through their request handler, the Session Manager and EICE WebSockets through ws's
 * `agent` option. Node's own http and https, the only dependencies allowed here, have no proxy
 * support, and the proxy-agent packages are not among the allowed dependencies.
 */
/** How long the proxy may take to answer CONNECT before the attempt fails. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Open a CONNECT tunnel to host:port through the proxy; resolves with the raw socket. */
function connectThroughProxy(proxy, host, port) {
    const { url } = proxy;
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const headers = { Host: authority };
    if (url.username) {
        const user = decodeURIComponent(url.username);
        const password = decodeURIComponent(url.password);
        headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    const request = url.protocol === 'https:' ? external_node_https_.request : external_node_http_.request;
    return new Promise((resolve, reject) => {
        const req = request({
            host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: proxyPort(url),
            method: 'CONNECT',
            path: authority,
            headers,
            agent: false,
            timeout: CONNECT_TIMEOUT_MS,
            ...(url.protocol === 'https:' ? { servername: url.hostname } : {})
        });
        req.once('connect', (res, socket, head) => {
            if (res.statusCode === 200) {
                if (head.length)
                    socket.unshift(head);
                resolve(socket);
                return;
            }
            socket.destroy();
            reject(refused(proxy, authority, res.statusCode ?? 0, res.statusMessage ?? ''));
        });
        // A proxy that answers CONNECT with something other than a CONNECT reply (an HTTP server).
        req.once('response', res => {
            res.resume();
            reject(refused(proxy, authority, res.statusCode ?? 0, res.statusMessage ?? ''));
        });
        req.once('timeout', () => req.destroy(new Error(`no answer to CONNECT within ${CONNECT_TIMEOUT_MS / 1000} s`)));
        req.once('error', err => reject(new ProxyError(`cannot reach the proxy ${proxy.label}: ${err.message}: check the proxy variable and that the proxy runs`)));
        req.end();
    });
}
/** A proxy failure: one line naming the proxy (password masked) and what to check. */
class ProxyError extends errors/* UserError */.yo {
    constructor(message) {
        super(message);
        this.name = 'ProxyError';
    }
}
function refused(proxy, authority, status, text) {
    const what = `${status}${text ? ` ${text}` : ''}`;
    // 407 is the standard answer; tinyproxy answers a CONNECT without valid credentials with 401.
    if (status === 407 || status === 401) {
        return new ProxyError(proxy.url.username
            ? `the proxy ${proxy.label} refused the credentials in its URL (${what}) for CONNECT to ${authority}: check the user and password (URL-encoded) in the proxy variable`
            : `the proxy ${proxy.label} needs credentials (${what}) for CONNECT to ${authority}: put them in the proxy variable (http://user:password@host:port) or list the host in NO_PROXY`);
    }
    return new ProxyError(`the proxy ${proxy.label} refused CONNECT to ${authority} (${what}): allow that host and port on the proxy, or list the host in NO_PROXY`);
}
/** Hands a failure to the agent's callback (its type wants a stream even then). */
const failWith = (cb, err) => cb?.(err, undefined);
/** http: (and ws:) through HTTP_PROXY by CONNECT, or direct. */
class ProxyHttpAgent extends external_node_http_.Agent {
    createConnection(options, cb) {
        const host = options.host ?? options.hostname ?? 'localhost';
        const port = Number(options.port ?? 80);
        const proxy = proxyFor(host, port, false);
        if (!proxy)
            return super.createConnection(options);
        connectThroughProxy(proxy, host, port).then(socket => cb?.(null, socket), err => failWith(cb, err));
        return undefined;
    }
}
/** https: (and wss:) through HTTPS_PROXY by CONNECT then TLS to the host itself, or direct. */
class ProxyHttpsAgent extends external_node_https_.Agent {
    createConnection(options, cb) {
        const host = options.host ?? options.hostname ?? 'localhost';
        const port = Number(options.port ?? 443);
        const proxy = proxyFor(host, port, true);
        if (!proxy)
            return super.createConnection(options);
        connectThroughProxy(proxy, host, port).then(socket => {
            const secure = external_node_tls_.connect({ ...options, socket });
            cb?.(null, secure);
        }, err => failWith(cb, err));
        return undefined;
    }
}
/**
 * Extra AWS SDK client configuration: the proxy-aware agents when a proxy variable is set (keep-alive,
 * as the SDK's own agents), nothing otherwise, so runs without a proxy are unchanged. New agents for
 * each client: a client's destroy() destroys its agents' sockets, in-flight requests included.
 */
function sdkProxyConfig() {
    if (!anyProxyConfigured())
        return {};
    return {
        requestHandler: {
            httpAgent: new ProxyHttpAgent({ keepAlive: true, maxSockets: 50 }),
            httpsAgent: new ProxyHttpsAgent({ keepAlive: true, maxSockets: 50 })
        }
    };
}
/** ws's `agent` option for a WebSocket to `url`: a proxy-aware agent when a proxy variable is set. */
function webSocketAgent(url) {
    if (!anyProxyConfigured())
        return undefined;
    return new URL(url).protocol === 'wss:' ? new ProxyHttpsAgent() : new ProxyHttpAgent();
}


/***/ })

};
