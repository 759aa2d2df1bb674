/**
 * Running things on the instance: one command on its own exec channel (execChannel), or a POSIX sh
 * script on one of the connection's long-lived shells (execScript).
 */
import { Readable } from 'node:stream'
import type { ClientChannel } from 'ssh2'
import { TransientError } from '../errors.js'
import type { SshConnection } from './connection.js'
import { ShellSession, ShellStartError, type ShellOptions, type ShellResult } from './shell-session.js'

export type { ShellOptions, ShellResult }

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
 * Per connection, the shells that run scripts (ssh/shell-session.ts): one is enough for scripts run
 * one after another; a second lets a script run while another holds the first. A script fed a
 * stream (the instance hashing a file while it is written) may hold a shell for as long as the
 * file takes: up to four more for those. However many scripts a deploy runs, these are all the
 * login shells it starts for them.
 */
const MAX_SHELLS = 2
const MAX_SHELLS_WITH_STREAMS = MAX_SHELLS + 4

interface Slot {
  session: Promise<ShellSession>
  taken: boolean
}

interface Pool {
  slots: Slot[]
  waiting: (() => void)[]
}

const pools = new WeakMap<SshConnection, Pool>()

function poolOf(conn: SshConnection): Pool {
  let pool = pools.get(conn)
  if (!pool) {
    pool = { slots: [], waiting: [] }
    pools.set(conn, pool)
  }
  return pool
}

function openSlot(conn: SshConnection, pool: Pool, taken: boolean): Slot {
  const slot: Slot = { session: conn.guard(ShellSession.open(conn)), taken }
  pool.slots.push(slot)
  // A shell that failed to start leaves room for another (the error goes to whoever takes it).
  slot.session.then(
    s => s.whenClosed(() => dropSlot(pool, slot)),
    () => dropSlot(pool, slot)
  )
  return slot
}

function dropSlot(pool: Pool, slot: Slot) {
  const at = pool.slots.indexOf(slot)
  if (at < 0) return
  pool.slots.splice(at, 1)
  pool.waiting.shift()?.()
}

/** A shell for one script: a free one, a new one while there is room, or the next one freed. */
async function takeSlot(conn: SshConnection, long: boolean, signal?: AbortSignal): Promise<Slot> {
  const pool = poolOf(conn)
  for (;;) {
    if (signal?.aborted) throw new Error('cancelled')
    const free = pool.slots.find(s => !s.taken)
    if (free) {
      free.taken = true
      return free
    }
    if (pool.slots.length < (long ? MAX_SHELLS_WITH_STREAMS : MAX_SHELLS)) return openSlot(conn, pool, true)
    await conn.guard(new Promise<void>(resolve => pool.waiting.push(resolve)))
  }
}

function giveBack(conn: SshConnection, slot: Slot) {
  const pool = poolOf(conn)
  slot.taken = false
  pool.waiting.shift()?.()
}

/**
 * Start a shell for scripts now, ahead of the first one: it is ready when the first script comes
 * (the login shell's start and the channel's open, round trips over ssm or eice, are not waited for).
 */
export function keepShellReady(conn: SshConnection, shells = 1): void {
  if (conn.isClosed) return
  const pool = poolOf(conn)
  const want = Math.min(shells, MAX_SHELLS)
  while (pool.slots.length < want) openSlot(conn, pool, false).session.catch(() => {})
}

/** The shells the connection has for scripts (ready, starting or busy). */
export function shellsOf(conn: SshConnection): number {
  return pools.get(conn)?.slots.length ?? 0
}

/**
 * Run a POSIX sh script on one of the connection's shells (in a subshell: its `exit`, `cd` and
 * variables stay there), after the scripts before it. `opts.stdin` is the script's stdin. The
 * script goes through stdin, so its length is not bounded by the command line.
 */
export async function execScript(
  conn: SshConnection,
  script: string,
  opts: ShellOptions = {}
): Promise<ShellResult> {
  if (opts.signal?.aborted) throw new Error('cancelled')
  const slot = await takeSlot(conn, opts.stdin instanceof Readable, opts.signal)
  try {
    try {
      const session = await slot.session
      return await conn.guard(session.run(script, opts))
    } catch (err) {
      // The shell ended before it started (no exec allowed, say): what it reported, as the result.
      if (err instanceof ShellStartError) return err.result
      throw err
    }
  } finally {
    giveBack(conn, slot)
  }
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
