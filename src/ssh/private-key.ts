import { UserError } from '../errors.js'

/**
 * Reading the outer structure of an OpenSSH private key (`openssh-key-v1`, PROTOCOL.key) before ssh2
 * decrypts it. ssh2 runs bcrypt_pbkdf synchronously for as many rounds as the key asks, and a few
 * damaged characters can ask for hundreds of millions: nothing (not even timeout-seconds) would run
 * again for days. The structure is checked here first, so a damaged key says so in one line and a
 * round count no ssh-keygen writes is refused before any work is done.
 */

/** ssh-keygen writes 16 rounds by default and `-a 100` is the usual hardening; each round costs milliseconds. */
export const MAX_KDF_ROUNDS = 1000

/** Block size of each cipher ssh-keygen may encrypt with, and the length of its authentication tag. */
const CIPHERS: Record<string, { block: number; tag: number }> = {
  none: { block: 8, tag: 0 },
  'aes128-ctr': { block: 16, tag: 0 },
  'aes192-ctr': { block: 16, tag: 0 },
  'aes256-ctr': { block: 16, tag: 0 },
  'aes128-cbc': { block: 16, tag: 0 },
  'aes192-cbc': { block: 16, tag: 0 },
  'aes256-cbc': { block: 16, tag: 0 },
  '3des-cbc': { block: 8, tag: 0 },
  'aes128-gcm@openssh.com': { block: 16, tag: 16 },
  'aes256-gcm@openssh.com': { block: 16, tag: 16 },
  'chacha20-poly1305@openssh.com': { block: 8, tag: 16 }
}

const MAGIC = Buffer.from('openssh-key-v1\0')

export interface OpenSshKeyHeader {
  cipher: string
  kdf: string
  /** bcrypt rounds (encrypted keys only). */
  rounds?: number
}

/** A key that is not what it claims: `what` says which part is damaged. */
function damaged(what: string): UserError {
  return new UserError(
    `Input 'ssh-private-key' is not a valid private key (${what}): paste the whole key, including its BEGIN and END lines, from the file ssh-keygen wrote.`
  )
}

class Reader {
  private at = 0
  constructor(private readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.at
  }
  uint32(what: string): number {
    if (this.left < 4) throw damaged(`${what} is cut short`)
    const n = this.buf.readUInt32BE(this.at)
    this.at += 4
    return n
  }
  bytes(what: string): Buffer {
    const n = this.uint32(what)
    if (n > this.left) throw damaged(`${what} is cut short`)
    const out = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return out
  }
  text(what: string): string {
    return this.bytes(what).toString('latin1')
  }
}

/** The base64 body between an OpenSSH key's BEGIN and END lines, or undefined for other formats (PEM). */
function openSshBody(key: string): Buffer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)(-----END OPENSSH PRIVATE KEY-----|$)/.exec(key)
  if (!m) return undefined
  if (!m[2]) throw damaged('its END line is missing')
  const b64 = m[1].replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw damaged('its body has characters that are not base64')
  return Buffer.from(b64, 'base64')
}

/**
 * Check an OpenSSH key's structure and how much work decrypting it asks for; undefined for keys in
 * other formats (ssh2 reads PEM without a key-derivation loop). Throws a one-line UserError.
 */
export function readOpenSshKeyHeader(key: string | Buffer): OpenSshKeyHeader | undefined {
  const body = openSshBody(typeof key === 'string' ? key : key.toString('latin1'))
  if (!body) return undefined
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged('its header is damaged')
  const r = new Reader(body.subarray(MAGIC.length))
  const cipher = r.text('the cipher name')
  const spec = CIPHERS[cipher]
  if (!spec) throw damaged(`its cipher name '${printable(cipher)}' is damaged or unknown`)
  const kdf = r.text('the key-derivation name')
  const kdfOptions = new Reader(r.bytes('the key-derivation options'))
  let rounds: number | undefined
  if (kdf === 'bcrypt') {
    const salt = kdfOptions.bytes('the salt')
    rounds = kdfOptions.uint32('the round count')
    if (salt.length === 0 || kdfOptions.left !== 0) throw damaged('its key-derivation options are damaged')
  } else if (kdf !== 'none' || kdfOptions.left !== 0) {
    throw damaged(`its key-derivation name '${printable(kdf)}' is damaged or unknown`)
  }
  if ((cipher === 'none') !== (kdf === 'none')) throw damaged('its cipher and key derivation disagree')
  const keys = r.uint32('the number of keys')
  if (keys !== 1) throw damaged(`it says it holds ${keys} keys`)
  const pub = new Reader(r.bytes('the public key'))
  const type = pub.text('the key type')
  if (!/^(ssh-|ecdsa-sha2-|sk-)[a-z0-9@.-]+$/.test(type)) throw damaged('its public key is damaged')
  const secret = r.bytes('the private part')
  if (secret.length === 0 || secret.length % spec.block !== 0 || r.left !== spec.tag)
    throw damaged('its private part is damaged or cut short')
  if (rounds !== undefined && (rounds === 0 || rounds > MAX_KDF_ROUNDS)) {
    throw new UserError(
      `Input 'ssh-private-key' asks for ${rounds} bcrypt rounds to decrypt (ssh-keygen writes 16; more than ${MAX_KDF_ROUNDS} would stall the deploy for minutes or days): the key is damaged, or re-encrypt it with 'ssh-keygen -p -a 100 -f KEYFILE'.`
    )
  }
  return { cipher, kdf, rounds }
}

function printable(s: string): string {
  return JSON.stringify(s.slice(0, 40)).slice(1, -1)
}
