import { errorMessage, UserError } from '../errors.js'
import type { DeployContext } from './context.js'
import type { DeployState } from './state.js'

/**
 * The runner of one target's deploy: walks an ordered list of steps (deploy/recipe.ts), merging
 * each step's output into the state. When a step fails, or the deploy is cancelled, it runs the
 * undos of the steps started, newest first (the failed one included: an undo must be safe after a
 * partial run), within a time budget, and fails with one line: what went wrong, then what each
 * undo did. A dry run walks the same list calling each step's `plan`, which only reads.
 */

export interface Step {
  readonly name: string
  /** Whether this deploy has the step at all (by its configuration). */
  applies(c: DeployContext): boolean
  run(c: DeployContext, s: Readonly<DeployState>): Promise<Partial<DeployState> | void>
  /** dry-run: what the step would do, reading only (no plan: the step is only described). */
  plan?(c: DeployContext, s: Readonly<DeployState>): Promise<Partial<DeployState> | void>
  /**
   * The step's work as a script fragment that can ride along at the end of an earlier step's exec
   * (one round trip fewer); undefined when it cannot. `done` is merged into the state once it ran.
   */
  fragment?(
    c: DeployContext,
    s: Readonly<DeployState>
  ): { script: string; done: Partial<DeployState> } | undefined
  /** Put back what the step changed; returns a clause for the error line (what it did), if any. */
  undo?(c: DeployContext, s: Readonly<DeployState>, cause: unknown): Promise<string | void>
}

/** How long undos may take in all after a cancellation (the runner kills a job soon after SIGINT). */
export const CANCEL_UNDO_MS = 5000

export async function runSteps(
  c: DeployContext,
  steps: readonly Step[],
  state: DeployState,
  dryRun = false
): Promise<DeployState> {
  const list = steps.filter(s => s.applies(c))
  const started: Step[] = []
  try {
    for (let i = 0; i < list.length; i++) {
      const step = list[i]
      if (c.absorbed.has(step)) continue
      c.throwIfCancelled()
      started.push(step)
      c.following = list.slice(i + 1)
      const out = dryRun ? await step.plan?.(c, state) : await step.run(c, state)
      if (out) Object.assign(state, out)
    }
    return state
  } catch (err) {
    if (dryRun) throw err
    const notes = await undoAll(c, started.reverse(), state, err)
    throw composeError(c, err, notes)
  }
}

async function undoAll(
  c: DeployContext,
  steps: Step[],
  state: DeployState,
  cause: unknown
): Promise<string[]> {
  const notes: string[] = []
  // After a cancellation the undos share a budget; after a failure each may take its usual time.
  const budget = c.cancelled ? AbortSignal.timeout(CANCEL_UNDO_MS) : undefined
  c.undoSignal = budget
  for (const step of steps) {
    if (!step.undo) continue
    if (budget?.aborted) {
      c.warn(`${c.label}: no time left to undo '${step.name}' after the cancellation`)
      continue
    }
    try {
      const undo = step.undo(c, state, cause)
      const note = budget ? await Promise.race([undo, aborted(budget)]) : await undo
      if (note) notes.push(note)
    } catch (err) {
      c.warn(`${c.label}: undoing '${step.name}' failed: ${errorMessage(err)}`)
    }
  }
  return notes
}

function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise(resolve => signal.addEventListener('abort', () => resolve(undefined), { once: true }))
}

function composeError(c: DeployContext, err: unknown, notes: string[]): Error {
  let msg = errorMessage(err).replace(/\.$/, '')
  if (c.cancelled && !/cancel/i.test(msg)) msg = `${msg} (cancelled)`
  if (notes.length === 0) return err instanceof Error ? err : new Error(msg)
  return new UserError(`${msg}; ${notes.join('; ')}.`)
}
