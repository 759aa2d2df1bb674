import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { isOwnFile } from '../src/remote/names.js'
import { runBundledAction, type ActionRun } from '../sim/action-runner.js'
import { testBundles } from '../sim/bundles.js'
import { startSshd, type Sshd } from '../sim/sshd.js'
import { startTcpCutter, startTcpFreezer } from '../sim/tcp-faults.js'
import { table } from './data.js'

/**
 * `npm run reliability`: the fault matrix, against a bundle of the current src/ (built under build/,
 * never into dist/) run as the Actions runner runs it, and a real sshd on loopback. Each fault is
 * checked against what the README's "Guarantees" promise: connections cut at random offsets while a
 * watcher reads every final path (never a partial file there; byte-identical at the end), sshd
 * killed and restarted under an upload, a connection that goes silent, and SIGINT at 10 points of an
 * atomic release (the lock released, no unfinished release, `current` intact, the next deploy
 * succeeds at once). Prints the figures and exits 1 if any guarantee failed.
 * RELIABILITY_SEED=<n> repeats a run's cut offsets; RELIABILITY_CUTS=<n> changes their number.
 */

const SEED = Number(process.env.RELIABILITY_SEED ?? randomBytes(4).readUInt32LE(0))
const CUTS = Number(process.env.RELIABILITY_CUTS ?? 20)
const SIGINT_POINTS = 10
/** Each action run's own limit (timeout-seconds), and the whole matrix's. */
const RUN_TIMEOUT_S = 180
const MATRIX_DEADLINE = Date.now() + 30 * 60_000

interface LocalFile {
  data: Buffer
  sha256: string
  mode: number
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Deterministic offsets from the seed (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

/** The artifact: 120 small files in nested folders, an executable, two 2 MiB and one 6 MiB file. */
async function makeArtifact(dir: string): Promise<Map<string, LocalFile>> {
  const files = new Map<string, LocalFile>()
  const add = async (rel: string, data: Buffer, mode = 0o644) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true })
    await writeFile(path.join(dir, rel), data, { mode })
    files.set(rel, { data, sha256: sha256(data), mode })
  }
  for (let i = 0; i < 120; i++)
    await add(`d${i % 4}/sub ${i % 3}/f${i}.txt`, randomBytes(500 + ((i * 997) % 20_000)))
  await add('bin/run.sh', Buffer.from('#!/bin/sh\necho ok\n'), 0o755)
  await add('assets/a.bin', randomBytes(2 * 1024 * 1024))
  await add('assets/b.bin', randomBytes(2 * 1024 * 1024))
  await add('big.bin', randomBytes(6 * 1024 * 1024))
  return files
}

/** Files under `dir` (symlinks followed for `current`), our own files and temporaries apart. */
async function remoteTree(dir: string): Promise<{ files: Map<string, Buffer>; temps: string[] }> {
  const files = new Map<string, Buffer>()
  const temps: string[] = []
  const walk = async (rel: string) => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => [])
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) {
        if (r !== '.ec2-push' && r !== '.ec2-push.lock') await walk(r)
      } else if (isOwnFile(r) || /\.ec2-push-tmp\./.test(e.name)) {
        if (!/^\.ec2-push/.test(r)) temps.push(r)
      } else files.set(r, await readFile(path.join(dir, r)))
    }
  }
  await walk('')
  return { files, temps }
}

function sameTree(files: Map<string, Buffer>, local: Map<string, LocalFile>): boolean {
  if (files.size !== local.size) return false
  for (const [rel, f] of local) if (!files.get(rel)?.equals(f.data)) return false
  return true
}

/**
 * Reads every file that appears at a final path under `dir` while a deploy runs, each version
 * (inode, size, ctime) once: anything not byte-identical to the local file is a partial file seen.
 */
function watchFinalPaths(dir: string, local: Map<string, LocalFile>) {
  const seen = new Map<string, string>()
  const partial: string[] = []
  let reads = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const walk = async (rel: string): Promise<void> => {
        for (const e of await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => [])) {
          const r = rel ? `${rel}/${e.name}` : e.name
          if (e.isDirectory()) await walk(r)
          else if (
            e.isFile() &&
            !isOwnFile(r) &&
            !/\.ec2-push-tmp\./.test(e.name) &&
            !r.startsWith('.ec2-push')
          ) {
            const p = path.join(dir, r)
            const s = await stat(p).catch(() => undefined)
            if (!s) continue
            const version = `${s.ino} ${s.size} ${s.ctimeMs}`
            if (seen.get(r) === version) continue
            const data = await readFile(p).catch(() => undefined)
            if (!data) continue
            reads++
            seen.set(r, version)
            if (!local.get(r)?.data.equals(data)) partial.push(`${r} (${data.length} bytes)`)
          }
        }
      }
      await walk('')
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { partial, reads }
    }
  }
}

function inputs(sshd: Sshd, art: string, remote: string, over: Record<string, string> = {}) {
  return {
    mode: 'nlb',
    targets: `${sshd.host}:${sshd.port}`,
    files: `${art}/**`,
    'remote-path': remote,
    user: sshd.user,
    'ssh-private-key': sshd.clientKey.privateKey,
    'host-key-fingerprint': sshd.hostKeyFingerprint,
    retries: '5',
    'timeout-seconds': String(RUN_TIMEOUT_S),
    ...over
  }
}

const reconnectsOf = (run: ActionRun) => {
  try {
    return Number(JSON.parse(run.outputs.results)[0].reconnects ?? 0)
  } catch {
    return NaN
  }
}

function firstError(run: ActionRun): string {
  return (run.errors[0] ?? run.stderr.trim().split('\n').pop() ?? '').slice(0, 120)
}

const seconds = (ms: number) => (ms / 1000).toFixed(1)

function checkDeadline() {
  if (Date.now() > MATRIX_DEADLINE) throw new Error('the matrix ran past its 30 min limit')
}

interface Outcome {
  fault: string
  ok: boolean
  detail: string
  secs: string
}

async function connectionCuts(sshd: Sshd, art: string, local: Map<string, LocalFile>): Promise<Outcome[]> {
  const total = [...local.values()].reduce((n, f) => n + f.data.length, 0)
  const next = rng(SEED)
  const out: Outcome[] = []
  for (let i = 0; i < CUTS; i++) {
    checkDeadline()
    const offset = 1 + Math.floor(next() * total * 1.02)
    const remote = path.join(sshd.remoteRoot, `cut-${i}`)
    const cutter = await startTcpCutter(sshd.host, sshd.port, [offset])
    const watcher = watchFinalPaths(remote, local)
    const t0 = Date.now()
    const run = await runBundledAction(
      inputs(sshd, art, remote, { targets: `${cutter.host}:${cutter.port}` })
    )
    const ms = Date.now() - t0
    const seen = await watcher.stop()
    await cutter.close()
    const { files, temps } = await remoteTree(remote)
    const identical = sameTree(files, local)
    const ok = run.code === 0 && identical && temps.length === 0 && seen.partial.length === 0
    out.push({
      fault: `cut at byte ${offset}`,
      ok,
      secs: seconds(ms),
      detail: [
        run.code === 0 ? `ok, ${reconnectsOf(run)} reconnect(s)` : `exit ${run.code}: ${firstError(run)}`,
        identical ? 'identical' : 'DIFFERS',
        `${seen.partial.length} partial of ${seen.reads} reads`,
        `${temps.length} temporaries left`,
        cutter.cuts === 0 ? '(the cut came after the last byte)' : ''
      ]
        .filter(Boolean)
        .join(', ')
    })
    await rm(remote, { recursive: true, force: true })
  }
  return out
}

async function sshdRestart(sshd: Sshd, art: string, local: Map<string, LocalFile>): Promise<Outcome> {
  checkDeadline()
  const remote = path.join(sshd.remoteRoot, 'restart')
  const watcher = watchFinalPaths(remote, local)
  const t0 = Date.now()
  const running = runBundledAction(inputs(sshd, art, remote))
  // Restart once the upload has begun: a temporary or a final file has appeared.
  let restarted = false
  while (!restarted && Date.now() - t0 < 60_000) {
    const names = await readdir(remote, { recursive: true }).catch(() => [] as string[])
    if (names.some(n => /\.(bin|txt)/.test(String(n)))) {
      await sshd.restart(1000)
      restarted = true
    } else await new Promise(r => setTimeout(r, 5))
  }
  const run = await running
  const ms = Date.now() - t0
  const seen = await watcher.stop()
  const { files, temps } = await remoteTree(remote)
  const identical = sameTree(files, local)
  return {
    fault: 'sshd killed and restarted mid-upload (down 1 s)',
    ok: restarted && run.code === 0 && identical && seen.partial.length === 0 && temps.length === 0,
    secs: seconds(ms),
    detail: [
      restarted ? '' : 'the upload ended before the restart',
      run.code === 0 ? `ok, ${reconnectsOf(run)} reconnect(s)` : `exit ${run.code}: ${firstError(run)}`,
      identical ? 'identical' : 'DIFFERS',
      `${seen.partial.length} partial of ${seen.reads} reads`,
      `${temps.length} temporaries left`
    ]
      .filter(Boolean)
      .join(', ')
  }
}

async function stall(sshd: Sshd, art: string, local: Map<string, LocalFile>): Promise<Outcome> {
  checkDeadline()
  const total = [...local.values()].reduce((n, f) => n + f.data.length, 0)
  const remote = path.join(sshd.remoteRoot, 'stall')
  const staller = await startTcpFreezer(sshd.host, sshd.port, [Math.floor(total / 2)])
  const watcher = watchFinalPaths(remote, local)
  const t0 = Date.now()
  const run = await runBundledAction(
    inputs(sshd, art, remote, { targets: `${staller.host}:${staller.port}` })
  )
  const ms = Date.now() - t0
  const seen = await watcher.stop()
  await staller.close()
  const { files, temps } = await remoteTree(remote)
  const identical = sameTree(files, local)
  return {
    fault: 'connection goes silent half-way (no close, no reset)',
    ok: run.code === 0 && identical && seen.partial.length === 0,
    secs: seconds(ms),
    detail: [
      run.code === 0 ? `ok, ${reconnectsOf(run)} reconnect(s)` : `exit ${run.code}: ${firstError(run)}`,
      identical ? 'identical' : 'DIFFERS',
      `${seen.partial.length} partial of ${seen.reads} reads`,
      `${temps.length} temporaries left`,
      `recovered ${seconds(ms)} s after the start`
    ].join(', ')
  }
}

/** What an atomic release folder looks like after an interruption. */
async function releaseState(root: string, local: Map<string, LocalFile>) {
  const lock = (
    await Promise.all(
      [path.join(root, '.ec2-push', 'lock'), path.join(root, '.ec2-push.lock')].map(p =>
        lstat(p).then(
          () => p,
          () => undefined
        )
      )
    )
  ).filter(Boolean)
  const current = await readlink(path.join(root, 'current')).catch(() => undefined)
  const currentWhole =
    current !== undefined && sameTree((await remoteTree(path.join(root, 'current'))).files, local)
  const unfinished: string[] = []
  for (const id of await readdir(path.join(root, 'releases')).catch(() => [] as string[])) {
    if (!sameTree((await remoteTree(path.join(root, 'releases', id))).files, local)) unfinished.push(id)
  }
  const temps = (await readdir(root)).filter(n => /\.ec2-push-tmp\.|\.ec2-push-[0-9a-f]+\.tmp$/.test(n))
  return { lock, current, currentWhole, unfinished, temps }
}

/** Wait for a process to exit, SIGKILL after `ms`. */
async function exitOf(child: ChildProcess, ms: number): Promise<{ code: number | null; killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, killed: false }
  return new Promise(resolve => {
    const t = setTimeout(() => {
      child.kill('SIGKILL')
      resolve({ code: null, killed: true })
    }, ms)
    child.once('exit', code => {
      clearTimeout(t)
      resolve({ code, killed: false })
    })
  })
}

async function sigintPoints(sshd: Sshd, art: string, local: Map<string, LocalFile>): Promise<Outcome[]> {
  const root = path.join(sshd.remoteRoot, 'atomic')
  const atomic = (id: string) =>
    inputs(sshd, art, root, { release: 'atomic', 'release-id': id, 'keep-releases': '50' })
  const t0 = Date.now()
  const first = await runBundledAction(atomic('base'))
  const full = Date.now() - t0
  if (first.code !== 0) {
    return [
      { fault: 'SIGINT: the first atomic deploy', ok: false, secs: seconds(full), detail: firstError(first) }
    ]
  }
  const out: Outcome[] = []
  for (let k = 1; k <= SIGINT_POINTS; k++) {
    checkDeadline()
    const at = Math.round((full * k) / (SIGINT_POINTS + 1))
    let child: ChildProcess | undefined
    let exit: { code: number | null; killed: boolean } | undefined
    const started = Date.now()
    const run = runBundledAction(atomic(`cut${k}`), {
      onSpawn: c => {
        child = c
        setTimeout(() => {
          if (c.exitCode === null) {
            c.kill('SIGINT')
            // A cancelled job's runner sends SIGTERM after 7.5 s and kills after a further 2.5 s.
            void exitOf(c, 10_000).then(e => (exit = e))
          }
        }, at)
      }
    })
    const interrupted = await run
    const stoppedIn = Date.now() - started - at
    const after = await releaseState(root, local)
    const next = await runBundledAction(atomic(`next${k}`))
    // Whatever this point left is cleared by hand, so the next point is judged on its own.
    for (const lock of after.lock) await rm(lock as string, { recursive: true, force: true })
    for (const id of after.unfinished)
      await rm(path.join(root, 'releases', id), { recursive: true, force: true })
    const nextOk = next.code === 0
    const ok =
      after.lock.length === 0 &&
      after.unfinished.length === 0 &&
      after.currentWhole &&
      nextOk &&
      !exit?.killed
    out.push({
      fault: `SIGINT ${at} ms into an atomic release (${k}/${SIGINT_POINTS})`,
      ok,
      secs: seconds(Date.now() - started),
      detail: [
        child && interrupted.code === 0
          ? 'finished before the signal'
          : `exit ${interrupted.code} ${seconds(Math.max(0, stoppedIn))} s after the signal`,
        exit?.killed ? 'did not exit within 10 s (killed)' : '',
        after.lock.length ? 'LOCK LEFT' : 'lock released',
        after.unfinished.length ? `UNFINISHED: ${after.unfinished.join(' ')}` : 'no unfinished release',
        after.currentWhole ? `current -> ${after.current}` : `CURRENT BROKEN (${after.current ?? 'missing'})`,
        nextOk ? 'next deploy ok' : `NEXT FAILED: ${firstError(next)}`
      ]
        .filter(Boolean)
        .join(', ')
    })
  }
  return out
}

async function main() {
  process.stderr.write('reliability: building the bundle of src/ (build/test-bundles, not dist/)\n')
  await testBundles()
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-reliability-'))
  const art = path.join(scratch, 'art')
  const local = await makeArtifact(art)
  const sshd = await startSshd()
  const total = [...local.values()].reduce((n, f) => n + f.data.length, 0)
  process.stdout.write(
    `Fault matrix: the bundled action over nlb to a real sshd on loopback; ${local.size} files, ${(total / 1048576).toFixed(1)} MiB; seed ${SEED}\n\n`
  )
  const rows: Outcome[] = []
  const section = async (name: string, fn: () => Promise<Outcome | Outcome[]>) => {
    process.stderr.write(`reliability: ${name}\n`)
    try {
      const r = await fn()
      rows.push(...(Array.isArray(r) ? r : [r]))
    } catch (err) {
      rows.push({ fault: name, ok: false, secs: '-', detail: `did not run: ${(err as Error).message}` })
    }
  }
  try {
    await section(`${CUTS} connection cuts`, () => connectionCuts(sshd, art, local))
    await section('sshd restart', () => sshdRestart(sshd, art, local))
    await section('stall', () => stall(sshd, art, local))
    await section('SIGINT during atomic releases', () => sigintPoints(sshd, art, local))
  } finally {
    await sshd.stop()
    await rm(scratch, { recursive: true, force: true })
  }
  process.stdout.write(
    table(
      ['fault', 'held', 's', 'what was seen'],
      rows.map(r => [r.fault, r.ok ? 'yes' : 'NO', r.secs, r.detail])
    ) + '\n\n'
  )
  const groups = [
    ['connection cuts', rows.filter(r => r.fault.startsWith('cut at'))],
    ['sshd restart', rows.filter(r => r.fault.startsWith('sshd'))],
    ['stall', rows.filter(r => r.fault.startsWith('connection goes silent'))],
    ['SIGINT points', rows.filter(r => r.fault.startsWith('SIGINT'))]
  ] as const
  for (const [name, rs] of groups) {
    process.stdout.write(`${name}: ${rs.filter(r => r.ok).length}/${rs.length} held\n`)
  }
  const failed = rows.filter(r => !r.ok).length
  process.stdout.write(failed ? `\n${failed} fault(s) broke a guarantee\n` : '\nevery guarantee held\n')
  process.exitCode = failed ? 1 : 0
}

main().catch(err => {
  process.stderr.write(`reliability: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
