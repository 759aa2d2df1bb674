export const id = 520;
export const ids = [520,513];
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

/***/ 9520:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  doctorCommand: () => (/* binding */ doctorCommand),
  renderReport: () => (/* binding */ renderReport)
});

// EXTERNAL MODULE: ./build/action/aws/credentials.js
var credentials = __webpack_require__(2223);
// EXTERNAL MODULE: ./build/action/config.js + 1 modules
var config = __webpack_require__(7578);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/log.js
var log = __webpack_require__(4173);
// EXTERNAL MODULE: ./build/action/tunnel/index.js + 1 modules
var tunnel = __webpack_require__(6230);
// EXTERNAL MODULE: ./build/action/cli/args.js
var cli_args = __webpack_require__(5);
// EXTERNAL MODULE: ./build/action/cli/aws-env.js
var aws_env = __webpack_require__(5649);
// EXTERNAL MODULE: ./build/action/cli/aws-flags.js
var aws_flags = __webpack_require__(5693);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ec2/dist-cjs/index.js
var dist_cjs = __webpack_require__(5193);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-sts/dist-cjs/index.js
var client_sts_dist_cjs = __webpack_require__(1695);
// EXTERNAL MODULE: ./build/action/aws/auto-mode.js
var auto_mode = __webpack_require__(172);
// EXTERNAL MODULE: ./build/action/aws/ec2.js
var aws_ec2 = __webpack_require__(1043);
// EXTERNAL MODULE: ./build/action/aws/instances.js
var instances = __webpack_require__(8513);
// EXTERNAL MODULE: ./build/action/aws/ssm-info.js
var ssm_info = __webpack_require__(4045);
// EXTERNAL MODULE: ./build/action/tunnel/eice/endpoint.js
var eice_endpoint = __webpack_require__(960);
;// CONCATENATED MODULE: ./build/action/cli/security-groups.js
function coversPort(r, port) {
    const proto = (r.IpProtocol ?? '').toLowerCase();
    if (proto === '-1' || proto === 'all')
        return true;
    if (proto !== 'tcp' && proto !== '6')
        return false;
    const from = r.FromPort ?? -1;
    const to = r.ToPort ?? -1;
    return (from === -1 && to === -1) || (from <= port && port <= to);
}
function describeRule(r, peer, direction) {
    const proto = (r.IpProtocol ?? '').toLowerCase();
    const what = proto === '-1' || proto === 'all'
        ? 'all traffic'
        : r.FromPort === r.ToPort
            ? `tcp ${r.FromPort}`
            : `tcp ${r.FromPort}-${r.ToPort}`;
    return `${what} ${direction} ${peer}`;
}
function portAllowed(rules, port, peerGroupIds, direction) {
    let maybe;
    for (const r of rules) {
        if (!coversPort(r, port))
            continue;
        const group = (r.UserIdGroupPairs ?? []).find(p => p.GroupId && peerGroupIds.includes(p.GroupId));
        if (group)
            return { verdict: 'yes', via: describeRule(r, group.GroupId, direction) };
        const cidr = r.IpRanges?.[0]?.CidrIp ??
            r.Ipv6Ranges?.[0]?.CidrIpv6 ??
            r.PrefixListIds?.[0]?.PrefixListId ??
            undefined;
        if (cidr && !maybe)
            maybe = describeRule(r, cidr, direction);
    }
    return maybe ? { verdict: 'maybe', via: maybe } : { verdict: 'no' };
}

// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
;// CONCATENATED MODULE: ./build/action/cli/doctor-checks.js











async function runDoctor(target, aws, opts = {}) {
    const checks = [];
    const add = (area, check, status, detail) => void checks.push({ area, check, status, detail });
    const report = {
        target,
        region: aws.region,
        checks,
        auto: {},
        paths: { ssm: false, eice: false }
    };
    const spec = (0,config/* parseTarget */.hu)(target);
    if (spec.kind === 'host') {
        throw new errors/* UserError */.yo(`doctor checks instances (i-..., mi-..., tag:Key=Value); '${target}' is a host name, which needs no AWS path`);
    }
    await identity(aws, add);
    await dryRuns(aws, add);
    // mi- managed nodes are not EC2 instances: only Session Manager reaches them.
    const instance = spec.kind === 'instance' && spec.instanceId.startsWith('mi-') ? undefined : await lookUp(spec, aws, add);
    if (instance instanceof instances/* NoSuchInstanceError */.ay) {
        // Nothing else to check: no agent, endpoint or path can help an instance that does not exist.
        report.missing = instance.message;
        report.auto = { error: instance.message };
        return report;
    }
    if (instance)
        report.instance = instance;
    const instanceId = instance?.instanceId ?? (spec.kind === 'instance' ? spec.instanceId : undefined);
    report.instanceId = instanceId;
    if (!instanceId)
        return report;
    const running = !instance || instance.state === 'running';
    // Session Manager
    let ssm;
    let ssmError;
    try {
        ssm = await (0,ssm_info/* ssmManagedStatus */.T)(instanceId, aws);
        add('ssm', 'managed node', ssm.managed ? 'ok' : 'fail', ssm.managed ? 'yes' : 'no: run the SSM Agent and attach a role with AmazonSSMManagedInstanceCore');
        if (ssm.managed) {
            const online = (ssm.pingStatus ?? '').toLowerCase() === 'online';
            add('ssm', 'agent ping status', online ? 'ok' : 'fail', online
                ? 'Online'
                : `${ssm.pingStatus ?? 'unknown'}: the agent must be running and reach the ssm and ssmmessages endpoints`);
            add('ssm', 'agent version', ssm.agentVersion ? 'info' : 'warn', ssm.agentVersion ?? 'unknown');
            report.paths.ssm = online && running;
        }
    }
    catch (err) {
        ssmError = (0,errors/* errorMessage */.gJ)(err);
        add('ssm', 'managed node', 'fail', `could not check: ${ssmError} (allow ssm:DescribeInstanceInformation)`);
    }
    // EC2 Instance Connect Endpoint
    let endpointError;
    if (instance) {
        try {
            const endpoint = await (0,eice_endpoint/* findEndpoint */.vS)(instance, aws, opts.endpointId);
            report.endpoint = endpoint;
            const where = endpoint.subnetId === instance.subnetId
                ? `the instance's subnet ${endpoint.subnetId}`
                : `${endpoint.vpcId} (subnet ${endpoint.subnetId})`;
            add('eice', 'endpoint', 'ok', `${endpoint.endpointId} in ${where}`);
            add('eice', 'endpoint state', 'ok', endpoint.state);
            let addressOk = true;
            try {
                add('eice', 'IP address type', 'ok', `${endpoint.ipAddressType}; connects to ${(0,eice_endpoint/* targetAddress */.sj)(instance, endpoint)}`);
            }
            catch (err) {
                addressOk = false;
                add('eice', 'IP address type', 'fail', (0,errors/* errorMessage */.gJ)(err));
            }
            const sgOk = await securityGroups(instance, endpoint, opts.port ?? 22, aws, add);
            report.paths.eice = running && addressOk && sgOk;
        }
        catch (err) {
            endpointError = (0,errors/* errorMessage */.gJ)(err);
            const denied = /not call|denied|not authorized/i.test(endpointError);
            add('eice', 'endpoint', 'fail', denied ? endpointError : await noEndpointDetail(instance, aws, endpointError));
        }
    }
    else {
        add('eice', 'endpoint', 'info', 'not applicable: EC2 Instance Connect Endpoints reach EC2 instances only');
    }
    // What auto would choose.
    const facts = {
        isHost: false,
        target,
        instance: { instanceId, vpcId: instance?.vpcId, subnetId: instance?.subnetId },
        usableEndpoint: endpointError && /not call|denied|not authorized/i.test(endpointError) ? undefined : !!report.endpoint,
        endpointId: report.endpoint?.endpointId,
        endpointCheckError: endpointError && /not call|denied|not authorized/i.test(endpointError) ? endpointError : undefined,
        ssmManagedOnline: ssm,
        ssmCheckError: ssmError
    };
    const decision = running
        ? (0,auto_mode/* chooseMode */.j)(facts)
        : { error: `${instanceId} is ${instance?.state}: start it first` };
    if ('error' in decision) {
        report.auto = { error: decision.error };
        add('auto', 'mode auto', 'fail', decision.error);
    }
    else {
        const mode = decision.mode;
        report.auto = { mode, reason: decision.reason };
        const blocked = mode === 'eice' && !report.paths.eice;
        add('auto', 'mode auto', blocked ? 'warn' : 'ok', blocked
            ? `would choose eice (${decision.reason}), but the checks above say eice cannot connect${report.paths.ssm ? ': set mode ssm, or fix them' : ': fix them'}`
            : `would choose ${mode}: ${decision.reason}`);
    }
    return report;
}
async function identity(aws, add) {
    const sts = new client_sts_dist_cjs.STSClient({ region: aws.region, credentials: aws.credentials, ...(0,proxy_agent/* sdkProxyConfig */.L)() });
    try {
        const me = await sts.send(new client_sts_dist_cjs/* GetCallerIdentityCommand */.zI({}));
        add('credentials', 'identity', 'ok', `${me.Arn} (account ${me.Account})`);
    }
    catch (err) {
        const code = (0,aws_ec2/* awsErrorCode */.J6)(err);
        add('credentials', 'identity', code === 'CredentialsProviderError' ? 'fail' : 'warn', code === 'CredentialsProviderError'
            ? 'no AWS credentials found: use --profile, or set AWS_PROFILE / AWS_ACCESS_KEY_ID'
            : `sts:GetCallerIdentity failed: ${code || 'error'}: ${(0,aws_ec2/* awsErrorMessage */.X_)(err)}`);
    }
    finally {
        sts.destroy();
    }
}
/** EC2 offers DryRun: DryRunOperation means allowed, UnauthorizedOperation means denied. */
async function dryRuns(aws, add) {
    const ec2 = (0,aws_ec2/* ec2ClientFor */.pI)(aws);
    const calls = [
        ['ec2:DescribeInstances', () => ec2.send(new dist_cjs/* DescribeInstancesCommand */.bNs({ DryRun: true }))],
        [
            'ec2:DescribeInstanceConnectEndpoints',
            () => ec2.send(new dist_cjs/* DescribeInstanceConnectEndpointsCommand */.Ck7({ DryRun: true }))
        ],
        ['ec2:DescribeSecurityGroups', () => ec2.send(new dist_cjs/* DescribeSecurityGroupsCommand */.jsQ({ DryRun: true }))]
    ];
    for (const [action, call] of calls) {
        try {
            await call();
            add('permissions', action, 'warn', 'the dry run was not refused nor confirmed (no DryRunOperation answer)');
        }
        catch (err) {
            const code = (0,aws_ec2/* awsErrorCode */.J6)(err);
            if (code === 'DryRunOperation')
                add('permissions', action, 'ok', 'allowed (dry run)');
            else if (code === 'UnauthorizedOperation')
                add('permissions', action, 'fail', `denied (dry run): allow "${action}" on "*"`);
            else
                add('permissions', action, 'warn', `dry run failed: ${code || 'error'}: ${(0,aws_ec2/* awsErrorMessage */.X_)(err)}`);
        }
    }
    add('permissions', 'ssm:StartSession, ec2-instance-connect:OpenTunnel, SendSSHPublicKey', 'info', 'AWS offers no dry run for these; --connect tries a real connection');
}
async function lookUp(spec, aws, add) {
    const input = spec.kind === 'instance'
        ? { InstanceIds: [spec.instanceId] }
        : spec.kind === 'tag'
            ? { Filters: [{ Name: `tag:${spec.key}`, Values: [spec.value] }] }
            : {};
    let found;
    try {
        const res = await (0,aws_ec2/* ec2ClientFor */.pI)(aws).send(new dist_cjs/* DescribeInstancesCommand */.bNs(input));
        found = (res.Reservations ?? []).flatMap(r => r.Instances ?? []);
    }
    catch (err) {
        const mapped = (0,instances/* mapDescribeError */.yj)(err, ('InstanceIds' in input && input.InstanceIds) || [], aws.region, spec.label);
        add('instance', 'lookup', 'fail', (0,errors/* errorMessage */.gJ)(mapped));
        return mapped instanceof instances/* NoSuchInstanceError */.ay ? mapped : undefined;
    }
    if (found.length !== 1) {
        add('instance', 'lookup', 'fail', found.length === 0
            ? `no instance matches '${spec.label}' in ${aws.region}`
            : `'${spec.label}' matches ${found.length} instances (${found
                .slice(0, 5)
                .map(i => i.InstanceId)
                .join(', ')}): give one instance id`);
        return undefined;
    }
    const i = found[0];
    const info = (0,instances/* toInfo */.Ck)(i, spec.label);
    const where = [info.vpcId, info.subnetId, info.privateIpAddress ?? info.ipv6Address, info.availabilityZone]
        .filter(Boolean)
        .join(', ');
    add('instance', 'state', info.state === 'running' ? 'ok' : 'fail', `${info.instanceId}${info.name ? ` (${info.name})` : ''} is ${info.state} (${where})`);
    return info;
}
/** Why no endpoint was usable: none in the VPC, or one in a state that does not carry tunnels. */
async function noEndpointDetail(instance, aws, message) {
    try {
        const res = await (0,aws_ec2/* ec2ClientFor */.pI)(aws).send(new dist_cjs/* DescribeInstanceConnectEndpointsCommand */.Ck7({ Filters: [{ Name: 'vpc-id', Values: [instance.vpcId] }] }));
        const other = (res.InstanceConnectEndpoints ?? []).find(e => !eice_endpoint/* USABLE_ENDPOINT_STATES */.a9.includes(e.State ?? ''));
        if (other)
            return `${other.InstanceConnectEndpointId} in ${instance.vpcId} is ${other.State}, which carries no tunnels (needs create-complete)`;
    }
    catch {
        // the first lookup's message says enough
    }
    return message;
}
async function securityGroups(instance, endpoint, port, aws, add) {
    const ids = [...new Set([...instance.securityGroupIds, ...endpoint.securityGroupIds])];
    let groups;
    try {
        const res = await (0,aws_ec2/* ec2ClientFor */.pI)(aws).send(new dist_cjs/* DescribeSecurityGroupsCommand */.jsQ({ GroupIds: ids }));
        groups = res.SecurityGroups ?? [];
    }
    catch (err) {
        add('eice', `port ${port} from the endpoint`, 'warn', `could not check the security groups (${(0,aws_ec2/* awsErrorCode */.J6)(err) || 'error'}: ${(0,aws_ec2/* awsErrorMessage */.X_)(err)}); allow ec2:DescribeSecurityGroups to check`);
        return true;
    }
    const of = (gids) => groups.filter(g => g.GroupId && gids.includes(g.GroupId));
    const inbound = portAllowed(of(instance.securityGroupIds).flatMap(g => g.IpPermissions ?? []), port, endpoint.securityGroupIds, 'from');
    const outbound = portAllowed(of(endpoint.securityGroupIds).flatMap(g => g.IpPermissionsEgress ?? []), port, instance.securityGroupIds, 'to');
    const show = (v, who, fix) => v.verdict === 'yes'
        ? `${who} allow ${v.via}`
        : v.verdict === 'maybe'
            ? `${who} allow ${v.via} (make sure that range includes the endpoint's subnet)`
            : fix;
    add('eice', `port ${port} into the instance`, inbound.verdict === 'no' ? 'fail' : inbound.verdict === 'maybe' ? 'warn' : 'ok', show(inbound, `the instance's groups (${instance.securityGroupIds.join(', ')})`, `no inbound rule of ${instance.securityGroupIds.join(', ') || 'the instance'} allows tcp ${port} from the endpoint's group ${endpoint.securityGroupIds.join(', ')}: add one`));
    add('eice', `port ${port} out of the endpoint`, outbound.verdict === 'no' ? 'fail' : outbound.verdict === 'maybe' ? 'warn' : 'ok', show(outbound, `the endpoint's groups (${endpoint.securityGroupIds.join(', ')})`, `no outbound rule of the endpoint's group ${endpoint.securityGroupIds.join(', ')} allows tcp ${port} to ${instance.securityGroupIds.join(', ')}: add one`));
    return inbound.verdict !== 'no' && outbound.verdict !== 'no';
}

// EXTERNAL MODULE: ./build/action/cli/help.js
var help = __webpack_require__(8483);
;// CONCATENATED MODULE: ./build/action/cli/doctor.js










const FLAGS = [
    ...aws_flags/* AWS_FLAGS */.E0,
    { name: 'port', kind: 'string' },
    { name: 'eice-endpoint-id', kind: 'string' },
    { name: 'connect', kind: 'boolean' },
    { name: 'json', kind: 'boolean' },
    { name: 'help', kind: 'boolean', short: 'h' }
];
/** `ec2-push doctor <target>`: the checks as a table; exit 0 when some path works, 1 when none does. */
async function doctorCommand(argv, io) {
    const args = (0,cli_args/* parseArgs */.Zy)(argv, FLAGS, 'doctor');
    if ((0,cli_args/* isSet */.vM)(args, 'help')) {
        io.out((0,help/* doctorHelp */.zP)());
        return 0;
    }
    const [target, ...extra] = args.positionals;
    if (!target || extra.length) {
        throw new errors/* UserError */.yo('doctor checks one target: ec2-push doctor i-0123456789abcdef0 (or tag:Name=web-1)');
    }
    const port = Number((0,cli_args/* last */.HV)(args, 'port') ?? '22');
    if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new errors/* UserError */.yo(`--port must be 1-65535, got '${(0,cli_args/* last */.HV)(args, 'port')}'`);
    const awsFlags = await (0,aws_flags/* awsInputsOf */.A)(args);
    if (!awsFlags.inputs['aws-region'])
        throw new errors/* UserError */.yo(aws_env/* NO_REGION */.tR);
    // The credentials the other commands would use: the default chain, or the role assumed as deploy does.
    const aws = await (0,credentials.resolveAwsContext)(configFor(target, port, awsFlags.inputs).aws, log/* silentLogger */.q, awsFlags.options);
    const endpointId = (0,cli_args/* last */.HV)(args, 'eice-endpoint-id');
    const report = await runDoctor(target, aws, { endpointId, port });
    if ((0,cli_args/* isSet */.vM)(args, 'connect'))
        await tryConnect(report, aws, port, endpointId);
    const works = (0,cli_args/* isSet */.vM)(args, 'connect')
        ? report.checks.some(c => c.area === 'connect' && c.status === 'ok')
        : report.paths.ssm || report.paths.eice;
    if ((0,cli_args/* isSet */.vM)(args, 'json'))
        io.out(JSON.stringify({ ...report, works }, null, 2));
    else
        io.out(renderReport(report, works));
    return works ? 0 : 1;
}
const MARK = { ok: 'ok', fail: 'FAIL', warn: 'warn', info: '--' };
function renderReport(report, works) {
    const rows = report.checks.map(c => [c.area, c.check, MARK[c.status], c.detail]);
    const widths = [0, 1, 2].map(i => Math.max(...rows.map(r => r[i].length)));
    const lines = rows.map(r => '  ' + r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  '));
    const verdict = works
        ? `Some path works${report.auto.mode ? `; mode auto would use ${report.auto.mode}` : ''}.`
        : (report.missing ?? 'No path works yet: fix one of the FAIL rows above.');
    return [`ec2-push doctor ${report.target} (${report.region})`, '', ...lines, '', verdict].join('\n');
}
/** A deploy configuration for one target, as the checks and connections need it (no files). */
function configFor(target, port, values) {
    const all = {
        ...values,
        targets: target,
        port: String(port),
        files: '*',
        'remote-path': '.'
    };
    return (0,config/* buildConfig */.fD)(name => all[name] ?? '');
}
/** Open each path that looks usable and read sshd's banner: proves StartSession / OpenTunnel and the network. */
async function tryConnect(report, aws, port, endpointId) {
    for (const mode of ['ssm', 'eice']) {
        if (!report.paths[mode] || !report.instanceId)
            continue;
        const config = configFor(report.instanceId, port, {
            mode,
            'aws-region': aws.region,
            'eice-endpoint-id': endpointId ?? ''
        });
        let detail;
        let ok = false;
        const [target] = await (0,tunnel/* resolveTargets */.h5)(config, { logger: log/* silentLogger */.q, aws: async () => aws }).catch(err => {
            report.checks.push({
                area: 'connect',
                check: `via ${mode}`,
                status: 'fail',
                detail: (0,errors/* errorMessage */.gJ)(err)
            });
            return [];
        });
        if (!target)
            continue;
        try {
            const banner = await readBanner(await target.tunnel.open(AbortSignal.timeout(30_000)));
            ok = banner.startsWith('SSH-');
            detail = ok
                ? `sshd answered: ${banner}`
                : `something answered that is not sshd: ${JSON.stringify(banner.slice(0, 40))}`;
        }
        catch (err) {
            detail = (0,errors/* errorMessage */.gJ)(err);
        }
        finally {
            await target.tunnel.close();
        }
        report.checks.push({ area: 'connect', check: `via ${mode}`, status: ok ? 'ok' : 'fail', detail });
    }
}
/** The first line the far side sends (sshd's identification string), within 15 s. */
function readBanner(stream) {
    return new Promise((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => done(new Error('no answer within 15 s')), 15_000);
        const done = (err) => {
            clearTimeout(timer);
            stream.off('data', onData);
            stream.destroy();
            if (err)
                reject(err);
            else
                resolve(text.split(/\r?\n/)[0].trim());
        };
        const onData = (d) => {
            text += d.toString('latin1');
            if (text.includes('\n') || text.length > 255)
                done();
        };
        stream.on('data', onData);
        stream.once('error', err => done(err));
        stream.once('end', () => done(text ? undefined : new Error('closed before sending anything')));
    });
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
