import { errorMessage, UserError } from '../errors.js'
import { deployCommand } from './deploy.js'
import { doctorCommand } from './doctor.js'
import { mainHelp } from './help.js'
import type { CliIo } from './io.js'
import { proxyCommand } from './proxy.js'
import { VERSION } from './version.js'

const COMMANDS: Record<string, (argv: readonly string[], io: CliIo) => Promise<number>> = {
  deploy: deployCommand,
  proxy: proxyCommand,
  doctor: doctorCommand
}

/**
 * The `ec2-push` command: dispatch to a subcommand and turn every failure into one line on stderr
 * (`ec2-push: <message>`) and exit status 1. Stack traces only with --debug, and never for UserError.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    io.out(mainHelp())
    return command ? 0 : 2
  }
  if (command === '-V' || command === '--version' || command === 'version') {
    io.out(VERSION)
    return 0
  }
  const run = COMMANDS[command]
  if (!run) {
    io.err(`ec2-push: unknown command '${command}': use deploy, proxy or doctor (see ec2-push --help)`)
    return 2
  }
  try {
    return await run(rest, io)
  } catch (err) {
    io.err(`ec2-push: ${errorMessage(err).replace(/\s*\n\s*/g, ' ')}`)
    if (!(err instanceof UserError) && rest.includes('--debug') && err instanceof Error && err.stack) {
      io.err(err.stack)
    }
    return 1
  }
}
