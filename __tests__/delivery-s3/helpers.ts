import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildConfig } from '../../src/config.js'
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
  opts: { offlineAfterMs?: number } = {}
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
