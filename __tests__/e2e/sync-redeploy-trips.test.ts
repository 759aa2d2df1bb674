import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { connectSsh } from '../../src/ssh/connection.js'
import { execScript } from '../../src/ssh/exec.js'
import { ShellSession } from '../../src/ssh/shell-session.js'
import { capturingLogger } from '../helpers/logger.js'

/**
 * What a sync redeploy waits for, counted on a real sshd (src/ssh/round-trips.ts): over a long link
 * each round trip is the link's delay, so these counts are its time, measured without a clock.
 */

let sshd: Sshd
beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(async () => {
  await sshd?.stop()
})

test("a new shell's first script goes behind the loop at once: open, exec, the script's answer", async () => {
  const conn = await connectSsh({
    label: 'first script',
    stream: net.connect(sshd.port, sshd.host),
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
  try {
    const before = conn.trips.total
    const r = await execScript(conn, 'echo first')
    expect(r).toMatchObject({ code: 0, stdout: 'first\n' })
    expect(conn.trips.total - before).toBe(3)
  } finally {
    conn.close()
  }
})

/** One in-process deploy of `dir` to `remote` with sync (the engine as the action runs it). */
async function syncDeploy(dir: string, remote: string) {
  const inputs: Record<string, string> = {
    mode: 'nlb',
    targets: `${sshd.host}:${sshd.port}`,
    files: '**',
    'remote-path': remote,
    user: sshd.user,
    'ssh-private-key': sshd.clientKey.privateKey,
    'host-key-fingerprint': sshd.hostKeyFingerprint,
    sync: 'true'
  }
  const logger = capturingLogger()
  // Every script run on a long-lived shell, counted as it is sent.
  const run = ShellSession.prototype.run
  let scripts = 0
  ShellSession.prototype.run = function (...args) {
    scripts++
    return run.apply(this, args)
  }
  try {
    const deployed = await runDeploy(
      buildConfig(name => inputs[name] ?? ''),
      logger,
      { cwd: dir }
    )
    expect(deployed.error).toBeUndefined()
    return { result: deployed.outputs.results[0], scripts, log: logger.lines.join('\n') }
  } finally {
    ShellSession.prototype.run = run
  }
}

test('a sync redeploy of 300 files with one changed: one script takes the lock and compares, one puts the file, writes the manifest and unlocks', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-trips-'))
  const remote = path.join(sshd.remoteRoot, 'one-change')
  try {
    for (let i = 0; i < 300; i++) {
      await mkdir(path.join(dir, `d${Math.floor(i / 100)}`), { recursive: true })
      await writeFile(path.join(dir, `d${Math.floor(i / 100)}`, `f${i}.txt`), `file ${i}\n`)
    }
    expect((await syncDeploy(dir, remote)).result.filesUploaded).toBe(300)
    await writeFile(path.join(dir, 'd1', 'f150.txt'), 'changed\n')
    const { result, scripts, log } = await syncDeploy(dir, remote)
    expect(result).toMatchObject({ filesUploaded: 1, filesSkipped: 299, connections: 1 })
    expect(log).toContain('1 files put in place with the manifest')
    expect(await readFile(path.join(remote, 'd1', 'f150.txt'), 'utf8')).toBe('changed\n')
    expect(scripts).toBe(2)
    const trips = result.roundTrips!
    // Planning waits for the lock's script alone, behind the shell's start or the files' hashing;
    // the SFTP channel opened alongside (open, subsystem, version) counts here too when the
    // connection was up before the deploy started. The put: its script, then the seal.
    expect(trips.plan).toBeLessThanOrEqual(3)
    expect(trips.upload + trips.verify + trips.publish + trips.record).toBe(2)
    expect(await readdir(path.join(remote, '.ec2-push'))).not.toContain('lock')

    // The manifest written in the same exec is trusted by the next deploy for every file.
    const again = await syncDeploy(dir, remote)
    expect(again.result.filesUploaded).toBe(0)
    expect(again.log).toContain('manifest trusted for 300 files')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a changed file in a folder the instance lacks goes over SFTP, and the manifest still covers it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-trips-'))
  const remote = path.join(sshd.remoteRoot, 'new-folder')
  try {
    for (let i = 0; i < 20; i++) await writeFile(path.join(dir, `f${i}.txt`), `file ${i}\n`)
    await syncDeploy(dir, remote)
    await writeFile(path.join(dir, 'f3.txt'), 'changed\n')
    await mkdir(path.join(dir, 'new', 'deep'), { recursive: true })
    await writeFile(path.join(dir, 'new', 'deep', 'g.txt'), 'new\n')
    const { result, log } = await syncDeploy(dir, remote)
    expect(result).toMatchObject({ filesUploaded: 2, filesSkipped: 19 })
    expect(log).not.toContain('put in place with the manifest')
    expect(await readFile(path.join(remote, 'new', 'deep', 'g.txt'), 'utf8')).toBe('new\n')
    expect(await readFile(path.join(remote, 'f3.txt'), 'utf8')).toBe('changed\n')
    expect((await readdir(remote)).filter(n => n.startsWith('.ec2-push-tmp'))).toEqual([])
    const again = await syncDeploy(dir, remote)
    expect(again.result.filesUploaded).toBe(0)
    expect(again.log).toContain('manifest trusted for 21 files')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
