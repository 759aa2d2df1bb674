#!/usr/bin/env node
// bundle-shims must come first: ssh2's bundled code reads __dirname while loading.
import './bundle-shims.js'
import { main } from './cli/main.js'
import { divertWorkflowCommands, processIo } from './cli/io.js'

// The SDK's multi-line "node >= 22 soon" notice would land in every ssh session's stderr (engines: node >= 20).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
divertWorkflowCommands(process.argv.includes('--debug'))
const code = await main(process.argv.slice(2), processIo())
// Let in-flight clean-up (a tunnel's TerminateSession call) finish before exiting, but never hang.
process.exitCode = code
setTimeout(() => process.exit(code), 10_000).unref()
