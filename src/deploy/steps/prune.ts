import { errorMessage } from '../../errors.js'
import { isGood, removeReleasesScript, type ReleaseInfo } from '../../remote/releases.js'
import { listingScript, parseListing } from '../../remote/listing.js'
import type { Step } from '../runner.js'

/**
 * prune: release: atomic — old releases go, after the new one went live. It comes before the
 * manifest is recorded: unlinking old releases changes the ctime of files they share by hard links
 * with the new one, and the manifest must hold the stamps the next deploy will see (so the new
 * release's listing is taken in the same exec). Best effort: a failure is a warning.
 */
export const prune: Step = {
  name: 'prune',
  applies: c => c.config.release === 'atomic' && !c.config.rollback,
  async run(c, s) {
    const { id, seq } = s.release!
    const doomed = releasesToPrune(
      [...(s.releases?.releases ?? []).filter(r => r.id !== id), { id, seq, outcome: 'live' }],
      id,
      c.config.keepReleases
    )
    const manifest = c.willWriteManifest()
    c.link.trips.phase = 'record'
    try {
      const { out, done } = await c.execWithTail(
        'Removing old releases',
        removeReleasesScript(c.root, doomed) + (manifest ? listingScript(s.release!.dir) : ''),
        s
      )
      if (doomed.length) c.info(`${c.label}: removed old releases ${doomed.join(', ')}`)
      return { ...done, pruned: doomed, listing: manifest ? parseListing(out) : undefined }
    } catch (err) {
      c.warn(`${c.label}: could not remove old releases: ${errorMessage(err)}`)
    }
  }
}

/**
 * The releases to remove: every failed or unfinished one first (never current), then the oldest
 * good ones beyond `keep` (current counts as one). Only releases marked as ours are ever listed, and
 * the removal re-checks the mark on the instance.
 */
export function releasesToPrune(releases: ReleaseInfo[], current: string, keep: number): string[] {
  const ordered = [...releases].sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id))
  const others = ordered.filter(r => r.id !== current)
  const kept = (r: ReleaseInfo) => isGood(r) || r.outcome === 'rolled-back'
  const bad = others.filter(r => !kept(r))
  const good = others.filter(kept)
  return [...bad, ...good.slice(0, Math.max(0, good.length - (keep - 1)))].map(r => r.id)
}
