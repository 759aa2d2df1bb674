import { Readable } from 'node:stream'
import type { ClientChannel } from 'ssh2'
import { TransientError } from '../errors.js'
import type { SshConnection } from './connection.js'

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
  return conn.guard(
    new Promise<ShellResult>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new Error('cancelled'))
      conn.client.exec(command, (err, channel: ClientChannel) => {
        if (err) return reject(new TransientError(`exec on ${conn.label}: ${err.message}`))
        const out: Buffer[] = []
        const errOut: Buffer[] = []
        let code: number | null = null
        let sig: string | undefined
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
          code,
          signal: sig,
          timedOut,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(errOut).toString('utf8')
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
        channel.on('data', (d: Buffer) => {
          out.push(d)
          opts.onStdout?.(d)
        })
        channel.stderr.on('data', (d: Buffer) => {
          errOut.push(d)
          opts.onStderr?.(d)
        })
        channel.on('exit', (c: number | null, s?: string) => {
          code = c
          sig = s
        })
        channel.on('close', () => settle(() => resolve(result())))
        if (opts.stdin instanceof Readable) opts.stdin.pipe(channel)
        else if (opts.stdin !== undefined) channel.end(opts.stdin)
        else channel.end()
      })
    })
  )
}
