import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import ssh2 from 'ssh2'
import { generateEd25519KeyPair, secretPartsOfKey } from '../../src/aws/openssh-key.js'

// The in-memory ed25519 key is in the format ssh2 and OpenSSH both read.

test('ssh2 parses the private key, and it matches the public key line', () => {
  const pair = generateEd25519KeyPair()
  const parsed = ssh2.utils.parseKey(pair.privateKey)
  if (parsed instanceof Error) throw parsed
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  expect(key.type).toBe('ssh-ed25519')
  expect(key.isPrivateKey()).toBe(true)
  expect(key.getPublicSSH().toString('base64')).toBe(pair.publicKey.split(' ')[1])
  const data = Buffer.from('sign me')
  expect(key.verify(data, key.sign(data))).toBe(true)
  const blob = Buffer.from(pair.publicKey.split(' ')[1], 'base64')
  expect(pair.fingerprint).toBe(
    'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
  )
})

test('OpenSSH derives the same public key from it (read from a pipe, not a file)', () => {
  const pair = generateEd25519KeyPair()
  // Node hands children a socket, not a pipe, as stdin; ssh-keygen cannot open that as /dev/stdin.
  const derived = execFileSync('/bin/sh', ['-c', 'printf "%s" "$KEY" | ssh-keygen -y -f /dev/stdin'], {
    env: { ...process.env, KEY: pair.privateKey }
  })
    .toString()
    .trim()
  expect(derived).toBe(pair.publicKey)
})

test('each call makes a different key; the public line has no comment', () => {
  const a = generateEd25519KeyPair()
  const b = generateEd25519KeyPair()
  expect(a.privateKey).not.toBe(b.privateKey)
  expect(a.publicKey).not.toBe(b.publicKey)
  expect(a.publicKey.split(' ')).toHaveLength(2)
  expect(a.privateKey).toMatch(
    /^-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,70}\n)+-----END OPENSSH PRIVATE KEY-----\n$/
  )
})

test('the parts to mask cover the whole key and every base64 line, not the armour', () => {
  const pair = generateEd25519KeyPair()
  const parts = secretPartsOfKey(pair.privateKey)
  expect(parts).toContain(pair.privateKey)
  for (const line of pair.privateKey.split('\n').filter(l => l && !l.startsWith('-----'))) {
    if (line.length >= 8) expect(parts).toContain(line)
  }
  expect(parts).not.toContain('-----BEGIN OPENSSH PRIVATE KEY-----')
})
