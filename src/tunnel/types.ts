import type { Duplex } from 'node:stream'

/**
 * A way to reach one instance's sshd. Every path (nlb, ssm, eice) implements this, and the SSH and
 * transfer layers see only the Duplex it returns: they do not know which path they ride on.
 */
export interface Tunnel {
  /** What the logs call this path to this target (never contains secrets). */
  readonly description: string
  /**
   * Open a fresh byte stream to the instance's SSH port. Called again for every reconnect, so each
   * call must start a new session/connection. Rejects with UserError for failures that retrying
   * cannot fix (permissions, bad target) and with any other error for transient ones.
   */
  open(signal?: AbortSignal): Promise<Duplex>
  /**
   * Ask, without opening a stream, whether open() can succeed as far as the service can tell (the
   * target exists, is reachable, the caller may start sessions); rejects like open(). Paths with
   * nothing to ask before connecting leave it out.
   */
  check?(signal?: AbortSignal): Promise<void>
  /** Release everything held across opens (sessions, sockets). Safe to call more than once. */
  close(): Promise<void>
}
