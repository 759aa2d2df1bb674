import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { runBundledAction } from '../../sim/action-runner.js'
import { startSshd } from '../../sim/sshd.js'
import { seededBytes } from '../helpers/artifacts.js'
import { useTestBundles } from '../helpers/bundles.js'
import { actionInputs } from '../release/helpers.js'

/**
 * A large file is hashed on the instance by OpenSSL where the deploy's probe saw it work, and by
 * sha256sum where OpenSSL is missing or broken, when it is uploaded and when a sync compares it:
 * the instance's `openssl` and `sha256sum` are wrappers that note how many bytes each call hashed
 * before passing them on (or, for a broken OpenSSL, print a wrong digest).
 */

useTestBundles()

/** 20 MiB: written in ranges over several connections, each range hashed on its own. */
const SIZE = 20 * 1024 * 1024

/**
 * A wrapper around /usr/bin/<tool> that appends to `log` the size of each file it is asked to hash:
 * its file operands, or else what it reads on stdin.
 */
function counting(tool: string, log: string): string {
  return `#!/bin/sh
named=
for a in "$@"; do
  if [ -f "$a" ]; then wc -c < "$a" >> '${log}'; named=1; fi
done
[ -n "$named" ] && exec /usr/bin/${tool} "$@"
t=$(mktemp) || exit 1
cat > "$t"
wc -c < "$t" >> '${log}'
/usr/bin/${tool} "$@" < "$t"
s=$?
rm -f "$t"
exit $s
`
}

/** An OpenSSL that answers every hash with the empty input's digest. */
const WRONG_OPENSSL = `#!/bin/sh
cat >/dev/null
echo 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *stdin'
`

async function sizes(log: string): Promise<number[]> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).map(Number)
}

/** What a tool hashed of the large file: the calls of a MiB or more (probes and manifests are small). */
const large = (all: number[]) => all.filter(n => n >= 1024 * 1024)
const sum = (all: number[]) => all.reduce((a, b) => a + b, 0)

let local: string
let data: Buffer

beforeAll(async () => {
  local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-hasher-'))
  data = seededBytes(SIZE, 13)
  await writeFile(path.join(local, 'big.bin'), data)
})
afterAll(async () => {
  if (local) await rm(local, { recursive: true, force: true })
})

test.each([
  ['OpenSSL, where it works there', 'counting', 'openssl'],
  ['sha256sum, where the instance has no OpenSSL', 'hidden', 'sha256sum'],
  ['sha256sum, where its OpenSSL prints a wrong digest', 'wrong', 'sha256sum']
] as const)('a large file is verified by %s', async (_what, openssl, expected) => {
  const logs = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-hasher-logs-'))
  const opensslLog = path.join(logs, 'openssl')
  const sumsLog = path.join(logs, 'sha256sum')
  const tools: Record<string, string> = { sha256sum: counting('sha256sum', sumsLog) }
  if (openssl === 'counting') tools.openssl = counting('openssl', opensslLog)
  if (openssl === 'wrong') tools.openssl = WRONG_OPENSSL
  const sshd = await startSshd({ tools, hideTools: openssl === 'hidden' ? /^openssl$/ : undefined })
  try {
    const remote = path.join(sshd.remoteRoot, 'site')
    const deploy = () => runBundledAction(actionInputs(sshd, local, remote, { sync: 'true' }))
    // Every byte of the file went through the expected tool, none through the other.
    const expectHashedBy = async () => {
      const byOpenssl = large(await sizes(opensslLog))
      const bySha256sum = large(await sizes(sumsLog))
      expect(sum(expected === 'openssl' ? byOpenssl : bySha256sum)).toBe(SIZE)
      expect(expected === 'openssl' ? bySha256sum : byOpenssl).toEqual([])
    }
    const first = await deploy()
    expect(first.errors).toEqual([])
    expect((await readFile(path.join(remote, 'big.bin'))).equals(data)).toBe(true)
    await expectHashedBy()
    // A sync that finds the file's stamp changed (touched on the instance) hashes it there, by the
    // same tool, and sends nothing.
    await rm(opensslLog, { force: true })
    await rm(sumsLog, { force: true })
    const now = new Date()
    await utimes(path.join(remote, 'big.bin'), now, now)
    const second = await deploy()
    expect(second.errors).toEqual([])
    expect(second.outputs['files-uploaded']).toBe('0')
    await expectHashedBy()
  } finally {
    await sshd.stop()
    await rm(logs, { recursive: true, force: true })
  }
})

test("a striped upload's extra connections hash as the first connection's probe found (a broken OpenSSL is never used on any)", async () => {
  const logs = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-hasher-logs-'))
  const sumsLog = path.join(logs, 'sha256sum')
  const sshd = await startSshd({
    tools: { sha256sum: counting('sha256sum', sumsLog), openssl: WRONG_OPENSSL }
  })
  try {
    const remote = path.join(sshd.remoteRoot, 'striped')
    const r = await runBundledAction(actionInputs(sshd, local, remote))
    expect(r.errors).toEqual([])
    const [result] = JSON.parse(r.outputs.results) as { connections: number }[]
    expect(result.connections).toBeGreaterThan(1)
    expect((await readFile(path.join(remote, 'big.bin'))).equals(data)).toBe(true)
    // Each range once, every one by sha256sum: none was sent again after a wrong digest.
    expect(sum(large(await sizes(sumsLog)))).toBe(SIZE)
  } finally {
    await sshd.stop()
    await rm(logs, { recursive: true, force: true })
  }
})
