export const id = 513;
export const ids = [513];
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


/***/ })

};
