import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { startSandbox } from './sandbox-env.js'

/**
 * `npm run sandbox -- --env-file FILE`: start the local sandbox in the foreground, write its
 * KEY=value lines to FILE once everything is ready, and stop everything on SIGINT/SIGTERM.
 */
// package.json runs `node build/sim/sandbox.js -- ...`: Node 20 would otherwise take `--env-file`
// after the script name as its own option (and exit when the file does not exist yet).
const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: { 'env-file': { type: 'string' }, verbose: { type: 'boolean' } }
})
const sandbox = await startSandbox({ verbose: values.verbose })
const lines = Object.entries(sandbox.env).map(([k, v]) => `${k}=${v}`)
if (values['env-file']) {
  await writeFile(values['env-file'], lines.join('\n') + '\n')
  process.stderr.write(`sandbox: ready; wrote ${lines.length} variables to ${values['env-file']}\n`)
} else {
  process.stdout.write(lines.join('\n') + '\n')
  process.stderr.write('sandbox: ready (pass --env-file FILE to write these to a file)\n')
}
process.stderr.write('sandbox: press Ctrl-C to stop\n')
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await sandbox.stop()
  process.stderr.write('sandbox: stopped\n')
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
