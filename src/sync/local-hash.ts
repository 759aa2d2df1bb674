import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { PlannedFile } from '../files/plan.js'

/** sha256 of every planned file, keyed by relative path (a few files read at once). */
export async function hashLocalFiles(files: PlannedFile[], concurrency = 8): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]
      const hash = createHash('sha256')
      for await (const chunk of createReadStream(f.localPath)) hash.update(chunk as Buffer)
      out.set(f.relativePath, hash.digest('hex'))
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))
  return out
}
