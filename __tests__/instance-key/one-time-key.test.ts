import { existsSync } from 'node:fs'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { DEFAULT_EIC_INSTANCE_ID, startEicSim, type EicSim } from '../../sim/eic/api.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { createKeySource } from '../../src/aws/instance-key.js'
import { streamLogger } from '../../src/log.js'
import { CREDS, eicClient, expectLoginRefused, REGION, sshExec, waitPast } from './helpers.js'

// One-time keys end to end: the real SDK client pushes to the EIC simulator, the real OpenSSH sshd
// asks the simulator's AuthorizedKeysCommand, and ssh2 logs in (or is refused).

let aws: AwsSimServer
let eic: EicSim
let sshd: Sshd
const logLines: string[] = []
const logger = streamLogger(line => logLines.push(line), true)
const privateKeysSeen: string[] = []
const startedAt = Date.now()

beforeAll(async () => {
  aws = await startAwsSimServer()
  eic = await startEicSim({
    awsServer: aws,
    region: REGION,
    credentials: { [CREDS.accessKeyId]: { secretAccessKey: CREDS.secretAccessKey } }
  })
  sshd = await startSshd({ extraConfig: eic.sshdConfigLines })
})

afterAll(async () => {
  await sshd?.stop()
  await eic?.close()
  await aws?.close()
})

function keySource() {
  const ks = createKeySource({
    user: sshd.user,
    aws: { region: REGION },
    logger,
    client: eicClient(aws.url)
  })
  privateKeysSeen.push(String(ks.privateKey))
  return ks
}

test('a one-time key logs in after beforeConnect pushed it, as the OS user', async () => {
  const ks = keySource()
  expect(ks.oneTime).toBe(true)
  expect(ks.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=*$/)
  await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
  expect(await sshExec(sshd, ks.privateKey)).toBe('ok\n')
  const push = eic.pushes.at(-1)!
  expect(push).toMatchObject({
    instanceId: DEFAULT_EIC_INSTANCE_ID,
    user: sshd.user,
    publicKey: ks.publicKey
  })
  expect(push.accessKeyId).toBe(CREDS.accessKeyId)
  // The default lifetime is the real one: 60 s.
  expect(push.expiresAt * 1000 - push.at).toBeGreaterThan(59_000)
  expect(push.expiresAt * 1000 - push.at).toBeLessThanOrEqual(61_000)
})

test('without a push the generated key is refused', async () => {
  const ks = keySource()
  await expectLoginRefused(sshd, ks.privateKey)
  expect(eic.pushes.some(p => p.publicKey === ks.publicKey)).toBe(false)
})

test('a pushed key stops working after its lifetime, and a new push makes it work again', async () => {
  eic.setKeyLifetime(4)
  try {
    const ks = keySource()
    await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
    expect(await sshExec(sshd, ks.privateKey)).toBe('ok\n')
    await waitPast(eic.pushes.at(-1)!.expiresAt)
    await expectLoginRefused(sshd, ks.privateKey)
    // A reconnect pushes again: the same key is honoured again.
    await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
    expect(await sshExec(sshd, ks.privateKey)).toBe('ok\n')
    expect(eic.pushes.filter(p => p.publicKey === ks.publicKey)).toHaveLength(2)
  } finally {
    eic.setKeyLifetime(60)
  }
})

test('an authenticated session outlives the key window (only authentication needs it)', async () => {
  const ks = keySource()
  await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
  const started = path.join(sshd.remoteRoot, 'outlives.started')
  const go = path.join(sshd.remoteRoot, 'outlives.go')
  // The command says it runs, then waits on the same connection until every pushed key is gone
  // (forgotten, not timed out: the login itself may take any time).
  const out = sshExec(
    sshd,
    ks.privateKey,
    `touch '${started}'; while [ ! -e '${go}' ]; do sleep 0.1; done; echo still-here`
  )
  for (let i = 0; i < 600 && !existsSync(started); i++) await new Promise(r => setTimeout(r, 50))
  await eic.expireAll()
  await expectLoginRefused(sshd, ks.privateKey)
  await writeFile(go, '')
  expect(await out).toBe('still-here\n')
})

test('the endpoint comes from AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT when no client is given', async () => {
  const saved = process.env.AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT
  process.env.AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT = aws.url
  try {
    const ks = createKeySource({
      user: sshd.user,
      aws: { region: REGION, credentials: async () => CREDS },
      logger
    })
    privateKeysSeen.push(String(ks.privateKey))
    await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
    expect(eic.pushes.at(-1)!.publicKey).toBe(ks.publicKey)
    expect(await sshExec(sshd, ks.privateKey)).toBe('ok\n')
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT
    else process.env.AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT = saved
  }
})

test('a provided key is used as given and nothing is pushed', async () => {
  const before = aws.calls.length
  const ks = createKeySource({
    providedKey: sshd.clientKey.privateKey,
    user: sshd.user,
    aws: { region: REGION },
    logger,
    client: eicClient(aws.url)
  })
  expect(ks.oneTime).toBe(false)
  await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
  expect(aws.calls.length).toBe(before)
  expect(await sshExec(sshd, ks.privateKey)).toBe('ok\n')
  logger.info(`echoing the provided key to prove masking: ${sshd.clientKey.privateKey}`)
})

/** Every body line of an OpenSSH private key. */
function bodyLines(key: string): string[] {
  return key.split('\n').filter(l => l && !l.startsWith('-----'))
}

/**
 * The lines that carry the secret part: the first lines of every unencrypted ed25519 key are the same
 * header (magic, "none", "none", the public key), so only lines from the 4th on are this key's secret.
 */
function secretLines(key: string): string[] {
  const lines = bodyLines(key).slice(3)
  expect(lines.length).toBeGreaterThan(0)
  return lines
}

test('private keys never appear in log lines, even when echoed on purpose', () => {
  const ks = privateKeysSeen[0]
  logger.info(`echoing a one-time key to prove masking: ${ks}`)
  logger.debug(ks)
  expect(logLines.length).toBeGreaterThan(0)
  expect(logLines.some(l => l.includes('pushed one-time key SHA256:'))).toBe(true)
  const all = logLines.join('\n')
  for (const key of [...privateKeysSeen, sshd.clientKey.privateKey]) {
    for (const line of bodyLines(key)) expect(all).not.toContain(line)
  }
})

/** Files (bounded walk) under dir modified since the test file started. */
async function recentFiles(dir: string, depth: number, out: string[] = []): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const e of entries) {
    const p = path.join(dir, e.name)
    if (e.isDirectory() && depth > 0) await recentFiles(p, depth - 1, out)
    else if (e.isFile()) {
      const s = await stat(p).catch(() => undefined)
      if (s && s.mtimeMs >= startedAt - 1000 && s.size < 1_000_000) out.push(p)
    }
  }
  return out
}

test('one-time private keys are not written to disk (sshd dir, simulator dir, temp dir)', async () => {
  const files = [
    ...(await recentFiles(sshd.dir, 3)),
    ...(await recentFiles(eic.dir, 3)),
    ...(await recentFiles(os.tmpdir(), 0))
  ]
  // The simulator's key files exist, and they hold public keys only.
  expect(files.some(f => f.startsWith(path.join(eic.dir, 'active-keys')))).toBe(true)
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '')
    for (const key of privateKeysSeen) for (const line of secretLines(key)) expect(text).not.toContain(line)
  }
  // And the key source has no way to write files at all.
  for (const src of ['src/aws/instance-key.ts', 'src/aws/openssh-key.ts']) {
    const code = await readFile(src, 'utf8')
    expect(code).not.toMatch(/from ['"](node:)?fs(\/promises)?['"]/)
    expect(code).not.toMatch(/require\(['"](node:)?fs/)
  }
})
