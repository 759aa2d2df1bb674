import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { PlannedFile } from '../files/plan.js'

/** Files up to this size are read whole (far cheaper than a stream for the many small files of a site). */
const READ_WHOLE_BYTES = 4 * 1024 * 1024

/** sha256 of every planned file, keyed by relative path (several files read at once). */
export async function hashLocalFiles(files: PlannedFile[], concurrency = 16): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]
      const hash = createHash('sha256')
      if (f.size <= READ_WHOLE_BYTES) hash.update(await readFile(f.localPath))
      else for await (const chunk of createReadStream(f.localPath)) hash.update(chunk as Buffer)
      out.set(f.relativePath, hash.digest('hex'))
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))
  return out
}
