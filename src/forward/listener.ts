import net from 'node:net'
import type { Duplex } from 'node:stream'
import { errorMessage, UserError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Tunnel } from '../tunnel/types.js'
import type { ForwardSpec } from './spec.js'

/**
 * One local listener of a port forward: each connection accepted on 127.0.0.1:<local port> gets its
 * own tunnel stream (one Session Manager session, EICE WebSocket or TCP connection) and bytes are
 * copied both ways until either side closes. close() stops listening, drops the connections and
 * closes the tunnel, which ends every session it started.
 */
export interface ForwardListener {
  spec: ForwardSpec
  /** The port actually listened on (the spec's, or the one the system picked for 0). */
  localPort: number
  /** Connections accepted so far, and open now. */
  stats: { accepted: number; open: number; failed: number }
  close(): Promise<void>
}

export async function listenForward(
  spec: ForwardSpec,
  tunnel: Tunnel,
  logger: Logger,
  bindHost = '127.0.0.1'
): Promise<ForwardListener> {
  const stats = { accepted: 0, open: 0, failed: 0 }
  const live = new Set<{ socket: net.Socket; stream?: Duplex }>()
  const stop = new AbortController()
  const server = net.createServer({ pauseOnConnect: true }, socket => {
    stats.accepted++
    stats.open++
    const entry: { socket: net.Socket; stream?: Duplex } = { socket }
    live.add(entry)
    let done = false
    const finish = () => {
      if (done) return
      done = true
      stats.open--
      live.delete(entry)
      socket.destroy()
      entry.stream?.destroy()
    }
    socket.on('error', finish)
    socket.once('close', finish)
    tunnel.open(stop.signal).then(
      stream => {
        if (done) return void stream.destroy()
        entry.stream = stream
        socket.setNoDelay(true)
        stream.on('error', err => {
          logger.debug(`forward ${spec.text}: ${errorMessage(err)}`)
          finish()
        })
        stream.once('close', finish)
        socket.pipe(stream)
        stream.pipe(socket)
        socket.resume()
      },
      err => {
        stats.failed++
        logger.warning(`forward ${spec.text}: could not open ${tunnel.description}: ${errorMessage(err)}`)
        finish()
      }
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(spec.localPort, bindHost, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(
      err.code === 'EADDRINUSE'
        ? `forward ${spec.text}: local port ${spec.localPort} is in use: pick another, or 0 for any free port`
        : `forward ${spec.text}: cannot listen on ${bindHost}:${spec.localPort}: ${err.message}`
    )
  })
  const localPort = (server.address() as net.AddressInfo).port
  return {
    spec,
    localPort,
    stats,
    close: async () => {
      stop.abort()
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        for (const e of [...live]) {
          e.socket.destroy()
          e.stream?.destroy()
        }
      })
      await tunnel.close()
    }
  }
}
