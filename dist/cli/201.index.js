export const id = 201;
export const ids = [201,513];
export const modules = {

/***/ 172:
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
/* harmony export */   ay: () => (/* binding */ NoSuchInstanceError),
/* harmony export */   instanceExistence: () => (/* binding */ instanceExistence),
/* harmony export */   notRunning: () => (/* binding */ notRunning),
/* harmony export */   yj: () => (/* binding */ mapDescribeError)
/* harmony export */ });
/* unused harmony export notFound */
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

/***/ 4201:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  resolveInstanceTargets: () => (/* binding */ resolveInstanceTargets)
});

// EXTERNAL MODULE: ./build/action/aws/auto-mode.js
var auto_mode = __webpack_require__(172);
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
    // The service starts counting maxTunnelDuration when it accepts the tunnel, which is after this
    // request leaves: counting from here keeps the whole margin, whatever sshd's banner takes.
    const requestedAt = Date.now();
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

// EXTERNAL MODULE: ./build/action/tunnel/ssm/tunnel.js + 3 modules
var tunnel = __webpack_require__(2935);
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
