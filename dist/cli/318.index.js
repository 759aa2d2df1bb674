export const id = 318;
export const ids = [318];
export const modules = {

/***/ 318:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  forwardCommand: () => (/* binding */ forwardCommand)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: ./build/action/aws/credentials.js
var credentials = __webpack_require__(2223);
// EXTERNAL MODULE: ./build/action/config.js + 1 modules
var action_config = __webpack_require__(7578);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/tunnel/index.js + 1 modules
var action_tunnel = __webpack_require__(6230);
// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(7030);
;// CONCATENATED MODULE: ./build/action/forward/listener.js


async function listenForward(spec, tunnel, logger, bindHost = '127.0.0.1') {
    const stats = { accepted: 0, open: 0, failed: 0 };
    const live = new Set();
    const stop = new AbortController();
    const server = external_node_net_.createServer({ pauseOnConnect: true }, socket => {
        stats.accepted++;
        stats.open++;
        const entry = { socket };
        live.add(entry);
        let done = false;
        const finish = () => {
            if (done)
                return;
            done = true;
            stats.open--;
            live.delete(entry);
            socket.destroy();
            entry.stream?.destroy();
        };
        socket.on('error', finish);
        socket.once('close', finish);
        tunnel.open(stop.signal).then(stream => {
            if (done)
                return void stream.destroy();
            entry.stream = stream;
            socket.setNoDelay(true);
            stream.on('error', err => {
                logger.debug(`forward ${spec.text}: ${(0,errors/* errorMessage */.gJ)(err)}`);
                finish();
            });
            stream.once('close', finish);
            socket.pipe(stream);
            stream.pipe(socket);
            socket.resume();
        }, err => {
            stats.failed++;
            logger.warning(`forward ${spec.text}: could not open ${tunnel.description}: ${(0,errors/* errorMessage */.gJ)(err)}`);
            finish();
        });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(spec.localPort, bindHost, () => {
            server.off('error', reject);
            resolve();
        });
    }).catch((err) => {
        throw new errors/* UserError */.yo(err.code === 'EADDRINUSE'
            ? `forward ${spec.text}: local port ${spec.localPort} is in use: pick another, or 0 for any free port`
            : `forward ${spec.text}: cannot listen on ${bindHost}:${spec.localPort}: ${err.message}`);
    });
    const localPort = server.address().port;
    return {
        spec,
        localPort,
        stats,
        close: async () => {
            stop.abort();
            await new Promise(resolve => {
                server.close(() => resolve());
                for (const e of [...live]) {
                    e.socket.destroy();
                    e.stream?.destroy();
                }
            });
            await tunnel.close();
        }
    };
}

// EXTERNAL MODULE: ./build/action/forward/spec.js
var forward_spec = __webpack_require__(6466);
;// CONCATENATED MODULE: ./build/action/forward/open.js




/**
 * Open the local listeners of `forward` against the one target of `config`: a port on the instance
 * itself over whichever path the target takes (ssm: AWS-StartPortForwardingSession; eice: the
 * endpoint, which AWS limits to ports 22 and 3389; nlb: the load balancer's listener on that port),
 * or a host behind the instance over ssm (AWS-StartPortForwardingSessionToRemoteHost).
 */
async function openForwards(config, specs, ctx) {
    if (config.targets.length !== 1) {
        throw new errors/* UserError */.yo(`forward needs exactly one target, got ${config.targets.length}: give one instance id or host`);
    }
    const listeners = [];
    let first;
    try {
        for (const spec of specs) {
            const { target, tunnel } = await tunnelFor(config, spec, ctx);
            first ??= target;
            try {
                // A target that cannot be reached (an instance that does not exist, say) fails here, in one
                // line, rather than leaving a listener whose every connection fails.
                await tunnel.check?.();
                listeners.push(await listenForward(spec, tunnel, ctx.logger));
            }
            catch (err) {
                await tunnel.close();
                throw err;
            }
            ctx.logger.info(`forward: 127.0.0.1:${listeners[listeners.length - 1].localPort} -> ${spec.host}:${spec.port} through ${tunnel.description}`);
        }
    }
    catch (err) {
        await Promise.all(listeners.map(l => l.close().catch(() => { })));
        throw err;
    }
    return { target: first, listeners };
}
async function tunnelFor(config, spec, ctx) {
    if ((0,forward_spec/* isInstanceItself */.RS)(spec.host)) {
        // The port on the instance (nlb: on the load balancer) takes the place of the SSH port.
        const target = await (0,action_tunnel/* resolveOneTarget */.SG)({
            ...config,
            port: spec.port,
            ssmDocument: 'AWS-StartPortForwardingSession',
            targets: config.targets.map(t => (t.kind === 'host' ? { ...t, port: spec.port } : t))
        }, ctx, 'forward');
        return { target, tunnel: target.tunnel };
    }
    const target = await (0,action_tunnel/* resolveOneTarget */.SG)(config, ctx, 'forward');
    await target.tunnel.close().catch(err => ctx.logger.debug(`forward: ${(0,errors/* errorMessage */.gJ)(err)}`));
    if (target.mode !== 'ssm' || !target.instanceId) {
        throw new errors/* UserError */.yo(`forward ${spec.text}: only Session Manager reaches a host behind the instance (AWS-StartPortForwardingSessionToRemoteHost), and ${target.label} goes over ${target.mode}: use mode ssm, or forward to localhost:<port> on the instance`);
    }
    const { createSsmTunnel } = await Promise.all(/* import() */[__webpack_require__.e(736), __webpack_require__.e(977), __webpack_require__.e(935)]).then(__webpack_require__.bind(__webpack_require__, 2935));
    const tunnel = createSsmTunnel({
        instanceId: target.instanceId,
        host: spec.host,
        port: spec.port,
        document: 'AWS-StartPortForwardingSessionToRemoteHost',
        frameSize: config.ssmFrameSize,
        windowBytes: config.ssmWindowBytes,
        aws: await ctx.aws(),
        logger: ctx.logger
    });
    return { target, tunnel };
}

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
;// CONCATENATED MODULE: ./build/action/cli/forward.js











/**
 * `ec2-push forward <target> [local-port:]host:port...`: local listeners on 127.0.0.1 that lead to a
 * port on the instance or, over Session Manager, to a host behind it, until SIGINT, SIGTERM or SIGHUP;
 * then every session is ended. The action runs this command in the background for its `forward`
 * input (--inputs-file: the step's inputs; --ready-file: where the local ports are written once the
 * listeners are up), and its post step sends SIGTERM.
 */
const FLAGS = [
    ...aws_flags/* AWS_FLAGS */.E0,
    ...aws_flags/* TUNNEL_FLAGS */.ju,
    { name: 'ready-file', kind: 'string' },
    { name: 'inputs-file', kind: 'string' }
];
const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM'];
async function forwardCommand(argv, io) {
    const args = (0,cli_args/* parseArgs */.Zy)(argv, FLAGS, 'forward');
    if ((0,cli_args/* isSet */.vM)(args, 'help')) {
        io.out((0,help/* forwardHelp */.tg)());
        return 0;
    }
    const logger = (0,progress/* cliLogger */.$)(io, {
        debug: (0,cli_args/* isSet */.vM)(args, 'debug'),
        quiet: false,
        tty: false
    });
    const { values, options } = await inputValues(args);
    const config = (0,action_config/* buildConfig */.fD)(name => values[name] ?? '');
    if (config.forward.length === 0) {
        throw new errors/* UserError */.yo('forward needs at least one [local-port:]host:port, e.g. 5432:db.internal:5432');
    }
    if (!config.aws.region && (0,action_tunnel/* needsAws */.NJ)(config))
        throw new errors/* UserError */.yo(aws_env/* NO_REGION */.tR);
    const stop = new Promise(resolve => {
        for (const s of SIGNALS)
            process.on(s, () => resolve());
    });
    let awsContext;
    const aws = () => (awsContext ??= (0,credentials.resolveAwsContext)(config.aws, logger, options));
    const { listeners } = await openForwards(config, config.forward, { logger, aws });
    try {
        for (const l of listeners)
            io.out(`127.0.0.1:${l.localPort} -> ${l.spec.host}:${l.spec.port}`);
        const readyFile = (0,cli_args/* last */.HV)(args, 'ready-file');
        if (readyFile)
            await writeReady(readyFile, listeners);
        await stop;
        logger.info(`forward: closing (${summary(listeners)})`);
    }
    finally {
        await Promise.all(listeners.map(l => l.close().catch(err => logger.warning(`forward: ${(0,errors/* errorMessage */.gJ)(err)}`))));
    }
    return 0;
}
/**
 * The inputs from the action (a JSON file, removed once read; its OIDC token comes from the job) or
 * from the command line, with what --role-to-assume needs to get its token.
 */
async function inputValues(args) {
    const inputsFile = (0,cli_args/* last */.HV)(args, 'inputs-file');
    if (inputsFile) {
        const values = JSON.parse(await (0,promises_.readFile)(inputsFile, 'utf8'));
        await (0,promises_.rm)(inputsFile, { force: true });
        return { values, options: {} };
    }
    const [target, ...specs] = args.positionals;
    if (!target) {
        throw new errors/* UserError */.yo('forward needs a target and at least one forward: ec2-push forward i-0123456789abcdef0 5432:db.internal:5432');
    }
    const mode = (0,cli_args/* last */.HV)(args, 'mode') ?? 'auto';
    const aws = await (0,aws_flags/* awsInputsOf */.A)(args, { needRegion: mode !== 'nlb' });
    return {
        values: {
            ...aws.inputs,
            mode,
            targets: target,
            forward: specs.join('\n'),
            'eice-endpoint-id': (0,cli_args/* last */.HV)(args, 'eice-endpoint-id') ?? ''
        },
        options: aws.options
    };
}
async function writeReady(file, listeners) {
    const ready = {
        pid: process.pid,
        forwards: listeners.map(l => ({ localPort: l.localPort, host: l.spec.host, port: l.spec.port }))
    };
    // Written whole under another name, then renamed: the reader never sees half a file.
    await (0,promises_.writeFile)(`${file}.tmp`, JSON.stringify(ready));
    await (0,promises_.rename)(`${file}.tmp`, file);
}
function summary(listeners) {
    return listeners
        .map(l => `${l.localPort} -> ${l.spec.host}:${l.spec.port}: ${l.stats.accepted} connections, ${l.stats.failed} failed`)
        .join('; ');
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


/***/ })

};
