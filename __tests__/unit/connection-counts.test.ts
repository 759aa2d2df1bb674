import { connectionLimit, lateConnections } from '../../src/deploy/context.js'
import { connectionsWorth } from '../../src/transfer/ranges.js'

/**
 * How many connections an upload opens (src/deploy/context.ts, src/transfer/ranges.ts): a sync opens
 * more than the first only when what changed is more than one connection carries in the time another
 * takes to open; small files only are worth fewer; ssm's sessions are window-bound and get more.
 */

const files = (n: number, size: number) => Array.from({ length: n }, () => ({ size }))

test('a few changed files stay on the one connection; many files or many bytes use more', () => {
  expect(lateConnections(files(1, 4096), 128)).toBe(1)
  expect(lateConnections(files(200, 4096), 128)).toBe(1)
  expect(lateConnections(files(257, 4096), 128)).toBe(257)
  expect(lateConnections(files(5, 20 * 1024 * 1024), 128)).toBe(Infinity)
  expect(lateConnections(files(3, 10 * 1024 * 1024), 128)).toBe(1)
})

test('small files only are worth two connections, and one more per 8 MiB of them beyond 16 MiB', () => {
  expect(connectionsWorth(files(1, 4096))).toBe(1)
  expect(connectionsWorth(files(2000, 4096))).toBe(2)
  expect(connectionsWorth(files(3 * 1024, 8 * 1024))).toBe(3)
  expect(connectionsWorth(files(600, 64 * 1024))).toBe(5)
  // A file larger than a pack's member keeps every connection it can use.
  expect(connectionsWorth([...files(2000, 4096), { size: 65 * 1024 }])).toBe(2001)
  expect(connectionsWorth(files(1, 64 * 1024 * 1024))).toBe(Infinity)
})

test('connections: the number given, else 4, and 8 over ssm; eice within its share of the tunnels', () => {
  const base = { connections: 4, connectionsGiven: false, eiceMaxTunnels: 20, maxParallelTargets: 1 }
  expect(connectionLimit(base, 'nlb')).toBe(4)
  expect(connectionLimit(base, 'ssm')).toBe(8)
  expect(connectionLimit({ ...base, connections: 2, connectionsGiven: true }, 'ssm')).toBe(2)
  expect(connectionLimit({ ...base, connections: 16, connectionsGiven: true }, 'eice')).toBe(16)
  expect(
    connectionLimit({ ...base, connections: 16, connectionsGiven: true, maxParallelTargets: 4 }, 'eice')
  ).toBe(5)
  expect(connectionLimit({ ...base, eiceMaxTunnels: 1, maxParallelTargets: 3 }, 'eice')).toBe(1)
})
