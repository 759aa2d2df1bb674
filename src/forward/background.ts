import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, open, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { UserError } from '../errors.js'
import { INPUTS } from '../inputs.js'

/**
 * The action's `forward`: the listeners must outlive the step, so they live in a detached
 * `ec2-push forward` process (the CLI bundle next to the action's) that this step starts and waits
 * for until its ready file names the local ports. Its pid and folder go to the step's state; the
 * post step (src/post.ts) sends it SIGTERM, which closes the listeners and ends the sessions.
 */

/** How long the background process may take to open its listeners (credentials, target lookup). */
const READY_TIMEOUT_MS = 120_000

/** Inputs the background process needs: what finds the target and the credentials, not the deploy's. */
const FORWARD_INPUTS = new Set([
  'mode',
  'targets',
  'port',
  'aws-region',
  'role-to-assume',
  'role-session-name',
  'role-duration-seconds',
  'audience',
  'allowed-account-ids',
  'ssm-frame-size',
  'ssm-window-bytes',
  'eice-endpoint-id',
  'eice-max-tunnels',
  'forward'
])

export interface BackgroundForward {
  pid: number
  /** Holds the log (forward.log) the post step shows. */
  dir: string
  forwards: { localPort: number; host: string; port: number }[]
}

/** The CLI entry beside this bundle (dist/cli/index.js), or in the unbundled build (build/src/cli.js). */
function cliEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const candidates = [
    path.join(here, 'cli', 'index.js'),
    path.join(here, '..', 'cli.js'),
    path.join(here, 'cli.js')
  ]
  const found = candidates.find(p => existsSync(p))
  if (!found)
    throw new Error(`the ec2-push CLI is missing beside the action (looked for ${candidates.join(', ')})`)
  return found
}

export async function startBackgroundForward(input: (name: string) => string): Promise<BackgroundForward> {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  const dir = await mkdtemp(path.join(base, 'ec2-push-forward-'))
  const inputsFile = path.join(dir, 'inputs.json')
  const readyFile = path.join(dir, 'ready.json')
  const logFile = path.join(dir, 'forward.log')
  const values: Record<string, string> = {}
  for (const i of INPUTS) if (FORWARD_INPUTS.has(i.name)) values[i.name] = input(i.name)
  await writeFile(inputsFile, JSON.stringify(values), { mode: 0o600 })
  const log = await open(logFile, 'a')
  const child = spawn(
    process.execPath,
    [cliEntry(), 'forward', '--inputs-file', inputsFile, '--ready-file', readyFile],
    { detached: true, stdio: ['ignore', log.fd, log.fd], env: process.env }
  )
  await log.close()
  let exited: number | null | undefined
  child.once('exit', code => (exited = code))
  child.unref()
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!existsSync(readyFile)) {
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined) child.kill('SIGTERM')
      const text = await readFile(logFile, 'utf8').catch(() => '')
      const why = text
        .split('\n')
        .reverse()
        .find(l => l.startsWith('ec2-push: '))
        ?.slice('ec2-push: '.length)
      throw new UserError(
        why ??
          `the forward did not start within ${READY_TIMEOUT_MS / 1000} s: ${text.trim().split('\n').pop() ?? ''}`
      )
    }
    await new Promise(r => setTimeout(r, 100))
  }
  const ready = JSON.parse(await readFile(readyFile, 'utf8')) as {
    pid: number
    forwards: BackgroundForward['forwards']
  }
  return { pid: child.pid ?? ready.pid, dir, forwards: ready.forwards }
}
