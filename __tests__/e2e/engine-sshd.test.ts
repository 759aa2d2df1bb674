import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import net from 'node:net'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { connectSsh, type SshConnection } from '../../src/ssh/connection.js'
import { Sftp } from '../../src/transfer/sftp.js'
import { execChannel, execScript, keepShellReady } from '../../src/ssh/exec.js'
import { UploadSession } from '../../src/transfer/upload.js'
import { streamRemoteSha256 } from '../../src/transfer/verify.js'
import { seededBytes } from '../helpers/artifacts.js'

/**
 * Engine parts against a real sshd: commands and scripts (exit status, stdin after the script, the
 * shell kept ready), the instance hashing a large file while it is written (the digest must be the
 * whole file's), and SFTP requests of one tick sharing SSH packets.
 */

let sshd: Sshd
let conn: SshConnection
const connectTo = (server: Sshd, label: string) =>
  connectSsh({
    label,
    stream: net.connect(server.port, server.host),
    login: { user: server.user, privateKey: server.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: server.hostKeyFingerprint }
  })
beforeAll(async () => {
  sshd = await startSshd()
  conn = await connectTo(sshd, 'test')
})
afterAll(async () => {
  conn?.close()
  await sshd?.stop()
})

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

test('a quick command reports its exit status, even when it arrives with the channel open', async () => {
  // On loopback the whole answer often comes in one read with the open's confirmation.
  const runs = await Promise.all(
    Array.from({ length: 20 }, (_, i) => execChannel(conn, `echo run ${i}; exit 3`))
  )
  runs.forEach((r, i) => expect(r).toMatchObject({ code: 3, stdout: `run ${i}\n` }))
})

test('scripts run on a shell kept ready, get the stdin that follows them, and report their exit', async () => {
  const own = await connectTo(sshd, 'ready')
  try {
    keepShellReady(own)
    // A script longer than a command line may be, with a here-document and quotes.
    const long = `cat <<'EOF' | wc -l\n${'a line with "quotes" and \\ and $HOME\n'.repeat(5000)}EOF\n`
    expect((await execScript(own, long)).stdout.trim()).toBe('5000')
    expect(
      await execScript(own, 'IFS= read -r a; read -r b; echo "$b/$a"; exit 4', { stdin: 'one\ntwo\n' })
    ).toMatchObject({ code: 4, stdout: 'two/one\n' })
    const many = await Promise.all(Array.from({ length: 5 }, (_, i) => execScript(own, `echo ${i}`)))
    expect(many.map(r => r.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n'])
  } finally {
    own.close()
  }
})

test.each([
  ['a size that is not a whole number of blocks', 9 * 1024 * 1024 + 12345],
  ['an exact number of blocks', 8 * 1024 * 1024]
])('a file written in pieces, announced as it grows, hashes to the whole file (%s)', async (_what, size) => {
  const data = seededBytes(size, size)
  const file = path.join(sshd.remoteRoot, `streamed-${size}`)
  await writeFile(file, '')
  const stream = streamRemoteSha256(conn, file)
  const piece = 1_500_000 // not aligned to the 64 KiB blocks
  for (let at = 0; at < size; at += piece) {
    await appendFile(file, data.subarray(at, Math.min(size, at + piece)))
    stream.advance(Math.min(size, at + piece))
  }
  expect(await stream.finish(size)).toBe(sha256(data))
})

test.each([
  ['sha256sum, where the instance has no openssl', /^openssl$/],
  ['openssl, where the instance has no sha256sum', /^sha256sum$/]
])('a streamed file is hashed by %s', async (_what, hideTools) => {
  const other = await startSshd({ hideTools })
  const own = await connectTo(other, 'tools')
  try {
    const data = seededBytes(3 * 1024 * 1024 + 5, 11)
    const file = path.join(other.remoteRoot, 'streamed')
    await writeFile(file, data)
    const stream = streamRemoteSha256(own, file)
    stream.advance(data.length)
    expect(await stream.finish(data.length)).toBe(sha256(data))
  } finally {
    own.close()
    await other.stop()
  }
})

test('the digest covers what was announced; a cancelled stream gives none', async () => {
  const data = seededBytes(6 * 1024 * 1024, 3)
  const file = path.join(sshd.remoteRoot, 'streamed-partial')
  await writeFile(file, data)
  const stream = streamRemoteSha256(conn, file)
  stream.advance(4 * 1024 * 1024)
  expect(await stream.finish(4 * 1024 * 1024)).toBe(sha256(data.subarray(0, 4 * 1024 * 1024)))
  const cancelled = streamRemoteSha256(conn, file)
  cancelled.advance(5 * 1024 * 1024)
  cancelled.cancel()
  expect(await cancelled.finish(data.length)).toBeUndefined()
})

test('requests made in one tick share SSH packets, and every answer still reaches its request', async () => {
  const raw = await conn.sftp()
  // Count the packets that really leave: the protocol under the one Sftp gathers into.
  const protocol = (raw as unknown as { _protocol: { channelData: (id: number, d: Buffer) => void } })
    ._protocol
  const sent: number[] = []
  const channelData = protocol.channelData.bind(protocol)
  protocol.channelData = (id, d) => {
    sent.push(d.length)
    channelData(id, d)
  }
  const sftp = new Sftp(raw)
  const dir = path.join(sshd.remoteRoot, 'coalesce')
  await sftp.mkdirp(dir)
  const names = Array.from({ length: 40 }, (_, i) => path.join(dir, `f${i}`))
  await Promise.all(names.map((n, i) => writeFile(n, 'x'.repeat(i))))
  sent.length = 0
  const sizes = await Promise.all(names.map(n => sftp.stat(n).then(st => st.size)))
  expect(sizes).toEqual(names.map((_, i) => i))
  expect(sent.length).toBeGreaterThan(0)
  expect(sent.length).toBeLessThanOrEqual(2) // 40 requests, one tick

  // A large write goes out in full packets, and what was gathered before it goes first.
  const big = seededBytes(200_000, 9)
  const handle = await sftp.open(path.join(dir, 'big'), 'w', 0o644)
  const stat = sftp.stat(names[3])
  await Promise.all([sftp.write(handle, big, big.length, 0), stat])
  await sftp.closeHandle(handle)
  expect((await stat).size).toBe(3)
  expect(sha256(await readFile(path.join(dir, 'big')))).toBe(sha256(big))
  sftp.end()
})

test('an SFTP channel one upload session ended is never handed to the next', async () => {
  const first = await conn.sftp()
  first.end() // as UploadSession.end() does; its close has not come back yet
  const second = await conn.sftp()
  expect(second).not.toBe(first)
  expect((await new Sftp(second).stat(sshd.remoteRoot)).isDirectory()).toBe(true)
})

test('a folder assumed to exist that does not is made, and the file still lands with its mode', async () => {
  const local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-assumed-'))
  try {
    await writeFile(path.join(local, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
    const remoteRoot = path.join(sshd.remoteRoot, 'assumed')
    const done: string[] = []
    const session = new UploadSession(conn, {
      remoteRoot,
      existingDirs: ['.', 'gone', 'gone/deeper'],
      concurrency: 4,
      verify: 'sha256',
      onFileDone: f => done.push(f.relativePath)
    })
    await session.start()
    const file = {
      localPath: path.join(local, 'run.sh'),
      relativePath: 'gone/deeper/run.sh',
      size: 10,
      mode: 0o755
    }
    expect(await session.uploadAll([file])).toEqual([])
    expect(done).toEqual(['gone/deeper/run.sh'])
    const st = await stat(path.join(remoteRoot, 'gone/deeper/run.sh'))
    expect(st.mode & 0o777).toBe(0o755)
  } finally {
    await rm(local, { recursive: true, force: true })
  }
})

test("a small file's write, mode check and close go out together, one round trip after its open", async () => {
  const local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-oneway-'))
  try {
    await writeFile(path.join(local, 'a.txt'), 'hello\n', { mode: 0o640 })
    // The real SFTP channel the session will use, with its calls and answers noted in order.
    const raw = await conn.sftp()
    const events: string[] = []
    const note = (name: 'write' | 'close' | 'fstat') => {
      const original = raw[name].bind(raw) as (...args: unknown[]) => void
      Object.assign(raw, {
        [name]: (...args: unknown[]) => {
          events.push(`${name} sent`)
          const cb = args.pop() as (...r: unknown[]) => void
          original(...args, (...r: unknown[]) => {
            events.push(`${name} answered`)
            cb(...r)
          })
        }
      })
    }
    note('write')
    note('fstat')
    note('close')
    const remoteRoot = path.join(sshd.remoteRoot, 'one-trip')
    const session = new UploadSession(conn, {
      // The SFTP path itself (small files otherwise go in a pack).
      packs: false,
      remoteRoot,
      concurrency: 1,
      verify: 'sha256',
      onFileDone: () => {}
    })
    await session.start()
    const file = { localPath: path.join(local, 'a.txt'), relativePath: 'a.txt', size: 6, mode: 0o640 }
    try {
      expect(await session.uploadAll([file])).toEqual([])
    } finally {
      for (const name of ['write', 'fstat', 'close'] as const)
        delete (raw as unknown as Record<string, unknown>)[name]
    }
    expect(events.slice(0, 3)).toEqual(['write sent', 'fstat sent', 'close sent'])
    expect(await readFile(path.join(remoteRoot, 'a.txt'), 'utf8')).toBe('hello\n')
    expect((await stat(path.join(remoteRoot, 'a.txt'))).mode & 0o777).toBe(0o640)
  } finally {
    await rm(local, { recursive: true, force: true })
  }
})

test.each([
  // Compared there, only the verdict comes back. Temporaries are named by the run, never by the
  // file, so even a name sha256sum -c would need escaped is compared there.
  ['compared on the instance', 'a.txt', /does not match$/],
  ['compared on the instance, a name with a backslash', 'back\\slash.txt', /does not match$/]
])('a file changed on the instance before its check is not published (%s)', async (_how, name, message) => {
  const local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-tamper-'))
  const remoteRoot = path.join(sshd.remoteRoot, `tamper-${name.length}`)
  try {
    await writeFile(path.join(local, name), 'the real content\n')
    await writeFile(path.join(local, 'good.txt'), 'untouched\n')
    // When the server answers a close, whatever temporary holds `name`'s content is overwritten there
    // (temporaries are named by the run, not by the file).
    const raw = await conn.sftp()
    const close = raw.close.bind(raw)
    Object.assign(raw, {
      close: (handle: Buffer, cb: (err?: Error | null) => void) =>
        close(handle, async err => {
          // Another temporary may be renamed between the listing and the read: skip it, and always
          // answer the close, or the upload would wait for it forever.
          for (const f of await readdir(remoteRoot).catch(() => [] as string[])) {
            const p = path.join(remoteRoot, f)
            if (!f.startsWith('.ec2-push-tmp.')) continue
            if ((await readFile(p, 'utf8').catch(() => '')) === 'the real content\n')
              await writeFile(p, 'changed on the instance\n', { flag: 'r+' }).catch(() => undefined)
          }
          cb(err)
        })
    })
    const done: string[] = []
    const session = new UploadSession(conn, {
      // The SFTP path itself (small files otherwise go in a pack).
      packs: false,
      remoteRoot,
      concurrency: 1,
      verify: 'sha256',
      onFileDone: f => done.push(f.relativePath)
    })
    await session.start()
    const file = async (n: string) => {
      const localPath = path.join(local, n)
      return { localPath, relativePath: n, size: (await stat(localPath)).size, mode: 0o644 }
    }
    let failed
    try {
      failed = await session.uploadAll([await file('good.txt'), await file(name)])
    } finally {
      delete (raw as unknown as Record<string, unknown>).close
    }
    expect(failed.map(f => [f.file.relativePath, f.permanent, message.test(f.message)])).toEqual([
      [name, false, true]
    ])
    expect(done).toEqual(['good.txt'])
    expect((await readdir(remoteRoot)).sort()).toEqual(['good.txt'])
  } finally {
    await rm(local, { recursive: true, force: true })
  }
})
