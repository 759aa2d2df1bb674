import { randomBytes } from 'node:crypto'
import path from 'node:path'
import type { DeployConfig } from './config.js'
import { errorMessage } from './errors.js'
import type { FilePlan, PlannedFile } from './files/plan.js'
import type { Logger } from './log.js'
import { runUserCommand } from './release/commands.js'
import { atomicRelease, rollbackOnPurpose } from './release/flows.js'
import { releaseDir, releaseStateScript } from './release/layout.js'
import { acquireLock, releaseLock, releaseLockScript, type HeldLock } from './release/lock.js'
import type { SshLogin } from './ssh/connection.js'
import { keepShellReady } from './ssh/exec.js'
import type { Phase } from './ssh/round-trips.js'
import type { HostKeyPolicy } from './ssh/host-key.js'
import { deletable, deleteRemoteFiles } from './sync/apply.js'
import { compareWithRemote, type SyncComparison } from './sync/compare.js'
import { refreshListing } from './sync/listing.js'
import { writeCarriedManifest, writeManifest } from './sync/manifest-write.js'
import { protectMatcher, type ProtectMatcher } from './sync/protect.js'
import type { RemoteEntry } from './remote/listing.js'
import {
  parseSnapshot,
  snapshotScript,
  type RemoteSnapshot,
  type SnapshotRequest
} from './remote/sync-snapshot.js'
import { TargetConnection } from './target/connection.js'
import { uploadFiles } from './target/upload-files.js'
import { probeVerifyMethod } from './transfer/verify.js'
import type { ResolvedTarget } from './tunnel/index.js'

export type TargetStatus = 'success' | 'failure' | 'cancelled' | 'skipped'

export interface TargetResult {
  target: string
  mode: string
  status: TargetStatus
  filesUploaded: number
  filesSkipped: number
  filesTotal: number
  bytesTransferred: number
  durationMs: number
  verification: string
  reconnects: number
  /** Round trips waited for, by phase (see ssh/round-trips.ts). */
  roundTrips?: Record<Phase, number>
  /** SSH connections the deploy opened to the target (the upload shares files among several). */
  connections?: number
  /** release: atomic — this deploy's release folder and the one `current` pointed to before. */
  releaseId?: string
  releasePath?: string
  previousRelease?: string
  /** `current` was switched back (a failed step after the switch, or rollback: true). */
  rolledBack?: boolean
  /** delete: true — remote files removed. */
  filesDeleted?: number
  error?: string
}

export interface TargetDeployOptions {
  target: ResolvedTarget
  plan: FilePlan
  config: DeployConfig
  login: SshLogin
  hostKey: HostKeyPolicy
  logger: Logger
  signal?: AbortSignal
  /** Runs after the tunnel opens and right before each SSH login (pushes a one-time key). */
  beforeConnect?: (signal?: AbortSignal) => Promise<void>
  /** Why sshd may refuse the key (one-time keys): see SshConnectOptions.loginRefused. */
  loginRefused?: string
  /** sha256 of each planned file by relative path (needed for sync). */
  localDigests?: Promise<Map<string, string>>
  /** Seals the sync manifest (undefined: no manifest is written or trusted). */
  manifestKey?: Buffer
  /** Several targets at once: no log groups (they would interleave), lines prefixed instead. */
  parallel?: boolean
  /** Test hook: scale backoff delays (1 = real). */
  backoffBaseMs?: number
  /** A connection already made (or on its way) for this target; by default the deploy makes its own. */
  link?: TargetConnection
}

/** The connection a deploy to one target uses; runDeploy makes it early so connecting overlaps planning. */
export function targetConnection(
  o: Pick<
    TargetDeployOptions,
    'target' | 'config' | 'login' | 'hostKey' | 'logger' | 'beforeConnect' | 'loginRefused' | 'backoffBaseMs'
  >
): TargetConnection {
  return new TargetConnection({
    target: o.target,
    login: o.login,
    hostKey: o.hostKey,
    logger: o.logger,
    retries: o.config.retries,
    backoffBaseMs: o.backoffBaseMs ?? 1000,
    beforeConnect: o.beforeConnect,
    loginRefused: o.loginRefused
  })
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

/** Does this configuration need a shell on the instance (beyond SFTP)? */
export function needsShell(config: DeployConfig): boolean {
  return (
    config.release === 'atomic' ||
    config.rollback ||
    config.sync ||
    config.delete ||
    !!config.preCommand ||
    !!config.postCommand
  )
}

/**
 * Deploy the plan to one target: lock, pre-command, upload (in place, or into a new release that
 * `current` is switched to), delete, post-command; an atomic release rolls back when a step after
 * the upload fails. Throws a one-line error; `result` (given in the error's `result`) has the figures.
 */
export async function deployToTarget(opts: TargetDeployOptions): Promise<TargetResult> {
  return new TargetDeploy(opts).run()
}

/** One target's deploy; the release flows (release/flows.ts) use its steps. */
export class TargetDeploy {
  readonly result: TargetResult
  readonly link: TargetConnection
  readonly isProtected: ProtectMatcher
  readonly root: string
  /** Output of the script run together with taking the lock (release state or a snapshot). */
  firstRead = ''
  lock?: HeldLock
  /** The lock went with the last exec of a successful deploy (one round trip fewer). */
  lockReleased = false

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
    this.link = o.link ?? targetConnection(o)
    // The upload's SFTP channel, the verification probe and a shell for the next script open
    // alongside the first steps (lock, listing): each costs round trips, which over ssm or eice are
    // tens of milliseconds apiece.
    const upload = !config.rollback && plan.files.length > 0
    const verify = upload && config.verify !== 'none'
    if (upload || needsShell(config)) {
      this.link.setOnConnect(conn => {
        if (upload) conn.sftp().catch(() => {})
        if (verify) void probeVerifyMethod(conn)
        if (verify || needsShell(config)) keepShellReady(conn)
      })
    }
    // A full upload of several files shares them among more connections: open those alongside the
    // first (a sync decides later, once it knows how many files changed).
    if (upload && !config.sync && plan.files.length > 1) this.extraLinks(plan.files.length)
    this.isProtected = protectMatcher(config.protect)
    this.root = config.remotePath
  }

  private readonly extra: TargetConnection[] = []

  /** How many connections an upload may use: `connections`, and over eice its share of the tunnels. */
  private connectionLimit(): number {
    const { config, target } = this.o
    const tunnels =
      target.mode === 'eice'
        ? Math.floor(config.eiceMaxTunnels / Math.max(1, config.maxParallelTargets))
        : Infinity
    return Math.max(1, Math.min(config.connections, tunnels))
  }

  /** The connections beside `link` for an upload of `files` files, opened (and made ready) now. */
  extraLinks(files: number): TargetConnection[] {
    const want = Math.min(this.connectionLimit() - 1, files - 1)
    const verify = this.o.config.verify !== 'none'
    while (this.extra.length < want) {
      const l = targetConnection(this.o)
      l.trips.phase = 'upload'
      l.setOnConnect(conn => {
        conn.sftp().catch(() => {})
        if (verify) {
          void probeVerifyMethod(conn)
          keepShellReady(conn)
        }
      })
      l.prewarm(this.o.signal ?? new AbortController().signal)
      this.extra.push(l)
    }
    return this.extra.slice(0, Math.max(0, want))
  }

  get label(): string {
    return this.o.target.label
  }

  info(line: string): void {
    this.o.logger.info(this.o.parallel ? `[${this.label}] ${line}` : line)
  }

  /** A log group when targets run one at a time; plain prefixed lines when they run together. */
  phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.o.parallel ? fn() : this.o.logger.group(`${name}`, fn)
  }

  async run(): Promise<TargetResult> {
    const started = Date.now()
    const { config } = this.o
    let lock: HeldLock | undefined
    try {
      if (needsShell(config)) {
        // The lock, and what the deploy reads first, in one round trip (each exec costs one).
        const then =
          config.release === 'atomic' || config.rollback
            ? releaseStateScript(this.root)
            : config.sync || config.delete
              ? snapshotScript(this.root, await this.snapshotRequest())
              : undefined
        const token = randomBytes(12).toString('hex')
        const held = await this.link.step(
          'Taking the deploy lock',
          conn => acquireLock(conn, this.root, { token, ttlSeconds: config.timeoutSeconds + 60, then }),
          this.o.signal
        )
        lock = held
        this.lock = held
        this.firstRead = held.thenOutput
      }
      if (config.rollback) await rollbackOnPurpose(this)
      else if (config.release === 'atomic') await atomicRelease(this)
      else await this.inPlace()
      this.result.status = 'success'
      if (this.result.verification === 'pending') this.result.verification = 'nothing to verify'
    } catch (err) {
      this.result.error = errorMessage(err)
      if (this.o.signal?.aborted) this.result.status = 'cancelled'
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { result: this.result })
    } finally {
      this.link.trips.phase = 'record'
      if (lock && !this.lockReleased) {
        const held = lock
        await this.link
          .step('Releasing the deploy lock', conn => releaseLock(conn, held))
          .catch(err =>
            this.o.logger.warning(`${this.label}: could not release the deploy lock: ${errorMessage(err)}`)
          )
      }
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
      this.result.durationMs = Date.now() - started
    }
    return this.result
  }

  commandEnv(releasePath: string, previous?: string): Record<string, string> {
    const env: Record<string, string> = {
      EC2_PUSH_RELEASE_PATH: releasePath,
      EC2_PUSH_RELEASE_ID: this.o.config.releaseId,
      EC2_PUSH_REMOTE_PATH: this.root,
      EC2_PUSH_TARGET: this.label
    }
    if (this.result.releaseId) env.EC2_PUSH_RELEASE_ID = this.result.releaseId
    if (previous) env.EC2_PUSH_PREVIOUS_RELEASE_PATH = releaseDir(this.root, previous)
    return env
  }

  /** pre-command / post-command over the same connection (never retried: it may not be idempotent). */
  async command(name: 'pre-command' | 'post-command', env: Record<string, string>, signal?: AbortSignal) {
    const command = name === 'pre-command' ? this.o.config.preCommand : this.o.config.postCommand
    if (!command) return
    await this.phase(`${name} on ${this.label}`, async () => {
      const conn = await this.link.get(signal)
      await runUserCommand(conn, {
        name,
        command,
        cwd: this.root,
        env,
        timeoutMs: this.o.config.commandTimeoutSeconds * 1000,
        signal,
        onLine: line => this.info(line)
      })
    })
  }

  /** `present`: files already in place under remoteRoot (their folders need no mkdir). */
  async upload(files: PlannedFile[], remoteRoot: string, present: string[] = []): Promise<void> {
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
        extraLinks: this.extraLinks(files.length),
        files,
        remoteRoot,
        existingDirs: foldersOf(present),
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
    const digests = this.o.config.sync ? await this.o.localDigests : undefined
    return digests && { files: this.o.plan.files, digests }
  }

  compare(dir: string, what: string, snapshot?: RemoteSnapshot): Promise<SyncComparison> {
    const { config } = this.o
    return this.link.step(
      what,
      async conn =>
        compareWithRemote(
          conn,
          dir,
          this.o.plan.files,
          config.sync ? await this.o.localDigests : undefined,
          this.o.manifestKey,
          snapshot
        ),
      this.o.signal
    )
  }

  /** release: none — write into remote-path, each file atomically; sync and delete work in place. */
  private async inPlace(): Promise<void> {
    const { config, plan } = this.o
    this.result.releasePath = this.root
    await this.command('pre-command', this.commandEnv(this.root), this.o.signal)
    let files = plan.files
    let cmp: SyncComparison | undefined
    if (config.sync || config.delete) {
      const snapshot = parseSnapshot(this.firstRead, await this.snapshotRequest())
      cmp = await this.compare(this.root, 'Comparing with the instance', snapshot)
      if (config.sync) {
        files = cmp.changed
        this.result.filesSkipped = cmp.same.length
        this.info(
          `${this.label}: ${cmp.changed.length} files to upload, ${cmp.same.length} unchanged (${cmp.manifest})`
        )
      }
    }
    await this.upload(
      files,
      this.root,
      cmp?.same.map(f => f.relativePath)
    )
    if (config.delete && cmp) {
      const doomed = deletable(cmp.extras, this.isProtected)
      const kept = cmp.extras.length - doomed.length
      await this.link.step('Deleting files no longer in the set', conn =>
        deleteRemoteFiles(conn, this.root, doomed, this.isProtected)
      )
      this.result.filesDeleted = doomed.length
      this.info(
        `${this.label}: deleted ${doomed.length} files no longer in the set${kept ? `, kept ${kept} protected` : ''}`
      )
    }
    // Files not uploaded kept the stamps the comparison listed; only the uploaded ones are listed again.
    if (config.sync)
      await this.saveManifest(this.root, cmp && { base: cmp.listing, changed: files, carried: cmp.carried })
    await this.command('post-command', this.commandEnv(this.root), this.o.signal)
  }

  /** The sealed manifest for the next sync (best effort: without it the next sync hashes on the instance). */
  willWriteManifest(): boolean {
    return !!this.o.manifestKey && !!this.o.localDigests && this.o.config.verify !== 'none'
  }

  /** Also releases the lock in the same exec. */
  async saveManifest(
    dir: string,
    listing?:
      | Map<string, RemoteEntry>
      | { base: Map<string, RemoteEntry>; changed: PlannedFile[]; carried: Set<string> }
  ): Promise<void> {
    const key = this.o.manifestKey
    const digests = await this.o.localDigests
    if (!key || !digests || !this.willWriteManifest()) return
    this.link.trips.phase = 'record'
    const unlock = this.lock ? releaseLockScript(this.lock) : ''
    await this.link
      .step('Writing the sync manifest', async conn => {
        if (listing && !(listing instanceof Map) && listing.carried.size) {
          const uploaded = listing.changed.map(f => f.relativePath)
          const parts = { carried: listing.carried, uploaded, known: listing.base }
          await writeCarriedManifest(conn, key, dir, digests, parts, unlock)
        } else {
          const now = listing instanceof Map ? listing : refreshListing(dir, listing?.base, listing?.changed)
          await writeManifest(conn, key, dir, digests, now, unlock)
        }
        this.lockReleased = !!unlock
      })
      .catch(err =>
        this.o.logger.warning(`${this.label}: could not write the sync manifest: ${errorMessage(err)}`)
      )
  }
}
