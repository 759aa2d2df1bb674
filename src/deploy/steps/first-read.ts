import type { DeployConfig } from '../../config.js'
import { manifestFromDir } from '../../remote/names.js'
import { releaseStateScript } from '../../remote/releases.js'
import { plannedInput, snapshotScript } from '../../remote/sync-snapshot.js'
import type { DeployContext } from '../context.js'

/** What a deploy reads from the instance first (in the lock's exec): its releases, or the folder. */
export async function firstReadScript(c: DeployContext): Promise<string> {
  const { config } = c
  if (config.release === 'atomic' || config.rollback) return releaseStateScript(c.root)
  if (config.sync || config.delete)
    return snapshotScript(c.root, await c.snapshotRequest(), manifestFromDir())
  return ''
}

/**
 * The same read for the lock's exec, without waiting for the local digests: with sync, the planned
 * files follow on the script's stdin once hashed, so the instance lists the folder meanwhile.
 */
export function firstReadStreamed(c: DeployContext): { script: string; input?: Promise<string> } {
  const { config } = c
  if (config.release === 'atomic' || config.rollback || !config.sync) return { script: '' }
  const input = c.snapshotRequest().then(r => plannedInput(r!))
  input.catch(() => {})
  return { script: snapshotScript(c.root, 'stdin', manifestFromDir()), input }
}

/** Does a dry run of this configuration read the instance at all? */
export function readsInstance(config: DeployConfig): boolean {
  return config.sync || config.delete || config.rollback
}
