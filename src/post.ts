// The action's post step (action.yml `post:`, run even when the job failed): stops the background
// forward process (post-run.ts), and cleans up what a killed main step left (post-cleanup.ts). After a
// deploy that ended on its own the saved state is empty, and the clean-up's code is not even loaded.
import './bundle-shims.js'
import * as core from '@actions/core'
import { runPost } from './post-run.js'

if (core.getState('cleanup')) {
  const { postCleanup } = await import('./post-cleanup.js')
  await postCleanup()
}
await runPost()
