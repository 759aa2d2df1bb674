import { ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.js'
import { fingerprintOf, generateKeyPair, KeyPair } from './ssh-keys.js'

export interface SshdOptions {
  /** Only SFTP: no shell, no exec (tests the verification fallback). */
  sftpOnly?: boolean
  /** The SFTP server's umask (`internal-sftp -u`), e.g. '077'; default: sshd's own. */
  sftpUmask?: string
  /** Extra sshd_config lines (e.g. an AuthorizedKeysCommand for pushed one-time keys). */
  extraConfig?: string[]
  /** Print sshd's own log lines to stderr. */
  verbose?: boolean
  /** Start sshd through this command (e.g. a mount namespace of sim/fleet/), with these variables added. */
  wrap?: { argv: string[]; env: Record<string, string> }
  /**
   * Sessions see a PATH with every tool of /usr/bin except the names this matches: an instance
   * without awk, say, to test a fallback.
   */
  hideTools?: RegExp
  /**
   * Programs of the sessions' PATH (name -> the text of an executable script) in place of /usr/bin's:
   * a tool that logs its calls, or one that is broken. Served as hideTools is.
   */
  tools?: Record<string, string>
  /**
   * The login user's shell and home as sshd sees them (its own /etc/passwd, bind-mounted in a mount
   * namespace of its own; needs root), so a test can log in through dash, bash, zsh or BusyBox ash
   * with start-up files of its own. bash then reads `<home>/.bashrc` for every command, as it does
   * on an instance.
   */
  login?: { shell: string; home: string }
  /** Record the sessions sshd starts (Sshd.commandsStarted). */
  countSessions?: boolean
}

export interface Sshd {
  host: string
  port: number
  user: string
  dir: string
  /** A writable folder that plays "the instance's" deploy area. */
  remoteRoot: string
  clientKey: KeyPair
  hostKey: KeyPair
  hostKeyFingerprint: string
  /** `[127.0.0.1]:port ssh-ed25519 AAAA...` as a known_hosts line. */
  knownHostsLine: string
  /** The commands sshd has started, each through the login shell (with countSessions). */
  commandsStarted(): number
  /**
   * Kill sshd and every session it serves (every connection drops at once), keep the port closed
   * for `downMs`, then start it again on the same port with the same keys: an instance whose sshd
   * (or the whole machine) restarted under a deploy.
   */
  restart(downMs?: number): Promise<void>
  stop(): Promise<void>
}

/** The processes descended from `pid` (read from /proc), deepest last. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>()
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (!parents.has(ppid)) parents.set(ppid, [])
    parents.get(ppid)!.push(Number(name))
  }
  const out: number[] = []
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd']

/** Find sshd; install openssh-server with apt when running as root, else say how. */
export function ensureSshd(log: (line: string) => void = line => process.stderr.write(line + '\n')): string {
  const found = SSHD_CANDIDATES.find(p => existsSync(p))
  if (found) return found
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (!isRoot) {
    throw new Error(
      'OpenSSH sshd is not installed: run `sudo apt-get install -y openssh-server` (the sandbox starts its own sshd on a loopback port; the system service is not needed)'
    )
  }
  log('sandbox: sshd is missing; running: apt-get update && apt-get install -y openssh-server')
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', 'openssh-server'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  })
  const installed = SSHD_CANDIDATES.find(p => existsSync(p))
  if (!installed) throw new Error('apt-get installed openssh-server but no sshd binary was found')
  return installed
}

function sftpServerDirective(opts: SshdOptions): string[] {
  const server = `internal-sftp${opts.sftpUmask ? ` -u ${opts.sftpUmask}` : ''}`
  if (opts.sftpOnly) return [`Subsystem sftp ${server}`, `ForceCommand ${server}`]
  return [`Subsystem sftp ${server}`]
}

/** The ForceCommand for hideTools and tools: a PATH without those tools (or with these), SFTP still served. */
async function pathHidingTools(
  dir: string,
  hide: RegExp | undefined,
  tools: Record<string, string> = {}
): Promise<string[]> {
  const bin = path.join(dir, 'bin')
  await mkdir(bin)
  for (const [tool, text] of Object.entries(tools))
    await writeFile(path.join(bin, tool), text, { mode: 0o755 })
  for (const tool of await readdir('/usr/bin'))
    if (!hide?.test(tool) && !(tool in tools))
      await symlink(path.join('/usr/bin', tool), path.join(bin, tool))
  const wrapper = path.join(dir, 'session.sh')
  await writeFile(
    wrapper,
    `#!/bin/sh
PATH=${bin}; export PATH
case "$SSH_ORIGINAL_COMMAND" in
  internal-sftp|*sftp-server*) exec /usr/lib/openssh/sftp-server ;;
  '') exec /bin/sh ;;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
`,
    { mode: 0o755 }
  )
  return [`ForceCommand ${wrapper}`]
}

/** A copy of /etc/passwd where `user` has the given shell and home. */
async function passwdWithLogin(dir: string, user: string, login: { shell: string; home: string }) {
  const lines = (await readFile('/etc/passwd', 'utf8')).split('\n').map(line => {
    const f = line.split(':')
    if (f[0] !== user || f.length < 7) return line
    f[5] = login.home
    f[6] = login.shell
    return f.join(':')
  })
  const file = path.join(dir, 'passwd')
  await writeFile(file, lines.join('\n'), { mode: 0o644 })
  return file
}

/** Wait until something on host:port speaks SSH (sends its identification line). */
async function waitForBanner(host: string, port: number, child: ChildProcess, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>(resolve => {
      const s = net.connect(port, host)
      s.once('data', d => {
        s.destroy()
        resolve(d.toString().startsWith('SSH-'))
      })
      s.once('error', () => resolve(false))
      s.setTimeout(1000, () => {
        s.destroy()
        resolve(false)
      })
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`sshd did not start listening on ${host}:${port}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

/**
 * Start a real OpenSSH sshd on a free loopback port, in a fresh temp directory, with a fresh host
 * key and a fresh authorized client key. Logs in as the user running this process.
 */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const sshdPath = ensureSshd()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-sshd-'))
  const remoteRoot = path.join(dir, 'instance')
  await mkdir(remoteRoot)
  const hostKey = await generateKeyPair(path.join(dir, 'ssh_host_ed25519_key'))
  const clientKey = await generateKeyPair(path.join(dir, 'client_ed25519'))
  await writeFile(path.join(dir, 'authorized_keys'), clientKey.publicKey + '\n', { mode: 0o600 })
  // Privilege separation needs this directory when sshd runs as root.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 })
  const hiding = opts.hideTools || opts.tools ? await pathHidingTools(dir, opts.hideTools, opts.tools) : []
  const user = os.userInfo().username
  const host = '127.0.0.1'

  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const config = [
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${hostKey.privateKeyFile}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'MaxSessions 100',
      'MaxStartups 100:30:200',
      'LogLevel ' + (opts.verbose || opts.countSessions ? 'VERBOSE' : 'ERROR'),
      // bash sources the login user's ~/.bashrc for every command sshd runs unless SHLVL says it is
      // nested; a developer's bashrc (pyenv init here) then costs 250-400 ms per remote command.
      // With a login of the test's own, its bashrc is what is tested.
      ...(opts.login ? [] : ['SetEnv SHLVL=1']),
      ...sftpServerDirective(opts),
      ...hiding,
      ...(opts.extraConfig ?? [])
    ]
    const configFile = path.join(dir, 'sshd_config')
    await writeFile(configFile, config.join('\n') + '\n')
    const sshdArgs = ['-D', '-e', '-f', configFile]
    const base = opts.login
      ? [
          'unshare',
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount --bind "$1" /etc/passwd && shift && exec "$@"',
          'sh',
          await passwdWithLogin(dir, user, opts.login),
          sshdPath,
          ...sshdArgs
        ]
      : [sshdPath, ...sshdArgs]
    const argv = [...(opts.wrap?.argv ?? []), ...base]
    let stderr = ''
    let sessions = 0
    const launch = () => {
      const c = spawn(argv[0], argv.slice(1), {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: opts.wrap ? { ...process.env, ...opts.wrap.env } : process.env
      })
      c.stderr!.on('data', d => {
        stderr += d.toString()
        sessions += (d.toString().match(/Starting session: command /g) ?? []).length
        if (opts.verbose) process.stderr.write(`[sshd] ${d}`)
      })
      return c
    }
    let child = launch()
    try {
      await waitForBanner(host, port, child)
    } catch (err) {
      child.kill('SIGKILL')
      lastError = new Error(`${(err as Error).message}: ${stderr.trim()}`)
      continue
    }
    const exited = (c: ChildProcess) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>(resolve => c.once('exit', () => resolve()))
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const done = exited(child)
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await done
        clearTimeout(t)
      }
      await rm(dir, { recursive: true, force: true })
    }
    const restart = async (downMs = 300) => {
      const done = exited(child)
      for (const pid of [child.pid!, ...(await descendants(child.pid!))]) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          /* gone already */
        }
      }
      await done
      await new Promise(r => setTimeout(r, downMs))
      child = launch()
      await waitForBanner(host, port, child)
    }
    const [type, blob] = hostKey.publicKey.split(/\s+/)
    return {
      host,
      port,
      user,
      dir,
      remoteRoot,
      clientKey,
      hostKey,
      hostKeyFingerprint: fingerprintOf(hostKey.publicKey),
      knownHostsLine: `[${host}]:${port} ${type} ${blob}`,
      commandsStarted: () => sessions,
      restart,
      stop
    }
  }
  await rm(dir, { recursive: true, force: true })
  throw lastError instanceof Error ? lastError : new Error('sshd did not start')
}
