import { releaseDir } from '../../remote/names.js'
import type { DeployContext } from '../context.js'
import type { Step } from '../runner.js'
import type { DeployState } from '../state.js'

/**
 * pre-command and post-command: the user's shell on the instance, in remote-path, with the
 * release's paths exported. Neither has an undo: a command's effects are its own; a failing
 * post-command makes the runner undo the publish (an atomic release goes back).
 */
export const preCommand: Step = {
  name: 'pre-command',
  applies: c => !!c.config.preCommand,
  run: (c, s) => c.command('pre-command', env(c, s))
}

export const postCommand: Step = {
  name: 'post-command',
  applies: c => !!c.config.postCommand,
  run: (c, s) => c.command('post-command', env(c, s))
}

function env(c: DeployContext, s: Readonly<DeployState>): Record<string, string> {
  if (s.rollbackTo) return c.commandEnv(releaseDir(c.root, s.rollbackTo), s.previous)
  if (s.release) return c.commandEnv(s.release.dir, s.previous)
  return c.commandEnv(c.root)
}
