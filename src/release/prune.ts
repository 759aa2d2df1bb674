import type { ReleaseInfo } from './layout.js'

/**
 * The releases to remove so the newest `keep` remain (by creation order), never `current`. Only
 * releases with our marker are ever listed, and the removal re-checks the marker on the instance.
 */
export function releasesToPrune(releases: ReleaseInfo[], current: string, keep: number): string[] {
  const ordered = [...releases].sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id))
  return ordered
    .slice(0, Math.max(0, ordered.length - keep))
    .filter(r => r.id !== current)
    .map(r => r.id)
}
