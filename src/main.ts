import * as core from '@actions/core'
import { watchCancellation } from './cancellation.js'
import { buildConfig, type DeployConfig } from './config.js'
import type { CleanupNote } from './deploy/types.js'
import { errorMessage } from './errors.js'
import type { Logger } from './log.js'
import { maskSecrets } from './report/command-output.js'
import { writeJobSummary } from './report/summary.js'
import { runDeploy } from './run-deploy.js'

const masked = new Set<string>()

/** The engine's logger, backed by the Actions runner's log commands. */
export const actionsLogger: Logger = {
  info: m => core.info(m),
  warning: m => core.warning(m),
  debug: m => core.debug(m),
  setSecret: v => {
    // Mask each line too: the runner matches secrets line by line, and keys span many lines.
    if (!v || masked.has(v)) return
    masked.add(v)
    core.setSecret(v)
    for (const line of v.split('\n')) if (line.trim().length >= 8) core.setSecret(line.trim())
  },
  mask: text => maskSecrets(text, masked),
  group: (name, fn) => core.group(name, fn)
}

/**
 * The targets whose lock this run holds, saved as the step's state each time it changes, so the
 * post step can clean up if this process is killed before its own undo runs.
 */
function lockKeeper() {
  const held = new Map<string, CleanupNote>()
  return (note: CleanupNote, isHeld: boolean) => {
    const key = `${note.target}\n${note.root}`
    if (isHeld) held.set(key, note)
    else held.delete(key)
    core.saveState('cleanup', held.size ? JSON.stringify([...held.values()]) : '')
  }
}

/** The action's entry point: inputs -> deploy -> outputs and job summary. Fails with one line. */
export async function run(): Promise<void> {
  const cancellation = watchCancellation(line => core.setFailed(line))
  try {
    // Mask secrets before anything can echo them, even if the rest of the inputs are invalid.
    actionsLogger.setSecret(core.getInput('ssh-private-key'))
    actionsLogger.setSecret(core.getInput('ssh-passphrase'))
    const config = buildConfig(name => core.getInput(name))
    if (!config.forwardOnly) {
      const failed = await deploy(config, cancellation.signal)
      if (failed || config.forward.length === 0) return
    }
    await forwardForLaterSteps()
  } catch (err) {
    core.setFailed(errorMessage(err))
  } finally {
    cancellation.dispose()
  }
}

/** The deploy, its outputs and summary; true when it failed (the step is then failed). */
async function deploy(config: DeployConfig, cancel: AbortSignal): Promise<boolean> {
  const { outputs, error, releasePath, plan } = await runDeploy(config, actionsLogger, {
    cancel,
    onLock: lockKeeper()
  })
  core.setOutput('bytes-transferred', outputs['bytes-transferred'])
  core.setOutput('duration-ms', outputs['duration-ms'])
  core.setOutput('bytes-per-second', outputs['bytes-per-second'])
  core.setOutput('files-uploaded', outputs['files-uploaded'])
  core.setOutput('files-skipped', outputs['files-skipped'])
  core.setOutput('files-total', outputs['files-total'])
  core.setOutput('mode', outputs.mode)
  core.setOutput('results', JSON.stringify(outputs.results))
  core.setOutput('command-output', outputs['command-output'])
  core.setOutput('release-path', releasePath ?? '')
  if (plan !== undefined) core.setOutput('plan', plan)
  await writeJobSummary(outputs, releasePath ?? config.remotePath, error).catch(err =>
    core.warning(`Could not write the job summary: ${errorMessage(err)}`)
  )
  if (error) core.setFailed(error)
  return !!error
}

/** `forward`: listeners for the rest of the job in a background process the post step stops. */
async function forwardForLaterSteps(): Promise<void> {
  const { startBackgroundForward } = await import('./forward/background.js')
  const bg = await startBackgroundForward(name => core.getInput(name))
  core.saveState('forward-pid', String(bg.pid))
  core.saveState('forward-dir', bg.dir)
  core.setOutput('forward-port', String(bg.forwards[0]?.localPort ?? ''))
  core.setOutput('forward-ports', JSON.stringify(bg.forwards))
  for (const f of bg.forwards) {
    core.info(`forward: 127.0.0.1:${f.localPort} -> ${f.host}:${f.port}, open until the end of the job`)
  }
}
