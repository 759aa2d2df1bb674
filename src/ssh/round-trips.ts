import type { Duplex } from 'node:stream'

/**
 * How many round trips a deploy waited for, by phase, counted as they happen on its SSH
 * connections. Each request is given a depth: one more than the deepest answer received before it
 * went out (an exchange that is several requests in a row, like opening a channel and asking it
 * for a subsystem, adds that many). Requests sent together share a depth, so a pipelined batch is
 * one round trip however many files it carries; the deepest depth reached is the round trips on the
 * longest chain of waits, which is what a long link multiplies. Each new depth is put to the phase
 * under way when it was first reached.
 */

export const PHASES = ['connect', 'plan', 'upload', 'verify', 'publish', 'record'] as const
export type Phase = (typeof PHASES)[number]

export class RoundTrips {
  phase: Phase = 'connect'
  /** A connection is being made: what is waited for counts to 'connect', whatever the phase. */
  connecting = false
  readonly byPhase: Record<Phase, number> = {
    connect: 0,
    plan: 0,
    upload: 0,
    verify: 0,
    publish: 0,
    record: 0
  }
  /** The deepest answer received so far. */
  private answered = 0
  /** The deepest request sent so far. */
  private reached = 0

  /** A request (or `steps` requests each waiting for the one before) goes out: its depth. */
  send(steps = 1): number {
    const depth = this.answered + steps
    if (depth > this.reached) {
      this.byPhase[this.connecting ? 'connect' : this.phase] += depth - this.reached
      this.reached = depth
    }
    return depth
  }

  /** The answer to a request of this depth arrived. */
  answer(depth: number): void {
    if (depth > this.answered) this.answered = depth
  }

  get total(): number {
    return this.reached
  }

  /**
   * The SSH handshake on a fresh stream: every time the peer answers after we wrote is a round
   * trip (the handshake takes turns), until the returned function is called (at once when the login
   * succeeds: what ssh2 sends unasked after it, like its answer to OpenSSH's host key announcement,
   * is waited for by no one).
   */
  countTurns(stream: Duplex): () => void {
    let depth = 0
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
    const counting = ((...args: unknown[]) => {
      if (!depth) depth = this.send()
      return write(...args)
    }) as Duplex['write']
    stream.write = counting
    const onData = () => {
      if (!depth) return
      this.answer(depth)
      depth = 0
    }
    stream.on('data', onData)
    return () => {
      stream.removeListener('data', onData)
      // Unless someone wrapped it meanwhile.
      if (stream.write === counting) stream.write = write as Duplex['write']
    }
  }
}

/** The counter of each SFTP channel's connection: Sftp (transfer/sftp.ts) counts every request it makes. */
const sftpTrips = new WeakMap<object, RoundTrips>()

/** Count the requests of this SFTP channel (each one made through Sftp) in `trips`. */
export function countSftpRequests(sftp: object, trips: RoundTrips): void {
  sftpTrips.set(sftp, trips)
}

/** Where this SFTP channel's requests are counted, if anywhere. */
export function sftpRoundTrips(sftp: object): RoundTrips | undefined {
  return sftpTrips.get(sftp)
}
