import { spawn } from 'node:child_process'
import { testBundles } from '../../sim/bundles.js'

let cli: string | undefined

/**
 * Build (or reuse) the bundles of the current src/ in a scratch folder (sim/bundles.ts; the committed
 * dist/ is never rewritten) and return the CLI's entry, which runCli then runs as users run
 * `node dist/cli/index.js`.
 */
export async function ensureBundles(): Promise<string> {
  cli = (await testBundles()).cli
  return cli
}

/** An environment for child processes: this one minus jest's NODE_OPTIONS and any real AWS settings. */
export function childEnv(over: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'NODE_OPTIONS' || k.startsWith('AWS_') || k.startsWith('INPUT_')) continue
    env[k] = v
  }
  return {
    ...env,
    // No real AWS: no shared config, no instance metadata.
    AWS_CONFIG_FILE: '/nonexistent/ec2-push-test-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ec2-push-test-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...over
  }
}

export interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

/** Run a program to completion (bounded by `timeoutMs`, then SIGKILL), collecting its output. */
export function run(
  file: string,
  args: string[],
  opts: { env: Record<string, string>; input?: string | Buffer; cwd?: string; timeoutMs?: number }
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout: Buffer.concat(out), stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}

export function runCli(args: string[], opts: { env: Record<string, string>; input?: string; cwd?: string }) {
  if (!cli) throw new Error('runCli: call ensureBundles() first (in beforeAll)')
  return run(process.execPath, [cli, ...args], opts)
}

/** Poll `check` until it returns true (at most `ms`). */
export async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise(r => setTimeout(r, 50))
}
