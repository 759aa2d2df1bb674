import { randomBytes, randomUUID } from 'node:crypto'
import type { AwsSimServer, SimResponse } from '../aws/server.js'
import { generateSigningKey, signJwt, type RsaSigningKey } from './jwt.js'

/**
 * The GitHub Actions ID-token service: `GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=...` with
 * `Authorization: Bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers `{"value": "<jwt>"}`, an RS256 token with
 * GitHub's claims, signed with this simulator's own key (which the STS simulator trusts).
 */

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com'
export const TOKEN_PATH = '/_sim/actions/idtoken'

export interface OidcTokenSim {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL (already has a query string, as GitHub's does). */
  requestUrl: string
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string
  issuer: string
  signingKey: RsaSigningKey
  /** Knobs, read on every request: */
  /** `sub` claim of the next tokens. */
  sub: string
  /** Seconds from issue to `exp` (GitHub: 300); negative issues already-expired tokens. */
  tokenLifetimeSeconds: number
  /** Claims merged over the defaults (e.g. a foreign `iss`). */
  extraClaims: Record<string, unknown>
  /** Every token handed out, in order (tests check none leaks into logs). */
  issued: { token: string; audience: string; sub: string }[]
}

export interface OidcTokenSimOptions {
  sub?: string
  repository?: string
  tokenLifetimeSeconds?: number
  signingKey?: RsaSigningKey
}

export function addOidcTokenEndpoint(server: AwsSimServer, opts: OidcTokenSimOptions = {}): OidcTokenSim {
  const repository = opts.repository ?? 'octo-org/octo-repo'
  const sim: OidcTokenSim = {
    requestUrl: `${server.url}${TOKEN_PATH}?api-version=2.0`,
    requestToken: randomBytes(24).toString('base64url'),
    issuer: GITHUB_OIDC_ISSUER,
    signingKey: opts.signingKey ?? generateSigningKey(),
    sub: opts.sub ?? `repo:${repository}:ref:refs/heads/main`,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 300,
    extraClaims: {},
    issued: []
  }
  const owner = repository.split('/')[0]

  server.addRoute('GET', TOKEN_PATH, (req): SimResponse => {
    if (req.headers.authorization !== `Bearer ${sim.requestToken}`) {
      return {
        status: 401,
        headers: { 'content-type': 'application/json' },
        body: '{"message":"Unauthorized"}'
      }
    }
    const url = new URL(req.path, 'http://localhost')
    // Without ?audience= GitHub uses the owner's URL as the audience.
    const audience = url.searchParams.get('audience') ?? `https://github.com/${owner}`
    const iat = Math.floor(Date.now() / 1000)
    const claims = {
      jti: randomUUID(),
      sub: sim.sub,
      aud: audience,
      ref: 'refs/heads/main',
      sha: randomBytes(20).toString('hex'),
      repository,
      repository_owner: owner,
      run_id: '1',
      run_number: '1',
      run_attempt: '1',
      runner_environment: 'github-hosted',
      actor: 'octocat',
      workflow: 'deploy',
      event_name: 'push',
      ref_type: 'branch',
      job_workflow_ref: `${repository}/.github/workflows/deploy.yml@refs/heads/main`,
      iss: sim.issuer,
      nbf: iat - 60,
      iat,
      exp: iat + sim.tokenLifetimeSeconds,
      ...sim.extraClaims
    }
    const token = signJwt(claims, sim.signingKey)
    sim.issued.push({ token, audience, sub: String(claims.sub) })
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: token })
    }
  })
  return sim
}
