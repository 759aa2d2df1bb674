import path from 'node:path'
import { UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { releaseDir } from '../remote/names.js'
import { deletable } from '../sync/apply.js'
import { DeployContext } from './context.js'
import { recipe } from './recipe.js'
import { runSteps } from './runner.js'
import { initialState } from './state.js'
import type { TargetDeployOptions } from './types.js'

/**
 * dry-run: the same steps as a deploy (recipe.ts), each asked what it would do instead of doing it.
 * Without sync, delete or rollback nothing is opened at all; with them the instance is only read
 * (listing, sha256sum, the releases), never locked, created or changed.
 */

export type PlanAction = 'upload' | 'skip' | 'reuse'

export interface PlanEntry {
  local: string
  remote: string
  size: number
  action: PlanAction
}

export interface TargetPlan {
  target: string
  mode: string
  /** Where the files would go (the new release folder with release: atomic). */
  remotePath: string
  files: PlanEntry[]
  /** delete: true — remote paths that would be removed, and extras kept because they are protected. */
  delete?: string[]
  protected?: string[]
  /** rollback: true — the release current would switch to. */
  rollbackTo?: string
  current?: string
  error?: string
}

export interface DeployPlan {
  dryRun: true
  release: string
  releasePath: string
  targets: TargetPlan[]
}

/** A dry run takes what a deploy takes, less what only writing needs. */
export type PlanTargetOptions = Pick<
  TargetDeployOptions,
  | 'target'
  | 'plan'
  | 'config'
  | 'login'
  | 'hostKey'
  | 'logger'
  | 'beforeConnect'
  | 'loginRefused'
  | 'localDigests'
  | 'manifestKey'
>

export async function planTarget(o: PlanTargetOptions): Promise<TargetPlan> {
  const { config, plan, target } = o
  const root = config.remotePath
  const atomic = config.release === 'atomic'
  const out: TargetPlan = {
    target: target.label,
    mode: target.mode,
    remotePath: atomic ? releaseDir(root, config.releaseId) : root,
    files: []
  }
  const c = new DeployContext({ ...o, link: undefined, extraLink: undefined })
  const state = initialState(plan.files)
  try {
    await runSteps(c, recipe(config), state, true)
  } catch (err) {
    if (!(err instanceof UserError)) throw err
    out.error = err.message
  } finally {
    await c.closeLinks()
  }
  out.current = state.previous
  if (config.rollback) {
    out.rollbackTo = state.rollbackTo
    out.remotePath = state.rollbackTo ? releaseDir(root, state.rollbackTo) : root
    return out
  }
  const present = new Set(state.present)
  if (config.delete && !atomic && state.cmp) {
    out.delete = deletable(state.cmp.extras, c.isProtected)
    out.protected = state.cmp.extras.filter(r => c.isProtected(r))
  }
  for (const f of plan.files) {
    out.files.push({
      local: f.localPath,
      remote: path.posix.join(out.remotePath, f.relativePath),
      size: f.size,
      action: present.has(f.relativePath) ? (atomic ? 'reuse' : 'skip') : 'upload'
    })
  }
  return out
}

/** Print a target's plan, one line per file. */
export function logTargetPlan(p: TargetPlan, logger: Logger): void {
  if (p.error) {
    logger.warning(`dry-run ${p.target}: ${p.error}`)
    return
  }
  if (p.rollbackTo) {
    logger.info(
      `dry-run ${p.target}: would switch current from releases/${p.current} to releases/${p.rollbackTo}`
    )
    return
  }
  const counts = { upload: 0, skip: 0, reuse: 0 }
  for (const e of p.files) {
    counts[e.action]++
    logger.info(`${e.action.padEnd(6)} ${e.local} -> ${e.remote} (${e.size} bytes)`)
  }
  for (const d of p.delete ?? []) logger.info(`delete ${path.posix.join(p.remotePath, d)}`)
  for (const d of p.protected ?? []) logger.info(`keep   ${path.posix.join(p.remotePath, d)} (protected)`)
  logger.info(
    `dry-run ${p.target} (${p.mode}): would upload ${counts.upload} files${counts.skip ? `, skip ${counts.skip} unchanged` : ''}${counts.reuse ? `, reuse ${counts.reuse} from the current release` : ''}${p.delete ? `, delete ${p.delete.length}` : ''} into ${p.remotePath}; nothing was written.`
  )
}

/** The plan as the `plan` output: JSON, with the file lists dropped if it would exceed the output limit. */
export function planOutput(plan: DeployPlan, maxChars = 900_000): string {
  const full = JSON.stringify(plan)
  if (full.length <= maxChars) return full
  return JSON.stringify({
    ...plan,
    truncated: true,
    targets: plan.targets.map(t => ({
      ...t,
      files: undefined,
      upload: t.files.filter(f => f.action === 'upload').length,
      skip: t.files.filter(f => f.action !== 'upload').length
    }))
  })
}
