import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildConfig } from '../../src/config.js'
import { META_DIR, TEMP_PREFIX } from '../../src/remote/names.js'
import { streamLogger } from '../../src/log.js'
import { runDeploy, type DeployRun } from '../../src/run-deploy.js'
import type { Sandbox } from '../../sim/sandbox-env.js'
import { seededBytes } from '../helpers/artifacts.js'

/** A small artifact: nested folders, an empty file, an executable, names with spaces, $ and unicode. */
export async function makeS3Tree(extra: Record<string, Buffer | string> = {}): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-s3art-'))
  const files: Record<string, Buffer | string> = {
    'index.html': '<h1>hello</h1>\n',
    'empty.txt': '',
    'nested/deeper/data.bin': seededBytes(100_000, 7),
    'nested/with space $HOME ünï.txt': 'awkward\n',
    'bin/run.sh': '#!/bin/sh\necho run\n',
    ...extra
  }
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true })
    await writeFile(path.join(root, rel), body)
    await chmod(path.join(root, rel), rel.endsWith('.sh') ? 0o755 : 0o644)
  }
  return root
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

/** The sandbox's variables in this process (the SDK clients read AWS_ENDPOINT_URL_* when made). */
export function useSandboxEnv(sandbox: Sandbox): () => void {
  const saved = { ...process.env }
  Object.assign(process.env, sandbox.env)
  return () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

export interface S3Run extends DeployRun {
  log: string
}

/** runDeploy with action-style inputs (what action.yml would pass), in this process. */
export async function deployS3(
  sandbox: Sandbox,
  inputs: Record<string, string>,
  opts: { offlineAfterMs?: number; confirmCancelMs?: number; cancel?: AbortSignal } = {}
): Promise<S3Run> {
  const all: Record<string, string> = {
    delivery: 's3',
    's3-bucket': sandbox.fleet.bucket,
    'aws-region': sandbox.region,
    ...inputs
  }
  const lines: string[] = []
  const config = buildConfig(name => all[name] ?? '')
  const run = await runDeploy(
    config,
    streamLogger(l => lines.push(l)),
    { pollMs: 50, ...opts }
  )
  return { ...run, log: lines.join('\n') }
}

export async function readOnInstance(sandbox: Sandbox, id: string, p: string): Promise<string> {
  return readFile(sandbox.fleet.fleet.pathOf(id, p), 'utf8')
}

/** What a deploy may leave on an instance: its lock, temporaries, releases and where current points. */
export interface InstanceState {
  lock: boolean
  temporaries: string[]
  current?: string
  releases: string[]
  /** The agent's folders of the instance's commands hold nothing but their scripts. */
  agentLeftovers: string[]
}

export async function instanceState(sandbox: Sandbox, id: string, dest: string): Promise<InstanceState> {
  const at = (p = '') => sandbox.fleet.fleet.pathOf(id, path.join(dest, p))
  const list = (p: string) => readdir(p).catch(() => [] as string[])
  const agent = path.join(sandbox.fleet.fleet.root, '.agent', id)
  const agentLeftovers: string[] = []
  for (const command of await list(agent))
    for (const name of await list(path.join(agent, command)))
      if (name !== '_script.sh') agentLeftovers.push(`${command}/${name}`)
  return {
    lock: existsSync(at(`${META_DIR}/lock`)),
    temporaries: [
      ...(await list(at())).filter(n => n.startsWith(TEMP_PREFIX)),
      ...(await list(at(META_DIR))).filter(n => n.startsWith(TEMP_PREFIX))
    ],
    current: await readlink(at('current')).catch(() => undefined),
    releases: (await list(at('releases'))).sort(),
    agentLeftovers
  }
}

/**
 * The instance's state once nothing of a stopped deploy is left: a killed script's watcher polls
 * for its end every second, so this waits (at most `boundMs`) for the lock and temporaries to go.
 */
export async function settledState(
  sandbox: Sandbox,
  id: string,
  dest: string,
  boundMs = 15_000
): Promise<InstanceState> {
  const until = Date.now() + boundMs
  for (;;) {
    const s = await instanceState(sandbox, id, dest)
    if ((!s.lock && !s.temporaries.length && !s.agentLeftovers.length) || Date.now() > until) return s
    await new Promise(r => setTimeout(r, 200))
  }
}
