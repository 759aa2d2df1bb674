import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { testBundles } from '../../sim/bundles.js'
import { startSandbox, type Sandbox } from '../../sim/sandbox-env.js'
import { childEnv } from '../cli/helpers.js'
import { useTestBundles } from '../helpers/bundles.js'

/** `ec2-push forward` from a shell: listens until SIGTERM, then ends every session and exits 0. */

useTestBundles()

let sandbox: Sandbox
let echo: net.Server
let dir: string
beforeAll(async () => {
  sandbox = await startSandbox()
  echo = net.createServer(s => s.pipe(s))
  await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve))
  sandbox.ssm.addRoute(sandbox.instanceId, 'cache.internal:6379', {
    host: '127.0.0.1',
    port: (echo.address() as net.AddressInfo).port
  })
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-forward-cli-'))
})
afterAll(async () => {
  await sandbox?.stop()
  echo?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port })
    let got = ''
    s.on('error', reject)
    s.on('data', d => {
      got += d
      if (got.length >= text.length) {
        s.end()
        resolve(got)
      }
    })
    s.write(text)
  })
}

test('a host behind the instance over ssm; SIGTERM ends the sessions', async () => {
  const ready = path.join(dir, 'ready.json')
  const child = spawn(
    process.execPath,
    [
      (await testBundles()).cli,
      'forward',
      sandbox.instanceId,
      'cache.internal:6379',
      '--mode',
      'ssm',
      '--ready-file',
      ready
    ],
    { env: childEnv(sandbox.env), stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => (stdout += d))
  child.stderr.on('data', d => (stderr += d))
  const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
  for (let i = 0; i < 600 && !existsSync(ready); i++) await new Promise(r => setTimeout(r, 100))
  expect(stderr).not.toMatch(/^ec2-push: /m)
  const { forwards } = JSON.parse(await readFile(ready, 'utf8')) as { forwards: { localPort: number }[] }
  const port = forwards[0].localPort
  expect(stdout).toBe(`127.0.0.1:${port} -> cache.internal:6379\n`)
  const answers = await Promise.all(['a', 'b', 'c'].map(t => roundTrip(port, `${t.repeat(5000)}\n`)))
  expect(answers).toEqual(['a', 'b', 'c'].map(t => `${t.repeat(5000)}\n`))
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
  // One per connection, and the one that checked the target before listening.
  expect(
    sandbox.ssm.sessions.started.filter(s => s.document === 'AWS-StartPortForwardingSessionToRemoteHost')
  ).toHaveLength(4)
  expect(sandbox.ssm.sessions.unterminated()).toEqual([])
})

test('a malformed forward is one line on stderr and exit 1', async () => {
  const child = spawn(
    process.execPath,
    [(await testBundles()).cli, 'forward', sandbox.instanceId, 'cache.internal'],
    {
      env: childEnv(sandbox.env),
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let stderr = ''
  child.stderr.on('data', d => (stderr += d))
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  expect(code).toBe(1)
  expect(stderr.trim().split('\n')).toEqual([
    "ec2-push: forward 'cache.internal' is not [local-port:]host:port: e.g. 5432:db.internal:5432, or 8080:localhost:80 for a port on the instance"
  ])
})
