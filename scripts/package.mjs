// Builds the three bundles (the action's dist/index.js, its post step's dist/post/index.js and the
// CLI's dist/cli/index.js) with tsc then @vercel/ncc. `npm run package` writes dist/; the tests
// call it with another output folder (`node scripts/package.mjs <out> <scratch>`) so they never
// rewrite the committed dist/.
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.resolve(root, process.argv[2] ?? 'dist')
// tsc's output must sit inside the repository so that ncc resolves node_modules from it.
const scratch = path.resolve(root, process.argv[3] ?? 'build/action')
if (path.relative(root, scratch).startsWith('..')) throw new Error(`package: ${scratch} is outside ${root}`)
const bin = name => path.join(root, 'node_modules', '.bin', name)
const run = (file, args) => execFileSync(file, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })

// Emptied first: a chunk no longer produced would otherwise stay behind and be committed.
rmSync(out, { recursive: true, force: true })
rmSync(scratch, { recursive: true, force: true })
run(bin('tsc'), ['-p', 'tsconfig.json', '--outDir', scratch, '--sourceMap', 'false'])
const bundle = (entry, to) =>
  run(bin('ncc'), ['build', path.join(scratch, entry), '-o', to, '--license', 'licenses.txt'])
bundle('index.js', out)
bundle('cli.js', path.join(out, 'cli'))
bundle('post.js', path.join(out, 'post'))
