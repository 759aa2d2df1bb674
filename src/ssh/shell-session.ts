import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import type { ClientChannel } from 'ssh2'
import { TransientError, UserError } from '../errors.js'
import { BOOT, BOUNDARY_LEAD, sessionScript } from '../remote/shell-session.js'
import { shellQuote } from '../remote/quote.js'
import type { SshConnection } from './connection.js'

/**
 * One long-lived shell on the instance that runs scripts one after another (the loop is in
 * remote/shell-session.ts): the login shell starts once for it, not once per script. One script at a
 * time; ssh/exec.ts keeps the shells of a connection and queues the scripts.
 */

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

/** The shell ended before it said it was ready (no exec allowed, say): what it reported, as a result. */
export class ShellStartError extends Error {
  constructor(readonly result: ShellResult) {
    super(`the shell ended before it started (exit ${result.code ?? result.signal ?? 'unknown'})`)
  }
}

/** The command a shell for scripts is started with (a connection may open its channel behind the login). */
export const SHELL_COMMAND = `sh -c ${shellQuote(BOOT)}`
/** Stdin goes in frames of at most this many bytes (the instance reads each into one buffer). */
const MAX_FRAME = 1024 * 1024

/**
 * Finds `<boundary><rest of line>\n` in a stream, passing on what comes before it as it arrives.
 * Only a tail that could be the start of the boundary is held back (the boundary starts with a byte
 * text never ends in), so a script that prints a line and waits for stdin is answered.
 */
class BoundaryScanner {
  private held = Buffer.alloc(0)
  private tail?: Buffer

  constructor(private readonly boundary: Buffer) {}

  /**
   * Once the boundary's line is complete: the rest of that line, and what came after it (the next
   * script's output, when scripts follow each other without waiting). Else undefined.
   */
  push(chunk: Buffer, emit: (body: Buffer) => void): { line: string; after: Buffer } | undefined {
    if (this.tail) return this.endOfLine(Buffer.concat([this.tail, chunk]))
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk
    const at = data.indexOf(this.boundary)
    if (at >= 0) {
      if (at > 0) emit(data.subarray(0, at))
      this.held = Buffer.alloc(0)
      return this.endOfLine(data.subarray(at + this.boundary.length))
    }
    let keep = Math.min(this.boundary.length - 1, data.length)
    while (keep > 0 && !data.subarray(data.length - keep).equals(this.boundary.subarray(0, keep))) keep--
    if (data.length > keep) emit(data.subarray(0, data.length - keep))
    this.held = Buffer.from(data.subarray(data.length - keep))
    return undefined
  }

  private endOfLine(data: Buffer): { line: string; after: Buffer } | undefined {
    const nl = data.indexOf(0x0a)
    if (nl < 0) {
      this.tail = Buffer.from(data)
      return undefined
    }
    this.tail = undefined
    return { line: data.subarray(0, nl).toString('latin1'), after: data.subarray(nl + 1) }
  }

  /** What is held back, for a stream that ended without the boundary. */
  flush(): Buffer {
    const rest = this.held
    this.held = Buffer.alloc(0)
    this.tail = undefined
    return rest
  }
}

/** One script in progress (or the shell's start, which is answered the same way). */
interface Run {
  /** The loop's own start (its boundary says it is ready), not a script. */
  start: boolean
  out: Buffer[]
  err: Buffer[]
  code?: number
  stdoutDone: boolean
  stderrDone: boolean
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
  finish: (r: { code: number | null; stdout: Buffer; stderr: Buffer; ended: boolean }) => void
}

export class ShellSession {
  /**
   * What was written and not yet answered, in order: the loop's start, then scripts. Each stream
   * (stdout, stderr) belongs to the first run whose boundary it has not shown yet.
   */
  private readonly runs: Run[] = []
  private readonly stdoutScan: BoundaryScanner
  private readonly stderrScan: BoundaryScanner
  private exitCode: number | null = null
  private exitSignal?: string
  private closedFlag = false
  private readonly onClosed: (() => void)[] = []
  /** Settles when the loop said it is ready; rejects when the shell ended first or the login shell printed. */
  private ready: Promise<void> = Promise.resolve()

  private constructor(
    private readonly conn: SshConnection,
    private readonly channel: ClientChannel,
    boundary: string
  ) {
    const mark = Buffer.from(BOUNDARY_LEAD + boundary, 'latin1')
    this.stdoutScan = new BoundaryScanner(mark)
    this.stderrScan = new BoundaryScanner(mark)
    channel.on('data', (d: Buffer) => this.onData(d, false))
    channel.stderr.on('data', (d: Buffer) => this.onData(d, true))
    channel.on('exit', (c: number | null, s?: string) => {
      this.exitCode = c
      this.exitSignal = s
    })
    channel.once('close', () => this.onClose())
  }

  /** The shell ended (or was ended): no script runs on it any more. */
  get isClosed(): boolean {
    return this.closedFlag
  }

  /**
   * Open the shell: the exec, then the loop written to it. It resolves without waiting for the
   * loop to say it is ready (BOOT reads the loop exactly, so a script can follow it at once); a
   * script run meanwhile waits for that answer. A shell that ends before it is ready fails that
   * script with ShellStartError; a login shell whose start-up printed to stdout with a UserError
   * naming that (the same output breaks SFTP for every tool).
   */
  static async open(conn: SshConnection): Promise<ShellSession> {
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      conn.exec(SHELL_COMMAND, (err, ch) =>
        err || !ch ? reject(new TransientError(`exec on ${conn.label}: ${err?.message}`)) : resolve(ch)
      )
    )
    const boundary = randomBytes(16).toString('hex')
    const session = new ShellSession(conn, channel, boundary)
    const loop = Buffer.from(sessionScript(boundary), 'utf8')
    const started = new Promise<{ stdout: Buffer; stderr: Buffer; ended: boolean }>(resolve =>
      session.runs.push(session.newRun(r => resolve(r), true))
    )
    channel.write(`${loop.length}\n`)
    channel.write(loop)
    session.ready = started.then(r => session.checkStart(r))
    session.ready.catch(() => {})
    return session
  }

  private checkStart(r: { stdout: Buffer; stderr: Buffer; ended: boolean }): void {
    if (r.ended) {
      throw new ShellStartError({
        code: this.exitCode,
        signal: this.exitSignal,
        stdout: r.stdout.toString('utf8'),
        stderr: r.stderr.toString('utf8'),
        timedOut: false
      })
    }
    const printed = r.stdout.toString('utf8').trim()
    if (printed) {
      this.close()
      const line = printed.split('\n')[0].slice(0, 80)
      throw new UserError(
        `The login shell on ${this.conn.label} printed ${JSON.stringify(line)} to stdout when it started: a start-up file (~/.bashrc, ~/.zshenv, ...) writes to stdout for non-interactive logins, which also breaks SFTP for every tool. Make it print only in interactive shells (for bash: put \`[[ $- == *i* ]] || return\` near the top of ~/.bashrc).`
      )
    }
  }

  /** Settles once the loop said it is ready (rejects as a script run on this shell would). */
  whenReady(): Promise<void> {
    return this.ready
  }

  private newRun(finish: Run['finish'], start = false): Run {
    return { start, out: [], err: [], stdoutDone: false, stderrDone: false, finish }
  }

  private onData(d: Buffer, isErr: boolean) {
    let chunk = d
    while (chunk.length > 0) {
      // Nothing of a script's when every run has shown its boundary (a leftover child's output).
      const run = this.runs.find(r => !(isErr ? r.stderrDone : r.stdoutDone))
      if (!run) return
      const scan = isErr ? this.stderrScan : this.stdoutScan
      const end = scan.push(chunk, body => {
        if (isErr) {
          run.err.push(Buffer.from(body))
          run.onStderr?.(body)
        } else {
          run.out.push(Buffer.from(body))
          run.onStdout?.(body)
        }
      })
      if (end === undefined) return
      chunk = end.after
      if (isErr) run.stderrDone = true
      else {
        run.stdoutDone = true
        const code = Number(end.line.trim())
        run.code = Number.isInteger(code) ? code : undefined
      }
      if (run.stdoutDone && run.stderrDone) {
        this.runs.splice(this.runs.indexOf(run), 1)
        run.finish({
          code: run.code ?? null,
          stdout: Buffer.concat(run.out),
          stderr: Buffer.concat(run.err),
          ended: false
        })
      }
    }
  }

  /** Call `fn` once the shell has ended. */
  whenClosed(fn: () => void): void {
    if (this.closedFlag) fn()
    else this.onClosed.push(fn)
  }

  private onClose() {
    this.closedFlag = true
    for (const fn of this.onClosed.splice(0)) fn()
    const runs = this.runs.splice(0)
    const out = this.stdoutScan.flush()
    const err = this.stderrScan.flush()
    // What was held back belongs to the first run still listening on that stream.
    runs.find(r => !r.stdoutDone)?.out.push(out)
    runs.find(r => !r.stderrDone)?.err.push(err)
    for (const run of runs)
      run.finish({ code: null, stdout: Buffer.concat(run.out), stderr: Buffer.concat(run.err), ended: true })
  }

  /** End the shell (a script timed out or was cancelled): signal it, close our side. */
  close(): void {
    try {
      this.channel.signal('KILL')
    } catch {
      /* the channel may be gone already */
    }
    this.channel.close()
  }

  /**
   * Run one POSIX sh script in a subshell, with `opts.stdin` as its stdin. On timeout or abort the
   * shell is ended (a script cannot be stopped alone), so the next script gets another.
   */
  async run(script: string, opts: ShellOptions = {}): Promise<ShellResult> {
    const result = this.runScript(script, opts)
    result.catch(() => {})
    // A shell that failed to start answers for the script sent behind its start.
    await this.ready
    return result
  }

  private runScript(script: string, opts: ShellOptions): Promise<ShellResult> {
    if (this.closedFlag) return Promise.reject(new TransientError(`the shell on ${this.conn.label} ended`))
    if (this.runs.some(r => !r.start)) return Promise.reject(new Error('one script at a time on a shell'))
    const { channel } = this
    const stdin = opts.stdin
    let stopFeeding = () => {}
    return new Promise<ShellResult>((resolve, reject) => {
      let timedOut = false
      let settled = false
      const settle = (fn: () => void) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        opts.signal?.removeEventListener('abort', onAbort)
        stopFeeding()
        fn()
      }
      const run = this.newRun(r =>
        settle(() =>
          resolve({
            // A shell that ended under the script is no success, whatever it said last.
            code: r.ended ? this.exitCode || null : r.code,
            signal: r.ended ? this.exitSignal : undefined,
            stdout: r.stdout.toString('utf8'),
            stderr: r.stderr.toString('utf8'),
            timedOut
          })
        )
      )
      run.onStdout = opts.onStdout
      run.onStderr = opts.onStderr
      this.runs.push(run)
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            timedOut = true
            this.close()
          }, opts.timeoutMs)
        : undefined
      const onAbort = () => {
        this.close()
        settle(() => reject(new Error('cancelled')))
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })

      // A last line that is a comment: $(...) strips trailing newlines, which a here-document's end
      // marker needs, and a comment leaves the script's exit status as it was.
      const text = Buffer.from(`${script}\n#`, 'utf8')
      channel.write(`${text.length} ${stdin === undefined ? 0 : 1}\n`)
      channel.write(text)
      if (stdin === undefined) return
      if (!(stdin instanceof Readable)) {
        const bytes = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin
        for (let at = 0; at < bytes.length; at += MAX_FRAME) {
          const frame = bytes.subarray(at, at + MAX_FRAME)
          channel.write(`${frame.length}\n`)
          channel.write(frame)
        }
        channel.write('0\n')
        return
      }
      stopFeeding = this.feed(stdin)
    })
  }

  /**
   * Frame a stream onto the shell's stdin until it ends; returns how to stop early (the script
   * ended first: its stdin ends there, and the shell reads the next script after it).
   */
  private feed(stream: Readable): () => void {
    const { channel } = this
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      stream.off('data', onData)
      stream.off('end', end)
      stream.off('error', end)
      stream.off('close', end)
      channel.off('drain', resume)
      if (!this.closedFlag) channel.write('0\n')
    }
    const resume = () => stream.resume()
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
      let full = false
      // Empty chunks are skipped: a 0 frame would end the stdin.
      for (let at = 0; at < bytes.length; at += MAX_FRAME) {
        const frame = bytes.subarray(at, at + MAX_FRAME)
        channel.write(`${frame.length}\n`)
        full = !channel.write(frame)
      }
      if (full) {
        stream.pause()
        channel.once('drain', resume)
      }
    }
    if (stream.readableEnded || stream.destroyed) {
      end()
      return end
    }
    stream.on('data', onData)
    stream.once('end', end)
    stream.once('error', end)
    stream.once('close', end)
    return end
  }
}
