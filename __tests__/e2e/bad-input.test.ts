import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { runBundledAction } from '../../sim/action-runner.js'
import { freePort } from '../../sim/free-port.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { useTestBundles } from '../helpers/bundles.js'

/** Each user mistake gives exactly one error line (no stack trace) and exit code 1, and writes nothing. */

let sshd: Sshd
let art: string
let encryptedKey: string

useTestBundles()

beforeAll(async () => {
  sshd = await startSshd()
  art = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-bad-'))
  await writeFile(path.join(art, 'a.txt'), 'a\n')
  // The authorized key, encrypted with a passphrase (ssh-keygen -p re-encrypts a copy).
  const copy = path.join(art, 'encrypted_key')
  await writeFile(copy, sshd.clientKey.privateKey, { mode: 0o600 })
  await promisify(execFile)('ssh-keygen', ['-q', '-p', '-N', 'right-passphrase', '-P', '', '-f', copy])
  encryptedKey = await readFile(copy, 'utf8')
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

const good = () => ({
  mode: 'nlb',
  targets: `${sshd.host}:${sshd.port}`,
  files: `${art}/*.txt`,
  'remote-path': path.join(sshd.remoteRoot, 'bad'),
  user: sshd.user,
  'ssh-private-key': sshd.clientKey.privateKey,
  'host-key-fingerprint': sshd.hostKeyFingerprint,
  retries: '1'
})

test.each<[string, Record<string, string>, RegExp]>([
  ['an unknown mode', { mode: 'carrier-pigeon' }, /'mode' must be one of ssm, eice, nlb, auto/],
  ['no targets', { targets: '' }, /'targets' is required/],
  ['a malformed target', { targets: 'not a host!' }, /is not an instance id/],
  ['nothing matched (if-no-files-found: error)', { files: '/nonexistent/**' }, /No files matched/],
  ['a malformed key', { 'ssh-private-key': 'this is not a key' }, /'ssh-private-key' is not a private key/],
  [
    'an encrypted key without its passphrase',
    { 'ssh-private-key': '<encrypted>' },
    /give its passphrase in 'ssh-passphrase'/
  ],
  [
    'a wrong passphrase',
    { 'ssh-private-key': '<encrypted>', 'ssh-passphrase': 'wrong' },
    /'ssh-passphrase' does not decrypt/
  ],
  [
    'a remote-path that climbs out with ..',
    { 'remote-path': '../../etc' },
    /climbs above the login directory/
  ],
  ['nlb without a pinned host key', { 'host-key-fingerprint': '' }, /needs the instance's host key pinned/],
  ['a malformed fingerprint', { 'host-key-fingerprint': 'md5:abc' }, /must be SHA256:/],
  ['a non-boolean', { 'strict-host-key': 'maybe' }, /'strict-host-key' must be true or false/],
  ['an out-of-range number', { concurrency: '0' }, /'concurrency' must be from 1 to 1024/],
  ['a user the key is not authorized for', { user: 'nobody-here' }, /SSH login as 'nobody-here' was refused/]
])('%s', async (_what, over, message) => {
  const inputs = { ...good(), ...over }
  if (inputs['ssh-private-key'] === '<encrypted>') inputs['ssh-private-key'] = encryptedKey
  const run = await runBundledAction(inputs)
  expect(run.code).toBe(1)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toMatch(message)
  expect(run.errors[0]).not.toMatch(/\n|%0A|\s+at\s+\S+\s+\(/)
  expect(run.stdout + run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
  await expect(readdir(path.join(sshd.remoteRoot, 'bad'))).rejects.toThrow(/ENOENT/)
})

test('an unreachable port fails after the retries with one line', async () => {
  const port = await freePort()
  const run = await runBundledAction({ ...good(), targets: `127.0.0.1:${port}`, retries: '1' })
  expect(run.code).toBe(1)
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toMatch(
    new RegExp(`cannot connect to 127.0.0.1:${port}.*ECONNREFUSED.*gave up after 2 attempts`)
  )
})

test('the right passphrase opens an encrypted key', async () => {
  const run = await runBundledAction({
    ...good(),
    'ssh-private-key': encryptedKey,
    'ssh-passphrase': 'right-passphrase'
  })
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  await rm(path.join(sshd.remoteRoot, 'bad'), { recursive: true, force: true })
})

test('if-no-files-found: warn succeeds with a warning and uploads nothing', async () => {
  const run = await runBundledAction({ ...good(), files: '/nonexistent/**', 'if-no-files-found': 'warn' })
  expect(run.code).toBe(0)
  expect(run.stdout).toMatch(/::warning::No files matched/)
  expect(run.outputs['files-total']).toBe('0')
})
