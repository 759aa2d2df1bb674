import { readFile } from 'node:fs/promises'
import type { ResolveAwsOptions } from '../aws/credentials.js'
import { errorMessage, UserError } from '../errors.js'

/**
 * The standard AWS environment on a workstation: `--profile` (AWS_PROFILE), `--region`, and the
 * region of the profile in ~/.aws/config when neither the flag nor AWS_REGION gives one. Credentials
 * come from the SDK's default chain (environment, SSO, profiles, process, instance).
 */

export function applyProfile(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (profile === undefined) return
  if (!profile.trim()) throw new UserError('--profile needs a profile name (as in ~/.aws/config)')
  env.AWS_PROFILE = profile.trim()
}

/** The region: the flag, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's; '' when none. */
export async function resolveRegion(flag: string | undefined): Promise<string> {
  if (flag?.trim()) return flag.trim()
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION
  if (fromEnv) return fromEnv
  // A client's resolved config reads the profile's `region` the way the AWS CLI does. (Loaded here:
  // a deploy over nlb never needs the SDK.)
  const { STSClient } = await import('@aws-sdk/client-sts')
  const client = new STSClient({})
  try {
    return (await client.config.region()) || ''
  } catch {
    return ''
  } finally {
    client.destroy()
  }
}

export const NO_REGION =
  'no AWS region: pass --region, set AWS_REGION, or set region for the profile in ~/.aws/config'

/**
 * Where `--role-to-assume` gets its OIDC token outside the action: inside a GitHub Actions job the
 * job's token (as the action does), else a token file (`--web-identity-token-file` or
 * AWS_WEB_IDENTITY_TOKEN_FILE, as the SDK uses).
 */
export function idTokenOptions(
  roleToAssume: string | undefined,
  tokenFile: string | undefined
): ResolveAwsOptions {
  if (!roleToAssume) return {}
  if (!tokenFile && process.env.ACTIONS_ID_TOKEN_REQUEST_URL) return {}
  const file = tokenFile || process.env.AWS_WEB_IDENTITY_TOKEN_FILE
  if (!file) {
    throw new UserError(
      '--role-to-assume needs an OIDC token: outside a GitHub Actions job give --web-identity-token-file FILE, or leave --role-to-assume out and use your own credentials (--profile, or AWS_ACCESS_KEY_ID...)'
    )
  }
  return {
    getIdToken: async () => {
      try {
        return (await readFile(file, 'utf8')).trim()
      } catch (err) {
        throw new UserError(`cannot read the web identity token file '${file}': ${errorMessage(err)}`)
      }
    }
  }
}
