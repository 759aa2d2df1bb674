import { UserError } from '../../errors.js'
import { currentPath, manifestFromDir, releaseDir } from '../../remote/names.js'
import { parseReleaseState, rollbackTarget } from '../../remote/releases.js'
import { parseSnapshot } from '../../remote/sync-snapshot.js'
import type { DeployContext } from '../context.js'
import type { Step } from '../runner.js'
import type { DeployState } from '../state.js'

/**
 * snapshot: what the instance holds, from the read made with the lock. release: atomic — the
 * releases, where current points and this release's id and order; rollback — the release to go
 * back to; in place with sync or delete — the comparison of the folder with the files.
 */
export const snapshot: Step = {
  name: 'snapshot',
  applies: () => true,
  run: readSnapshot,
  plan: readSnapshot
}

async function readSnapshot(
  c: DeployContext,
  s: Readonly<DeployState>
): Promise<Partial<DeployState> | void> {
  const { config } = c
  if (config.rollback) return rollbackPlan(c, s)
  if (config.release === 'atomic') return atomicPlan(c, s)
  c.result.releasePath = c.root
  if (!config.sync && !config.delete) return
  const request = await c.snapshotRequest()
  const cmp = await c.compare(
    c.root,
    'Comparing with the instance',
    parseSnapshot(s.firstRead, request),
    manifestFromDir()
  )
  if (!config.sync) return { cmp }
  c.result.filesSkipped = cmp.same.length
  c.info(`${c.label}: ${cmp.changed.length} files to upload, ${cmp.same.length} unchanged (${cmp.manifest})`)
  return { cmp, toUpload: cmp.changed, present: cmp.same.map(f => f.relativePath) }
}

function atomicPlan(c: DeployContext, s: Readonly<DeployState>): Partial<DeployState> {
  const state = parseReleaseState(s.firstRead)
  if (state.current.kind === 'other') {
    throw new UserError(
      `${currentPath(c.root)} on ${c.label} is ${state.current.detail}; ec2-push keeps 'current' as a symlink to releases/<id>: move it away (or use another remote-path) and re-run.`
    )
  }
  const previous = state.current.kind === 'release' ? state.current.id : undefined
  const id = c.config.releaseId
  if (id === previous) {
    throw new UserError(
      `Release ${id} is already current on ${c.label}; each deploy needs its own 'release-id' (the default is the run id and attempt).`
    )
  }
  const dir = releaseDir(c.root, id)
  Object.assign(c.result, { releaseId: id, releasePath: dir, previousRelease: previous })
  const seq = Math.max(0, ...state.releases.map(r => r.seq)) + 1
  return { releases: state, previous, release: { id, dir, seq } }
}

function rollbackPlan(c: DeployContext, s: Readonly<DeployState>): Partial<DeployState> {
  const state = parseReleaseState(s.firstRead)
  if (state.current.kind !== 'release') {
    throw new UserError(
      `Nothing to roll back on ${c.label}: ${currentPath(c.root)} is ${state.current.kind === 'missing' ? 'missing' : state.current.detail}.`
    )
  }
  const cur = state.current.id
  const target = rollbackTarget(state, cur)
  if (!target)
    throw new UserError(
      `No release before ${cur} on ${c.label} to roll back to (one that went live and did not fail).`
    )
  Object.assign(c.result, {
    releaseId: target.id,
    releasePath: releaseDir(c.root, target.id),
    previousRelease: cur
  })
  return { releases: state, previous: cur, rollbackTo: target.id }
}
