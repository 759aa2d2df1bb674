import { BoundedText, MAX_COMMAND_OUTPUT } from '../report/command-output.js'
import { UserError } from '../errors.js'
import type { PlannedFile } from '../files/plan.js'
import { runUserCommand } from './user-command.js'
import { releaseDir, RUN_TOKEN } from '../remote/names.js'
import { SSM_DEFAULT_CONNECTIONS, type DeployConfig } from '../config.js'
import type { SshConnection } from '../ssh/connection.js'
import type { EarlyChannelsWanted } from '../ssh/early-channels.js'
import { SHELL_COMMAND } from '../ssh/shell-session.js'
import type { Phase } from '../ssh/round-trips.js'
import { keepShellReady } from '../ssh/exec.js'
import { runScriptOk } from '../ssh/run-script.js'
import { compareWithRemote, type SyncComparison } from '../sync/compare.js'
import { protectMatcher, type ProtectMatcher } from '../sync/protect.js'
import type { RemoteSnapshot, SnapshotRequest } from '../remote/sync-snapshot.js'
import type { ProbeAsked } from '../remote/probes.js'
import { connectionsUsable, connectionsWorth, isRanged, isStriped } from '../transfer/ranges.js'
import { SMALL_FILE_BYTES } from '../transfer/file-writes.js'
import { PACKS_AT_ONCE } from '../transfer/pack.js'
import type { FolderSurvey } from '../transfer/folders.js'
import { TargetConnection } from './connection.js'
import type { Step } from './runner.js'
import type { DeployState } from './state.js'
import type { TargetDeployOptions, TargetResult } from './types.js'
import { uploadFiles } from './upload-files.js'
import { randomBytes } from 'node:crypto'
import path from 'node:path'

/**
 * The connection a deploy to one target uses; runDeploy makes it early so connecting overlaps planning.
 * `early`: the channels it opens behind each login (deployChannels for a deploy's first connection).
 */
export function targetConnection(
  o: Pick<
    TargetDeployOptions,
    'target' | 'config' | 'login' | 'hostKey' | 'logger' | 'beforeConnect' | 'loginRefused' | 'backoffBaseMs'
  >,
  early?: EarlyChannelsWanted
): TargetConnection {
  return new TargetConnection({
    target: o.target,
    login: o.login,
    hostKey: o.hostKey,
    logger: o.logger,
    retries: o.config.retries,
    backoffBaseMs: o.backoffBaseMs ?? 1000,
    beforeConnect: o.beforeConnect,
    loginRefused: o.loginRefused,
    early
  })
}

/**
 * The channels a deploy's first connection opens as it connects, before the files are planned: a
 * shell for the scripts (the lock is the first), and unless nothing is to be uploaded (a rollback, a
 * dry run) the upload's SFTP channel.
 */
export function deployChannels(config: DeployConfig): EarlyChannelsWanted {
  const upload = !config.rollback && !config.dryRun
  // Decided before the files are known: an upload that verifies may send packs, a shell each.
  const execs = upload && config.verify !== 'none' ? PACKS_AT_ONCE : 1
  return { sftp: upload, exec: SHELL_COMMAND, execs }
}

/**
 * A connection beside a deploy's first that the upload shares files with, its round trips counted
 * to the upload: an SFTP channel and, where files are verified, `shells` opened behind the login
 * (PACKS_AT_ONCE where small files may go in packs).
 */
export function extraLink(
  o: Parameters<typeof targetConnection>[0],
  shells = PACKS_AT_ONCE
): TargetConnection {
  const verify = o.config.verify !== 'none'
  const l = targetConnection(o, { sftp: true, exec: verify ? SHELL_COMMAND : undefined, execs: shells })
  l.trips.phase = 'upload'
  return l
}

/**
 * Whether an upload of files found so far (`count` of them, the last `size` bytes) will use a
 * second connection wherever one is allowed: two files or more, or one striped (connectionsWorth
 * and connectionsUsable are at least 2 then), so runDeploy opens it while the rest is planned.
 */
export function worthSecondConnection(count: number, size: number): boolean {
  return count >= 2 || isStriped({ size })
}

/** Bytes one connection carries in about the time another takes to open (its TCP window a round trip). */
const LATE_EXTRA_BYTES = 64 * 1024 * 1024

/**
 * The connections worth using for an upload decided late (a sync knows what changed only after
 * the comparison): another connection then opens on the critical path, some ten round trips, so it
 * pays only for more than one connection carries meanwhile: files beyond what `concurrency` keeps
 * in flight twice over, many bytes, or a file striped over every connection.
 */
export function lateConnections(files: readonly { size: number }[], concurrency: number): number {
  const bytes = files.reduce((n, f) => n + f.size, 0)
  if (files.length > 2 * concurrency || bytes > LATE_EXTRA_BYTES) return connectionsUsable(files)
  return Math.min(1, connectionsUsable(files))
}

/**
 * The connections an upload of `files` is worth: all it can use when `connections` was given, or
 * over ssm, whose data channel carries at most its window (ssm-window-bytes) a round trip per
 * connection, so that each connection counts there whatever the files; else connectionsWorth.
 */
function connectionsFor(config: DeployConfig, mode: string, files: readonly { size: number }[]): number {
  if (config.connectionsGiven || mode === 'ssm') return connectionsUsable(files)
  return connectionsWorth(files)
}

/**
 * How many connections an upload to one target may use: `connections` (when not given, 8 over ssm,
 * SSM_DEFAULT_CONNECTIONS), and over eice its share of the endpoint's tunnels.
 */
export function connectionLimit(
  config: Pick<DeployConfig, 'connections' | 'connectionsGiven' | 'eiceMaxTunnels' | 'maxParallelTargets'>,
  mode: string
): number {
  const tunnels =
    mode === 'eice' ? Math.floor(config.eiceMaxTunnels / Math.max(1, config.maxParallelTargets)) : Infinity
  const wanted = !config.connectionsGiven && mode === 'ssm' ? SSM_DEFAULT_CONNECTIONS : config.connections
  return Math.max(1, Math.min(wanted, tunnels))
}

/** The folders (relative, with every ancestor, and the root itself as '.') that hold these files. */
export function foldersOf(rels: string[]): Set<string> {
  const dirs = new Set<string>()
  for (const rel of rels) {
    for (let d = path.posix.dirname(rel); !dirs.has(d); d = path.posix.dirname(d)) {
      dirs.add(d)
      if (d === '.') break
    }
  }
  return dirs
}

/**
 * What every step of one target's deploy shares: the options, the connection, the result's figures
 * (the steps add to them), and the helpers steps use (log lines, user commands, the upload, the
 * comparison). It holds no step's state: that is DeployState, handed from step to step.
 */
export class DeployContext {
  readonly result: TargetResult
  readonly link: TargetConnection
  readonly isProtected: ProtectMatcher
  readonly root: string
  /** This deploy's lock token (unique per deploy) and the token its temporaries carry (per run). */
  readonly token = `${RUN_TOKEN}-${randomBytes(4).toString('hex')}`
  readonly tempToken = RUN_TOKEN
  /** Steps whose fragment rode along with an earlier exec (the runner skips them). */
  readonly absorbed = new Set<Step>()
  /** The steps after the one running (for execWithTail). */
  following: readonly Step[] = []
  /** While undoing after a cancellation: the budget's signal (undos pass it to their execs). */
  undoSignal?: AbortSignal

  constructor(readonly o: TargetDeployOptions) {
    const { config, target, plan } = o
    this.result = {
      target: target.label,
      mode: target.mode,
      status: 'failure',
      filesUploaded: 0,
      filesSkipped: 0,
      filesTotal: plan.files.length,
      bytesTransferred: 0,
      durationMs: 0,
      verification: config.verify === 'none' ? 'none' : 'pending',
      reconnects: 0
    }
    this.link = o.link ?? targetConnection(o, deployChannels(o.config))
    if (o.extraLink) this.extra.push(this.ready(o.extraLink))
    this.isProtected = protectMatcher(config.protect)
    this.root = config.remotePath
  }

  /**
   * The upload's SFTP channel, the verification probe and a shell for the next script open
   * alongside the first steps (lock, listing): each costs round trips, which over ssm or eice are
   * tens of milliseconds apiece.
   */
  prepareConnection(): void {
    const { config, plan } = this.o
    const upload = !config.rollback && plan.files.length > 0
    // The verification probe is asked in the lock's exec (verifyProbe), so the lock's script
    // goes to the shell kept ready here rather than wait for one of its own to start.
    const shells = this.packShells()
    this.link.setOnConnect(conn => {
      if (upload) conn.sftp().catch(() => {})
      keepShellReady(conn, shells)
    })
    // A full upload of several files shares them among more connections: open those alongside the
    // first (a sync decides later, once it knows how many files changed).
    if (upload && !config.sync) this.extraLinks(connectionsFor(config, this.o.target.mode, plan.files))
  }

  /** Shells each connection keeps ready: one for scripts, and where small files go in packs, one per pack sent at once. */
  private packShells(): number {
    const { config, plan } = this.o
    const packs = config.verify !== 'none' && plan.files.some(f => f.size <= SMALL_FILE_BYTES)
    return packs ? PACKS_AT_ONCE : 1
  }

  /**
   * What the lock's exec asks of the verification probe for the upload (transfer/verify.ts), if
   * anything: OpenSSL only where a file will be hashed by the large-file hasher (a ranged upload, a
   * sync's comparison).
   */
  verifyProbe(): ProbeAsked | undefined {
    const { config, plan } = this.o
    if (config.rollback || plan.files.length === 0 || config.verify === 'none') return undefined
    return { openssl: !!config.sync || plan.files.some(isRanged) }
  }

  /** Connections beside `link` that the upload shares files with. */
  readonly extra: TargetConnection[] = []

  private connectionLimit(): number {
    return connectionLimit(this.o.config, this.o.target.mode)
  }

  /** The connections beside `link` for an upload that can use `usable` connections, opened (and made ready) now. */
  extraLinks(usable: number): TargetConnection[] {
    const want = Math.min(this.connectionLimit() - 1, usable - 1)
    while (this.extra.length < want) {
      const l = extraLink(this.o, this.packShells())
      l.prewarm(this.o.signal ?? new AbortController().signal)
      this.extra.push(this.ready(l))
    }
    return this.extra.slice(0, Math.max(0, want))
  }

  /**
   * What an extra connection starts as it connects: the upload's SFTP channel and the shells packs
   * need (set here for one runDeploy opened before the files were planned, too).
   */
  private ready(l: TargetConnection): TargetConnection {
    const verify = this.o.config.verify !== 'none'
    const shells = this.packShells()
    // No probe of their own: the upload gives them the first connection's answer (shareVerifyMethod).
    l.setOnConnect(conn => {
      conn.sftp().catch(() => {})
      if (verify) keepShellReady(conn, shells)
    })
    return l
  }

  /** Close every connection and put their figures in the result. */
  async closeLinks(): Promise<void> {
    this.link.close()
    for (const l of this.extra) {
      await l.settle()
      l.close()
    }
    this.result.reconnects = this.link.reconnects + this.extra.reduce((n, l) => n + l.reconnects, 0)
    // The connections wait side by side: each phase took as many round trips as the longest chain.
    const trips = { ...this.link.trips.byPhase }
    for (const l of this.extra)
      for (const p of Object.keys(trips) as Phase[]) trips[p] = Math.max(trips[p], l.trips.byPhase[p])
    this.result.roundTrips = trips
    this.result.connections = 1 + this.extra.length
  }

  get config() {
    return this.o.config
  }

  get label(): string {
    return this.o.target.label
  }

  get cancelled(): boolean {
    return !!this.o.signal?.aborted
  }

  throwIfCancelled(): void {
    if (this.cancelled) throw new UserError(`The deploy to ${this.label} was cancelled`)
  }

  /** The signal a step's work stops on: the deploy's, or while undoing, the undo budget's. */
  get signal(): AbortSignal | undefined {
    return this.undoSignal ?? this.o.signal
  }

  info(line: string): void {
    this.o.logger.info(this.o.parallel ? `[${this.label}] ${line}` : line)
  }

  warn(line: string): void {
    this.o.logger.warning(line)
  }

  /** A log group when targets run one at a time; plain prefixed lines when they run together. */
  phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.o.parallel ? fn() : this.o.logger.group(`${name}`, fn)
  }

  /** Run a script as one idempotent step (reconnecting when the connection drops under it). */
  exec(what: string, script: string, signal = this.signal): Promise<string> {
    return this.link.step(what, conn => runScriptOk(conn, script, what), signal)
  }

  /**
   * Run `script` with the fragments of the steps right after this one that can ride along (unlock,
   * for one), in one exec. Returns the output and what those steps would have returned.
   */
  async execWithTail(
    what: string,
    script: string,
    state: Readonly<DeployState>,
    run: (conn: SshConnection, script: string) => Promise<string> = (conn, s) => runScriptOk(conn, s, what)
  ): Promise<{ out: string; done: Partial<DeployState> }> {
    const { riders, tail, done } = this.fragments(this.following, state)
    const out = await this.link.step(what, conn => run(conn, script + tail), this.signal)
    for (const step of riders) this.absorbed.add(step)
    return { out, done }
  }

  /** The fragments of the first of `steps` that have one, in a row (unlock's, for one). */
  fragments(
    steps: readonly Step[],
    state: Readonly<DeployState>
  ): { riders: Step[]; tail: string; done: Partial<DeployState> } {
    const riders: Step[] = []
    const done: Partial<DeployState> = {}
    let tail = ''
    for (const step of steps) {
      const f = step.fragment?.(this, { ...state, ...done })
      if (!f) break
      riders.push(step)
      tail += f.script
      Object.assign(done, f.done)
    }
    return { riders, tail, done }
  }

  commandEnv(releasePath: string, previous?: string): Record<string, string> {
    const env: Record<string, string> = {
      EC2_PUSH_RELEASE_PATH: releasePath,
      EC2_PUSH_RELEASE_ID: this.result.releaseId ?? this.config.releaseId,
      EC2_PUSH_REMOTE_PATH: this.root,
      EC2_PUSH_TARGET: this.label
    }
    if (previous) env.EC2_PUSH_PREVIOUS_RELEASE_PATH = releaseDir(this.root, previous)
    return env
  }

  /** pre-command / post-command over the same connection (never retried: it may not be idempotent). */
  async command(name: 'pre-command' | 'post-command', env: Record<string, string>): Promise<void> {
    const command = name === 'pre-command' ? this.config.preCommand : this.config.postCommand
    if (!command) return
    // post-command's output becomes the command-output step output (kept when it fails too). Lines
    // are masked whole, before the bound could cut a secret in two.
    const output = name === 'post-command' ? new BoundedText(MAX_COMMAND_OUTPUT) : undefined
    const mask = (line: string) => this.o.logger.mask?.(line) ?? line
    try {
      await this.phase(`${name} on ${this.label}`, async () => {
        const conn = await this.link.get(this.signal)
        await runUserCommand(conn, {
          name,
          command,
          cwd: this.root,
          env,
          timeoutMs: this.config.commandTimeoutSeconds * 1000,
          signal: this.signal,
          onLine: line => {
            this.info(line)
            output?.add(mask(line))
          }
        })
      })
    } finally {
      if (output) this.result.commandOutput = output.text()
    }
  }

  /**
   * `present`: files already in place under remoteRoot (their folders need no mkdir); `survey`:
   * the folders as the lock's exec found them.
   */
  async upload(
    files: PlannedFile[],
    remoteRoot: string,
    present: string[] = [],
    survey?: FolderSurvey
  ): Promise<void> {
    const { config, target } = this.o
    if (files.length === 0 && this.o.plan.files.length > 0) {
      if (this.result.verification === 'pending')
        this.result.verification = 'sha256 (all unchanged on the instance)'
      this.info(`${this.label}: nothing to upload, all ${this.result.filesSkipped} files unchanged`)
      return
    }
    await this.phase(`Upload to ${this.label} (${target.mode}: ${target.tunnel.description})`, async () => {
      this.link.trips.phase = 'upload'
      await uploadFiles({
        link: this.link,
        extraLinks: this.extraLinks(
          this.config.sync
            ? Math.min(lateConnections(files, config.concurrency), connectionsFor(config, target.mode, files))
            : connectionsFor(config, target.mode, files)
        ),
        files,
        remoteRoot,
        existingDirs: foldersOf(present),
        survey,
        concurrency: config.concurrency,
        verify: config.verify,
        followRemoteSymlinks: config.followRemoteSymlinks,
        deletesExtras: config.delete,
        retries: config.retries,
        backoffBaseMs: this.o.backoffBaseMs ?? 1000,
        logger: this.o.logger,
        progress: this.result,
        signal: this.o.signal
      })
      this.info(
        `${this.label}: ${this.result.filesUploaded} files uploaded (${this.result.bytesTransferred} bytes)${this.result.filesSkipped ? `, ${this.result.filesSkipped} unchanged` : ''}, verified: ${this.result.verification}`
      )
    })
  }

  /** With sync, what the instance compares the folder with (the local digests: this waits for them). */
  async snapshotRequest(): Promise<SnapshotRequest | undefined> {
    const digests = this.config.sync ? await this.o.localDigests : undefined
    return digests && { files: this.o.plan.files, digests }
  }

  compare(
    dir: string,
    what: string,
    snapshot?: RemoteSnapshot,
    manifestFile?: string
  ): Promise<SyncComparison> {
    return this.link.step(
      what,
      async conn =>
        compareWithRemote(
          conn,
          dir,
          this.o.plan.files,
          this.config.sync ? await this.o.localDigests : undefined,
          this.o.manifestKey,
          snapshot,
          manifestFile
        ),
      this.signal
    )
  }

  /** The sealed manifest for the next sync (without it the next sync hashes on the instance). */
  willWriteManifest(): boolean {
    return !!this.o.manifestKey && !!this.o.localDigests && this.config.verify !== 'none'
  }
}
