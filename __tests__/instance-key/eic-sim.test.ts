import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { SendSSHPublicKeyCommand } from '@aws-sdk/client-ec2-instance-connect'
import { startAwsSimServer, type AwsSimServer } from '../../sim/aws/server.js'
import { DEFAULT_EIC_INSTANCE_ID, startEicSim, type EicSim } from '../../sim/eic/api.js'
import { generateKeyPair } from '../../sim/ssh-keys.js'
import { startSshd, type Sshd } from '../../sim/sshd.js'
import { generateEd25519KeyPair } from '../../src/aws/openssh-key.js'
import { CREDS, eicClient, expectLoginRefused, REGION, sshExec } from './helpers.js'

// The EC2 Instance Connect simulator on its own: wire shape, SigV4 checks, validation, and what the
// instance side (sshd's AuthorizedKeysCommand) honours.

let aws: AwsSimServer
let eic: EicSim
let sshd: Sshd
let keysDir: string
const NO_PACKAGE = 'i-00000000000000abc'

beforeAll(async () => {
  aws = await startAwsSimServer()
  eic = await startEicSim({
    awsServer: aws,
    region: REGION,
    credentials: { [CREDS.accessKeyId]: { secretAccessKey: CREDS.secretAccessKey } },
    instances: [
      { id: DEFAULT_EIC_INSTANCE_ID, availabilityZone: 'us-east-1a' },
      { id: NO_PACKAGE, eicPackage: false }
    ]
  })
  sshd = await startSshd({ extraConfig: eic.sshdConfigLines })
  keysDir = await mkdtemp(path.join(os.tmpdir(), 'ec2-push-eic-test-'))
})

afterAll(async () => {
  await sshd?.stop()
  await eic?.close()
  await aws?.close()
  if (keysDir) await rm(keysDir, { recursive: true, force: true })
})

const push = (key: string, instanceId = DEFAULT_EIC_INSTANCE_ID, user = sshd.user, az?: string) =>
  eicClient(aws.url).send(
    new SendSSHPublicKeyCommand({
      InstanceId: instanceId,
      InstanceOSUser: user,
      SSHPublicKey: key,
      AvailabilityZone: az
    })
  )

/** The SDK error name a push fails with. */
const pushError = (key: string, instanceId?: string, user?: string, az?: string) =>
  push(key, instanceId, user, az).then(
    () => 'no error',
    (e: Error) => e.name
  )

test('the answer has the real shape: RequestId and Success', async () => {
  const pair = generateEd25519KeyPair()
  const out = await push(pair.publicKey)
  expect(out.Success).toBe(true)
  expect(out.RequestId).toMatch(/^[0-9a-f-]{36}$/)
  expect(out.$metadata.httpStatusCode).toBe(200)
  expect(out.$metadata.requestId).toBe(out.RequestId)
  const call = aws.calls.at(-1)!
  expect(call.headers['x-amz-target']).toBe('AWSEC2InstanceConnectService.SendSSHPublicKey')
  expect(call.headers['content-type']).toBe('application/x-amz-json-1.1')
  expect(call.json).toEqual({
    InstanceId: DEFAULT_EIC_INSTANCE_ID,
    InstanceOSUser: sshd.user,
    SSHPublicKey: pair.publicKey
  })
})

test('a request without a SigV4 Authorization header is refused with the real error body', async () => {
  const res = await fetch(aws.url + '/', {
    method: 'POST',
    headers: {
      'x-amz-target': 'AWSEC2InstanceConnectService.SendSSHPublicKey',
      'content-type': 'application/x-amz-json-1.1'
    },
    body: JSON.stringify({
      InstanceId: DEFAULT_EIC_INSTANCE_ID,
      InstanceOSUser: 'ec2-user',
      SSHPublicKey: generateEd25519KeyPair().publicKey
    })
  })
  expect(res.status).toBe(400)
  expect(await res.json()).toEqual({
    __type: 'MissingAuthenticationTokenException',
    Message: 'Missing Authentication Token'
  })
})

test('a signature scoped to another service is refused', async () => {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
  const res = await fetch(aws.url + '/', {
    method: 'POST',
    headers: {
      'x-amz-target': 'AWSEC2InstanceConnectService.SendSSHPublicKey',
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${amzDate.slice(0, 8)}/${REGION}/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`
    },
    body: '{}'
  })
  expect(res.status).toBe(400)
  const body = (await res.json()) as { __type: string; Message: string }
  expect(body.__type).toBe('InvalidSignatureException')
  expect(body.Message).toContain("'ec2-instance-connect'")
})

test('key lines are validated: length, type, and a blob that matches its type', async () => {
  expect(await pushError('ssh-ed25519 AAAA')).toBe('InvalidArgsException')
  expect(await pushError('ssh-dss ' + 'A'.repeat(100))).toBe('InvalidArgsException')
  const ed = generateEd25519KeyPair().publicKey
  expect(await pushError(ed.replace('ssh-ed25519', 'ssh-rsa'))).toBe('InvalidArgsException')
  expect(await pushError(ed + '!!')).toBe('InvalidArgsException')
  expect(await pushError(ed, 'i-XYZ')).toBe('InvalidArgsException')
  expect(await pushError(ed, DEFAULT_EIC_INSTANCE_ID, '')).toBe('InvalidArgsException')
  expect(await pushError(ed, DEFAULT_EIC_INSTANCE_ID, 'a'.repeat(33))).toBe('InvalidArgsException')
  // A comment after the key is fine, as are RSA keys.
  const rsa = await generateKeyPair(path.join(keysDir, 'rsa'), { type: 'rsa' })
  expect(await pushError(rsa.publicKey)).toBe('no error')
  expect(await pushError(ed + ' a-comment')).toBe('no error')
})

test('an AvailabilityZone that does not match the instance is not found', async () => {
  const ed = generateEd25519KeyPair().publicKey
  expect(await pushError(ed, DEFAULT_EIC_INSTANCE_ID, sshd.user, 'us-east-1b')).toBe(
    'EC2InstanceNotFoundException'
  )
  expect(await pushError(ed, DEFAULT_EIC_INSTANCE_ID, sshd.user, 'us-east-1a')).toBe('no error')
  expect(eic.pushes.at(-1)!.availabilityZone).toBe('us-east-1a')
})

test('a key pushed for another OS user does not log in as this one', async () => {
  const pair = generateEd25519KeyPair()
  await push(pair.publicKey, DEFAULT_EIC_INSTANCE_ID, 'someone-else')
  await expectLoginRefused(sshd, pair.privateKey)
  await push(pair.publicKey)
  expect(await sshExec(sshd, pair.privateKey)).toBe('ok\n')
})

test('ECDSA keys are accepted by the API but not honoured on the instance (as the real package does)', async () => {
  const ecdsa = await generateKeyPair(path.join(keysDir, 'ecdsa'), { type: 'ecdsa' })
  expect(await pushError(ecdsa.publicKey)).toBe('no error')
  await expectLoginRefused(sshd, ecdsa.privateKey)
  const rsa = await generateKeyPair(path.join(keysDir, 'rsa2'), { type: 'rsa' })
  await push(rsa.publicKey)
  expect(await sshExec(sshd, rsa.privateKey)).toBe('ok\n')
})

test('an instance without the ec2-instance-connect package takes the push but refuses the key', async () => {
  const pair = generateEd25519KeyPair()
  const out = await push(pair.publicKey, NO_PACKAGE)
  expect(out.Success).toBe(true)
  expect(eic.pushes.at(-1)!.instanceId).toBe(NO_PACKAGE)
  await expectLoginRefused(sshd, pair.privateKey)
})

test('expireAll makes every pushed key stop working at once', async () => {
  const pair = generateEd25519KeyPair()
  await push(pair.publicKey)
  expect(await sshExec(sshd, pair.privateKey)).toBe('ok\n')
  await eic.expireAll()
  await expectLoginRefused(sshd, pair.privateKey)
})

test('the sshd config lines run the script through /bin/sh as the current user', () => {
  expect(eic.sshdConfigLines).toHaveLength(2)
  expect(eic.sshdConfigLines[0]).toMatch(
    /^AuthorizedKeysCommand \/bin\/sh \S+\/eic-authorized-keys\.sh \S+\/active-keys %u$/
  )
  expect(eic.sshdConfigLines[1]).toBe(`AuthorizedKeysCommandUser ${os.userInfo().username}`)
})
