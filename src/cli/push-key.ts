import { readFile } from 'node:fs/promises'
import { EC2InstanceConnectClient, SendSSHPublicKeyCommand } from '@aws-sdk/client-ec2-instance-connect'
import type { AwsContext } from '../aws/credentials.js'
import { pushErrorToUserError } from '../aws/instance-key.js'
import { errorMessage, UserError } from '../errors.js'
import type { Logger } from '../log.js'
import { sdkProxyConfig } from '../net/proxy-agent.js'

const KEY_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( .*)?$/

/** Read an OpenSSH public key file (`~/.ssh/id_ed25519.pub`): its one `type base64 [comment]` line. */
export async function readPublicKeyFile(file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new UserError(`cannot read the public key file '${file}': ${errorMessage(err)}`)
  }
  if (/PRIVATE KEY/.test(text)) {
    throw new UserError(
      `'${file}' is a private key: give --push-key the public half (the .pub file next to it); private keys never leave this machine`
    )
  }
  const line = text
    .split(/\r?\n/)
    .map(l => l.trim())
    .find(l => l && !l.startsWith('#'))
  if (!line || !KEY_LINE.test(line)) {
    throw new UserError(
      `'${file}' is not an OpenSSH public key (expected one line such as 'ssh-ed25519 AAAA... comment'; EC2 Instance Connect accepts ed25519, RSA and ECDSA keys)`
    )
  }
  return line
}

/**
 * Push the user's own public key to an instance with EC2 Instance Connect SendSSHPublicKey: sshd on
 * the instance accepts it for `user` for 60 seconds, long enough for the login that follows.
 */
export async function pushPublicKey(opts: {
  instanceId: string
  user: string
  publicKey: string
  availabilityZone?: string
  aws: AwsContext
  logger: Logger
}): Promise<void> {
  const { instanceId, user, aws } = opts
  if (!/^i-[0-9a-f]+$/.test(instanceId)) {
    throw new UserError(
      `--push-key needs an EC2 instance (i-...); ${instanceId} is not one (EC2 Instance Connect serves only EC2 instances)`
    )
  }
  const client = new EC2InstanceConnectClient({
    region: aws.region,
    credentials: aws.credentials,
    ...sdkProxyConfig()
  })
  try {
    await client.send(
      new SendSSHPublicKeyCommand({
        InstanceId: instanceId,
        InstanceOSUser: user,
        SSHPublicKey: opts.publicKey,
        ...(opts.availabilityZone ? { AvailabilityZone: opts.availabilityZone } : {})
      })
    )
  } catch (err) {
    throw pushErrorToUserError(err, { instanceId, user, region: aws.region })
  } finally {
    client.destroy()
  }
  opts.logger.info(`pushed your public key to ${instanceId} for user ${user} (valid 60 s)`)
}
