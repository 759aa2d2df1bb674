import type { SshConnection } from '../ssh/connection.js'
import { readReleaseState, removeRelease } from './layout.js'

/**
 * Keep the newest `keep` releases (by creation order) and remove the rest, never `current` and
 * never a folder without our marker (readReleaseState lists only marked ones). Returns the removed ids.
 */
export async function pruneReleases(conn: SshConnection, root: string, keep: number): Promise<string[]> {
  const state = await readReleaseState(conn, root)
  const current = state.current.kind === 'release' ? state.current.id : undefined
  const doomed = state.releases
    .slice(0, Math.max(0, state.releases.length - keep))
    .filter(r => r.id !== current)
  for (const r of doomed) await removeRelease(conn, root, r.id)
  return doomed.map(r => r.id)
}
