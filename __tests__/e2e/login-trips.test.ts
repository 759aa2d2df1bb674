import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import { generateKeyPair, type KeyPair } from '../../sim/ssh-keys.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { UserError } from '../../src/errors.js'
import { connectSsh } from '../../src/ssh/connection.js'
import type { EarlyChannelsWanted } from '../../src/ssh/early-channels.js'
import { pipelineLogin, signatureHash } from '../../src/ssh/pipelined-login.js'
import { RoundTrips } from '../../src/ssh/round-trips.js'
import { SHELL_COMMAND, ShellSession } from '../../src/ssh/shell-session.js'

/**
 * The login and the SFTP channel on a real sshd, counted (src/ssh/pipelined-login.ts,
 * sftp-ready-at-version.ts, early-channels.ts, docs/ssh-round-trips.md): the signed USERAUTH_REQUEST
 * goes right behind the SERVICE_REQUEST for every key type, the channels asked for early go right
 * behind it, a key the instance does not know still fails with the one-line refusal, and the SFTP
 * channel is ready at VERSION.
 */

let sshd: Sshd
let dir: string
const keys: Record<string, KeyPair> = {}

beforeAll(async () => {
  sshd = await startSshd()
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-login-'))
  for (const type of ['rsa', 'ecdsa']) {
    keys[type] = await generateKeyPair(path.join(dir, `client_${type}`), { type })
    // sshd reads authorized_keys at each login.
    await appendFile(path.join(sshd.dir, 'authorized_keys'), keys[type].publicKey + '\n')
  }
  keys.unknown = await generateKeyPair(path.join(dir, 'client_unknown'))
})
afterAll(async () => {
  await sshd?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** Whether what we last wrote on the stream is still unanswered (nothing has come in since). */
function unansweredOn(stream: net.Socket): () => boolean {
  let waiting = false
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean
  stream.write = ((...a: unknown[]) => {
    waiting = true
    return write(...a)
  }) as net.Socket['write']
  // Ahead of ssh2's own listener, which may write in answer before this one would run.
  stream.prependListener('data', () => (waiting = false))
  return () => waiting
}

function connect(
  privateKey: string,
  trips: RoundTrips,
  stream = net.connect(sshd.port, sshd.host),
  early?: EarlyChannelsWanted
) {
  return connectSsh({
    label: 'login',
    stream,
    login: { user: sshd.user, privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint },
    roundTrips: trips,
    early
  })
}

/** A counter that also keeps the depth of every wait, in the order they were sent (steps, depth). */
class RecordingTrips extends RoundTrips {
  readonly sends: [number, number][] = []
  override send(steps = 1): number {
    const depth = super.send(steps)
    this.sends.push([steps, depth])
    return depth
  }
}

const keyOf = (type: string) => (type === 'ed25519' ? sshd.clientKey.privateKey : keys[type].privateKey)

test.each(['ed25519', 'rsa', 'ecdsa'])(
  'a %s key logs in with one request, signed and sent before SERVICE_ACCEPT is in',
  async type => {
    // ssh2's own account of the messages, in the order they went and came.
    const said: string[] = []
    const client = new ssh2.Client()
    const ready = new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', reject)
    })
    client.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.user,
      privateKey: keyOf(type),
      authHandler: ['publickey'],
      debug: line => said.push(line)
    })
    pipelineLogin(client)
    try {
      await ready
    } finally {
      client.end()
    }
    const at = (line: string) => said.findIndex(l => l.startsWith(line))
    const signed = at('Outbound: Sending USERAUTH_REQUEST (publickey)')
    expect(signed).toBeGreaterThan(0)
    expect(at('Outbound: Sending USERAUTH_REQUEST (publickey -- check)')).toBe(-1)
    expect(at('Inbound: Received SERVICE_ACCEPT')).toBeGreaterThan(signed)
    expect(said.filter(l => l.startsWith('Outbound: Sending USERAUTH_REQUEST'))).toHaveLength(1)
  }
)

test('through connectSsh, the login is one turn after the key exchange and SFTP is ready at VERSION', async () => {
  const trips = new RoundTrips()
  const stream = net.connect(sshd.port, sshd.host)
  const conn = await connect(keyOf('rsa'), trips, stream)
  try {
    // The version line and KEXINIT (one turn when sshd's KEXINIT comes with its version line), the
    // key exchange, then NEWKEYS with the signed USERAUTH_REQUEST behind it: a query, or waiting
    // for SERVICE_ACCEPT, would each add one.
    expect(trips.total).toBeLessThanOrEqual(4)
    const unanswered = unansweredOn(stream)
    const before = trips.total
    const sftp = await conn.sftp()
    // The channel's open, the subsystem request, the INIT; ready at VERSION, with the limits
    // request ssh2 sends then still unanswered (waiting for it would be a round trip more).
    expect(unanswered()).toBe(true)
    expect(trips.total - before).toBe(3)
    // The channel answers (what the INIT started is the SFTP server).
    const names = await new Promise<string[]>((resolve, reject) =>
      sftp.readdir(path.dirname(sshd.remoteRoot), (err, list) =>
        err ? reject(err) : resolve(list.map(e => e.filename))
      )
    )
    expect(names).toContain(path.basename(sshd.remoteRoot))
  } finally {
    conn.close()
  }
})

test('a key the instance does not know is refused with one line', async () => {
  const err = await connect(keys.unknown.privateKey, new RoundTrips()).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(UserError)
  expect((err as Error).message).toMatch(
    new RegExp(`^SSH login as '${sshd.user}' was refused by login: the key is not authorized`)
  )
  expect((err as Error).message).not.toMatch(/\n/)
})

test('each RSA signature algorithm signs with its own hash', () => {
  expect(signatureHash('rsa-sha2-256')).toBe('sha256')
  expect(signatureHash('rsa-sha2-512')).toBe('sha512')
  expect(signatureHash('ssh-rsa')).toBe('sha1')
  expect(signatureHash(undefined)).toBeUndefined()
})

test.each(['ed25519', 'rsa', 'ecdsa'])(
  'with a %s key, the SFTP channel and the shell open behind the login: one round trip less each',
  async type => {
    const trips = new RecordingTrips()
    const conn = await connect(keyOf(type), trips, undefined, { sftp: true, exec: SHELL_COMMAND })
    try {
      // The SFTP channel's three waits (open, subsystem, VERSION) were asked for when the login
      // request went: its open at the login's depth, the shell's open too (its exec request one more).
      const sftpAt = trips.sends.findIndex(([steps]) => steps === 3)
      expect(sftpAt).toBeGreaterThan(0)
      const login = trips.sends[sftpAt - 1][1]
      expect(trips.sends[sftpAt][1]).toBe(login + 2)
      expect(trips.sends[sftpAt + 1]).toEqual([2, login + 1])
      // Opened the ordinary way (or again, after a fallback), the SFTP channel would be ready at
      // login + 3, and the shell's loop would go out at login + 4 (after the open and the exec).
      const sftp = await conn.sftp()
      expect(trips.total).toBe(login + 2)
      const shell = await ShellSession.open(conn)
      expect(trips.total).toBe(login + 3)
      const names = await new Promise<string[]>((resolve, reject) =>
        sftp.readdir(path.dirname(sshd.remoteRoot), (err, list) =>
          err ? reject(err) : resolve(list.map(e => e.filename))
        )
      )
      expect(names).toContain(path.basename(sshd.remoteRoot))
      expect(await shell.run('echo "$((6 * 7))"')).toMatchObject({ code: 0, stdout: '42\n' })
    } finally {
      conn.close()
    }
  }
)

test('a refused key with channels asked behind the login is still the one-line refusal', async () => {
  // sshd answers the opens it got before a failed login with UNIMPLEMENTED; nothing waits for them.
  const err = await connect(keys.unknown.privateKey, new RoundTrips(), undefined, {
    sftp: true,
    exec: SHELL_COMMAND
  }).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(UserError)
  expect((err as Error).message).toMatch(
    new RegExp(`^SSH login as '${sshd.user}' was refused by login: the key is not authorized`)
  )
  expect((err as Error).message).not.toMatch(/\n/)
})
