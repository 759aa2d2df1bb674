export const id = 161;
export const ids = [161];
export const modules = {

/***/ 1161:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  startBackgroundForward: () => (/* binding */ startBackgroundForward)
});

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: external "node:url"
var external_node_url_ = __webpack_require__(3136);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
;// CONCATENATED MODULE: ./build/action/inputs.js
// The action's inputs and outputs, in one table: names, kinds, defaults and descriptions. action.yml,
// the config parser (src/config.ts) and the CLI's flags and --help are checked against it by
// __tests__/unit/inputs.test.ts, defaults included. A new input goes here first, then into action.yml
// (same order, same text) and buildConfig.
/** action.yml's inputs, in its order. */
const INPUTS = [
    {
        name: 'mode',
        kind: 'string',
        default: 'auto',
        description: 'How to reach the instance: ssm (Session Manager), eice (EC2 Instance Connect Endpoint), nlb (host[:port] of a TCP listener forwarding to sshd), or auto.'
    },
    {
        name: 'targets',
        kind: 'list',
        required: true,
        description: 'Where to deploy, one per line or comma-separated: instance ids (i-...), tag filters (tag:Role=web), or for nlb host[:port] (i-...@host[:port] names the instance behind it, for one-time keys).'
    },
    {
        name: 'files',
        kind: 'list',
        required: true,
        description: 'Glob patterns of the files to upload, one per line; a leading ! excludes (the rules of actions/upload-artifact). Not needed with rollback: true, or with forward alone.'
    },
    {
        name: 'base-dir',
        kind: 'string',
        default: '',
        description: 'Local folder that remote paths are relative to. Default: the common ancestor of the matches.'
    },
    {
        name: 'include-hidden-files',
        kind: 'boolean',
        default: 'false',
        description: 'Also upload files and folders whose names start with a dot.'
    },
    {
        name: 'remote-path',
        kind: 'string',
        required: true,
        description: "Destination folder on the instance (absolute, or relative to the login directory; ~/dir is dir in the login's home, as with scp)."
    },
    {
        name: 'if-no-files-found',
        kind: 'string',
        default: 'error',
        description: 'What to do when the patterns match nothing: error, warn or ignore.'
    },
    {
        name: 'user',
        kind: 'string',
        default: 'ec2-user',
        description: 'SSH user on the instance.'
    },
    {
        name: 'port',
        kind: 'string',
        default: '22',
        description: 'SSH port on the instance (ssm and eice), and of nlb targets given without their own :port.'
    },
    {
        name: 'ssh-private-key',
        kind: 'string',
        default: '',
        description: 'Private key (OpenSSH or PEM) of a user allowed on the instance. Pass it from a secret.'
    },
    {
        name: 'ssh-passphrase',
        kind: 'string',
        default: '',
        description: 'Passphrase of ssh-private-key, if it is encrypted.'
    },
    {
        name: 'host-key-fingerprint',
        kind: 'string',
        default: '',
        description: "The instance's host key fingerprint (SHA256:..., as 'ssh-keygen -lf' prints). Required for nlb unless strict-host-key is false."
    },
    {
        name: 'known-hosts',
        kind: 'list',
        default: '',
        description: 'known_hosts lines (ssh-keyscan output) to pin the host key instead of a fingerprint.'
    },
    {
        name: 'strict-host-key',
        kind: 'boolean',
        default: 'true',
        description: 'With false, connect without a pinned host key (a warning says so).'
    },
    {
        name: 'concurrency',
        kind: 'string',
        default: '512',
        description: 'Files in flight at once per connection (large files: at most 8 of them at once).'
    },
    {
        name: 'connections',
        kind: 'string',
        default: '',
        description: 'SSH connections per target for an upload (each with its own windows): files are shared out among them, and a file of 16 MiB or more is written by all of them at once, in ranges. Empty: 4 over nlb and eice, except for an upload of small files only (64 KiB and less), which opens 2, and one more per 8 MiB of them beyond 16 MiB (each connection costs CPU on both ends); 8 over ssm, where a session carries at most ssm-window-bytes a round trip. The results output says how many were used. Over eice at most eice-max-tunnels per deploy.'
    },
    {
        name: 'retries',
        kind: 'string',
        default: '3',
        description: 'Retries per file and per connection, with jittered backoff; a dropped connection is reopened and the upload goes on.'
    },
    {
        name: 'verify',
        kind: 'string',
        default: 'sha256',
        description: 'sha256 (check every file on the instance before it is put in place) or none.'
    },
    {
        name: 'timeout-seconds',
        kind: 'string',
        default: '1800',
        description: 'Limit for the whole step, in seconds.'
    },
    {
        name: 'lock-wait-seconds',
        kind: 'string',
        default: '0',
        description: 'Every deploy that writes takes a lock on the instance (<remote-path>/.ec2-push/lock). When another deploy holds it: 0 fails at once naming the holder and its age; N waits up to N seconds for it. A lock whose holder ran past its own timeout is broken with a warning.'
    },
    {
        name: 'aws-region',
        kind: 'string',
        default: '',
        description: 'AWS Region of the instances. Default: AWS_REGION or AWS_DEFAULT_REGION from the environment.'
    },
    {
        name: 'role-to-assume',
        kind: 'string',
        default: '',
        description: "IAM role ARN to assume with the job's GitHub OIDC token (needs permissions: id-token: write). Without it, credentials come from the environment."
    },
    {
        name: 'role-session-name',
        kind: 'string',
        default: 'ec2-push',
        description: 'Session name for the assumed role.'
    },
    {
        name: 'role-duration-seconds',
        kind: 'string',
        default: '3600',
        description: 'Lifetime of the assumed role credentials; they are refreshed before they expire.'
    },
    {
        name: 'audience',
        kind: 'string',
        default: 'sts.amazonaws.com',
        description: 'Audience of the GitHub OIDC token.'
    },
    {
        name: 'allowed-account-ids',
        kind: 'list',
        default: '',
        description: 'Comma-separated AWS account ids the credentials must belong to; any other account is refused.'
    },
    {
        name: 'ssm-document',
        kind: 'string',
        default: 'AWS-StartSSHSession',
        description: 'Session Manager document: AWS-StartSSHSession or AWS-StartPortForwardingSession.'
    },
    {
        name: 'ssm-frame-size',
        kind: 'string',
        default: '1024',
        description: 'Session Manager: payload bytes per data-channel frame.'
    },
    {
        name: 'ssm-window-bytes',
        kind: 'string',
        default: '1048576',
        description: 'Session Manager: most bytes sent and not yet acknowledged (1 MiB = 1,024 frames of 1 KiB; the agent buffers up to 100,000 messages).'
    },
    {
        name: 'eice-endpoint-id',
        kind: 'string',
        default: '',
        description: "EC2 Instance Connect Endpoint to use (eice-...). Default: the one in the instance's subnet, else its VPC."
    },
    {
        name: 'eice-max-tunnels',
        kind: 'string',
        default: '8',
        description: 'Tunnels open at once through one EC2 Instance Connect Endpoint (it allows 20).'
    },
    {
        name: 'release',
        kind: 'string',
        default: 'none',
        description: 'none: write into remote-path, each file atomically (temp name + rename). atomic: upload into remote-path/releases/<release-id>, then switch the remote-path/current symlink to it in one rename; keep-releases are kept, and a failure after the switch rolls back.'
    },
    {
        name: 'keep-releases',
        kind: 'string',
        default: '5',
        description: 'release: atomic — how many good releases to keep (current and the newest that went live); failed and unfinished ones are removed first. Only folders ec2-push created are removed.'
    },
    {
        name: 'release-id',
        kind: 'string',
        default: '',
        description: 'release: atomic — name of this release folder (letters, digits, . _ -). Default: the run id and attempt (GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT), else a UTC timestamp.'
    },
    {
        name: 'rollback',
        kind: 'boolean',
        default: 'false',
        description: 'release: atomic — with true, upload nothing and switch current back to the newest earlier release that went live and did not fail (files is not needed).'
    },
    {
        name: 'pre-command',
        kind: 'string',
        default: '',
        description: 'Shell run on the instance (login shell, set -e, in remote-path) before the upload, over the same connection; EC2_PUSH_RELEASE_PATH, EC2_PUSH_RELEASE_ID, EC2_PUSH_REMOTE_PATH, EC2_PUSH_TARGET and (atomic) EC2_PUSH_PREVIOUS_RELEASE_PATH are exported. A non-zero exit or a timeout fails the step.'
    },
    {
        name: 'post-command',
        kind: 'string',
        default: '',
        description: 'Shell run on the instance after the upload (after the switch with release: atomic), like pre-command; a failure fails the step and rolls an atomic release back.'
    },
    {
        name: 'command-timeout-seconds',
        kind: 'string',
        default: '600',
        description: 'Limit for each pre-command and post-command, in seconds; the command is killed when it is reached.'
    },
    {
        name: 'sync',
        kind: 'boolean',
        default: 'false',
        description: 'Upload only files whose size, mode or sha256 differ from what the instance holds (remote-path, or the current release); with release: atomic, unchanged files are hard-linked from the current release.'
    },
    {
        name: 'delete',
        kind: 'boolean',
        default: 'false',
        description: 'release: none — remove remote files under remote-path that are not in the file set (never outside remote-path, never protect matches). With release: atomic every release holds exactly the set.'
    },
    {
        name: 'protect',
        kind: 'list',
        default: '',
        description: 'Patterns relative to remote-path, one per line (* ? **; a name without / matches at any depth; a folder protects what is under it): never deleted, and carried into each new atomic release.'
    },
    {
        name: 'follow-remote-symlinks',
        kind: 'boolean',
        default: 'false',
        description: 'Symbolic links on the instance that lead out of remote-path (remote-path/assets -> /elsewhere): false refuses to write or delete through them, naming the link; true writes through them (shared folders). A link the file set writes through is never deleted as an extra.'
    },
    {
        name: 'max-parallel-targets',
        kind: 'string',
        default: '',
        description: "Targets deployed at once. With push the default is 1, a rolling deploy: with fail-fast, a bad release stops at the first instance. With delivery: s3 it is Run Command's MaxConcurrency, a count or a percentage (e.g. 25%), and the default is 50, as Run Command's own (an instance that fails keeps its current release)."
    },
    {
        name: 'fail-fast',
        kind: 'boolean',
        default: 'true',
        description: 'Stop the other targets (and start no more) when one fails.'
    },
    {
        name: 'dry-run',
        kind: 'boolean',
        default: 'false',
        description: 'Resolve credentials and targets, match the files and print the plan (local file, remote path, size, and with sync whether it would upload) without writing anything on the instance. The plan is the plan output.'
    },
    {
        name: 'delivery',
        kind: 'string',
        default: 'push',
        description: 'push: the runner uploads to each target over SSH (ssm, eice or nlb). s3: the runner uploads each distinct file once to S3 (content-addressed, S3-checksummed) and Systems Manager Run Command has every instance fetch, verify and publish it; targets are instance ids or tag filters.'
    },
    {
        name: 's3-bucket',
        kind: 'string',
        default: '',
        description: 'delivery: s3 — the bucket the runner uploads to and the instances fetch from (through presigned URLs).'
    },
    {
        name: 's3-prefix',
        kind: 'string',
        default: 'ec2-push',
        description: 'delivery: s3 — key prefix: objects go to <prefix>/objects/<sha256>, manifests to <prefix>/manifests/.'
    },
    {
        name: 'max-errors',
        kind: 'string',
        default: '',
        description: 'delivery: s3 with fail-fast: false — Run Command MaxErrors: instances that may fail (a count or a percentage) before the command is sent to no more of them. Default all.'
    },
    {
        name: 'forward',
        kind: 'list',
        default: '',
        description: "Port forwards left open for the later steps of the job, one per line, ssh -L style: [local-port:]host:port. localhost:<port> is a port on the instance itself (ssm; eice, where AWS allows ports 22 and 3389; nlb: the load balancer's listener on that port); another host is reached from the instance over ssm (AWS-StartPortForwardingSessionToRemoteHost). No local port, or 0, picks a free one (see forward-port). Needs one target; with files, the deploy runs first. The post step closes the listeners and ends the sessions."
    }
];
/** action.yml's outputs, in its order (the CLI prints the same names). */
const OUTPUTS = [
    {
        name: 'bytes-transferred',
        description: 'Bytes of the files uploaded and verified, summed over all targets.'
    },
    { name: 'duration-ms', description: 'How long the deploy took, in milliseconds.' },
    {
        name: 'bytes-per-second',
        description: "bytes-transferred divided by duration (the whole step), in bytes a second, rounded; the job summary and the CLI's last line give the same figure."
    },
    { name: 'files-uploaded', description: 'Files uploaded and verified, summed over all targets.' },
    {
        name: 'files-skipped',
        description: 'Files not uploaded because the instance already had them, summed over all targets.'
    },
    { name: 'files-total', description: 'Files that matched the patterns.' },
    { name: 'mode', description: 'The path used (ssm, eice or nlb; comma-separated when targets differ).' },
    {
        name: 'results',
        description: "JSON array, one object per target: target, mode, status (success, failure, cancelled, skipped), filesUploaded, filesSkipped, filesTotal, bytesTransferred, durationMs, verification, reconnects, roundTrips (round trips waited for per phase: connect, plan, upload, verify, publish, record), connections, releaseId, releasePath, previousRelease, rolledBack, filesDeleted, commandOutput (post-command's output, as command-output), error."
    },
    {
        name: 'command-output',
        description: "post-command's output (stdout and stderr, as it wrote them) with one target, at most its last 64 KiB (a first line says how much was cut), with every secret the step masks replaced by ***. With several targets it is empty: each object of results has its own commandOutput."
    },
    {
        name: 'release-path',
        description: 'The release folder on the instances (remote-path/releases/<id> with release: atomic; the folder current was switched to after a rollback), else remote-path.'
    },
    {
        name: 'plan',
        description: 'dry-run: JSON {dryRun, release, releasePath, targets: [{target, mode, remotePath, files: [{local, remote, size, action}], delete, protected, rollbackTo}]}.'
    },
    { name: 'forward-port', description: 'forward: the local port (on 127.0.0.1) of the first forward.' },
    {
        name: 'forward-ports',
        description: 'forward: JSON array, one object per forward: localPort, host, port.'
    }
];

;// CONCATENATED MODULE: ./build/action/forward/background.js








/**
 * The action's `forward`: the listeners must outlive the step, so they live in a detached
 * `ec2-push forward` process (the CLI bundle next to the action's) that this step starts and waits
 * for until its ready file names the local ports. Its pid and folder go to the step's state; the
 * post step (src/post.ts) sends it SIGTERM, which closes the listeners and ends the sessions.
 */
/** How long the background process may take to open its listeners (credentials, target lookup). */
const READY_TIMEOUT_MS = 120_000;
/** Inputs the background process needs: what finds the target and the credentials, not the deploy's. */
const FORWARD_INPUTS = new Set([
    'mode',
    'targets',
    'port',
    'aws-region',
    'role-to-assume',
    'role-session-name',
    'role-duration-seconds',
    'audience',
    'allowed-account-ids',
    'ssm-frame-size',
    'ssm-window-bytes',
    'eice-endpoint-id',
    'eice-max-tunnels',
    'forward'
]);
/** The CLI entry beside this bundle (dist/cli/index.js), or in the unbundled build (build/src/cli.js). */
function cliEntry() {
    const here = external_node_path_.dirname((0,external_node_url_.fileURLToPath)(import.meta.url));
    const candidates = [
        external_node_path_.join(here, 'cli', 'index.js'),
        external_node_path_.join(here, '..', 'cli.js'),
        external_node_path_.join(here, 'cli.js')
    ];
    const found = candidates.find(p => (0,external_node_fs_.existsSync)(p));
    if (!found)
        throw new Error(`the ec2-push CLI is missing beside the action (looked for ${candidates.join(', ')})`);
    return found;
}
async function startBackgroundForward(input) {
    const base = process.env.RUNNER_TEMP || external_node_os_.tmpdir();
    const dir = await (0,promises_.mkdtemp)(external_node_path_.join(base, 'ec2-push-forward-'));
    const inputsFile = external_node_path_.join(dir, 'inputs.json');
    const readyFile = external_node_path_.join(dir, 'ready.json');
    const logFile = external_node_path_.join(dir, 'forward.log');
    const values = {};
    for (const i of INPUTS)
        if (FORWARD_INPUTS.has(i.name))
            values[i.name] = input(i.name);
    await (0,promises_.writeFile)(inputsFile, JSON.stringify(values), { mode: 0o600 });
    const log = await (0,promises_.open)(logFile, 'a');
    const child = (0,external_node_child_process_.spawn)(process.execPath, [cliEntry(), 'forward', '--inputs-file', inputsFile, '--ready-file', readyFile], { detached: true, stdio: ['ignore', log.fd, log.fd], env: process.env });
    await log.close();
    let exited;
    child.once('exit', code => (exited = code));
    child.unref();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(0,external_node_fs_.existsSync)(readyFile)) {
        if (exited !== undefined || Date.now() > deadline) {
            if (exited === undefined)
                child.kill('SIGTERM');
            const text = await (0,promises_.readFile)(logFile, 'utf8').catch(() => '');
            const why = text
                .split('\n')
                .reverse()
                .find(l => l.startsWith('ec2-push: '))
                ?.slice('ec2-push: '.length);
            throw new errors/* UserError */.yo(why ??
                `the forward did not start within ${READY_TIMEOUT_MS / 1000} s: ${text.trim().split('\n').pop() ?? ''}`);
        }
        await new Promise(r => setTimeout(r, 100));
    }
    const ready = JSON.parse(await (0,promises_.readFile)(readyFile, 'utf8'));
    return { pid: child.pid ?? ready.pid, dir, forwards: ready.forwards };
}


/***/ })

};
