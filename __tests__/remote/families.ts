import { spawn } from 'node:child_process'
import {
  appendFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  statfs,
  symlink,
  writeFile
} from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { deleteScript, linkScript } from '../../src/remote/delete.js'
import { folderSurveyScript, parseFolderSurvey } from '../../src/remote/folder-survey.js'
import { freeSpaceScript, parseFreeSpace } from '../../src/remote/free-space.js'
import { surveyFrom, surveyPaths } from '../../src/transfer/folders.js'
import { listingScript, parseListing, relistScript } from '../../src/remote/listing.js'
import { isLinePath, type ManifestEntry } from '../../src/remote/manifest-lines.js'
import {
  carriedDigest,
  carriedInput,
  carriedWriteScript,
  LISTED,
  listedWriteScript,
  writeScript
} from '../../src/remote/manifest-write.js'
import { isTempName, lockPath, manifestPath, tempPathFor } from '../../src/remote/names.js'
import { parsePut, PUT_DONE, putFilesScript, type PutFile } from '../../src/remote/put-files.js'
import {
  manifestLine as s3ManifestLine,
  packLine as s3PackLine,
  renderS3ReleaseScript,
  type S3ReleaseScriptOptions,
  S3_RESULT_PREFIX,
  MANIFEST_HEADER as S3_MANIFEST_HEADER
} from '../../src/remote/s3-release.js'
import { readProbe, SHA256SUM_PROBE } from '../../src/remote/probes.js'
import {
  parseSnapshot,
  plannedInput,
  snapshotScript,
  type SnapshotRequest
} from '../../src/remote/sync-snapshot.js'
import {
  checkable,
  checkScript,
  hashUnderScript,
  indexedSha256Script,
  parseCheck,
  parseHashUnder,
  parseIndexedSha256,
  parseSha256sum,
  parseStreamHash,
  sha256sumScript,
  STREAM_BLOCK,
  streamHashScript
} from '../../src/remote/verify.js'
import { shellQuote } from '../../src/remote/quote.js'
import {
  PACK_BEGIN,
  packMarkerName,
  packScript,
  parsePack,
  waitForPacksScript
} from '../../src/remote/pack.js'
import { PackArchive, packMember, stagePack, type PackMember } from '../../src/transfer/pack.js'
import { releasesToPrune } from '../../src/deploy/steps/prune.js'
import { buildPack as buildS3Pack } from '../../src/delivery/s3/pack.js'
import { commandLine } from '../../src/deploy/user-command.js'
import { cleanupScript } from '../../src/remote/cleanup.js'
import {
  acquireLockScript,
  breakLockScript,
  fileInTheWayScript,
  parseFields,
  readLockAnswer,
  releaseLockScript,
  removeOwnTempsScript,
  sweepTempsScript
} from '../../src/remote/lock.js'
import {
  createReleaseScript,
  isGood,
  logReleaseScript,
  parseReleaseState,
  releaseStateScript,
  removeReleasesScript,
  rollbackTarget
} from '../../src/remote/releases.js'
import { switchCurrentScript } from '../../src/remote/switch.js'
import {
  parseRangeHash,
  RANGE_BLOCK,
  rangeHashRequest,
  rangeHashScript,
  rangeHashUnderScript,
  requestPath
} from '../../src/remote/range-hash.js'
import { checkSeal, formatManifest, manifestKey, parseManifest, sealLine } from '../../src/sync/manifest.js'
import { HOSTILE_DIR, HOSTILE_NAMES, INVALID_UTF8_NAMES, sha256, type Fixture } from './harness.js'

/**
 * One entry per family of instance-side scripts: which src/remote/ modules it covers and a run
 * that renders the family's scripts for a fixture full of hostile names, runs them with
 * `fx.run` and checks that their output parses back to the right answer. The harness adds the
 * rest to every entry: both shells, nothing changed outside the folder, no command from a name
 * run, shellcheck on every script run. A new family is one more entry here.
 */
export interface Family {
  name: string
  /** The src/remote/ files this family's scripts come from (a test checks every file is covered). */
  modules: string[]
  run(fx: Fixture): Promise<void>
}

const KEY = manifestKey('-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n')!

/** What the folder holds (valid UTF-8 names only), as the listing should report it. */
async function expectedEntries(fx: Fixture) {
  const out = new Map<string, { type: 'file' | 'link'; size: number; mode: number }>()
  for (const rel of [...fx.files.keys(), 'to-outside']) {
    const s = await lstat(path.join(fx.work, rel))
    out.set(rel, { type: s.isSymbolicLink() ? 'link' : 'file', size: s.size, mode: s.mode & 0o7777 })
  }
  return out
}

/** Every entry the fixture made, counted as bytes (the names that are not UTF-8 included). */
function entryCount(fx: Fixture): number {
  return fx.files.size + 1 + INVALID_UTF8_NAMES.length
}

async function leftTemporaries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(isTempName)
}

/**
 * OpenSSLs that do not hash: one that fails with error text on stdout (over two lines), one that
 * reads its input and prints a well-formed digest of something else (the empty input's).
 */
const BROKEN_OPENSSL = {
  openssl: "#!/bin/sh\necho 'openssl: error while loading shared libraries'\necho 'libcrypto.so.3'\nexit 1\n"
}
const WRONG_OPENSSL = {
  openssl: `#!/bin/sh\ncat >/dev/null\necho '${sha256('')} *stdin'\n`
}

function ok(r: { code: number | null; stderr: string }) {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
}

/** The machine's own tools, or BusyBox's tar and sha256sum in their place (as an instance may have them). */
const GNU = undefined
const BUSYBOX = Object.fromEntries(
  ['tar', 'sha256sum', 'mv', 'mkdir', 'rmdir', 'ls'].map(t => [t, `#!/bin/sh\nexec busybox ${t} "$@"\n`])
)

export const FAMILIES: Family[] = [
  {
    name: 'listing',
    modules: ['listing.ts'],
    async run(fx) {
      const want = await expectedEntries(fx)
      // With gzip and base64 the listing comes back compressed; without, as it is: both parse.
      for (const hide of [undefined, /^(gzip|base64)$/]) {
        const r = await fx.run(listingScript(fx.work), { hide })
        ok(r)
        expect(r.stdout.includes('--ec2-push-gzip-base64--')).toBe(!hide)
        const listing = parseListing(r.stdout)
        for (const [rel, e] of want) expect(listing.get(rel)).toMatchObject({ path: rel, ...e })
        expect(listing.size).toBe(entryCount(fx))
      }
      // A folder that is not there lists as empty.
      const none = await fx.run(listingScript(path.join(fx.work, 'absent $(touch PWNED-absent)')))
      ok(none)
      expect(parseListing(none.stdout).size).toBe(0)
      // By name, with either terminator (names with a line break only where records end in NUL).
      const rels = [...fx.files.keys()]
      const byName = await fx.run(relistScript(fx.work, rels))
      ok(byName)
      expect([...parseListing(byName.stdout).keys()].sort()).toEqual([...rels].sort())
      const lineRels = rels.filter(isLinePath)
      const byLine = await fx.run(relistScript(fx.work, lineRels, '\\n'))
      ok(byLine)
      expect(byLine.stdout.split('\n').filter(Boolean)).toHaveLength(lineRels.length)
    }
  },
  {
    name: 'sync snapshot',
    modules: ['sync-snapshot.ts'],
    async run(fx) {
      const want = await expectedEntries(fx)
      const changed = `it's "quoted".txt`
      const missing = 'never there $(touch PWNED-missing)'
      const files = [...fx.files.keys()].map(rel => ({
        relativePath: rel,
        size: want.get(rel)!.size,
        mode: want.get(rel)!.mode
      }))
      files.push({ relativePath: missing, size: 1, mode: 0o644 })
      const digests = new Map(files.map(f => [f.relativePath, sha256(fx.files.get(f.relativePath) ?? 'x')]))
      digests.set(changed, sha256('what the runner has now'))
      const request: SnapshotRequest = { files, digests }

      // No manifest yet: the instance compares, trusts nothing, names what is missing.
      const first = parseSnapshot((await fx.run(snapshotScript(fx.work, request))).stdout, request)
      expect(first.joined).toMatchObject({ seal: undefined, missing: new Set([missing]), sameCount: 0 })
      for (const [rel, e] of want) expect(first.listing.get(rel)).toMatchObject(e)
      expect(first.listing.size).toBe(entryCount(fx))

      // A sealed manifest of the folder as it is: every planned file found as recorded is counted,
      // not sent; what differs comes back with the manifest's word for it.
      const entries = new Map<string, ManifestEntry>()
      for (const [rel, e] of first.listing) {
        if (e.type === 'file' && fx.files.has(rel))
          entries.set(rel, { sha256: sha256(fx.files.get(rel)!), mode: e.mode, stamp: e.stamp })
      }
      const manifest = formatManifest(KEY, fx.work, entries)
      await mkdir(path.dirname(manifestPath(fx.work)), { recursive: true })
      await writeFile(manifestPath(fx.work), manifest)
      const second = parseSnapshot((await fx.run(snapshotScript(fx.work, request))).stdout, request)
      expect(checkSeal(second.joined!.seal, KEY, fx.work)).toEqual({})
      expect(second.joined!.missing).toEqual(new Set([missing]))
      const compared = [...second.joined!.compared]
      expect(compared).toHaveLength(files.filter(f => isLinePath(f.relativePath)).length)
      // Compared and the same: all but the changed one and the missing one.
      expect(second.joined!.sameCount).toBe(compared.length - 2)
      expect(second.listing.has(changed)).toBe(true)
      expect(second.joined!.manifestSha.get(changed)).toBe(sha256(fx.files.get(changed)!))
      expect(second.listing.has('run.sh')).toBe(false)
      // Names the line-based join cannot hold come back as listing records.
      for (const rel of fx.files.keys()) if (!isLinePath(rel)) expect(second.listing.has(rel)).toBe(true)

      // The same join with the planned files on stdin, read after the listing.
      const streamed = parseSnapshot(
        (await fx.run(snapshotScript(fx.work, 'stdin'), { stdin: plannedInput(request) })).stdout,
        request
      )
      expect(streamed.joined).toEqual(second.joined)
      expect(streamed.listing).toEqual(second.listing)

      // Without awk the listing and the manifest come back whole.
      const raw = parseSnapshot(
        (await fx.run(snapshotScript(fx.work, request), { hide: /^awk$|awk$/ })).stdout,
        request
      )
      expect(raw.joined).toBeUndefined()
      expect(raw.manifestText).toBe(manifest)
      expect(raw.listing.size).toBe(entryCount(fx))
      // No request: the listing only.
      expect(parseSnapshot((await fx.run(snapshotScript(fx.work))).stdout).listing.size).toBe(entryCount(fx))
    }
  },
  {
    name: 'manifest write',
    modules: ['manifest-write.ts'],
    async run(fx) {
      const digests = new Map([...fx.files].map(([rel, c]) => [rel, sha256(c)]))
      // Whole, from stdin.
      const text = formatManifest(KEY, fx.work, new Map())
      ok(await fx.run(writeScript(manifestPath(fx.work)), { stdin: text }))
      expect(await readFile(manifestPath(fx.work), 'utf8')).toBe(text)

      // Listed, then written from that listing in the same exec.
      let listed = ''
      const r = await fx.run(listedWriteScript(listingScript(fx.work), manifestPath(fx.work)), {
        reply: out => {
          const at = out.indexOf(LISTED)
          if (at < 0) return undefined
          const entries = new Map<string, ManifestEntry>()
          for (const [rel, e] of parseListing(out.slice(0, at))) {
            if (digests.has(rel) && e.type === 'file')
              entries.set(rel, { sha256: digests.get(rel)!, mode: e.mode, stamp: e.stamp })
          }
          listed = formatManifest(KEY, fx.work, entries)
          return listed
        }
      })
      ok(r)
      expect(await readFile(manifestPath(fx.work), 'utf8')).toBe(listed)
      const full = parseManifest(listed, KEY, fx.work).entries!
      expect(full.size).toBe([...fx.files.keys()].filter(isLinePath).length)

      // Put together on the instance: carried lines copied, uploaded ones made there, known ones as sent.
      const lineRels = [...fx.files.keys()].filter(isLinePath)
      const carried = lineRels.slice(0, 5)
      const uploaded = new Map(lineRels.slice(5, 10).map(rel => [rel, digests.get(rel)!]))
      const knownRel = lineRels[10]
      const known = new Map([[knownRel, { ...full.get(knownRel)!, sha256: 'b'.repeat(64) }]])
      for (const rel of uploaded.keys()) await writeFile(path.join(fx.work, rel), fx.files.get(rel)!) // new stamps
      const c = await fx.run(
        carriedWriteScript(manifestPath(fx.work), relistScript(fx.work, [...uploaded.keys()], '\\n')),
        {
          stdin: carriedInput({ carried, known, uploaded }),
          reply: out => {
            const digest = carriedDigest(out)
            return digest && `${sealLine(KEY, fx.work, digest)}\n`
          }
        }
      )
      ok(c)
      const written = parseManifest(await readFile(manifestPath(fx.work), 'utf8'), KEY, fx.work)
      expect(written.reason).toBeUndefined()
      const now = parseListing((await fx.run(relistScript(fx.work, [...uploaded.keys()]))).stdout)
      const wantEntries = new Map<string, ManifestEntry>([
        ...carried.map(rel => [rel, full.get(rel)!] as const),
        ...known,
        ...[...uploaded].map(
          ([rel, sha]) =>
            [rel, { sha256: sha, mode: now.get(rel)!.mode, stamp: now.get(rel)!.stamp }] as const
        )
      ])
      expect(written.entries).toEqual(wantEntries)
      expect(await leftTemporaries(fx.work)).toEqual([])
    }
  },
  {
    name: 'delete and reuse',
    modules: ['delete.ts'],
    async run(fx) {
      // Reuse first: every file hard-linked into a new folder by name.
      const to = path.join(fx.work, 'next release')
      await mkdir(to)
      const rels = [...fx.files.keys()]
      ok(await fx.run(linkScript(fx.work, to, rels)))
      for (const rel of rels) {
        const [a, b] = await Promise.all([stat(path.join(fx.work, rel)), stat(path.join(to, rel))])
        expect(b.ino).toBe(a.ino)
      }
      // Delete half the names, every file of the nested folder (so it goes too), the link to
      // outside/ (the link, not what it leads to) and paths that leave the folder (never rendered).
      const top = HOSTILE_NAMES.filter((_, i) => i % 2 === 0)
      const nested = HOSTILE_NAMES.map(n => `${HOSTILE_DIR}/${n}`)
      const victims = [
        ...top,
        ...nested,
        'to-outside',
        '../outside/keep.txt',
        '/etc/hostname',
        `${HOSTILE_DIR}/../run.sh`
      ]
      ok(await fx.run(deleteScript(fx.work, victims, [HOSTILE_DIR, '..'])))
      const left = (await readdir(fx.work, { encoding: 'buffer' })).map(b => b.toString('latin1'))
      for (const n of top) expect(left).not.toContain(Buffer.from(n).toString('latin1'))
      for (const n of HOSTILE_NAMES.filter((_, i) => i % 2 === 1)) {
        expect(await readFile(path.join(fx.work, n), 'utf8')).toBe(fx.files.get(n))
      }
      expect(left).not.toContain(HOSTILE_DIR)
      expect(left).not.toContain('to-outside')
      for (const bad of INVALID_UTF8_NAMES) expect(left).toContain(bad.toString('latin1'))
      expect(left).toContain('run.sh')
      expect((await readdir(to)).length).toBe(HOSTILE_NAMES.length + 2) // the reused copies stay
    }
  },
  {
    name: 'verification',
    modules: ['verify.ts'],
    async run(fx) {
      const abs = new Map([...fx.files].map(([rel, c]) => [path.join(fx.work, rel), sha256(c)]))
      // sha256sum's own listing, names with line breaks and backslashes escaped and read back.
      const listed = await fx.run(sha256sumScript([...abs.keys()]))
      ok(listed)
      expect(parseSha256sum(listed.stdout)).toEqual(abs)
      const under = await fx.run(hashUnderScript(fx.work, [...fx.files.keys()]))
      ok(under)
      expect(parseHashUnder(under.stdout)).toEqual(new Map([...fx.files].map(([rel, c]) => [rel, sha256(c)])))
      // One by one on stdin, by index, with GNU's and with BusyBox's sha256sum (BusyBox does not escape
      // a line break in its listing); a file that cannot be read is left out.
      const missing = path.join(fx.work, 'not\nthere')
      const each = [...abs.keys(), missing]
      for (const tools of [GNU, BUSYBOX]) {
        const r = await fx.run(indexedSha256Script(each), { tools })
        expect(parseIndexedSha256(r.stdout, each)).toEqual(abs)
      }
      // Compared there: only what differs (a file changed on the instance, one missing) is named.
      const expected = new Map([...abs].filter(([p]) => checkable(p)))
      const changed = path.join(fx.work, '$(touch PWNED-dollar)')
      await writeFile(changed, 'changed on the instance\n')
      const gone = path.join(fx.work, '-rf missing')
      expected.set(gone, sha256('x'))
      expect(parseCheck(await fx.run(checkScript(expected)), expected)).toEqual(new Set([changed, gone]))
      // Streamed: announced blocks read as the file grows, one digest at the end.
      const big = path.join(fx.work, 'x'.repeat(255))
      const data = Buffer.alloc(3 * STREAM_BLOCK + 123, 7)
      await writeFile(big, data)
      const streamed = await fx.run(streamHashScript(big), { via: 'command', stdin: '2\n2\n' })
      expect(parseStreamHash(streamed)).toBe(sha256(data))
      const viaSha256sum = await fx.run(streamHashScript(big), {
        via: 'command',
        stdin: '4\n',
        hide: /^openssl$/
      })
      expect(parseStreamHash(viaSha256sum)).toBe(sha256(data))
      // With the probe's choice; sha256sum chosen is used even where OpenSSL is there (and wrong).
      for (const hasher of ['openssl', 'sha256sum'] as const) {
        const chosen = await fx.run(streamHashScript(big, hasher), { via: 'command', stdin: '4\n' })
        expect(parseStreamHash(chosen)).toBe(sha256(data))
      }
      const notOpenssl = await fx.run(streamHashScript(big, 'sha256sum'), {
        via: 'command',
        stdin: '4\n',
        tools: WRONG_OPENSSL
      })
      expect(parseStreamHash(notOpenssl)).toBe(sha256(data))
      // An OpenSSL that is broken, answers wrongly or is gone since the probe never gives the file's
      // digest: the file is then hashed after its upload, or fails.
      for (const hasher of ['openssl', undefined] as const) {
        for (const tools of [BROKEN_OPENSSL, WRONG_OPENSSL]) {
          const r = await fx.run(streamHashScript(big, hasher), { via: 'command', stdin: '4\n', tools })
          expect(parseStreamHash(r)).toBe(tools === WRONG_OPENSSL ? sha256('') : undefined)
        }
      }
      const goneSince = await fx.run(streamHashScript(big, 'openssl'), {
        via: 'command',
        stdin: '4\n',
        hide: /^openssl$/
      })
      expect(parseStreamHash(goneSince)).toBeUndefined()
      expect(parseStreamHash({ code: 0, stdout: `${sha256(data)} *stdin\nmore\n` })).toBeUndefined()
      expect(parseStreamHash({ code: 1, stdout: `${sha256(data)} *stdin\n` })).toBeUndefined()
    }
  },
  {
    name: 'range hashes',
    modules: ['range-hash.ts'],
    async run(fx) {
      // Ranges of files with hostile names, asked for out of order, one script for all of them; the
      // last range of a file runs to its end; a file that is not there answers with no digest.
      const data = Buffer.alloc(3 * RANGE_BLOCK + 777)
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff
      const names = [
        HOSTILE_NAMES[1],
        'line\nbreak',
        'back\\slash',
        '%s%n',
        `it's "quoted".txt`,
        'ünïcødé-日本.txt'
      ]
      const stdin: string[] = []
      const want: { offset: number; path: string; digest: string }[] = []
      for (const [k, name] of names.entries()) {
        const file = path.join(fx.work, `range ${name}`)
        await writeFile(file, data.subarray(k))
        const size = data.length - k
        const asked = requestPath(file)
        for (const offset of [2 * RANGE_BLOCK, 0]) {
          const length = offset ? size - offset : 2 * RANGE_BLOCK
          stdin.push(rangeHashRequest(asked, offset, length))
          want.push({ offset, path: asked, digest: sha256(data.subarray(k + offset, k + offset + length)) })
        }
        // A file sent as one range: hashed whole.
        stdin.push(rangeHashRequest(asked, 0, size, true))
        want.push({ offset: 0, path: asked, digest: sha256(data.subarray(k)) })
      }
      const missing = requestPath(path.join(fx.work, 'not there'))
      stdin.push(rangeHashRequest(missing, 0, RANGE_BLOCK))
      want.push({ offset: 0, path: missing, digest: '' })
      // Chosen there (OpenSSL where it is on PATH), or as the probe chose; sha256sum chosen is used
      // even where OpenSSL is there (and wrong).
      const runs = [
        { hasher: undefined, hide: undefined },
        { hasher: undefined, hide: /^openssl$/ },
        { hasher: 'openssl', hide: undefined },
        { hasher: 'sha256sum', hide: undefined, tools: WRONG_OPENSSL }
      ] as const
      for (const { hasher, ...how } of runs) {
        const r = await fx.run(rangeHashScript(hasher), { via: 'command', stdin: stdin.join(''), ...how })
        ok(r)
        expect(r.stdout.split('\n').filter(Boolean).map(parseRangeHash)).toEqual(want)
      }
      // A broken OpenSSL, one that answers wrongly, one gone since the probe: every request still
      // answered on its own line, no range confirmed (a broken one's text never reaches the answer).
      const wrong = [
        { hasher: 'openssl', tools: BROKEN_OPENSSL, digest: '' },
        { hasher: undefined, tools: BROKEN_OPENSSL, digest: '' },
        { hasher: 'openssl', tools: WRONG_OPENSSL, digest: sha256('') },
        { hasher: 'openssl', hide: /^openssl$/, digest: '' }
      ] as const
      for (const { hasher, digest, ...how } of wrong) {
        const r = await fx.run(rangeHashScript(hasher), { via: 'command', stdin: stdin.join(''), ...how })
        expect(r.code).toBe(0) // (the shell may say on stderr that openssl is not found)
        expect(r.stdout.split('\n').filter(Boolean).map(parseRangeHash)).toEqual(
          want.map(w => ({ ...w, digest: w.digest && digest }))
        )
      }
      // Whole files under a folder, named from inside it (a sync's comparison).
      const under = names.map((name, k) => ({ asked: requestPath(`./range ${name}`), k }))
      const wholes = await fx.run(rangeHashUnderScript(fx.work, 'openssl'), {
        stdin: under.map(u => rangeHashRequest(u.asked, 0, 0, true)).join('')
      })
      ok(wholes)
      expect(wholes.stdout.split('\n').filter(Boolean).map(parseRangeHash)).toEqual(
        under.map(u => ({ offset: 0, path: u.asked, digest: sha256(data.subarray(u.k)) }))
      )
      // On the shell loop too, as the upload runs it.
      const looped = await fx.run(rangeHashScript('openssl'), { stdin: stdin.join('') })
      ok(looped)
      expect(looped.stdout.split('\n').filter(Boolean).map(parseRangeHash)).toEqual(want)
    }
  },
  {
    name: 'putting files from a script',
    modules: ['put-files.ts'],
    async run(fx) {
      const file = (rel: string, text: string, mode = 0o644, sha = sha256(text)): PutFile => ({
        rel,
        temp: tempPathFor(rel),
        mode,
        sha256: sha,
        data: Buffer.from(text)
      })
      const quoted = `it's "quoted".txt`
      const nested = `${HOSTILE_DIR}/${HOSTILE_NAMES[1]}`
      const good = [
        file(quoted, 'new content\n'),
        file(nested, ''),
        file(`new ${HOSTILE_NAMES[2]}`, '#!/bin/sh\n', 0o750),
        file('-rf', Buffer.from([0, 255, 10, 13]).toString('latin1'))
      ]
      good[3].data = Buffer.from([0, 255, 10, 13])
      good[3].sha256 = sha256(good[3].data)
      const all = await fx.run(putFilesScript(fx.work, good, 'echo afterwards'))
      ok(all)
      expect(all.stdout).toBe(`P 0\nP 1\nP 2\nP 3\n${PUT_DONE}\nafterwards\n`)
      expect(parsePut(all.stdout)).toEqual({ put: new Set([0, 1, 2, 3]), whole: true })
      expect(await readFile(path.join(fx.work, quoted), 'utf8')).toBe('new content\n')
      expect(await readFile(path.join(fx.work, nested), 'utf8')).toBe('')
      expect((await stat(path.join(fx.work, `new ${HOSTILE_NAMES[2]}`))).mode & 0o777).toBe(0o750)
      expect(await readFile(path.join(fx.work, '-rf'))).toEqual(good[3].data)

      // Left to the SFTP upload, with nothing written: a folder that is a link (to outside/), a
      // folder that is not there, a folder where the file goes, bytes that do not match.
      const before = await readFile(path.join(fx.work, 'run.sh'), 'utf8')
      const left = [
        file('to-outside/keep.txt', 'would go outside\n'),
        file('no such folder/x', 'x'),
        file(HOSTILE_DIR, 'over a folder'),
        file('run.sh', 'changed\n', 0o755, sha256('something else')),
        file(quoted, 'newer content\n')
      ]
      const some = await fx.run(putFilesScript(fx.work, left, 'echo afterwards'))
      ok(some)
      expect(some.stdout).toBe(`F 0\nF 1\nF 2\nF 3\nP 4\n${PUT_DONE}\n`)
      expect(parsePut(some.stdout)).toEqual({ put: new Set([4]), whole: true })
      expect(await readFile(path.join(fx.work, 'run.sh'), 'utf8')).toBe(before)
      expect((await stat(path.join(fx.work, HOSTILE_DIR))).isDirectory()).toBe(true)
      expect(await readFile(path.join(fx.work, quoted), 'utf8')).toBe('newer content\n')
      expect(await leftTemporaries(fx.work)).toEqual([])
      expect(await leftTemporaries(path.join(fx.work, HOSTILE_DIR))).toEqual([])
      expect(parsePut('P 0\n')).toEqual({ put: new Set([0]), whole: false })
    }
  },
  {
    name: 'packs of small files',
    modules: ['pack.ts'],
    async run(fx) {
      // Local files under every hostile name tar can carry exactly, at the top and in HOSTILE_DIR
      // (their names are in the archive and in the renames), in a folder reached through a link
      // inside the folder, and in a folder path long enough to need the header's prefix.
      const local = path.join(fx.root, 'local')
      const long = `${'b'.repeat(150)}/${'c'.repeat(60)}`
      await mkdir(path.join(fx.work, long), { recursive: true })
      await symlink(HOSTILE_DIR, path.join(fx.work, 'link-in'))
      const f = (rel: string, size = 1) => ({
        localPath: path.join(local, '0'),
        relativePath: rel,
        size,
        mode: 0o644
      })
      const carried = (name: string) => packMember(fx.work, f(name)) !== undefined
      // A name with a line break or a backslash (sha256sum -c), or too long for ustar, goes by SFTP.
      for (const name of HOSTILE_NAMES)
        expect({ name, packed: carried(name) }).toEqual({
          name,
          packed: !/[\\\n\r]/.test(name) && Buffer.byteLength(name) <= 100
        })
      const wanted: { rel: string; data: Buffer; mode: number }[] = []
      for (const name of HOSTILE_NAMES.filter(carried))
        for (const rel of [name, `${HOSTILE_DIR}/${name}`])
          wanted.push({ rel, data: Buffer.from(`packed ${JSON.stringify(rel)}\n`), mode: 0o644 })
      wanted.push(
        { rel: 'all.sh', data: Buffer.from('#!/bin/sh\n'), mode: 0o777 },
        { rel: 'group.sh', data: Buffer.from('#!/bin/sh\n'), mode: 0o750 },
        { rel: 'secret', data: Buffer.alloc(0), mode: 0o600 },
        { rel: 'link-in/through', data: Buffer.from([0, 255, 10, 13]), mode: 0o644 },
        { rel: `${long}/deep`, data: Buffer.alloc(5000, 1), mode: 0o640 }
      )
      const members: PackMember[] = []
      for (const [i, w] of wanted.entries()) {
        const localPath = path.join(local, String(i))
        await mkdir(local, { recursive: true })
        await writeFile(localPath, w.data)
        const m = packMember(fx.work, { localPath, relativePath: w.rel, size: w.data.length, mode: w.mode })
        expect({ rel: w.rel, packed: !!m }).toEqual({ rel: w.rel, packed: true })
        members.push(m!)
      }
      expect(packMember(fx.work, f(`line\nbreak/x`))).toBeUndefined()
      expect(packMember(fx.work, f(`back\\slash/x`))).toBeUndefined()
      expect(packMember(fx.work, f(`${'d'.repeat(200)}/x`))).toBeUndefined()
      expect(packMember(fx.work, f('big', 65537))).toBeUndefined()
      const folders = [HOSTILE_DIR, 'link-in', long]
      const stages = stagePack(fx.work, members)
      // A stage per folder (the top, HOSTILE_DIR, link-in, the long one), each member in its folder's.
      expect(stages).toHaveLength(4)
      for (const m of members)
        expect(path.posix.dirname(path.posix.dirname(m.rel))).toBe(path.posix.dirname(m.file.relativePath))
      const sums = '.ec2-push-tmp.test.sums'
      const archive = async () => {
        const chunks: Buffer[] = []
        for await (const c of new PackArchive(members, sums)) chunks.push(c as Buffer)
        return Buffer.concat(chunks)
      }
      const rels = members.map(m => m.rel)
      const marker = packMarkerName('test', 1)
      const script = packScript(fx.work, folders, stages, sums, marker)
      const temps = async () => [
        ...(await leftTemporaries(fx.work)),
        ...(await leftTemporaries(path.join(fx.work, HOSTILE_DIR))).map(t => `${HOSTILE_DIR}/${t}`),
        ...(await leftTemporaries(path.join(fx.work, long))).map(t => `${long}/${t}`)
      ]
      const viaTar = (rel: string) =>
        path.join(fx.work, rel.startsWith('link-in/') ? HOSTILE_DIR + rel.slice(7) : rel)
      const finals = () => Promise.all(wanted.map(w => readFile(viaTar(w.rel)).catch(() => undefined)))
      const removeTemps = async () => {
        for (const t of await temps()) await rm(path.join(fx.work, t), { recursive: true })
      }
      const bytes = await archive()
      const expected = new Map(members.map(m => [m.rel, m.sha256!]))

      // GNU tar and coreutils (sha256sum -c compares), then BusyBox's tar and sha256sum (listed and
      // compared by the script): every member checked and renamed into place, no stage left.
      for (const tools of [GNU, BUSYBOX]) {
        for (const w of wanted) await writeFile(viaTar(w.rel), 'old\n')
        const r = await fx.run(script, { stdin: bytes, tools })
        ok(r)
        expect(r.stdout.split('\n')[1]).toBe(tools === BUSYBOX ? 'L' : 'C 0')
        expect(parsePack(r, stages, expected)).toEqual({
          good: new Set(rels),
          published: new Set(rels),
          kept: new Set()
        })
        for (const w of wanted) {
          const st = await stat(viaTar(w.rel))
          expect({ rel: w.rel, mode: st.mode & 0o7777, data: await readFile(viaTar(w.rel)) }).toEqual({
            rel: w.rel,
            mode: w.mode,
            data: w.data
          })
        }
        expect(await temps()).toEqual([])
      }

      // A member whose bytes arrive changed: only it fails, nothing is renamed, every stage stays.
      const changed = Buffer.from(bytes)
      changed[512] ^= 1
      for (const tools of [GNU, BUSYBOX]) {
        const before = await finals()
        const r = await fx.run(script, { stdin: changed, tools })
        ok(r)
        expect(parsePack(r, stages, expected)).toEqual({
          good: new Set(rels.filter(rel => rel !== members[0].rel)),
          published: new Set(),
          kept: new Set([0, 1, 2, 3])
        })
        expect(await finals()).toEqual(before)
        expect(await temps()).toHaveLength(stages.length)
        await removeTemps()
      }

      // A folder where a member goes: that one stays in its stage, named; the rest are in place.
      await rm(viaTar('secret'))
      await mkdir(path.join(fx.work, 'secret', 'inside'), { recursive: true })
      const secret = members.find(m => m.file.relativePath === 'secret')!
      const top = stages.findIndex(st => st.dir === path.posix.dirname(secret.rel))
      for (const tools of [GNU, BUSYBOX]) {
        const r = await fx.run(script, { stdin: bytes, tools })
        ok(r)
        expect(parsePack(r, stages, expected)).toEqual({
          good: new Set(rels),
          published: new Set(rels.filter(rel => rel !== secret.rel)),
          kept: new Set([top])
        })
        expect(await readFile(path.join(fx.work, secret.rel))).toEqual(Buffer.alloc(0))
        expect((await stat(path.join(fx.work, 'secret'))).isDirectory()).toBe(true)
        expect(await temps()).toEqual([path.posix.dirname(secret.rel)])
        await removeTemps()
      }
      await rm(path.join(fx.work, 'secret'), { recursive: true })

      // Cut short, no tar, a folder gone: nothing stays, the script says it by its status.
      for (const tools of [GNU, BUSYBOX]) {
        const cut = await fx.run(script, { stdin: bytes.subarray(0, 512 * 9 + 100), tools })
        expect(cut.code).toBe(2)
        expect(parsePack(cut, stages, expected)).toBeUndefined()
        expect(await temps()).toEqual([])
      }
      const noTar = await fx.run(script, { stdin: bytes, hide: /^tar$/ })
      expect(noTar.code).toBe(2)
      expect(noTar.stdout).not.toContain(PACK_BEGIN)
      expect(await temps()).toEqual([])
      const before = await finals()
      const missing = await fx.run(packScript(fx.work, [...folders, 'gone'], stages, sums, marker), {
        stdin: bytes
      })
      expect(missing.code).toBe(4)
      expect(await finals()).toEqual(before)
      expect(await temps()).toEqual([])
      // A folder whose mkdir went out with the script, made while the script waits for it.
      const later = setTimeout(() => void mkdir(path.join(fx.work, 'late')), 150)
      const late = await fx.run(packScript(fx.work, [...folders, 'late'], stages, sums, marker), {
        stdin: bytes
      })
      clearTimeout(later)
      ok(late)
      expect(parsePack(late, stages, expected)?.published).toEqual(new Set(rels))
      await removeTemps()
      await rm(path.join(fx.work, 'late'), { recursive: true })
      // The root itself made while the script waits (a first deploy's): waited for, not `cd` failing
      // (1, which would take packs off the connection); its folders are not there, so 4.
      const root = path.join(fx.work, 'late-root')
      const rootLater = setTimeout(() => void mkdir(root), 150)
      const lateRoot = await fx.run(packScript(root, folders, stages, sums, marker), { stdin: bytes })
      clearTimeout(rootLater)
      expect(lateRoot.code).toBe(4)
      await rm(root, { recursive: true })

      // The clean-up after a killed deploy waits while a pack's process is alive (its marker found
      // anywhere under the folder), and not for a marker whose process is gone.
      const alive = spawn('sleep', ['0.5'])
      await writeFile(path.join(fx.work, HOSTILE_DIR, packMarkerName('test', 2)), `${alive.pid}\n`)
      await writeFile(path.join(fx.work, packMarkerName('test', 3)), '999999999\n')
      await writeFile(path.join(fx.work, packMarkerName('other', 4)), `${process.pid}\n`)
      const waited = await fx.run(waitForPacksScript(fx.work, 'test') + 'echo waited')
      expect(waited.stdout).toBe('waited\n')
      expect(alive.exitCode ?? alive.signalCode).not.toBeNull()
      await removeTemps()
    }
  },
  {
    name: 'probes',
    modules: ['probes.ts'],
    async run(fx) {
      // OpenSSL counts only where it prints abc's digest, and only beside a working sha256sum.
      const cases = [
        { want: { sha256sum: true, openssl: true } },
        { hide: /^openssl$/, want: { sha256sum: true, openssl: false } },
        { tools: BROKEN_OPENSSL, want: { sha256sum: true, openssl: false } },
        { tools: WRONG_OPENSSL, want: { sha256sum: true, openssl: false } },
        { hide: /^sha256sum$/, want: { sha256sum: false, openssl: false } }
      ]
      for (const { want, ...how } of cases)
        expect(readProbe(await fx.run(SHA256SUM_PROBE, { via: 'command', ...how }))).toEqual(want)
    }
  },
  {
    name: 'folder survey',
    modules: ['folder-survey.ts'],
    async run(fx) {
      let kinds: string[] = []
      const survey = async (root: string, rels: string[]) => {
        const paths = surveyPaths(root, rels)
        const r = await fx.run(`echo before\n${folderSurveyScript(paths, [...rels])}echo after\n`)
        ok(r)
        const { answers, rest } = parseFolderSurvey(r.stdout, paths.length)
        // The block comes out whole, whatever the answers.
        expect(rest).toBe('before\nafter\n')
        kinds = (answers ?? []).map(a => a.kind)
        return answers && surveyFrom(root, rels, answers)
      }
      const made = `${HOSTILE_DIR}/new ${HOSTILE_NAMES[1]}`
      const missing = `${made}/-rf`
      const rels = [HOSTILE_DIR, 'to-outside', missing, made]
      const work = await realpath(fx.work)
      for (const root of [fx.work, path.relative(path.join(fx.root, 'cwd'), fx.work)]) {
        const found = (await survey(root, rels))!
        expect(found.rootReal).toBe(work)
        expect(found.missingAbove).toEqual(new Set())
        // Where each folder leads, links followed (the link check judges it, as with SFTP's realpath).
        expect(found.resolved).toEqual(
          new Map([
            [HOSTILE_DIR, path.join(work, HOSTILE_DIR)],
            ['to-outside', await realpath(fx.outside)]
          ])
        )
        expect(found.missing).toEqual(new Set([missing, made]))
        // A folder with no link on the way comes back as '=', not its whole path; the link's target whole.
        expect(kinds.slice(-rels.length)).toEqual(['as-named', 'folder', 'missing', 'missing'])
      }
      // remote-path and the folders above it missing.
      const gone = (await survey(path.join(fx.work, 'new', 'deeper'), ['a']))!
      expect(gone.rootReal).toBeUndefined()
      expect(gone.missingAbove).toEqual(new Set([path.join(fx.work, 'new')]))
      expect(gone.missing).toEqual(new Set(['a']))
      // A line break in a folder's name is no matter while no link is on the way ('=')...
      await mkdir(path.join(fx.work, 'line\nbreak folder'))
      expect((await survey(fx.work, ['line\nbreak folder']))!.resolved).toEqual(
        new Map([['line\nbreak folder', path.join(work, 'line\nbreak folder')]])
      )
      // ...but a file or a dangling link where a folder goes, or a link to a path with a line break,
      // is left to SFTP.
      await symlink('nowhere', path.join(fx.work, 'dangling'))
      await symlink('line\nbreak folder', path.join(fx.work, 'to-line'))
      for (const rel of ['run.sh', HOSTILE_NAMES[1], 'dangling', 'to-line']) {
        expect(await survey(fx.work, [HOSTILE_DIR, rel])).toBeUndefined()
      }
    }
  },
  {
    name: 'free space',
    modules: ['free-space.ts'],
    async run(fx) {
      // A folder not made yet: its nearest existing ancestor's file system answers.
      const r = await fx.run(freeSpaceScript(path.join(fx.work, HOSTILE_NAMES[1], '-rf', 'deeper')))
      ok(r)
      const free = parseFreeSpace(r.stdout)!
      const fs = await statfs(fx.work)
      expect(free.totalBytes).toBeGreaterThan(0)
      expect(Math.abs(free.totalBytes - fs.blocks * fs.bsize)).toBeLessThanOrEqual(fs.bsize + 1024)
      expect(free.availableBytes).toBeGreaterThan(0)
    }
  },
  {
    // What Run Command runs for delivery: s3; here the presigned URLs are file:// URLs (curl reads both).
    name: 's3 release',
    modules: ['s3-release.ts'],
    async run(fx) {
      const src = path.join(fx.root, 's3 objects')
      await mkdir(src)
      // Every third file is an object of its own, the rest travel in the pack (tar, with pax
      // headers for the long names); 'copy' has the content of rels[1], which the pack holds once.
      const rels = [...fx.files.keys()].filter(isLinePath) // the manifest is tab- and line-separated
      const files = rels.map((rel, i) => ({
        relativePath: rel,
        localPath: path.join(src, String(i)),
        size: Buffer.byteLength(fx.files.get(rel)!),
        sha256: sha256(fx.files.get(rel)!),
        own: i % 3 === 0
      }))
      for (const f of files) await writeFile(f.localPath, fx.files.get(f.relativePath)!)
      const copy = { ...files[1], relativePath: 'copy', own: false }
      const pack = (await buildS3Pack([...files.filter(f => !f.own), copy]))!
      await writeFile(path.join(src, 'pack'), pack.body)
      const lines = [
        S3_MANIFEST_HEADER,
        s3PackLine({
          sha256: pack.sha256,
          size: pack.body.length,
          url: pathToFileURL(path.join(src, 'pack')).href
        })
      ]
      for (const f of [...files, copy]) {
        const at = pack.members.get(f.sha256)
        lines.push(
          s3ManifestLine({
            sha256: f.sha256,
            mode: f.relativePath === 'run.sh' ? 0o755 : 0o644,
            size: f.size,
            source: f.own
              ? pathToFileURL(f.localPath).href
              : `${at!.path === f.relativePath ? '=' : '+'}${at!.offset}`,
            path: f.relativePath
          })
        )
      }
      rels.push('copy')
      fx.files.set('copy', fx.files.get(files[1].relativePath)!)
      await writeFile(path.join(src, 'manifest'), lines.join('\n') + '\n')
      const site = path.join(fx.work, 'site $(touch PWNED-site)')
      const base = {
        remotePath: site,
        manifestUrl: pathToFileURL(path.join(src, 'manifest')).href,
        keepReleases: 2,
        sync: true,
        delete: false,
        protectRegex: '',
        dryRun: false,
        rollback: false,
        token: 'tok123',
        run: 'test#1',
        lockTtlSeconds: 60
      }
      const result = (out: string) => JSON.parse(out.slice(out.lastIndexOf(S3_RESULT_PREFIX)).trim())
      for (const id of ['r1', 'r2']) {
        // r2's post-command output comes back in the result line, JSON-escaped (and on stderr).
        const post = id === 'r2' ? "printf '%s\\n' 'say \"hi\" \\ ok'; printf 'a\\tb\\n'" : undefined
        const r = await fx.run(
          renderS3ReleaseScript({ ...base, release: 'atomic', releaseId: id, postCommand: post }),
          { via: 'command' }
        )
        expect({ code: r.code, result: result(r.stdout), stderr: r.stderr }).toMatchObject({
          code: 0,
          stderr: post ? 'say "hi" \\ ok\na\tb\n' : '',
          // r1 takes the whole pack (tar); r2 reuses every file of r1 (sync) and fetches nothing.
          result: {
            status: 'success',
            release: id,
            files: rels.length,
            fetched: id === 'r1' ? rels.length : 0,
            ...(post ? { output: 'say "hi" \\ ok\na\tb', outputCut: 0 } : { outputCut: -1 })
          }
        })
        for (const rel of rels)
          expect(await readFile(path.join(site, 'current', rel), 'utf8')).toBe(fx.files.get(rel))
        expect(await readdir(path.join(site, '.ec2-push'))).not.toContain('lock')
      }
      expect(await readFile(path.join(site, '.ec2-push', 'log'), 'utf8')).toMatch(
        /^r1\tlive\t[^\t]+\ttest#1\nr2\tlive\t[^\t]+\ttest#1\n$/
      )
      // Push's layout: push's release reader sees both as its own good releases, r2 live, nothing
      // of ec2-push's inside a release, and push's manifest path untouched (s3 keeps its own).
      const state = parseReleaseState((await fx.run(releaseStateScript(site))).stdout)
      expect(state).toMatchObject({
        current: { kind: 'release', id: 'r2' },
        releases: [
          { id: 'r1', seq: 1, outcome: 'live', old: false },
          { id: 'r2', seq: 2, outcome: 'live', old: false }
        ]
      })
      expect(state.releases.every(isGood)).toBe(true)
      expect(rollbackTarget(state, 'r2')?.id).toBe('r1')
      for (const id of ['r1', 'r2'])
        expect(await readdir(path.join(site, 'releases', id))).not.toContain('.ec2-push-release')
      expect(await readdir(path.join(site, '.ec2-push'))).not.toContain('manifest')
      // Push's prune removes an s3 release as its own: folder and marker.
      await fx.run(removeReleasesScript(site, ['r1']))
      expect(await readdir(path.join(site, 'releases'))).toEqual(['r2'])
      expect(await readdir(path.join(site, '.ec2-push', 'releases'))).toEqual(['r2'])
      // In place, with delete, on an instance without tar: each file of the pack by its own range.
      // A file left from before goes, the deployed ones are there.
      const plain = path.join(fx.work, 'plain')
      await mkdir(plain)
      await writeFile(path.join(plain, 'old *.txt'), 'old\n')
      const r = await fx.run(
        renderS3ReleaseScript({ ...base, remotePath: plain, release: 'none', releaseId: '', delete: true }),
        { via: 'command', hide: /^tar$/ }
      )
      expect({ code: r.code, result: result(r.stdout) }).toMatchObject({
        code: 0,
        result: { status: 'success', deleted: 1, fetched: rels.length }
      })
      for (const rel of rels) expect(await readFile(path.join(plain, rel), 'utf8')).toBe(fx.files.get(rel))
      expect(await readdir(plain)).not.toContain('old *.txt')

      // Release history as push keeps it. A release whose post-command fails is logged as failed
      // and current goes back; rollback skips it; keep-releases removes it first, log lines too.
      const hist = path.join(fx.work, 'history')
      const deploy = (id: string, over: Partial<S3ReleaseScriptOptions> = {}) =>
        fx.run(
          renderS3ReleaseScript({ ...base, remotePath: hist, release: 'atomic', releaseId: id, ...over }),
          { via: 'command' }
        )
      const stateOf = async () => parseReleaseState((await fx.run(releaseStateScript(hist))).stdout)
      expect((await deploy('h1', { keepReleases: 5 })).code).toBe(0)
      const bad = await deploy('h2', {
        keepReleases: 5,
        postCommand:
          'printf "%s|%s|%s\\n" "$EC2_PUSH_RELEASE_ID" "$(pwd)" "$EC2_PUSH_PREVIOUS_RELEASE_PATH" > ../post-env; exit 3'
      })
      expect({ code: bad.code, result: result(bad.stdout) }).toMatchObject({
        code: 1,
        result: { status: 'failure', rolledBack: true, release: 'h2', previous: 'h1' }
      })
      expect(await readFile(path.join(fx.work, 'post-env'), 'utf8')).toBe(
        `h2|${hist}|${path.join(hist, 'releases', 'h1')}\n`
      )
      expect(await readlink(path.join(hist, 'current'))).toBe('releases/h1')
      // h3 prunes the failed h2 (push's prune: failed ones first). A failed release older than
      // current, which rollback must skip, is made by hand: h4 marked failed in the log.
      expect((await deploy('h3', { keepReleases: 5 })).code).toBe(0)
      expect(await readdir(path.join(hist, 'releases'))).toEqual(['h1', 'h3'])
      expect((await deploy('h4', { keepReleases: 5 })).code).toBe(0)
      expect((await deploy('h5', { keepReleases: 5 })).code).toBe(0)
      await appendFile(path.join(hist, '.ec2-push', 'log'), 'h4\tfailed\t2026-01-01T00:00:00Z\tother#1\n')
      const three = await stateOf()
      expect(three.releases.map(r => [r.id, r.outcome])).toEqual([
        ['h1', 'live'],
        ['h3', 'live'],
        ['h4', 'failed'],
        ['h5', 'live']
      ])
      expect(rollbackTarget(three, 'h5')?.id).toBe('h3')
      const back = await deploy('', { rollback: true })
      expect({ code: back.code, result: result(back.stdout) }).toMatchObject({
        code: 0,
        result: { status: 'success', release: 'h3', previous: 'h5' }
      })
      expect(await readlink(path.join(hist, 'current'))).toBe('releases/h3')
      // keep-releases 2: what push's prune would remove, given the same history.
      const before = await stateOf()
      const doomed = releasesToPrune([...before.releases, { id: 'h6', seq: 6, outcome: 'live' }], 'h6', 2)
      expect(doomed).toEqual(['h4', 'h1', 'h3'])
      expect((await deploy('h6')).code).toBe(0)
      const after = await stateOf()
      expect(after.releases.map(r => [r.id, r.outcome])).toEqual([
        ['h5', 'rolled-back'],
        ['h6', 'live']
      ])
      expect(await readdir(path.join(hist, 'releases'))).toEqual(['h5', 'h6'])
      expect(await readdir(path.join(hist, '.ec2-push', 'releases'))).toEqual(['h5', 'h6'])
      const logIds = (await readFile(path.join(hist, '.ec2-push', 'log'), 'utf8'))
        .trim()
        .split('\n')
        .map(l => l.split('\t')[0])
      expect(new Set(logIds)).toEqual(new Set(['h5', 'h6']))
    }
  },
  {
    // Every other family's scripts run on this loop too (RunOptions.via 'boot').
    name: 'shell session',
    modules: ['shell-session.ts'],
    async run(fx) {
      // A script's exit, cd and variables stay in its subshell; a hostile name in them runs nothing.
      const dir = path.join(fx.work, HOSTILE_DIR)
      const r = await fx.run(`cd -- ${shellQuote(dir)} && v=$(pwd) && printf '%s\\n' "$v"; exit 3`)
      expect(r).toMatchObject({ code: 3, stdout: `${dir}\n` })
      // The stdin that follows the script, in frames, and none of it read past.
      const text = `${HOSTILE_NAMES.join('\n')}\n`
      expect(await fx.run('cat; echo end', { stdin: text })).toMatchObject({
        code: 0,
        stdout: `${text}end\n`
      })
    }
  },
  {
    name: 'releases, lock, switch, clean-up and user commands',
    modules: ['releases.ts', 'lock.ts', 'switch.ts', 'cleanup.ts'],
    async run(fx) {
      const root = fx.work
      const owner = {
        token: 'tok-1',
        repo: HOSTILE_NAMES[1],
        run: '7',
        attempt: '1',
        runner: 'r',
        host: 'h',
        pid: 42,
        ttl: 99
      }
      // The lock, with the releases read in the same exec; a second taker is told who holds it.
      const taken = await fx.run(acquireLockScript(root, owner, releaseStateScript(root)))
      ok(taken)
      expect(taken.stdout).toMatch(/^ec2-push-shell\nACQUIRED\n--ec2-push-then--\n$/)
      // With the verification probe asked on the way (and sha256sum there or not).
      // (sha256sum and OpenSSL there or not; a broken OpenSSL's lines of text leave the answer's shape.)
      // Without OpenSSL's question (no large file to hash), a working OpenSSL is not asked or counted.
      const both = { openssl: true }
      const sumsOnly = { openssl: false }
      const probes = [
        { asked: both, want: { sha256sum: true, openssl: true } },
        { asked: both, hide: /^sha256sum$/, want: { sha256sum: false, openssl: false } },
        { asked: both, hide: /^openssl$/, want: { sha256sum: true, openssl: false } },
        { asked: both, tools: BROKEN_OPENSSL, want: { sha256sum: true, openssl: false } },
        { asked: sumsOnly, want: { sha256sum: true, openssl: false } },
        { asked: sumsOnly, hide: /^sha256sum$/, want: { sha256sum: false, openssl: false } }
      ]
      for (const { asked, want, ...how } of probes) {
        const probed = await fx.run(acquireLockScript(root, { ...owner, token: 'tok-2' }, ':', asked), how)
        ok(probed)
        const answer = readLockAnswer(probed.stdout, asked)
        expect(answer).toMatchObject({ shell: true, probe: want })
        expect(answer.rest).toMatch(/^HELD\n/)
      }
      expect(acquireLockScript(root, owner, ':', sumsOnly)).not.toContain('openssl')
      expect(readLockAnswer('This service allows sftp connections only.\n', both)).toMatchObject({
        shell: false
      })
      const held = await fx.run(acquireLockScript(root, { ...owner, token: 'tok-2' }))
      ok(held)
      expect(held.stdout).toMatch(/^ec2-push-shell\nHELD\n/)
      expect(parseFields(held.stdout)).toMatchObject({
        path: lockPath(root),
        token: 'tok-1',
        run: '7',
        ttl: '99'
      })

      // Releases: made with their marker in .ec2-push/, never over a folder ec2-push did not make.
      for (const [id, seq] of [
        ['r1', 1],
        ['r2', 2]
      ] as const) {
        const made = await fx.run(createReleaseScript(root, id, seq, 'o/r#1.1'))
        ok(made)
        expect(made.stdout).toBe('CREATED\n')
        await writeFile(path.join(root, 'releases', id, 'index.html'), id)
      }
      await mkdir(path.join(root, 'releases', 'foreign'))
      expect((await fx.run(createReleaseScript(root, 'foreign', 3, 'x'))).stdout).toBe('FOREIGN\n')
      // current switches only to a complete release, and the log records it in the same exec.
      const incomplete = await fx.run(switchCurrentScript(root, 'r1', 'tok', { files: 5, bytes: 2 }))
      expect(incomplete.code).toBe(1)
      const switched = await fx.run(
        switchCurrentScript(root, 'r2', 'tok', { files: 1, bytes: 2 }) +
          logReleaseScript(root, [{ id: 'r2', outcome: 'live' }], HOSTILE_NAMES[2])
      )
      ok(switched)
      expect(switched.stdout).toBe('releases/r2\n')
      const state = await fx.run(releaseStateScript(root))
      ok(state)
      expect(parseReleaseState(state.stdout)).toMatchObject({
        releases: [
          { id: 'r1', seq: 1, outcome: undefined },
          { id: 'r2', seq: 2, outcome: 'live' }
        ],
        current: { kind: 'release', id: 'r2' }
      })
      ok(await fx.run(removeReleasesScript(root, ['r1', 'foreign', '$(touch PWNED-rel)', '../outside'])))
      expect((await readdir(path.join(root, 'releases'))).sort()).toEqual(['foreign', 'r2'])

      // Temporaries: the sweep keeps this run's, the undo removes them.
      // Packs' stage folders go whole, what is in them too (a hostile name and a link included).
      await writeFile(path.join(root, '.ec2-push-tmp.tok.1'), 'mine')
      await writeFile(path.join(root, '.ec2-push-tmp.dead.1'), 'orphan')
      for (const stage of ['.ec2-push-tmp.tok.s000001', '.ec2-push-tmp.dead.s000002']) {
        await mkdir(path.join(root, stage), { mode: 0o700 })
        await writeFile(path.join(root, stage, HOSTILE_NAMES[1]), 'staged')
        await symlink(fx.root, path.join(root, stage, 'out'))
      }
      ok(await fx.run(sweepTempsScript(root, 'tok')))
      expect((await leftTemporaries(root)).sort()).toEqual([
        '.ec2-push-tmp.tok.1',
        '.ec2-push-tmp.tok.s000001'
      ])
      ok(await fx.run(removeOwnTempsScript(root, 'tok')))
      expect(await leftTemporaries(root)).toEqual([])
      expect(await readdir(fx.root)).toContain(path.basename(fx.work))

      // The post step's clean-up acts only while the lock holds its token.
      ok(await fx.run(createReleaseScript(root, 'r3', 3, 'x')))
      await writeFile(path.join(root, '.ec2-push-tmp.tok.2'), 'mine')
      expect((await fx.run(cleanupScript(root, 'tok-2', 'tok', 'r3'))).stdout).toBe('')
      expect((await readdir(path.join(root, 'releases'))).sort()).toEqual(['foreign', 'r2', 'r3'])
      const cleaned = await fx.run(cleanupScript(root, 'tok-1', 'tok', 'r3'))
      ok(cleaned)
      expect(cleaned.stdout).toBe('CLEANED\n')
      expect((await readdir(path.join(root, 'releases'))).sort()).toEqual(['foreign', 'r2'])
      expect(await leftTemporaries(root)).toEqual([])
      expect((await readdir(path.join(root, '.ec2-push'))).includes('lock')).toBe(false)

      // Released only by its holder; broken only while it still holds the token seen.
      ok(await fx.run(acquireLockScript(root, owner)))
      ok(await fx.run(releaseLockScript(root, 'tok-2')))
      expect((await readdir(path.join(root, '.ec2-push'))).includes('lock')).toBe(true)
      ok(await fx.run(breakLockScript(lockPath(root), 'tok-3', 'tok-2')))
      expect((await readdir(path.join(root, '.ec2-push'))).includes('lock')).toBe(true)
      ok(await fx.run(breakLockScript(lockPath(root), 'tok-1', 'tok-2')))
      expect((await readdir(path.join(root, '.ec2-push'))).includes('lock')).toBe(false)
      ok(await fx.run(acquireLockScript(root, owner)))
      ok(await fx.run(releaseLockScript(root, 'tok-1')))
      expect((await readdir(path.join(root, '.ec2-push'))).includes('lock')).toBe(false)
      expect(manifestPath(root, 'r2')).toBe(path.join(root, '.ec2-push', 'manifests', 'r2'))

      // A lock that cannot be made under a file: the file in the way is named, whatever its bytes.
      const blocker = path.join(fx.work, `${HOSTILE_NAMES[1]}-file`)
      await writeFile(blocker, 'not a folder\n')
      const way = await fx.run(fileInTheWayScript(path.join(blocker, '.ec2-push', 'lock')))
      ok(way)
      expect(way.stdout).toBe(`${blocker}\n`)
      expect((await fx.run(fileInTheWayScript(path.join(fx.work, 'absent', 'x')))).stdout).toBe('')

      // The user's command sees the variables and runs in remote-path, whatever their bytes.
      const env = { EC2_PUSH_A: HOSTILE_NAMES[1], EC2_PUSH_B: `it's\nsplit "twice"` }
      const r = await fx.run(
        commandLine({
          command: 'printf "%s|%s|%s\\n" "$EC2_PUSH_A" "$EC2_PUSH_B" "$(pwd)"',
          cwd: fx.work,
          env,
          timeoutMs: 30000
        }),
        {
          via: 'command',
          lint: {
            disable: 'SC1003,SC2016',
            reason: 'the script inside sh -c is quoted twice; its quoted values hold quotes and $(...)'
          }
        }
      )
      expect(r).toMatchObject({ code: 0, stdout: `${env.EC2_PUSH_A}|${env.EC2_PUSH_B}|${fx.work}\n` })
    }
  }
]
