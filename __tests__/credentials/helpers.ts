import type { AwsConfig } from '../../src/config.js'
import type { Logger } from '../../src/log.js'
import { capturingLogger } from '../helpers/logger.js'
import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { startCredentialSims, type CredentialSims } from '../../sim/credential-sims.js'

/** A logger that keeps raw lines (before any masking) and the values registered as secrets. */
export function captureLogger(): { logger: Logger; lines: string[]; secrets: string[] } {
  const logger = capturingLogger()
  return { logger, lines: logger.lines, secrets: logger.secrets }
}

export function awsConfig(overrides: Partial<AwsConfig> = {}): AwsConfig {
  return {
    region: 'us-east-1',
    roleSessionName: 'ec2-push',
    roleDurationSeconds: 3600,
    audience: 'sts.amazonaws.com',
    allowedAccountIds: [],
    ...overrides
  }
}

/** Every secret the sims handed out: OIDC tokens and all parts of every issued session key. */
export function issuedSecrets(sims: CredentialSims): string[] {
  return [
    ...sims.oidc.issued.map(t => t.token),
    ...sims.store.issued.flatMap(k => [k.accessKeyId, k.secretAccessKey, k.sessionToken!])
  ]
}

export interface SimEnv {
  server: AwsSimServer
  sims: CredentialSims
  restore(): Promise<void>
}

const ENV_KEYS = [
  'AWS_ENDPOINT_URL_STS',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'SANDBOX_ROLE_ARN',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE'
]

/** The AWS sim server with the credential sims, and process.env pointing the SDK and @actions/core at them. */
export async function startSimEnv(): Promise<SimEnv> {
  const saved = Object.fromEntries(ENV_KEYS.map(k => [k, process.env[k]]))
  const server = await startAwsSimServer()
  const sims = startCredentialSims(server)
  for (const k of ENV_KEYS) delete process.env[k]
  Object.assign(process.env, sims.env, {
    AWS_REGION: 'us-east-1',
    // Never let the default chain wander off loopback (IMDS) or into a developer's ~/.aws.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null'
  })
  return {
    server,
    sims,
    restore: async () => {
      await server.close()
      for (const k of ENV_KEYS) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    }
  }
}

/** Fetches a token from the sim endpoint the way a CLI-side getter could. */
export async function fetchSimToken(sims: CredentialSims, audience: string): Promise<string> {
  const res = await fetch(`${sims.oidc.requestUrl}&audience=${encodeURIComponent(audience)}`, {
    headers: { authorization: `Bearer ${sims.oidc.requestToken}` }
  })
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`)
  return ((await res.json()) as { value: string }).value
}
