import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import type { Sshd } from '../sim/sshd.js'
import { connectSsh } from '../src/ssh/connection.js'
import { runMeasured, type Measured } from './measure.js'

/**
 * OpenSSH's own `sftp -b` as the bench's yardstick, and which cipher each side negotiates with the
 * bench's sshd. sftp is pinned to aes128-gcm@openssh.com, the cipher ec2-push prefers, so both
 * sides pay for the same encryption.
 */

export const SFTP_CIPHER = 'aes128-gcm@openssh.com'

function sftpArgs(sshd: Sshd, batchFile: string, extra: string[]): string[] {
  return [
    '-b',
    batchFile,
    '-i',
    sshd.clientKey.privateKeyFile,
    '-P',
    String(sshd.port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    `Ciphers=${SFTP_CIPHER}`,
    '-o',
    'IdentitiesOnly=yes',
    ...extra,
    `${sshd.user}@${sshd.host}`
  ]
}

/** Double-quoted for sftp's batch parser (which honours backslash escapes inside quotes). */
const quote = (p: string) => `"${p.replace(/[\\"]/g, c => '\\' + c)}"`

/** `put local remote` (a file) or `put -r local remote` (a folder), measured. */
export async function sftpPut(
  sshd: Sshd,
  local: string,
  remote: string,
  recursive: boolean,
  batchFile: string
): Promise<Measured> {
  await writeFile(batchFile, `put ${recursive ? '-r ' : ''}${quote(local)} ${quote(remote)}\n`)
  return runMeasured('sftp', sftpArgs(sshd, batchFile, ['-o', 'LogLevel=ERROR']))
}

/** The cipher sftp negotiates (from its -v log), e.g. "aes128-gcm@openssh.com (MAC <implicit>)". */
export async function sftpCipher(sshd: Sshd, batchFile: string): Promise<string> {
  await writeFile(batchFile, 'pwd\n')
  const r = await runMeasured('sftp', sftpArgs(sshd, batchFile, ['-v']))
  const m = /kex: client->server cipher: (\S+) MAC: (\S+)/.exec(r.stderr)
  return m ? `${m[1]} (MAC ${m[2]})` : `unknown (sftp exited ${r.code})`
}

/** The cipher ec2-push's SSH layer negotiates with the same sshd (its own preference list). */
export async function engineCipher(sshd: Sshd): Promise<string> {
  const stream = net.connect({ host: sshd.host, port: sshd.port, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    stream.once('connect', resolve)
    stream.once('error', reject)
  })
  const conn = await connectSsh({
    label: 'bench',
    stream,
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
  try {
    // ssh2 keeps the negotiated algorithms on its (private) protocol object.
    const negotiated = (
      conn.client as unknown as {
        _protocol?: { _kex?: { negotiated?: { cs: { cipher: string; mac: string } } } }
      }
    )._protocol?._kex?.negotiated
    if (!negotiated) return 'unknown'
    return `${negotiated.cs.cipher} (MAC ${negotiated.cs.mac || '<implicit>'})`
  } finally {
    conn.close()
  }
}
