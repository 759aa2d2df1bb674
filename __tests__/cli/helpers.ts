import { execFile, spawn } from 'node:child_process'
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../../sim/action-runner.js'

/** The bundled CLI (ncc output), as users run it: `node dist/cli/index.js`. */
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'index.js')

async function newestIn(dir: string): Promise<number> {
  let newest = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? await newestIn(p) : (await stat(p)).mtimeMs)
  }
  return newest
}

async function builtAt(file: string): Promise<number> {
  return stat(file).then(
    s => s.mtimeMs,
    () => 0
  )
}

/**
 * Make sure dist/index.js and dist/cli/index.js are at least as new as src/ (build them with
 * `npm run -s package` otherwise). A lock directory keeps parallel test files from building at once.
 */
export async function ensureBundles(): Promise<void> {
  const lock = path.join(REPO_ROOT, 'build', '.cli-test-build.lock')
  await mkdir(path.dirname(lock), { recursive: true })
  for (let i = 0; i < 600; i++) {
    try {
      await mkdir(lock)
      break
    } catch {
      await new Promise(r => setTimeout(r, 500))
    }
  }
  try {
    const src = await newestIn(path.join(REPO_ROOT, 'src'))
    const built = Math.min(await builtAt(CLI), await builtAt(path.join(REPO_ROOT, 'dist', 'index.js')))
    if (built >= src) return
    try {
      await promisify(execFile)('npm', ['run', '-s', 'package'], { cwd: REPO_ROOT, maxBuffer: 64 << 20 })
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string }
      throw new Error(
        `dist/cli/index.js is missing or older than src/, and 'npm run -s package' failed; build it by hand:\n${e.stdout ?? ''}${e.stderr ?? ''}`
      )
    }
  } finally {
    await rmdir(lock).catch(() => {})
  }
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
  return run(process.execPath, [CLI, ...args], opts)
}

/** Poll `check` until it returns true (at most `ms`). */
export async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise(r => setTimeout(r, 50))
}
