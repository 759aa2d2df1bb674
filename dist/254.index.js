export const id = 254;
export const ids = [254];
export const modules = {

/***/ 9254:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {

var __webpack_unused_export__;
const { awsEndpointFunctions, emitWarningIfUnsupportedVersion: emitWarningIfUnsupportedVersion$1, createDefaultUserAgentProvider, NODE_APP_ID_CONFIG_OPTIONS, getAwsRegionExtensionConfiguration, resolveAwsRegionExtensionConfiguration, resolveUserAgentConfig, resolveHostHeaderConfig, getUserAgentPlugin, getHostHeaderPlugin, getLoggerPlugin, getRecursionDetectionPlugin } = __webpack_require__(5152);
const { getHttpAuthSchemeEndpointRuleSetPlugin, DefaultIdentityProviderConfig, getHttpSigningPlugin } = __webpack_require__(402);
const { normalizeProvider, getSmithyContext, ServiceException: ServiceException$1, NoOpLogger, emitWarningIfUnsupportedVersion, loadConfigsForDefaultMode, getDefaultExtensionConfiguration, resolveDefaultRuntimeConfig, Client, makeBuilder, createAggregatedClient } = __webpack_require__(2658);
const { Command: $Command } = __webpack_require__(2658);
__webpack_unused_export__ = $Command;
__webpack_unused_export__ = Client;
const { resolveDefaultsModeConfig, loadConfig, NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS, resolveRegionConfig } = __webpack_require__(7291);
const { BinaryDecisionDiagram, EndpointCache, decideEndpoint, customEndpointFunctions, resolveEndpointConfig, getEndpointPlugin } = __webpack_require__(2085);
const { parseUrl, getHttpHandlerExtensionConfiguration, resolveHttpHandlerRuntimeConfig, getContentLengthPlugin } = __webpack_require__(3422);
const { DEFAULT_RETRY_MODE, NODE_RETRY_MODE_CONFIG_OPTIONS, NODE_MAX_ATTEMPT_CONFIG_OPTIONS, resolveRetryConfig, getRetryPlugin } = __webpack_require__(3609);
const { TypeRegistry, getSchemaSerdePlugin } = __webpack_require__(6890);
const { resolveAwsSdkSigV4Config, AwsSdkSigV4Signer, NODE_AUTH_SCHEME_PREFERENCE_OPTIONS } = __webpack_require__(7523);
const { defaultProvider } = __webpack_require__(5861);
const { toUtf8, fromUtf8, toBase64, fromBase64, calculateBodyLength } = __webpack_require__(2430);
const { streamCollector, NodeHttpHandler } = __webpack_require__(1279);
const { AwsJson1_1Protocol } = __webpack_require__(7288);
const { Sha256 } = __webpack_require__(9542);

const defaultEC2InstanceConnectHttpAuthSchemeParametersProvider = async (config, context, input) => {
    return {
        operation: getSmithyContext(context).operation,
        region: await normalizeProvider(config.region)() || (() => {
            throw new Error("expected `region` to be configured for `aws.auth#sigv4`");
        })(),
    };
};
function createAwsAuthSigv4HttpAuthOption(authParameters) {
    return {
        schemeId: "aws.auth#sigv4",
        signingProperties: {
            name: "ec2-instance-connect",
            region: authParameters.region,
        },
        propertiesExtractor: (config, context) => ({
            signingProperties: {
                config,
                context,
            },
        }),
    };
}
const defaultEC2InstanceConnectHttpAuthSchemeProvider = (authParameters) => {
    const options = [];
    switch (authParameters.operation) {
        default: {
            options.push(createAwsAuthSigv4HttpAuthOption(authParameters));
        }
    }
    return options;
};
const resolveHttpAuthSchemeConfig = (config) => {
    const config_0 = resolveAwsSdkSigV4Config(config);
    return Object.assign(config_0, {
        authSchemePreference: normalizeProvider(config.authSchemePreference ?? []),
    });
};

const resolveClientEndpointParameters = (options) => {
    return Object.assign(options, {
        useDualstackEndpoint: options.useDualstackEndpoint ?? false,
        useFipsEndpoint: options.useFipsEndpoint ?? false,
        defaultSigningName: "ec2-instance-connect",
    });
};
const commonParams = {
    UseFIPS: { type: "builtInParams", name: "useFipsEndpoint" },
    Endpoint: { type: "builtInParams", name: "endpoint" },
    Region: { type: "builtInParams", name: "region" },
    UseDualStack: { type: "builtInParams", name: "useDualstackEndpoint" },
};

var version = "3.1137.0";
var packageInfo = {
	version: version};

const k = "ref";
const a = -1, b = true, c = "isSet", d = "PartitionResult", e = "booleanEquals", f = "getAttr", g = { [k]: "Endpoint" }, h = { [k]: d }, i = {}, j = [{ [k]: "Region" }];
const _data = {
    conditions: [
        [c, [g]],
        [c, j],
        ["aws.partition", j, d],
        [e, [{ [k]: "UseFIPS" }, b]],
        [e, [{ [k]: "UseDualStack" }, b]],
        [e, [{ fn: f, argv: [h, "supportsDualStack"] }, b]],
        [e, [{ fn: f, argv: [h, "supportsFIPS"] }, b]]
    ],
    results: [
        [a],
        [a, "Invalid Configuration: FIPS and custom endpoint are not supported"],
        [a, "Invalid Configuration: Dualstack and custom endpoint are not supported"],
        [g, i],
        ["https://ec2-instance-connect-fips.{Region}.{PartitionResult#dualStackDnsSuffix}", i],
        [a, "FIPS and DualStack are enabled, but this partition does not support one or both"],
        ["https://ec2-instance-connect-fips.{Region}.{PartitionResult#dnsSuffix}", i],
        [a, "FIPS is enabled but this partition does not support FIPS"],
        ["https://ec2-instance-connect.{Region}.{PartitionResult#dualStackDnsSuffix}", i],
        [a, "DualStack is enabled but this partition does not support DualStack"],
        ["https://ec2-instance-connect.{Region}.{PartitionResult#dnsSuffix}", i],
        [a, "Invalid Configuration: Missing Region"]
    ]
};
const root = 2;
const r = 100_000_000;
const nodes = new Int32Array([
    -1, 1, -1,
    0, 12, 3,
    1, 4, r + 11,
    2, 5, r + 11,
    3, 8, 6,
    4, 7, r + 10,
    5, r + 8, r + 9,
    4, 10, 9,
    6, r + 6, r + 7,
    5, 11, r + 5,
    6, r + 4, r + 5,
    3, r + 1, 13,
    4, r + 2, r + 3,
]);
const bdd = BinaryDecisionDiagram.from(nodes, root, _data.conditions, _data.results);

const cache = new EndpointCache({
    size: 50,
    params: ["Endpoint", "Region", "UseDualStack", "UseFIPS"],
});
const defaultEndpointResolver = (endpointParams, context = {}) => {
    return cache.get(endpointParams, () => decideEndpoint(bdd, {
        endpointParams: endpointParams,
        logger: context.logger,
    }));
};
customEndpointFunctions.aws = awsEndpointFunctions;

class EC2InstanceConnectServiceException extends ServiceException$1 {
    constructor(options) {
        super(options);
        Object.setPrototypeOf(this, EC2InstanceConnectServiceException.prototype);
    }
}

class AuthException extends EC2InstanceConnectServiceException {
    name = "AuthException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "AuthException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, AuthException.prototype);
        this.Message = opts.Message;
    }
}
class EC2InstanceNotFoundException extends EC2InstanceConnectServiceException {
    name = "EC2InstanceNotFoundException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "EC2InstanceNotFoundException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, EC2InstanceNotFoundException.prototype);
        this.Message = opts.Message;
    }
}
class EC2InstanceStateInvalidException extends EC2InstanceConnectServiceException {
    name = "EC2InstanceStateInvalidException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "EC2InstanceStateInvalidException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, EC2InstanceStateInvalidException.prototype);
        this.Message = opts.Message;
    }
}
class EC2InstanceTypeInvalidException extends EC2InstanceConnectServiceException {
    name = "EC2InstanceTypeInvalidException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "EC2InstanceTypeInvalidException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, EC2InstanceTypeInvalidException.prototype);
        this.Message = opts.Message;
    }
}
class EC2InstanceUnavailableException extends EC2InstanceConnectServiceException {
    name = "EC2InstanceUnavailableException";
    $fault = "server";
    Message;
    constructor(opts) {
        super({
            name: "EC2InstanceUnavailableException",
            $fault: "server",
            ...opts,
        });
        Object.setPrototypeOf(this, EC2InstanceUnavailableException.prototype);
        this.Message = opts.Message;
    }
}
class InvalidArgsException extends EC2InstanceConnectServiceException {
    name = "InvalidArgsException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "InvalidArgsException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, InvalidArgsException.prototype);
        this.Message = opts.Message;
    }
}
class SerialConsoleAccessDisabledException extends EC2InstanceConnectServiceException {
    name = "SerialConsoleAccessDisabledException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "SerialConsoleAccessDisabledException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, SerialConsoleAccessDisabledException.prototype);
        this.Message = opts.Message;
    }
}
class SerialConsoleSessionLimitExceededException extends EC2InstanceConnectServiceException {
    name = "SerialConsoleSessionLimitExceededException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "SerialConsoleSessionLimitExceededException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, SerialConsoleSessionLimitExceededException.prototype);
        this.Message = opts.Message;
    }
}
class SerialConsoleSessionUnavailableException extends EC2InstanceConnectServiceException {
    name = "SerialConsoleSessionUnavailableException";
    $fault = "server";
    Message;
    constructor(opts) {
        super({
            name: "SerialConsoleSessionUnavailableException",
            $fault: "server",
            ...opts,
        });
        Object.setPrototypeOf(this, SerialConsoleSessionUnavailableException.prototype);
        this.Message = opts.Message;
    }
}
class SerialConsoleSessionUnsupportedException extends EC2InstanceConnectServiceException {
    name = "SerialConsoleSessionUnsupportedException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "SerialConsoleSessionUnsupportedException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, SerialConsoleSessionUnsupportedException.prototype);
        this.Message = opts.Message;
    }
}
class ServiceException extends EC2InstanceConnectServiceException {
    name = "ServiceException";
    $fault = "server";
    Message;
    constructor(opts) {
        super({
            name: "ServiceException",
            $fault: "server",
            ...opts,
        });
        Object.setPrototypeOf(this, ServiceException.prototype);
        this.Message = opts.Message;
    }
}
class ThrottlingException extends EC2InstanceConnectServiceException {
    name = "ThrottlingException";
    $fault = "client";
    Message;
    constructor(opts) {
        super({
            name: "ThrottlingException",
            $fault: "client",
            ...opts,
        });
        Object.setPrototypeOf(this, ThrottlingException.prototype);
        this.Message = opts.Message;
    }
}

const _AE = "AuthException";
const _AZ = "AvailabilityZone";
const _ECINFE = "EC2InstanceNotFoundException";
const _ECISIE = "EC2InstanceStateInvalidException";
const _ECITIE = "EC2InstanceTypeInvalidException";
const _ECIUE = "EC2InstanceUnavailableException";
const _IAE = "InvalidArgsException";
const _II = "InstanceId";
const _IOSU = "InstanceOSUser";
const _M = "Message";
const _RI = "RequestId";
const _S = "Success";
const _SCADE = "SerialConsoleAccessDisabledException";
const _SCSLEE = "SerialConsoleSessionLimitExceededException";
const _SCSUE = "SerialConsoleSessionUnavailableException";
const _SCSUEe = "SerialConsoleSessionUnsupportedException";
const _SE = "ServiceException";
const _SP = "SerialPort";
const _SSCSSHPK = "SendSerialConsoleSSHPublicKey";
const _SSCSSHPKR = "SendSerialConsoleSSHPublicKeyRequest";
const _SSCSSHPKRe = "SendSerialConsoleSSHPublicKeyResponse";
const _SSHPK = "SSHPublicKey";
const _SSSHPK = "SendSSHPublicKey";
const _SSSHPKR = "SendSSHPublicKeyRequest";
const _SSSHPKRe = "SendSSHPublicKeyResponse";
const _TE = "ThrottlingException";
const _aQE = "awsQueryError";
const _c = "client";
const _e = "error";
const _hE = "httpError";
const _s = "smithy.ts.sdk.synthetic.com.amazonaws.ec2instanceconnect";
const _se = "server";
const n0 = "com.amazonaws.ec2instanceconnect";
const _s_registry = new TypeRegistry(_s);
var EC2InstanceConnectServiceException$ = [-3, _s, "EC2InstanceConnectServiceException", 0, [], []];
_s_registry.registerError(EC2InstanceConnectServiceException$, EC2InstanceConnectServiceException);
const n0_registry = new TypeRegistry(n0);
var AuthException$ = [-3, n0, _AE,
    { [_aQE]: [`Forbidden`, 403], [_e]: _c, [_hE]: 403 },
    [_M],
    [0]
];
n0_registry.registerError(AuthException$, AuthException);
var EC2InstanceNotFoundException$ = [-3, n0, _ECINFE,
    { [_aQE]: [`EC2InstanceNotFound`, 404], [_e]: _c, [_hE]: 404 },
    [_M],
    [0]
];
n0_registry.registerError(EC2InstanceNotFoundException$, EC2InstanceNotFoundException);
var EC2InstanceStateInvalidException$ = [-3, n0, _ECISIE,
    { [_aQE]: [`EC2InstanceStateInvalid`, 400], [_e]: _c, [_hE]: 400 },
    [_M],
    [0]
];
n0_registry.registerError(EC2InstanceStateInvalidException$, EC2InstanceStateInvalidException);
var EC2InstanceTypeInvalidException$ = [-3, n0, _ECITIE,
    { [_aQE]: [`EC2InstanceTypeInvalid`, 400], [_e]: _c, [_hE]: 400 },
    [_M],
    [0]
];
n0_registry.registerError(EC2InstanceTypeInvalidException$, EC2InstanceTypeInvalidException);
var EC2InstanceUnavailableException$ = [-3, n0, _ECIUE,
    { [_aQE]: [`EC2InstanceUnavailable`, 503], [_e]: _se, [_hE]: 503 },
    [_M],
    [0]
];
n0_registry.registerError(EC2InstanceUnavailableException$, EC2InstanceUnavailableException);
var InvalidArgsException$ = [-3, n0, _IAE,
    { [_aQE]: [`InvalidArguments`, 400], [_e]: _c, [_hE]: 400 },
    [_M],
    [0]
];
n0_registry.registerError(InvalidArgsException$, InvalidArgsException);
var SerialConsoleAccessDisabledException$ = [-3, n0, _SCADE,
    { [_aQE]: [`SerialConsoleAccessDisabled`, 403], [_e]: _c, [_hE]: 403 },
    [_M],
    [0]
];
n0_registry.registerError(SerialConsoleAccessDisabledException$, SerialConsoleAccessDisabledException);
var SerialConsoleSessionLimitExceededException$ = [-3, n0, _SCSLEE,
    { [_aQE]: [`SerialConsoleSessionLimitExceeded`, 400], [_e]: _c, [_hE]: 400 },
    [_M],
    [0]
];
n0_registry.registerError(SerialConsoleSessionLimitExceededException$, SerialConsoleSessionLimitExceededException);
var SerialConsoleSessionUnavailableException$ = [-3, n0, _SCSUE,
    { [_aQE]: [`SerialConsoleSessionUnavailable`, 500], [_e]: _se, [_hE]: 500 },
    [_M],
    [0]
];
n0_registry.registerError(SerialConsoleSessionUnavailableException$, SerialConsoleSessionUnavailableException);
var SerialConsoleSessionUnsupportedException$ = [-3, n0, _SCSUEe,
    { [_aQE]: [`SerialConsoleSessionUnsupported`, 400], [_e]: _c, [_hE]: 400 },
    [_M],
    [0]
];
n0_registry.registerError(SerialConsoleSessionUnsupportedException$, SerialConsoleSessionUnsupportedException);
var ServiceException$ = [-3, n0, _SE,
    { [_aQE]: [`InternalServerError`, 500], [_e]: _se, [_hE]: 500 },
    [_M],
    [0]
];
n0_registry.registerError(ServiceException$, ServiceException);
var ThrottlingException$ = [-3, n0, _TE,
    { [_aQE]: [`TooManyRequests`, 429], [_e]: _c, [_hE]: 429 },
    [_M],
    [0]
];
n0_registry.registerError(ThrottlingException$, ThrottlingException);
const errorTypeRegistries = [
    _s_registry,
    n0_registry,
];
var SendSerialConsoleSSHPublicKeyRequest$ = [3, n0, _SSCSSHPKR,
    0,
    [_II, _SSHPK, _SP],
    [0, 0, 1], 2
];
var SendSerialConsoleSSHPublicKeyResponse$ = [3, n0, _SSCSSHPKRe,
    0,
    [_RI, _S],
    [0, 2]
];
var SendSSHPublicKeyRequest$ = [3, n0, _SSSHPKR,
    0,
    [_II, _IOSU, _SSHPK, _AZ],
    [0, 0, 0, 0], 3
];
var SendSSHPublicKeyResponse$ = [3, n0, _SSSHPKRe,
    0,
    [_RI, _S],
    [0, 2]
];
var SendSerialConsoleSSHPublicKey$ = [9, n0, _SSCSSHPK,
    0, () => SendSerialConsoleSSHPublicKeyRequest$, () => SendSerialConsoleSSHPublicKeyResponse$
];
var SendSSHPublicKey$ = [9, n0, _SSSHPK,
    0, () => SendSSHPublicKeyRequest$, () => SendSSHPublicKeyResponse$
];

const getRuntimeConfig$1 = (config) => {
    return {
        apiVersion: "2018-04-02",
        base64Decoder: config?.base64Decoder ?? fromBase64,
        base64Encoder: config?.base64Encoder ?? toBase64,
        disableHostPrefix: config?.disableHostPrefix ?? false,
        endpointProvider: config?.endpointProvider ?? defaultEndpointResolver,
        extensions: config?.extensions ?? [],
        httpAuthSchemeProvider: config?.httpAuthSchemeProvider ?? defaultEC2InstanceConnectHttpAuthSchemeProvider,
        httpAuthSchemes: config?.httpAuthSchemes ?? [
            {
                schemeId: "aws.auth#sigv4",
                identityProvider: (ipc) => ipc.getIdentityProvider("aws.auth#sigv4"),
                signer: new AwsSdkSigV4Signer(),
            },
        ],
        logger: config?.logger ?? new NoOpLogger(),
        protocol: config?.protocol ?? AwsJson1_1Protocol,
        protocolSettings: config?.protocolSettings ?? {
            defaultNamespace: "com.amazonaws.ec2instanceconnect",
            errorTypeRegistries,
            version: "2018-04-02",
            serviceTarget: "AWSEC2InstanceConnectService",
        },
        serviceId: config?.serviceId ?? "EC2 Instance Connect",
        sha256: config?.sha256 ?? Sha256,
        urlParser: config?.urlParser ?? parseUrl,
        utf8Decoder: config?.utf8Decoder ?? fromUtf8,
        utf8Encoder: config?.utf8Encoder ?? toUtf8,
    };
};

const getRuntimeConfig = (config) => {
    emitWarningIfUnsupportedVersion(process.version);
    const defaultsMode = resolveDefaultsModeConfig(config);
    const defaultConfigProvider = () => defaultsMode().then(loadConfigsForDefaultMode);
    const clientSharedValues = getRuntimeConfig$1(config);
    emitWarningIfUnsupportedVersion$1(process.version);
    const loaderConfig = {
        profile: config?.profile,
        logger: clientSharedValues.logger,
    };
    return {
        ...clientSharedValues,
        ...config,
        runtime: "node",
        defaultsMode,
        authSchemePreference: config?.authSchemePreference ?? loadConfig(NODE_AUTH_SCHEME_PREFERENCE_OPTIONS, loaderConfig),
        bodyLengthChecker: config?.bodyLengthChecker ?? calculateBodyLength,
        credentialDefaultProvider: config?.credentialDefaultProvider ?? defaultProvider,
        defaultUserAgentProvider: config?.defaultUserAgentProvider ?? createDefaultUserAgentProvider({ serviceId: clientSharedValues.serviceId, clientVersion: packageInfo.version }),
        maxAttempts: config?.maxAttempts ?? loadConfig(NODE_MAX_ATTEMPT_CONFIG_OPTIONS, config),
        region: config?.region ?? loadConfig(NODE_REGION_CONFIG_OPTIONS, { ...NODE_REGION_CONFIG_FILE_OPTIONS, ...loaderConfig }),
        requestHandler: NodeHttpHandler.create(config?.requestHandler ?? defaultConfigProvider),
        retryMode: config?.retryMode ??
            loadConfig({
                ...NODE_RETRY_MODE_CONFIG_OPTIONS,
                default: async () => (await defaultConfigProvider()).retryMode || DEFAULT_RETRY_MODE,
            }, config),
        streamCollector: config?.streamCollector ?? streamCollector,
        useDualstackEndpoint: config?.useDualstackEndpoint ?? loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS, loaderConfig),
        useFipsEndpoint: config?.useFipsEndpoint ?? loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS, loaderConfig),
        userAgentAppId: config?.userAgentAppId ?? loadConfig(NODE_APP_ID_CONFIG_OPTIONS, loaderConfig),
    };
};

const getHttpAuthExtensionConfiguration = (runtimeConfig) => {
    const _httpAuthSchemes = runtimeConfig.httpAuthSchemes;
    let _httpAuthSchemeProvider = runtimeConfig.httpAuthSchemeProvider;
    let _credentials = runtimeConfig.credentials;
    return {
        setHttpAuthScheme(httpAuthScheme) {
            const index = _httpAuthSchemes.findIndex((scheme) => scheme.schemeId === httpAuthScheme.schemeId);
            if (index === -1) {
                _httpAuthSchemes.push(httpAuthScheme);
            }
            else {
                _httpAuthSchemes.splice(index, 1, httpAuthScheme);
            }
        },
        httpAuthSchemes() {
            return _httpAuthSchemes;
        },
        setHttpAuthSchemeProvider(httpAuthSchemeProvider) {
            _httpAuthSchemeProvider = httpAuthSchemeProvider;
        },
        httpAuthSchemeProvider() {
            return _httpAuthSchemeProvider;
        },
        setCredentials(credentials) {
            _credentials = credentials;
        },
        credentials() {
            return _credentials;
        },
    };
};
const resolveHttpAuthRuntimeConfig = (config) => {
    return {
        httpAuthSchemes: config.httpAuthSchemes(),
        httpAuthSchemeProvider: config.httpAuthSchemeProvider(),
        credentials: config.credentials(),
    };
};

const resolveRuntimeExtensions = (runtimeConfig, extensions) => {
    const extensionConfiguration = Object.assign(getAwsRegionExtensionConfiguration(runtimeConfig), getDefaultExtensionConfiguration(runtimeConfig), getHttpHandlerExtensionConfiguration(runtimeConfig), getHttpAuthExtensionConfiguration(runtimeConfig));
    extensions.forEach((extension) => extension.configure(extensionConfiguration));
    return Object.assign(runtimeConfig, resolveAwsRegionExtensionConfiguration(extensionConfiguration), resolveDefaultRuntimeConfig(extensionConfiguration), resolveHttpHandlerRuntimeConfig(extensionConfiguration), resolveHttpAuthRuntimeConfig(extensionConfiguration));
};

class EC2InstanceConnectClient extends Client {
    config;
    constructor(...[configuration]) {
        const _config_0 = getRuntimeConfig(configuration || {});
        super(_config_0);
        this.initConfig = _config_0;
        const _config_1 = resolveClientEndpointParameters(_config_0);
        const _config_2 = resolveUserAgentConfig(_config_1);
        const _config_3 = resolveRetryConfig(_config_2);
        const _config_4 = resolveRegionConfig(_config_3);
        const _config_5 = resolveHostHeaderConfig(_config_4);
        const _config_6 = resolveEndpointConfig(_config_5);
        const _config_7 = resolveHttpAuthSchemeConfig(_config_6);
        const _config_8 = resolveRuntimeExtensions(_config_7, configuration?.extensions || []);
        this.config = _config_8;
        this.middlewareStack.use(getSchemaSerdePlugin(this.config));
        this.middlewareStack.use(getUserAgentPlugin(this.config));
        this.middlewareStack.use(getRetryPlugin(this.config));
        this.middlewareStack.use(getContentLengthPlugin(this.config));
        this.middlewareStack.use(getHostHeaderPlugin(this.config));
        this.middlewareStack.use(getLoggerPlugin(this.config));
        this.middlewareStack.use(getRecursionDetectionPlugin(this.config));
        this.middlewareStack.use(getHttpAuthSchemeEndpointRuleSetPlugin(this.config, {
            httpAuthSchemeParametersProvider: defaultEC2InstanceConnectHttpAuthSchemeParametersProvider,
            identityProviderConfigProvider: async (config) => new DefaultIdentityProviderConfig({
                "aws.auth#sigv4": config.credentials,
            }),
        }));
        this.middlewareStack.use(getHttpSigningPlugin(this.config));
    }
    destroy() {
        super.destroy();
    }
}

const command = makeBuilder(commonParams, "AWSEC2InstanceConnectService", "EC2InstanceConnectClient", getEndpointPlugin);
const _ep0 = {};
const _mw0 = (Command, cs, config, o) => [];

class SendSerialConsoleSSHPublicKeyCommand extends command(_ep0, _mw0, "SendSerialConsoleSSHPublicKey", SendSerialConsoleSSHPublicKey$) {
}

class SendSSHPublicKeyCommand extends command(_ep0, _mw0, "SendSSHPublicKey", SendSSHPublicKey$) {
}

const commands = {
    SendSerialConsoleSSHPublicKeyCommand,
    SendSSHPublicKeyCommand,
};
class EC2InstanceConnect extends EC2InstanceConnectClient {
}
createAggregatedClient(commands, EC2InstanceConnect);

__webpack_unused_export__ = AuthException;
__webpack_unused_export__ = AuthException$;
__webpack_unused_export__ = EC2InstanceConnect;
exports.VJ = EC2InstanceConnectClient;
__webpack_unused_export__ = EC2InstanceConnectServiceException;
__webpack_unused_export__ = EC2InstanceConnectServiceException$;
__webpack_unused_export__ = EC2InstanceNotFoundException;
__webpack_unused_export__ = EC2InstanceNotFoundException$;
__webpack_unused_export__ = EC2InstanceStateInvalidException;
__webpack_unused_export__ = EC2InstanceStateInvalidException$;
__webpack_unused_export__ = EC2InstanceTypeInvalidException;
__webpack_unused_export__ = EC2InstanceTypeInvalidException$;
__webpack_unused_export__ = EC2InstanceUnavailableException;
__webpack_unused_export__ = EC2InstanceUnavailableException$;
__webpack_unused_export__ = InvalidArgsException;
__webpack_unused_export__ = InvalidArgsException$;
__webpack_unused_export__ = SendSSHPublicKey$;
exports.iV = SendSSHPublicKeyCommand;
__webpack_unused_export__ = SendSSHPublicKeyRequest$;
__webpack_unused_export__ = SendSSHPublicKeyResponse$;
__webpack_unused_export__ = SendSerialConsoleSSHPublicKey$;
__webpack_unused_export__ = SendSerialConsoleSSHPublicKeyCommand;
__webpack_unused_export__ = SendSerialConsoleSSHPublicKeyRequest$;
__webpack_unused_export__ = SendSerialConsoleSSHPublicKeyResponse$;
__webpack_unused_export__ = SerialConsoleAccessDisabledException;
__webpack_unused_export__ = SerialConsoleAccessDisabledException$;
__webpack_unused_export__ = SerialConsoleSessionLimitExceededException;
__webpack_unused_export__ = SerialConsoleSessionLimitExceededException$;
__webpack_unused_export__ = SerialConsoleSessionUnavailableException;
__webpack_unused_export__ = SerialConsoleSessionUnavailableException$;
__webpack_unused_export__ = SerialConsoleSessionUnsupportedException;
__webpack_unused_export__ = SerialConsoleSessionUnsupportedException$;
__webpack_unused_export__ = ServiceException;
__webpack_unused_export__ = ServiceException$;
__webpack_unused_export__ = ThrottlingException;
__webpack_unused_export__ = ThrottlingException$;
__webpack_unused_export__ = errorTypeRegistries;


/***/ })

};
