import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  symlink,
  writeFile
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { BOOT, sessionScript } from '../../src/remote/shell-session.js'

/**
 * The harness the instance-side scripts (src/remote/) are tested with: a real folder full of hostile
 * names, a real `dash` or BusyBox `sh` (also as the `sh` that scripts start themselves), a check
 * that nothing outside the folder changed, and shellcheck on every script that was run.
 */

export interface Shell {
  name: string
  /** The binary the `sh` on PATH is a link to (BusyBox picks its applet by the name it is run as). */
  binary: string
}

/** Where a tool is on this machine's PATH (.ci/run installs dash, busybox and shellcheck). */
function which(tool: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${tool} is not installed: apt-get install -y dash busybox shellcheck`)
  return r.stdout.trim()
}

export const SHELLS: Shell[] = [
  { name: 'dash', binary: which('dash') },
  { name: 'busybox sh', binary: which('busybox') }
]

/**
 * Names that break scripts which let the shell read them: quotes, command substitutions (which
 * would create a PWNED-* file if run), globs, line breaks, leading dashes, the longest name a
 * folder may hold (255 bytes, once in ASCII and once in two-byte characters), spaces.
 */
export const HOSTILE_NAMES = [
  `it's "quoted".txt`,
  '$(touch PWNED-dollar)',
  '`touch PWNED-tick`',
  ';touch PWNED-semi;',
  'line\nbreak',
  'carriage\rreturn',
  '-rf',
  '--help',
  '-',
  'x'.repeat(255),
  'é'.repeat(127) + 'x',
  'with  two spaces ',
  ' leading space',
  '*',
  '[a-z]*',
  'back\\slash',
  'tab\there',
  '%s%n',
  '$HOME',
  '~',
  '..hidden',
  '!bang&amp|pipe>out<in',
  'ünïcødé-日本.txt'
]

/** Names that are not valid UTF-8: created on disk as bytes; scripts must leave them as they are. */
export const INVALID_UTF8_NAMES = [
  Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]),
  Buffer.from([0xc3, 0x28, 0x2e, 0x74, 0x78, 0x74])
]

/** A folder name with its own hostile parts, holding a copy of some names (paths with a `/`). */
export const HOSTILE_DIR = `d i r $(touch PWNED-dir)`

export interface Fixture {
  /** Everything the test made: `work/`, `outside/`, `cwd/`, the shells' bin folders. */
  root: string
  /** The folder scripts are pointed at (its own path has a space and a quote). */
  work: string
  /** A sibling folder no script is pointed at: it must come out exactly as it went in. */
  outside: string
  /** The relative paths of the valid-UTF-8 files made in `work`, with their content. */
  files: Map<string, string>
  /** Run a script the way the instance would (see ScriptRun). */
  run(script: string, opts?: RunOptions): Promise<ScriptRun>
  /** Every script run so far, with the shellcheck directive it is checked with, if any. */
  scripts: Map<string, string | undefined>
  shell: Shell
}

export interface RunOptions {
  /**
   * `boot` (the default): as ssh/exec.ts runs scripts, on the long-lived shell's loop
   * (remote/shell-session.ts) started by its small `sh -c`, stdin in frames. `command`: as an exec command, `sh -c <script>`.
   */
  via?: 'boot' | 'command'
  stdin?: string | Buffer
  /**
   * Called with all of stdout so far (latin1) as it arrives; the first string it returns is written
   * to stdin, which is then closed (the conversations that answer the instance, such as a seal).
   */
  reply?: (out: string) => string | undefined
  /** Tools (file names in /usr/bin and /bin) the script must not find on PATH. */
  hide?: RegExp
  /**
   * Programs put on PATH in place of the machine's (name -> the text of an executable script): a
   * tool that is broken in a given way. The rest of /usr/bin and /bin as with `hide`.
   */
  tools?: Record<string, string>
  /**
   * Findings shellcheck cannot judge in this script, and why: checked as if the script began with
   * `# shellcheck disable=<codes> # <reason>`.
   */
  lint?: { disable: string; reason: string }
}

export interface ScriptRun {
  code: number | null
  /** As execScript decodes it. */
  stdout: string
  stderr: string
}

/** The boundary of the shell loop's runs (any hex will do; ssh/shell-session.ts makes a random one). */
const BOUNDARY = '0123456789abcdef0123456789abcdef'
const MARK = `\x01${BOUNDARY}`

/** What a script printed on one stream of the loop: between the ready mark and the script's own. */
function between(text: string): { body: string; rest?: string } {
  const start = text.indexOf(MARK)
  if (start < 0) return { body: '' }
  const from = text.indexOf('\n', start) + 1
  if (from === 0) return { body: '' }
  const end = text.indexOf(MARK, from)
  return end < 0
    ? { body: text.slice(from) }
    : { body: text.slice(from, end), rest: text.slice(end + MARK.length) }
}

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

export function contentOf(rel: string): string {
  return `content of ${JSON.stringify(rel)}\n`
}

/** A PATH whose `sh` is `shell`, without the tools `hide` matches, with `tools` in place of the machine's. */
async function binFor(
  root: string,
  shell: Shell,
  hide?: RegExp,
  tools?: Record<string, string>
): Promise<string> {
  const own = tools && sha256(JSON.stringify(tools)).slice(0, 8)
  const bin = path.join(
    root,
    `bin-${shell.name.replace(/\W/g, '')}-${hide ? sha256(hide.source).slice(0, 8) : 'all'}${own ? `-${own}` : ''}`
  )
  if (existsSync(bin)) return bin
  await mkdir(bin)
  await symlink(shell.binary, path.join(bin, 'sh'))
  for (const [tool, text] of Object.entries(tools ?? {}))
    await writeFile(path.join(bin, tool), text, { mode: 0o755 })
  if (hide || tools) {
    for (const dir of ['/usr/bin', '/bin']) {
      for (const tool of await readdir(dir).catch(() => [] as string[])) {
        if (tool === 'sh' || hide?.test(tool) || existsSync(path.join(bin, tool))) continue
        await symlink(path.join(dir, tool), path.join(bin, tool))
      }
    }
  }
  return bin
}

/** What a folder holds: every entry's type, mode, size, content digest or link target, and mtime. */
export async function treeState(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (rel: Buffer[]) => {
    const abs = Buffer.from(path.join(dir, ...rel.map(r => r.toString('latin1'))), 'latin1')
    for (const name of await readdir(abs, { encoding: 'buffer' })) {
      const parts = [...rel, name]
      const p = Buffer.from(path.join(dir, ...parts.map(r => r.toString('latin1'))), 'latin1')
      const s = await lstat(p)
      const key = parts.map(r => r.toString('latin1')).join('/')
      const what = s.isSymbolicLink()
        ? `link ${await readlink(p)}`
        : s.isDirectory()
          ? 'dir'
          : `file ${sha256(await readFile(p))}`
      out.set(key, `${what} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs}`)
      if (s.isDirectory()) await walk(parts)
    }
  }
  await walk([])
  return out
}

/**
 * A fresh fixture: `work/` holds every hostile name at the top and again under HOSTILE_DIR, two
 * files whose names are not UTF-8, one executable, and a symlink that leads to `outside/`.
 */
export async function makeFixture(shell: Shell): Promise<Fixture> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-remote-'))
  const work = path.join(root, `work it's`)
  const outside = path.join(root, 'outside')
  const cwd = path.join(root, 'cwd')
  for (const d of [work, outside, cwd, path.join(work, HOSTILE_DIR)]) await mkdir(d, { recursive: true })
  await writeFile(path.join(outside, 'keep.txt'), 'outside\n')
  await writeFile(path.join(outside, '*'), 'a star outside\n')
  const files = new Map<string, string>()
  for (const name of HOSTILE_NAMES) {
    for (const rel of [name, `${HOSTILE_DIR}/${name}`]) {
      files.set(rel, contentOf(rel))
      await writeFile(path.join(work, rel), contentOf(rel))
    }
  }
  files.set('run.sh', '#!/bin/sh\necho hi\n')
  await writeFile(path.join(work, 'run.sh'), files.get('run.sh')!)
  await chmod(path.join(work, 'run.sh'), 0o755)
  for (const name of INVALID_UTF8_NAMES) {
    await writeFile(Buffer.concat([Buffer.from(work + '/'), name]), 'not utf-8 named\n')
  }
  await symlink('../outside', path.join(work, 'to-outside'))
  const scripts = new Map<string, string | undefined>()
  const fx: Fixture = {
    root,
    work,
    outside,
    files,
    scripts,
    shell,
    async run(script, opts = {}) {
      scripts.set(script, opts.lint && `# shellcheck disable=${opts.lint.disable} # ${opts.lint.reason}`)
      const bin = await binFor(root, shell, opts.hide, opts.tools)
      const own = opts.hide || opts.tools
      const env = { PATH: own ? bin : `${bin}:/usr/bin:/bin`, HOME: cwd, LC_ALL: 'C.UTF-8' }
      const sh = path.join(bin, 'sh')
      const loop = opts.via !== 'command'
      const child = loop ? spawn(sh, ['-c', BOOT], { cwd, env }) : spawn(sh, ['-c', script], { cwd, env })
      const out: Buffer[] = []
      const err: Buffer[] = []
      let replied = !opts.reply
      child.stdin.on('error', () => {})
      const frame = (text: string | Buffer) => {
        const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
        if (bytes.length) child.stdin.write(Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes]))
      }
      const hasStdin = opts.stdin !== undefined || !!opts.reply
      // As ssh/shell-session.ts does: the loop goes first, the script once it says it is ready, then
      // its stdin in frames up to a 0 frame; stdin closes after, and the loop ends.
      let sent = !loop
      const sendScript = () => {
        sent = true
        const text = Buffer.from(`${script}\n#`, 'utf8')
        child.stdin.write(`${text.length} ${hasStdin ? 1 : 0}\n`)
        child.stdin.write(text)
        if (opts.stdin !== undefined) frame(opts.stdin)
        if (!opts.reply) child.stdin.end(hasStdin ? '0\n' : '')
      }
      const answer = (text: string) => (loop ? (frame(text), child.stdin.end('0\n')) : child.stdin.end(text))
      const scriptOut = () => {
        const all = Buffer.concat(out).toString('latin1')
        return loop ? between(all).body : all
      }
      child.stdout.on('data', (d: Buffer) => {
        out.push(d)
        if (!sent && Buffer.concat(out).includes(MARK)) sendScript()
        if (!sent || replied) return
        const reply = opts.reply!(scriptOut())
        if (reply === undefined) return
        replied = true
        answer(reply)
      })
      child.stderr.on('data', (d: Buffer) => err.push(d))
      if (loop) {
        const text = Buffer.from(sessionScript(BOUNDARY), 'utf8')
        child.stdin.write(`${text.length}\n`)
        child.stdin.write(text)
      } else {
        if (opts.stdin !== undefined) child.stdin.write(opts.stdin)
        if (!opts.reply) child.stdin.end()
      }
      const exit = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
      if (!replied) child.stdin.end()
      if (loop) {
        const o = between(Buffer.concat(out).toString('utf8'))
        const e = between(Buffer.concat(err).toString('utf8'))
        const status = o.rest === undefined ? undefined : Number(o.rest.trim())
        return {
          code: status !== undefined && Number.isInteger(status) ? status : exit,
          stdout: o.body,
          stderr: e.body
        }
      }
      const code = exit
      return {
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8')
      }
    }
  }
  return fx
}

/** Names a command substitution in a hostile name would have created, if one had run. */
export async function pwnedFiles(root: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (/^PWNED-[a-z]+$/.test(e.name)) found.push(path.join(dir, e.name))
      if (e.isDirectory()) await walk(path.join(dir, e.name))
    }
  }
  await walk(root)
  if (existsSync(path.join(os.homedir(), 'PWNED-dollar'))) found.push('~/PWNED-dollar')
  return found
}

/**
 * The single-quoted literal shellcheck points at (line and column, 1-based), unquoted, with the
 * `'\''` joins shellQuote makes; undefined when no literal starts there.
 */
function quotedAt(script: string, line: number, col: number): string | undefined {
  const text = script
    .split('\n')
    .slice(line - 1)
    .join('\n')
    .slice(col - 1)
  const m = /^'[^']*'(?:\\''[^']*')*/.exec(text)
  return m?.[0].slice(1, -1).split(`'\\''`).join("'")
}

/**
 * shellcheck's findings on a script run as POSIX sh (empty: none). One finding is expected and
 * left out, and only where it points: SC2016 ("expressions don't expand in single quotes") on a
 * literal holding one of HOSTILE_NAMES' `$(...)`, backticks or `$HOME`. Those are file names,
 * quoted precisely so that they do not expand.
 */
export function shellcheck(script: string, directive?: string): string {
  const input = directive ? `${directive}\n${script}` : script
  const r = spawnSync('shellcheck', ['-s', 'sh', '-f', 'gcc', '-'], { input, encoding: 'utf8' })
  if (r.error) throw r.error
  const findings = `${r.stdout}${r.stderr}`.split('\n').filter(f => {
    const m = /^-:(\d+):(\d+): .*\[SC2016\]$/.exec(f)
    const literal = m && quotedAt(input, Number(m[1]), Number(m[2]))
    return f.trim() && !(literal !== undefined && literal !== null && /PWNED|\$HOME/.test(literal))
  })
  return findings.join('\n')
}
