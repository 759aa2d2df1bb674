import { createHash } from 'node:crypto'
import { PassThrough } from 'node:stream'
import type { SshConnection } from '../ssh/connection.js'
import { execChannel, execScript } from '../ssh/exec.js'
import { parseSha256sum, shellQuote } from './remote-path.js'
import type { Sftp } from './sftp.js'

/** The digest `echo ec2-push-probe | sha256sum` must print, proving exec and sha256sum both work. */
const PROBE_DIGEST = createHash('sha256').update('ec2-push-probe\n').digest('hex')

/** Keep each command line well under any server's limit. */
const MAX_COMMAND_BYTES = 64 * 1024

export type VerifyMethod = 'sha256sum' | 'read-back'

const probes = new WeakMap<SshConnection, Promise<VerifyMethod>>()

/**
 * Can we run `sha256sum` on the instance? (An SFTP-only account cannot exec; then we read files
 * back.) Asked once per connection; a deploy may ask early so the answer is ready for the upload.
 */
export function probeVerifyMethod(conn: SshConnection): Promise<VerifyMethod> {
  let probe = probes.get(conn)
  if (!probe) {
    probe = probeOnce(conn)
    probes.set(conn, probe)
  }
  return probe
}

async function probeOnce(conn: SshConnection): Promise<VerifyMethod> {
  try {
    const r = await execChannel(conn, 'echo ec2-push-probe | sha256sum')
    return r.code === 0 && r.stdout.includes(PROBE_DIGEST) ? 'sha256sum' : 'read-back'
  } catch {
    return 'read-back'
  }
}

/** Remote sha256 of many files with as few `sha256sum` execs as the command-line limit allows. */
export async function remoteSha256(conn: SshConnection, paths: string[]): Promise<Map<string, string>> {
  const result = new Map<string, string>()
  let batch: string[] = []
  let bytes = 0
  const flush = async () => {
    if (batch.length === 0) return
    const r = await execScript(conn, `sha256sum -- ${batch.map(shellQuote).join(' ')}`)
    for (const [p, digest] of parseSha256sum(r.stdout)) result.set(p, digest)
    batch = []
    bytes = 0
  }
  for (const p of paths) {
    const quoted = shellQuote(p).length + 1
    if (bytes + quoted > MAX_COMMAND_BYTES) await flush()
    batch.push(p)
    bytes += quoted
  }
  await flush()
  return result
}

/**
 * Paths sha256sum -c reads as they are: a backslash or a line break in a name would need its escaped
 * form, which older coreutils read differently. Such files are hashed with remoteSha256 instead.
 */
export function checkable(remotePath: string): boolean {
  return !/[\\\n\r]/.test(remotePath)
}

/** Connections whose sha256sum cannot `--quiet -c` (BusyBox): remoteCheck is not tried again. */
const noCheck = new WeakSet<SshConnection>()

/** The script for remoteCheck: the expected sums go up in a here-document (no line starts like its end). */
export function checkScript(expected: Map<string, string>): string {
  const lines = [...expected].map(([p, digest]) => `${digest}  ${p}`)
  return `sha256sum --quiet --strict -c - <<'EC2_PUSH_SUMS'\n${lines.join('\n')}\nEC2_PUSH_SUMS`
}

/**
 * What remoteCheck's run said: the paths that failed, or undefined when the answer is not one
 * `sha256sum --quiet -c` gives (the option is missing, or a line names no file that was sent).
 */
export function parseCheck(r: { code: number | null; stdout: string }, expected: Map<string, string>) {
  if (r.code === 0 && r.stdout === '') return new Set<string>()
  if (r.code !== 1) return undefined
  const failed = new Set<string>()
  for (const line of r.stdout.split('\n')) {
    if (!line) continue
    const p = line.replace(/: FAILED( open or read)?$/, '')
    if (p === line || !expected.has(p)) return undefined
    failed.add(p)
  }
  return failed.size ? failed : undefined
}

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

/** The remote side of streamRemoteSha256: reads the file as announced blocks arrive, into one sha256sum. */
const STREAM_BLOCK = 64 * 1024
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
 * block range at a time as the client announces that range complete, into a single sha256sum. The
 * instance hashes during the upload instead of after it, so a large file's verification costs
 * about nothing at the end. Announcements are whole blocks; the last one reads to the end.
 */
export function streamRemoteSha256(conn: SshConnection, remotePath: string): StreamingSha256 {
  const feed = new PassThrough()
  // OpenSSL's sha256 takes half the CPU of coreutils' (a quarter or less where the CPU has SHA
  // instructions, as most EC2 types do); the instance hashes the whole file, so it is used when there.
  const script = `exec 3< ${shellQuote(remotePath)} || exit 1
if command -v openssl >/dev/null 2>&1; then h='openssl dgst -sha256 -r'; else h=sha256sum; fi
{ while read n; do dd bs=${STREAM_BLOCK} count="$n" <&3 2>/dev/null || exit 1; done; } | $h`
  const result = execChannel(conn, `sh -c ${shellQuote(script)}`, { stdin: feed })
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
      const r = await result.catch(() => undefined)
      const m = r?.code === 0 ? /^([0-9a-f]{64}) /.exec(r.stdout) : null
      return m?.[1]
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
