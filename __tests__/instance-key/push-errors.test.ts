import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { DEFAULT_EIC_INSTANCE_ID, startEicSim, type EicSim } from '../../sim/eic/api.js'
import { TransientError, UserError } from '../../src/errors.js'
import { createKeySource, type KeySource } from '../../src/aws/instance-key.js'
import { streamLogger } from '../../src/log.js'
import { CREDS, eicClient, REGION } from './helpers.js'

// Each SendSSHPublicKey failure, answered by the simulator and read by the real SDK client, becomes a
// one-line error that says what is wrong and what to do. Retries use no real sleeping.

let aws: AwsSimServer
let eic: EicSim
const logLines: string[] = []
const logger = streamLogger(line => logLines.push(line), true)
const keys: string[] = []
const STOPPED = 'i-0000000000000000b'
const BROKEN = 'i-0000000000000000c'

beforeAll(async () => {
  aws = await startAwsSimServer()
  eic = await startEicSim({
    awsServer: aws,
    region: REGION,
    credentials: { [CREDS.accessKeyId]: { secretAccessKey: CREDS.secretAccessKey } },
    instances: [
      { id: DEFAULT_EIC_INSTANCE_ID },
      { id: STOPPED, state: 'stopped' },
      { id: BROKEN, unavailable: true }
    ]
  })
})

afterAll(async () => {
  await eic?.close()
  await aws?.close()
})

afterEach(() => {
  eic.setPolicy({})
  eic.failNext(0)
})

function keySource(opts: { user?: string; client?: ReturnType<typeof eicClient> } = {}): KeySource {
  const ks = createKeySource({
    user: opts.user ?? 'ec2-user',
    aws: { region: REGION },
    logger,
    client: opts.client ?? eicClient(aws.url),
    retry: { sleep: async () => {} }
  })
  keys.push(String(ks.privateKey))
  return ks
}

/** The error beforeConnect rejects with; checks it is one line. */
async function failure(p: Promise<void>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error
  )
  if (!err) throw new Error('expected beforeConnect to fail')
  expect(err.message).not.toContain('\n')
  return err
}

test('AccessDenied names the permission, the instance ARN and the ec2:osuser condition', async () => {
  eic.setPolicy({ deny: true })
  const err = await failure(keySource().beforeConnect(DEFAULT_EIC_INSTANCE_ID))
  expect(err).toBeInstanceOf(UserError)
  expect(err.message).toContain('ec2-instance-connect:SendSSHPublicKey')
  expect(err.message).toContain(`arn:aws:ec2:${REGION}:<account>:instance/${DEFAULT_EIC_INSTANCE_ID}`)
  expect(err.message).toContain('ec2:osuser = "ec2-user"')
  expect(err.message).toContain('ssh-private-key')
  expect(eic.attempts.at(-1)!.outcome).toBe('AccessDeniedException')
})

test('an ec2:osuser condition for another user is denied too', async () => {
  eic.setPolicy({ allowedOsUsers: ['ubuntu'] })
  const err = await failure(keySource({ user: 'ec2-user' }).beforeConnect(DEFAULT_EIC_INSTANCE_ID))
  expect(err.message).toContain('ec2:osuser = "ec2-user"')
  await keySource({ user: 'ubuntu' }).beforeConnect(DEFAULT_EIC_INSTANCE_ID)
  expect(eic.pushes.at(-1)!.user).toBe('ubuntu')
})

test('an unknown instance says to check the id and the region', async () => {
  const err = await failure(keySource().beforeConnect('i-0aaaaaaaaaaaaaaaa'))
  expect(err).toBeInstanceOf(UserError)
  expect(err.message).toMatch(
    /found no instance i-0aaaaaaaaaaaaaaaa in us-east-1: check the target id and aws-region/
  )
})

test('a stopped instance says it is not running', async () => {
  const err = await failure(keySource().beforeConnect(STOPPED))
  expect(err).toBeInstanceOf(UserError)
  expect(err.message).toContain(`instance ${STOPPED} is not running`)
  eic.setInstanceState(STOPPED, 'running')
  await keySource().beforeConnect(STOPPED)
  eic.setInstanceState(STOPPED, 'stopped')
})

test('an unavailable instance is retried, then blamed on the ec2-instance-connect package or the AMI', async () => {
  const before = eic.attempts.length
  const err = await failure(keySource().beforeConnect(BROKEN))
  expect(err).toBeInstanceOf(UserError)
  expect(err.message).toContain('ec2-instance-connect package')
  expect(err.message).toContain('AMI')
  expect(eic.attempts.slice(before).map(a => a.outcome)).toEqual(
    Array(4).fill('EC2InstanceUnavailableException')
  )
})

test('throttling is retried until the push goes through', async () => {
  const ks = keySource()
  const before = eic.attempts.length
  eic.failNext(2)
  await ks.beforeConnect(DEFAULT_EIC_INSTANCE_ID)
  expect(eic.attempts.slice(before).map(a => a.outcome)).toEqual([
    'ThrottlingException',
    'ThrottlingException',
    'Success'
  ])
  expect(eic.pushes.at(-1)!.publicKey).toBe(ks.publicKey)
  expect(logLines.some(l => /SendSSHPublicKey .*ThrottlingException; retry 1/.test(l))).toBe(true)
})

test('throttling that never stops ends in a TransientError after the retries', async () => {
  const before = eic.attempts.length
  eic.failNext(100)
  const err = await failure(keySource().beforeConnect(DEFAULT_EIC_INSTANCE_ID))
  expect(err).toBeInstanceOf(TransientError)
  expect(err.message).toMatch(/kept failing after retries \(ThrottlingException\)/)
  expect(eic.attempts.length - before).toBe(4)
})

test('service faults are retried as well', async () => {
  const before = eic.attempts.length
  eic.failNext(1, 'ServiceException')
  await keySource().beforeConnect(DEFAULT_EIC_INSTANCE_ID)
  expect(eic.attempts.slice(before).map(a => a.outcome)).toEqual(['ServiceException', 'Success'])
})

test('an invalid OS user is InvalidArgs, named in the message and not retried', async () => {
  const before = eic.attempts.length
  const err = await failure(keySource({ user: 'bad user!' }).beforeConnect(DEFAULT_EIC_INSTANCE_ID))
  expect(err).toBeInstanceOf(UserError)
  expect(err.message).toContain('as user "bad user!": check the user input')
  expect(eic.attempts.length - before).toBe(1)
})

test('a wrong secret and an unknown access key are credential errors', async () => {
  const wrongSecret = eicClient(aws.url, { ...CREDS, secretAccessKey: 'not-the-secret' })
  let err = await failure(keySource({ client: wrongSecret }).beforeConnect(DEFAULT_EIC_INSTANCE_ID))
  expect(err).toBeInstanceOf(UserError)
  expect(err.message).toMatch(/^AWS rejected the credentials used for SendSSHPublicKey/)
  expect(eic.attempts.at(-1)!.outcome).toBe('InvalidSignatureException')

  const unknownKey = eicClient(aws.url, { ...CREDS, accessKeyId: 'AKIDUNKNOWN000000000' })
  err = await failure(keySource({ client: unknownKey }).beforeConnect(DEFAULT_EIC_INSTANCE_ID))
  expect(err.message).toMatch(/^AWS rejected the credentials/)
  expect(eic.attempts.at(-1)!.outcome).toBe('UnrecognizedClientException')
})

test('missing region and missing credentials say which input to set', async () => {
  const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION }
  delete process.env.AWS_REGION
  delete process.env.AWS_DEFAULT_REGION
  try {
    const noRegion = createKeySource({
      user: 'ec2-user',
      aws: { region: '', credentials: async () => CREDS },
      logger
    })
    let err = await failure(noRegion.beforeConnect(DEFAULT_EIC_INSTANCE_ID))
    expect(err).toBeInstanceOf(UserError)
    expect(err.message).toMatch(/no AWS region .*set aws-region/)

    const noCreds = createKeySource({
      user: 'ec2-user',
      aws: {
        region: REGION,
        credentials: async () => {
          throw Object.assign(new Error('Could not load credentials from any providers'), {
            name: 'CredentialsProviderError'
          })
        }
      },
      logger,
      client: undefined
    })
    err = await failure(noCreds.beforeConnect(DEFAULT_EIC_INSTANCE_ID))
    expect(err.message).toMatch(/no AWS credentials .*role-to-assume/)
  } finally {
    if (saved.r !== undefined) process.env.AWS_REGION = saved.r
    if (saved.d !== undefined) process.env.AWS_DEFAULT_REGION = saved.d
  }
})

test('targets without an EC2 instance id fail before any call', async () => {
  const before = aws.calls.length
  let err = await failure(keySource().beforeConnect(undefined))
  expect(err.message).toMatch(/needs the EC2 instance id .* or give ssh-private-key/)
  err = await failure(keySource().beforeConnect('mi-0123456789abcdef0'))
  expect(err.message).toMatch(/mi-0123456789abcdef0 is not an EC2 instance id/)
  expect(aws.calls.length).toBe(before)
})

test('the one-time private keys never reached a log line', () => {
  expect(logLines.length).toBeGreaterThan(0)
  const all = logLines.join('\n')
  for (const key of keys) {
    for (const line of key.split('\n').filter(l => l && !l.startsWith('-----')))
      expect(all).not.toContain(line)
  }
})
