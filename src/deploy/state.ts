import type { PlannedFile } from '../files/plan.js'
import type { ReleaseState } from '../remote/releases.js'
import type { SyncComparison } from '../sync/compare.js'
import type { RemoteEntry } from '../remote/listing.js'
import type { FolderSurvey } from '../transfer/folders.js'

/**
 * What the steps of one deploy hand on to each other. Each field is written by one step (named
 * beside it) and read by later ones; the runner merges each step's output into it.
 */
export interface DeployState {
  /** lock: the lock this deploy holds (none when the account cannot run commands). */
  lock?: { token: string }
  /** lock: what the instance answered to the read made with the lock (release state or a snapshot). */
  firstRead: string
  /** lock: the upload's folders as they were found then (in place, without a pre-command). */
  folders?: FolderSurvey
  /** snapshot: the releases and where current points (release: atomic, rollback). */
  releases?: ReleaseState
  /** snapshot: release: atomic — the release current pointed to, and this one. */
  previous?: string
  release?: { id: string; dir: string; seq: number }
  /** snapshot: rollback: true — the release current goes back to. */
  rollbackTo?: string
  /** snapshot (in place) or stage (atomic): the comparison with the instance. */
  cmp?: SyncComparison
  /** snapshot / stage: the files to upload, and those already in place (reused or unchanged). */
  toUpload: PlannedFile[]
  present: string[]
  /** stage: what the release must hold before current may point to it. */
  expected?: { files: number; bytes: number }
  /** stage: the release folder exists (it is removed again unless it went live). */
  created?: boolean
  /** publish: current was switched (to this release, or back for rollback: true). */
  switched?: boolean
  /** prune: releases removed, and the listing of the new release taken afterwards (for the manifest). */
  pruned?: string[]
  listing?: Map<string, RemoteEntry>
  /** unlock (or whichever exec it rode along with): the lock is gone. */
  lockReleased?: boolean
}

export function initialState(files: PlannedFile[]): DeployState {
  return { firstRead: '', toUpload: files, present: [] }
}
