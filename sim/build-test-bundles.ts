// `npm test` runs this before jest: the bundles of the current src/ (sim/bundles.ts) are built once,
// up front, while no test competes for the CPU and no test's time limit runs. A run of chosen test
// files builds them on demand instead (useTestBundles).
import { testBundles } from './bundles.js'

const started = Date.now()
const { action } = await testBundles()
console.error(
  `test bundles: ${action.replace(/\/index\.js$/, '')} (${((Date.now() - started) / 1000).toFixed(1)} s)`
)
