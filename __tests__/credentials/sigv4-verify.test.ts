import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm'
import type { AwsCredentialIdentity } from '@smithy/types'
import { jsonOk } from '../../sim/aws/server.js'
import { DUMMY_LONG_TERM_KEY } from '../../sim/aws/credential-store.js'
import { fetchSimToken, startSimEnv, type SimEnv } from './helpers.js'

/** The simulators' SigV4 check, driven by the real SDK clients (which sign as they would against AWS). */

let env: SimEnv
let ssmHandled: number

beforeEach(async () => {
  env = await startSimEnv()
  ssmHandled = 0
  // A JSON 1.1 operation to show JSON-protocol errors; it only answers once the signature passed.
  env.server.addJsonService('AmazonSSM', () => {
    ssmHandled++
    return jsonOk({ InstanceInformationList: [] })
  })
})

afterEach(async () => {
  await env.restore()
})

const UNKNOWN = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x'.repeat(40) }

function sts(credentials?: AwsCredentialIdentity): STSClient {
  return new STSClient({ region: 'us-east-1', credentials, maxAttempts: 1 })
}

function ssm(credentials?: AwsCredentialIdentity): SSMClient {
  return new SSMClient({ region: 'us-east-1', endpoint: env.server.url, credentials, maxAttempts: 1 })
}

const lastCall = () => env.server.calls[env.server.calls.length - 1]

/** Changes the request after the SDK signed it. */
function tamperAfterSigning(
  client: STSClient,
  change: (req: { headers: Record<string, string>; body: string }) => void
) {
  client.middlewareStack.addRelativeTo(
    ((next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      change(args.request as { headers: Record<string, string>; body: string })
      return next(args)
    }) as never,
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamperAfterSigning' }
  )
}

test('the sandbox long-term key is accepted and recorded as the signer', async () => {
  const me = await sts().send(new GetCallerIdentityCommand({}))
  expect(me.Arn).toBe(`arn:aws:iam::${env.sims.accountId}:user/sandbox`)
  expect(env.sims.signersOf('GetCallerIdentity')).toEqual([DUMMY_LONG_TERM_KEY.accessKeyId])

  await ssm().send(new DescribeInstanceInformationCommand({}))
  expect(ssmHandled).toBe(1)
  expect(lastCall().accessKeyId).toBe(DUMMY_LONG_TERM_KEY.accessKeyId)
})

test('an unknown access key is refused as each protocol refuses it, before the handler runs', async () => {
  await expect(sts(UNKNOWN).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'InvalidClientTokenId',
    $metadata: { httpStatusCode: 403 }
  })
  expect(lastCall().authError).toBe('InvalidClientTokenId')
  await expect(ssm(UNKNOWN).send(new DescribeInstanceInformationCommand({}))).rejects.toMatchObject({
    name: 'UnrecognizedClientException'
  })
  expect(ssmHandled).toBe(0)
  expect(env.sims.signersOf('GetCallerIdentity')).toEqual([])
})

test('a signature made with the wrong secret does not match', async () => {
  const wrong = { accessKeyId: DUMMY_LONG_TERM_KEY.accessKeyId, secretAccessKey: 'y'.repeat(40) }
  await expect(sts(wrong).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'SignatureDoesNotMatch'
  })
  await expect(ssm(wrong).send(new DescribeInstanceInformationCommand({}))).rejects.toMatchObject({
    name: 'InvalidSignatureException'
  })
  expect(ssmHandled).toBe(0)
})

test('a tampered signature, and a body changed after signing, are refused', async () => {
  const flipped = sts()
  tamperAfterSigning(flipped, req => {
    req.headers.authorization = req.headers.authorization.replace(
      /Signature=(.)/,
      (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`
    )
  })
  await expect(flipped.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'SignatureDoesNotMatch'
  })
  expect(lastCall().authError).toBe('SignatureDoesNotMatch')

  const rewritten = sts()
  tamperAfterSigning(rewritten, req => {
    expect(req.body).toContain('Version=2011-06-15')
    req.body = req.body.replace('Version=2011-06-15', 'Version=2011-06-16')
  })
  await expect(rewritten.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'SignatureDoesNotMatch'
  })

  // The same client without tampering goes through: the refusals were about the changes.
  await sts().send(new GetCallerIdentityCommand({}))
  expect(env.sims.signersOf('GetCallerIdentity')).toEqual([DUMMY_LONG_TERM_KEY.accessKeyId])
})

test('session credentials work until they expire, then ExpiredToken; a wrong session token is refused', async () => {
  env.sims.sts.sessionLifetimeSeconds = 1
  const token = await fetchSimToken(env.sims, 'sts.amazonaws.com')
  // AssumeRoleWithWebIdentity is unsigned (the SDK sends no Authorization), and the verifier lets it through.
  const out = await sts().send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: env.sims.roleArn,
      RoleSessionName: 'verify-test',
      WebIdentityToken: token
    })
  )
  expect(lastCall().headers.authorization).toBeUndefined()
  const c = out.Credentials!
  const session = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!
  }

  await expect(
    sts({ ...session, sessionToken: session.sessionToken.slice(0, -4) + 'AAAA' }).send(
      new GetCallerIdentityCommand({})
    )
  ).rejects.toMatchObject({ name: 'InvalidClientTokenId' })
  const withoutToken = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey }
  await expect(sts(withoutToken).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'InvalidClientTokenId'
  })

  const key = env.sims.store.get(session.accessKeyId)!
  const live = await sts(session).send(new GetCallerIdentityCommand({}))
  expect(live.Arn).toBe(`arn:aws:sts::${env.sims.accountId}:assumed-role/ec2-push-deploy/verify-test`)

  await new Promise(resolve => setTimeout(resolve, Math.max(0, key.expiration!.getTime() - Date.now() + 100)))
  await expect(sts(session).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'ExpiredToken'
  })
  await expect(ssm(session).send(new DescribeInstanceInformationCommand({}))).rejects.toMatchObject({
    name: 'ExpiredTokenException'
  })
  expect(env.sims.signersOf('GetCallerIdentity')).toEqual([session.accessKeyId])
})

test('an unsigned call to a signed operation is refused; without an authenticator the server routes as before', async () => {
  const res = await fetch(env.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=GetCallerIdentity&Version=2011-06-15'
  })
  expect(res.status).toBe(403)
  expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>')

  env.server.setAuthenticator(undefined)
  await ssm(UNKNOWN).send(new DescribeInstanceInformationCommand({}))
  expect(ssmHandled).toBe(1)
  expect(lastCall().accessKeyId).toBeUndefined()
})
