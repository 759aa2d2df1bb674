import * as core from '@actions/core'
import { buildConfig } from './config.js'
import { targetConnection } from './deploy/context.js'
import type { CleanupNote } from './deploy/types.js'
import { errorMessage } from './errors.js'
import { actionsLogger } from './main.js'
import { cleanupScript } from './remote/cleanup.js'
import { targetAccess } from './run-deploy.js'
import { runScriptOk } from './ssh/run-script.js'

/** The state the main step keeps up to date: the targets whose lock it holds (JSON), '' when none. */
export const CLEANUP_STATE = 'cleanup'

/**
 * The action's post step (`post-if: always()`): when the main step was killed before it could undo
 * its work, the state it saved names each target it still held locked; this connects to each one
 * (the job's inputs are the same) and removes the unfinished release, the run's temporaries and
 * the lock, only while the lock still holds that run's token. Does nothing, and loads nothing
 * more, after a deploy that ended on its own. Never fails the job: a miss is a warning.
 */
export async function postCleanup(): Promise<void> {
  const saved = core.getState(CLEANUP_STATE)
  if (!saved) return
  let notes: CleanupNote[]
  try {
    notes = JSON.parse(saved) as CleanupNote[]
  } catch {
    return
  }
  if (notes.length === 0) return
  try {
    actionsLogger.setSecret(core.getInput('ssh-private-key'))
    actionsLogger.setSecret(core.getInput('ssh-passphrase'))
    const config = buildConfig(name => core.getInput(name))
    const { targets, connectionOptions } = await targetAccess({ ...config, retries: 1 }, actionsLogger)
    for (const note of notes) {
      const target = targets.find(t => t.label === note.target)
      if (!target) continue
      const link = targetConnection(connectionOptions(target))
      try {
        const out = await link.step(
          'Cleaning up after the cancelled deploy',
          conn =>
            runScriptOk(
              conn,
              cleanupScript(note.root, note.token, note.tempToken, note.releaseId),
              'Cleaning up'
            ),
          AbortSignal.timeout(60_000)
        )
        if (out.includes('CLEANED'))
          core.info(
            `${note.target}: removed what the cancelled deploy left (its lock${note.releaseId ? ', unfinished release' : ''} and temporaries).`
          )
      } catch (err) {
        core.warning(`${note.target}: could not clean up after the cancelled deploy: ${errorMessage(err)}`)
      } finally {
        link.close()
        await target.tunnel.close().catch(() => {})
      }
    }
  } catch (err) {
    core.warning(`Could not clean up after the cancelled deploy: ${errorMessage(err)}`)
  }
}
