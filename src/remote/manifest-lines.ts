/**
 * The sync manifest's line format, which the awk programs on the instance read and write as well
 * as this side (docs/remote-protocol.md, "The manifest"). The seal over it is in sync/manifest.ts.
 */

export const MANIFEST_HEADER = 'ec2-push-manifest 2'

export interface ManifestEntry {
  sha256: string
  mode: number
  stamp: string
}

/** A path the line format can hold: the path ends the line, so no control characters in it. */
export function isLinePath(rel: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x1f]/.test(rel)
}

/** `<sha256> <mode, octal> <inode> <size> <ctime> <path>`: the path last, so it may hold spaces. */
export function manifestLine(rel: string, e: ManifestEntry): string {
  return `${e.sha256} ${e.mode.toString(8)} ${e.stamp} ${rel}`
}

/** One manifest line; undefined for anything else (the header, the seal). */
export function parseManifestLine(line: string): [string, ManifestEntry] | undefined {
  const m = /^([0-9a-f]{64}) ([0-7]+) (\d+ \d+ [\d.]+) (.+)$/.exec(line)
  return m ? [m[4], { sha256: m[1], mode: parseInt(m[2], 8), stamp: m[3] }] : undefined
}

/** What the instance reports of its manifest: the first line, the digest of all but the last, the last. */
export interface SealClaim {
  header: string
  bodyDigest: string
  sealLine: string
}
