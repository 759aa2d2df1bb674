/**
 * Nothing of its own: the sync snapshot's script and format live in remote/sync-snapshot.ts and
 * reading it in sync/compare.ts. This re-export keeps release/flows.ts building until it imports
 * from remote/ itself.
 */
export { parseSnapshot, snapshotScript } from '../remote/sync-snapshot.js'
