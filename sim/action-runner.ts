import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { testBundles } from './bundles.js'
import { REPO_ROOT } from './repo-root.js'

export { REPO_ROOT }
/** The committed bundle, as users of the action run it (the demo runs this one). */
export const COMMITTED_ACTION = path.join(REPO_ROOT, 'dist', 'index.js')

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  /** What the step saved with core.saveState (its post step gets it as STATE_<name>). */
  state: Record<string, string>
  /** The signal that ended the process, if one did. */
  signal: NodeJS.Signals | null
  summary: string
  /** Lines the runner would show as errors (`::error::...`). */
  errors: string[]
}

/** Parse a GITHUB_OUTPUT file (`name<<delimiter` blocks, or `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delim] = heredoc
      const value: string[] = []
      while (++i < lines.length && lines[i] !== delim) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      out[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return out
}

/**
 * Run the bundled action the way the Actions runner does: inputs as INPUT_<NAME> variables,
 * outputs through GITHUB_OUTPUT, the summary through GITHUB_STEP_SUMMARY. `entry` defaults to a
 * bundle of the current src/ (sim/bundles.ts), not the committed dist/.
 */
export async function runBundledAction(
  inputs: Record<string, string>,
  opts: {
    env?: Record<string, string>
    cwd?: string
    entry?: string
    echo?: boolean
    /** State saved by the main step, for a post step (`STATE_<name>`). */
    state?: Record<string, string>
    /** Called with the process once it runs (to signal it, say). */
    onSpawn?: (child: ChildProcess, output: () => string) => void
  } = {}
): Promise<ActionRun> {
  const entry = opts.entry ?? (await testBundles()).action
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-runner-'))
  const outputFile = path.join(dir, 'output')
  const summaryFile = path.join(dir, 'summary')
  const stateFile = path.join(dir, 'state')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  await writeFile(stateFile, '')
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    // A clean step environment: no inputs or runner files leaking in from the caller.
    if (
      v !== undefined &&
      !k.startsWith('INPUT_') &&
      !k.startsWith('GITHUB_') &&
      !k.startsWith('NODE_OPTIONS')
    )
      env[k] = v
  }
  Object.assign(env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir
  })
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value
  Object.assign(env, opts.env ?? {})
  try {
    const child = spawn(process.execPath, [entry], {
      cwd: opts.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => {
      stdout += d
      if (opts.echo) process.stdout.write(d)
    })
    child.stderr.on('data', d => {
      stderr += d
      if (opts.echo) process.stderr.write(d)
    })
    opts.onSpawn?.(child, () => stdout)
    let signal: NodeJS.Signals | null = null
    const code = await new Promise<number>(resolve =>
      child.on('close', (c, s) => {
        signal = s
        resolve(c ?? 1)
      })
    )
    return {
      code,
      signal,
      stdout,
      stderr,
      outputs: parseOutputFile(await readFile(outputFile, 'utf8')),
      state: parseOutputFile(await readFile(stateFile, 'utf8')),
      summary: await readFile(summaryFile, 'utf8'),
      errors: stdout
        .split('\n')
        .filter(l => l.startsWith('::error'))
        .map(l => l.replace(/^::error[^:]*::/, ''))
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
