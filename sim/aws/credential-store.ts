import { randomBytes } from 'node:crypto'

/**
 * The access keys the simulated AWS account knows: long-term keys (the sandbox's dummy user) and every
 * session key STS issued, with its session token and expiry. The SigV4 verifier looks keys up here, and
 * GetCallerIdentity answers from here.
 */

export interface SimAccessKey {
  accessKeyId: string
  secretAccessKey: string
  /** Present for session (ASIA...) keys: requests must carry it as X-Amz-Security-Token. */
  sessionToken?: string
  /** Present for session keys: after this instant requests fail with ExpiredToken. */
  expiration?: Date
  account: string
  /** The principal: arn:aws:iam::ACCOUNT:user/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
  arn: string
  /** AIDA... for users, AROA...:session for assumed roles. */
  userId: string
}

/** AWS's documented example keys: recognisably fake, so nothing mistakes them for a leak. */
export const DUMMY_LONG_TERM_KEY = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
} as const

export const SIM_ACCOUNT_ID = '123456789012'

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** A prefix plus 16 upper-case characters, the shape of real key and principal ids. */
export function simId(prefix: string): string {
  return prefix + [...randomBytes(16)].map(b => ID_ALPHABET[b % ID_ALPHABET.length]).join('')
}

export class SimCredentialStore {
  private readonly keys = new Map<string, SimAccessKey>()

  /** Every session key issued so far, in order (tests read it to know which key was handed out). */
  readonly issued: SimAccessKey[] = []

  addLongTermKey(key: {
    accessKeyId: string
    secretAccessKey: string
    account?: string
    userName?: string
  }): SimAccessKey {
    const account = key.account ?? SIM_ACCOUNT_ID
    const entry: SimAccessKey = {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      account,
      arn: `arn:aws:iam::${account}:user/${key.userName ?? 'sandbox'}`,
      userId: simId('AIDA')
    }
    this.keys.set(entry.accessKeyId, entry)
    return entry
  }

  /** Issues session credentials for an assumed role session, valid for `lifetimeMs`. */
  issueSessionKey(opts: { account: string; arn: string; userId: string; lifetimeMs: number }): SimAccessKey {
    const entry: SimAccessKey = {
      accessKeyId: simId('ASIA'),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: 'IQoJb3JpZ2luX2VjE' + randomBytes(96).toString('base64'),
      expiration: new Date(Date.now() + opts.lifetimeMs),
      account: opts.account,
      arn: opts.arn,
      userId: opts.userId
    }
    this.keys.set(entry.accessKeyId, entry)
    this.issued.push(entry)
    return entry
  }

  get(accessKeyId: string): SimAccessKey | undefined {
    return this.keys.get(accessKeyId)
  }
}
