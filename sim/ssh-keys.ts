import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface KeyPair {
  privateKeyFile: string
  publicKeyFile: string
  privateKey: string
  publicKey: string
}

/** Generate an OpenSSH key pair with ssh-keygen (ed25519 unless told otherwise). */
export async function generateKeyPair(file: string, opts: { type?: string; passphrase?: string } = {}) {
  await run('ssh-keygen', [
    '-q',
    '-t',
    opts.type ?? 'ed25519',
    '-N',
    opts.passphrase ?? '',
    '-C',
    'ec2-push-sandbox',
    '-f',
    file
  ])
  return {
    privateKeyFile: file,
    publicKeyFile: `${file}.pub`,
    privateKey: await readFile(file, 'utf8'),
    publicKey: (await readFile(`${file}.pub`, 'utf8')).trim()
  } satisfies KeyPair
}

/** OpenSSH's `SHA256:...` fingerprint of a public key line (`type base64 [comment]`). */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1], 'base64')
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
}
