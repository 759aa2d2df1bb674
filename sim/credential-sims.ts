import type { AwsSimServer } from './aws/server.js'
import { DUMMY_LONG_TERM_KEY, SIM_ACCOUNT_ID, SimCredentialStore } from './aws/credential-store.js'
import { createSigV4Authenticator } from './aws/sigv4-verify.js'
import { addOidcTokenEndpoint, type OidcTokenSim, type OidcTokenSimOptions } from './oidc/token-endpoint.js'
import { addStsSimulator, type StsSim } from './sts/sts-sim.js'

/**
 * Everything credentials need, on an existing AWS simulator server: the Actions ID-token endpoint, STS
 * trusting its tokens for one role, a store of known keys (the dummy long-term key plus every issued
 * session key) and SigV4 verification of every signed call to the server (from now on, requests signed
 * with keys the store does not know are refused).
 */

export interface CredentialSims {
  /** A role whose trust rule the endpoint's tokens satisfy (audience sts.amazonaws.com). */
  roleArn: string
  accountId: string
  /** Env for a deploy against the sims: AWS_ENDPOINT_URL_STS, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN,
   *  SANDBOX_ROLE_ARN, and the dummy long-term AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  env: Record<string, string>
  longTermKey: { accessKeyId: string; secretAccessKey: string }
  store: SimCredentialStore
  sts: StsSim
  oidc: OidcTokenSim
  /** Access keys that signed the accepted calls of `operation` (e.g. 'DescribeInstances'), in order. */
  signersOf(operation: string): string[]
}

export interface CredentialSimsOptions extends OidcTokenSimOptions {
  /** Verify SigV4 on every call to the server (default true). */
  verifySignatures?: boolean
  roleName?: string
}

export function startCredentialSims(server: AwsSimServer, opts: CredentialSimsOptions = {}): CredentialSims {
  const store = new SimCredentialStore()
  store.addLongTermKey({ ...DUMMY_LONG_TERM_KEY, account: SIM_ACCOUNT_ID })
  const oidc = addOidcTokenEndpoint(server, opts)
  const repository = opts.repository ?? 'octo-org/octo-repo'
  const roleArn = `arn:aws:iam::${SIM_ACCOUNT_ID}:role/${opts.roleName ?? 'ec2-push-deploy'}`
  const sts = addStsSimulator(server, store, {
    providers: [
      { issuer: oidc.issuer, publicKey: oidc.signingKey.publicKey, clientIds: ['sts.amazonaws.com'] }
    ],
    roles: [
      {
        roleArn,
        subjects: [`repo:${repository}:*`],
        audience: 'sts.amazonaws.com',
        maxSessionDurationSeconds: 3600
      }
    ]
  })
  if (opts.verifySignatures !== false) server.setAuthenticator(createSigV4Authenticator(store))
  return {
    roleArn,
    accountId: SIM_ACCOUNT_ID,
    env: {
      AWS_ENDPOINT_URL_STS: server.url,
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
      SANDBOX_ROLE_ARN: roleArn,
      AWS_ACCESS_KEY_ID: DUMMY_LONG_TERM_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_LONG_TERM_KEY.secretAccessKey
    },
    longTermKey: { ...DUMMY_LONG_TERM_KEY },
    store,
    sts,
    oidc,
    signersOf: operation =>
      server.calls
        .filter(c => c.operation === operation && c.accessKeyId && !c.authError)
        .map(c => c.accessKeyId!)
  }
}
