import path from 'node:path'
import type { DeployConfig } from './config.js'
import { errorMessage, UserError } from './errors.js'
import type { FilePlan, PlannedFile } from './files/plan.js'
import type { Logger } from './log.js'
import { runUserCommand } from './release/commands.js'
import { randomBytes } from 'node:crypto'
import {
  createRelease,
  currentPath,
  parseReleaseState,
  releaseDir,
  releaseStateScript,
  removeRelease,
  removeReleasesScript
} from './release/layout.js'
import { acquireLock, releaseLock, releaseLockScript, runLabel, type HeldLock } from './release/lock.js'
import { releasesToPrune } from './release/prune.js'
import { runScriptOk } from './release/shell.js'
import { switchCurrent } from './release/switch.js'
import type { SshLogin } from './ssh/connection.js'
import type { HostKeyPolicy } from './ssh/host-key.js'
import { deletable, deleteRemoteFiles, isContained, linkFromPrevious } from './sync/apply.js'
import { compareWithRemote, type SyncComparison } from './sync/compare.js'
import { listingScript, refreshListing, parseListing, type RemoteEntry } from './sync/listing.js'
import { parseSnapshot, snapshotScript, type RemoteSnapshot, type SnapshotRequest } from './sync/snapshot.js'
import { writeCarriedManifest, writeManifest } from './sync/manifest-write.js'
import { protectMatcher, type ProtectMatcher } from './sync/protect.js'
import { TargetConnection } from './target/connection.js'
import { keepShellReady } from './ssh/exec.js'
import { probeVerifyMethod } from './transfer/verify.js'
import { uploadFiles } from './target/upload-files.js'
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

/** Does this configuration need a shell on the instance (beyond SFTP)? */
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

class TargetDeploy {
  readonly result: TargetResult
  private readonly link: TargetConnection
  private readonly isProtected: ProtectMatcher
  private readonly root: string
  /** Output of the script run together with taking the lock (release state or a snapshot). */
  private firstRead = ''
  private lock?: HeldLock
  /** The lock went with the last exec of a successful deploy (one round trip fewer). */
  private lockReleased = false

  constructor(private readonly o: TargetDeployOptions) {
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
    this.isProtected = protectMatcher(config.protect)
    this.root = config.remotePath
  }

  private get label(): string {
    return this.o.target.label
  }

  private info(line: string): void {
    this.o.logger.info(this.o.parallel ? `[${this.label}] ${line}` : line)
  }

  /** A log group when targets run one at a time; plain prefixed lines when they run together. */
  private phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
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
      if (config.rollback) await this.rollbackOnPurpose()
      else if (config.release === 'atomic') await this.atomicRelease()
      else await this.inPlace()
      this.result.status = 'success'
      if (this.result.verification === 'pending') this.result.verification = 'nothing to verify'
    } catch (err) {
      this.result.error = errorMessage(err)
      if (this.o.signal?.aborted) this.result.status = 'cancelled'
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { result: this.result })
    } finally {
      if (lock && !this.lockReleased) {
        const held = lock
        await this.link
          .step('Releasing the deploy lock', conn => releaseLock(conn, held))
          .catch(err =>
            this.o.logger.warning(`${this.label}: could not release the deploy lock: ${errorMessage(err)}`)
          )
      }
      this.link.close()
      this.result.reconnects = this.link.reconnects
      this.result.durationMs = Date.now() - started
    }
    return this.result
  }

  private commandEnv(releasePath: string, previous?: string): Record<string, string> {
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
  private async command(
    name: 'pre-command' | 'post-command',
    env: Record<string, string>,
    signal?: AbortSignal
  ) {
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
  private async upload(files: PlannedFile[], remoteRoot: string, present: string[] = []): Promise<void> {
    const { config, target } = this.o
    if (files.length === 0 && this.o.plan.files.length > 0) {
      if (this.result.verification === 'pending')
        this.result.verification = 'sha256 (all unchanged on the instance)'
      this.info(`${this.label}: nothing to upload, all ${this.result.filesSkipped} files unchanged`)
      return
    }
    await this.phase(`Upload to ${this.label} (${target.mode}: ${target.tunnel.description})`, async () => {
      await uploadFiles({
        link: this.link,
        files,
        remoteRoot,
        existingDirs: foldersOf(present),
        concurrency: config.concurrency,
        verify: config.verify,
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
  private async snapshotRequest(): Promise<SnapshotRequest | undefined> {
    const digests = this.o.config.sync ? await this.o.localDigests : undefined
    return digests && { files: this.o.plan.files, digests }
  }

  private compare(dir: string, what: string, snapshot?: RemoteSnapshot): Promise<SyncComparison> {
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
  private willWriteManifest(): boolean {
    return !!this.o.manifestKey && !!this.o.localDigests && this.o.config.verify !== 'none'
  }

  /** Also releases the lock in the same exec. */
  private async saveManifest(
    dir: string,
    listing?:
      | Map<string, RemoteEntry>
      | { base: Map<string, RemoteEntry>; changed: PlannedFile[]; carried: Set<string> }
  ): Promise<void> {
    const key = this.o.manifestKey
    const digests = await this.o.localDigests
    if (!key || !digests || !this.willWriteManifest()) return
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

  /** release: atomic — a new releases/<id>, then `current` switched to it in one rename. */
  private async atomicRelease(): Promise<void> {
    const { config, plan } = this.o
    const root = this.root
    const state = parseReleaseState(this.firstRead)
    if (state.current.kind === 'other') {
      throw new UserError(
        `${currentPath(root)} on ${this.label} is ${state.current.detail}; ec2-push keeps 'current' as a symlink to releases/<id>: move it away (or use another remote-path) and re-run.`
      )
    }
    const previous = state.current.kind === 'release' ? state.current.id : undefined
    const id = config.releaseId
    if (id === previous) {
      throw new UserError(
        `Release ${id} is already current on ${this.label}; each deploy needs its own 'release-id' (the default is the run id and attempt).`
      )
    }
    const dir = releaseDir(root, id)
    Object.assign(this.result, { releaseId: id, releasePath: dir, previousRelease: previous })
    const seq = Math.max(0, ...state.releases.map(r => r.seq)) + 1
    const env = this.commandEnv(dir, previous)
    await this.command('pre-command', env, this.o.signal)

    let switched = false
    try {
      const compareWithPrevious = !!previous && (config.sync || config.protect.length > 0)
      const prevDir = releaseDir(root, previous ?? '')
      // The previous release is read in the same exec that creates the new one.
      const request = compareWithPrevious ? await this.snapshotRequest() : undefined
      const created = await this.link.step(
        'Creating the release',
        conn =>
          createRelease(
            conn,
            root,
            id,
            seq,
            runLabel(),
            compareWithPrevious ? snapshotScript(prevDir, request) : ''
          ),
        this.o.signal
      )
      let files = plan.files
      const reused: string[] = []
      const expected = { files: plan.files.length, bytes: plan.totalBytes }
      if (previous && compareWithPrevious) {
        const snapshot = parseSnapshot(created, request)
        const cmp = await this.compare(prevDir, 'Comparing with the current release', snapshot)
        const reuse: string[] = []
        if (config.sync) {
          files = cmp.changed
          reuse.push(...cmp.same.map(f => f.relativePath))
          this.result.filesSkipped = cmp.same.length
        }
        // Protected paths of the previous release that the new file set lacks carry over.
        const carried = cmp.extras.filter(rel => isContained(rel) && this.isProtected(rel))
        reuse.push(...carried)
        for (const rel of carried) {
          const e = cmp.listing.get(rel)
          if (e?.type === 'file') {
            expected.files++
            expected.bytes += e.size
          }
        }
        this.info(
          `${this.label}: ${files.length} files to upload, ${cmp.same.length} reused from release ${previous}${carried.length ? `, ${carried.length} protected files carried over` : ''}${config.sync ? ` (${cmp.manifest})` : ''}`
        )
        await this.link.step(
          'Reusing unchanged files',
          conn => linkFromPrevious(conn, prevDir, dir, reuse),
          this.o.signal
        )
        reused.push(...reuse)
      }
      await this.upload(files, dir, reused)
      this.o.signal?.throwIfAborted()
      // Every planned file must be in place before `current` may point here (checked in the same exec).
      await this.link.step('Switching current', conn => switchCurrent(conn, root, id, expected))
      switched = true
      this.info(`${this.label}: current -> releases/${id}`)
      await this.command('post-command', env, this.o.signal)
    } catch (err) {
      throw await this.recover(err, switched, previous, id)
    }

    // Old releases go first: unlinking them changes the ctime of files shared by hard links, and
    // the manifest must record the stamps the next deploy will see. One exec for both.
    const doomed = releasesToPrune(
      [...state.releases.filter(r => r.id !== id), { id, seq }],
      id,
      config.keepReleases
    )
    const manifest = this.willWriteManifest()
    const unlock = !manifest && this.lock ? releaseLockScript(this.lock) : ''
    const listing = await this.link
      .step('Removing old releases', async conn => {
        const script = removeReleasesScript(root, doomed) + (manifest ? listingScript(dir) : unlock)
        const out = await runScriptOk(conn, script, 'Removing old releases')
        this.lockReleased = !!unlock
        return parseListing(out)
      })
      .then(l => {
        if (doomed.length) this.info(`${this.label}: removed old releases ${doomed.join(', ')}`)
        return l
      })
      .catch(err => {
        this.o.logger.warning(`${this.label}: could not remove old releases: ${errorMessage(err)}`)
        return undefined
      })
    await this.saveManifest(dir, listing)
  }

  /** After a failure: put `current` back (or leave it untouched) and say which. Never throws itself. */
  private async recover(
    err: unknown,
    switched: boolean,
    previous: string | undefined,
    id: string
  ): Promise<Error> {
    const root = this.root
    let msg = errorMessage(err).replace(/\.$/, '')
    if (this.o.signal?.aborted && !/cancel/i.test(msg)) msg = `${msg} (cancelled)`
    if (!switched) {
      const removed = await this.link
        .step('Removing the unfinished release', conn => removeRelease(conn, root, id))
        .then(() => true)
        .catch(() => false)
      const where = previous ? `still points to releases/${previous}` : 'was not created'
      return new UserError(
        `${msg}; current ${where}, nothing was switched${removed ? ` (the unfinished release ${id} was removed)` : ''}.`
      )
    }
    if (!previous) {
      return new UserError(
        `${msg}; there is no earlier release to roll back to, so current still points to releases/${id}.`
      )
    }
    try {
      await this.link.step('Rolling back', conn => switchCurrent(conn, root, previous))
      this.result.rolledBack = true
      this.result.releasePath = releaseDir(root, previous)
      this.info(`${this.label}: rolled back: current -> releases/${previous}`)
      return new UserError(`${msg}; rolled back: current points to releases/${previous} again.`)
    } catch (rbErr) {
      return new UserError(
        `${msg}; the rollback to releases/${previous} also failed (${errorMessage(rbErr)}), so current still points to releases/${id}.`
      )
    }
  }

  /** rollback: true — switch `current` to the release before it, uploading nothing. */
  private async rollbackOnPurpose(): Promise<void> {
    const root = this.root
    const state = parseReleaseState(this.firstRead)
    if (state.current.kind !== 'release') {
      throw new UserError(
        `Nothing to roll back on ${this.label}: ${currentPath(root)} is ${state.current.kind === 'missing' ? 'missing' : state.current.detail}.`
      )
    }
    const cur = state.current.id
    const at = state.releases.findIndex(r => r.id === cur)
    const target = at > 0 ? state.releases[at - 1] : undefined
    if (!target) throw new UserError(`No release before ${cur} on ${this.label} to roll back to.`)
    Object.assign(this.result, {
      releaseId: target.id,
      releasePath: releaseDir(root, target.id),
      previousRelease: cur
    })
    const env = this.commandEnv(releaseDir(root, target.id), cur)
    await this.command('pre-command', env, this.o.signal)
    await this.link.step('Rolling back', conn => switchCurrent(conn, root, target.id), this.o.signal)
    this.result.rolledBack = true
    this.info(`${this.label}: rolled back on purpose: current -> releases/${target.id} (was ${cur})`)
    await this.command('post-command', env, this.o.signal)
  }
}
