import { resolveAwsContext } from '../../src/aws/credentials.js'
import { UserError } from '../../src/errors.js'
import { awsConfig, captureLogger, issuedSecrets, startSimEnv, type SimEnv } from './helpers.js'

/** Each way role assumption goes wrong ends in one line that says what is wrong, and no credentials. */

let env: SimEnv

beforeEach(async () => {
  env = await startSimEnv()
})

afterEach(async () => {
  await env.restore()
})

/** Runs resolveAwsContext expecting a UserError; checks it is one line and leaks no token or key. */
async function userError(
  overrides: Parameters<typeof awsConfig>[0],
  roleToAssume = env.sims.roleArn
): Promise<string> {
  const { logger, lines } = captureLogger()
  let caught: unknown
  try {
    await resolveAwsContext(awsConfig({ roleToAssume, ...overrides }), logger, { stsBaseDelayMs: 5 })
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(UserError)
  const message = (caught as Error).message
  expect(message).not.toContain('\n')
  for (const secret of issuedSecrets(env.sims)) {
    expect(message).not.toContain(secret)
    for (const line of lines) expect(line).not.toContain(secret)
  }
  return message
}

test('a job without id-token: write is told which two lines to add', async () => {
  delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
  const message = await userError({})
  expect(message).toContain("add 'permissions: id-token: write' to the job")
  expect(message).toContain('"permissions:"')
  expect(message).toContain('"  id-token: write"')
  expect(env.sims.oidc.issued).toHaveLength(0)
  expect(env.sims.sts.assumeCalls).toHaveLength(0)
})

test('a token with the wrong audience is refused by STS and the audience is named', async () => {
  const message = await userError({ audience: 'api://not-sts' })
  expect(env.sims.oidc.issued.map(t => t.audience)).toEqual(['api://not-sts'])
  expect(env.sims.sts.assumeCalls.map(c => c.outcome)).toEqual(['InvalidIdentityToken'])
  expect(message).toContain('Incorrect token audience')
  expect(message).toContain("aud 'api://not-sts'")
  expect(message).toContain("'audience' input")
  expect(env.sims.store.issued).toHaveLength(0)
})

test('an expired token is refused', async () => {
  env.sims.oidc.tokenLifetimeSeconds = -30
  const message = await userError({})
  expect(env.sims.sts.assumeCalls.map(c => c.outcome)).toEqual(['ExpiredTokenException'])
  expect(message).toMatch(/OIDC token had expired .*Token expired: current date\/time \d+ must be before/)
  expect(env.sims.store.issued).toHaveLength(0)
})

test("a subject the role's trust rule denies names the role and the token's sub and aud", async () => {
  env.sims.oidc.sub = 'repo:someone-else/fork:pull_request'
  const message = await userError({})
  expect(env.sims.sts.assumeCalls.map(c => c.outcome)).toEqual(['AccessDenied'])
  expect(message).toContain(env.sims.roleArn)
  expect(message).toContain("sub 'repo:someone-else/fork:pull_request'")
  expect(message).toContain("aud 'sts.amazonaws.com'")
  expect(message).toContain('trust policy')
})

test('an unknown role is denied the same way', async () => {
  const other = `arn:aws:iam::${env.sims.accountId}:role/not-there`
  const message = await userError({}, other)
  expect(message).toContain(other)
  expect(env.sims.sts.assumeCalls.map(c => c.outcome)).toEqual(['AccessDenied'])
})

test('credentials of an account outside allowed-account-ids are refused', async () => {
  const message = await userError({ allowedAccountIds: ['111122223333', '444455556666'] })
  expect(message).toContain(`AWS account ${env.sims.accountId}`)
  expect(message).toContain('allowed-account-ids (111122223333, 444455556666)')
})

test('the default chain is refused too when its account is not allowed', async () => {
  const message = await userError({ allowedAccountIds: ['111122223333'] }, '')
  expect(message).toContain(`AWS account ${env.sims.accountId}`)
  expect(env.sims.oidc.issued).toHaveLength(0)
})

test('a role-duration-seconds above the role maximum is a one-line ValidationError', async () => {
  const message = await userError({ roleDurationSeconds: 7200 })
  expect(message).toContain('ValidationError')
  expect(message).toContain('MaxSessionDuration')
})

test('a missing region and a role name instead of an ARN are user errors before any call', async () => {
  delete process.env.AWS_REGION
  expect(await userError({ region: undefined })).toContain('aws-region')
  expect(await userError({}, 'deploy-role')).toContain('role-to-assume must be a role ARN')
  expect(env.server.calls).toHaveLength(0)
})
