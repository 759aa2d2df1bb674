import path from 'node:path'
import { fileURLToPath } from 'node:url'

// The bundle is an ES module, where `__dirname` does not exist, but ssh2's bundled emscripten
// poly1305 reads it while loading. Define it before anything imports ssh2 (this module is imported first).
const g = globalThis as { __dirname?: string }
g.__dirname ??= path.dirname(fileURLToPath(import.meta.url))
