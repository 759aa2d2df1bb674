import type { Client } from 'ssh2'

/**
 * An SFTP channel counts as ready when the server's VERSION is in, one round trip before ssh2 says
 * so (docs/ssh-round-trips.md, "SFTP"). On VERSION, when the server offers limits@openssh.com,
 * ssh2 asks for the limits and emits 'ready' only once they are back. The request still goes and is
 * answered in order before anything sent after it; until then ssh2 keeps to the read and write
 * sizes it uses for any OpenSSH server, which are no larger than the limits OpenSSH announces, and
 * nothing in ec2-push reads the limits. (The INIT itself cannot follow the subsystem request at
 * once: OpenSSH opens a session channel with a window of 0 and widens it only once the subsystem
 * runs, so ssh2 rightly holds the INIT until then.)
 */

type Handler = (...args: unknown[]) => unknown

interface SftpChannel {
  outgoing?: { id?: number }
  _init?: () => void
  _version?: number
  push: Handler
  emit(event: string): boolean
  listenerCount(event: string): number
}

interface Ssh2Internals {
  _protocol?: { subsystem?: (id: number, name: string, wantReply: boolean) => void }
  _chanMgr?: { _channels?: Record<number, unknown> }
}

/** The SFTP channel (ssh2 made it at the open's confirmation) whose server-side id is `id`. */
function sftpChannel(client: Ssh2Internals, id: number): SftpChannel | undefined {
  for (const ch of Object.values(client._chanMgr?._channels ?? {})) {
    const c = ch as Partial<SftpChannel> | null
    if (
      c &&
      typeof c === 'object' &&
      c.outgoing?.id === id &&
      typeof c._init === 'function' &&
      c._version === -1
    )
      return c as SftpChannel
  }
  return undefined
}

/** Call right after client.connect(): every SFTP channel of this client is ready at VERSION. */
export function sftpReadyAtVersion(client: Client): void {
  const internals = client as unknown as Ssh2Internals
  const proto = internals._protocol
  const subsystem = proto?.subsystem
  if (!proto || typeof subsystem !== 'function') return
  // The subsystem request is where ssh2 first holds the channel it will speak SFTP on.
  proto.subsystem = function (id, name, wantReply) {
    subsystem.call(this, id, name, wantReply)
    const sftp = name === 'sftp' ? sftpChannel(internals, id) : undefined
    if (sftp) readyAtVersion(sftp)
  }
}

/**
 * Emit 'ready' as soon as VERSION has been read (ssh2 emits it again after the limits' answer, when
 * no one listens any more). ssh2 listens for 'ready' from the subsystem's reply on, which sshd sends
 * before the subsystem's first output; should a server answer otherwise, ssh2's own 'ready' stands.
 */
function readyAtVersion(sftp: SftpChannel): void {
  const push = sftp.push
  sftp.push = function (...args) {
    const out = push.apply(this, args)
    if (sftp._version !== -1) {
      sftp.push = push
      if (sftp.listenerCount('ready') > 0) sftp.emit('ready')
    }
    return out
  }
}
