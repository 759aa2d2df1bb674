import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import type { PlannedFile } from '../../src/files/plan.js'
import { connectSsh, type SshConnection } from '../../src/ssh/connection.js'
import { execChannel, execScript, keepShellReady } from '../../src/ssh/exec.js'
import { folderSurveyScript, parseFolderSurvey } from '../../src/remote/folder-survey.js'
import { foldersUnder, surveyFrom, surveyPaths } from '../../src/transfer/folders.js'
import { UploadSession } from '../../src/transfer/upload.js'
import { seededBytes } from '../helpers/artifacts.js'

/**
 * The round-trip counter (src/ssh/round-trips.ts) on a real sshd: what it counts is what a long
 * link multiplies, so every wait must be in it, and nothing sent together counted twice.
 */

let sshd: Sshd
const connectTo = (label: string) =>
  connectSsh({
    label,
    stream: net.connect(sshd.port, sshd.host),
    login: { user: sshd.user, privateKey: sshd.clientKey.privateKey },
    hostKey: { kind: 'fingerprint', fingerprint: sshd.hostKeyFingerprint }
  })
beforeAll(async () => {
  sshd = await startSshd()
})
afterAll(async () => {
  await sshd?.stop()
})

test('each script run on the long-lived shell is one round trip; a command on its own channel is three', async () => {
  const conn: SshConnection = await connectTo('shell')
  try {
    keepShellReady(conn)
    await execScript(conn, 'true')
    const before = conn.trips.total
    for (let i = 0; i < 3; i++) await execScript(conn, `echo ${i}`)
    expect(conn.trips.total - before).toBe(3)
    const mid = conn.trips.total
    // Open, exec request, then the command's answer to the end of its stdin (a command that does
    // not read stdin may answer within the exec request's turn, in the same read as its reply).
    await execChannel(conn, 'cat >/dev/null; echo once')
    expect(conn.trips.total - mid).toBe(3)
  } finally {
    conn.close()
  }
})

/** `count` small files spread over nested folders (a/b), ten to a folder. */
async function tree(dir: string, count: number): Promise<PlannedFile[]> {
  const files: PlannedFile[] = []
  for (let i = 0; i < count; i++) {
    const rel = `a${Math.floor(i / 100)}/b${Math.floor(i / 10) % 10}/f${i}.txt`
    if (i % 10 === 0) await mkdir(path.join(dir, path.dirname(rel)), { recursive: true })
    const data = seededBytes(1000 + (i % 7) * 300, i)
    await writeFile(path.join(dir, rel), data)
    files.push({ localPath: path.join(dir, rel), relativePath: rel, size: data.length, mode: 0o644 })
  }
  return files
}

test('an upload of small files waits for as many round trips for 480 files in 48 folders as for 24 in 3', async () => {
  const local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-trips-'))
  const conn = await connectTo('upload')
  try {
    const trips: Record<string, number> = {}
    for (const packs of [true, false]) {
      for (const count of [24, 480]) {
        const files = await tree(path.join(local, `t${count}`), count)
        // Into a new remote-path (every folder made), then again (every folder there).
        for (const round of ['new', 'again']) {
          const session = new UploadSession(conn, {
            remoteRoot: path.join(sshd.remoteRoot, 'trips', `n${count}`),
            concurrency: 512,
            verify: 'sha256',
            packs,
            onFileDone: () => {}
          })
          await session.start()
          const before = conn.trips.total
          expect(await session.uploadAll(files)).toEqual([])
          trips[`${packs ? 'pack' : 'sftp'} ${round} ${count}`] = conn.trips.total - before
          session.end()
        }
      }
    }
    expect(trips).toEqual({
      // The folders asked about; the pack, written, checked and renamed into place by its script,
      // with the missing folders' mkdir requests beside it (its script waits for them).
      'pack new 24': 2,
      'pack again 24': 2,
      'pack new 480': 2,
      'pack again 480': 2,
      // Over SFTP: the folders asked about; the missing ones made and the files opened; the writes
      // and closes; one verification; the renames.
      'sftp new 24': 5,
      'sftp again 24': 5,
      'sftp new 480': 5,
      'sftp again 480': 5
    })
    expect((await readdir(path.join(sshd.remoteRoot, 'trips', 'n480'), { recursive: true })).length).toBe(
      480 + 48 + 5
    )
  } finally {
    conn.close()
    await rm(local, { recursive: true, force: true })
  }
})

test('with its folders surveyed by a script beforehand (as in the lock exec), an upload of small files is one round trip', async () => {
  const local = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-trips-'))
  const conn = await connectTo('surveyed')
  try {
    const files = await tree(local, 240)
    const trips: Record<string, number> = {}
    for (const round of ['new', 'again']) {
      const remoteRoot = path.join(sshd.remoteRoot, 'surveyed')
      const rels = foldersUnder(files.map(f => f.relativePath))
      const paths = surveyPaths(remoteRoot, rels)
      const { answers } = parseFolderSurvey(
        (await execScript(conn, folderSurveyScript(paths, [...rels]))).stdout,
        paths.length
      )
      const session = new UploadSession(conn, {
        remoteRoot,
        survey: surveyFrom(remoteRoot, rels, answers!),
        concurrency: 512,
        verify: 'sha256',
        onFileDone: () => {}
      })
      await session.start()
      const before = conn.trips.total
      expect(await session.uploadAll(files)).toEqual([])
      trips[round] = conn.trips.total - before
      session.end()
    }
    // The pack, with the missing folders' mkdir requests beside it (none the second time), renamed
    // into place by its own script.
    expect(trips).toEqual({ new: 1, again: 1 })
    expect((await readdir(path.join(sshd.remoteRoot, 'surveyed'), { recursive: true })).length).toBe(
      240 + 24 + 3
    )
  } finally {
    conn.close()
    await rm(local, { recursive: true, force: true })
  }
})
