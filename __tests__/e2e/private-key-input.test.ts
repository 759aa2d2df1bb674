import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { deployCommand } from '../../src/cli/deploy.js'
import type { CliIo } from '../../src/cli/io.js'
import { checkPrivateKey } from '../../src/ssh/connection.js'

/**
 * The private key and its passphrase as users give them: damaged keys (a changed round count would
 * make ssh2 run bcrypt for days; a damaged body is not "a wrong passphrase"), and the CLI taking the
 * passphrase from a file or the environment, warning when it is on the command line, against a real sshd.
 */

let sshd: Sshd
let dir: string
let encrypted: string
const PASSPHRASE = 'right passphrase'

beforeAll(async () => {
  sshd = await startSshd()
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-key-'))
  await writeFile(path.join(dir, 'a.txt'), 'a\n')
  const copy = path.join(dir, 'encrypted_key')
  await writeFile(copy, sshd.clientKey.privateKey, { mode: 0o600 })
  await promisify(execFile)('ssh-keygen', ['-q', '-p', '-N', PASSPHRASE, '-P', '', '-f', copy])
  encrypted = await readFile(copy, 'utf8')
})
afterAll(async () => {
  await sshd?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** The key with its binary body changed by `edit` and written back as OpenSSH does (70 columns). */
function withBody(key: string, edit: (body: Buffer) => void): string {
  const b64 = key.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
  const body = Buffer.from(b64, 'base64')
  edit(body)
  const lines = body.toString('base64').match(/.{1,70}/g)!
  return ['-----BEGIN OPENSSH PRIVATE KEY-----', ...lines, '-----END OPENSSH PRIVATE KEY-----', ''].join('\n')
}

/** Where the bcrypt round count sits: magic, cipher name, kdf name, options length, salt. */
function roundsOffset(body: Buffer): number {
  let at = 15
  at += 4 + body.readUInt32BE(at) // cipher
  at += 4 + body.readUInt32BE(at) // kdf
  at += 4 // kdf options length
  at += 4 + body.readUInt32BE(at) // salt
  return at
}

const errorOf = (fn: () => void): string => {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  return 'no error'
}

test('a round count changed to 268,435,456 is refused in one line instead of decrypting for days', () => {
  const damaged = withBody(encrypted, b => b.writeUInt32BE(268_435_456, roundsOffset(b)))
  // A handful of base64 characters differ, as when a secret was pasted with a few typos.
  const changed = [...damaged].filter((c, i) => c !== encrypted[i]).length
  expect(changed).toBeLessThanOrEqual(6)
  const message = errorOf(() => checkPrivateKey(damaged, PASSPHRASE))
  expect(message).toMatch(/asks for 268435456 bcrypt rounds/)
  expect(message).toMatch(/ssh-keygen -p -a 100/)
  expect(message).not.toMatch(/\n/)
})

test('a damaged key body says the key is not valid, not that the passphrase is wrong', () => {
  const cases: Array<[string, (b: Buffer) => void]> = [
    ['the cipher name', b => void b.write('zzz', 19)],
    ['the public key length', b => b.writeUInt32BE(0x7fff0000, roundsOffset(b) + 8)],
    ['a cut-off body', () => {}]
  ]
  for (const [what, edit] of cases) {
    let key = withBody(encrypted, edit)
    if (what === 'a cut-off body')
      key = key.split('\n').slice(0, 4).join('\n') + '\n-----END OPENSSH PRIVATE KEY-----\n'
    const message = errorOf(() => checkPrivateKey(key, PASSPHRASE))
    expect(`${what}: ${message}`).toMatch(/is not a valid private key/)
    expect(message).not.toMatch(/does not decrypt/)
  }
  // A sound key with the wrong passphrase still says so, and the right one opens it.
  expect(errorOf(() => checkPrivateKey(encrypted, 'wrong'))).toMatch(/'ssh-passphrase' does not decrypt/)
  expect(errorOf(() => checkPrivateKey(encrypted, PASSPHRASE))).toBe('no error')
  expect(errorOf(() => checkPrivateKey(encrypted))).toMatch(/is encrypted: give its passphrase/)
})

function memoryIo() {
  const out: string[] = []
  const err: string[] = []
  const stderr = new PassThrough()
  const lines: string[] = []
  stderr.on('data', d => lines.push(String(d)))
  const io: CliIo = {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr,
    err: line => void err.push(line),
    out: line => void out.push(line)
  }
  return { io, out, err, log: () => lines.join('') + err.join('\n') }
}

describe('the CLI passphrase', () => {
  const saved = process.env.EC2_PUSH_SSH_PASSPHRASE
  afterEach(() => {
    if (saved === undefined) delete process.env.EC2_PUSH_SSH_PASSPHRASE
    else process.env.EC2_PUSH_SSH_PASSPHRASE = saved
  })
  const keyFile = () => path.join(dir, 'encrypted_key')
  const base = (remote: string) => [
    '--mode',
    'nlb',
    '--targets',
    `${sshd.host}:${sshd.port}`,
    '--files',
    path.join(dir, '*.txt'),
    '--remote-path',
    path.join(sshd.remoteRoot, remote),
    '--user',
    sshd.user,
    '--ssh-private-key-file',
    keyFile(),
    '--host-key-fingerprint',
    sshd.hostKeyFingerprint,
    '--retries',
    '0'
  ]

  test('comes from --ssh-passphrase-file, without a warning', async () => {
    const file = path.join(dir, 'passphrase')
    await writeFile(file, PASSPHRASE + '\n', { mode: 0o600 })
    const m = memoryIo()
    const code = await deployCommand([...base('by-file'), '--ssh-passphrase-file', file], m.io)
    // Only the CLI's closing line: no warning, no error.
    expect(m.err).toEqual([expect.stringMatching(/^ec2-push: 1 files uploaded .* bytes\/s$/)])
    expect(code).toBe(0)
    expect(await readFile(path.join(sshd.remoteRoot, 'by-file', 'a.txt'), 'utf8')).toBe('a\n')
    expect(m.log()).not.toMatch(/other users/)
  })

  test('comes from EC2_PUSH_SSH_PASSPHRASE', async () => {
    process.env.EC2_PUSH_SSH_PASSPHRASE = PASSPHRASE
    const m = memoryIo()
    const code = await deployCommand(base('by-env'), m.io)
    // Only the CLI's closing line: no warning, no error.
    expect(m.err).toEqual([expect.stringMatching(/^ec2-push: 1 files uploaded .* bytes\/s$/)])
    expect(code).toBe(0)
    expect(await readFile(path.join(sshd.remoteRoot, 'by-env', 'a.txt'), 'utf8')).toBe('a\n')
  })

  test('as an argument it still works, with a warning that others can read it in ps', async () => {
    delete process.env.EC2_PUSH_SSH_PASSPHRASE
    const m = memoryIo()
    const code = await deployCommand([...base('by-arg'), '--ssh-passphrase', PASSPHRASE], m.io)
    expect(code).toBe(0)
    expect(m.log()).toMatch(/--ssh-passphrase puts the passphrase on the command line.*\(ps/)
    expect(m.log()).not.toContain(PASSPHRASE)
  })

  test('a file and the argument together are refused in one line', async () => {
    const m = memoryIo()
    await expect(
      deployCommand([...base('both'), '--ssh-passphrase', 'x', '--ssh-passphrase-file', keyFile()], m.io)
    ).rejects.toThrow('give --ssh-passphrase or --ssh-passphrase-file, not both')
  })
})
