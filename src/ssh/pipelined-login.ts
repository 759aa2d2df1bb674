import type { Client, ParsedKey } from 'ssh2'

/**
 * The public-key login in one round trip instead of three (docs/ssh-round-trips.md, "Login").
 * ssh2 waits for SERVICE_ACCEPT before its first USERAUTH_REQUEST, and sends that request as a
 * query (may I use this key?), signing only after USERAUTH_PK_OK. RFC 4252 lets a client send the
 * signed request at once, and a server reads its messages in order, so the request can follow the
 * SERVICE_REQUEST straight away. Both are done here by wrapping two methods and two message handlers
 * of the connection's own ssh2 Protocol object: nothing else in ssh2 changes, and when its internals
 * are not as expected the login is left exactly as ssh2 does it.
 */

type SignDone = (signature: Buffer) => void
type Signer = (data: Buffer, done: SignDone) => void
type Handler = (...args: unknown[]) => void

interface Ssh2Protocol {
  authPK(user: string, key: unknown, keyAlgo?: string | Signer, sign?: Signer): void
  service(name: string): void
  _handlers: Record<string, Handler | undefined>
}

/**
 * The hash a public-key signature algorithm signs with: RFC 8332 names two for RSA keys besides the
 * original SHA-1 one; the other key types (ed25519, ecdsa) imply theirs, and ssh2 then passes none.
 */
export function signatureHash(keyAlgo: string | undefined): string | undefined {
  switch (keyAlgo) {
    case 'rsa-sha2-256':
      return 'sha256'
    case 'rsa-sha2-512':
      return 'sha512'
    case 'ssh-rsa':
      return 'sha1'
    default:
      return undefined
  }
}

function isPrivateKey(key: unknown): key is ParsedKey {
  const k = key as Partial<ParsedKey> | null
  return typeof k?.sign === 'function' && typeof k.isPrivateKey === 'function' && k.isPrivateKey()
}

/**
 * Call right after client.connect(): the protocol object it made is the one wrapped. `onSigned` is
 * called right after each signed request has been sent (what is sent then goes behind it).
 */
export function pipelineLogin(client: Client, onSigned?: () => void): void {
  const proto = (client as unknown as { _protocol?: Ssh2Protocol })._protocol
  const handlers = proto?._handlers
  if (
    !proto ||
    !handlers ||
    typeof proto.authPK !== 'function' ||
    typeof proto.service !== 'function' ||
    typeof handlers.SERVICE_ACCEPT !== 'function'
  )
    return
  signAtOnce(proto, onSigned)
  authBehindService(proto, handlers)
}

/**
 * ssh2 calls authPK without a signer for the query and with one after USERAUTH_PK_OK; here the
 * query carries the signature already. The key algorithm ssh2 picked (from the server-sig-algs the
 * server announced, or its fallbacks) decides the hash, as ssh2's own signer would; a refusal comes
 * back as USERAUTH_FAILURE either way, and ssh2 goes on (next algorithm, or its error) as before.
 * Signing is not expected to fail for a key ssh2 parsed; if it does, the query goes as ssh2 sends
 * it, and ssh2 reports the failure its own way after USERAUTH_PK_OK.
 */
function signAtOnce(proto: Ssh2Protocol, onSigned?: () => void): void {
  const authPK = proto.authPK
  proto.authPK = function (user, key, keyAlgo, sign) {
    if (sign !== undefined || typeof keyAlgo === 'function' || !isPrivateKey(key))
      return authPK.call(this, user, key, keyAlgo, sign)
    const hash = signatureHash(keyAlgo)
    authPK.call(this, user, key, keyAlgo, (data, done) => {
      let signature: Buffer | Error
      try {
        signature = key.sign(data, hash)
      } catch (err) {
        signature = err as Error
      }
      if (signature instanceof Error) return authPK.call(this, user, key, keyAlgo)
      done(signature)
      onSigned?.()
    })
  }
}

/**
 * Start the login as soon as the SERVICE_REQUEST has gone and the server's EXT_INFO (which carries
 * server-sig-algs, read by ssh2 to pick an RSA key's algorithm) has arrived: OpenSSH sends EXT_INFO
 * right behind its NEWKEYS, so both are in before SERVICE_ACCEPT could be. The SERVICE_ACCEPT that
 * follows is then passed over. A server that sends no EXT_INFO is logged in to on SERVICE_ACCEPT, as
 * ssh2 does.
 */
function authBehindService(proto: Ssh2Protocol, handlers: Record<string, Handler | undefined>): void {
  const accepted = handlers.SERVICE_ACCEPT!
  const extInfo = handlers.EXT_INFO
  const service = proto.service
  let requested = false
  let extInfoIn = false
  let started = false
  const start = () => {
    if (!requested || !extInfoIn || started) return
    started = true
    accepted(proto, 'ssh-userauth')
  }
  proto.service = function (name) {
    service.call(this, name)
    if (name !== 'ssh-userauth') return
    requested = true
    start()
  }
  handlers.EXT_INFO = (...args) => {
    extInfo?.(...args)
    extInfoIn = true
    start()
  }
  handlers.SERVICE_ACCEPT = (...args) => {
    if (args[1] === 'ssh-userauth') {
      if (started) return
      started = true
    }
    accepted(...args)
  }
}
