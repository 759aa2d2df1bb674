import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { runBundledAction, type ActionRun } from '../../sim/action-runner.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { useTestBundles } from '../helpers/bundles.js'
import { actionInputs, makeTree, visibleLog } from '../release/helpers.js'

/**
 * What a new user meets first, through the bundled action and a real sshd: inputs given the way
 * people give them work, and mistakes are one line that says what to check, without retries that
 * cannot help.
 */

let sshd: Sshd
let art: string

useTestBundles()

beforeAll(async () => {
  sshd = await startSshd()
  art = await makeTree(3, i => `file ${i}\n`)
})
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

/** The step failed with exactly one error line, which is returned. */
function oneError(run: ActionRun): string {
  expect(run.code).toBe(1)
  expect(run.errors).toHaveLength(1)
  return run.errors[0]
}

test("nlb: a host without :port goes to the 'port' input, and the whole 'ssh-keygen -lf' line pins the key", async () => {
  const { stdout } = await promisify(execFile)('ssh-keygen', ['-lf', sshd.hostKey.publicKeyFile])
  const keygenLine = stdout.trim()
  expect(keygenLine).toMatch(/^\d+ SHA256:\S+ .*\(ED25519\)$/)
  const remote = path.join(sshd.remoteRoot, 'port-input')
  const run = await runBundledAction(
    actionInputs(sshd, art, remote, {
      targets: sshd.host,
      port: String(sshd.port),
      'host-key-fingerprint': keygenLine
    })
  )
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  expect(run.outputs['files-uploaded']).toBe('3')
  expect(run.outputs.mode).toBe('nlb')
})

test('a public key given as the private key is refused at once and says so', async () => {
  const run = await runBundledAction(
    actionInputs(sshd, art, path.join(sshd.remoteRoot, 'pub'), {
      'ssh-private-key': sshd.clientKey.publicKey,
      retries: '3'
    })
  )
  expect(oneError(run)).toMatch(
    /^Input 'ssh-private-key' holds a public key \(ssh-ed25519\), not a private key: /
  )
  expect(visibleLog(run)).not.toMatch(/reconnecting|attempt/)
})

test('a mistyped instance id is called that, not a host name', async () => {
  const run = await runBundledAction(actionInputs(sshd, art, '/srv/app', { mode: 'auto', targets: 'i-xyz' }))
  const error = oneError(run)
  expect(error).toMatch(/^Target 'i-xyz' is not a valid instance id: /)
  expect(error).not.toMatch(/host/)
})

test('an address that accepts and never speaks: one line naming what to check, no retries', async () => {
  let connections = 0
  const sockets: net.Socket[] = []
  const silent = net.createServer(s => {
    connections++
    sockets.push(s)
  })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  const port = (silent.address() as net.AddressInfo).port
  try {
    const run = await runBundledAction(
      actionInputs(sshd, art, path.join(sshd.remoteRoot, 'silent'), {
        targets: `127.0.0.1:${port}`,
        retries: '3',
        connections: '2'
      })
    )
    expect(oneError(run)).toMatch(
      new RegExp(
        `^127\\.0\\.0\\.1:${port} accepted the connection but sent no SSH greeting in \\d+ s, so it is not sshd: check the address and port`
      )
    )
    expect(run.stdout).not.toContain('Timed out while waiting for handshake')
    // No retries: each of the deploy's connections (2 here) was tried once.
    expect(connections).toBeGreaterThanOrEqual(1)
    expect(connections).toBeLessThanOrEqual(2)
  } finally {
    for (const s of sockets) s.destroy()
    await new Promise(resolve => silent.close(resolve))
  }
})
