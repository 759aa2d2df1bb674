import type { PlannedFile } from '../files/plan.js'
import { sha256File } from '../files/hash.js'

/** sha256 of every planned file, keyed by relative path (on the hashing worker, several queued at once). */
export async function hashLocalFiles(files: PlannedFile[], concurrency = 16): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]
      out.set(f.relativePath, await sha256File(f.localPath))
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))
  return out
}
