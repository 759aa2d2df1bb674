import type { Duplex } from 'node:stream'
import ssh2, { type SFTPWrapper } from 'ssh2'
import { fingerprintOf } from './ssh-keys.js'
import type { Sshd } from './sshd.js'

/** Plain ssh2 clients for the tests and the benchmark: logged in to a test sshd over any byte stream. */

/** An ssh2 client over `sock` (a tunnel's Duplex or a TCP socket), verifying the sshd's host key. */
export function sshOver(sock: Duplex, sshd: Sshd): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    client.once('ready', () => resolve(client))
    // `on`, not `once`: a failing socket can make ssh2 report more than one error.
    client.on('error', reject)
    client.connect({
      sock,
      username: sshd.user,
      privateKey: sshd.clientKey.privateKey,
      readyTimeout: 60_000,
      hostVerifier: (key: Buffer) =>
        fingerprintOf(`ssh-ed25519 ${key.toString('base64')}`) === sshd.hostKeyFingerprint
    })
  })
}

export function sftpOf(client: ssh2.Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))))
}

/** Run a command; its exit code and stdout. */
export function exec(client: ssh2.Client, command: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, ch) => {
      if (err) return reject(err)
      let stdout = ''
      ch.on('data', (d: Buffer) => (stdout += d.toString()))
      ch.stderr.resume()
      ch.once('close', (code: number) => resolve({ code, stdout }))
    })
  )
}
