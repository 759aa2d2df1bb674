import type { DeployConfig } from '../../config.js'
import { manifestFromDir } from '../../remote/names.js'
import { releaseStateScript } from '../../remote/releases.js'
import { snapshotScript } from '../../remote/sync-snapshot.js'
import type { DeployContext } from '../context.js'

/** What a deploy reads from the instance first (in the lock's exec): its releases, or the folder. */
export async function firstReadScript(c: DeployContext): Promise<string> {
  const { config } = c
  if (config.release === 'atomic' || config.rollback) return releaseStateScript(c.root)
  if (config.sync || config.delete)
    return snapshotScript(c.root, await c.snapshotRequest(), manifestFromDir())
  return ''
}

/** Does a dry run of this configuration read the instance at all? */
export function readsInstance(config: DeployConfig): boolean {
  return config.sync || config.delete || config.rollback
}
