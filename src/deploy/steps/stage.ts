import { UserError } from '../../errors.js'
import { manifestFromDir, releaseDir } from '../../remote/names.js'
import { removeOwnTempsScript } from '../../remote/lock.js'
import { waitForPacksScript } from '../../remote/pack.js'
import { createReleaseScript, removeReleasesScript, runLabel } from '../../remote/releases.js'
import { isContained } from '../../remote/delete.js'
import { linkFromPrevious } from '../../sync/apply.js'
import { parseSnapshot, snapshotScript } from '../../remote/sync-snapshot.js'
import type { DeployContext } from '../context.js'
import { putWithManifest } from '../put-small.js'
import type { Step } from '../runner.js'
import type { DeployState } from '../state.js'
import { cleanupNote } from './lock.js'

/**
 * stage: the files go up. In place, each file is written to a temporary beside its final path,
 * verified there and renamed over it (so staging and publishing go file by file). release: atomic —
 * a new releases/<id> (unchanged files of the previous release hard-linked in, protected ones
 * carried over), filled the same way; nothing points to it yet. The undo removes this run's
 * temporaries, and a release that never went live.
 */
export const stage: Step = {
  name: 'stage',
  applies: c => !c.config.rollback,
  async run(c, s) {
    if (!s.release) {
      // A few small changes ride with the manifest's exec (deploy/put-small.ts), else SFTP.
      const put = await putWithManifest(c, s)
      if (put) return put
      await c.upload(s.toUpload, c.root, s.present, s.folders)
      return
    }
    return stageRelease(c, s)
  },
  async plan(c, s) {
    if (!s.release || !s.previous || !c.config.sync) return
    const prevDir = releaseDir(c.root, s.previous)
    const cmp = await c.compare(
      prevDir,
      'Comparing with the current release',
      undefined,
      manifestFromDir(s.previous)
    )
    return { cmp, toUpload: cmp.changed, present: cmp.same.map(f => f.relativePath) }
  },
  async undo(c, s) {
    // A pack the deploy sent before it lost its connection may still be extracted: waited for first.
    const packs = waitForPacksScript(c.root, c.tempToken)
    const temps = removeOwnTempsScript(c.root, c.tempToken)
    if (!s.release) {
      await c.exec('Removing temporaries', packs + temps)
      return
    }
    if (s.switched) return
    const { id } = s.release
    const removed = await c
      .exec('Removing the unfinished release', packs + removeReleasesScript(c.root, [id]) + temps)
      .then(() => true)
      .catch(() => false)
    const where = s.previous ? `still points to releases/${s.previous}` : 'was not created'
    return `current ${where}, nothing was switched${removed ? ` (the unfinished release ${id} was removed)` : ''}`
  }
}

async function stageRelease(c: DeployContext, s: Readonly<DeployState>): Promise<Partial<DeployState>> {
  const { config, plan } = c.o
  const { id, dir, seq } = s.release!
  const previous = s.previous
  const compareWithPrevious = !!previous && (config.sync || config.protect.length > 0)
  const prevDir = releaseDir(c.root, previous ?? '')
  // The release being made is what a cleanup after a kill must remove.
  if (s.lock) c.o.onLock?.(cleanupNote(c, id), true)
  // The previous release is read in the same exec that creates the new one.
  const request = compareWithPrevious ? await c.snapshotRequest() : undefined
  const out = await c.exec(
    'Creating the release',
    createReleaseScript(
      c.root,
      id,
      seq,
      runLabel(),
      compareWithPrevious ? snapshotScript(prevDir, request, manifestFromDir(previous)) : ''
    )
  )
  if (out.includes('FOREIGN') && !out.includes('CREATED\n')) {
    throw new UserError(
      `${dir} exists and was not made by ec2-push (no marker in .ec2-push/releases/); move it away or choose another release-id.`
    )
  }
  const created = out.slice(out.indexOf('CREATED\n') + 'CREATED\n'.length)
  let files = plan.files
  const reused: string[] = []
  const expected = { files: plan.files.length, bytes: plan.totalBytes }
  let cmp
  if (previous && compareWithPrevious) {
    cmp = await c.compare(prevDir, 'Comparing with the current release', parseSnapshot(created, request))
    const reuse: string[] = []
    if (config.sync) {
      files = cmp.changed
      reuse.push(...cmp.same.map(f => f.relativePath))
      c.result.filesSkipped = cmp.same.length
    }
    // Protected paths of the previous release that the new file set lacks carry over.
    const carried = cmp.extras.filter(rel => isContained(rel) && c.isProtected(rel))
    reuse.push(...carried)
    for (const rel of carried) {
      const e = cmp.listing.get(rel)
      if (e?.type === 'file') {
        expected.files++
        expected.bytes += e.size
      }
    }
    c.info(
      `${c.label}: ${files.length} files to upload, ${cmp.same.length} reused from release ${previous}${carried.length ? `, ${carried.length} protected files carried over` : ''}${config.sync ? ` (${cmp.manifest})` : ''}`
    )
    await c.link.step(
      'Reusing unchanged files',
      conn => linkFromPrevious(conn, prevDir, dir, reuse),
      c.signal
    )
    reused.push(...reuse)
  }
  await c.upload(files, dir, reused)
  return { created: true, expected, cmp, toUpload: files, present: reused }
}
