import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { BOOT, sessionScript } from '../../src/remote/shell-session.js'

/**
 * The instance side of the long-lived shell (remote/shell-session.ts) under each sh it meets, fed
 * by hand what ssh/shell-session.ts sends: scripts one after another, stdin in frames, output and
 * exit status told apart by the boundary. (Over a real sshd: __tests__/e2e/login-shells.test.ts.)
 */

const BOUNDARY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'
const MARK = `\x01${BOUNDARY}`

let bin: string
beforeAll(async () => {
  bin = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-loop-'))
  for (const name of ['sh', 'head', 'cat', 'dd']) await symlink('/usr/bin/busybox', path.join(bin, name))
})
afterAll(async () => {
  if (bin) await rm(bin, { recursive: true, force: true })
})

const script = (text: string, stdin?: string[]) => {
  const body = Buffer.from(`${text}\n#`)
  const parts = [Buffer.from(`${body.length} ${stdin ? 1 : 0}\n`), body]
  for (const frame of stdin ?? [])
    parts.push(Buffer.from(`${Buffer.byteLength(frame)}\n`), Buffer.from(frame))
  if (stdin) parts.push(Buffer.from('0\n'))
  return Buffer.concat(parts)
}

/** Run the loop under `sh` (with PATH as given), send it `input`, return what it printed. */
function runLoop(sh: string, env: NodeJS.ProcessEnv, input: Buffer) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(sh, ['-c', BOOT], { env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => (stdout += d))
    child.stderr.on('data', d => (stderr += d))
    child.on('error', reject)
    child.on('close', () => resolve({ stdout, stderr }))
    // As the client does: the scripts follow the loop at once, in the same write (BOOT reads the
    // loop exactly, so none of them is lost to it).
    const loop = Buffer.from(sessionScript(BOUNDARY))
    child.stdin.end(Buffer.concat([Buffer.from(`${loop.length}\n`), loop, input]))
  })
}

const SHELLS: Array<[string, () => { sh: string; env: NodeJS.ProcessEnv }]> = [
  ['dash', () => ({ sh: '/usr/bin/dash', env: { PATH: '/usr/bin:/bin' } })],
  // HOME: bash reads ~/.bashrc when its stdin is a socket, as node's pipes are.
  ['bash', () => ({ sh: '/usr/bin/bash', env: { PATH: '/usr/bin:/bin', HOME: bin } })],
  [
    'BusyBox sh, head, cat and dd',
    () => ({ sh: path.join(bin, 'sh'), env: { PATH: `${bin}:/usr/bin:/bin` } })
  ]
]

test.each(SHELLS)(
  '%s: scripts run one after another, each with its stdin, output and exit status',
  async (_n, which) => {
    const { sh, env } = which()
    const big = 'x'.repeat(300_000) + '\n'
    const input = Buffer.concat([
      script('echo one; echo warn >&2; exit 3'),
      // cd, a variable and a function stay in the script's subshell.
      script('cd /tmp; v=set; f() { :; }; printf "%s" "no newline"'),
      script('pwd; echo "v=${v:-unset}"; command -v f >/dev/null && echo leaked || echo "f gone"'),
      script('IFS= read -r a; read -r b; echo "$b/$a"', ['one\nt', 'wo\n']),
      // stdin the script does not read is read past, and the next script starts where it should.
      script('echo ignored stdin', [big, big]),
      script('wc -c', [big]),
      script(`cat <<'EOF'\na here-document\nEOF`),
      script('exit 0')
    ])
    const { stdout, stderr } = await runLoop(sh, env, input)
    const parts = stdout.split(MARK)
    expect(parts[0]).toBe('') // nothing before the loop says it is ready
    expect(parts.slice(1)).toEqual([
      ' 0\none\n',
      ' 3\nno newline',
      ` 0\n${process.cwd()}\nv=unset\nf gone\n`,
      ' 0\ntwo/one\n',
      ' 0\nignored stdin\n',
      ` 0\n${big.length}\n`,
      ' 0\na here-document\n',
      ' 0\n',
      ' 0\n'
    ])
    expect(stderr.split(MARK).map(s => s.replace(/^\n/, ''))).toEqual([
      '',
      'warn\n',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      ''
    ])
  }
)

test('the loop and its bootstrap pass shellcheck', async () => {
  for (const text of [BOOT, sessionScript(BOUNDARY)]) {
    const r = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: text, encoding: 'utf8' })
    expect(r.error).toBeUndefined()
    expect(r.stdout).toBe('')
    expect(r.status).toBe(0)
  }
})
