import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { startSshd, type Sshd } from '../sim/sshd.js'

/**
 * A bench section run on its own (`node build/bench/<section>.js ...`) when `moduleUrl` is the
 * script node was started with: a scratch folder (with a random file of `fileMib` MiB, if asked)
 * and a temporary sshd, the figures printed as JSON, everything removed afterwards.
 */
export function runStandalone(
  moduleUrl: string,
  name: string,
  section: (env: { sshd: Sshd; scratch: string; file: string }) => Promise<unknown>,
  fileMib = 0
): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return
  const main = async () => {
    const scratch = await mkdtemp(path.join(os.tmpdir(), `ec2-push-bench-${name}-`))
    const file = path.join(scratch, 'big.bin')
    if (fileMib > 0) await writeFile(file, randomBytes(fileMib * 1024 * 1024))
    const sshd = await startSshd()
    try {
      process.stdout.write(JSON.stringify(await section({ sshd, scratch, file }), null, 2) + '\n')
    } finally {
      await sshd.stop()
      await rm(scratch, { recursive: true, force: true })
    }
  }
  main().catch(err => {
    process.stderr.write(`[${name}] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  })
}
