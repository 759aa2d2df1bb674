import { readFileSync } from 'node:fs'
import type { PlannedFile } from '../files/plan.js'
import { sha256File } from '../files/hash.js'
import { SMALL_FILE_BYTES } from '../transfer/file-writes.js'
import { sha256Hex } from '../util/sha256.js'

/**
 * Small files (the upload's own threshold) are hashed on this thread, from one synchronous read: for
 * a small file a round trip to the hashing worker costs several times the hash itself (2,000 files
 * of 2 KiB: about 350 ms through the worker, 40 ms here).
 */
const INLINE_BYTES = SMALL_FILE_BYTES
/** Yield to the event loop this often while hashing inline, so a connection being opened meanwhile progresses. */
const SLICE_MS = 10

/** sha256 of every planned file, keyed by relative path. */
export async function hashLocalFiles(files: PlannedFile[], concurrency = 16): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  // Large files on the worker thread, several queued at once, while the small ones are hashed here.
  const large = files.filter(f => f.size > INLINE_BYTES)
  let next = 0
  const worker = async () => {
    while (next < large.length) {
      const f = large[next++]
      out.set(f.relativePath, await sha256File(f.localPath))
    }
  }
  const largeDone = Promise.all(Array.from({ length: Math.min(concurrency, large.length) }, worker))
  largeDone.catch(() => {})
  let sliceStart = performance.now()
  for (const f of files) {
    if (f.size > INLINE_BYTES) continue
    out.set(f.relativePath, sha256Hex(readFileSync(f.localPath)))
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise(resolve => setImmediate(resolve))
      sliceStart = performance.now()
    }
  }
  await largeDone
  return out
}
