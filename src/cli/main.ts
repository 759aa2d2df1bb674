import { errorMessage, UserError } from '../errors.js'
import { mainHelp } from './help.js'
import type { CliIo } from './io.js'
import { VERSION } from './version.js'

type Command = (argv: readonly string[], io: CliIo) => Promise<number>

/**
 * Each command is loaded when it is asked for: `proxy` and `doctor` always need the AWS SDK, a
 * deploy over nlb never does, and --help or --version need neither (start-up 0.5 s -> 0.2 s CPU).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  deploy: async () => (await import('./deploy.js')).deployCommand,
  proxy: async () => (await import('./proxy.js')).proxyCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  forward: async () => (await import('./forward.js')).forwardCommand
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
  const load = COMMANDS[command]
  if (!load) {
    io.err(
      `ec2-push: unknown command '${command}': use deploy, proxy, doctor or forward (see ec2-push --help)`
    )
    return 2
  }
  try {
    const run = await load()
    return await run(rest, io)
  } catch (err) {
    io.err(`ec2-push: ${errorMessage(err).replace(/\s*\n\s*/g, ' ')}`)
    if (!(err instanceof UserError) && rest.includes('--debug') && err instanceof Error && err.stack) {
      io.err(err.stack)
    }
    return 1
  }
}
