import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TcpFreezer {
  host: string
  port: number
  /** Connections accepted so far. */
  connections: number
  /** Connections frozen so far. */
  freezes: number
  close(): Promise<void>
}

/**
 * A loopback TCP relay that freezes connections on purpose: once `freezeAfterBytes[i]` bytes of
 * connection i have gone from client to server, nothing more passes in either direction, and neither
 * side is closed (a peer that stops answering: a hung tunnel, a NAT entry gone). Connections past the
 * end of the list pass through untouched. close() ends everything.
 */
export async function startTcpFreezer(
  targetHost: string,
  targetPort: number,
  freezeAfterBytes: number[]
): Promise<TcpFreezer> {
  const sockets = new Set<net.Socket>()
  const state = { connections: 0, freezes: 0 }
  const server = net.createServer(client => {
    const limit = freezeAfterBytes[state.connections++]
    const upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true })
    client.setNoDelay(true)
    sockets.add(client).add(upstream)
    let sent = 0
    let frozen = false
    client.on('data', chunk => {
      if (frozen) return
      if (limit !== undefined && sent + chunk.length >= limit) {
        upstream.write(chunk.subarray(0, Math.max(0, limit - sent)))
        frozen = true
        state.freezes++
        return
      }
      sent += chunk.length
      upstream.write(chunk)
    })
    upstream.on('data', chunk => {
      if (!frozen) client.write(chunk)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
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
    get freezes() {
      return state.freezes
    },
    close: () =>
      new Promise(resolve => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
