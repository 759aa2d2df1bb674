import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { currentCredentials, resolveAwsContext } from '../../src/aws/credentials.js'
import { DUMMY_LONG_TERM_KEY } from '../../sim/aws/credential-store.js'
import {
  awsConfig,
  captureLogger,
  fetchSimToken,
  issuedSecrets,
  startSimEnv,
  type SimEnv
} from './helpers.js'

/** Role assumption through the real @actions/core token client and the real STS client, against the sims. */

let env: SimEnv

beforeEach(async () => {
  env = await startSimEnv()
})

afterEach(async () => {
  await env.restore()
})

function expectNoSecretsIn(lines: string[], secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(0)
  for (const line of lines) {
    for (const secret of secrets) expect(line).not.toContain(secret)
  }
}

test('assumes the role with a GitHub OIDC token, and the assumed key is the one that signs later calls', async () => {
  const { sims } = env
  const { logger, lines, secrets } = captureLogger()
  const ctx = await resolveAwsContext(awsConfig({ roleToAssume: sims.roleArn }), logger)

  expect(ctx.region).toBe('us-east-1')
  expect(ctx.accountId).toBe(sims.accountId)
  expect(ctx.credentials).toBeDefined()
  expect(sims.oidc.issued.map(t => t.audience)).toEqual(['sts.amazonaws.com'])
  expect(sims.sts.assumeCalls.map(c => c.outcome)).toEqual(['ok'])
  const [issued] = sims.store.issued
  expect(issued.accessKeyId).toMatch(/^ASIA/)

  const sts = new STSClient({ region: ctx.region, credentials: ctx.credentials })
  const me = await sts.send(new GetCallerIdentityCommand({}))
  expect(me.Arn).toBe(`arn:aws:sts::${sims.accountId}:assumed-role/ec2-push-deploy/ec2-push`)
  // The server verified the SigV4 signature and recorded the key: the assumed one, not the env's long-term key.
  expect(sims.signersOf('GetCallerIdentity')).toEqual([issued.accessKeyId])
  expect(issued.accessKeyId).not.toBe(DUMMY_LONG_TERM_KEY.accessKeyId)

  // Kept in-process: nothing exported to the environment of later steps.
  expect(process.env.AWS_ACCESS_KEY_ID).toBe(DUMMY_LONG_TERM_KEY.accessKeyId)
  expect(process.env.AWS_SESSION_TOKEN).toBeUndefined()

  // Every secret was registered for masking, and none was printed in the first place.
  const handedOut = issuedSecrets(sims)
  for (const s of handedOut) expect(secrets).toContain(s)
  expectNoSecretsIn(lines, handedOut)
  expect(lines.join('\n')).toContain(sims.roleArn)
  sts.destroy()
})

test('a short credential lifetime is refreshed with a fresh token and a new assume before the next call', async () => {
  const { sims } = env
  sims.sts.sessionLifetimeSeconds = 3
  const { logger, lines } = captureLogger()
  const ctx = await resolveAwsContext(awsConfig({ roleToAssume: sims.roleArn }), logger)
  const sts = new STSClient({ region: ctx.region, credentials: ctx.credentials })

  await sts.send(new GetCallerIdentityCommand({}))
  const [first] = sims.signersOf('GetCallerIdentity')
  const firstKey = sims.store.get(first)!
  const assumesBefore = sims.sts.assumeCalls.length
  const tokensBefore = sims.oidc.issued.length

  // Wait (bounded) until the first session key is dead on the simulator's clock.
  const waitMs = firstKey.expiration!.getTime() - Date.now() + 200
  await new Promise(resolve => setTimeout(resolve, Math.max(0, waitMs)))

  const me = await sts.send(new GetCallerIdentityCommand({}))
  expect(me.Account).toBe(sims.accountId)
  const signers = sims.signersOf('GetCallerIdentity')
  const second = signers[signers.length - 1]
  expect(second).not.toBe(first)
  expect(sims.store.issued.map(k => k.accessKeyId)).toContain(second)
  expect(sims.sts.assumeCalls.length).toBeGreaterThan(assumesBefore)
  expect(sims.oidc.issued.length).toBeGreaterThan(tokensBefore)
  expect(sims.sts.assumeCalls.every(c => c.outcome === 'ok')).toBe(true)

  // The refresh was needed: the first key is now refused by the simulator.
  const stale = new STSClient({
    region: 'us-east-1',
    credentials: {
      accessKeyId: firstKey.accessKeyId,
      secretAccessKey: firstKey.secretAccessKey,
      sessionToken: firstKey.sessionToken
    },
    maxAttempts: 1
  })
  await expect(stale.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'ExpiredToken' })

  expect(lines.some(l => l.startsWith('Refreshed the credentials'))).toBe(true)
  expectNoSecretsIn(lines, issuedSecrets(sims))
  sts.destroy()
  stale.destroy()
})

test('throttled AssumeRoleWithWebIdentity calls are retried with backoff', async () => {
  const { sims } = env
  sims.sts.throttleNext = 2
  const { logger, lines } = captureLogger()
  const ctx = await resolveAwsContext(awsConfig({ roleToAssume: sims.roleArn }), logger, {
    stsBaseDelayMs: 10
  })
  expect(ctx.accountId).toBe(sims.accountId)
  expect(sims.sts.assumeCalls.map(c => c.outcome)).toEqual(['Throttling', 'Throttling', 'ok'])
  expect(lines.filter(l => l.includes('Throttling'))).toHaveLength(2)
})

test('throttling that never stops ends in a (transient) error after the configured attempts', async () => {
  const { sims } = env
  sims.sts.throttleNext = 100
  const { logger } = captureLogger()
  await expect(
    resolveAwsContext(awsConfig({ roleToAssume: sims.roleArn }), logger, {
      stsAttempts: 3,
      stsBaseDelayMs: 5
    })
  ).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('Throttling') })
  expect(sims.sts.assumeCalls).toHaveLength(3)
})

test('from a CLI, an injected token getter replaces the Actions runtime', async () => {
  const { sims } = env
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
  const audiences: string[] = []
  const ctx = await resolveAwsContext(awsConfig({ roleToAssume: sims.roleArn }), captureLogger().logger, {
    getIdToken: audience => {
      audiences.push(audience)
      return fetchSimToken(sims, audience)
    }
  })
  expect(audiences).toEqual(['sts.amazonaws.com'])
  const creds = await ctx.credentials!()
  expect(creds.accessKeyId).toBe(sims.store.issued[0].accessKeyId)
})

test('without role-to-assume the default chain is left to the SDK (and the account is checked when asked)', async () => {
  const { sims } = env
  const plain = await resolveAwsContext(awsConfig(), captureLogger().logger)
  expect(plain).toEqual({ region: 'us-east-1', credentials: undefined })
  expect(sims.oidc.issued).toHaveLength(0)

  const checked = await resolveAwsContext(
    awsConfig({ allowedAccountIds: [sims.accountId] }),
    captureLogger().logger
  )
  expect(checked.accountId).toBe(sims.accountId)
  expect(sims.signersOf('GetCallerIdentity')).toEqual([DUMMY_LONG_TERM_KEY.accessKeyId])
})

test('the region comes from AWS_REGION / AWS_DEFAULT_REGION when the input is empty', async () => {
  process.env.AWS_REGION = 'eu-west-1'
  expect((await resolveAwsContext(awsConfig({ region: undefined }), captureLogger().logger)).region).toBe(
    'eu-west-1'
  )
  delete process.env.AWS_REGION
  process.env.AWS_DEFAULT_REGION = 'ap-south-1'
  expect((await resolveAwsContext(awsConfig({ region: undefined }), captureLogger().logger)).region).toBe(
    'ap-south-1'
  )
})

test('currentCredentials gives raw keys for self-signing code: the assumed ones, or the default chain', async () => {
  const { sims } = env
  const assumed = await resolveAwsContext(awsConfig({ roleToAssume: sims.roleArn }), captureLogger().logger)
  expect((await currentCredentials(assumed)).accessKeyId).toBe(sims.store.issued[0].accessKeyId)
  const plain = await resolveAwsContext(awsConfig(), captureLogger().logger)
  const fromChain = await currentCredentials(plain)
  expect(fromChain.accessKeyId).toBe(DUMMY_LONG_TERM_KEY.accessKeyId)
  expect(fromChain.secretAccessKey).toBe(DUMMY_LONG_TERM_KEY.secretAccessKey)
})
