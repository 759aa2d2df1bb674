import { appendFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { makeTree } from '../release/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/**
 * post-command's output as the command-output step output and each result's commandOutput: the
 * bundled action against real sshd instances; the secret the command prints is a line of the
 * private key the step masks; a large output keeps only its last 64 KiB.
 */

let a: Sshd
let b: Sshd
let art: string

useTestBundles()

beforeAll(async () => {
  ;[a, b] = await Promise.all([startSshd(), startSshd()])
  // One deploy key for both, as in a real fleet.
  await appendFile(path.join(b.dir, 'authorized_keys'), a.clientKey.publicKey + '\n')
  art = await makeTree(2, i => `file ${i}\n`)
})
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  if (art) await rm(art, { recursive: true, force: true })
})

function inputs(remote: string, targets: Sshd[], postCommand: string) {
  return {
    mode: 'nlb',
    targets: targets.map(s => `${s.host}:${s.port}`).join('\n'),
    files: `${art}/**`,
    'remote-path': remote,
    user: a.user,
    'ssh-private-key': a.clientKey.privateKey,
    'known-hosts': targets.map(s => s.knownHostsLine).join('\n'),
    'max-parallel-targets': '1',
    retries: '0',
    'post-command': postCommand
  }
}

/** A line from the middle of the private key: the step masks each line of it. */
const secretLine = () => a.clientKey.privateKey.trim().split('\n')[2]

test('a character whose bytes arrive in two chunks is kept whole (the command pauses inside it)', async () => {
  // 'é' is \303\251 in UTF-8; the sleep makes sshd send its two bytes in separate channel packets.
  const run = await runBundledAction(
    inputs(
      path.join(a.remoteRoot, 'split'),
      [a],
      "printf 'caf\\303'; sleep 1; printf '\\251 \\342\\202'; sleep 1; printf '\\254\\n'"
    )
  )
  expect(run.errors).toEqual([])
  expect(run.outputs['command-output']).toBe('café €')
  expect(run.stdout).toContain('café €')
  expect(run.stdout).not.toContain('\ufffd')
})

test('one target: command-output has the lines, the secret masked; results carry the same', async () => {
  const secret = secretLine()
  expect(secret.length).toBeGreaterThan(20)
  const run = await runBundledAction(
    inputs(path.join(a.remoteRoot, 'one'), [a], `echo first; echo "key: ${secret}"; echo last >&2`)
  )
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  expect(run.outputs['command-output']).toBe('first\nkey: ***\nlast')
  expect(JSON.parse(run.outputs.results)[0].commandOutput).toBe('first\nkey: ***\nlast')
})

test('a large output keeps its last 64 KiB, and says how much was cut', async () => {
  // 20000 lines of 7 bytes and a newline: 160 kB.
  const run = await runBundledAction(
    inputs(
      path.join(a.remoteRoot, 'big'),
      [a],
      `i=0; while [ $i -lt 20000 ]; do printf 'l%06d\\n' $i; i=$((i+1)); done`
    )
  )
  expect(run.code).toBe(0)
  const out = run.outputs['command-output']
  expect(Buffer.byteLength(out)).toBeLessThanOrEqual(64 * 1024 + 40)
  const lines = out.split('\n')
  expect(lines[0]).toMatch(/^\[first \d+ bytes cut\]$/)
  expect(lines.at(-1)).toBe('l019999')
  expect(lines).toHaveLength(1 + Math.floor((64 * 1024) / 8))
  const kept = lines.length - 1
  expect(lines[1]).toBe(`l${String(20000 - kept).padStart(6, '0')}`)
  expect(lines[0]).toBe(`[first ${(20000 - kept) * 8} bytes cut]`)
})

test('several targets: command-output is empty, each result has its own output', async () => {
  const run = await runBundledAction(
    inputs(path.join(a.remoteRoot, 'two'), [a, b], `echo "on $EC2_PUSH_TARGET: ${secretLine()}"`)
  )
  expect(run.errors).toEqual([])
  expect(run.code).toBe(0)
  expect(run.outputs['command-output']).toBe('')
  const results = JSON.parse(run.outputs.results)
  expect(results.map((r: { target: string; commandOutput: string }) => [r.target, r.commandOutput])).toEqual(
    [a, b].map(s => [`${s.host}:${s.port}`, `on ${s.host}:${s.port}: ***`])
  )
})
