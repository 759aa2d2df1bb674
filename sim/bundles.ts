// The bundles the tests run: built from the working tree's src/ into build/test-bundles/<hash>/ (never
// into the committed dist/), once per content of src/, and shared by every jest worker and test run.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './repo-root.js'

export interface Bundles {
  /** The action's entry (what `runs.main` in action.yml points at, dist/index.js). */
  action: string
  /** The CLI's entry (dist/cli/index.js). */
  cli: string
  /** The action's post step (dist/post/index.js). */
  post: string
}

const CACHE = path.join(REPO_ROOT, 'build', 'test-bundles')
/** What the bundles are made from: a change to any of these makes a new build. */
const INPUTS = ['src', 'package-lock.json', 'tsconfig.json', path.join('scripts', 'package.mjs')]

async function filesUnder(p: string): Promise<string[]> {
  if (!(await stat(p)).isDirectory()) return [p]
  const out: string[] = []
  for (const e of await readdir(p, { withFileTypes: true }))
    out.push(...(await filesUnder(path.join(p, e.name))))
  return out
}

/** A hash of the names and contents of everything the bundles are built from (not file times: git sets those). */
async function sourceHash(): Promise<string> {
  const h = createHash('sha256')
  for (const input of INPUTS) {
    for (const file of (await filesUnder(path.join(REPO_ROOT, input))).sort()) {
      h.update(path.relative(REPO_ROOT, file)).update('\0')
      h.update(await readFile(file)).update('\0')
    }
  }
  return h.digest('hex').slice(0, 16)
}

function entries(dir: string): Bundles {
  return {
    action: path.join(dir, 'index.js'),
    cli: path.join(dir, 'cli', 'index.js'),
    post: path.join(dir, 'post', 'index.js')
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false
  )
}

/**
 * Take the build lock for `hash` (a directory holding the builder's pid). A lock whose builder has
 * died is taken over; otherwise wait while another process builds.
 */
async function lock(lockDir: string, done: () => Promise<boolean>): Promise<boolean> {
  for (;;) {
    try {
      await mkdir(lockDir)
      await writeFile(path.join(lockDir, 'pid'), String(process.pid))
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    if (await done()) return false
    const pid = Number(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => ''))
    if (pid && !alive(pid)) await rm(lockDir, { recursive: true, force: true })
    await new Promise(r => setTimeout(r, 500))
  }
}

let memo: Promise<Bundles> | undefined

/**
 * The action and CLI bundles of the current src/. EC2_PUSH_TEST_BUNDLES names a folder laid out like
 * dist/ to use instead (for example the committed dist/, to test what was released).
 */
export function testBundles(): Promise<Bundles> {
  const given = process.env.EC2_PUSH_TEST_BUNDLES
  if (given) return Promise.resolve(entries(path.resolve(REPO_ROOT, given)))
  memo ??= build()
  return memo
}

async function build(): Promise<Bundles> {
  const hash = await sourceHash()
  const dir = path.join(CACHE, hash)
  const built = async () =>
    (await exists(path.join(dir, 'cli', 'index.js'))) && (await exists(path.join(dir, 'post', 'index.js')))
  if (await built()) return entries(dir)
  await mkdir(CACHE, { recursive: true })
  const lockDir = path.join(CACHE, `${hash}.lock`)
  if (!(await lock(lockDir, built))) return entries(dir)
  try {
    if (await built()) return entries(dir)
    const staging = path.join(CACHE, `${hash}.${process.pid}.dist`)
    const scratch = path.join(CACHE, `${hash}.${process.pid}.tsc`)
    try {
      await promisify(execFile)(
        process.execPath,
        [path.join(REPO_ROOT, 'scripts', 'package.mjs'), staging, scratch],
        { cwd: REPO_ROOT, maxBuffer: 64 << 20 }
      )
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string }
      throw new Error(
        `building the test bundles failed (scripts/package.mjs):\n${e.stdout ?? ''}${e.stderr ?? ''}`
      )
    } finally {
      await rm(scratch, { recursive: true, force: true })
    }
    // Renamed into place whole, so a reader never sees half a bundle.
    await rename(staging, dir)
    // Older builds (of other sources) are of no further use.
    for (const name of await readdir(CACHE))
      if (/^[0-9a-f]{16}$/.test(name) && name !== hash)
        await rm(path.join(CACHE, name), { recursive: true, force: true })
    return entries(dir)
  } finally {
    await rm(lockDir, { recursive: true, force: true })
  }
}
