import { listingScript, parseListing, relistScript, type RemoteEntry } from '../remote/listing.js'

/** Keeping a listing of the remote folder up to date after an upload (the scripts are in remote/listing.ts). */

/** A listing to be taken on the instance: the script, and how its output becomes the listing. */
export interface ListingRefresh {
  script: string
  parse(out: string): Map<string, RemoteEntry>
}

/** Above this many changed files, listing the whole folder is shorter than naming each one. */
const RELIST_MAX = 200

/**
 * `base` (an earlier listing of `dir`) brought up to date for `changed` files: those are listed
 * again and the rest are taken as they were (nothing touched them since). Without a base, or with
 * many changes, the whole folder is listed.
 */
export function refreshListing(
  dir: string,
  base?: Map<string, RemoteEntry>,
  changed: { relativePath: string }[] = []
): ListingRefresh {
  if (!base || changed.length > RELIST_MAX) return { script: listingScript(dir), parse: parseListing }
  const script = relistScript(
    dir,
    changed.map(f => f.relativePath)
  )
  return {
    script,
    parse(out) {
      const now = new Map(base)
      for (const f of changed) now.delete(f.relativePath)
      for (const [rel, e] of parseListing(out)) now.set(rel, e)
      return now
    }
  }
}
