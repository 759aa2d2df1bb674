import { bypassesProxy, maskedProxyUrl, parseProxyUrl, proxyFor, proxyPort } from '../../src/net/proxy-env.js'

/** NO_PROXY matching as curl does it (plus ports), and which variable names the proxy. */

describe('NO_PROXY', () => {
  test.each([
    // [host, port, NO_PROXY, goes direct]
    ['example.com', 443, '*', true],
    ['example.com', 443, '', false],
    ['example.com', 443, 'example.com', true],
    ['www.example.com', 443, 'example.com', true],
    ['notexample.com', 443, 'example.com', false],
    ['example.com', 443, '.example.com', true],
    ['a.b.example.com', 443, '.example.com', true],
    ['EXAMPLE.com.', 443, 'example.COM', true],
    ['example.org', 443, 'example.com, example.org', true],
    ['example.org', 443, 'example.com example.org', true],
    ['ssm.us-east-1.amazonaws.com', 443, 'amazonaws.com:8443', false],
    ['ssm.us-east-1.amazonaws.com', 8443, 'amazonaws.com:8443', true],
    ['10.1.2.3', 443, '10.0.0.0/8', true],
    ['11.1.2.3', 443, '10.0.0.0/8', false],
    ['10.1.2.3', 443, '10.1.2.3', true],
    ['10.1.2.30', 443, '10.1.2.3', false],
    ['10.1.2.3', 443, '1.2.3', false],
    ['::1', 443, '::1', true],
    ['[::1]', 8080, '[::1]:8080', true],
    ['[::1]', 8081, '[::1]:8080', false],
    ['fd00::5', 443, 'fd00::/8', true],
    ['169.254.169.254', 80, 'localhost,169.254.169.254', true],
    ['localhost', 80, '*.localhost', true],
    ['a.localhost', 80, '*.localhost', true]
  ])('%s:%d with NO_PROXY=%j goes direct: %s', (host, port, noProxy, direct) => {
    expect(bypassesProxy(host, port, noProxy)).toBe(direct)
  })
})

describe('the proxy variables', () => {
  test('https_proxy for TLS, http_proxy for plain, the lower-case name first, no_proxy either case', () => {
    const env = {
      HTTPS_PROXY: 'http://upper:3128',
      https_proxy: 'http://lower:3128',
      HTTP_PROXY: 'plain.example:8080',
      NO_PROXY: 'internal'
    }
    expect(proxyFor('ssm.amazonaws.com', 443, true, env)?.url.host).toBe('lower:3128')
    expect(proxyFor('ssm.amazonaws.com', 443, true, env)?.label).toBe('http://lower:3128 (https_proxy)')
    expect(proxyFor('sim', 80, false, env)?.url.href).toBe('http://plain.example:8080/')
    expect(proxyFor('db.internal', 443, true, env)).toBeUndefined()
    expect(proxyFor('db.internal', 443, true, { ...env, no_proxy: 'other' })?.url.host).toBe('lower:3128')
    expect(proxyFor('x', 443, true, { HTTP_PROXY: 'http://p:1' })).toBeUndefined()
  })

  test("a proxy without a port gets curl's 1080; credentials are decoded and masked in messages", () => {
    expect(parseProxyUrl('proxy.corp', 'HTTPS_PROXY').port).toBe('1080')
    expect(proxyPort(parseProxyUrl('http://proxy.corp:80', 'HTTPS_PROXY'))).toBe(80)
    expect(proxyPort(parseProxyUrl('https://proxy.corp', 'HTTPS_PROXY'))).toBe(443)
    const url = parseProxyUrl('http://al%40ice:p%3Ass@proxy.corp:3128', 'HTTPS_PROXY')
    expect(maskedProxyUrl(url)).toBe('http://al%40ice:***@proxy.corp:3128')
    expect(maskedProxyUrl(url)).not.toContain('p%3Ass')
  })

  test('a proxy URL that cannot be used is one line naming the variable, the password masked', () => {
    expect(() => parseProxyUrl('socks5://u:secret@h:1080', 'HTTPS_PROXY')).toThrow(
      'HTTPS_PROXY names a socks5 proxy (socks5://u:***@h:1080); only http:// and https:// proxies are supported'
    )
    expect(() => parseProxyUrl('http://u:secret@[bad', 'https_proxy')).toThrow(
      /^https_proxy is not a proxy URL/
    )
    expect(() => parseProxyUrl('http://u:secret@[bad', 'https_proxy')).not.toThrow(/secret/)
  })
})
