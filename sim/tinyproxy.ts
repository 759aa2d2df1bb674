import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.js'

/**
 * A real HTTP proxy for the tests: Debian's tinyproxy in the foreground on a loopback port, CONNECT
 * to any port, optionally with Basic credentials. Its outgoing connections leave from `bindAddress`
 * (127.0.0.2 by default), an address no client uses on its own, so a simulator can tell a connection
 * that came through the proxy from one that bypassed it (sim/peer-gate.ts).
 */

export interface Tinyproxy {
  /** http://[user:password@]127.0.0.1:PORT */
  url: string
  port: number
  /** Where the proxy's connections to the upstream hosts come from. */
  bindAddress: string
  /** The proxy's log so far. */
  log(): Promise<string>
  stop(): Promise<void>
}

const TINYPROXY = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy']

/** Find tinyproxy; install it with apt when running as root, else say how. */
export function ensureTinyproxy(
  log: (line: string) => void = line => process.stderr.write(line + '\n')
): string {
  const found = TINYPROXY.find(p => existsSync(p))
  if (found) return found
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (!isRoot)
    throw new Error(
      'tinyproxy is not installed: run `sudo apt-get install -y tinyproxy` (the proxy tests start their own)'
    )
  log('tests: tinyproxy is missing; running: apt-get update && apt-get install -y tinyproxy')
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  execFileSync('apt-get', ['install', '-y', '-qq', 'tinyproxy'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  })
  const installed = TINYPROXY.find(p => existsSync(p))
  if (!installed) throw new Error('apt-get installed tinyproxy but no tinyproxy binary was found')
  return installed
}

export async function startTinyproxy(
  opts: { user?: string; password?: string; bindAddress?: string } = {}
): Promise<Tinyproxy> {
  const bin = ensureTinyproxy()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-tinyproxy-'))
  const port = await freePort()
  const bindAddress = opts.bindAddress ?? '127.0.0.2'
  const logFile = path.join(dir, 'tinyproxy.log')
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    `Bind ${bindAddress}`,
    'Timeout 600',
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    `PidFile "${path.join(dir, 'tinyproxy.pid')}"`,
    'MaxClients 200',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
    // tinyproxy refuses to keep root: run as the invoking user's own ids then.
    ...(isRoot ? ['User root', 'Group root'] : []),
    ...(opts.user ? [`BasicAuth ${opts.user} ${opts.password ?? ''}`] : [])
  ]
  await writeFile(path.join(dir, 'tinyproxy.conf'), lines.join('\n') + '\n')
  const child = spawn(bin, ['-d', '-c', path.join(dir, 'tinyproxy.conf')], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', d => (output += d))
  child.stderr.on('data', d => (output += d))
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  try {
    await waitForPort(port, exited, () => output)
  } catch (err) {
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  const auth = opts.user ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password ?? '')}@` : ''
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    port,
    bindAddress,
    log: async () => (await readFile(logFile, 'utf8').catch(() => '')) + output,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      await rm(dir, { recursive: true, force: true })
    }
  }
}

async function waitForPort(port: number, exited: Promise<void>, output: () => string): Promise<void> {
  let gone = false
  void exited.then(() => (gone = true))
  for (let i = 0; i < 200; i++) {
    if (gone) throw new Error(`tinyproxy exited at start: ${output().trim()}`)
    const open = await new Promise<boolean>(resolve => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`tinyproxy did not listen on 127.0.0.1:${port}: ${output().trim()}`)
}
