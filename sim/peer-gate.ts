import type net from 'node:net'

/**
 * A test's check that clients reach the simulators only through a proxy: the simulators' servers
 * (the AWS API server, the ssmmessages data channel, the EICE endpoint) register here, and while a
 * gate is set, a connection from any address but the allowed one (the proxy's outgoing address) is
 * refused and recorded. With no gate set (the default), every connection is accepted.
 */

export interface PeerGate {
  /** The only peer address accepted (e.g. 127.0.0.2, where the test's proxy connects from). */
  readonly allowed: string
  /** Connections accepted from the allowed address. */
  admitted: number
  /** `address -> server` of every connection refused. */
  refused: string[]
  /** Stop gating. */
  open(): void
}

let gate: PeerGate | undefined

/** Accept connections to the simulators only from `allowed` until the returned gate is opened. */
export function admitOnlyFrom(allowed: string): PeerGate {
  const g: PeerGate = {
    allowed,
    admitted: 0,
    refused: [],
    open: () => {
      if (gate === g) gate = undefined
    }
  }
  gate = g
  return g
}

/** Called by each simulator for its listening server. */
export function watchPeers(server: net.Server, name: string): void {
  server.prependListener('connection', (socket: net.Socket) => {
    if (!gate) return
    const peer = (socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    if (peer === gate.allowed) {
      gate.admitted++
      return
    }
    gate.refused.push(`${peer} -> ${name}`)
    socket.destroy()
  })
}
