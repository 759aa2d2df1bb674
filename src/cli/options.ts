/**
 * The `deploy` flags: one per input of action.yml, under the same name (`--remote-path` for the
 * `remote-path` input), so the CLI and the action share one schema through buildConfig(InputSource).
 * A unit test checks this list against action.yml, so the two cannot drift apart.
 */

export type InputKind = 'string' | 'boolean' | 'list'

/** action.yml's inputs, in its order. `list` inputs may be given more than once (one item per flag). */
export const DEPLOY_INPUTS: ReadonlyArray<{ name: string; kind: InputKind }> = [
  { name: 'mode', kind: 'string' },
  { name: 'targets', kind: 'list' },
  { name: 'files', kind: 'list' },
  { name: 'base-dir', kind: 'string' },
  { name: 'include-hidden-files', kind: 'boolean' },
  { name: 'remote-path', kind: 'string' },
  { name: 'if-no-files-found', kind: 'string' },
  { name: 'user', kind: 'string' },
  { name: 'port', kind: 'string' },
  { name: 'ssh-private-key', kind: 'string' },
  { name: 'ssh-passphrase', kind: 'string' },
  { name: 'host-key-fingerprint', kind: 'string' },
  { name: 'known-hosts', kind: 'list' },
  { name: 'strict-host-key', kind: 'boolean' },
  { name: 'concurrency', kind: 'string' },
  { name: 'retries', kind: 'string' },
  { name: 'verify', kind: 'string' },
  { name: 'timeout-seconds', kind: 'string' },
  { name: 'aws-region', kind: 'string' },
  { name: 'role-to-assume', kind: 'string' },
  { name: 'role-session-name', kind: 'string' },
  { name: 'role-duration-seconds', kind: 'string' },
  { name: 'audience', kind: 'string' },
  { name: 'allowed-account-ids', kind: 'list' },
  { name: 'ssm-document', kind: 'string' },
  { name: 'ssm-frame-size', kind: 'string' },
  { name: 'ssm-window-bytes', kind: 'string' },
  { name: 'eice-endpoint-id', kind: 'string' },
  { name: 'eice-max-tunnels', kind: 'string' },
  { name: 'release', kind: 'string' },
  { name: 'keep-releases', kind: 'string' },
  { name: 'release-id', kind: 'string' },
  { name: 'rollback', kind: 'boolean' },
  { name: 'pre-command', kind: 'string' },
  { name: 'post-command', kind: 'string' },
  { name: 'command-timeout-seconds', kind: 'string' },
  { name: 'sync', kind: 'boolean' },
  { name: 'delete', kind: 'boolean' },
  { name: 'protect', kind: 'list' },
  { name: 'max-parallel-targets', kind: 'string' },
  { name: 'fail-fast', kind: 'boolean' },
  { name: 'dry-run', kind: 'boolean' }
]

/** Flags of `deploy` that are not action inputs. */
export const DEPLOY_EXTRA_FLAGS: ReadonlyArray<{ name: string; kind: InputKind }> = [
  { name: 'profile', kind: 'string' },
  { name: 'region', kind: 'string' },
  { name: 'ssh-private-key-file', kind: 'string' },
  { name: 'ssh-passphrase-file', kind: 'string' },
  { name: 'known-hosts-file', kind: 'string' },
  { name: 'web-identity-token-file', kind: 'string' },
  { name: 'json', kind: 'boolean' },
  { name: 'quiet', kind: 'boolean' },
  { name: 'debug', kind: 'boolean' }
]
