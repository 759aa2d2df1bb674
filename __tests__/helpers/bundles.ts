// Test files that run the bundled action or CLI call useTestBundles() first: the bundles of the
// current src/ are built (or found already built) in a hook of their own, whose time limit allows a
// build on a busy machine, instead of inside the first test that needs them. (npm test builds them
// before jest starts: sim/build-test-bundles.ts.)
import { testBundles } from '../../sim/bundles.js'

/** Make sure the bundles of the current src/ exist before this file's tests run (see sim/bundles.ts). */
export function useTestBundles(): void {
  beforeAll(() => testBundles(), 60 * 60_000)
}
