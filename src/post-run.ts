import * as core from '@actions/core'
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { errorMessage } from './errors.js'

/**
 * The action's post step (action.yml `post:`, run even when the job failed): stops the background
 * `forward` process the main step left (SIGTERM: it closes its listeners and terminates every
 * Session Manager session it started), shows its log, and removes its folder.
 */

/** How long the forward process may take to end its sessions before it is killed. */
const STOP_TIMEOUT_MS = 30_000

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function runPost(): Promise<void> {
  try {
    const pid = Number(core.getState('forward-pid'))
    const dir = core.getState('forward-dir')
    if (!pid) return
    if (alive(pid)) {
      process.kill(pid, 'SIGTERM')
      const deadline = Date.now() + STOP_TIMEOUT_MS
      while (alive(pid) && Date.now() < deadline) await new Promise(r => setTimeout(r, 100))
      if (alive(pid)) {
        core.warning(`the forward process ${pid} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killed it`)
        process.kill(pid, 'SIGKILL')
      }
    } else {
      core.warning(
        `the forward process ${pid} had already exited before the end of the job (see its log below)`
      )
    }
    if (dir) {
      const log = await readFile(path.join(dir, 'forward.log'), 'utf8').catch(() => '')
      if (log.trim()) await core.group('forward log', async () => core.info(log.trimEnd()))
      await rm(dir, { recursive: true, force: true })
    }
    core.info('forward: listeners closed and sessions ended')
  } catch (err) {
    core.warning(`post: ${errorMessage(err)}`)
  }
}
