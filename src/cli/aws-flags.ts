import type { ResolveAwsOptions } from '../aws/credentials.js'
import { INPUTS, type InputKind, type InputSpec } from '../inputs.js'
import { last, type ParsedArgs } from './args.js'
import { applyProfile, idTokenOptions, resolveRegion } from './aws-env.js'

/**
 * The AWS credential flags, one set for every command that calls AWS (deploy, proxy, forward,
 * doctor): the workstation's environment (--profile, --region, --web-identity-token-file) and the
 * action's credential inputs (--role-to-assume ...), whose names, kinds and descriptions come from
 * the inputs table (src/inputs.ts) as deploy's other flags do.
 */

const ROLE_INPUT_NAMES = [
  'role-to-assume',
  'role-session-name',
  'role-duration-seconds',
  'audience',
  'allowed-account-ids'
] as const

/** The action's credential inputs, as flags. */
export const ROLE_FLAGS: readonly InputSpec[] = INPUTS.filter(i =>
  (ROLE_INPUT_NAMES as readonly string[]).includes(i.name)
)

/** Flags for the AWS environment of a workstation; not action inputs. */
export const AWS_ENV_FLAGS: ReadonlyArray<{ name: string; kind: InputKind; help: string }> = [
  {
    name: 'profile',
    kind: 'string',
    help: "--profile NAME               AWS profile (sets AWS_PROFILE) for the SDK's default chain"
  },
  {
    name: 'region',
    kind: 'string',
    help: "--region REGION              default AWS_REGION, else the profile's (deploy: as --aws-region)"
  },
  {
    name: 'web-identity-token-file',
    kind: 'string',
    help: '--web-identity-token-file F  OIDC token for --role-to-assume outside GitHub Actions'
  }
]

/** The flags of the commands that open one tunnel (proxy, forward) besides the AWS ones. */
export const TUNNEL_FLAGS: ReadonlyArray<{ name: string; kind: InputKind; short?: string }> = [
  { name: 'mode', kind: 'string' },
  { name: 'eice-endpoint-id', kind: 'string' },
  { name: 'verbose', kind: 'boolean', short: 'v' },
  { name: 'debug', kind: 'boolean' },
  { name: 'help', kind: 'boolean', short: 'h' }
]

/** Every AWS flag, for the commands whose other flags are not action inputs (proxy, forward, doctor). */
export const AWS_FLAGS: ReadonlyArray<{ name: string; kind: InputKind }> = [...AWS_ENV_FLAGS, ...ROLE_FLAGS]

/**
 * The AWS flags as action inputs (`aws-region` resolved from --region, the environment or the
 * profile, which --profile selects first) and the options that give --role-to-assume its token.
 */
export async function awsInputsOf(
  args: ParsedArgs,
  opts: { needRegion: boolean } = { needRegion: true }
): Promise<{ inputs: Record<string, string>; options: ResolveAwsOptions }> {
  applyProfile(last(args, 'profile'))
  const inputs: Record<string, string> = {
    'aws-region': opts.needRegion ? await resolveRegion(last(args, 'region')) : (last(args, 'region') ?? '')
  }
  for (const { name, kind } of ROLE_FLAGS) {
    const values = args.flags.get(name)
    if (values) inputs[name] = kind === 'list' ? values.join('\n') : values[values.length - 1]
  }
  return {
    inputs,
    options: idTokenOptions(inputs['role-to-assume'], last(args, 'web-identity-token-file'))
  }
}
