export const id = 520;
export const ids = [520];
export const modules = {

/***/ 9520:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  doctorCommand: () => (/* binding */ doctorCommand),
  renderReport: () => (/* binding */ renderReport)
});

// EXTERNAL MODULE: ./build/action/config.js + 1 modules
var action_config = __webpack_require__(7578);
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
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ec2/dist-cjs/index.js
var dist_cjs = __webpack_require__(5193);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-sts/dist-cjs/index.js
var client_sts_dist_cjs = __webpack_require__(1695);
// EXTERNAL MODULE: ./build/action/aws/auto-mode.js
var auto_mode = __webpack_require__(7791);
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
    const spec = (0,action_config/* parseTarget */.hu)(target);
    if (spec.kind === 'host') {
        throw new errors/* UserError */.yo(`doctor checks instances (i-..., mi-..., tag:Key=Value); '${target}' is a host name, which needs no AWS path`);
    }
    await identity(aws, add);
    await dryRuns(aws, add);
    // mi- managed nodes are not EC2 instances: only Session Manager reaches them.
    const instance = spec.kind === 'instance' && spec.instanceId.startsWith('mi-') ? undefined : await lookUp(spec, aws, add);
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
        add('instance', 'lookup', 'fail', (0,errors/* errorMessage */.gJ)((0,instances/* mapDescribeError */.yj)(err, ('InstanceIds' in input && input.InstanceIds) || [], aws.region, spec.label)));
        return undefined;
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
    { name: 'region', kind: 'string' },
    { name: 'profile', kind: 'string' },
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
    (0,aws_env/* applyProfile */.mO)((0,cli_args/* last */.HV)(args, 'profile'));
    const region = await (0,aws_env/* resolveRegion */.Zv)((0,cli_args/* last */.HV)(args, 'region'));
    if (!region)
        throw new errors/* UserError */.yo(aws_env/* NO_REGION */.tR);
    const aws = { region, credentials: undefined };
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
        : 'No path works yet: fix one of the FAIL rows above.';
    return [`ec2-push doctor ${report.target} (${report.region})`, '', ...lines, '', verdict].join('\n');
}
/** Open each path that looks usable and read sshd's banner: proves StartSession / OpenTunnel and the network. */
async function tryConnect(report, aws, port, endpointId) {
    for (const mode of ['ssm', 'eice']) {
        if (!report.paths[mode] || !report.instanceId)
            continue;
        const config = (0,action_config/* buildConfig */.fD)(name => ({
            mode,
            targets: report.instanceId,
            port: String(port),
            'aws-region': aws.region,
            'eice-endpoint-id': endpointId ?? '',
            files: '*',
            'remote-path': '.'
        })[name] ?? '');
        let detail;
        let ok = false;
        const [target] = await (0,tunnel/* resolveTargets */.h)(config, { logger: log/* silentLogger */.q, aws: async () => aws }).catch(err => {
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


/***/ })

};
