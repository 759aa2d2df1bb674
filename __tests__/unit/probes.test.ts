import { createHash } from 'node:crypto'
import { readProbe, readProbeLines } from '../../src/remote/probes.js'

/** How the probes' answers are read (they run in real shells in __tests__/remote/). */

const sums = `${createHash('sha256').update('ec2-push-probe\n').digest('hex')}  -`
const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
const other = createHash('sha256').update('').digest('hex')

test.each([
  ['OpenSSL 1.0.2 without -r', `(stdin)= ${abc}`, true],
  ['OpenSSL 3 without -r', `SHA2-256(stdin)= ${abc}`, true],
  ['-r', `${abc} *stdin`, true],
  ['another digest', `${other} *stdin`, false],
  ["abc's digest beside another", `${abc} ${other}`, false],
  ["abc's digest inside a longer word", `x${abc} *stdin`, false],
  ['error text', 'openssl: error while loading shared libraries', false],
  ['nothing', '', false]
])("OpenSSL's answer: %s", (_what, printed, works) => {
  expect(readProbeLines(`probe ${sums}\nprobe ${printed}\nACQUIRED\n`)).toEqual({
    sha256sum: true,
    openssl: works,
    rest: 'ACQUIRED\n'
  })
  expect(readProbe({ code: 0, stdout: `${printed}\n${sums}\n` })).toEqual({ sha256sum: true, openssl: works })
})

test('without OpenSSL asked, one line is read and the next is the rest', () => {
  expect(readProbeLines(`probe ${sums}\nprobe ${abc} *stdin\n`, { openssl: false })).toEqual({
    sha256sum: true,
    openssl: false,
    rest: `probe ${abc} *stdin\n`
  })
  expect(readProbeLines(`probe \nACQUIRED\n`, { openssl: false })).toEqual({
    sha256sum: false,
    openssl: false,
    rest: 'ACQUIRED\n'
  })
})

test('OpenSSL does not count without a working sha256sum, nor without exit 0', () => {
  expect(readProbeLines(`probe \nprobe ${abc} *stdin\n`)).toEqual({
    sha256sum: false,
    openssl: false,
    rest: ''
  })
  expect(readProbe({ code: 127, stdout: `${abc} *stdin\n` })).toEqual({ sha256sum: false, openssl: false })
  expect(readProbe({ code: 1, stdout: `${abc} *stdin\n${sums}\n` })).toEqual({
    sha256sum: false,
    openssl: false
  })
})
