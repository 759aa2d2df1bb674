import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../../sim/action-runner.js'
import { generateKeyPair } from '../../sim/ssh-keys.js'

/**
 * What the entry points load, module by module: the AWS SDK costs about 0.3 s of CPU and 80 MB to
 * load, so `--help`, `--version` and any deploy over nlb must never load it. Run on the unbundled
 * build (`npm test` builds it into build/) so every module is a file with its own URL, recorded by
 * a loader hook as Node loads it.
 */

let dir: string
let hook: string
let key: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-loads-'))
  hook = path.join(dir, 'record-loads.mjs')
  await writeFile(
    hook,
    `import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(\`import { appendFileSync } from 'node:fs'
export async function load(url, context, next) {
  appendFileSync(process.env.EC2_PUSH_LOAD_LOG, url + '\\\\n')
  return next(url, context)
}\`))
`
  )
  key = (await generateKeyPair(path.join(dir, 'id_ed25519'))).privateKeyFile
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Run an entry of build/src with the hook; the URLs of the packages it loaded, and its exit code. */
async function loads(entry: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const log = path.join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`)
  await writeFile(log, '')
  const code = await promisify(execFile)(
    process.execPath,
    ['--import', hook, path.join(REPO_ROOT, 'build', 'src', entry), ...args],
    { env: { PATH: process.env.PATH, EC2_PUSH_LOAD_LOG: log, ...env }, cwd: REPO_ROOT }
  ).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1
  )
  const urls = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
  const packages = new Set(
    urls.map(u => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter(Boolean)
  )
  return { code, packages }
}

const nlbDeploy = [
  '--mode',
  'nlb',
  '--targets',
  '127.0.0.1:1',
  '--files',
  'README.md',
  '--remote-path',
  '/tmp/x'
]

test('the CLI loads no AWS SDK for --help, --version or a deploy over nlb', async () => {
  for (const args of [['--help'], ['--version']]) {
    const r = await loads('cli.js', args)
    expect(r.code).toBe(0)
    expect([...r.packages]).toEqual([])
  }
  const deploy = await loads('cli.js', [
    'deploy',
    ...nlbDeploy,
    '--strict-host-key',
    'false',
    '--ssh-private-key-file',
    key,
    '--retries',
    '0'
  ])
  expect(deploy.code).toBe(1) // nothing listens on port 1
  expect(deploy.packages).toContain('ssh2')
  expect([...deploy.packages].filter(p => p!.startsWith('@aws-sdk/'))).toEqual([])
  // The check can fail: a command that needs AWS does load the SDK.
  const doctor = await loads(
    'cli.js',
    ['doctor', '--targets', 'i-0123456789abcdef0', '--region', 'us-east-1'],
    {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1'
    }
  )
  expect([...doctor.packages].some(p => p!.startsWith('@aws-sdk/'))).toBe(true)
})

test('the action loads no AWS SDK for a deploy over nlb', async () => {
  const r = await loads('index.js', [], {
    INPUT_MODE: 'nlb',
    INPUT_TARGETS: '127.0.0.1:1',
    INPUT_FILES: 'README.md',
    'INPUT_REMOTE-PATH': '/tmp/x',
    'INPUT_STRICT-HOST-KEY': 'false',
    'INPUT_SSH-PRIVATE-KEY': await readFile(key, 'utf8'),
    INPUT_RETRIES: '0'
  })
  expect(r.code).toBe(1)
  expect(r.packages).toContain('ssh2')
  expect([...r.packages].filter(p => p!.startsWith('@aws-sdk/'))).toEqual([])
})
