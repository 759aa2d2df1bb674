import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'

/**
 * An ed25519 key pair made in memory, encoded the way OpenSSH stores it: the private key as an
 * unencrypted `openssh-key-v1` block (ssh2's parseKey reads it; it does not read PKCS#8 PEM) and the
 * public key as an `ssh-ed25519 AAAA...` line. Nothing here touches the file system.
 */
export interface Ed25519KeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` block, unencrypted. */
  privateKey: string
  /** `ssh-ed25519 <base64>` with no comment (as the AWS CLI sends it). */
  publicKey: string
  /** OpenSSH's `SHA256:...` fingerprint of the public key. */
  fingerprint: string
}

const KEY_TYPE = 'ssh-ed25519'

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length)
  return Buffer.concat([len, body])
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

export function generateEd25519KeyPair(comment = ''): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  const seed = Buffer.from(jwk.d!, 'base64url')
  const pub = Buffer.from(jwk.x!, 'base64url')
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)])

  // Private section: two equal check words, the key (OpenSSH keeps seed || public as the
  // 64-byte private part), the comment, then padding 1,2,3... to the cipher block size (8 for "none").
  const check = randomBytes(4)
  const section = Buffer.concat([
    check,
    check,
    sshString(KEY_TYPE),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment)
  ])
  const padLength = (8 - (section.length % 8)) % 8
  const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1))
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    uint32(1), // number of keys
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding]))
  ])
  seed.fill(0)
  const lines = body.toString('base64').match(/.{1,70}/g) ?? []
  return {
    privateKey: [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      ...lines,
      '-----END OPENSSH PRIVATE KEY-----',
      ''
    ].join('\n'),
    publicKey: `${KEY_TYPE} ${publicBlob.toString('base64')}`,
    fingerprint: 'SHA256:' + createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')
  }
}

/** The parts of a PEM/OpenSSH private key worth masking: the whole text and each base64 line. */
export function secretPartsOfKey(key: string): string[] {
  const lines = key
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l.length >= 8 && !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l))
  return [key, key.trim(), ...lines]
}
