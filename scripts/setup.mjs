// Runs first in `npm test`, `npm run demo`, `npm run sandbox` and `npm run bench` (not as pre-scripts:
// .npmrc sets ignore-scripts, which also skips pre/post scripts). On a fresh clone it
// installs the locked dependencies, so the README's two commands are the whole set-up. The sshd the
// tests and the sandbox need is found (or installed with apt when running as root) by sim/sshd.ts.
import { execSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'

const marker = 'node_modules/.package-lock.json'
const stale = !existsSync(marker) || statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs + 1000
if (stale) {
  console.error('setup: installing dependencies with npm ci')
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' })
}
