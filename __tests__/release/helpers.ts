import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ActionRun } from '../../sim/action-runner.js'
import type { Sshd } from '../../sim/sshd.js'

/** Inputs for the bundled action deploying `art` to one sshd over nlb. */
export function actionInputs(sshd: Sshd, art: string, remote: string, over: Record<string, string> = {}) {
  return {
    mode: 'nlb',
    targets: `${sshd.host}:${sshd.port}`,
    files: `${art}/**`,
    'remote-path': remote,
    user: sshd.user,
    'ssh-private-key': sshd.clientKey.privateKey,
    'host-key-fingerprint': sshd.hostKeyFingerprint,
    retries: '1',
    ...over
  }
}

/** A local tree of `count` small files under files/, each holding `content(i)`. */
export async function makeTree(
  count: number,
  content: (i: number) => string,
  root?: string
): Promise<string> {
  const dir = root ?? (await mkdtemp(path.join(os.tmpdir(), 'ec2-push-rel-')))
  await mkdir(path.join(dir, 'files'), { recursive: true })
  for (let i = 0; i < count; i++)
    await writeFile(path.join(dir, 'files', `f${String(i).padStart(4, '0')}.txt`), content(i))
  return dir
}

/** The log as a person would read it: no debug or mask commands. */
export function visibleLog(run: ActionRun): string {
  return run.stdout
    .split('\n')
    .filter(l => !l.startsWith('::debug::') && !l.startsWith('::add-mask::'))
    .join('\n')
}

export function results(run: ActionRun): Array<Record<string, unknown>> {
  return JSON.parse(run.outputs.results ?? '[]') as Array<Record<string, unknown>>
}
