import { ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * Run a command as a child process and measure it the same way whatever it is (our engine in a
 * node child, or OpenSSH's sftp): wall time, CPU time (user + sys, including the child's own
 * waited-for children, e.g. the ssh that sftp runs), and peak RSS. GNU time is used when it is
 * installed; otherwise a `sh` wrapper reads its own cutime/cstime from /proc after waiting for the
 * command (CPU only: peak RSS is then unknown unless the child reports it itself).
 */

export interface Measured {
  code: number | null
  signal: NodeJS.Signals | null
  wallS: number
  userS: number
  sysS: number
  /** Peak resident set of the largest process in the tree, KiB (undefined when unmeasurable). */
  maxRssKiB?: number
  stdout: string
  stderr: string
}

export type MeasureMethod = 'gnu-time' | 'proc-stat'

/** Children running now, so an interrupted bench can kill them. */
export const liveChildren = new Set<ChildProcess>()
/** Temp folders of measurements in progress (an interrupted bench removes them). */
const liveDirs = new Set<string>()
let stopping = false

/** Kill every measured child still running and remove its temp folder. */
export async function stopMeasurements(): Promise<void> {
  stopping = true
  for (const c of liveChildren) killTree(c)
  await Promise.all([...liveDirs].map(d => rm(d, { recursive: true, force: true })))
}

/** Each measured command leads its own process group: kill the wrapper, the command and its children. */
function killTree(c: ChildProcess): void {
  try {
    if (c.pid) process.kill(-c.pid, 'SIGKILL')
  } catch {
    c.kill('SIGKILL')
  }
}

let method: MeasureMethod | undefined
let clockTicks = 100

/** GNU time if `/usr/bin/time -f` works, else the /proc wrapper. */
export function measureMethod(): MeasureMethod {
  if (method) return method
  method = 'proc-stat'
  if (existsSync('/usr/bin/time')) {
    try {
      execFileSync('/usr/bin/time', ['-f', '%e', 'true'], { stdio: 'pipe' })
      method = 'gnu-time'
    } catch {
      /* BusyBox or BSD time: no -f */
    }
  }
  if (method === 'proc-stat') {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return method
}

export async function runMeasured(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}
): Promise<Measured> {
  if (stopping) throw new Error('the bench is stopping')
  const how = measureMethod()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-bench-rusage-'))
  const out = path.join(dir, 'rusage')
  liveDirs.add(dir)
  try {
    const [file, argv] =
      how === 'gnu-time'
        ? ['/usr/bin/time', ['-o', out, '-f', '%e %U %S %M', cmd, ...args]]
        : ['sh', ['-c', '"$@"; rc=$?; cat /proc/$$/stat > "$BENCH_RUSAGE_OUT"; exit $rc', 'sh', cmd, ...args]]
    const t0 = process.hrtime.bigint()
    const child = spawn(file, argv, {
      env: { ...(opts.env ?? process.env), BENCH_RUSAGE_OUT: out },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    liveChildren.add(child)
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout!.on('data', d => stdout.push(d))
    child.stderr!.on('data', d => stderr.push(d))
    const timer = setTimeout(() => killTree(child), opts.timeoutMs ?? 15 * 60_000)
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (c, s) => resolve([c, s]))
    }).finally(() => {
      clearTimeout(timer)
      liveChildren.delete(child)
    })
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9
    const raw = await readFile(out, 'utf8').catch(() => '')
    let userS = NaN
    let sysS = NaN
    let maxRssKiB: number | undefined
    if (how === 'gnu-time') {
      // GNU time writes "Command exited with non-zero status N" first when the command fails.
      const last = raw.trim().split('\n').pop() ?? ''
      const [, u, s, m] = last.split(/\s+/).map(Number)
      userS = u
      sysS = s
      maxRssKiB = Number.isFinite(m) ? m : undefined
    } else if (raw) {
      // Fields after "(comm)": state is field 3; cutime and cstime are fields 16 and 17.
      const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ')
      userS = Number(fields[16 - 3]) / clockTicks
      sysS = Number(fields[17 - 3]) / clockTicks
    }
    return {
      code,
      signal,
      wallS,
      userS,
      sysS,
      maxRssKiB,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8')
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    liveDirs.delete(dir)
  }
}
