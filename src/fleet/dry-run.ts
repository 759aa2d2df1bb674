import path from 'node:path'
import type { TargetDeployOptions } from '../deploy.js'
import type { Logger } from '../log.js'
import { readReleaseState, releaseDir } from '../release/layout.js'
import { deletable } from '../sync/apply.js'
import { compareWithRemote } from '../sync/compare.js'
import { protectMatcher } from '../sync/protect.js'
import { TargetConnection } from '../target/connection.js'

/**
 * dry-run: what a deploy would do on each target, without any write on the instance. Without
 * sync, delete or rollback nothing is opened at all; with them the instance is only read
 * (listing, sha256sum, the release markers), never locked, created or changed.
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
  const actions = new Map<string, PlanAction>()
  const needsInstance = config.sync || config.delete || config.rollback
  if (needsInstance) {
    const link = new TargetConnection({
      target,
      login: o.login,
      hostKey: o.hostKey,
      logger: o.logger,
      retries: config.retries,
      backoffBaseMs: 1000,
      beforeConnect: o.beforeConnect,
      loginRefused: o.loginRefused
    })
    try {
      let compareDir: string | undefined = root
      if (atomic) {
        const state = await link.step('Reading the releases', conn => readReleaseState(conn, root))
        const cur = state.current.kind === 'release' ? state.current.id : undefined
        out.current = cur
        compareDir = cur ? releaseDir(root, cur) : undefined
        if (config.rollback) {
          const at = state.releases.findIndex(r => r.id === cur)
          out.rollbackTo = at > 0 ? state.releases[at - 1].id : undefined
          if (!out.rollbackTo) out.error = `no release before ${cur ?? '(none)'} to roll back to`
          out.remotePath = out.rollbackTo ? releaseDir(root, out.rollbackTo) : root
          return out
        }
      }
      if (compareDir) {
        const dir = compareDir
        const cmp = await link.step('Comparing with the instance', async conn =>
          compareWithRemote(
            conn,
            dir,
            plan.files,
            config.sync ? await o.localDigests : undefined,
            o.manifestKey
          )
        )
        for (const f of cmp.same) actions.set(f.relativePath, atomic ? 'reuse' : 'skip')
        if (config.delete && !atomic) {
          const isProtected = protectMatcher(config.protect)
          out.delete = deletable(cmp.extras, isProtected)
          out.protected = cmp.extras.filter(r => isProtected(r))
        }
      }
    } finally {
      link.close()
    }
  }
  for (const f of plan.files) {
    out.files.push({
      local: f.localPath,
      remote: path.posix.join(out.remotePath, f.relativePath),
      size: f.size,
      action: actions.get(f.relativePath) ?? 'upload'
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
