import { EC2InstanceConnectClient, SendSSHPublicKeyCommand } from '@aws-sdk/client-ec2-instance-connect'
import { TransientError, UserError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { retry, type RetryOptions } from '../util/retry.js'
import type { AwsContext } from './credentials.js'
import { generateEd25519KeyPair, secretPartsOfKey } from './openssh-key.js'
import { sdkProxyConfig } from '../net/proxy-agent.js'

/**
 * The key the SSH engine logs in with. Either the user's `ssh-private-key`, or a one-time ed25519 key
 * made in memory (never on disk) and pushed with EC2 Instance Connect SendSSHPublicKey right before
 * every SSH connection: the instance's ec2-instance-connect package honours a pushed key for 60 s,
 * and only authentication has to happen inside that window, so each (re)connection pushes again.
 */
export interface KeySource {
  /** For ssh2's `privateKey`: an OpenSSH or PEM private key. */
  privateKey: string | Buffer
  passphrase?: string
  /** true when the key is generated here and must be pushed before each connection. */
  oneTime: boolean
  /** The one-time key's `ssh-ed25519 AAAA...` line (undefined for a provided key). */
  publicKey?: string
  /** `SHA256:...` of the one-time key, for log lines. */
  fingerprint?: string
  /**
   * Call right before each SSH connection (after the tunnel is open, before ssh2's connect).
   * Pushes the one-time key for this instance; a no-op for a provided key. Rejects with a
   * one-line UserError (or TransientError when AWS kept throttling/failing).
   */
  beforeConnect(instanceId?: string, availabilityZone?: string, signal?: AbortSignal): Promise<void>
  /** What to tell the user when sshd refuses the key anyway (one-time keys; undefined: the default). */
  loginRefused?(instanceId?: string): string
}

export interface KeySourceOptions {
  /** The `ssh-private-key` input; empty or undefined means a one-time key. */
  providedKey?: string
  /** The `ssh-passphrase` input. */
  passphrase?: string
  /** The OS user on the instance (the `user` input); also SendSSHPublicKey's InstanceOSUser. */
  user: string
  aws: AwsContext
  logger: Logger
  /** A ready client (tests); by default one is made from `aws` (endpoint from AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT). */
  client?: EC2InstanceConnectClient
  /** Our own retries on top of the SDK's, for throttling and service faults. */
  retry?: Partial<RetryOptions>
}

/** AWS error names worth another try after a pause. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceException',
  'EC2InstanceUnavailableException',
  'InternalFailure',
  'ServiceUnavailable'
])

function awsErrorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err
    ? String((err as { name: unknown }).name)
    : ''
}

function isRetryable(err: unknown): boolean {
  if (err instanceof UserError) return false
  const name = awsErrorName(err)
  if (RETRYABLE.has(name)) return true
  // Network trouble before any answer (reset, refused, DNS) is worth another try too.
  const code = (err as { code?: string })?.code
  return (
    typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND)$/.test(code)
  )
}

/** The SDK's error message without a trailing period, for embedding in one line. */
function awsSays(err: unknown): string {
  const m = errorMessage(err).trim().replace(/\.$/, '')
  return m ? ` (AWS: ${m})` : ''
}

/**
 * Turn a SendSSHPublicKey failure into a one-line error that says what is wrong and what to do.
 * Exported so the caller can reuse it (and tests can check each message).
 */
export function pushErrorToUserError(
  err: unknown,
  ctx: { instanceId: string; user: string; region: string }
): UserError | TransientError {
  const { instanceId, user, region } = ctx
  const fallback = 'or give ssh-private-key to log in with your own key instead of a one-time key'
  switch (awsErrorName(err)) {
    case 'AccessDeniedException':
    case 'AuthException':
      return new UserError(
        `EC2 Instance Connect refused to push the one-time SSH key to ${instanceId}: the AWS role needs ` +
          `ec2-instance-connect:SendSSHPublicKey on arn:aws:ec2:${region}:<account>:instance/${instanceId} ` +
          `with the condition ec2:osuser = "${user}" (the user input), ${fallback}${awsSays(err)}`
      )
    case 'EC2InstanceNotFoundException':
      return new UserError(
        `EC2 Instance Connect found no instance ${instanceId} in ${region}: check the target id and aws-region${awsSays(err)}`
      )
    case 'EC2InstanceStateInvalidException':
      return new UserError(
        `instance ${instanceId} is not running, so EC2 Instance Connect cannot push a key to it: start it or remove it from targets${awsSays(err)}`
      )
    case 'EC2InstanceUnavailableException':
      return new UserError(
        `EC2 Instance Connect cannot push keys to ${instanceId}: the instance is unavailable to it (still booting, or its AMI ` +
          `lacks the ec2-instance-connect package: preinstalled on Amazon Linux 2023 and Amazon Linux 2, installable on ` +
          `Ubuntu and some others); install the package, ${fallback}${awsSays(err)}`
      )
    case 'EC2InstanceTypeInvalidException':
      return new UserError(
        `EC2 Instance Connect does not support instance ${instanceId}'s type: ${fallback.replace(/^or /, '')}${awsSays(err)}`
      )
    case 'InvalidArgsException':
      return new UserError(
        `SendSSHPublicKey rejected the request for ${instanceId} as user "${user}": check the user input ` +
          `(an existing OS user, 1-32 characters) and the instance id${awsSays(err)}`
      )
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'IncompleteSignatureException':
    case 'MissingAuthenticationTokenException':
    case 'ExpiredTokenException':
    case 'InvalidClientTokenId':
      return new UserError(
        `AWS rejected the credentials used for SendSSHPublicKey: check role-to-assume / the configured credentials and aws-region${awsSays(err)}`
      )
    case 'CredentialsProviderError':
      return new UserError(
        `no AWS credentials to push the one-time SSH key: set role-to-assume (with id-token: write) or run ` +
          `aws-actions/configure-aws-credentials first, ${fallback}`
      )
  }
  if (/region is missing/i.test(errorMessage(err))) {
    return new UserError(
      `no AWS region to push the one-time SSH key: set aws-region (or AWS_REGION), ${fallback}`
    )
  }
  if (isRetryable(err)) {
    return new TransientError(
      `SendSSHPublicKey for ${instanceId} kept failing after retries (${awsErrorName(err) || 'network error'}); ` +
        `try again later or lower max-parallel-targets${awsSays(err)}`,
      { cause: err }
    )
  }
  return new UserError(`SendSSHPublicKey for ${instanceId} failed: ${errorMessage(err).split('\n')[0]}`)
}

function providedKeySource(opts: KeySourceOptions): KeySource {
  const key = opts.providedKey!
  for (const part of secretPartsOfKey(key)) opts.logger.setSecret(part)
  if (opts.passphrase) opts.logger.setSecret(opts.passphrase)
  return {
    privateKey: key,
    passphrase: opts.passphrase || undefined,
    oneTime: false,
    beforeConnect: async () => {}
  }
}

/** The key to log in with: the provided one, or a one-time key pushed before every connection. */
export function createKeySource(opts: KeySourceOptions): KeySource {
  if (opts.providedKey && opts.providedKey.trim()) return providedKeySource(opts)

  const { logger, user, aws } = opts
  const pair = generateEd25519KeyPair()
  for (const part of secretPartsOfKey(pair.privateKey)) logger.setSecret(part)
  let client = opts.client
  const getClient = () =>
    (client ??= new EC2InstanceConnectClient({
      region: aws.region || undefined,
      credentials: aws.credentials,
      ...sdkProxyConfig()
    }))

  const push = async (instanceId: string | undefined, availabilityZone?: string, signal?: AbortSignal) => {
    if (!instanceId) {
      throw new UserError(
        'a one-time SSH key needs the EC2 instance id of the target (EC2 Instance Connect pushes the key to an instance): ' +
          'give the instance id with the target, or give ssh-private-key'
      )
    }
    if (!/^i-[0-9a-f]+$/.test(instanceId)) {
      throw new UserError(
        `${instanceId} is not an EC2 instance id (i-...): one-time keys are pushed with EC2 Instance Connect, which only serves EC2 instances; give ssh-private-key for this target`
      )
    }
    const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '<region>'
    try {
      await retry(
        () =>
          getClient().send(
            new SendSSHPublicKeyCommand({
              InstanceId: instanceId,
              InstanceOSUser: user,
              SSHPublicKey: pair.publicKey,
              ...(availabilityZone ? { AvailabilityZone: availabilityZone } : {})
            }),
            { abortSignal: signal }
          ),
        {
          attempts: 4,
          baseDelayMs: 500,
          maxDelayMs: 5000,
          shouldRetry: isRetryable,
          onRetry: (err, attempt, delay) =>
            logger.debug(
              `SendSSHPublicKey ${instanceId}: ${awsErrorName(err) || errorMessage(err)}; retry ${attempt} in ${delay} ms`
            ),
          signal,
          ...opts.retry
        }
      )
    } catch (err) {
      if (signal?.aborted) throw err
      throw pushErrorToUserError(err, { instanceId, user, region })
    }
    logger.debug(`pushed one-time key ${pair.fingerprint} to ${instanceId} for user ${user} (valid 60 s)`)
  }

  return {
    privateKey: pair.privateKey,
    oneTime: true,
    publicKey: pair.publicKey,
    fingerprint: pair.fingerprint,
    beforeConnect: push,
    loginRefused: instanceId => oneTimeKeyRefusedHint(instanceId ?? 'target', opts.user)
  }
}

/**
 * A hint for when sshd refuses a pushed one-time key although the push succeeded: the push cannot
 * tell whether the instance will honour it.
 */
export function oneTimeKeyRefusedHint(instanceId: string, user: string): string {
  return (
    `the instance ${instanceId} refused the one-time key pushed for user "${user}": it needs the ec2-instance-connect ` +
    `package (with IMDS reachable) and the OS user "${user}" must exist; fix that or give ssh-private-key`
  )
}
