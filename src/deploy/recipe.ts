import type { DeployConfig } from '../config.js'
import type { Step } from './runner.js'
import { postCommand, preCommand } from './steps/commands.js'
import { connect } from './steps/connect.js'
import { lock, unlock } from './steps/lock.js'
import { prune } from './steps/prune.js'
import { publish } from './steps/publish.js'
import { record } from './steps/record.js'
import { snapshot } from './steps/snapshot.js'
import { stage } from './steps/stage.js'
import { verify } from './steps/verify.js'

/**
 * One target's deploy, as the ordered list of its steps (each in steps/, each skipping itself when
 * the configuration does not need it). The runner (runner.ts) walks it, and on a failure or a
 * cancellation undoes the steps done, newest first; a dry run walks the same list reading only.
 */
export function recipe(config: DeployConfig): Step[] {
  if (config.release === 'atomic' || config.rollback) {
    // A release is recorded after prune, which changes the stamps of files it shares by hard links.
    return [connect, lock, snapshot, preCommand, stage, verify, publish, postCommand, prune, record, unlock]
  }
  // In place, the manifest records the files as verified, before post-command can touch them.
  return [connect, lock, snapshot, preCommand, stage, verify, publish, record, postCommand, unlock]
}
