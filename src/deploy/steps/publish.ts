import { errorMessage } from '../../errors.js'
import { releaseDir } from '../../remote/names.js'
import { logReleaseScript, runLabel } from '../../remote/releases.js'
import { switchCurrentScript } from '../../remote/switch.js'
import { runScriptOk } from '../../ssh/run-script.js'
import { deletable, deleteRemoteFiles } from '../../sync/apply.js'
import type { DeployContext } from '../context.js'
import type { Step } from '../runner.js'

/**
 * publish: release: atomic — current is switched to the new release in one rename, after checking
 * it is complete, and the release log records it as live (all in one exec); the undo switches back
 * and records it as failed. rollback — current goes back to the chosen release. In place, files
 * were published one by one as they were staged; what is left is deleting what left the set.
 */
export const publish: Step = {
  name: 'publish',
  applies: c => c.config.rollback || c.config.release === 'atomic' || c.config.delete,
  async run(c, s) {
    if (s.rollbackTo) {
      const to = s.rollbackTo
      const events = [
        { id: s.previous!, outcome: 'rolled-back' as const },
        { id: to, outcome: 'live' as const }
      ]
      await switchTo(c, to, undefined, logReleaseScript(c.root, events, runLabel()))
      c.result.rolledBack = true
      c.info(`${c.label}: rolled back on purpose: current -> releases/${to} (was ${s.previous})`)
      return { switched: true }
    }
    if (s.release) {
      const { id } = s.release
      c.throwIfCancelled()
      await switchTo(c, id, s.expected, logReleaseScript(c.root, [{ id, outcome: 'live' }], runLabel()))
      c.info(`${c.label}: current -> releases/${id}`)
      return { switched: true }
    }
    if (!s.cmp) return
    const doomed = deletable(s.cmp.extras, c.isProtected)
    const kept = s.cmp.extras.length - doomed.length
    await c.link.step('Deleting files no longer in the set', conn =>
      deleteRemoteFiles(conn, c.root, doomed, c.isProtected)
    )
    c.result.filesDeleted = doomed.length
    c.info(
      `${c.label}: deleted ${doomed.length} files no longer in the set${kept ? `, kept ${kept} protected` : ''}`
    )
  },
  async undo(c, s) {
    if (!s.release || !s.switched) return
    const { id } = s.release
    const failed = logReleaseScript(c.root, [{ id, outcome: 'failed' }], runLabel())
    if (!s.previous) {
      await c.exec('Recording the failed release', failed).catch(() => {})
      return `there is no earlier release to roll back to, so current still points to releases/${id}`
    }
    try {
      await switchTo(c, s.previous, undefined, failed, c.undoSignal)
      c.result.rolledBack = true
      c.result.releasePath = releaseDir(c.root, s.previous)
      c.info(`${c.label}: rolled back: current -> releases/${s.previous}`)
      return `rolled back: current points to releases/${s.previous} again`
    } catch (err) {
      return `the rollback to releases/${s.previous} also failed (${errorMessage(err)}), so current still points to releases/${id}`
    }
  }
}

/** Switch current (never cut short by the deploy's cancellation: a switch is one rename). */
async function switchTo(
  c: DeployContext,
  id: string,
  expect: { files: number; bytes: number } | undefined,
  after: string,
  signal?: AbortSignal
): Promise<void> {
  const target = `releases/${id}`
  const out = await c.link.step(
    id === c.result.releaseId && c.result.rolledBack ? 'Rolling back' : 'Switching current',
    conn =>
      runScriptOk(
        conn,
        switchCurrentScript(c.root, id, c.tempToken, expect) + after,
        `Switching current to ${id}`
      ),
    signal
  )
  const now = out.split('\n')[0].trim()
  if (now !== target) throw new Error(`after the switch, current points to '${now}', not ${target}`)
}
