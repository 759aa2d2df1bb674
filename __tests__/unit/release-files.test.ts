import { readFileSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '../../sim/repo-root.js'
import { proxyHelp } from '../../src/cli/help.js'

/** What a release and a new user rely on: the license, package metadata, ignores and install lines. */

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8')
const pkg = JSON.parse(read('package.json'))

test('LICENSE is the MIT license package.json names, and it ships in the package', () => {
  expect(pkg.license).toBe('MIT')
  expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /)
  expect(pkg.files).toContain('LICENSE')
})

test('package.json says where the project lives and which Node it needs', () => {
  expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/[^/]+\/ec2-push\.git$/)
  expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/[^/]+\/ec2-push#readme$/)
  expect(pkg.bugs.url).toMatch(/^https:\/\/github\.com\/[^/]+\/ec2-push\/issues$/)
  expect(pkg.engines.node).toBe('>=22')
  expect(JSON.parse(read('package-lock.json')).packages[''].engines.node).toBe(pkg.engines.node)
})

test('the sandbox key file is ignored by git', () => {
  expect(read('.gitignore').split('\n')).toContain('sandbox.env')
})

test('no install line runs an unpublished npm name (npx ec2-push)', () => {
  for (const [name, text] of [
    ['README.md', read('README.md')],
    ['docs/cli.md', read('docs/cli.md')],
    ['proxy --help', proxyHelp()]
  ]) {
    expect([name, /npx (--yes |-y )?ec2-push/.exec(text)?.[0]]).toEqual([name, undefined])
  }
})
