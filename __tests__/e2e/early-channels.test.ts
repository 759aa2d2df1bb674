import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import ssh2 from 'ssh2'
import type { Connection, ServerChannel } from 'ssh2'
import { generateKeyPair, fingerprintOf, type KeyPair } from '../../sim/ssh-keys.js'
import { buildConfig } from '../../src/config.js'
import { runDeploy } from '../../src/run-deploy.js'
import { connectSsh, stallDefaults } from '../../src/ssh/connection.js'
import { EarlyChannels } from '../../src/ssh/early-channels.js'
import { SHELL_COMMAND, ShellSession } from '../../src/ssh/shell-session.js'
import { capturingLogger } from '../helpers/logger.js'

/**
 * Channels opened behind the login (src/ssh/early-channels.ts) on servers that do not take them.
 * OpenSSH does (login-trips.test.ts); this double of another server, an ssh2 Server that decides the
 * login a moment after reading the request, either ignores a CHANNEL_OPEN that comes before the login
 * has succeeded (nothing comes back for it, ever) or refuses it (CHANNEL_OPEN_FAILURE, ssh2's own
 * answer). Past the login it runs commands with sh and SFTP with OpenSSH's sftp-server, so a whole
 * deploy can go through it. The connection and the deploy must still get their channels: were the
 * fallback missing, an ignored open would leave them waiting for good (the keepalives the server
 * answers keep the stall timeout from ever firing), and the test would time out. The keepalives are
 * made rare here (they follow the stall timeout), so that the first of them does not stand in for
 * the request the fallback sends itself.
 */

type PreAuthOpens = 'ignore' | 'refuse'

interface Double {
  port: number
  /** CHANNEL_OPENs that came before the login had succeeded. */
  preAuthOpens: number
  /** CHANNEL_OPENs after it. */
  opens: number
  close(): Promise<void>
}

const SFTP_SERVER = '/usr/lib/openssh/sftp-server'

let dir: string
let hostKey: KeyPair
let clientKey: KeyPair
const saved = stallDefaults.timeoutMs

beforeAll(async () => {
  stallDefaults.timeoutMs = 3_600_000
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-early-'))
  hostKey = await generateKeyPair(path.join(dir, 'host'))
  clientKey = await generateKeyPair(path.join(dir, 'client'))
})
afterAll(async () => {
  stallDefaults.timeoutMs = saved
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** A process on the channel: its stdio to the channel's, its exit status back. */
function run(channel: ServerChannel, argv: string[]): void {
  const child = spawn(argv[0], argv.slice(1), { stdio: 'pipe' })
  child.stdout.pipe(channel, { end: false })
  child.stderr.pipe(channel.stderr, { end: false })
  channel.pipe(child.stdin)
  child.stdin.on('error', () => {})
  child.on('close', (code, signal) => {
    if (code !== null) channel.exit(code)
    else channel.exit(signal ?? 'KILL', false, '')
    channel.end()
  })
  channel.on('close', () => child.kill('SIGKILL'))
}

function startDouble(preAuth: PreAuthOpens): Promise<Double> {
  const allowed = ssh2.utils.parseKey(clientKey.publicKey)
  if (allowed instanceof Error) throw allowed
  const sockets = new Set<net.Socket>()
  const double = { port: 0, preAuthOpens: 0, opens: 0 } as Double
  const server = new ssh2.Server({ hostKeys: [hostKey.privateKey] }, (client: Connection) => {
    let loggedIn = false
    const handlers = (
      client as unknown as { _protocol: { _handlers: Record<string, (...a: unknown[]) => void> } }
    )._protocol._handlers
    const open = handlers.CHANNEL_OPEN
    handlers.CHANNEL_OPEN = (...args) => {
      if (loggedIn) double.opens++
      else {
        double.preAuthOpens++
        if (preAuth === 'ignore') return
      }
      open(...args)
    }
    client.on('authentication', ctx => {
      const ok =
        ctx.method === 'publickey' &&
        ctx.key.data.equals(allowed.getPublicSSH()) &&
        !!ctx.signature &&
        !!ctx.blob &&
        allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true
      // Decided after the messages read with the request (OpenSSH decides in another process).
      setImmediate(() => {
        if (!ok) return ctx.reject(['publickey'])
        loggedIn = true
        ctx.accept()
      })
    })
    client.on('error', () => {})
    client.on('session', accept => {
      const session = accept()
      session.on('exec', (acceptExec, _reject, info) => run(acceptExec(), ['sh', '-c', info.command]))
      session.on('subsystem', (acceptSub, reject, info) =>
        info.name === 'sftp' ? run(acceptSub(), [SFTP_SERVER]) : reject()
      )
      session.on('signal', () => {})
    })
  })
  server.on('connection', () => {})
  const listener = (server as unknown as { _srv: net.Server })._srv
  listener.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () => {
      double.port = (server.address() as net.AddressInfo).port
      double.close = () =>
        new Promise<void>(done => {
          for (const s of sockets) s.destroy()
          server.close(() => done())
        })
      resolve(double)
    })
  )
}

const connectTo = (double: Double) =>
  connectSsh({
    label: 'double',
    stream: net.connect(double.port, '127.0.0.1'),
    login: { user: 'deploy', privateKey: clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: fingerprintOf(hostKey.publicKey) },
    early: { sftp: true, exec: SHELL_COMMAND }
  })

test.each<PreAuthOpens>(['ignore', 'refuse'])(
  'a server that does not take the opens sent behind the login (%s): the channels are opened again',
  async preAuth => {
    const double = await startDouble(preAuth)
    try {
      const conn = await connectTo(double)
      try {
        const sftp = await conn.sftp()
        const shell = await ShellSession.open(conn)
        expect(await shell.run('echo "$((6 * 7))"')).toMatchObject({ code: 0, stdout: '42\n' })
        const names = await new Promise<string[]>((resolve, reject) =>
          sftp.readdir(dir, (err, list) => (err ? reject(err) : resolve(list.map(e => e.filename))))
        )
        expect(names).toContain('host.pub')
        // Both were sent behind the login, and opened again once it was done.
        expect(double.preAuthOpens).toBe(2)
        expect(double.opens).toBe(2)
      } finally {
        conn.close()
      }
    } finally {
      await double.close()
    }
  }
)

test('a whole deploy through a server that ignores the early opens, over several connections', async () => {
  const double = await startDouble('ignore')
  try {
    const art = path.join(dir, 'art')
    await mkdir(path.join(art, 'sub'), { recursive: true })
    for (let i = 0; i < 40; i++) await writeFile(path.join(art, 'sub', `f${i}.txt`), `file ${i}\n`)
    const remote = path.join(dir, 'remote')
    const inputs: Record<string, string> = {
      mode: 'nlb',
      targets: `127.0.0.1:${double.port}`,
      files: `${art}/**`,
      'remote-path': remote,
      user: 'deploy',
      'ssh-private-key': clientKey.privateKey,
      'host-key-fingerprint': fingerprintOf(hostKey.publicKey),
      retries: '1',
      connections: '3'
    }
    const run = await runDeploy(
      buildConfig(n => inputs[n] ?? ''),
      capturingLogger()
    )
    expect(run.error).toBeUndefined()
    expect(run.outputs.results[0].filesUploaded).toBe(40)
    expect(run.outputs.results[0].connections).toBe(3)
    expect(await readFile(path.join(remote, 'sub', 'f7.txt'), 'utf8')).toBe('file 7\n')
    // Every connection sent its channels behind the login: SFTP and two shells (one a pack each).
    expect(double.preAuthOpens).toBe(9)
  } finally {
    await double.close()
  }
})

test('without the ssh2 internals it relies on, nothing is opened early', () => {
  expect(EarlyChannels.prepare(new ssh2.Client(), { sftp: true })).toBeUndefined()
  expect(EarlyChannels.prepare({} as ssh2.Client, { sftp: true })).toBeUndefined()
})
