import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TcpCutter {
  host: string
  port: number
  /** Connections accepted so far. */
  connections: number
  /** Connections cut so far. */
  cuts: number
  /** Bytes each connection carried from client to server, in the order they were accepted. */
  sent: number[]
  close(): Promise<void>
}

/**
 * A loopback TCP proxy that cuts connections on purpose: connection i is destroyed (both sides,
 * like a dropped flow) once `cutAfterBytes[i]` bytes have gone from client to server. Connections
 * past the end of the list pass through untouched.
 */
export async function startTcpCutter(
  targetHost: string,
  targetPort: number,
  cutAfterBytes: number[]
): Promise<TcpCutter> {
  const sockets = new Set<net.Socket>()
  const state = { connections: 0, cuts: 0, sent: [] as number[] }
  const server = net.createServer(client => {
    const index = state.connections++
    const limit = cutAfterBytes[index]
    const upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true })
    client.setNoDelay(true)
    sockets.add(client).add(upstream)
    let sent = 0
    const cut = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('data', chunk => {
      if (limit !== undefined && sent + chunk.length >= limit) {
        upstream.write(chunk.subarray(0, Math.max(0, limit - sent)))
        state.cuts++
        cut()
        return
      }
      sent += chunk.length
      state.sent[index] = sent
      if (!upstream.write(chunk)) client.pause()
    })
    upstream.on('drain', () => client.resume())
    upstream.pipe(client)
    client.on('error', cut).on('close', cut)
    upstream.on('error', cut).on('close', cut)
    client.on('close', () => sockets.delete(client))
    upstream.on('close', () => sockets.delete(upstream))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections
    },
    get cuts() {
      return state.cuts
    },
    get sent() {
      return state.sent
    },
    close: () =>
      new Promise(resolve => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
