export const id = 223;
export const ids = [223];
export const modules = {

/***/ 2223:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   resolveAwsContext: () => (/* binding */ resolveAwsContext)
/* harmony export */ });
/* unused harmony export currentCredentials */
/* harmony import */ var _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1695);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6932);
/* harmony import */ var _util_retry_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(2046);



/** STS errors worth another try: throttling, the provider's key fetch failing, server side trouble. */
const RETRYABLE_STS_CODES = new Set([
    'Throttling',
    'ThrottlingException',
    'RequestLimitExceeded',
    'TooManyRequestsException',
    'IDPCommunicationError',
    'InternalFailure',
    'ServiceUnavailable'
]);
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/.+$/;
async function resolveAwsContext(aws, logger, options = {}) {
    const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '';
    if (!region) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo('no AWS region: set the aws-region input (or AWS_REGION in the environment)');
    }
    if (!aws.roleToAssume) {
        if (!aws.allowedAccountIds.length)
            return { region, credentials: undefined };
        const accountId = await defaultChainAccount(region);
        checkAllowedAccount(aws, accountId, 'the credentials in the environment');
        return { region, credentials: undefined, accountId };
    }
    if (!ROLE_ARN.test(aws.roleToAssume)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`role-to-assume must be a role ARN such as arn:aws:iam::123456789012:role/deploy (got '${aws.roleToAssume}')`);
    }
    const getIdToken = options.getIdToken ?? actionsIdTokenGetter();
    const role = new AssumedRole(aws, region, logger, getIdToken, options);
    const first = await role.assume();
    logger.info(`Assumed ${aws.roleToAssume} (account ${first.accountId}); credentials valid until ${iso(first.expiration)}`);
    return { region, credentials: role.provider, accountId: first.accountId };
}
const defaultChains = new WeakMap();
/**
 * The credentials to sign with right now, for code that signs by itself (the EICE presigned URL):
 * the assumed role's (refreshed when due), or the SDK default chain's when `credentials` is undefined.
 */
async function currentCredentials(ctx) {
    if (ctx.credentials)
        return ctx.credentials();
    let chain = defaultChains.get(ctx);
    if (!chain) {
        // A client's resolved config holds the SDK's memoized default provider chain.
        const provider = new STSClient({ region: ctx.region }).config.credentials;
        chain = () => provider();
        defaultChains.set(ctx, chain);
    }
    return chain();
}
/** core.getIDToken, or a UserError when the job may not request tokens. */
function actionsIdTokenGetter() {
    if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo('role-to-assume needs a GitHub OIDC token but this job may not request one (ACTIONS_ID_TOKEN_REQUEST_URL is not set): add \'permissions: id-token: write\' to the job, i.e. the two lines "permissions:" and "  id-token: write" (a permissions block replaces the defaults, so also list e.g. "contents: read" if the job checks out code)');
    }
    return async (audience) => {
        // Loaded only here, so the engine stays usable from the CLI without the Actions runtime.
        const core = await __webpack_require__.e(/* import() */ 421).then(__webpack_require__.bind(__webpack_require__, 6421));
        return core.getIDToken(audience);
    };
}
/** One role session, re-assumed (fresh OIDC token + AssumeRoleWithWebIdentity) when it nears expiry. */
class AssumedRole {
    aws;
    logger;
    getIdToken;
    options;
    current;
    obtainedAt = 0;
    pending;
    sts;
    constructor(aws, region, logger, getIdToken, options) {
        this.aws = aws;
        this.logger = logger;
        this.getIdToken = getIdToken;
        this.options = options;
        // Our own retry loop below decides about throttling, so the client makes one attempt per call.
        this.sts = new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_1__.STSClient({ region, maxAttempts: 1 });
    }
    /** The provider handed to every AWS client; the SDK calls it again as expiry approaches. */
    provider = async () => {
        const current = this.current;
        if (current && !this.needsRefresh(current))
            return current;
        try {
            this.pending ??= this.assume().finally(() => (this.pending = undefined));
            const fresh = await this.pending;
            this.logger.info(`Refreshed the credentials of ${this.aws.roleToAssume}; valid until ${iso(fresh.expiration)}`);
            return fresh;
        }
        catch (err) {
            // Keep going on the old credentials while they last; the next call tries again.
            if (current && Date.now() < current.expiration.getTime()) {
                this.logger.warning(`could not refresh the AWS credentials yet (${(0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(err)}); using the current ones`);
                return current;
            }
            throw err;
        }
    };
    needsRefresh(c) {
        const lifetime = c.expiration.getTime() - this.obtainedAt;
        const margin = Math.min(this.options.refreshMarginMs ?? 5 * 60_000, lifetime / 4);
        return Date.now() >= c.expiration.getTime() - margin;
    }
    async assume() {
        const { aws, logger } = this;
        const audience = aws.audience;
        let token;
        try {
            token = await this.getIdToken(audience);
        }
        catch (err) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_(`could not get a GitHub OIDC token for audience '${audience}': ${oneLine(err)}`, { cause: err });
        }
        logger.setSecret(token);
        const claims = tokenClaims(token);
        logger.debug(`OIDC token: sub '${claims.sub}', aud '${claims.aud}'`);
        const obtainedAt = Date.now();
        const out = await (0,_util_retry_js__WEBPACK_IMPORTED_MODULE_2__/* .retry */ .L5)(() => this.sts.send(new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_1__/* .AssumeRoleWithWebIdentityCommand */ .WH({
            RoleArn: aws.roleToAssume,
            RoleSessionName: aws.roleSessionName,
            WebIdentityToken: token,
            DurationSeconds: aws.roleDurationSeconds
        })), {
            attempts: this.options.stsAttempts ?? 6,
            baseDelayMs: this.options.stsBaseDelayMs ?? 500,
            maxDelayMs: 10_000,
            shouldRetry: isRetryableStsError,
            onRetry: (err, attempt, delay) => logger.info(`STS AssumeRoleWithWebIdentity: ${stsErrorCode(err)}; attempt ${attempt + 1} in ${delay} ms`)
        }).catch(err => {
            throw explainStsError(err, aws, claims);
        });
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_('STS AssumeRoleWithWebIdentity returned no credentials');
        }
        for (const secret of [c.AccessKeyId, c.SecretAccessKey, c.SessionToken])
            logger.setSecret(secret);
        const accountId = /^arn:[^:]+:sts::(\d{12}):/.exec(out.AssumedRoleUser?.Arn ?? '')?.[1] ??
            ROLE_ARN.exec(aws.roleToAssume)[1];
        checkAllowedAccount(aws, accountId, `the credentials of ${aws.roleToAssume}`);
        const assumed = {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
            expiration: c.Expiration,
            accountId
        };
        this.current = assumed;
        this.obtainedAt = obtainedAt;
        return assumed;
    }
}
/** `sub` and `aud` from the token's payload, for error messages (the token itself is never shown). */
function tokenClaims(token) {
    try {
        const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
        const aud = Array.isArray(payload.aud) ? payload.aud.join(',') : payload.aud;
        return { sub: String(payload.sub ?? '?'), aud: String(aud ?? '?') };
    }
    catch {
        return { sub: '?', aud: '?' };
    }
}
function stsErrorCode(err) {
    const e = err;
    return e?.Code ?? e?.name ?? 'Error';
}
function isRetryableStsError(err) {
    const e = err;
    if (RETRYABLE_STS_CODES.has(stsErrorCode(err)))
        return true;
    if (e?.$retryable)
        return true;
    const status = e?.$metadata?.httpStatusCode;
    if (status !== undefined)
        return status >= 500;
    // No HTTP answer at all: connection refused/reset, timeouts.
    return typeof e?.code === 'string' || stsErrorCode(err) === 'TimeoutError';
}
function explainStsError(err, aws, claims) {
    const code = stsErrorCode(err);
    const message = oneLine(err);
    const presented = `token sub '${claims.sub}', aud '${claims.aud}'`;
    switch (code) {
        case 'AccessDenied':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS refused to let this workflow assume ${aws.roleToAssume} (AccessDenied; ${presented}): the role's trust policy must allow this sub (condition token.actions.githubusercontent.com:sub) and aud`);
        case 'InvalidIdentityToken':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS rejected the OIDC token for ${aws.roleToAssume}: ${message} (${presented}); check that the account has an IAM OIDC provider for token.actions.githubusercontent.com whose audiences include the 'audience' input (default sts.amazonaws.com)`);
        case 'ExpiredTokenException':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS says the OIDC token had expired when assuming ${aws.roleToAssume}: ${message}; check the runner's clock`);
        case 'IDPRejectedClaim':
        case 'ValidationError':
        case 'MalformedPolicyDocument':
        case 'RegionDisabledException':
            return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`STS refused to assume ${aws.roleToAssume} (${code}: ${message})`);
        default:
            if (isRetryableStsError(err)) {
                return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .TransientError */ .N_(`STS AssumeRoleWithWebIdentity for ${aws.roleToAssume} kept failing: ${code}: ${message}`, {
                    cause: err
                });
            }
            return new Error(`STS AssumeRoleWithWebIdentity for ${aws.roleToAssume} failed: ${code}: ${message}`, {
                cause: err
            });
    }
}
function checkAllowedAccount(aws, accountId, source) {
    if (aws.allowedAccountIds.length && !aws.allowedAccountIds.includes(accountId)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`${source} belong to AWS account ${accountId}, which is not in allowed-account-ids (${aws.allowedAccountIds.join(', ')}); nothing was deployed`);
    }
}
/** The account of the SDK's default credentials, from STS GetCallerIdentity. */
async function defaultChainAccount(region) {
    const sts = new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_1__.STSClient({ region });
    try {
        const out = await sts.send(new _aws_sdk_client_sts__WEBPACK_IMPORTED_MODULE_1__/* .GetCallerIdentityCommand */ .zI({}));
        if (!out.Account)
            throw new Error('GetCallerIdentity returned no account');
        return out.Account;
    }
    catch (err) {
        if (err?.name === 'CredentialsProviderError') {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo('no AWS credentials found: set role-to-assume, or configure credentials before this step (e.g. with aws-actions/configure-aws-credentials)');
        }
        throw new Error(`could not check the AWS account of the credentials (STS GetCallerIdentity): ${oneLine(err)}`, { cause: err });
    }
    finally {
        sts.destroy();
    }
}
function oneLine(err) {
    return (0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .errorMessage */ .gJ)(err)
        .replace(/\s*\n\s*/g, ' ')
        .trim();
}
function iso(d) {
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}


/***/ })

};
