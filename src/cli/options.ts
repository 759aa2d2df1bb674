/**
 * The `deploy` flags: one per action input (src/inputs.ts, the one table of names, kinds, defaults
 * and descriptions), under the same name (`--remote-path` for the `remote-path` input), so the CLI
 * and the action share one schema through buildConfig(InputSource).
 */
import { INPUTS, type InputKind } from '../inputs.js'
import { AWS_ENV_FLAGS } from './aws-flags.js'

export type { InputKind }

/** The action's inputs, as flags. */
export const DEPLOY_INPUTS = INPUTS

/** Flags of `deploy` that are not action inputs. */
export const DEPLOY_EXTRA_FLAGS: ReadonlyArray<{ name: string; kind: InputKind }> = [
  // --profile, --region, --web-identity-token-file; the role's flags are action inputs.
  ...AWS_ENV_FLAGS.map(({ name, kind }) => ({ name, kind })),
  { name: 'ssh-private-key-file', kind: 'string' },
  { name: 'ssh-passphrase-file', kind: 'string' },
  { name: 'known-hosts-file', kind: 'string' },
  { name: 'json', kind: 'boolean' },
  { name: 'quiet', kind: 'boolean' },
  { name: 'debug', kind: 'boolean' }
]
