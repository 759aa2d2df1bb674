export const id = 97;
export const ids = [97];
export const modules = {

/***/ 1097:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  createKeySource: () => (/* binding */ createKeySource),
  oneTimeKeyRefusedHint: () => (/* binding */ oneTimeKeyRefusedHint),
  pushErrorToUserError: () => (/* binding */ pushErrorToUserError)
});

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ec2-instance-connect/dist-cjs/index.js
var dist_cjs = __webpack_require__(9254);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/util/retry.js
var retry = __webpack_require__(2046);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./build/action/aws/openssh-key.js

const KEY_TYPE = 'ssh-ed25519';
function sshString(data) {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
}
function uint32(n) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
}
function generateEd25519KeyPair(comment = '') {
    const { privateKey } = (0,external_node_crypto_.generateKeyPairSync)('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d, 'base64url');
    const pub = Buffer.from(jwk.x, 'base64url');
    const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
    // Private section: two equal check words, the key (OpenSSH keeps seed || public as the
    // 64-byte private part), the comment, then padding 1,2,3... to the cipher block size (8 for "none").
    const check = (0,external_node_crypto_.randomBytes)(4);
    const section = Buffer.concat([
        check,
        check,
        sshString(KEY_TYPE),
        sshString(pub),
        sshString(Buffer.concat([seed, pub])),
        sshString(comment)
    ]);
    const padLength = (8 - (section.length % 8)) % 8;
    const padding = Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1));
    const body = Buffer.concat([
        Buffer.from('openssh-key-v1\0'),
        sshString('none'), // cipher
        sshString('none'), // kdf
        sshString(''), // kdf options
        uint32(1), // number of keys
        sshString(publicBlob),
        sshString(Buffer.concat([section, padding]))
    ]);
    seed.fill(0);
    const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
    return {
        privateKey: [
            '-----BEGIN OPENSSH PRIVATE KEY-----',
            ...lines,
            '-----END OPENSSH PRIVATE KEY-----',
            ''
        ].join('\n'),
        publicKey: `${KEY_TYPE} ${publicBlob.toString('base64')}`,
        fingerprint: 'SHA256:' + (0,external_node_crypto_.createHash)('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')
    };
}
/** The parts of a PEM/OpenSSH private key worth masking: the whole text and each base64 line. */
function secretPartsOfKey(key) {
    const lines = key
        .split(/\r?\n/)
        .map(l => l.trim())
        .filter(l => l.length >= 8 && !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l));
    return [key, key.trim(), ...lines];
}

;// CONCATENATED MODULE: ./build/action/aws/instance-key.js




/** AWS error names worth another try after a pause. */
const RETRYABLE = new Set([
    'ThrottlingException',
    'TooManyRequestsException',
    'ServiceException',
    'EC2InstanceUnavailableException',
    'InternalFailure',
    'ServiceUnavailable'
]);
function awsErrorName(err) {
    return typeof err === 'object' && err !== null && 'name' in err
        ? String(err.name)
        : '';
}
function isRetryable(err) {
    if (err instanceof errors/* UserError */.yo)
        return false;
    const name = awsErrorName(err);
    if (RETRYABLE.has(name))
        return true;
    // Network trouble before any answer (reset, refused, DNS) is worth another try too.
    const code = err?.code;
    return (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND)$/.test(code));
}
/** The SDK's error message without a trailing period, for embedding in one line. */
function awsSays(err) {
    const m = (0,errors/* errorMessage */.gJ)(err).trim().replace(/\.$/, '');
    return m ? ` (AWS: ${m})` : '';
}
/**
 * Turn a SendSSHPublicKey failure into a one-line error that says what is wrong and what to do.
 * Exported so the caller can reuse it (and tests can check each message).
 */
function pushErrorToUserError(err, ctx) {
    const { instanceId, user, region } = ctx;
    const fallback = 'or give ssh-private-key to log in with your own key instead of a one-time key';
    switch (awsErrorName(err)) {
        case 'AccessDeniedException':
        case 'AuthException':
            return new errors/* UserError */.yo(`EC2 Instance Connect refused to push the one-time SSH key to ${instanceId}: the AWS role needs ` +
                `ec2-instance-connect:SendSSHPublicKey on arn:aws:ec2:${region}:<account>:instance/${instanceId} ` +
                `with the condition ec2:osuser = "${user}" (the user input), ${fallback}${awsSays(err)}`);
        case 'EC2InstanceNotFoundException':
            return new errors/* UserError */.yo(`EC2 Instance Connect found no instance ${instanceId} in ${region}: check the target id and aws-region${awsSays(err)}`);
        case 'EC2InstanceStateInvalidException':
            return new errors/* UserError */.yo(`instance ${instanceId} is not running, so EC2 Instance Connect cannot push a key to it: start it or remove it from targets${awsSays(err)}`);
        case 'EC2InstanceUnavailableException':
            return new errors/* UserError */.yo(`EC2 Instance Connect cannot push keys to ${instanceId}: the instance is unavailable to it (still booting, or its AMI ` +
                `lacks the ec2-instance-connect package: preinstalled on Amazon Linux 2023 and Amazon Linux 2, installable on ` +
                `Ubuntu and some others); install the package, ${fallback}${awsSays(err)}`);
        case 'EC2InstanceTypeInvalidException':
            return new errors/* UserError */.yo(`EC2 Instance Connect does not support instance ${instanceId}'s type: ${fallback.replace(/^or /, '')}${awsSays(err)}`);
        case 'InvalidArgsException':
            return new errors/* UserError */.yo(`SendSSHPublicKey rejected the request for ${instanceId} as user "${user}": check the user input ` +
                `(an existing OS user, 1-32 characters) and the instance id${awsSays(err)}`);
        case 'UnrecognizedClientException':
        case 'InvalidSignatureException':
        case 'IncompleteSignatureException':
        case 'MissingAuthenticationTokenException':
        case 'ExpiredTokenException':
        case 'InvalidClientTokenId':
            return new errors/* UserError */.yo(`AWS rejected the credentials used for SendSSHPublicKey: check role-to-assume / the configured credentials and aws-region${awsSays(err)}`);
        case 'CredentialsProviderError':
            return new errors/* UserError */.yo(`no AWS credentials to push the one-time SSH key: set role-to-assume (with id-token: write) or run ` +
                `aws-actions/configure-aws-credentials first, ${fallback}`);
    }
    if (/region is missing/i.test((0,errors/* errorMessage */.gJ)(err))) {
        return new errors/* UserError */.yo(`no AWS region to push the one-time SSH key: set aws-region (or AWS_REGION), ${fallback}`);
    }
    if (isRetryable(err)) {
        return new errors/* TransientError */.N_(`SendSSHPublicKey for ${instanceId} kept failing after retries (${awsErrorName(err) || 'network error'}); ` +
            `try again later or lower max-parallel-targets${awsSays(err)}`, { cause: err });
    }
    return new errors/* UserError */.yo(`SendSSHPublicKey for ${instanceId} failed: ${(0,errors/* errorMessage */.gJ)(err).split('\n')[0]}`);
}
function providedKeySource(opts) {
    const key = opts.providedKey;
    for (const part of secretPartsOfKey(key))
        opts.logger.setSecret(part);
    if (opts.passphrase)
        opts.logger.setSecret(opts.passphrase);
    return {
        privateKey: key,
        passphrase: opts.passphrase || undefined,
        oneTime: false,
        beforeConnect: async () => { }
    };
}
/** The key to log in with: the provided one, or a one-time key pushed before every connection. */
function createKeySource(opts) {
    if (opts.providedKey && opts.providedKey.trim())
        return providedKeySource(opts);
    const { logger, user, aws } = opts;
    const pair = generateEd25519KeyPair();
    for (const part of secretPartsOfKey(pair.privateKey))
        logger.setSecret(part);
    let client = opts.client;
    const getClient = () => (client ??= new dist_cjs/* EC2InstanceConnectClient */.VJ({
        region: aws.region || undefined,
        credentials: aws.credentials
    }));
    const push = async (instanceId, availabilityZone, signal) => {
        if (!instanceId) {
            throw new errors/* UserError */.yo('a one-time SSH key needs the EC2 instance id of the target (EC2 Instance Connect pushes the key to an instance): ' +
                'give the instance id with the target, or give ssh-private-key');
        }
        if (!/^i-[0-9a-f]+$/.test(instanceId)) {
            throw new errors/* UserError */.yo(`${instanceId} is not an EC2 instance id (i-...): one-time keys are pushed with EC2 Instance Connect, which only serves EC2 instances; give ssh-private-key for this target`);
        }
        const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '<region>';
        try {
            await (0,retry/* retry */.L5)(() => getClient().send(new dist_cjs/* SendSSHPublicKeyCommand */.iV({
                InstanceId: instanceId,
                InstanceOSUser: user,
                SSHPublicKey: pair.publicKey,
                ...(availabilityZone ? { AvailabilityZone: availabilityZone } : {})
            }), { abortSignal: signal }), {
                attempts: 4,
                baseDelayMs: 500,
                maxDelayMs: 5000,
                shouldRetry: isRetryable,
                onRetry: (err, attempt, delay) => logger.debug(`SendSSHPublicKey ${instanceId}: ${awsErrorName(err) || (0,errors/* errorMessage */.gJ)(err)}; retry ${attempt} in ${delay} ms`),
                signal,
                ...opts.retry
            });
        }
        catch (err) {
            if (signal?.aborted)
                throw err;
            throw pushErrorToUserError(err, { instanceId, user, region });
        }
        logger.debug(`pushed one-time key ${pair.fingerprint} to ${instanceId} for user ${user} (valid 60 s)`);
    };
    return {
        privateKey: pair.privateKey,
        oneTime: true,
        publicKey: pair.publicKey,
        fingerprint: pair.fingerprint,
        beforeConnect: push,
        loginRefused: instanceId => oneTimeKeyRefusedHint(instanceId ?? 'target', opts.user)
    };
}
/**
 * A hint for when sshd refuses a pushed one-time key although the push succeeded: the push cannot
 * tell whether the instance will honour it.
 */
function oneTimeKeyRefusedHint(instanceId, user) {
    return (`the instance ${instanceId} refused the one-time key pushed for user "${user}": it needs the ec2-instance-connect ` +
        `package (with IMDS reachable) and the OS user "${user}" must exist; fix that or give ssh-private-key`);
}


/***/ })

};
