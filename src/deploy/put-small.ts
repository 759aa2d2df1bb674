import type { PlannedFile } from '../files/plan.js'
import { manifestPath, tempPathFor } from '../remote/names.js'
import { parsePut, putFilesScript, type PutFile } from '../remote/put-files.js'
import { writeCarriedManifest } from '../sync/manifest-write.js'
import { readSmallFile, SMALL_FILE_BYTES } from '../transfer/file-writes.js'
import { sha256Hex } from '../util/sha256.js'
import type { DeployContext } from './context.js'
import type { Step } from './runner.js'
import type { DeployState } from './state.js'
import { carriedParts, record } from './steps/record.js'
import { verify } from './steps/verify.js'

/**
 * A sync redeploy in place that changed a few small files: their bytes go up inside the exec that
 * writes the sealed manifest (and releases the lock, when that comes next), each put in place on
 * the instance as the upload would (temporary, mode, sha256 checked there, rename: remote/put-files.ts).
 * One exec instead of an SFTP open, write, check and rename, then the manifest's own exec: over a
 * long link, three or four round trips fewer. What cannot be put that way (a folder to make, a link
 * on the way, any failure) goes up over SFTP as usual, and the manifest is then written by record.
 */

/** Up to this many files, of this many bytes in all, ride in the script's text (base64). */
const MAX_FILES = 16
const MAX_BYTES = 256 * 1024

/**
 * Put `s.toUpload` in place with the manifest written in the same exec, when this deploy can.
 * Returns undefined when it cannot (nothing was done), else the state to merge.
 */
export async function putWithManifest(
  c: DeployContext,
  s: Readonly<DeployState>
): Promise<Partial<DeployState> | undefined> {
  const files = s.toUpload
  const bytes = files.reduce((n, f) => n + f.size, 0)
  if (!c.config.sync || s.release || files.length === 0 || files.length > MAX_FILES || bytes > MAX_BYTES)
    return undefined
  if (files.some(f => f.size > SMALL_FILE_BYTES)) return undefined
  // Only the verification's report stands between staging and record (no deletes, no command).
  const at = c.following.indexOf(record)
  if (at < 0 || !c.following.slice(0, at).every(step => step === verify)) return undefined
  const parts = carriedParts(s)
  const key = c.o.manifestKey
  const digests = await c.o.localDigests
  if (!parts || !key || !digests || !c.willWriteManifest()) return undefined
  const put: PutFile[] = []
  for (const f of files) {
    const data = readSmallFile(f)
    const sha256 = sha256Hex(data)
    // Changed since it was hashed: the usual upload reads and hashes it again.
    if (sha256 !== digests.get(f.relativePath)) return undefined
    put.push({ rel: f.relativePath, temp: tempPathFor(f.relativePath), mode: f.mode, sha256, data })
  }
  const after = c.fragments(c.following.slice(at + 1), s)
  c.link.trips.phase = 'upload'
  const answer = await c.link.step(
    'Putting the changed files in place',
    conn =>
      writeCarriedManifest(conn, key, c.root, manifestPath(c.root), digests, parts, after.tail, script =>
        putFilesScript(c.root, put, script)
      ),
    c.signal
  )
  const { put: done, whole } = parsePut(answer.out)
  if (!whole && answer.failure)
    throw new Error(`Putting the changed files in place on ${c.label}: ${answer.failure}`)
  const putFiles = files.filter((_, i) => done.has(i))
  count(c, putFiles)
  if (putFiles.length === files.length) {
    c.info(
      `${c.label}: ${files.length} files put in place with the manifest (${bytes} bytes), ${c.result.filesSkipped} unchanged, verified: ${c.result.verification}`
    )
    const riders: Step[] = [record]
    if (answer.written) riders.push(...after.riders)
    else c.warn(`${c.label}: could not write the sync manifest: ${answer.failure ?? 'no answer'}`)
    for (const step of riders) c.absorbed.add(step)
    return answer.written ? after.done : {}
  }
  // The rest over SFTP, which makes folders, follows the rules for links and says what went wrong.
  const rest = files.filter((_, i) => !done.has(i))
  await c.upload(rest, c.root, [...s.present, ...putFiles.map(f => f.relativePath)])
  return {}
}

function count(c: DeployContext, files: PlannedFile[]): void {
  if (files.length === 0) return
  c.result.filesUploaded += files.length
  c.result.bytesTransferred += files.reduce((n, f) => n + f.size, 0)
  if (c.result.verification === 'pending') c.result.verification = 'sha256 (hashed on the instance)'
}
