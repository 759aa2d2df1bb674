import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { AwsSimServer, SimRequest, SimResponse } from '../aws/server.js'
import { createAuthorizedKeysStore } from './authorized-keys.js'
import { DUMMY_LONG_TERM_KEY } from '../aws/credential-store.js'
import { verifyAuthorizationHeader, type SimSecret, type VerifyFailure } from '../sigv4-verify.js'

/**
 * EC2 Instance Connect API simulator: `AWSEC2InstanceConnectService.SendSSHPublicKey` (AWS JSON 1.1)
 * on the shared AWS simulator server, reached by the SDK through AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT.
 * A successful push is written where the local sshd's AuthorizedKeysCommand reads it, so the key
 * logs in for `keyLifetimeSeconds` (60 s, as on a real instance) and is refused after that.
 * Validation follows the API model (eice-protocol.md section 10.1); exact message texts are ours.
 */

export const EIC_TARGET_PREFIX = 'AWSEC2InstanceConnectService'

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated'

export interface EicInstance {
  id: string
  state: InstanceState
  availabilityZone?: string
  /** EC2InstanceUnavailableException for every push (e.g. an AMI EC2 Instance Connect cannot serve). */
  unavailable?: boolean
  /** false: the push succeeds but the instance never honours it (no ec2-instance-connect package). */
  eicPackage?: boolean
}

export interface EicPush {
  instanceId: string
  user: string
  publicKey: string
  availabilityZone?: string
  accessKeyId: string
  /** Epoch ms of the push. */
  at: number
  /** Epoch seconds after which sshd refuses the key. */
  expiresAt: number
}

export interface EicAttempt {
  operation: string
  instanceId?: string
  user?: string
  /** 'Success' or the error type answered. */
  outcome: string
}

/** The IAM-ish policy the simulator enforces for SendSSHPublicKey. */
export interface EicPolicy {
  /** Deny every push (no ec2-instance-connect:SendSSHPublicKey permission). */
  deny?: boolean
  /** Allow only these OS users (the `ec2:osuser` condition). */
  allowedOsUsers?: string[]
}

export interface EicSimOptions {
  awsServer: AwsSimServer
  /** Where the key files and the AuthorizedKeysCommand script go; a fresh temp dir by default. */
  dir?: string
  /** How long a pushed key logs in (default 60, as the real service). */
  keyLifetimeSeconds?: number
  /** Known instances (default: one running `i-0123456789abcdef0`). */
  instances?: Array<Partial<EicInstance> & { id: string }>
  /** Require this region in the SigV4 credential scope. */
  region?: string
  /** accessKeyId -> secret whose signatures are accepted (default: the sandbox's dummy key). */
  credentials?: Record<string, SimSecret>
  /** Account id used in the AccessDenied message's ARNs. */
  accountId?: string
}

export interface EicSim {
  /** Add to the sshd: `startSshd({ extraConfig: eic.sshdConfigLines })`. */
  sshdConfigLines: string[]
  dir: string
  /** Every successful push, in order. */
  pushes: EicPush[]
  /** Every call with its outcome (including throttled and rejected ones). */
  attempts: EicAttempt[]
  setInstanceState(id: string, state: InstanceState): void
  /** Add or change an instance (state, availability zone, unavailable, eicPackage). */
  setInstance(instance: Partial<EicInstance> & { id: string }): void
  setPolicy(policy: EicPolicy): void
  setKeyLifetime(seconds: number): void
  /** Answer the next `count` calls with ThrottlingException (or another retryable error type). */
  failNext(count: number, type?: 'ThrottlingException' | 'ServiceException'): void
  /** Forget all pushed keys, as if they had expired. */
  expireAll(): Promise<void>
  close(): Promise<void>
}

export const DEFAULT_EIC_INSTANCE_ID = 'i-0123456789abcdef0'

const STATUS: Record<string, number> = {
  ServiceException: 500,
  EC2InstanceUnavailableException: 503
}

function errorResponse(type: string, message: string, requestId: string = randomUUID()): SimResponse {
  return {
    status: STATUS[type] ?? 400,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': type
    },
    body: JSON.stringify({ __type: type, Message: message })
  }
}

function okResponse(body: unknown, requestId: string): SimResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
    body: JSON.stringify(body)
  }
}

const KEY_TYPES = [
  'ssh-rsa',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521'
]

/** The InvalidArgsException message for a bad public key line, or undefined when it is fine. */
function badPublicKey(key: string): string | undefined {
  if (key.length < 80 || key.length > 4096) return 'SSHPublicKey must be between 80 and 4096 characters long'
  const [type, b64] = key.trim().split(/\s+/)
  if (!KEY_TYPES.includes(type)) return `SSHPublicKey is not a supported key type (${KEY_TYPES.join(', ')})`
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'SSHPublicKey is not a valid OpenSSH public key'
  const blob = Buffer.from(b64, 'base64')
  const n = blob.length >= 4 ? blob.readUInt32BE(0) : -1
  if (n < 0 || blob.length < 4 + n || blob.subarray(4, 4 + n).toString() !== type) {
    return 'SSHPublicKey is not a valid OpenSSH public key'
  }
  return undefined
}

function stringField(json: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = json?.[name]
  return typeof v === 'string' ? v : undefined
}

export async function startEicSim(opts: EicSimOptions): Promise<EicSim> {
  const ownDir = !opts.dir
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'ec2-push-eic-')))
  const store = await createAuthorizedKeysStore(dir)
  let lifetime = opts.keyLifetimeSeconds ?? 60
  let policy: EicPolicy = {}
  let failures: { count: number; type: string } = { count: 0, type: 'ThrottlingException' }
  const account = opts.accountId ?? '123456789012'
  const instances = new Map<string, EicInstance>()
  const setInstance = (i: Partial<EicInstance> & { id: string }) =>
    void instances.set(i.id, { state: 'running', eicPackage: true, ...instances.get(i.id), ...i })
  for (const i of opts.instances ?? [{ id: DEFAULT_EIC_INSTANCE_ID }]) setInstance(i)
  const pushes: EicPush[] = []
  const attempts: EicAttempt[] = []

  const sendSshPublicKey = async (
    req: SimRequest,
    accessKeyId: string,
    requestId: string
  ): Promise<SimResponse> => {
    const json = req.json
    const instanceId = stringField(json, 'InstanceId')
    const user = stringField(json, 'InstanceOSUser')
    const publicKey = stringField(json, 'SSHPublicKey')
    const az = stringField(json, 'AvailabilityZone')
    const attempt: EicAttempt = { operation: req.operation, instanceId, user, outcome: '' }
    attempts.push(attempt)
    const answer = (type: string, message: string) => {
      attempt.outcome = type
      return errorResponse(type, message, requestId)
    }

    if (failures.count > 0) {
      failures.count--
      return failures.type === 'ThrottlingException'
        ? answer('ThrottlingException', 'The requests were made too frequently and have been throttled.')
        : answer(
            'ServiceException',
            'The service encountered an error. Follow the instructions in the error message and try again.'
          )
    }
    // Validation, as the model constrains the members.
    if (
      !instanceId ||
      !/^i-[a-f0-9]+$/.test(instanceId) ||
      instanceId.length < 10 ||
      instanceId.length > 32
    ) {
      return answer('InvalidArgsException', `InstanceId is invalid: ${instanceId ?? '(missing)'}`)
    }
    if (
      !user ||
      user.length > 32 ||
      !/^[A-Za-z_][A-Za-z0-9_.@-]*\$?$/.test(user) ||
      user === '.' ||
      user === '..'
    ) {
      return answer('InvalidArgsException', `InstanceOSUser is invalid: ${user ?? '(missing)'}`)
    }
    if (!publicKey) return answer('InvalidArgsException', 'SSHPublicKey is required')
    const keyProblem = badPublicKey(publicKey)
    if (keyProblem) return answer('InvalidArgsException', keyProblem)
    if (az !== undefined && (az.length < 6 || az.length > 32 || !/^[a-z0-9-]+$/.test(az))) {
      return answer('InvalidArgsException', `AvailabilityZone is invalid: ${az}`)
    }
    // Authorization: the action on the instance ARN, with the ec2:osuser condition.
    const region = opts.region ?? 'us-east-1'
    if (policy.deny || (policy.allowedOsUsers && !policy.allowedOsUsers.includes(user))) {
      const why = policy.deny
        ? 'no identity-based policy allows'
        : 'no identity-based policy with a matching ec2:osuser condition allows'
      return answer(
        'AccessDeniedException',
        `User: arn:aws:sts::${account}:assumed-role/ec2-push/${accessKeyId} is not authorized to perform: ` +
          `ec2-instance-connect:SendSSHPublicKey on resource: arn:aws:ec2:${region}:${account}:instance/${instanceId} ` +
          `because ${why} the ec2-instance-connect:SendSSHPublicKey action`
      )
    }
    const instance = instances.get(instanceId)
    if (!instance || (az && instance.availabilityZone && az !== instance.availabilityZone)) {
      return answer('EC2InstanceNotFoundException', `Instance not found: ${instanceId}`)
    }
    if (instance.state !== 'running') {
      return answer(
        'EC2InstanceStateInvalidException',
        `Instance ${instanceId} is not in a valid state: ${instance.state}`
      )
    }
    if (instance.unavailable) {
      return answer(
        'EC2InstanceUnavailableException',
        'The instance is currently unavailable. Wait a few minutes and try again.'
      )
    }

    const at = Date.now()
    const expiresAt = Math.ceil((at + lifetime * 1000) / 1000)
    // Without the package nothing on the instance publishes the key: the push still succeeds.
    if (instance.eicPackage !== false) await store.add(user, { publicKey, expiresAt })
    pushes.push({ instanceId, user, publicKey, availabilityZone: az, accessKeyId, at, expiresAt })
    attempt.outcome = 'Success'
    return okResponse({ RequestId: requestId, Success: true }, requestId)
  }

  const secrets = new Map(
    Object.entries(
      opts.credentials ?? {
        [DUMMY_LONG_TERM_KEY.accessKeyId]: { secretAccessKey: DUMMY_LONG_TERM_KEY.secretAccessKey }
      }
    )
  )
  opts.awsServer.addJsonService(EIC_TARGET_PREFIX, async req => {
    const requestId: string = randomUUID()
    // The shared server's authenticator (when installed) has already checked and named the key.
    let accessKeyId = req.accessKeyId
    if (!accessKeyId) {
      const v = verifyAuthorizationHeader({
        method: req.method,
        pathAndQuery: req.path,
        headers: req.headers,
        body: req.body,
        service: 'ec2-instance-connect',
        region: opts.region ?? regionOfScope(req.headers.authorization),
        secrets,
        now: Date.now()
      })
      if (!v.ok) {
        const type = AUTH_ERRORS[v.failure]
        attempts.push({ operation: req.operation, outcome: type })
        // The real JSON services answer an unsigned request with exactly this text.
        return errorResponse(
          type,
          v.failure === 'missing' ? 'Missing Authentication Token' : v.message,
          requestId
        )
      }
      accessKeyId = v.accessKeyId
    }
    if (req.operation === 'SendSSHPublicKey') return sendSshPublicKey(req, accessKeyId, requestId)
    attempts.push({ operation: req.operation, outcome: 'UnknownOperationException' })
    return errorResponse('UnknownOperationException', `Unknown operation ${req.operation}`, requestId)
  })

  return {
    sshdConfigLines: store.sshdConfigLines,
    dir,
    pushes,
    attempts,
    setInstanceState: (id, state) => setInstance({ id, state }),
    setInstance,
    setPolicy: p => void (policy = { ...p }),
    setKeyLifetime: s => void (lifetime = s),
    failNext: (count, type = 'ThrottlingException') => void (failures = { count, type }),
    expireAll: () => store.clear(),
    close: async () => {
      await store.clear()
      if (ownDir) await rm(dir, { recursive: true, force: true })
      else
        await rm(store.scriptFile, { force: true }).then(() =>
          rm(store.keysDir, { recursive: true, force: true })
        )
    }
  }
}

/** How the JSON services name each signature failure. */
const AUTH_ERRORS: Record<VerifyFailure, string> = {
  missing: 'MissingAuthenticationTokenException',
  malformed: 'IncompleteSignatureException',
  'unknown-key': 'UnrecognizedClientException',
  'bad-scope': 'InvalidSignatureException',
  'bad-token': 'UnrecognizedClientException',
  'expired-token': 'ExpiredTokenException',
  mismatch: 'InvalidSignatureException',
  expired: 'InvalidSignatureException',
  future: 'InvalidSignatureException'
}

/** Without a configured region, accept the one the request was signed for. */
function regionOfScope(authorization: string | undefined): string {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1] ?? ''
}
