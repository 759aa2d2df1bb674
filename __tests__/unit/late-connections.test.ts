import { lateConnections } from '../../src/deploy/context.js'

/**
 * A sync opens connections beside the first only when what changed is more than one connection
 * carries in the time another takes to open (src/deploy/context.ts).
 */

const files = (n: number, size: number) => Array.from({ length: n }, () => ({ size }))

test('a few changed files stay on the one connection; many files or many bytes use more', () => {
  expect(lateConnections(files(1, 4096), 128)).toBe(1)
  expect(lateConnections(files(200, 4096), 128)).toBe(1)
  expect(lateConnections(files(257, 4096), 128)).toBe(257)
  expect(lateConnections(files(5, 20 * 1024 * 1024), 128)).toBe(Infinity)
  expect(lateConnections(files(3, 10 * 1024 * 1024), 128)).toBe(1)
})
