import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { rm } from 'node:fs/promises'
import { runBundledAction } from '../../sim/action-runner.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { describeTree, makeArtifactTree } from '../helpers/artifacts.js'
import { actionInputs } from '../release/helpers.js'
import { childEnv, ensureBundles, runCli } from './helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** `ec2-push deploy` and the bundled action, same inputs, same sshd: the same outputs and the same errors. */

let sshd: Sshd
let art: string
let env: Record<string, string>

useTestBundles()

beforeAll(async () => {
  await ensureBundles()
  sshd = await startSshd()
  art = await makeArtifactTree({ largeBytes: 2 * 1024 * 1024 })
  env = childEnv({})
}, 300_000)
afterAll(async () => {
  await sshd?.stop()
  if (art) await rm(art, { recursive: true, force: true })
})

// retries 3 is the default, spelled out.
const inputs = (remote: string, over: Record<string, string> = {}): Record<string, string> =>
  actionInputs(sshd, art, remote, { retries: '3', ...over })

/** The same inputs as flags: `--name value` each. */
const flags = (i: Record<string, string>) => Object.entries(i).flatMap(([k, v]) => [`--${k}`, v])

/** Outputs without what differs from run to run (timings) and with the remote folder named <remote>. */
function comparable(outputs: Record<string, unknown>, remote: string) {
  const results = (
    typeof outputs.results === 'string' ? JSON.parse(outputs.results) : outputs.results
  ) as Record<string, unknown>[]
  const rest = Object.fromEntries(
    Object.entries(outputs).filter(
      ([k]) => !['duration-ms', 'bytes-per-second', 'results', 'error', 'plan'].includes(k)
    )
  )
  const out = {
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)])),
    // Durations and round-trip counts depend on timing (a connection opened while files are matched).
    results: results.map(r =>
      Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'durationMs' && k !== 'roundTrips'))
    )
  }
  return JSON.parse(JSON.stringify(out).split(remote).join('<remote>'))
}

function parseLines(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
  )
}

test('the same inputs give the same outputs (name=value lines and --json) and the same files', async () => {
  const actionRemote = path.join(sshd.remoteRoot, 'by-action')
  const action = await runBundledAction(inputs(actionRemote))
  expect(action.errors).toEqual([])
  expect(action.code).toBe(0)

  const cliRemote = path.join(sshd.remoteRoot, 'by-cli')
  const cli = await runCli(['deploy', ...flags(inputs(cliRemote))], { env })
  expect(cli.code).toBe(0)
  const lines = parseLines(cli.stdout.toString())
  expect(Object.keys(lines).sort()).toEqual(Object.keys(action.outputs).sort())
  expect(comparable(lines, cliRemote)).toEqual(comparable(action.outputs, actionRemote))
  expect(Number(lines['files-uploaded'])).toBeGreaterThan(5)
  // bytes-per-second is bytes-transferred over duration-ms, and the CLI's last line says the same figure.
  const bps = Number(lines['bytes-per-second'])
  expect(bps).toBe(Math.round((Number(lines['bytes-transferred']) * 1000) / Number(lines['duration-ms'])))
  expect(cli.stderr.trimEnd().split('\n').at(-1)).toMatch(
    new RegExp(
      `^ec2-push: \\d+ files uploaded \\(\\d+ unchanged\\), ${lines['bytes-transferred']} bytes in [\\d.]+ s: ${bps} bytes/s$`
    )
  )
  const actionBps = action.outputs['bytes-per-second']
  expect(action.summary).toContain(`${action.outputs['bytes-transferred']} bytes in`)
  expect(action.summary).toContain(`: ${actionBps} bytes/s`)
  expect(await describeTree(cliRemote)).toEqual(await describeTree(actionRemote))
  // Logs went to stderr, never stdout; no key material anywhere.
  expect(cli.stderr).toMatch(/== Files/)
  for (const line of sshd.clientKey.privateKey.split('\n').filter(l => l.length > 20)) {
    expect(cli.stderr).not.toContain(line)
    expect(cli.stdout.toString()).not.toContain(line)
  }

  // --json, with the key read from a file this time.
  const keyFile = path.join(art, '..', `cli-key-${process.pid}`)
  await writeFile(keyFile, sshd.clientKey.privateKey, { mode: 0o600 })
  try {
    const jsonRemote = path.join(sshd.remoteRoot, 'by-cli-json')
    const { 'ssh-private-key': _key, ...rest } = inputs(jsonRemote)
    const json = await runCli(
      ['deploy', ...flags(rest), '--ssh-private-key-file', keyFile, '--json', '--quiet'],
      { env }
    )
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    const obj = JSON.parse(json.stdout.toString())
    expect(Array.isArray(obj.results)).toBe(true)
    expect(comparable(obj, jsonRemote)).toEqual(comparable(action.outputs, actionRemote))
  } finally {
    await rm(keyFile, { force: true })
  }
})

test.each([
  ['an invalid input', { concurrency: '0' }],
  ['a missing required input', { 'remote-path': '' }],
  ['a wrong pinned host key', { 'host-key-fingerprint': 'SHA256:' + 'A'.repeat(43) }],
  ['nlb to a host without a pinned key', { 'host-key-fingerprint': '' }]
])('%s: the same one-line error, exit 1, no stack trace', async (_what, over) => {
  const i = inputs(path.join(sshd.remoteRoot, 'bad'), over)
  const action = await runBundledAction(i)
  expect(action.code).toBe(1)
  expect(action.errors).toHaveLength(1)
  const cli = await runCli(['deploy', ...flags(i), '--quiet'], { env })
  expect(cli.code).toBe(1)
  // Warnings may come first (the action shows them too); the error is the one last line.
  const errLines = cli.stderr
    .trim()
    .split('\n')
    .filter(l => !l.startsWith('warning: '))
  expect(errLines).toEqual([`ec2-push: ${action.errors[0]}`])
  expect(cli.stderr).not.toMatch(/\n\s+at /)
})

test('flag mistakes are one line that names --help', async () => {
  const typo = await runCli(['deploy', '--remote-pth', '/x'], { env })
  expect(typo.code).toBe(1)
  expect(typo.stderr).toBe(
    "ec2-push: unknown option '--remote-pth' for 'ec2-push deploy'; did you mean --remote-path? (see ec2-push deploy --help)\n"
  )
  const noValue = await runCli(['deploy', '--targets'], { env })
  expect(noValue.stderr).toBe('ec2-push: --targets needs a value (see ec2-push deploy --help)\n')
  const help = await runCli(['deploy', '--help'], { env })
  expect(help.code).toBe(0)
  expect(help.stdout.toString()).toContain('--eice-max-tunnels VALUE')
})
