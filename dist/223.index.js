export const id = 223;
export const ids = [223];
export const modules = {

/***/ 2223:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   e: () => (/* binding */ currentCredentials),
/* harmony export */   resolveAwsContext: () => (/* binding */ resolveAwsContext)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1695);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6932);
/* harmony import */ var _util_retry_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(2046);
/* harmony import */ var _net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1442);




/** STS errors worth another try: throttling, the provider's key fetch failing, server side trouble. */
const RETRYABLE_STS_CODES = new Set([
    'Throttling',
    'ThrottlingException',
    'RequestLimitExceeded',
    'TooManyRequestsException',
    'IDPCommunicationError',
    'InternalFailure',
    'ServiceUnavailable'
]);
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/.+$/;
async function resolveAwsContext(aws, logger, options = {}) {
    const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '';
    if (!region) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo('no AWS region: set the aws-region input (or AWS_REGION in the environment)');
    }
    if (!aws.roleToAssume) {
        if (!aws.allowedAccountIds.length)
            return { region, credentials: undefined };
        const accountId = await defaultChainAccount(region);
        checkAllowedAccount(aws, accountId, 'the credentials in the environment');
        return { region, credentials: undefined, accountId };
    }
    if (!ROLE_ARN.test(aws.roleToAssume)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`role-to-assume must be a role ARN such as arn:aws:iam::123456789012:role/deploy (got '${aws.roleToAssume}')`);
    }
    const getIdToken = options.getIdToken ?? actionsIdTokenGetter();
    const role = new AssumedRole(aws, region, logger, getIdToken, options);
    const first = await role.assume();
    logger.info(`Assumed ${aws.roleToAssume} (account ${first.accountId}); credentials valid until ${iso(first.expiration)}`);
    return { region, credentials: role.provider, accountId: first.accountId };
}
const defaultChains = new WeakMap();
/**
 * The credentials to sign with right now, for code that signs by itself (the EICE presigned URL):
 * the assumed role's (refreshed when due), or the SDK default chain's when `credentials` is undefined.
 */
async function currentCredentials(ctx) {
    if (ctx.credentials)
        return ctx.credentials();
    let chain = defaultChains.get(ctx);
    if (!chain) {
        // A client's resolved config holds the SDK's memoized default provider chain.
        const provider = new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_2__/* .STSClient */ .iM({ region: ctx.region, ...(0,_net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_1__/* .sdkProxyConfig */ .L)() }).config.credentials;
        chain = () => provider();
        defaultChains.set(ctx, chain);
    }
    return chain();
}
/** core.getIDToken, or a UserError when the job may not request tokens. */
function actionsIdTokenGetter() {
    if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo('role-to-assume needs a GitHub OIDC token but this job may not request one (ACTIONS_ID_TOKEN_REQUEST_URL is not set): add \'permissions: id-token: write\' to the job, i.e. the two lines "permissions:" and "  id-token: write" (a permissions block replaces the defaults, so also list e.g. "contents: read" if the job checks out code)');
    }
    return async (audience) => {
        // Loaded only here, so the engine stays usable from the CLI without the Actions runtime.
        const core = await Promise.resolve(/* import() */).then(__webpack_require__.bind(__webpack_require__, 4116));
        return core.getIDToken(audience);
    };
}
/** One role session, re-assumed (fresh OIDC token + AssumeRoleWithWebIdentity) when it nears expiry. */
class AssumedRole {
    aws;
    logger;
    getIdToken;
    options;
    current;
    obtainedAt = 0;
    pending;
    sts;
    constructor(aws, region, logger, getIdToken, options) {
        this.aws = aws;
        this.logger = logger;
        this.getIdToken = getIdToken;
        this.options = options;
        // Our own retry loop below decides about throttling, so the client makes one attempt per call.
        this.sts = new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_2__/* .STSClient */ .iM({ region, maxAttempts: 1, ...(0,_net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_1__/* .sdkProxyConfig */ .L)() });
    }
    /** The provider handed to every AWS client; the SDK calls it again as expiry approaches. */
    provider = async () => {
        const current = this.current;
        if (current && !this.needsRefresh(current))
            return current;
        try {
            this.pending ??= this.assume().finally(() => (this.pending = undefined));
            const fresh = await this.pending;
            this.logger.info(`Refreshed the credentials of ${this.aws.roleToAssume}; valid until ${iso(fresh.expiration)}`);
            return fresh;
        }
        catch (err) {
            // Keep going on the old credentials while they last; the next call tries again.
            if (current && Date.now() < current.expiration.getTime()) {
                this.logger.warning(`could not refresh the AWS credentials yet (${(0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(err)}); using the current ones`);
                return current;
            }
            throw err;
        }
    };
    needsRefresh(c) {
        const lifetime = c.expiration.getTime() - this.obtainedAt;
        const margin = Math.min(this.options.refreshMarginMs ?? 5 * 60_000, lifetime / 4);
        return Date.now() >= c.expiration.getTime() - margin;
    }
    async assume() {
        const { aws, logger } = this;
        const audience = aws.audience;
        let token;
        try {
            token = await this.getIdToken(audience);
        }
        catch (err) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_(`could not get a GitHub OIDC token for audience '${audience}': ${oneLine(err)}`, { cause: err });
        }
        logger.setSecret(token);
        const claims = tokenClaims(token);
        logger.debug(`OIDC token: sub '${claims.sub}', aud '${claims.aud}'`);
        const obtainedAt = Date.now();
        const out = await (0,_util_retry_js__WEBPACK_IMPORTED_MODULE_3__/* .retry */ .L5)(() => this.sts.send(new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_2__/* .AssumeRoleWithWebIdentityCommand */ .WH({
            RoleArn: aws.roleToAssume,
            RoleSessionName: aws.roleSessionName,
            WebIdentityToken: token,
            DurationSeconds: aws.roleDurationSeconds
        })), {
            attempts: this.options.stsAttempts ?? 6,
            baseDelayMs: this.options.stsBaseDelayMs ?? 500,
            maxDelayMs: 10_000,
            shouldRetry: isRetryableStsError,
            onRetry: (err, attempt, delay) => logger.info(`STS AssumeRoleWithWebIdentity: ${stsErrorCode(err)}; attempt ${attempt + 1} in ${delay} ms`)
        }).catch(err => {
            throw explainStsError(err, aws, claims);
        });
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_('STS AssumeRoleWithWebIdentity returned no credentials');
        }
        for (const secret of [c.AccessKeyId, c.SecretAccessKey, c.SessionToken])
            logger.setSecret(secret);
        const accountId = /^arn:[^:]+:sts::(\d{12}):/.exec(out.AssumedRoleUser?.Arn ?? '')?.[1] ??
            ROLE_ARN.exec(aws.roleToAssume)[1];
        checkAllowedAccount(aws, accountId, `the credentials of ${aws.roleToAssume}`);
        const assumed = {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
            expiration: c.Expiration,
            accountId
        };
        this.current = assumed;
        this.obtainedAt = obtainedAt;
        return assumed;
    }
}
/** `sub` and `aud` from the token's payload, for error messages (the token itself is never shown). */
function tokenClaims(token) {
    try {
        const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
        const aud = Array.isArray(payload.aud) ? payload.aud.join(',') : payload.aud;
        return { sub: String(payload.sub ?? '?'), aud: String(aud ?? '?') };
    }
    catch {
        return { sub: '?', aud: '?' };
    }
}
function stsErrorCode(err) {
    const e = err;
    return e?.Code ?? e?.name ?? 'Error';
}
function isRetryableStsError(err) {
    const e = err;
    if (RETRYABLE_STS_CODES.has(stsErrorCode(err)))
        return true;
    if (e?.$retryable)
        return true;
    const status = e?.$metadata?.httpStatusCode;
    if (status !== undefined)
        return status >= 500;
    // No HTTP answer at all: connection refused/reset, timeouts.
    return typeof e?.code === 'string' || stsErrorCode(err) === 'TimeoutError';
}
function explainStsError(err, aws, claims) {
    const code = stsErrorCode(err);
    const message = oneLine(err);
    const presented = `token sub '${claims.sub}', aud '${claims.aud}'`;
    switch (code) {
        case 'AccessDenied':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS refused to let this workflow assume ${aws.roleToAssume} (AccessDenied; ${presented}): the role's trust policy must allow this sub (condition token.actions.githubusercontent.com:sub) and aud`);
        case 'InvalidIdentityToken':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS rejected the OIDC token for ${aws.roleToAssume}: ${message} (${presented}); check that the account has an IAM OIDC provider for token.actions.githubusercontent.com whose audiences include the 'audience' input (default sts.amazonaws.com)`);
        case 'ExpiredTokenException':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS says the OIDC token had expired when assuming ${aws.roleToAssume}: ${message}; check the runner's clock`);
        case 'IDPRejectedClaim':
        case 'ValidationError':
        case 'MalformedPolicyDocument':
        case 'RegionDisabledException':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS refused to assume ${aws.roleToAssume} (${code}: ${message})`);
        default:
            if (isRetryableStsError(err)) {
                return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_(`STS AssumeRoleWithWebIdentity for ${aws.roleToAssume} kept failing: ${code}: ${message}`, {
                    cause: err
                });
            }
            return new Error(`STS AssumeRoleWithWebIdentity for ${aws.roleToAssume} failed: ${code}: ${message}`, {
                cause: err
            });
    }
}
function checkAllowedAccount(aws, accountId, source) {
    if (aws.allowedAccountIds.length && !aws.allowedAccountIds.includes(accountId)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`${source} belong to AWS account ${accountId}, which is not in allowed-account-ids (${aws.allowedAccountIds.join(', ')}); nothing was deployed`);
    }
}
/** The account of the SDK's default credentials, from STS GetCallerIdentity. */
async function defaultChainAccount(region) {
    const sts = new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_2__/* .STSClient */ .iM({ region, ...(0,_net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_1__/* .sdkProxyConfig */ .L)() });
    try {
        const out = await sts.send(new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_2__/* .GetCallerIdentityCommand */ .zI({}));
        if (!out.Account)
            throw new Error('GetCallerIdentity returned no account');
        return out.Account;
    }
    catch (err) {
        if (err?.name === 'CredentialsProviderError') {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo('no AWS credentials found: set role-to-assume, or configure credentials before this step (e.g. with aws-actions/configure-aws-credentials)');
        }
        throw new Error(`could not check the AWS account of the credentials (STS GetCallerIdentity): ${oneLine(err)}`, { cause: err });
    }
    finally {
        sts.destroy();
    }
}
function oneLine(err) {
    return (0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(err)
        .replace(/\s*\n\s*/g, ' ')
        .trim();
}
function iso(d) {
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
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
