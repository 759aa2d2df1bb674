// Loaded before every test file (jest.config.js setupFiles). The AWS SDK prints a notice, once per
// module registry (so once per test file that loads it), that its releases after January 2027 need
// Node >= 22; the tests may run on an older Node (this project's engines say >= 22, npm only warns).
// The SDK's own switch turns off that one notice; every other warning still prints.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
