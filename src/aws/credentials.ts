import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { AwsConfig } from '../config.js'
import type { Logger } from '../log.js'

export interface AwsContext {
  region: string
  /** undefined means the SDK's default provider chain. */
  credentials?: AwsCredentialIdentityProvider
}

/** Region and credentials for every AWS client of one deploy. */
export async function resolveAwsContext(aws: AwsConfig, _logger: Logger): Promise<AwsContext> {
  const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || ''
  return { region, credentials: undefined }
}
