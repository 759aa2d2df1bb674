import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { Client } from 'ssh2'
import type { Logger } from '../../src/log.js'
import { createSsmTunnel, SsmTunnelOptions } from '../../src/tunnel/ssm/tunnel.js'
import { exec, sftpOf } from '../../sim/ssh-client.js'
export { exec, sshOver } from '../../sim/ssh-client.js'
import { Sshd } from '../../sim/sshd.js'
import type { SessionRecord } from '../../sim/ssm/agent-session.js'
import { SsmSim } from '../../sim/ssm/index.js'

export { capturingLogger } from '../helpers/logger.js'

/** Every token the simulator issued was registered as a secret and never printed. */
export function expectTokensKeptSecret(
  records: SessionRecord[],
  logger: { lines: string[]; secrets: string[] }
) {
  const tokens = records.flatMap(r => r.issuedTokens)
  expect(tokens.length).toBeGreaterThan(0)
  for (const token of tokens) {
    expect(logger.secrets).toContain(token)
    for (const line of logger.lines) expect(line).not.toContain(token)
  }
}

/** Point the SDK at the simulator the way the action is pointed at it: through the environment. */
export function useSimEnv(sim: SsmSim): void {
  for (const [k, v] of Object.entries(sim.env)) process.env[k] = v
}

export function tunnelFor(sim: SsmSim, logger: Logger, over: Partial<SsmTunnelOptions> = {}) {
  return createSsmTunnel({
    instanceId: sim.instanceId,
    port: 22,
    document: 'AWS-StartSSHSession',
    frameSize: 1024,
    windowBytes: 256 * 1024,
    aws: { region: sim.region, credentials: async () => ({ ...sim.credentials }) },
    logger,
    ...over
  })
}

/** Local files with random content; returns their paths and sha256. */
export async function makeFiles(sizes: number[]): Promise<{
  dir: string
  files: { name: string; local: string; sha256: string }[]
  cleanup: () => Promise<void>
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssm-test-files-'))
  const files = []
  for (const [i, size] of sizes.entries()) {
    const data = randomBytes(size)
    const local = path.join(dir, `file-${i}.bin`)
    await writeFile(local, data)
    files.push({ name: `file-${i}.bin`, local, sha256: createHash('sha256').update(data).digest('hex') })
  }
  return { dir, files, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Upload every file with SFTP, then check each on the instance: sha256sum over exec and on disk. */
export async function uploadAndVerify(
  client: Client,
  sshd: Sshd,
  files: { name: string; local: string; sha256: string }[],
  remoteSub: string
) {
  const sftp = await sftpOf(client)
  const remoteDir = path.join(sshd.remoteRoot, remoteSub)
  await new Promise<void>((resolve, reject) => sftp.mkdir(remoteDir, err => (err ? reject(err) : resolve())))
  for (const f of files) {
    await new Promise<void>((resolve, reject) =>
      sftp.fastPut(f.local, path.join(remoteDir, f.name), err => (err ? reject(err) : resolve()))
    )
  }
  sftp.end()
  const { code, stdout } = await exec(
    client,
    `cd '${remoteDir}' && sha256sum ${files.map(f => f.name).join(' ')}`
  )
  expect(code).toBe(0)
  for (const f of files) {
    expect(stdout).toContain(`${f.sha256}  ${f.name}`)
    const onDisk = createHash('sha256')
      .update(await readFile(path.join(remoteDir, f.name)))
      .digest('hex')
    expect(onDisk).toBe(f.sha256)
  }
}

/** End the SSH connection and wait until the tunnel's stream has closed. */
export function endSsh(client: Client, sock: Duplex): Promise<void> {
  return new Promise(resolve => {
    if (sock.destroyed) return resolve()
    sock.once('close', () => resolve())
    client.end()
  })
}

/** Wait (bounded) until the simulator has recorded a TerminateSession for every StartSession. */
export async function allTerminated(sim: SsmSim, timeoutMs = 10000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  while (sim.sessions.unterminated().length && Date.now() < deadline)
    await new Promise(r => setTimeout(r, 50))
  return sim.sessions.unterminated()
}
