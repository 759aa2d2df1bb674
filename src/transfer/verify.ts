import { createHash } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { readProbe, SHA256SUM_PROBE, type ProbeAnswer } from '../remote/probes.js'
import { shellQuote } from '../remote/quote.js'
import { parseRangeHash, rangeHashRequest, rangeHashUnderScript, requestPath } from '../remote/range-hash.js'
import {
  checkable,
  checkScript,
  indexedSha256Script,
  parseIndexedSha256,
  parseCheck,
  parseSha256sum,
  parseStreamHash,
  sha256sumScript,
  type LargeFileHasher,
  STREAM_BLOCK,
  streamHashScript
} from '../remote/verify.js'
import type { SshConnection } from '../ssh/connection.js'
import { UserError } from '../errors.js'
import { execScript } from '../ssh/exec.js'
import type { Sftp } from './sftp.js'

/** Verifying uploaded files: on the instance (the scripts are in remote/verify.ts) or by reading them back. */

/** Keep each command line well under any server's limit. */
const MAX_COMMAND_BYTES = 64 * 1024

export type VerifyMethod = 'sha256sum' | 'read-back'

interface Verdict {
  method: VerifyMethod
  /** What hashes large files there: OpenSSL where the probe saw it hash, else sha256sum. */
  large?: LargeFileHasher
}

const probes = new WeakMap<SshConnection, Promise<Verdict>>()

function verdictOf(answer: ProbeAnswer): Verdict {
  if (!answer.sha256sum) return { method: 'read-back' }
  return { method: 'sha256sum', large: answer.openssl ? 'openssl' : 'sha256sum' }
}

/**
 * Can we run `sha256sum` on the instance? (An SFTP-only account cannot exec; then we read files
 * back.) Asked once per connection; a deploy may ask early so the answer is ready for the upload.
 */
export function probeVerifyMethod(conn: SshConnection): Promise<VerifyMethod> {
  let probe = probes.get(conn)
  if (!probe) {
    probe = probeOnce(conn)
    // Asked early and awaited later, or not at all: a rejection is not unhandled meanwhile.
    probe.catch(() => {})
    probes.set(conn, probe)
  }
  return probe.then(v => v.method)
}

/**
 * `conn` takes the probe's answer of `from`, another connection with the same login to the same
 * instance (asked there if it was not yet), instead of asking its own: each probe is an exec, with
 * a session, a shell, OpenSSL and sha256sum on the instance. Nothing when `conn` has one already.
 */
export function shareVerifyMethod(conn: SshConnection, from: SshConnection): void {
  if (probes.has(conn) || conn === from) return
  void probeVerifyMethod(from)
  probes.set(conn, probes.get(from)!)
}

/** The probe's answer, learnt by a script that asked it on the way (the deploy lock's). */
export function knowVerifyMethod(conn: SshConnection, answer: ProbeAnswer): void {
  if (!probes.has(conn)) probes.set(conn, Promise.resolve(verdictOf(answer)))
}

/**
 * What the scripts that hash large files on this connection's instance use, as its probe found;
 * undefined when no probe was asked there (or it failed), and the script chooses for itself.
 */
export async function largeFileHasher(conn: SshConnection): Promise<LargeFileHasher | undefined> {
  return (await probes.get(conn)?.catch(() => undefined))?.large
}

async function probeOnce(conn: SshConnection): Promise<Verdict> {
  try {
    return verdictOf(readProbe(await execScript(conn, SHA256SUM_PROBE)))
  } catch (err) {
    // A login shell that prints when it starts is said as it is, not worked around.
    if (err instanceof UserError) throw err
    return { method: 'read-back' }
  }
}

/** Remote sha256 of many files with as few `sha256sum` execs as the command-line limit allows. */
export async function remoteSha256(conn: SshConnection, paths: string[]): Promise<Map<string, string>> {
  const result = new Map<string, string>()
  // A name with a line break would split BusyBox's listing (GNU escapes it): hashed one by one.
  const odd: string[] = []
  const listed: string[] = []
  for (const p of paths) (checkable(p) ? listed : odd).push(p)
  if (odd.length) {
    const r = await execScript(conn, indexedSha256Script(odd))
    for (const [p, digest] of parseIndexedSha256(r.stdout, odd)) result.set(p, digest)
  }
  let batch: string[] = []
  let bytes = 0
  const flush = async () => {
    if (batch.length === 0) return
    const r = await execScript(conn, sha256sumScript(batch))
    for (const [p, digest] of parseSha256sum(r.stdout)) result.set(p, digest)
    batch = []
    bytes = 0
  }
  for (const p of listed) {
    const quoted = shellQuote(p).length + 1
    if (bytes + quoted > MAX_COMMAND_BYTES) await flush()
    batch.push(p)
    bytes += quoted
  }
  await flush()
  return result
}

/**
 * sha256 of whole files under `dir` (relative paths), each by a process of the large-file hasher
 * (largeFileHasher; rangeHashScript asked for whole files): relative path -> digest. A file that
 * could not be hashed has no entry, and counts as different.
 */
export async function remoteWholeSha256(
  conn: SshConnection,
  dir: string,
  rels: string[]
): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  if (rels.length === 0) return out
  const asked = new Map(rels.map(rel => [requestPath(`./${rel}`), rel]))
  const script = rangeHashUnderScript(dir, await largeFileHasher(conn))
  const stdin = [...asked.keys()].map(p => rangeHashRequest(p, 0, 0, true)).join('')
  const r = await execScript(conn, script, { stdin })
  for (const line of r.stdout.split('\n')) {
    const answer = parseRangeHash(line)
    const rel = answer?.digest && answer.offset === 0 ? asked.get(answer.path) : undefined
    if (rel !== undefined) out.set(rel, answer!.digest)
  }
  return out
}

/** Connections whose sha256sum cannot `--quiet -c` (BusyBox): remoteCheck is not tried again. */
const noCheck = new WeakSet<SshConnection>()

/**
 * Verify on the instance: the expected sha256 go up with the script and `sha256sum --quiet -c`
 * compares them there, naming only the files that differ or cannot be read. sha256sum's own listing
 * is 116 bytes a file, and over ssm what the instance sends comes at the agent's pace (about 1 MB/s):
 * for 2,000 small files that listing was a third of a second. Resolves with the paths that failed;
 * undefined where the instance cannot answer this way, and the caller hashes with remoteSha256.
 * (--strict: a line sha256sum could not read fails the run rather than being skipped unchecked.)
 * The answer is trusted exactly as sha256sum's listing is.
 */
export async function remoteCheck(
  conn: SshConnection,
  expected: Map<string, string>
): Promise<Set<string> | undefined> {
  if (expected.size === 0) return new Set()
  if (noCheck.has(conn)) return undefined
  const failed = parseCheck(await execScript(conn, checkScript(expected)), expected)
  if (!failed) noCheck.add(conn)
  return failed
}

/** Announce written blocks to streamRemoteSha256's reader this many at a time. */
const STREAM_STEP_BLOCKS = 64

export interface StreamingSha256 {
  /** The first `bytes` bytes of the file are written (acknowledged by the server). */
  advance(bytes: number): void
  /** Every byte (`size` in all) is written: the remote digest, or undefined if streaming failed. */
  finish(size: number): Promise<string | undefined>
  /** The upload failed: let the remote reader end. */
  cancel(): void
}

/**
 * sha256 of a remote file computed while it is being written: one exec reads the file in order, a
 * block range at a time as the client announces that range complete, into a single hash (OpenSSL's
 * where the probe saw it work, remote/probes.ts). The
 * instance hashes during the upload instead of after it, so a large file's verification costs
 * about nothing at the end. Announcements are whole blocks; the last one reads to the end.
 */
export function streamRemoteSha256(conn: SshConnection, remotePath: string): StreamingSha256 {
  const feed = new PassThrough()
  const result = largeFileHasher(conn).then(h =>
    execScript(conn, streamHashScript(remotePath, h), { stdin: feed })
  )
  result.catch(() => {})
  let announced = 0
  return {
    advance(bytes) {
      if (feed.writableEnded) return
      const blocks = Math.floor(bytes / STREAM_BLOCK)
      // Every announcement costs a dd process on the instance: a few MiB at a time, not every write.
      if (blocks - announced >= STREAM_STEP_BLOCKS) {
        feed.write(`${blocks - announced}\n`)
        announced = blocks
      }
    },
    async finish(size) {
      if (feed.writableEnded) return undefined // cancelled
      const total = Math.ceil(size / STREAM_BLOCK)
      if (total > announced) feed.write(`${total - announced}\n`)
      announced = total
      feed.end()
      return parseStreamHash(await result.catch(() => undefined))
    },
    cancel() {
      if (!feed.writableEnded) feed.end()
    }
  }
}

/** Fallback: read a remote file back over SFTP and hash it here (pipelined reads). */
export async function readBackSha256(sftp: Sftp, remotePath: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const handle = await sftp.open(remotePath, 'r', 0)
  const CHUNK = 32 * 1024
  const DEPTH = 16
  try {
    let next = 0
    const pending: Promise<Buffer>[] = []
    const issue = () => {
      const pos = next
      const len = Math.min(CHUNK, size - pos)
      next += len
      const buf = Buffer.allocUnsafe(len)
      pending.push(
        sftp.read(handle, buf, len, pos).then(n => {
          if (n !== len) throw new Error(`short read of ${remotePath} at ${pos}`)
          return buf
        })
      )
    }
    while (next < size && pending.length < DEPTH) issue()
    while (pending.length) {
      hash.update(await pending.shift()!)
      if (next < size) issue()
    }
  } finally {
    await sftp.closeHandle(handle).catch(() => {})
  }
  return hash.digest('hex')
}
