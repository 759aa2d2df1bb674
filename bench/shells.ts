import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { startSshd, type Sshd } from '../sim/sshd.js'
import { makeSmallTree } from './data.js'
import { engineInputs, runEngineJob, treeTotals, type Sample } from './direct.js'
import { runMeasured } from './measure.js'
import { sftpPut } from './openssh-sftp.js'
import { median } from './stats.js'

/**
 * The login shell's cost to a deploy (issue 16): sshd starts every command through the user's login
 * shell, and bash reads ~/.bashrc for each. The same small files go up with ec2-push (verify
 * sha256) and OpenSSH sftp to an sshd whose user's shell is bash with a stock ~/.bashrc, then to one
 * whose ~/.bashrc first sleeps (a version manager's init); both count their starts in a file, which
 * gives the shells each deploy opened.
 */

export interface ShellsCase {
  label: string
  /** `ssh host true` with this .bashrc minus with the stock one (medians). */
  startupS: number
  engine: Sample[]
  /** Login shells each engine run started. */
  shells: number[]
  sftp: Sample[]
}

export interface ShellsBenchFigures {
  files: number
  fileBytes: number
  sleepS: number
  cases: ShellsCase[]
}

const STOCK = '/etc/skel/.bashrc'

async function homeWith(dir: string, sleepS: number): Promise<string> {
  await mkdir(dir, { recursive: true })
  const rc = path.join(dir, '.bashrc')
  if (existsSync(STOCK)) await copyFile(STOCK, rc)
  else await writeFile(rc, '')
  const stock = await readFile(rc, 'utf8')
  const first = `echo started >> ${JSON.stringify(path.join(dir, 'starts'))}\n${sleepS ? `sleep ${sleepS}\n` : ''}`
  await writeFile(rc, first + stock)
  return dir
}

async function starts(home: string): Promise<number> {
  const text = await readFile(path.join(home, 'starts'), 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).length
}

async function sshTrue(sshd: Sshd): Promise<number> {
  const m = await runMeasured('ssh', [
    '-i',
    sshd.clientKey.privateKeyFile,
    '-p',
    String(sshd.port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
    `${sshd.user}@${sshd.host}`,
    'true'
  ])
  return m.wallS
}

export async function benchShells(o: {
  files: number
  fileBytes: number
  sleepS: number
  runs: number
  concurrency: string
  scratch: string
  log: (line: string) => void
}): Promise<ShellsBenchFigures> {
  const tree = path.join(o.scratch, 'shells', 'tree')
  await makeSmallTree(tree, o.files, o.fileBytes)
  const setups = [
    { label: 'stock .bashrc', sleepS: 0 },
    { label: `.bashrc that sleeps ${o.sleepS} s`, sleepS: o.sleepS }
  ]
  const servers: Array<{ label: string; sshd: Sshd; home: string }> = []
  try {
    for (const s of setups) {
      const home = await homeWith(path.join(o.scratch, 'shells', `home-${s.sleepS}`), s.sleepS)
      const sshd = await startSshd({ login: { shell: '/bin/bash', home } })
      servers.push({ label: s.label, sshd, home })
    }
    const cases: ShellsCase[] = servers.map(s => ({
      label: s.label,
      startupS: 0,
      engine: [],
      shells: [],
      sftp: []
    }))
    const ssh: number[][] = servers.map(() => [])
    for (let i = 0; i < 3; i++) for (const [k, s] of servers.entries()) ssh[k].push(await sshTrue(s.sshd))
    for (const [k, c] of cases.entries()) c.startupS = median(ssh[k]) - median(ssh[0])
    for (let run = 0; run < o.runs; run++) {
      // Alternate which login goes first: the first deploy of a run meets colder caches.
      const entries = [...servers.entries()]
      for (const [k, s] of run % 2 ? entries.reverse() : entries) {
        const c = cases[k]
        for (const tool of run % 2 ? ['sftp', 'engine'] : ['engine', 'sftp']) {
          const remote = path.join(s.sshd.remoteRoot, `shells-${tool}-${run}`)
          let sample: Sample
          if (tool === 'engine') {
            const before = await starts(s.home)
            sample = await runEngineJob(
              {
                dir: tree,
                keyFile: s.sshd.clientKey.privateKeyFile,
                inputs: {
                  mode: 'nlb',
                  targets: `${s.sshd.host}:${s.sshd.port}`,
                  ...engineInputs(s.sshd, remote, 'sha256', o.concurrency)
                }
              },
              o.files
            )
            c.shells.push((await starts(s.home)) - before)
            c.engine.push(sample)
          } else {
            const m = await sftpPut(s.sshd, tree, remote, true, path.join(o.scratch, 'shells', 'batch'))
            sample = { wallS: m.wallS, processWallS: m.wallS, cpuS: m.userS + m.sysS }
            if (m.code !== 0) sample.error = `sftp exited ${m.code}: ${m.stderr.trim().split('\n').pop()}`
            c.sftp.push(sample)
          }
          if (!sample.error) {
            const got = await treeTotals(remote).catch(() => ({ files: 0, bytes: 0 }))
            if (got.files !== o.files)
              sample.error = `on the instance: ${got.files} files, expected ${o.files}`
          }
          await rm(remote, { recursive: true, force: true })
          o.log(
            `shells ${s.label} run ${run + 1}/${o.runs} ${tool}: ${sample.error ? `FAILED: ${sample.error}` : `${sample.wallS.toFixed(2)} s`}` +
              (tool === 'engine' ? `, ${c.shells[c.shells.length - 1]} login shells` : '')
          )
        }
      }
    }
    return { files: o.files, fileBytes: o.fileBytes, sleepS: o.sleepS, cases }
  } finally {
    for (const s of servers) await s.sshd.stop().catch(() => {})
  }
}
