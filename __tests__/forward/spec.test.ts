import { parseForwardSpec, parseForwardSpecs } from '../../src/forward/spec.js'

/** The forward spec, ssh -L style: [local-port:]host:port. */

test.each([
  ['5432:db.internal:5432', { localPort: 5432, host: 'db.internal', port: 5432 }],
  ['localhost:80', { localPort: 0, host: 'localhost', port: 80 }],
  ['0:10.0.1.5:6379', { localPort: 0, host: '10.0.1.5', port: 6379 }],
  ['8443:[fd00::1]:443', { localPort: 8443, host: 'fd00::1', port: 443 }],
  [' 8080:localhost:80 ', { localPort: 8080, host: 'localhost', port: 80 }]
])('%s', (text, expected) => {
  expect(parseForwardSpec(text)).toEqual({ ...expected, text: text.trim() })
})

test.each([
  ['db.internal', /is not \[local-port:\]host:port/],
  ['5432:db.internal', /the port 'db.internal'|is not \[local-port:\]host:port/],
  ['70000:db:5432', /the local port '70000' is not a port number \(0-65535\)/],
  ['5432:db:0', /the port '0' is not a port number \(1-65535\)/],
  ['1:db;rm -rf:5432', /'db;rm -rf' is not a host name or IP address/],
  ['1:a b:5432', /not a host name/]
])('%s is refused in one line', (text, message) => {
  expect(() => parseForwardSpec(text)).toThrow(message)
})

test('several, by line or comma; comments skipped; one local port asked twice is refused', () => {
  expect(
    parseForwardSpecs('5432:db:5432, 8080:localhost:80 # the web\n# a comment\n\nlocalhost:22').map(
      s => s.text
    )
  ).toEqual(['5432:db:5432', '8080:localhost:80', 'localhost:22'])
  expect(() => parseForwardSpecs('5432:db:5432\n5432:other:5432')).toThrow(
    "forward: '5432:db:5432' and '5432:other:5432' both ask for local port 5432"
  )
  expect(parseForwardSpecs('localhost:80\nlocalhost:81')).toHaveLength(2)
})
