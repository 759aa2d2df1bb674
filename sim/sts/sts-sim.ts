import type { KeyObject } from 'node:crypto'
import type { AwsSimServer, SimRequest, SimResponse } from '../aws/server.js'
import { simId, type SimCredentialStore } from '../aws/credential-store.js'
import { parseAuthorization } from '../aws/sigv4-verify.js'
import { decodeJwt, verifyJwtSignature } from '../oidc/jwt.js'
import { stsError, stsOk, stsTimestamp } from './xml.js'

/**
 * AWS STS over the query protocol: AssumeRoleWithWebIdentity (unsigned; the web identity token is checked
 * against a registered OIDC provider and the role's trust rule) and GetCallerIdentity (answers for the key
 * that signed the call). Issued session keys go into the shared credential store, so the SigV4 verifier
 * accepts them until they expire.
 */

/** An IAM OIDC identity provider: who issues tokens, the key they are signed with, accepted audiences. */
export interface SimOidcProvider {
  issuer: string
  publicKey: KeyObject
  /** The provider's client id list: a token whose `aud` is not here is refused (InvalidIdentityToken). */
  clientIds: string[]
}

/** A role and the trust policy conditions of a GitHub OIDC role (`StringLike` on sub, `StringEquals` on aud). */
export interface SimTrustRule {
  roleArn: string
  /** `sub` patterns with `*` and `?` wildcards, e.g. `repo:octo-org/octo-repo:*`. */
  subjects: string[]
  /** Required `aud` claim (default sts.amazonaws.com). */
  audience?: string
  /** The role's MaxSessionDuration (default 3600). */
  maxSessionDurationSeconds?: number
}

export interface StsAssumeRecord {
  roleArn: string
  sub?: string
  aud?: string
  /** 'ok' or the error code returned. */
  outcome: string
  accessKeyId?: string
}

export interface StsSim {
  providers: SimOidcProvider[]
  roles: SimTrustRule[]
  /** Test knob: lifetime of issued credentials, overriding DurationSeconds (real STS has a 900 s floor). */
  sessionLifetimeSeconds?: number
  /** Fault knob: answer this many of the next AssumeRoleWithWebIdentity calls with Throttling. */
  throttleNext: number
  /** Every AssumeRoleWithWebIdentity seen, in order. */
  assumeCalls: StsAssumeRecord[]
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

function validation(message: string): SimResponse {
  return stsError(400, 'ValidationError', message)
}

export function addStsSimulator(
  server: AwsSimServer,
  store: SimCredentialStore,
  init: { providers?: SimOidcProvider[]; roles?: SimTrustRule[] } = {}
): StsSim {
  const sim: StsSim = {
    providers: init.providers ?? [],
    roles: init.roles ?? [],
    throttleNext: 0,
    assumeCalls: []
  }
  const roleIds = new Map<string, string>()

  function assumeRoleWithWebIdentity(req: SimRequest): SimResponse {
    const form = req.form ?? new URLSearchParams()
    const roleArn = form.get('RoleArn') ?? ''
    const record: StsAssumeRecord = { roleArn, outcome: 'ok' }
    sim.assumeCalls.push(record)
    const fail = (res: SimResponse, code: string): SimResponse => {
      record.outcome = code
      return res
    }
    if (sim.throttleNext > 0) {
      sim.throttleNext--
      return fail(stsError(400, 'Throttling', 'Rate exceeded'), 'Throttling')
    }
    const sessionName = form.get('RoleSessionName')
    const token = form.get('WebIdentityToken')
    for (const [name, value] of [
      ['roleArn', roleArn || null],
      ['roleSessionName', sessionName],
      ['webIdentityToken', token]
    ] as const) {
      if (!value) {
        return fail(
          validation(
            `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`
          ),
          'ValidationError'
        )
      }
    }
    const arnMatch = ROLE_ARN.exec(roleArn)
    if (!arnMatch) return fail(validation(`Request ARN is invalid`), 'ValidationError')
    if (!SESSION_NAME.test(sessionName!)) {
      return fail(
        validation(
          `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`
        ),
        'ValidationError'
      )
    }
    const duration = Number(form.get('DurationSeconds') ?? 3600)
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      return fail(
        validation(
          `1 validation error detected: Value '${form.get('DurationSeconds')}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${duration < 900 ? 'greater than or equal to 900' : 'less than or equal to 43200'}`
        ),
        'ValidationError'
      )
    }

    // The token: a JWT from a registered provider, signed by its key, not expired, for an accepted audience.
    const jwt = decodeJwt(token!)
    if (!jwt)
      return fail(
        stsError(400, 'InvalidIdentityToken', 'The ID Token provided is not a valid JWT.'),
        'InvalidIdentityToken'
      )
    const { iss, aud, sub, exp } = jwt.claims as {
      iss?: unknown
      aud?: unknown
      sub?: unknown
      exp?: unknown
    }
    record.sub = typeof sub === 'string' ? sub : undefined
    record.aud = typeof aud === 'string' ? aud : undefined
    const provider = sim.providers.find(p => p.issuer === iss)
    if (!provider) {
      return fail(
        stsError(
          400,
          'InvalidIdentityToken',
          `No OpenIDConnect provider found in your account for ${String(iss)}`
        ),
        'InvalidIdentityToken'
      )
    }
    if (!verifyJwtSignature(jwt, provider.publicKey)) {
      return fail(
        stsError(400, 'InvalidIdentityToken', 'Unable to verify the signature of the ID Token.'),
        'InvalidIdentityToken'
      )
    }
    const nowSeconds = Math.floor(Date.now() / 1000)
    if (typeof exp !== 'number' || nowSeconds >= exp) {
      return fail(
        stsError(
          400,
          'ExpiredTokenException',
          `Token expired: current date/time ${nowSeconds} must be before the expiration date/time ${String(exp)}`
        ),
        'ExpiredTokenException'
      )
    }
    if (typeof aud !== 'string' || !provider.clientIds.includes(aud)) {
      return fail(stsError(400, 'InvalidIdentityToken', 'Incorrect token audience'), 'InvalidIdentityToken')
    }

    // The role's trust policy.
    const rule = sim.roles.find(r => r.roleArn === roleArn)
    const trusted =
      rule !== undefined &&
      typeof sub === 'string' &&
      aud === (rule.audience ?? 'sts.amazonaws.com') &&
      rule.subjects.some(p => globToRegExp(p).test(sub))
    if (!trusted) {
      return fail(
        stsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'),
        'AccessDenied'
      )
    }
    if (duration > (rule.maxSessionDurationSeconds ?? 3600)) {
      return fail(
        validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.'),
        'ValidationError'
      )
    }

    const [, account, roleName] = arnMatch
    if (!roleIds.has(roleArn)) roleIds.set(roleArn, simId('AROA'))
    const assumedRoleId = `${roleIds.get(roleArn)}:${sessionName}`
    const assumedArn = `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`
    const key = store.issueSessionKey({
      account,
      arn: assumedArn,
      userId: assumedRoleId,
      lifetimeMs: (sim.sessionLifetimeSeconds ?? duration) * 1000
    })
    record.accessKeyId = key.accessKeyId
    return stsOk('AssumeRoleWithWebIdentity', {
      Credentials: {
        AccessKeyId: key.accessKeyId,
        SecretAccessKey: key.secretAccessKey,
        SessionToken: key.sessionToken,
        Expiration: stsTimestamp(key.expiration!)
      },
      SubjectFromWebIdentityToken: sub,
      AssumedRoleUser: { AssumedRoleId: assumedRoleId, Arn: assumedArn },
      Provider: `arn:aws:iam::${account}:oidc-provider/${String(iss).replace(/^https:\/\//, '')}`,
      Audience: aud
    })
  }

  function getCallerIdentity(req: SimRequest): SimResponse {
    // With the SigV4 authenticator installed the server has already named the key; without it, trust the header.
    const header = req.headers.authorization
    const accessKeyId =
      req.accessKeyId ?? (typeof header === 'string' ? parseAuthorization(header)?.accessKeyId : undefined)
    if (!accessKeyId)
      return stsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
    const key = store.get(accessKeyId)
    if (!key)
      return stsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
    return stsOk('GetCallerIdentity', { Arn: key.arn, UserId: key.userId, Account: key.account })
  }

  server.addQueryActions(['AssumeRoleWithWebIdentity', 'GetCallerIdentity'], req =>
    req.operation === 'GetCallerIdentity' ? getCallerIdentity(req) : assumeRoleWithWebIdentity(req)
  )
  return sim
}
