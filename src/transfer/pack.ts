import path from 'node:path'
import { Readable } from 'node:stream'
import type { PlannedFile } from '../files/plan.js'
import { RUN_TOKEN, stageName, tempPathFor } from '../remote/names.js'
import { packMarkerName, packScript, parsePack, type PackStage } from '../remote/pack.js'
import { checkable } from '../remote/verify.js'
import type { SshConnection } from '../ssh/connection.js'
import { execScript } from '../ssh/exec.js'
import { sha256Hex } from '../util/sha256.js'
import { readSmallFileInto, SMALL_FILE_BYTES } from './file-writes.js'
import { remoteFilePath } from './remote-path.js'
import {
  BLOCK,
  END_OF_ARCHIVE,
  fileHeader,
  fitsUstar,
  memberBytes,
  padding,
  writeFileHeader
} from './ustar.js'

/**
 * Small files in one pack (the script is remote/pack.ts): instead of an SFTP open, write and close
 * each, a batch of small files goes as one ustar archive on the stdin of one script on the
 * connection's shell, extracted under remote-path to the files' temporary names and checked there
 * by sha256 in the same script, which then renames them into place (one `mv` per folder). One round
 * trip for the batch's upload, verification and publication; what the script could not put in place
 * goes over SFTP as any other file (renamed from its stage when it checked out, sent again if not).
 * The archive is made as the channel takes it (a few files' bytes held at a time), each file read
 * and hashed once, as the SFTP path does.
 */

/** A pack's archive at most (about: a file over it closes the batch), and its files at most. */
const PACK_BYTES = 8 * 1024 * 1024
const PACK_FILES = 4096
/**
 * The archive goes to the instance in pieces of about this size, each read there by one dd: under
 * the shell's frame of 1 MiB (ssh/shell-session.ts) by more than a small file, so a piece is one frame.
 */
const PIECE_BYTES = 1024 * 1024 - 2 * (SMALL_FILE_BYTES + BLOCK)

export interface PackMember {
  file: PlannedFile
  final: string
  /** In its pack's stage (stagePack): `<folder>/<stage>/<name>` under the root. */
  temp: string
  /** The temporary's path relative to the pack's root: its name in the archive. */
  rel: string
  /** Set once its bytes are in the archive (hashed from the bytes sent). */
  sha256?: string
}

/** A planned file's folder ('.' for the root) and name: its path is plain (util/plain-path.ts), no dirname needed. */
function folderAndName(rel: string): { folder: string; name: string } {
  const slash = rel.lastIndexOf('/')
  return slash < 0 ? { folder: '.', name: rel } : { folder: rel.slice(0, slash), name: rel.slice(slash + 1) }
}

/** Stage `n` in `folder`, relative to the root. */
function stageIn(folder: string, n: number): string {
  const stage = stageName(RUN_TOKEN, n)
  return folder === '.' ? stage : `${folder}/${stage}`
}

/** The file's place in a pack under `root`, or undefined when it goes by SFTP (too large, a name tar cannot carry exactly). */
export function packMember(root: string, file: PlannedFile): PackMember | undefined {
  if (file.size > SMALL_FILE_BYTES) return undefined
  const final = remoteFilePath(root, file.relativePath)
  // Every stage's name has the same length: the one it will have is as long as this.
  const { folder, name } = folderAndName(file.relativePath)
  const rel = `${stageIn(folder, 0)}/${name}`
  if (!fitsUstar(rel) || !checkable(rel)) return undefined
  return { file, final, temp: remoteFilePath(root, rel), rel }
}

/** Stages made by this process: each has its own name. */
let stagesMade = 0

/**
 * The stages of a batch about to be sent under `root`: a new one per folder its members are in,
 * each member's `temp` and `rel` set in it (a stage is the pack's own: two packs in one folder
 * never share one, so neither removes the other's).
 */
export function stagePack(root: string, batch: PackMember[]): PackStage[] {
  const byFolder = new Map<string, PackStage>()
  for (const m of batch) {
    const { folder, name } = folderAndName(m.file.relativePath)
    let st = byFolder.get(folder)
    if (!st) byFolder.set(folder, (st = { dir: stageIn(folder, stagesMade++), names: [] }))
    st.names.push(name)
    m.rel = `${st.dir}/${name}`
    m.temp = remoteFilePath(root, m.rel)
  }
  return [...byFolder.values()]
}

/**
 * Packs a connection sends at once, each on a shell of its own (the deploy keeps that many ready):
 * each shell's channel takes at most sshd's window (2 MiB) a round trip, and each pack is extracted
 * and checked while the other is sent.
 */
export const PACKS_AT_ONCE = 2
/** A batch is split for PACKS_AT_ONCE only where each part is at least this much archive. */
const SPLIT_MIN_BYTES = 1024 * 1024

/**
 * `members` in batches a pack each, of at most PACK_BYTES of archive and PACK_FILES files, and in
 * `atOnce` batches about equal at least (the packs sent at once) where they are large enough.
 */
export function packBatches(members: PackMember[], atOnce = 1): PackMember[][] {
  const out: PackMember[][] = []
  const total = members.reduce((n, m) => n + memberBytes(m.file.size), 0)
  const limit = Math.min(PACK_BYTES, Math.max(SPLIT_MIN_BYTES, Math.ceil(total / atOnce)))
  let batch: PackMember[] = []
  let bytes = 0
  for (const m of members) {
    const size = memberBytes(m.file.size)
    if (batch.length && (bytes + size > limit || batch.length >= PACK_FILES)) {
      out.push(batch)
      batch = []
      bytes = 0
    }
    batch.push(m)
    bytes += size
  }
  if (batch.length) out.push(batch)
  return out
}

/** The archive of a batch, made as it is read: files that cannot be read now are left out (`skipped`). */
export class PackArchive extends Readable {
  private next = 0
  private ended = false
  readonly skipped: PackMember[] = []
  readonly sent: PackMember[] = []
  private readonly mtime = Math.floor(Date.now() / 1000)

  constructor(
    private readonly members: PackMember[],
    private readonly sumsRel: string,
    private readonly onBytes?: (n: number) => void
  ) {
    super()
  }

  private building = false

  /**
   * The next piece, made on the next turn of the event loop: the stream asks again as soon as a
   * piece is pushed, and made at once the pieces would all be made before the first is written to
   * the connection (its writes wait for the end of the turn) or the other connections' packs start.
   */
  override _read(): void {
    if (this.ended || this.building) return
    this.building = true
    setImmediate(() => {
      this.building = false
      if (!this.destroyed) this.piece()
    })
  }

  /**
   * A piece: its members' headers and bytes in one buffer, each file read straight into its place
   * and hashed there (no buffer of its own, no copy into the piece).
   */
  private piece(): void {
    const from = this.next
    let planned = 0
    while (this.next < this.members.length && planned < PIECE_BYTES)
      planned += memberBytes(this.members[this.next++].file.size)
    // One byte more: the last file is read one byte past its size, to see that it grew.
    const piece = Buffer.allocUnsafe(planned + 1)
    let at = 0
    for (let i = from; i < this.next; i++) {
      const m = this.members[i]
      let n: number
      try {
        n = readSmallFileInto(m.file, piece, at + BLOCK)
      } catch {
        // The SFTP path reads it again and says what is wrong with it.
        this.skipped.push(m)
        continue
      }
      m.sha256 = sha256Hex(piece.subarray(at + BLOCK, at + BLOCK + n))
      writeFileHeader(piece, at, m.rel, m.file.mode, n, this.mtime)
      const end = at + memberBytes(n)
      piece.fill(0, at + BLOCK + n, end)
      at = end
      this.sent.push(m)
      this.onBytes?.(n)
    }
    const parts: Buffer[] = [piece.subarray(0, at)]
    if (this.next >= this.members.length) {
      const list = Buffer.from(this.sent.map(m => `${m.sha256}  ${m.rel}\n`).join(''), 'utf8')
      parts.push(fileHeader(this.sumsRel, 0o600, list.length, this.mtime), list, padding(list.length))
      parts.push(END_OF_ARCHIVE)
      this.ended = true
    }
    this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts))
    if (this.ended) this.push(null)
  }
}

export interface PackOutcome {
  /** Renamed over their final paths by the pack's script. */
  published: PackMember[]
  /** In place in their stage and checked: to be renamed over SFTP. */
  good: PackMember[]
  /** Not in place as sent (left out, failed the check, or the pack failed): for SFTP. */
  rest: PackMember[]
  /** Those of `rest` that may still be in their stage: to remove. */
  stale: PackMember[]
  /** Those known not to be in their stage (the script removed them, or never wrote them). */
  gone: PackMember[]
  /** The stages that may still be there: to remove once `good` and `stale` are out of them. */
  stages: string[]
}

/** Packs sent by this process: each has its own marker. */
let packs = 0

/** Connections where a pack could not run at all (no tar, say): none is tried again. */
const unusable = new WeakSet<SshConnection>()

export function packsUsable(conn: SshConnection): boolean {
  return !unusable.has(conn)
}

/** The script's exit statuses that say it left nothing extracted behind (see packScript). */
const CLEAN_EXITS = new Set([1, 2, 3, 4])

/**
 * Send a batch in one pack under `root`, in `stages` (stagePack); `folders` are those its members
 * go in (there, or their mkdir requests sent: the script waits for them). The stages and the list
 * of sums are temporaries too, in `openTemps` while they may be on the instance (a stage the answer
 * names as left stays listed until the caller removes it), as the caller keeps the members'.
 * Resolves with what became of each member; rejects only when the connection is lost. `stop` ends
 * the archive early (the upload was cancelled): tar then finds it cut short, and the script removes
 * what it extracted, as for any other failed pack.
 */
export async function sendPack(
  conn: SshConnection,
  root: string,
  folders: string[],
  batch: PackMember[],
  stages: PackStage[],
  openTemps: Set<string>,
  onBytes?: (n: number) => void,
  stop?: AbortSignal
): Promise<PackOutcome> {
  const sumsTemp = tempPathFor(path.posix.join(root, 'sums'))
  const sumsRel = path.posix.basename(sumsTemp)
  const marker = packMarkerName(RUN_TOKEN, packs++)
  const markerTemp = path.posix.join(root, marker)
  const stageDirs = stages.map(st => remoteFilePath(root, st.dir))
  openTemps.add(sumsTemp)
  openTemps.add(markerTemp)
  for (const d of stageDirs) openTemps.add(d)
  const stream = new PackArchive(batch, sumsRel, onBytes)
  const script = packScript(root, folders, stages, sumsRel, marker)
  const cut = () => stream.destroy()
  stop?.addEventListener('abort', cut, { once: true })
  if (stop?.aborted) cut()
  const r = await execScript(conn, script, { stdin: stream }).finally(() => {
    stop?.removeEventListener('abort', cut)
    stream.destroy()
  })
  const expected = new Map(stream.sent.map(m => [m.rel, m.sha256!]))
  const answer = parsePack(r, stages, expected)
  // An answer means the script ended, and its marker went with it.
  if (r.code !== null) openTemps.delete(markerTemp)
  if (!answer) {
    const clean = r.code !== null && CLEAN_EXITS.has(r.code)
    // A folder gone meanwhile says nothing of the instance; anything else, that packs do not work there.
    if (r.code !== 4) unusable.add(conn)
    if (clean) for (const t of [sumsTemp, ...stageDirs]) openTemps.delete(t)
    return {
      published: [],
      good: [],
      rest: batch,
      stale: clean ? [] : stream.sent,
      gone: clean ? batch : stream.skipped,
      stages: clean ? [] : stageDirs
    }
  }
  openTemps.delete(sumsTemp)
  stageDirs.forEach((d, i) => answer.kept.has(i) || openTemps.delete(d))
  const { good, published } = answer
  const sent = new Set(stream.sent)
  return {
    published: stream.sent.filter(m => published.has(m.rel)),
    good: stream.sent.filter(m => good.has(m.rel) && !published.has(m.rel)),
    rest: batch.filter(m => !sent.has(m) || !good.has(m.rel)),
    stale: stream.sent.filter(m => !good.has(m.rel)),
    gone: stream.skipped,
    stages: stageDirs.filter((_, i) => answer.kept.has(i))
  }
}
