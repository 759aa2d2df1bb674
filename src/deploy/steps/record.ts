import { errorMessage } from '../../errors.js'
import { manifestPath } from '../../remote/names.js'
import { refreshListing } from '../../sync/listing.js'
import { writeCarriedManifest, writeManifest } from '../../sync/manifest-write.js'
import type { Step } from '../runner.js'
import type { DeployState } from '../state.js'

/**
 * record: the sealed sync manifest of what was deployed, in .ec2-push/ (the release log was written
 * with the publish). In place it is written before post-command, so it records the files as they
 * were verified; for a release, after prune (see prune.ts). Best effort: without it the next sync
 * hashes on the instance. The unlock rides along in the same exec when it comes next.
 */
export const record: Step = {
  name: 'record',
  applies: c => c.willWriteManifest() && !c.config.rollback,
  async run(c, s) {
    const key = c.o.manifestKey!
    const digests = (await c.o.localDigests)!
    const id = s.release?.id
    const dir = s.release?.dir ?? c.root
    const file = manifestPath(c.root, id)
    c.link.trips.phase = 'record'
    try {
      const { done } = await c.execWithTail('Writing the sync manifest', '', s, async (conn, after) => {
        const carried = carriedParts(s)
        if (carried) {
          await writeCarriedManifest(conn, key, dir, file, digests, carried, after)
        } else {
          // Files not uploaded kept the stamps the comparison listed; only the uploaded ones are listed again.
          const now =
            s.listing ??
            refreshListing(dir, s.release ? undefined : s.cmp?.listing, s.release ? undefined : s.toUpload)
          await writeManifest(conn, key, dir, file, digests, now, after)
        }
        return ''
      })
      return done
    } catch (err) {
      c.warn(`${c.label}: could not write the sync manifest: ${errorMessage(err)}`)
    }
  }
}

/**
 * In place, when the comparison trusted the old manifest for some files: the parts the instance
 * makes the new manifest from (those files' lines carried over, the uploaded ones made there).
 */
export function carriedParts(s: Readonly<DeployState>) {
  const cmp = s.cmp
  if (s.release || !cmp || !cmp.carried.size) return undefined
  return { carried: cmp.carried, uploaded: s.toUpload.map(f => f.relativePath), known: cmp.listing }
}
