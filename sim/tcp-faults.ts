import net from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * Loopback TCP relays that break connections on purpose, once `afterBytes[i]` bytes of connection i
 * have gone from client to server (connections past the end of the list pass through untouched):
 * - a cutter destroys both sides, like a dropped flow;
 * - a freezer lets nothing more pass either way and closes neither side: a peer that stops answering
 *   (a hung tunnel, a NAT entry gone).
 * close() ends everything.
 */

interface Relay {
  host: string
  port: number
  /** Connections accepted so far. */
  connections: number
  /** Bytes each connection carried from client to server, in the order they were accepted. */
  sent: number[]
  close(): Promise<void>
}

export interface TcpCutter extends Relay {
  /** Connections cut so far. */
  cuts: number
}

export interface TcpFreezer extends Relay {
  /** Connections frozen so far. */
  freezes: number
}

export async function startTcpCutter(
  host: string,
  port: number,
  cutAfterBytes: number[]
): Promise<TcpCutter> {
  const relay = await startRelay(host, port, cutAfterBytes, 'cut')
  return Object.defineProperty(relay, 'cuts', { get: () => relay.faults }) as typeof relay & TcpCutter
}

export async function startTcpFreezer(
  host: string,
  port: number,
  freezeAfterBytes: number[]
): Promise<TcpFreezer> {
  const relay = await startRelay(host, port, freezeAfterBytes, 'freeze')
  return Object.defineProperty(relay, 'freezes', { get: () => relay.faults }) as typeof relay & TcpFreezer
}

async function startRelay(
  targetHost: string,
  targetPort: number,
  afterBytes: number[],
  fault: 'cut' | 'freeze'
): Promise<Relay & { faults: number }> {
  const sockets = new Set<net.Socket>()
  const state = { connections: 0, faults: 0, sent: [] as number[] }
  const server = net.createServer(client => {
    const index = state.connections++
    const limit = afterBytes[index]
    const upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true })
    client.setNoDelay(true)
    sockets.add(client).add(upstream)
    let sent = 0
    let frozen = false
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    // Each direction with back-pressure; a frozen connection drops what still arrives.
    const relay = (from: net.Socket, to: net.Socket, count: boolean) =>
      from.on('data', (chunk: Buffer) => {
        if (frozen) return
        if (count && limit !== undefined && sent + chunk.length >= limit) {
          to.write(chunk.subarray(0, Math.max(0, limit - sent)))
          state.faults++
          if (fault === 'cut') return end()
          frozen = true
          return
        }
        if (count) state.sent[index] = sent += chunk.length
        if (!to.write(chunk)) from.pause()
      })
    relay(client, upstream, true)
    relay(upstream, client, false)
    upstream.on('drain', () => client.resume())
    client.on('drain', () => upstream.resume())
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
    get faults() {
      return state.faults
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
