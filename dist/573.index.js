export const id = 573;
export const ids = [573];
export const modules = {

/***/ 1043:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   J6: () => (/* binding */ awsErrorCode),
/* harmony export */   X_: () => (/* binding */ awsErrorMessage),
/* harmony export */   Y0: () => (/* binding */ MAX_PAGES),
/* harmony export */   pI: () => (/* binding */ ec2ClientFor)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5193);
/* harmony import */ var _net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1442);


const clients = new WeakMap();
/**
 * One EC2 client per AWS context (the SDK honours AWS_ENDPOINT_URL_EC2, which points it at the
 * simulator in tests and the sandbox). Its credential provider also signs the EICE tunnel URLs.
 */
function ec2ClientFor(aws) {
    let client = clients.get(aws);
    if (!client) {
        client = new _aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_1__/* .EC2Client */ .gu5({
            region: aws.region || undefined,
            credentials: aws.credentials,
            ...(0,_net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_0__/* .sdkProxyConfig */ .L)()
        });
        clients.set(aws, client);
    }
    return client;
}
/** The SDK's error code (`name`) of a failed call, or '' for non-service errors. */
function awsErrorCode(err) {
    if (err && typeof err === 'object') {
        const e = err;
        for (const v of [e.Code, e.name, e.code])
            if (typeof v === 'string' && v)
                return v;
    }
    return '';
}
/** The first sentence-sized piece of an AWS error message (IAM messages run long). */
function awsErrorMessage(err) {
    const m = err instanceof Error ? err.message : String(err);
    return m.replace(/\s+/g, ' ').trim();
}
/** Bound on the pages one EC2 Describe* lookup reads (1000 instances, or many endpoints, a page). */
const MAX_PAGES = 20;


/***/ }),

/***/ 8513:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Eg: () => (/* binding */ describeTargets),
/* harmony export */   instanceExistence: () => (/* binding */ instanceExistence),
/* harmony export */   notRunning: () => (/* binding */ notRunning)
/* harmony export */ });
/* unused harmony exports toInfo, NoSuchInstanceError, notFound, mapDescribeError */
/* harmony import */ var _aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5193);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6932);
/* harmony import */ var _ec2_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1043);



/**
 * Look up the instance targets: each id must exist and be running; each `tag:Key=Value` expands to
 * every running instance carrying that tag (at least one). Host specs need no lookup and are skipped.
 * Duplicates (an instance named twice) are returned once, in first-mention order.
 */
async function describeTargets(specs, aws) {
    const out = [];
    const seen = new Set();
    const add = (i) => {
        if (!seen.has(i.instanceId)) {
            seen.add(i.instanceId);
            out.push(i);
        }
    };
    const idSpecs = specs.filter((s) => s.kind === 'instance');
    const hybrid = idSpecs.find(s => s.instanceId.startsWith('mi-'));
    if (hybrid) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`${hybrid.instanceId} is a Systems Manager hybrid node (mi-), not an EC2 instance: only mode 'ssm' can reach it, and it has no EC2 details to look up.`);
    }
    if (idSpecs.length) {
        const ids = [...new Set(idSpecs.map(s => s.instanceId))];
        const found = await describe(aws, { InstanceIds: ids }, `instance ${ids.join(', ')}`);
        const byId = new Map(found.map(i => [i.InstanceId, i]));
        for (const spec of specs) {
            if (spec.kind === 'instance') {
                const inst = byId.get(spec.instanceId);
                if (!inst)
                    throw notFound([spec.instanceId], aws.region);
                const info = toInfo(inst, spec.label);
                const stopped = notRunning(info);
                if (stopped)
                    throw stopped;
                add(info);
            }
            else if (spec.kind === 'tag') {
                for (const info of await describeTag(spec, aws))
                    add(info);
            }
        }
        return out;
    }
    for (const spec of specs)
        if (spec.kind === 'tag')
            for (const info of await describeTag(spec, aws))
                add(info);
    return out;
}
async function describeTag(spec, aws) {
    const all = (await describe(aws, { Filters: [{ Name: `tag:${spec.key}`, Values: [spec.value] }] }, spec.label)).map(i => toInfo(i, spec.label));
    const running = all.filter(i => i.state === 'running');
    if (running.length)
        return running;
    const where = aws.region ? ` in ${aws.region}` : '';
    if (!all.length) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`No instance${where} has the tag ${spec.key}=${spec.value} (target '${spec.label}'): check the tag key and value (both case-sensitive) and the region.`);
    }
    const states = all
        .slice(0, 5)
        .map(i => `${label(i)} is ${i.state}`)
        .join(', ');
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`No running instance has the tag ${spec.key}=${spec.value}${where} (${states}${all.length > 5 ? ', ...' : ''}): start one, or fix the target '${spec.label}'.`);
}
async function describe(aws, input, what) {
    const instances = [];
    let pages = 0;
    try {
        for await (const page of (0,_aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_2__/* .paginateDescribeInstances */ .H0T)({ client: (0,_ec2_js__WEBPACK_IMPORTED_MODULE_1__/* .ec2ClientFor */ .pI)(aws) }, input)) {
            for (const r of page.Reservations ?? [])
                instances.push(...(r.Instances ?? []));
            if (++pages >= _ec2_js__WEBPACK_IMPORTED_MODULE_1__/* .MAX_PAGES */ .Y0)
                break;
        }
    }
    catch (err) {
        throw mapDescribeError(err, input.InstanceIds ?? [], aws.region, what);
    }
    return instances;
}
/** What the tunnels need from one DescribeInstances item (`target`: the spec label that selected it). */
function toInfo(i, target) {
    const name = i.Tags?.find(t => t.Key === 'Name')?.Value;
    return {
        instanceId: i.InstanceId ?? '',
        state: i.State?.Name ?? 'unknown',
        privateIpAddress: i.PrivateIpAddress || undefined,
        ipv6Address: i.Ipv6Address || undefined,
        vpcId: i.VpcId ?? '',
        subnetId: i.SubnetId ?? '',
        securityGroupIds: (i.SecurityGroups ?? []).map(g => g.GroupId ?? '').filter(Boolean),
        name: name || undefined,
        availabilityZone: i.Placement?.AvailabilityZone,
        target
    };
}
function label(i) {
    return i.name ? `${i.instanceId} (${i.name})` : i.instanceId;
}
function notRunningMessage(i) {
    const who = `Instance ${label(i)}`;
    switch (i.state) {
        case 'stopped':
            return `${who} is stopped: start it (aws ec2 start-instances --instance-ids ${i.instanceId}) and run the deploy again.`;
        case 'stopping':
            return `${who} is stopping: start it again once it has stopped, then run the deploy again.`;
        case 'pending':
            return `${who} is still starting (pending): wait until it is running, then run the deploy again.`;
        case 'shutting-down':
        case 'terminated':
            return `${who} is ${i.state}: it can no longer be deployed to; remove it from 'targets'.`;
        default:
            return `${who} is ${i.state}, not running: deploys need a running instance.`;
    }
}
/** EC2 says the instance does not exist (a wrong id, Region or account): no retry or other path helps. */
class NoSuchInstanceError extends _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo {
}
/** The one line for instance ids that EC2 says do not exist. */
function notFound(ids, region) {
    const where = region ? ` in ${region}` : '';
    const what = ids.length > 1 ? `Instances ${ids.join(', ')} do not exist` : `Instance ${ids.join(', ')} does not exist`;
    return new NoSuchInstanceError(`${what}${where} for these credentials: check the instance id, the region (aws-region; instances are regional) and the AWS account the credentials belong to.`);
}
/**
 * What EC2 says of one instance id: it does not exist (`missing`), or it exists (with its state), or
 * the question could not be answered (`unknown`, with why: a permission, say).
 */
async function instanceExistence(instanceId, aws) {
    try {
        const found = await describe(aws, { InstanceIds: [instanceId] }, `instance ${instanceId}`);
        const inst = found.find(i => i.InstanceId === instanceId);
        return inst ? { info: toInfo(inst, instanceId) } : { missing: notFound([instanceId], aws.region) };
    }
    catch (err) {
        if (err instanceof NoSuchInstanceError)
            return { missing: err };
        return { unknown: err instanceof Error ? err.message : String(err) };
    }
}
/** Why an instance that exists cannot be deployed to, or undefined when it is running. */
function notRunning(info) {
    return info.state === 'running' ? undefined : new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(notRunningMessage(info));
}
/** Turn the SDK's failures into one-line errors that say which permission or input to fix. */
function mapDescribeError(err, ids, region, what) {
    if (err instanceof _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo)
        return err; // e.g. a proxy that refuses: its message names it
    const code = (0,_ec2_js__WEBPACK_IMPORTED_MODULE_1__/* .awsErrorCode */ .J6)(err);
    const msg = (0,_ec2_js__WEBPACK_IMPORTED_MODULE_1__/* .awsErrorMessage */ .X_)(err);
    switch (code) {
        case 'UnauthorizedOperation':
        case 'AccessDenied':
        case 'AccessDeniedException':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`The AWS credentials may not call ec2:DescribeInstances (${code}): allow "ec2:DescribeInstances" on resource "*" in the role's policy.`);
        case 'InvalidInstanceID.NotFound': {
            const listed = [...msg.matchAll(/i-[0-9a-f]+/g)].map(m => m[0]);
            return notFound(listed.length ? listed : ids, region);
        }
        case 'InvalidInstanceID.Malformed':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`EC2 rejected the instance id in ${what} as malformed (${msg}): instance ids look like i-0123456789abcdef0.`);
        case 'AuthFailure':
        case 'InvalidClientTokenId':
        case 'UnrecognizedClientException':
        case 'SignatureDoesNotMatch':
        case 'IncompleteSignature':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`EC2 did not accept the AWS credentials (${code}: ${msg}): check the credentials step (role-to-assume or the access keys).`);
        case 'RequestExpired':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`EC2 says the request has expired (${msg}): the runner's clock is probably wrong, or the session credentials expired.`);
        case 'CredentialsProviderError':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`No AWS credentials were found for ec2:DescribeInstances: set role-to-assume (OIDC) or run aws-actions/configure-aws-credentials first.`);
        case 'InvalidParameterValue':
        case 'InvalidParameterCombination':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`EC2 rejected the lookup of ${what} (${code}: ${msg}).`);
        default:
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_(`ec2:DescribeInstances for ${what} failed${code ? ` (${code})` : ''}: ${msg}`, { cause: err });
    }
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


/***/ }),

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

/***/ 6954:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  resolveInstanceTargets: () => (/* binding */ resolveInstanceTargets)
});

;// CONCATENATED MODULE: ./build/action/aws/auto-mode.js
/**
 * `mode: auto` for one target, as a pure decision over facts the caller gathered:
 * host names mean nlb; else eice when the instance's VPC has a usable EC2 Instance Connect Endpoint;
 * else ssm when DescribeInstanceInformation says the instance is managed and Online; else a one-line
 * error listing what was checked and what is missing.
 */
function endpointFinding(f, vpc) {
    if (!vpc)
        return 'EC2 Instance Connect Endpoint: not applicable (no VPC known for it)';
    if (f.endpointCheckError)
        return `EC2 Instance Connect Endpoint in ${vpc}: could not check (${f.endpointCheckError})`;
    if (f.usableEndpoint === undefined)
        return `EC2 Instance Connect Endpoint in ${vpc}: not checked`;
    return `EC2 Instance Connect Endpoint in ${vpc}: none usable (create one in that VPC, or set eice-endpoint-id)`;
}
function ssmFinding(f) {
    if (f.ssmCheckError)
        return `Systems Manager: could not check (${f.ssmCheckError})`;
    const s = f.ssmManagedOnline;
    if (!s)
        return 'Systems Manager: not checked';
    if (!s.managed) {
        return 'Systems Manager: not a managed node (run the SSM agent and give the instance a role with AmazonSSMManagedInstanceCore)';
    }
    return `Systems Manager: managed but its agent is ${s.pingStatus || 'not Online'} (start the SSM agent; it must reach the SSM endpoints)`;
}
function chooseMode(facts) {
    if (facts.isHost)
        return { mode: 'nlb', reason: 'the target is a host name' };
    const id = facts.instance?.instanceId;
    const label = facts.target ?? id ?? '(unknown target)';
    if (!id) {
        return {
            error: `mode: auto cannot choose a path for ${label}: it is neither a host name nor an instance that was found; check the target`
        };
    }
    const vpc = facts.instance?.vpcId;
    if (vpc && facts.usableEndpoint === true) {
        return {
            mode: 'eice',
            reason: `${facts.endpointId ? `endpoint ${facts.endpointId}` : 'an EC2 Instance Connect Endpoint'} serves ${vpc}`
        };
    }
    const ssm = facts.ssmManagedOnline;
    if (ssm?.managed && (ssm.pingStatus ?? '').toLowerCase() === 'online') {
        return { mode: 'ssm', reason: `${id} is managed by Systems Manager and Online` };
    }
    return {
        error: `mode: auto found no path to ${label === id ? id : `${label} (${id})`}: checked ${endpointFinding(facts, vpc)}; ` +
            `checked ${ssmFinding(facts)}; fix one of these, or set mode (and for nlb give a host name as the target)`
    };
}

// EXTERNAL MODULE: ./build/action/aws/instances.js
var aws_instances = __webpack_require__(8513);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ssm/dist-cjs/index.js
var dist_cjs = __webpack_require__(4736);
// EXTERNAL MODULE: ./build/action/aws/ec2.js
var ec2 = __webpack_require__(1043);
// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
;// CONCATENATED MODULE: ./build/action/aws/ssm-info.js



/** Is the instance a Session Manager managed node, and is its agent Online? (DescribeInstanceInformation) */
async function ssmManagedStatus(instanceId, aws) {
    const client = new dist_cjs/* SSMClient */.jBj({ region: aws.region, credentials: aws.credentials, ...(0,proxy_agent/* sdkProxyConfig */.L)() });
    try {
        const out = await client.send(new dist_cjs/* DescribeInstanceInformationCommand */.MXw({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
        const info = out.InstanceInformationList?.find(i => i.InstanceId === instanceId);
        if (!info)
            return { managed: false };
        return { managed: true, pingStatus: info.PingStatus, agentVersion: info.AgentVersion };
    }
    catch (err) {
        const code = (0,ec2/* awsErrorCode */.J6)(err);
        throw new Error(code === 'AccessDeniedException'
            ? 'AccessDenied on ssm:DescribeInstanceInformation'
            : `${code || 'error'}: ${(0,ec2/* awsErrorMessage */.X_)(err)}`);
    }
    finally {
        client.destroy();
    }
}

// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ec2/dist-cjs/index.js
var client_ec2_dist_cjs = __webpack_require__(5193);
;// CONCATENATED MODULE: ./build/action/tunnel/eice/endpoint.js



/** States in which an endpoint carries tunnels (AWS CLI >= 2.30.6: an endpoint being modified keeps serving). */
const USABLE_ENDPOINT_STATES = [
    'create-complete',
    'update-in-progress',
    'update-failed',
    'update-complete'
];
/**
 * Find the endpoint for an instance, as the AWS CLI does: the given id (in a usable state), else the
 * instance VPC's usable endpoints, preferring one in the instance's own subnet, else the first.
 */
async function findEndpoint(instance, aws, endpointId) {
    const states = { Name: 'state', Values: USABLE_ENDPOINT_STATES };
    if (endpointId) {
        const [first] = await listEndpoints(aws, { InstanceConnectEndpointIds: [endpointId], Filters: [states] }, endpointId, () => false);
        if (!first) {
            throw new errors/* UserError */.yo(`EC2 Instance Connect Endpoint ${endpointId} is not available (not found in ${aws.region || 'this region'} or not in state ${USABLE_ENDPOINT_STATES.join('/')}): check 'eice-endpoint-id' and the endpoint's state.`);
        }
        return toInfo(first);
    }
    const sameSubnet = (e) => e.SubnetId === instance.subnetId;
    const found = await listEndpoints(aws, { Filters: [states, { Name: 'vpc-id', Values: [instance.vpcId] }] }, instance.vpcId, sameSubnet);
    const chosen = found.find(sameSubnet) ?? found[0];
    if (!chosen) {
        throw new errors/* UserError */.yo(`No usable EC2 Instance Connect Endpoint in ${instance.vpcId} (the VPC of ${instance.instanceId}): create one in that VPC (aws ec2 create-instance-connect-endpoint --subnet-id ${instance.subnetId}), pass 'eice-endpoint-id', or use mode ssm.`);
    }
    return toInfo(chosen);
}
/** Page through DescribeInstanceConnectEndpoints, stopping early once `stop` matches an item. */
async function listEndpoints(aws, input, what, stop) {
    const out = [];
    let pages = 0;
    try {
        for await (const page of (0,client_ec2_dist_cjs/* paginateDescribeInstanceConnectEndpoints */.sas)({ client: (0,ec2/* ec2ClientFor */.pI)(aws) }, input)) {
            const items = page.InstanceConnectEndpoints ?? [];
            out.push(...items);
            if (items.some(stop) || ++pages >= ec2/* MAX_PAGES */.Y0)
                break;
        }
    }
    catch (err) {
        throw mapEndpointError(err, what);
    }
    return out;
}
function toInfo(e) {
    const fips = /^(1|true)$/i.test(process.env.AWS_USE_FIPS_ENDPOINT ?? '');
    const dnsName = fips ? e.FipsDnsName : e.DnsName;
    if (!dnsName) {
        throw new errors/* UserError */.yo(fips
            ? `EC2 Instance Connect Endpoint ${e.InstanceConnectEndpointId} has no FIPS DNS name, but AWS_USE_FIPS_ENDPOINT is set: unset it or use an endpoint in a FIPS Region.`
            : `EC2 Instance Connect Endpoint ${e.InstanceConnectEndpointId} has no DNS name yet: wait until it is create-complete.`);
    }
    const type = e.IpAddressType;
    return {
        endpointId: e.InstanceConnectEndpointId ?? '',
        arn: e.InstanceConnectEndpointArn,
        dnsName,
        state: e.State ?? '',
        vpcId: e.VpcId ?? '',
        subnetId: e.SubnetId ?? '',
        availabilityZone: e.AvailabilityZone,
        securityGroupIds: e.SecurityGroupIds ?? [],
        // Endpoints created before IPv6 support carry no type: they are IPv4.
        ipAddressType: type === 'dualstack' || type === 'ipv6' ? type : 'ipv4'
    };
}
/**
 * The address the endpoint connects to: private IPv4 first, IPv6 second (as the CLI), restricted to
 * what the endpoint's IP address type can reach.
 */
function targetAddress(instance, endpoint) {
    const v4ok = endpoint.ipAddressType !== 'ipv6';
    const v6ok = endpoint.ipAddressType !== 'ipv4';
    if (v4ok && instance.privateIpAddress)
        return instance.privateIpAddress;
    if (v6ok && instance.ipv6Address)
        return instance.ipv6Address;
    if (!instance.privateIpAddress && !instance.ipv6Address) {
        throw new errors/* UserError */.yo(`Instance ${instance.instanceId} has no private IPv4 or IPv6 address for the EC2 Instance Connect Endpoint to connect to.`);
    }
    const has = instance.privateIpAddress ? 'only a private IPv4 address' : 'only an IPv6 address';
    const needs = instance.privateIpAddress ? 'ipv4 or dualstack' : 'ipv6 or dualstack';
    throw new errors/* UserError */.yo(`Instance ${instance.instanceId} has ${has}, but EC2 Instance Connect Endpoint ${endpoint.endpointId} is ${endpoint.ipAddressType}: use an endpoint whose IP address type is ${needs} (aws ec2 modify-instance-connect-endpoint --ip-address-type).`);
}
function mapEndpointError(err, what) {
    if (err instanceof errors/* UserError */.yo)
        return err; // e.g. a proxy that refuses: its message names it
    const code = (0,ec2/* awsErrorCode */.J6)(err);
    const msg = (0,ec2/* awsErrorMessage */.X_)(err);
    switch (code) {
        case 'UnauthorizedOperation':
        case 'AccessDenied':
        case 'AccessDeniedException':
            return new errors/* UserError */.yo(`The AWS credentials may not call ec2:DescribeInstanceConnectEndpoints (${code}): allow "ec2:DescribeInstanceConnectEndpoints" on resource "*" in the role's policy, or pass 'eice-endpoint-id'.`);
        case 'InvalidInstanceConnectEndpointId.NotFound':
        case 'InvalidInstanceConnectEndpointId.Malformed':
            return new errors/* UserError */.yo(`EC2 Instance Connect Endpoint ${what} was not found (${code}): check 'eice-endpoint-id' (eice-...) and the region.`);
        case 'AuthFailure':
        case 'InvalidClientTokenId':
        case 'SignatureDoesNotMatch':
            return new errors/* UserError */.yo(`EC2 did not accept the AWS credentials (${code}: ${msg}): check the credentials step.`);
        default:
            return new errors/* TransientError */.N_(`ec2:DescribeInstanceConnectEndpoints for ${what} failed${code ? ` (${code})` : ''}: ${msg}`, { cause: err });
    }
}

// EXTERNAL MODULE: ./node_modules/ws/wrapper.mjs
var wrapper = __webpack_require__(2977);
;// CONCATENATED MODULE: ./build/action/tunnel/ws-mask.js
function zeroMask(mask) {
    mask.fill(0);
}
/** The `ws` client options for a masking choice (default 'zero'). */
function maskOptions(mask = 'zero') {
    return mask === 'zero' ? { generateMask: zeroMask } : {};
}

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
            const endpoint = await findEndpoint(instance, opts.aws, opts.endpointId);
            const address = targetAddress(instance, endpoint);
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
    // The service starts counting maxTunnelDuration when it accepts the tunnel, which is after this
    // request leaves: counting from here keeps the whole margin, whatever sshd's banner takes.
    const requestedAt = Date.now();
    const ws = new wrapper/* default */.Ay(url, {
        perMessageDeflate: false,
        handshakeTimeout: opts.handshakeTimeoutMs ?? 20_000,
        headers: { 'User-Agent': 'ec2-push' },
        followRedirects: false,
        agent: (0,proxy_agent/* webSocketAgent */.nz)(url),
        ...maskOptions(opts.frameMask),
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
    }, Math.max(0, requestedAt + duration * 1000 - marginMs - Date.now()));
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

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
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
                ...maskOptions(this.opts.frameMask)
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
    const { instanceExistence, notRunning } = await Promise.resolve(/* import() */).then(__webpack_require__.bind(__webpack_require__, 8513));
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
        tunnel: createSsmTunnel({
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
        endpointId = (await findEndpoint(instance, aws, config.eiceEndpointId)).endpointId;
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
            ssm = await ssmManagedStatus(instance.instanceId, aws);
        }
        catch (err) {
            ssmCheckError = (0,errors/* errorMessage */.gJ)(err);
        }
    }
    const decision = chooseMode({
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
