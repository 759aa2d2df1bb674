export const id = 13;
export const ids = [13];
export const modules = {

/***/ 7791:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   j: () => (/* binding */ chooseMode)
/* harmony export */ });
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


/***/ }),

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
/* harmony export */   Ck: () => (/* binding */ toInfo),
/* harmony export */   Eg: () => (/* binding */ describeTargets),
/* harmony export */   yj: () => (/* binding */ mapDescribeError)
/* harmony export */ });
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
                if (info.state !== 'running')
                    throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(notRunningMessage(info));
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
function notFound(ids, region) {
    const where = region ? ` in region ${region}` : '';
    return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`Instance ${ids.join(', ')} was not found${where}: check the instance id and the aws-region input (instances are regional).`);
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

/***/ 4045:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   T: () => (/* binding */ ssmManagedStatus)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ssm__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(4736);
/* harmony import */ var _ec2_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1043);
/* harmony import */ var _net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1442);



/** Is the instance a Session Manager managed node, and is its agent Online? (DescribeInstanceInformation) */
async function ssmManagedStatus(instanceId, aws) {
    const client = new _aws_sdk_client_ssm__WEBPACK_IMPORTED_MODULE_2__/* .SSMClient */ .jBj({ region: aws.region, credentials: aws.credentials, ...(0,_net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_1__/* .sdkProxyConfig */ .L)() });
    try {
        const out = await client.send(new _aws_sdk_client_ssm__WEBPACK_IMPORTED_MODULE_2__/* .DescribeInstanceInformationCommand */ .MXw({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
        const info = out.InstanceInformationList?.find(i => i.InstanceId === instanceId);
        if (!info)
            return { managed: false };
        return { managed: true, pingStatus: info.PingStatus, agentVersion: info.AgentVersion };
    }
    catch (err) {
        const code = (0,_ec2_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorCode */ .J6)(err);
        throw new Error(code === 'AccessDeniedException'
            ? 'AccessDenied on ssm:DescribeInstanceInformation'
            : `${code || 'error'}: ${(0,_ec2_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorMessage */ .X_)(err)}`);
    }
    finally {
        client.destroy();
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

/***/ 960:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   a9: () => (/* binding */ USABLE_ENDPOINT_STATES),
/* harmony export */   sj: () => (/* binding */ targetAddress),
/* harmony export */   vS: () => (/* binding */ findEndpoint)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5193);
/* harmony import */ var _aws_ec2_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1043);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6932);



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
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`EC2 Instance Connect Endpoint ${endpointId} is not available (not found in ${aws.region || 'this region'} or not in state ${USABLE_ENDPOINT_STATES.join('/')}): check 'eice-endpoint-id' and the endpoint's state.`);
        }
        return toInfo(first);
    }
    const sameSubnet = (e) => e.SubnetId === instance.subnetId;
    const found = await listEndpoints(aws, { Filters: [states, { Name: 'vpc-id', Values: [instance.vpcId] }] }, instance.vpcId, sameSubnet);
    const chosen = found.find(sameSubnet) ?? found[0];
    if (!chosen) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`No usable EC2 Instance Connect Endpoint in ${instance.vpcId} (the VPC of ${instance.instanceId}): create one in that VPC (aws ec2 create-instance-connect-endpoint --subnet-id ${instance.subnetId}), pass 'eice-endpoint-id', or use mode ssm.`);
    }
    return toInfo(chosen);
}
/** Page through DescribeInstanceConnectEndpoints, stopping early once `stop` matches an item. */
async function listEndpoints(aws, input, what, stop) {
    const out = [];
    let pages = 0;
    try {
        for await (const page of (0,_aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_2__/* .paginateDescribeInstanceConnectEndpoints */ .sas)({ client: (0,_aws_ec2_js__WEBPACK_IMPORTED_MODULE_0__/* .ec2ClientFor */ .pI)(aws) }, input)) {
            const items = page.InstanceConnectEndpoints ?? [];
            out.push(...items);
            if (items.some(stop) || ++pages >= _aws_ec2_js__WEBPACK_IMPORTED_MODULE_0__/* .MAX_PAGES */ .Y0)
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(fips
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
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Instance ${instance.instanceId} has no private IPv4 or IPv6 address for the EC2 Instance Connect Endpoint to connect to.`);
    }
    const has = instance.privateIpAddress ? 'only a private IPv4 address' : 'only an IPv6 address';
    const needs = instance.privateIpAddress ? 'ipv4 or dualstack' : 'ipv6 or dualstack';
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`Instance ${instance.instanceId} has ${has}, but EC2 Instance Connect Endpoint ${endpoint.endpointId} is ${endpoint.ipAddressType}: use an endpoint whose IP address type is ${needs} (aws ec2 modify-instance-connect-endpoint --ip-address-type).`);
}
function mapEndpointError(err, what) {
    if (err instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo)
        return err; // e.g. a proxy that refuses: its message names it
    const code = (0,_aws_ec2_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorCode */ .J6)(err);
    const msg = (0,_aws_ec2_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorMessage */ .X_)(err);
    switch (code) {
        case 'UnauthorizedOperation':
        case 'AccessDenied':
        case 'AccessDeniedException':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`The AWS credentials may not call ec2:DescribeInstanceConnectEndpoints (${code}): allow "ec2:DescribeInstanceConnectEndpoints" on resource "*" in the role's policy, or pass 'eice-endpoint-id'.`);
        case 'InvalidInstanceConnectEndpointId.NotFound':
        case 'InvalidInstanceConnectEndpointId.Malformed':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`EC2 Instance Connect Endpoint ${what} was not found (${code}): check 'eice-endpoint-id' (eice-...) and the region.`);
        case 'AuthFailure':
        case 'InvalidClientTokenId':
        case 'SignatureDoesNotMatch':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`EC2 did not accept the AWS credentials (${code}: ${msg}): check the credentials step.`);
        default:
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .TransientError */ .N_(`ec2:DescribeInstanceConnectEndpoints for ${what} failed${code ? ` (${code})` : ''}: ${msg}`, { cause: err });
    }
}


/***/ })

};
