import { Readable } from 'node:stream'
import type { ClientChannel } from 'ssh2'
import { TransientError } from '../errors.js'
import type { SshConnection } from './connection.js'
import { shellQuote } from '../transfer/remote-path.js'

export interface ShellResult {
  code: number | null
  signal?: string
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface ShellOptions {
  /** Fed to the command's stdin, then closed: bytes, or a stream written over time. */
  stdin?: string | Buffer | Readable
  timeoutMs?: number
  signal?: AbortSignal
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
}

/**
 * Run one command over an exec channel with stdin, a timeout and cancellation. On timeout or
 * abort the remote process gets SIGKILL (sshd forwards signals) and the channel is closed.
 */
export function execChannel(
  conn: SshConnection,
  command: string,
  opts: ShellOptions = {}
): Promise<ShellResult> {
  if (opts.signal?.aborted) return Promise.reject(new Error('cancelled'))
  return conn.guard(openExec(conn, command).then(h => drive(h, opts)))
}

/**
 * An exec channel with everything it reported recorded from the moment it opened: a quick command's
 * output, exit status and close can arrive in the same read as the open's confirmation, before
 * whoever waits for the channel gets to listen.
 */
interface ExecHandle {
  channel: ClientChannel
  out: Buffer[]
  err: Buffer[]
  code: number | null
  signal?: string
  isClosed: boolean
  closed: Promise<void>
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
}

function openExec(conn: SshConnection, command: string): Promise<ExecHandle> {
  return new Promise((resolve, reject) =>
    conn.client.exec(command, (err, channel: ClientChannel) => {
      if (err) return reject(new TransientError(`exec on ${conn.label}: ${err.message}`))
      const h: ExecHandle = {
        channel,
        out: [],
        err: [],
        code: null,
        isClosed: false,
        closed: Promise.resolve()
      }
      channel.on('data', (d: Buffer) => {
        h.out.push(d)
        h.onStdout?.(d)
      })
      channel.stderr.on('data', (d: Buffer) => {
        h.err.push(d)
        h.onStderr?.(d)
      })
      channel.on('exit', (c: number | null, s?: string) => {
        h.code = c
        h.signal = s
      })
      h.closed = new Promise(done =>
        channel.once('close', () => {
          h.isClosed = true
          done()
        })
      )
      resolve(h)
    })
  )
}

/**
 * A shell that reads a script of a given length from stdin and runs it, leaving the rest of stdin
 * to the script: `<bytes>\n<script><the script's own stdin>`. (head -c reads no further than it is
 * asked to, where the shell reading a script from stdin would read ahead.) One line, no backslash:
 * csh and fish login shells take it as it is.
 */
const BOOT = `IFS= read -r n || exit 1; s=$(head -c "$n") || exit 1; eval "$s"`
const bootCommand = `sh -c ${shellQuote(BOOT)}`

/** Per connection: one shell opened ahead of need, and whether to open the next one when it is taken. */
const ready = new WeakMap<SshConnection, Promise<ExecHandle | undefined>>()
const keepReady = new WeakSet<SshConnection>()

/**
 * Keep a shell open ahead of the next script on this connection: a script then costs no channel
 * open and no exec request (two round trips, tens of milliseconds apiece over ssm or eice).
 */
export function keepShellReady(conn: SshConnection): void {
  keepReady.add(conn)
  if (ready.has(conn) || conn.isClosed) return
  ready.set(
    conn,
    conn.guard(openExec(conn, bootCommand)).catch(() => undefined)
  )
}

/**
 * Run a POSIX sh script: on the shell kept ready when there is one (the next one is opened at
 * once), else on a new one. `opts.stdin` follows the script on the same stdin.
 */
export async function execScript(
  conn: SshConnection,
  script: string,
  opts: ShellOptions = {}
): Promise<ShellResult> {
  if (opts.signal?.aborted) throw new Error('cancelled')
  const spare = ready.get(conn)
  ready.delete(conn)
  if (keepReady.has(conn)) keepShellReady(conn)
  let h = spare && (await spare)
  if (!h || h.isClosed) h = await conn.guard(openExec(conn, bootCommand))
  // A last line that is a comment: $(...) strips trailing newlines, which a here-document's end
  // marker needs, and a comment leaves the script's exit status as it was.
  const text = Buffer.from(`${script}\n#`, 'utf8')
  h.channel.write(`${text.length}\n`)
  h.channel.write(text)
  return conn.guard(drive(h, opts))
}

function drive(h: ExecHandle, opts: ShellOptions): Promise<ShellResult> {
  const { channel } = h
  return new Promise<ShellResult>((resolve, reject) => {
    let timedOut = false
    let settled = false
    const settle = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      fn()
    }
    const result = (): ShellResult => ({
      code: h.code,
      signal: h.signal,
      timedOut,
      stdout: Buffer.concat(h.out).toString('utf8'),
      stderr: Buffer.concat(h.err).toString('utf8')
    })
    // A process that keeps its output open (a child in the background) would hold the channel
    // open: signal it, close our side, and settle now rather than wait for the server.
    const stop = () => {
      try {
        channel.signal('KILL')
      } catch {
        /* the channel may be gone already */
      }
      channel.close()
    }
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true
          stop()
          settle(() => resolve(result()))
        }, opts.timeoutMs)
      : undefined
    const onAbort = () => {
      stop()
      settle(() => reject(new Error('cancelled')))
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    // What came before anyone listened first, then the rest as it comes.
    for (const d of h.out) opts.onStdout?.(d)
    for (const d of h.err) opts.onStderr?.(d)
    h.onStdout = opts.onStdout
    h.onStderr = opts.onStderr
    void h.closed.then(() => settle(() => resolve(result())))
    if (opts.stdin instanceof Readable) opts.stdin.pipe(channel)
    else if (opts.stdin !== undefined) channel.end(opts.stdin)
    else channel.end()
  })
}
