import { OUTPUTS, type InputSpec } from '../inputs.js'
import { AWS_ENV_FLAGS, ROLE_FLAGS } from './aws-flags.js'
import { DEPLOY_INPUTS } from './options.js'
import { VERSION } from './version.js'

export function mainHelp(): string {
  return `ec2-push ${VERSION}: deploy files to private EC2 instances over SFTP, through Session Manager (ssm),
an EC2 Instance Connect Endpoint (eice) or a TCP load balancer (nlb); no AWS CLI or plugin needed.

Usage:
  ec2-push deploy --targets i-0123... --files 'dist/**' --remote-path /srv/app [options]
  ec2-push proxy <instance-id> [port] [--mode ssm|eice|auto]   (an OpenSSH ProxyCommand)
  ec2-push doctor <instance-id> [--connect]                     (what each path needs, checked)
  ec2-push forward <target> [local-port:]host:port...         (local listeners to the instance or behind it)

Common options: -h/--help, -V/--version; every command that calls AWS takes the same credential flags
(--profile, --region, --role-to-assume with --web-identity-token-file, ...): see its --help.
Run 'ec2-push <command> --help' for a command's options.`
}

/** `text` wrapped at `width` columns, each line indented by `indent` spaces. */
export function wrap(text: string, indent: number, width = 100): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.map(l => ' '.repeat(indent) + l).join('\n')
}

/**
 * The AWS credential flags of proxy, forward and doctor: the same set as deploy's (src/cli/aws-flags.ts),
 * the role's with the action inputs' descriptions.
 */
function awsFlagsHelp(): string {
  const roles = ROLE_FLAGS.map(i => `${flagLine(i)}\n${wrap(i.description, 6)}`)
  return [
    'AWS credentials (without --role-to-assume, the SDK default chain: environment, --profile, SSO...):',
    ...AWS_ENV_FLAGS.map(f => `  ${f.help}`),
    ...roles
  ].join('\n')
}

/** One input as a flag: its name and value, whether it is required or repeatable, its default. */
function flagLine(i: InputSpec): string {
  const notes = [
    i.required ? 'required' : '',
    i.kind === 'list' ? 'repeatable' : '',
    i.default ? `default: ${i.default}` : ''
  ].filter(Boolean)
  const value = i.kind === 'boolean' ? '[=true|false]' : i.kind === 'list' ? ' ITEM' : ' VALUE'
  return `  --${i.name}${value}${notes.length ? `  (${notes.join('; ')})` : ''}`
}

export function deployHelp(): string {
  const inputs = DEPLOY_INPUTS.map(i => `${flagLine(i)}\n${wrap(i.description, 6)}`)
  const outputs = OUTPUTS.map(o => `  ${o.name}\n${wrap(o.description, 6)}`)
  return `Usage: ec2-push deploy --targets TARGET --files PATTERN --remote-path DIR [options]

Every input of the GitHub Action is a flag of the same name; a repeatable flag takes one item each time.
A boolean flag alone means true; --no-NAME means false.

Inputs:
${inputs.join('\n')}

More:
${AWS_ENV_FLAGS.map(f => `  ${f.help}`).join('\n')}
  --ssh-private-key-file PATH  read the private key from a file (keeps it out of the process list)
  --ssh-passphrase-file PATH   read the key's passphrase from a file's first line (or set
                               EC2_PUSH_SSH_PASSPHRASE); --ssh-passphrase shows it to every user in ps
  --known-hosts-file PATH      known_hosts lines to pin host keys (e.g. ~/.ssh/known_hosts)
  --json                       print the outputs as one JSON object instead of name=value lines
  --quiet                      only warnings and the error on stderr
  --debug                      debug lines on stderr

Without --ssh-private-key(-file), a one-time key is pushed with EC2 Instance Connect before each login.

Outputs (on stdout as name=value lines, or one JSON object with --json; logs and progress go to stderr):
${outputs.join('\n')}

Exit status 0 on success, 1 with 'ec2-push: <reason>' on stderr.`
}

export function proxyHelp(): string {
  return `Usage: ec2-push proxy <instance-id> [port] [--mode ssm|eice|auto] [options]

Opens a tunnel to the instance's sshd and copies it to stdin/stdout, for ssh's ProxyCommand:

  Host i-* mi-*
      ProxyCommand ec2-push proxy %h %p --mode ssm
      User ec2-user

(Without the installed command, write 'node /path/to/ec2-push/dist/cli/index.js' for 'ec2-push'.)

Options:
  --mode ssm|eice|auto     the path (default auto: eice when the VPC has an endpoint, else ssm)
  --push-key FILE.pub      push this public key with EC2 Instance Connect first (valid 60 s)
  --user NAME              the OS user the pushed key is for (use %r in ssh config)
  --eice-endpoint-id ID    the endpoint to use (default: the one in the instance's subnet, else VPC)
  --ssm-document NAME      AWS-StartSSHSession (default) or AWS-StartPortForwardingSession
  -v, --verbose / --debug  diagnostics on stderr (stdout carries only the tunnel's bytes)

${awsFlagsHelp()}

The Session Manager session is terminated when either side closes and on SIGINT, SIGTERM and SIGHUP.`
}

export function forwardHelp(): string {
  return `Usage: ec2-push forward <target> [local-port:]host:port... [options]

Listens on 127.0.0.1 and leads each connection to a port on the instance (localhost:PORT) or, over
Session Manager, to a host the instance reaches (AWS-StartPortForwardingSessionToRemoteHost), one
session per connection, until SIGINT, SIGTERM or SIGHUP; then every session is ended. A local port of
0, or none, picks a free one. One line per listener on stdout: 127.0.0.1:LOCAL -> host:port.

  ec2-push forward i-0123456789abcdef0 5432:db.internal:5432 --mode ssm
  ec2-push forward i-0123456789abcdef0 8080:localhost:80
  ec2-push forward nlb.example.com:22 8080:localhost:80 --mode nlb   (the NLB's listener on port 80)

Options:
  --mode ssm|eice|nlb|auto the path (default auto); eice reaches only ports 22 and 3389 (an AWS limit)
  --eice-endpoint-id ID    the endpoint to use (default: the one in the instance's subnet, else VPC)
  --ready-file FILE        once listening, write {pid, forwards: [{localPort, host, port}]} there (JSON)
  -v, --verbose / --debug  diagnostics on stderr

${awsFlagsHelp()}`
}

export function doctorHelp(): string {
  return `Usage: ec2-push doctor <instance-id | tag:Key=Value> [options]

Checks, with your credentials, what each path needs: the instance's state; Session Manager (managed
node? agent Online? version); the EC2 Instance Connect Endpoint (one in the VPC? its state and IP type?
do the security groups let port 22 through?); permissions (EC2 dry runs); and which path mode auto
would choose and why. Exit status 0 when some path works, 1 when none does.

Options:
  --port N                 the instance's SSH port (default 22)
  --eice-endpoint-id ID    check this endpoint instead of looking one up
  --connect                also open each usable path and read sshd's banner (starts a session)
  --json                   the report as JSON

${awsFlagsHelp()}`
}
