import path from 'node:path'
import { parseS3Delivery, type S3DeliveryConfig } from './delivery/s3/options.js'
import { UserError } from './errors.js'
import { parseForwardSpecs, type ForwardSpec } from './forward/spec.js'

/**
 * One validated configuration for a deploy, built from the action's inputs or the CLI's flags
 * (both go through `InputSource`, so the two entries share names, defaults and error messages).
 */

export type Mode = 'ssm' | 'eice' | 'nlb' | 'auto'
export type IfNoFilesFound = 'error' | 'warn' | 'ignore'
export type VerifyMode = 'sha256' | 'none'

export type TargetSpec =
  | { kind: 'host'; host: string; port: number; label: string; instanceId?: string }
  | { kind: 'instance'; instanceId: string; label: string }
  | { kind: 'tag'; key: string; value: string; label: string }

export interface AwsConfig {
  region?: string
  roleToAssume?: string
  roleSessionName: string
  roleDurationSeconds: number
  audience: string
  allowedAccountIds: string[]
}

/**
 * Files in flight per connection. Over a long link every file waits out two round trips (its open,
 * then its write and close), so a connection's share of small files should be in flight at once,
 * not in waves; the upload also keeps their bytes in flight under a budget (transfer/upload.ts).
 * 512 open files stay inside sftp-server's usual limit of 1,024 descriptors.
 */
export const DEFAULT_CONCURRENCY = 512

/**
 * SSH connections per target for an upload of several files: each has its own SFTP window (sshd's
 * 2 MiB per channel), TCP window and chain of waits, and takes a share of the files. Over a long
 * link one connection's windows and round trips bind; see the wan section of `npm run bench`.
 */
export const DEFAULT_CONNECTIONS = 4
/**
 * The same over ssm when `connections` is not given: a Session Manager session carries at most
 * ssm-window-bytes (1 MiB) unacknowledged, so one moves some 10 MiB/s at 100 ms, far below its TCP
 * window; more sessions are what makes a large file fast there.
 */
export const SSM_DEFAULT_CONNECTIONS = 8

export interface DeployConfig {
  mode: Mode
  targets: TargetSpec[]
  files: string[]
  baseDir?: string
  includeHiddenFiles: boolean
  remotePath: string
  ifNoFilesFound: IfNoFilesFound
  user: string
  /** SSH port on the instance (ssm/eice), and of nlb targets given without one. */
  port: number
  sshPrivateKey?: string
  sshPassphrase?: string
  hostKeyFingerprint?: string
  knownHosts?: string
  strictHostKey: boolean
  concurrency: number
  /** At most this many connections per target; exactly this many where the files can use them when `connectionsGiven`. */
  connections: number
  /** `connections` was given: else an upload of small files only opens fewer (transfer/ranges.ts, connectionsWorth). */
  connectionsGiven?: boolean
  retries: number
  verify: VerifyMode
  timeoutSeconds: number
  /** How long to wait for another deploy's lock before failing (0: fail at once, naming the holder). */
  lockWaitSeconds: number
  aws: AwsConfig
  ssmDocument: 'AWS-StartSSHSession' | 'AWS-StartPortForwardingSession'
  /** Session Manager: payload bytes per data-channel frame, and the bound on unacknowledged bytes. */
  ssmFrameSize: number
  ssmWindowBytes: number
  eiceEndpointId?: string
  /** Tunnels open at once through one EICE endpoint (the service allows 20 per endpoint). */
  eiceMaxTunnels: number
  /** `none`: files written in place (each atomically); `atomic`: releases/<id> + a `current` symlink. */
  release: ReleaseMode
  keepReleases: number
  releaseId: string
  /** Switch `current` back to the previous release and upload nothing. */
  rollback: boolean
  preCommand?: string
  postCommand?: string
  commandTimeoutSeconds: number
  sync: boolean
  delete: boolean
  /** Patterns (relative to remote-path) that `delete` never removes. */
  protect: string[]
  /** Write through folder symlinks on the instance that lead out of remote-path (else refused). */
  followRemoteSymlinks: boolean
  maxParallelTargets: number
  failFast: boolean
  dryRun: boolean
  /** `push`: over SSH from the runner to each target; `s3`: once to S3, then Run Command on every instance. */
  delivery: 'push' | 's3'
  /** delivery: s3 only. */
  s3?: S3DeliveryConfig
  /** Port forwards left open for the rest of the job (src/forward/). */
  forward: ForwardSpec[]
  /** forward given without files: open the forwards, deploy nothing. */
  forwardOnly: boolean
}

export type ReleaseMode = 'none' | 'atomic'

/** Reads one raw input by its action.yml name; returns '' when unset. */
export type InputSource = (name: string) => string

const YAML_TRUE = ['true', 'True', 'TRUE']
const YAML_FALSE = ['false', 'False', 'FALSE']

export function parseBoolean(name: string, raw: string, dflt: boolean): boolean {
  const v = raw.trim()
  if (v === '') return dflt
  if (YAML_TRUE.includes(v)) return true
  if (YAML_FALSE.includes(v)) return false
  throw new UserError(`Input '${name}' must be true or false, got '${v}'.`)
}

export function parseInteger(name: string, raw: string, dflt: number, min: number, max: number): number {
  const v = raw.trim()
  if (v === '') return dflt
  if (!/^\d+$/.test(v))
    throw new UserError(`Input '${name}' must be a whole number from ${min} to ${max}, got '${v}'.`)
  const n = Number(v)
  if (n < min || n > max) throw new UserError(`Input '${name}' must be from ${min} to ${max}, got ${n}.`)
  return n
}

function parseChoice<T extends string>(name: string, raw: string, dflt: T, choices: readonly T[]): T {
  const v = raw.trim()
  if (v === '') return dflt
  if (!(choices as readonly string[]).includes(v)) {
    throw new UserError(`Input '${name}' must be one of ${choices.join(', ')}; got '${v}'.`)
  }
  return v as T
}

/** Split a list input: one item per line or comma-separated; blank lines and `#` comments dropped. */
export function parseList(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l !== '' && !l.startsWith('#'))
    .flatMap(l => l.split(','))
    .map(s => s.trim())
    .filter(Boolean)
}

const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/

/**
 * One item of 'targets'. `defaultPort` is the port of a host given without one (the 'port' input, so
 * `--mode nlb --targets 10.0.0.5 --port 2222` goes to 2222).
 */
export function parseTarget(item: string, defaultPort = 22): TargetSpec {
  if (INSTANCE_ID.test(item)) return { kind: 'instance', instanceId: item, label: item }
  // 'i-xyz' or 'i-0123' is a mistyped instance id, not the host name it would otherwise pass for.
  if (/^m?i-[A-Za-z0-9]*$/.test(item)) {
    throw new UserError(
      `Target '${item}' is not a valid instance id: an instance id is 'i-' and 8 or 17 hexadecimal digits (0-9, a-f), like i-0123456789abcdef0; check it in the EC2 console.`
    )
  }
  // `i-...@host[:port]`: an NLB address with the instance behind it named, so one-time keys can be pushed.
  const behind = /^(i-[0-9a-f]{8,17})@(.+)$/.exec(item)
  if (behind) {
    const spec = parseTarget(behind[2], defaultPort)
    if (spec.kind !== 'host') throw new UserError(`Target '${item}': after 'instance-id@' give host[:port].`)
    return { ...spec, instanceId: behind[1], label: item }
  }
  const tag = /^tag:([^=]+)=(.*)$/.exec(item)
  if (tag) return { kind: 'tag', key: tag[1], value: tag[2], label: item }
  // host, host:port, [v6]:port, or a bare IPv6 address
  let host = item
  let port = defaultPort
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(item)
  const hostPort = /^([^:]+):(\d+)$/.exec(item)
  if (bracket) {
    host = bracket[1]
    if (bracket[2]) port = Number(bracket[2])
  } else if (hostPort) {
    host = hostPort[1]
    port = Number(hostPort[2])
  }
  const isIPv6 = host.includes(':')
  if (!isIPv6 && !HOSTNAME.test(host)) {
    throw new UserError(
      `Target '${item}' is not an instance id (i-...), a tag filter (tag:Key=Value) or host[:port].`
    )
  }
  if (port < 1 || port > 65535) throw new UserError(`Target '${item}' has port ${port}; use 1-65535.`)
  return { kind: 'host', host, port, label: item }
}

const FINGERPRINT = /^(SHA256:)?[A-Za-z0-9+/]{43}=?$/

/**
 * 'host-key-fingerprint': SHA256:<43 base64 characters>, bare, or within the whole line
 * 'ssh-keygen -lf' prints ('256 SHA256:... root@host (ED25519)').
 */
export function parseFingerprint(raw: string): string | undefined {
  const v = raw.trim()
  if (!v) return undefined
  if (FINGERPRINT.test(v)) return v
  const inLine = /(?:^|\s)(SHA256:[A-Za-z0-9+/]{43}=?)(?=\s|$)/.exec(v)
  if (inLine) return inLine[1]
  const md5 = /(?:^|\s)MD5:/.test(v)
    ? " That is an MD5 fingerprint: print the SHA256 one with 'ssh-keygen -lf FILE -E sha256'."
    : ''
  throw new UserError(
    `Input 'host-key-fingerprint' must be SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints), got '${v}'.${md5}`
  )
}

/** Normalise a key pasted into a secret: CRLF, literal \n sequences, missing trailing newline. */
export function normalisePrivateKey(raw: string): string {
  let key = raw.trim()
  if (!key) return ''
  if (!key.includes('\n') && key.includes('\\n')) key = key.replace(/\\n/g, '\n')
  return key.replace(/\r\n?/g, '\n') + '\n'
}

/** The remote destination: absolute, or relative to the login directory, never climbing out with `..`. */
/**
 * `~` and `~/dir` are the login's home, as scp and sftp read them: relative paths are resolved there
 * (SFTP and ssh both start in it). `~user` is refused rather than taken as a folder named so.
 */
function fromHome(v: string): string {
  if (v === '~' || v === '~/') return '.'
  if (v.startsWith('~/')) return v.slice(2).replace(/^\/+/, '') || '.'
  if (v.startsWith('~')) {
    throw new UserError(
      `Input 'remote-path' '${v}' names another user's home; give it as an absolute path (~/ alone means the login's home).`
    )
  }
  return v
}

export function parseRemotePath(raw: string): string {
  const v = raw.trim()
  if (!v) throw new UserError("Input 'remote-path' is required: the folder on the instance to upload into.")
  if (v.includes('\0')) throw new UserError("Input 'remote-path' contains a NUL byte.")
  const norm = path.posix.normalize(fromHome(v))
  if (!path.posix.isAbsolute(norm) && (norm === '..' || norm.startsWith('../'))) {
    throw new UserError(
      `Input 'remote-path' '${v}' climbs above the login directory with '..'; give an absolute path or one inside the home folder.`
    )
  }
  return norm.length > 1 ? norm.replace(/\/+$/, '') : norm
}

export function buildConfig(raw: InputSource): DeployConfig {
  const delivery = parseChoice('delivery', raw('delivery'), 'push', ['push', 's3'] as const)
  // With s3, max-parallel-targets is Run Command's MaxConcurrency (a count or a percentage).
  const input: InputSource = name => (delivery === 's3' && name === 'max-parallel-targets' ? '' : raw(name))
  // Read whatever the delivery, so every input of the table is read by the parser.
  const s3Inputs = new Map(['s3-bucket', 's3-prefix', 'max-errors'].map(n => [n, raw(n)]))
  const mode = parseChoice<Mode>('mode', input('mode'), 'auto', ['ssm', 'eice', 'nlb', 'auto'])
  const targetItems = parseList(input('targets'))
  if (targetItems.length === 0) {
    throw new UserError(
      "Input 'targets' is required: give instance ids (i-...), tag filters (tag:Role=web) or, for nlb, host[:port]."
    )
  }
  const port = parseInteger('port', input('port'), 22, 1, 65535)
  const targets = targetItems.map(item => parseTarget(item, port))
  if (mode === 'nlb') {
    const notHost = targets.find(t => t.kind !== 'host')
    if (notHost) {
      throw new UserError(
        `mode 'nlb' needs host[:port] targets (the load balancer's DNS name); '${notHost.label}' is an instance id or tag filter.`
      )
    }
  }
  const files = input('files')
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l !== '' && !l.startsWith('#'))
  const rollback = parseBoolean('rollback', input('rollback'), false)
  const forward = parseForwardSpecs(input('forward'))
  // forward alone opens the tunnels and deploys nothing.
  const forwardOnly = forward.length > 0 && files.length === 0 && !rollback
  if (forward.length > 0 && targets.length !== 1) {
    throw new UserError(
      `Input 'forward' needs exactly one target, got ${targets.length}: the listeners lead to one instance.`
    )
  }
  if (files.length === 0 && !rollback && !forwardOnly) {
    throw new UserError(
      "Input 'files' is required: one glob pattern per line (e.g. dist/**), '!pattern' to exclude."
    )
  }
  const sshPrivateKey = normalisePrivateKey(input('ssh-private-key')) || undefined
  const hostKeyFingerprint = parseFingerprint(input('host-key-fingerprint'))
  const accountIds = parseList(input('allowed-account-ids'))
  const badAccount = accountIds.find(a => !/^\d{12}$/.test(a))
  if (badAccount)
    throw new UserError(`Input 'allowed-account-ids' has '${badAccount}'; account ids are 12 digits.`)

  return {
    mode,
    targets,
    files,
    baseDir: input('base-dir').trim() || undefined,
    includeHiddenFiles: parseBoolean('include-hidden-files', input('include-hidden-files'), false),
    remotePath: forwardOnly ? input('remote-path').trim() : parseRemotePath(input('remote-path')),
    ifNoFilesFound: parseChoice<IfNoFilesFound>('if-no-files-found', input('if-no-files-found'), 'error', [
      'error',
      'warn',
      'ignore'
    ]),
    user: input('user').trim() || 'ec2-user',
    port,
    sshPrivateKey,
    sshPassphrase: input('ssh-passphrase') || undefined,
    hostKeyFingerprint,
    knownHosts: input('known-hosts').trim() || undefined,
    strictHostKey: parseBoolean('strict-host-key', input('strict-host-key'), true),
    concurrency: parseInteger('concurrency', input('concurrency'), DEFAULT_CONCURRENCY, 1, 1024),
    connections: parseInteger('connections', input('connections'), DEFAULT_CONNECTIONS, 1, 16),
    connectionsGiven: input('connections').trim() !== '',
    retries: parseInteger('retries', input('retries'), 3, 0, 20),
    verify: parseChoice<VerifyMode>('verify', input('verify'), 'sha256', ['sha256', 'none']),
    timeoutSeconds: parseInteger('timeout-seconds', input('timeout-seconds'), 1800, 1, 6 * 3600),
    lockWaitSeconds: parseInteger('lock-wait-seconds', input('lock-wait-seconds'), 0, 0, 6 * 3600),
    aws: {
      region: input('aws-region').trim() || undefined,
      roleToAssume: input('role-to-assume').trim() || undefined,
      roleSessionName: input('role-session-name').trim() || 'ec2-push',
      roleDurationSeconds: parseInteger(
        'role-duration-seconds',
        input('role-duration-seconds'),
        3600,
        900,
        43200
      ),
      audience: input('audience').trim() || 'sts.amazonaws.com',
      allowedAccountIds: accountIds
    },
    ssmDocument: parseChoice('ssm-document', input('ssm-document'), 'AWS-StartSSHSession', [
      'AWS-StartSSHSession',
      'AWS-StartPortForwardingSession'
    ] as const),
    ssmFrameSize: parseInteger('ssm-frame-size', input('ssm-frame-size'), 1024, 64, 65536),
    ssmWindowBytes: parseInteger(
      'ssm-window-bytes',
      input('ssm-window-bytes'),
      1024 * 1024,
      1024,
      64 * 1024 * 1024
    ),
    eiceEndpointId: input('eice-endpoint-id').trim() || undefined,
    eiceMaxTunnels: parseInteger('eice-max-tunnels', input('eice-max-tunnels'), 8, 1, 20),
    forward,
    forwardOnly,
    ...releaseInputs(input, rollback),
    delivery,
    s3:
      delivery === 's3'
        ? parseS3Delivery(n => s3Inputs.get(n) ?? raw(n), parseBoolean('fail-fast', raw('fail-fast'), true))
        : undefined
  }
}

type ReleaseInputs = Pick<
  DeployConfig,
  | 'release'
  | 'keepReleases'
  | 'releaseId'
  | 'rollback'
  | 'preCommand'
  | 'postCommand'
  | 'commandTimeoutSeconds'
  | 'sync'
  | 'delete'
  | 'protect'
  | 'followRemoteSymlinks'
  | 'maxParallelTargets'
  | 'failFast'
  | 'dryRun'
>

function releaseInputs(input: InputSource, rollback: boolean): ReleaseInputs {
  const release = parseChoice<ReleaseMode>('release', input('release'), 'none', ['none', 'atomic'])
  if (rollback && release !== 'atomic') {
    throw new UserError(
      "Input 'rollback: true' needs 'release: atomic' (there are no releases to go back to)."
    )
  }
  const del = parseBoolean('delete', input('delete'), false)
  return {
    release,
    keepReleases: parseInteger('keep-releases', input('keep-releases'), 5, 1, 100),
    releaseId: parseReleaseId(input('release-id')),
    rollback,
    preCommand: input('pre-command').trim() || undefined,
    postCommand: input('post-command').trim() || undefined,
    commandTimeoutSeconds: parseInteger(
      'command-timeout-seconds',
      input('command-timeout-seconds'),
      600,
      1,
      6 * 3600
    ),
    sync: parseBoolean('sync', input('sync'), false),
    delete: del,
    protect: input('protect')
      .split(/\r?\n/)
      .map(l => l.trim())
      .filter(l => l !== '' && !l.startsWith('#')),
    followRemoteSymlinks: parseBoolean('follow-remote-symlinks', input('follow-remote-symlinks'), false),
    maxParallelTargets: parseInteger('max-parallel-targets', input('max-parallel-targets'), 1, 1, 64),
    failFast: parseBoolean('fail-fast', input('fail-fast'), true),
    dryRun: parseBoolean('dry-run', input('dry-run'), false)
  }
}

/** Letters, digits, `.`, `_`, `-`; starting with a letter or digit (never `.`/`..`, never a path). */
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** The release id: given, else the workflow run id and attempt, else a UTC timestamp. */
export function parseReleaseId(raw: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = raw.trim()
  if (v) {
    if (!RELEASE_ID.test(v)) {
      throw new UserError(
        `Input 'release-id' '${v}' may hold only letters, digits, '.', '_' and '-' (up to 100, starting with a letter or digit).`
      )
    }
    return v
  }
  const runId = env.GITHUB_RUN_ID?.trim()
  if (runId && /^\d+$/.test(runId)) {
    const attempt = env.GITHUB_RUN_ATTEMPT?.trim()
    return attempt && /^\d+$/.test(attempt) ? `${runId}-${attempt}` : runId
  }
  return new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}
