import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import type { AwsConfig } from '../config.js'
import { TransientError, UserError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { retry } from '../util/retry.js'
import { sdkProxyConfig } from '../net/proxy-agent.js'

/**
 * Region and credentials for every AWS client of one deploy. With `role-to-assume`: a GitHub OIDC token,
 * then STS AssumeRoleWithWebIdentity; the credentials stay in this process (never exported to later steps),
 * are masked, and are re-assumed with a fresh token shortly before they expire. Without it: the SDK's
 * default provider chain (environment, web identity file, profile, container, instance).
 */

export interface AwsContext {
  region: string
  /** undefined means the SDK's default provider chain. */
  credentials?: AwsCredentialIdentityProvider
  /** The account the credentials belong to, when it was looked up (assumed role, or allowed-account-ids). */
  accountId?: string
}

/** Returns a GitHub OIDC ID token for the audience (core.getIDToken in the action). */
export type IdTokenGetter = (audience: string) => Promise<string>

export interface ResolveAwsOptions {
  /** Where OIDC tokens come from; default @actions/core's getIDToken when ACTIONS_ID_TOKEN_REQUEST_URL is set. */
  getIdToken?: IdTokenGetter
  /** STS attempts on throttling and transient failures (default 6) and the first backoff (default 500 ms). */
  stsAttempts?: number
  stsBaseDelayMs?: number
  /** Re-assume this long before expiry (default 5 min, at most a quarter of the credentials' lifetime). */
  refreshMarginMs?: number
}

/** STS errors worth another try: throttling, the provider's key fetch failing, server side trouble. */
const RETRYABLE_STS_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'IDPCommunicationError',
  'InternalFailure',
  'ServiceUnavailable'
])

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/.+$/

export async function resolveAwsContext(
  aws: AwsConfig,
  logger: Logger,
  options: ResolveAwsOptions = {}
): Promise<AwsContext> {
  const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || ''
  if (!region) {
    throw new UserError('no AWS region: set the aws-region input (or AWS_REGION in the environment)')
  }
  if (!aws.roleToAssume) {
    if (!aws.allowedAccountIds.length) return { region, credentials: undefined }
    const accountId = await defaultChainAccount(region)
    checkAllowedAccount(aws, accountId, 'the credentials in the environment')
    return { region, credentials: undefined, accountId }
  }

  if (!ROLE_ARN.test(aws.roleToAssume)) {
    throw new UserError(
      `role-to-assume must be a role ARN such as arn:aws:iam::123456789012:role/deploy (got '${aws.roleToAssume}')`
    )
  }
  const getIdToken = options.getIdToken ?? actionsIdTokenGetter()
  const role = new AssumedRole(aws, region, logger, getIdToken, options)
  const first = await role.assume()
  logger.info(
    `Assumed ${aws.roleToAssume} (account ${first.accountId}); credentials valid until ${iso(first.expiration)}`
  )
  return { region, credentials: role.provider, accountId: first.accountId }
}

const defaultChains = new WeakMap<AwsContext, AwsCredentialIdentityProvider>()

/**
 * The credentials to sign with right now, for code that signs by itself (the EICE presigned URL):
 * the assumed role's (refreshed when due), or the SDK default chain's when `credentials` is undefined.
 */
export async function currentCredentials(ctx: AwsContext): Promise<AwsCredentialIdentity> {
  if (ctx.credentials) return ctx.credentials()
  let chain = defaultChains.get(ctx)
  if (!chain) {
    // A client's resolved config holds the SDK's memoized default provider chain.
    const provider = new STSClient({ region: ctx.region, ...sdkProxyConfig() }).config.credentials
    chain = () => provider()
    defaultChains.set(ctx, chain)
  }
  return chain()
}

/** core.getIDToken, or a UserError when the job may not request tokens. */
function actionsIdTokenGetter(): IdTokenGetter {
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new UserError(
      'role-to-assume needs a GitHub OIDC token but this job may not request one (ACTIONS_ID_TOKEN_REQUEST_URL is not set): add \'permissions: id-token: write\' to the job, i.e. the two lines "permissions:" and "  id-token: write" (a permissions block replaces the defaults, so also list e.g. "contents: read" if the job checks out code)'
    )
  }
  return async audience => {
    // Loaded only here, so the engine stays usable from the CLI without the Actions runtime.
    const core = await import('@actions/core')
    return core.getIDToken(audience)
  }
}

interface Assumed extends AwsCredentialIdentity {
  expiration: Date
  accountId: string
}

/** One role session, re-assumed (fresh OIDC token + AssumeRoleWithWebIdentity) when it nears expiry. */
class AssumedRole {
  private current?: Assumed
  private obtainedAt = 0
  private pending?: Promise<Assumed>
  private readonly sts: STSClient

  constructor(
    private readonly aws: AwsConfig,
    region: string,
    private readonly logger: Logger,
    private readonly getIdToken: IdTokenGetter,
    private readonly options: ResolveAwsOptions
  ) {
    // Our own retry loop below decides about throttling, so the client makes one attempt per call.
    this.sts = new STSClient({ region, maxAttempts: 1, ...sdkProxyConfig() })
  }

  /** The provider handed to every AWS client; the SDK calls it again as expiry approaches. */
  readonly provider: AwsCredentialIdentityProvider = async () => {
    const current = this.current
    if (current && !this.needsRefresh(current)) return current
    try {
      this.pending ??= this.assume().finally(() => (this.pending = undefined))
      const fresh = await this.pending
      this.logger.info(
        `Refreshed the credentials of ${this.aws.roleToAssume}; valid until ${iso(fresh.expiration)}`
      )
      return fresh
    } catch (err) {
      // Keep going on the old credentials while they last; the next call tries again.
      if (current && Date.now() < current.expiration.getTime()) {
        this.logger.warning(
          `could not refresh the AWS credentials yet (${errorMessage(err)}); using the current ones`
        )
        return current
      }
      throw err
    }
  }

  private needsRefresh(c: Assumed): boolean {
    const lifetime = c.expiration.getTime() - this.obtainedAt
    const margin = Math.min(this.options.refreshMarginMs ?? 5 * 60_000, lifetime / 4)
    return Date.now() >= c.expiration.getTime() - margin
  }

  async assume(): Promise<Assumed> {
    const { aws, logger } = this
    const audience = aws.audience
    let token: string
    try {
      token = await this.getIdToken(audience)
    } catch (err) {
      throw new TransientError(
        `could not get a GitHub OIDC token for audience '${audience}': ${oneLine(err)}`,
        { cause: err }
      )
    }
    logger.setSecret(token)
    const claims = tokenClaims(token)
    logger.debug(`OIDC token: sub '${claims.sub}', aud '${claims.aud}'`)

    const obtainedAt = Date.now()
    const out = await retry(
      () =>
        this.sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: aws.roleToAssume,
            RoleSessionName: aws.roleSessionName,
            WebIdentityToken: token,
            DurationSeconds: aws.roleDurationSeconds
          })
        ),
      {
        attempts: this.options.stsAttempts ?? 6,
        baseDelayMs: this.options.stsBaseDelayMs ?? 500,
        maxDelayMs: 10_000,
        shouldRetry: isRetryableStsError,
        onRetry: (err, attempt, delay) =>
          logger.info(
            `STS AssumeRoleWithWebIdentity: ${stsErrorCode(err)}; attempt ${attempt + 1} in ${delay} ms`
          )
      }
    ).catch(err => {
      throw explainStsError(err, aws, claims)
    })

    const c = out.Credentials
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new TransientError('STS AssumeRoleWithWebIdentity returned no credentials')
    }
    for (const secret of [c.AccessKeyId, c.SecretAccessKey, c.SessionToken]) logger.setSecret(secret)
    const accountId =
      /^arn:[^:]+:sts::(\d{12}):/.exec(out.AssumedRoleUser?.Arn ?? '')?.[1] ??
      ROLE_ARN.exec(aws.roleToAssume!)![1]
    checkAllowedAccount(aws, accountId, `the credentials of ${aws.roleToAssume}`)
    const assumed: Assumed = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      accountId
    }
    this.current = assumed
    this.obtainedAt = obtainedAt
    return assumed
  }
}

/** `sub` and `aud` from the token's payload, for error messages (the token itself is never shown). */
function tokenClaims(token: string): { sub: string; aud: string } {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    const aud = Array.isArray(payload.aud) ? payload.aud.join(',') : payload.aud
    return { sub: String(payload.sub ?? '?'), aud: String(aud ?? '?') }
  } catch {
    return { sub: '?', aud: '?' }
  }
}

function stsErrorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string }
  return e?.Code ?? e?.name ?? 'Error'
}

function isRetryableStsError(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string }
  if (RETRYABLE_STS_CODES.has(stsErrorCode(err))) return true
  if (e?.$retryable) return true
  const status = e?.$metadata?.httpStatusCode
  if (status !== undefined) return status >= 500
  // No HTTP answer at all: connection refused/reset, timeouts.
  return typeof e?.code === 'string' || stsErrorCode(err) === 'TimeoutError'
}

function explainStsError(err: unknown, aws: AwsConfig, claims: { sub: string; aud: string }): Error {
  const code = stsErrorCode(err)
  const message = oneLine(err)
  const presented = `token sub '${claims.sub}', aud '${claims.aud}'`
  switch (code) {
    case 'AccessDenied':
      return new UserError(
        `STS refused to let this workflow assume ${aws.roleToAssume} (AccessDenied; ${presented}): the role's trust policy must allow this sub (condition token.actions.githubusercontent.com:sub) and aud`
      )
    case 'InvalidIdentityToken':
      return new UserError(
        `STS rejected the OIDC token for ${aws.roleToAssume}: ${message} (${presented}); check that the account has an IAM OIDC provider for token.actions.githubusercontent.com whose audiences include the 'audience' input (default sts.amazonaws.com)`
      )
    case 'ExpiredTokenException':
      return new UserError(
        `STS says the OIDC token had expired when assuming ${aws.roleToAssume}: ${message}; check the runner's clock`
      )
    case 'IDPRejectedClaim':
    case 'ValidationError':
    case 'MalformedPolicyDocument':
    case 'RegionDisabledException':
      return new UserError(`STS refused to assume ${aws.roleToAssume} (${code}: ${message})`)
    default:
      if (isRetryableStsError(err)) {
        return new TransientError(
          `STS AssumeRoleWithWebIdentity for ${aws.roleToAssume} kept failing: ${code}: ${message}`,
          {
            cause: err
          }
        )
      }
      return new Error(`STS AssumeRoleWithWebIdentity for ${aws.roleToAssume} failed: ${code}: ${message}`, {
        cause: err
      })
  }
}

function checkAllowedAccount(aws: AwsConfig, accountId: string, source: string): void {
  if (aws.allowedAccountIds.length && !aws.allowedAccountIds.includes(accountId)) {
    throw new UserError(
      `${source} belong to AWS account ${accountId}, which is not in allowed-account-ids (${aws.allowedAccountIds.join(', ')}); nothing was deployed`
    )
  }
}

/** The account of the SDK's default credentials, from STS GetCallerIdentity. */
async function defaultChainAccount(region: string): Promise<string> {
  const sts = new STSClient({ region, ...sdkProxyConfig() })
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}))
    if (!out.Account) throw new Error('GetCallerIdentity returned no account')
    return out.Account
  } catch (err) {
    if ((err as Error)?.name === 'CredentialsProviderError') {
      throw new UserError(
        'no AWS credentials found: set role-to-assume, or configure credentials before this step (e.g. with aws-actions/configure-aws-credentials)'
      )
    }
    throw new Error(
      `could not check the AWS account of the credentials (STS GetCallerIdentity): ${oneLine(err)}`,
      { cause: err }
    )
  } finally {
    sts.destroy()
  }
}

function oneLine(err: unknown): string {
  return errorMessage(err)
    .replace(/\s*\n\s*/g, ' ')
    .trim()
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
