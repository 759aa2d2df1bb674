import type { DeployConfig } from '../config.js'
import type { FilePlan } from '../files/plan.js'
import type { Logger } from '../log.js'
import type { SshLogin } from '../ssh/connection.js'
import type { HostKeyPolicy } from '../ssh/host-key.js'
import type { Phase } from '../ssh/round-trips.js'
import type { ResolvedTarget } from '../tunnel/index.js'
import type { TargetConnection } from './connection.js'

/** What one target's deploy takes and gives back. */

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
  /** SSH connections the deploy opened to the target (the upload shares files among several). */
  connections?: number
  /** Round trips waited for, by phase (see ssh/round-trips.ts). */
  roundTrips?: Record<Phase, number>
  /** release: atomic — this deploy's release folder and the one `current` pointed to before. */
  releaseId?: string
  releasePath?: string
  previousRelease?: string
  /** `current` was switched back (a failed step after the switch, or rollback: true). */
  rolledBack?: boolean
  /** delete: true — remote files removed. */
  filesDeleted?: number
  /** post-command's output (stdout and stderr as it wrote them), secrets masked, at most its last 64 KiB. */
  commandOutput?: string
  error?: string
}

/** Where a deploy left something to clean up (the post step of the action reads it back). */
export interface CleanupNote {
  target: string
  root: string
  /** The lock's token (the lock is removed only while it still holds it). */
  token: string
  /** The run token its temporaries carry. */
  tempToken: string
  /** release: atomic — the release being made (removed unless it went live). */
  releaseId?: string
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
  /** A second connection already on its way (runDeploy's, extraLink's), for the upload to share files with. */
  extraLink?: TargetConnection
  /** Told when the lock is taken (with what a cleanup needs) and when it is released. */
  onLock?: (note: CleanupNote, held: boolean) => void
}
