import { readFileSync } from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { REPO_ROOT } from '../../sim/action-runner.js'
import { parseArgs } from '../../src/cli/args.js'
import type { CliIo } from '../../src/cli/io.js'
import { main } from '../../src/cli/main.js'
import { cliLogger } from '../../src/cli/progress.js'
import { portAllowed } from '../../src/cli/security-groups.js'
import { VERSION } from '../../src/cli/version.js'

/** The CLI's schema against action.yml and package.json, its parser, and its stderr rendering (in-process). */

// Inputs against action.yml, the config parser and --help: __tests__/unit/inputs.test.ts.

test("the version is package.json's, and the bin is the ncc bundle of src/cli.ts", () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'))
  expect(VERSION).toBe(pkg.version)
  expect(pkg.bin['ec2-push']).toBe('dist/cli/index.js')
  expect(pkg.scripts.package).toBe('node scripts/package.mjs')
  const packaging = readFileSync(path.join(REPO_ROOT, 'scripts', 'package.mjs'), 'utf8')
  expect(packaging).toContain("bundle('cli.js', path.join(out, 'cli'))")
  const entry = readFileSync(path.join(REPO_ROOT, 'src', 'cli.ts'), 'utf8')
  expect(entry.startsWith('#!/usr/bin/env node\n')).toBe(true)
  // bundle-shims must be the first import (ssh2 reads __dirname while loading).
  expect(entry.match(/^import .*$/m)?.[0]).toBe("import './bundle-shims.js'")
})

describe('parseArgs', () => {
  const specs = [
    { name: 'targets', kind: 'list' },
    { name: 'remote-path', kind: 'string' },
    { name: 'strict-host-key', kind: 'boolean' },
    { name: 'help', kind: 'boolean', short: 'h' }
  ] as const

  test('values, =values, repeated lists, booleans in every spelling, -- and positionals', () => {
    const a = parseArgs(
      [
        '--targets',
        'i-1',
        '--targets=i-2',
        '--remote-path',
        '-odd',
        '--no-strict-host-key',
        'pos',
        '-h',
        '--',
        '--x'
      ],
      specs,
      'deploy'
    )
    expect(a.flags.get('targets')).toEqual(['i-1', 'i-2'])
    expect(a.flags.get('remote-path')).toEqual(['-odd'])
    expect(a.flags.get('strict-host-key')).toEqual(['false'])
    expect(a.flags.get('help')).toEqual(['true'])
    expect(a.positionals).toEqual(['pos', '--x'])
    expect(parseArgs(['--strict-host-key', 'FALSE'], specs, 'd').flags.get('strict-host-key')).toEqual([
      'false'
    ])
    expect(parseArgs(['--strict-host-key=true'], specs, 'd').flags.get('strict-host-key')).toEqual(['true'])
    expect(parseArgs(['--strict-host-key', 'x'], specs, 'd').positionals).toEqual(['x'])
  })

  test('mistakes are one-line errors that point at --help', () => {
    expect(() => parseArgs(['--target', 'x'], specs, 'deploy')).toThrow(
      "unknown option '--target' for 'ec2-push deploy'; did you mean --targets? (see ec2-push deploy --help)"
    )
    expect(() => parseArgs(['--zzz'], specs, 'deploy')).toThrow(
      /^unknown option '--zzz' for 'ec2-push deploy' \(see/
    )
    expect(() => parseArgs(['--remote-path'], specs, 'deploy')).toThrow('--remote-path needs a value')
    expect(() => parseArgs(['--strict-host-key=maybe'], specs, 'deploy')).toThrow(/takes true or false/)
  })
})

function memoryIo(isTTY = false) {
  const out: string[] = []
  const err: string[] = []
  const stderr = Object.assign(new PassThrough(), { isTTY, columns: 100 })
  const raw: string[] = []
  stderr.on('data', d => raw.push(String(d)))
  const io: CliIo = {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr,
    err: line => void err.push(line),
    out: line => void out.push(line)
  }
  return { io, out, err, raw }
}

describe('main', () => {
  test('--version, --help, unknown commands', async () => {
    const m = memoryIo()
    expect(await main(['--version'], m.io)).toBe(0)
    expect(m.out).toEqual([VERSION])
    expect(await main(['--help'], m.io)).toBe(0)
    expect(m.out[1]).toMatch(/^ec2-push \d+\.\d+\.\d+: deploy files/)
    expect(await main(['frobnicate'], m.io)).toBe(2)
    expect(m.err).toEqual([
      "ec2-push: unknown command 'frobnicate': use deploy, proxy, doctor or forward (see ec2-push --help)"
    ])
  })

  test("deploy reports the action's own one-line input errors", async () => {
    const m = memoryIo()
    expect(await main(['deploy', '--files', 'x', '--remote-path', '/r'], m.io)).toBe(1)
    expect(m.err).toHaveLength(1)
    expect(m.err[0]).toMatch(/^ec2-push: Input 'targets' is required/)
    expect(m.out).toEqual([])
    const both = memoryIo()
    const argv = [
      'deploy',
      '--targets',
      'h:22',
      '--files',
      'x',
      '--remote-path',
      '/r',
      '--ssh-private-key',
      'k'
    ]
    expect(await main([...argv, '--ssh-private-key-file', '/k'], both.io)).toBe(1)
    expect(both.err).toEqual(['ec2-push: give --ssh-private-key or --ssh-private-key-file, not both'])
  })
})

describe('the stderr logger', () => {
  const progress = 'web-1: 12/30 files, 40.0/100.0 MiB published (11.2 MB/s)'

  test('on a terminal, engine progress lines become one bar redrawn in place', () => {
    const m = memoryIo(true)
    const log = cliLogger(m.io)
    log.info(progress)
    log.info(progress.replace('40.0/', '80.0/'))
    log.info('done')
    const text = m.raw.join('')
    expect(text).toContain(
      'web-1 [################........................]  40% 12/30 files 40.0/100.0 MiB 11.2 MB/s'
    )
    expect(text).toContain('\r\x1b[2Kweb-1 [################################........]  80%')
    expect(text.endsWith('\r\x1b[2Kdone\n')).toBe(true)
  })

  test('elsewhere they stay plain lines, and registered secrets are masked', () => {
    const m = memoryIo(false)
    const log = cliLogger(m.io)
    log.setSecret('hunter2-secret')
    log.info(progress)
    log.warning('the key hunter2-secret leaked?')
    expect(m.raw.join('')).toBe(`${progress}\nwarning: the key *** leaked?\n`)
  })
})

test('security-group rules: a peer group is a yes, a CIDR a maybe, another port or group a no', () => {
  const fromGroup = [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: 'sg-e' }] }]
  expect(portAllowed(fromGroup, 22, ['sg-e'], 'from')).toEqual({ verdict: 'yes', via: 'tcp 22 from sg-e' })
  expect(portAllowed(fromGroup, 22, ['sg-x'], 'from')).toEqual({ verdict: 'no' })
  expect(portAllowed(fromGroup, 2222, ['sg-e'], 'from')).toEqual({ verdict: 'no' })
  expect(
    portAllowed([{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-e' }] }], 22, ['sg-e'], 'to')
  ).toEqual({
    verdict: 'yes',
    via: 'all traffic to sg-e'
  })
  expect(
    portAllowed(
      [{ IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
      22,
      ['sg-e'],
      'from'
    )
  ).toEqual({
    verdict: 'maybe',
    via: 'tcp 0-65535 from 10.0.0.0/8'
  })
  expect(
    portAllowed(
      [{ IpProtocol: 'udp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: 'sg-e' }] }],
      22,
      ['sg-e'],
      'from'
    ).verdict
  ).toBe('no')
})
