import net from 'node:net'
import type { Duplex } from 'node:stream'
import { TransientError } from '../errors.js'
import type { Tunnel } from './types.js'

/**
 * nlb: a plain TCP connection to host:port (a Network Load Balancer listener forwarding to the
 * instance's sshd). Nothing to set up or tear down beyond the socket.
 */
export function createNlbTunnel(host: string, port: number, connectTimeoutMs = 15000): Tunnel {
  return {
    description: `tcp ${host}:${port}`,
    open: signal =>
      new Promise<Duplex>((resolve, reject) => {
        const socket = net.connect({ host, port, noDelay: true })
        const fail = (err: Error) => {
          socket.destroy()
          reject(new TransientError(`cannot connect to ${host}:${port}: ${err.message}`, { cause: err }))
        }
        socket.setTimeout(connectTimeoutMs, () =>
          fail(new Error(`no answer within ${connectTimeoutMs / 1000} s`))
        )
        socket.once('error', fail)
        signal?.addEventListener('abort', () => fail(new Error('cancelled')), { once: true })
        socket.once('connect', () => {
          socket.setTimeout(0)
          socket.off('error', fail)
          // ssh2 never sets TCP_NODELAY itself; without it a path with one request in flight stalls on Nagle.
          socket.setNoDelay(true)
          resolve(socket)
        })
      }),
    close: async () => {}
  }
}
