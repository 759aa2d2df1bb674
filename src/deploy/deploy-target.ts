import { errorMessage } from '../errors.js'
import { DeployContext } from './context.js'
import { recipe } from './recipe.js'
import { runSteps } from './runner.js'
import { initialState } from './state.js'
import type { TargetDeployOptions, TargetResult } from './types.js'
import { cleanupNote } from './steps/lock.js'

/**
 * Deploy the plan to one target: the recipe's steps, walked by the runner. Throws a one-line error
 * with the figures so far in its `result`.
 */
export async function deployToTarget(o: TargetDeployOptions): Promise<TargetResult> {
  const c = new DeployContext(o)
  c.prepareConnection()
  const started = Date.now()
  const state = initialState(o.plan.files)
  try {
    await runSteps(c, recipe(o.config), state)
    c.result.status = 'success'
  } catch (err) {
    c.result.error = errorMessage(err)
    if (c.cancelled) c.result.status = 'cancelled'
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { result: c.result })
  } finally {
    if (state.lock && state.lockReleased) o.onLock?.(cleanupNote(c), false)
    await c.closeLinks()
    c.result.durationMs = Date.now() - started
  }
  return c.result
}
