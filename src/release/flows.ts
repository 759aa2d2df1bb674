import { errorMessage, UserError } from '../errors.js'
import type { TargetDeploy } from '../deploy.js'
import { isContained, linkFromPrevious } from '../sync/apply.js'
import { listingScript, parseListing } from '../sync/listing.js'
import { parseSnapshot, snapshotScript } from '../sync/snapshot.js'
import {
  createRelease,
  currentPath,
  parseReleaseState,
  releaseDir,
  removeRelease,
  removeReleasesScript
} from './layout.js'
import { releaseLockScript, runLabel } from './lock.js'
import { releasesToPrune } from './prune.js'
import { runScriptOk } from './shell.js'
import { switchCurrent } from './switch.js'

/**
 * The release flows of one target's deploy (deploy.ts runs them with its steps): an atomic release
 * with its recovery, and a rollback on purpose.
 */

/** release: atomic — a new releases/<id>, then `current` switched to it in one rename. */
export async function atomicRelease(d: TargetDeploy): Promise<void> {
  const { config, plan } = d.o
  const root = d.root
  const state = parseReleaseState(d.firstRead)
  if (state.current.kind === 'other') {
    throw new UserError(
      `${currentPath(root)} on ${d.label} is ${state.current.detail}; ec2-push keeps 'current' as a symlink to releases/<id>: move it away (or use another remote-path) and re-run.`
    )
  }
  const previous = state.current.kind === 'release' ? state.current.id : undefined
  const id = config.releaseId
  if (id === previous) {
    throw new UserError(
      `Release ${id} is already current on ${d.label}; each deploy needs its own 'release-id' (the default is the run id and attempt).`
    )
  }
  const dir = releaseDir(root, id)
  Object.assign(d.result, { releaseId: id, releasePath: dir, previousRelease: previous })
  const seq = Math.max(0, ...state.releases.map(r => r.seq)) + 1
  const env = d.commandEnv(dir, previous)
  await d.command('pre-command', env, d.o.signal)

  let switched = false
  try {
    const compareWithPrevious = !!previous && (config.sync || config.protect.length > 0)
    const prevDir = releaseDir(root, previous ?? '')
    // The previous release is read in the same exec that creates the new one.
    const request = compareWithPrevious ? await d.snapshotRequest() : undefined
    const created = await d.link.step(
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
      d.o.signal
    )
    let files = plan.files
    const reused: string[] = []
    const expected = { files: plan.files.length, bytes: plan.totalBytes }
    if (previous && compareWithPrevious) {
      const snapshot = parseSnapshot(created, request)
      const cmp = await d.compare(prevDir, 'Comparing with the current release', snapshot)
      const reuse: string[] = []
      if (config.sync) {
        files = cmp.changed
        reuse.push(...cmp.same.map(f => f.relativePath))
        d.result.filesSkipped = cmp.same.length
      }
      // Protected paths of the previous release that the new file set lacks carry over.
      const carried = cmp.extras.filter(rel => isContained(rel) && d.isProtected(rel))
      reuse.push(...carried)
      for (const rel of carried) {
        const e = cmp.listing.get(rel)
        if (e?.type === 'file') {
          expected.files++
          expected.bytes += e.size
        }
      }
      d.info(
        `${d.label}: ${files.length} files to upload, ${cmp.same.length} reused from release ${previous}${carried.length ? `, ${carried.length} protected files carried over` : ''}${config.sync ? ` (${cmp.manifest})` : ''}`
      )
      await d.link.step(
        'Reusing unchanged files',
        conn => linkFromPrevious(conn, prevDir, dir, reuse),
        d.o.signal
      )
      reused.push(...reuse)
    }
    await d.upload(files, dir, reused)
    d.o.signal?.throwIfAborted()
    // Every planned file must be in place before `current` may point here (checked in the same exec).
    await d.link.step('Switching current', conn => switchCurrent(conn, root, id, expected))
    switched = true
    d.info(`${d.label}: current -> releases/${id}`)
    await d.command('post-command', env, d.o.signal)
  } catch (err) {
    throw await recover(d, err, switched, previous, id)
  }

  // Old releases go first: unlinking them changes the ctime of files shared by hard links, and
  // the manifest must record the stamps the next deploy will see. One exec for both.
  const doomed = releasesToPrune(
    [...state.releases.filter(r => r.id !== id), { id, seq }],
    id,
    config.keepReleases
  )
  const manifest = d.willWriteManifest()
  const unlock = !manifest && d.lock ? releaseLockScript(d.lock) : ''
  const listing = await d.link
    .step('Removing old releases', async conn => {
      const script = removeReleasesScript(root, doomed) + (manifest ? listingScript(dir) : unlock)
      const out = await runScriptOk(conn, script, 'Removing old releases')
      d.lockReleased = !!unlock
      return parseListing(out)
    })
    .then(l => {
      if (doomed.length) d.info(`${d.label}: removed old releases ${doomed.join(', ')}`)
      return l
    })
    .catch(err => {
      d.o.logger.warning(`${d.label}: could not remove old releases: ${errorMessage(err)}`)
      return undefined
    })
  await d.saveManifest(dir, listing)
}

/** After a failure: put `current` back (or leave it untouched) and say which. Never throws itself. */
async function recover(
  d: TargetDeploy,
  err: unknown,
  switched: boolean,
  previous: string | undefined,
  id: string
): Promise<Error> {
  const root = d.root
  let msg = errorMessage(err).replace(/\.$/, '')
  if (d.o.signal?.aborted && !/cancel/i.test(msg)) msg = `${msg} (cancelled)`
  if (!switched) {
    const removed = await d.link
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
    await d.link.step('Rolling back', conn => switchCurrent(conn, root, previous))
    d.result.rolledBack = true
    d.result.releasePath = releaseDir(root, previous)
    d.info(`${d.label}: rolled back: current -> releases/${previous}`)
    return new UserError(`${msg}; rolled back: current points to releases/${previous} again.`)
  } catch (rbErr) {
    return new UserError(
      `${msg}; the rollback to releases/${previous} also failed (${errorMessage(rbErr)}), so current still points to releases/${id}.`
    )
  }
}

/** rollback: true — switch `current` to the release before it, uploading nothing. */
export async function rollbackOnPurpose(d: TargetDeploy): Promise<void> {
  const root = d.root
  const state = parseReleaseState(d.firstRead)
  if (state.current.kind !== 'release') {
    throw new UserError(
      `Nothing to roll back on ${d.label}: ${currentPath(root)} is ${state.current.kind === 'missing' ? 'missing' : state.current.detail}.`
    )
  }
  const cur = state.current.id
  const at = state.releases.findIndex(r => r.id === cur)
  const target = at > 0 ? state.releases[at - 1] : undefined
  if (!target) throw new UserError(`No release before ${cur} on ${d.label} to roll back to.`)
  Object.assign(d.result, {
    releaseId: target.id,
    releasePath: releaseDir(root, target.id),
    previousRelease: cur
  })
  const env = d.commandEnv(releaseDir(root, target.id), cur)
  await d.command('pre-command', env, d.o.signal)
  await d.link.step('Rolling back', conn => switchCurrent(conn, root, target.id), d.o.signal)
  d.result.rolledBack = true
  d.info(`${d.label}: rolled back on purpose: current -> releases/${target.id} (was ${cur})`)
  await d.command('post-command', env, d.o.signal)
}
