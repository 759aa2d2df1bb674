import type { Step } from '../runner.js'
import { readsInstance } from './first-read.js'

/** connect: the SSH connection through the tunnel (usually already on its way: runDeploy prewarms it). */
export const connect: Step = {
  name: 'connect',
  applies: () => true,
  async run(c) {
    await c.link.step('Connecting', async () => undefined, c.signal)
  },
  async plan(c) {
    if (readsInstance(c.config)) await c.link.step('Connecting', async () => undefined, c.signal)
  }
}
