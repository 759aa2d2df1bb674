import { readFileSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '../../sim/repo-root.js'
import { parseArgs } from '../../src/cli/args.js'
import { deployHelp } from '../../src/cli/help.js'
import { DEPLOY_EXTRA_FLAGS, DEPLOY_INPUTS } from '../../src/cli/options.js'
import { buildConfig } from '../../src/config.js'
import { INPUTS, OUTPUTS } from '../../src/inputs.js'

/**
 * src/inputs.ts is the one table of inputs and outputs: action.yml, the config parser and the CLI's
 * flags and --help must say what it says, names, order, defaults and descriptions included.
 */

/** One YAML scalar as action.yml writes them: 'single-quoted', "double-quoted" or plain. */
function scalar(raw: string): string {
  const v = raw.trim()
  if (v.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(v)) throw new Error(`not one single-quoted scalar: ${v}`)
    return v.slice(1, -1).replace(/''/g, "'")
  }
  if (v.startsWith('"')) return JSON.parse(v) as string
  return v
}

/** A top-level mapping of action.yml (`inputs:` or `outputs:`): each entry's keys and values. */
function actionYmlSection(name: string): Map<string, Record<string, string>> {
  const yml = readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')
  const lines = yml.slice(yml.indexOf(`\n${name}:\n`) + name.length + 3).split('\n')
  const out = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  for (const line of lines) {
    if (line === '' || /^\S/.test(line)) {
      if (line !== '') break
      continue
    }
    const entry = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line)
    const field = /^ {4}([a-z-]+):\s*(.*)$/.exec(line)
    if (entry) out.set(entry[1], (current = {}))
    else if (field && current) current[field[1]] = scalar(field[2])
    else
      throw new Error(`action.yml ${name}: a line this test does not read (keep one line per field): ${line}`)
  }
  return out
}

test("action.yml's inputs are the table's: names, order, required, defaults and descriptions", () => {
  const yml = [...actionYmlSection('inputs')].map(([name, f]) => ({
    name,
    ...(f.required === 'true' ? { required: true } : {}),
    ...(f.default !== undefined ? { default: f.default } : {}),
    description: f.description
  }))
  const table = INPUTS.map(({ name, required, default: dflt, description }) => ({
    name,
    ...(required ? { required } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    description
  }))
  expect(yml).toEqual(table)
  for (const i of INPUTS) {
    // Either required or defaulted, never both; booleans default to true or false.
    expect([i.name, i.required === true]).toEqual([i.name, i.default === undefined])
    if (i.kind === 'boolean')
      expect([i.name, ['true', 'false'].includes(i.default ?? '')]).toEqual([i.name, true])
  }
})

test("action.yml's outputs are the table's", () => {
  const yml = [...actionYmlSection('outputs')].map(([name, f]) => ({ name, description: f.description }))
  expect(yml).toEqual(OUTPUTS.map(o => ({ ...o })))
})

/** The fewest inputs buildConfig accepts, with a fixed release id (the default is the time). */
const REQUIRED: Record<string, string> = {
  targets: 'i-0123456789abcdef0',
  files: 'dist/**',
  'remote-path': '/srv/app',
  'release-id': 'r1'
}

test('the config parser reads exactly the inputs of the table', () => {
  const read = new Set<string>()
  buildConfig(name => {
    read.add(name)
    return REQUIRED[name] ?? ''
  })
  expect([...read].sort()).toEqual(INPUTS.map(i => i.name).sort())
})

test("the config parser's defaults are the table's: an empty input means the same as its default", () => {
  const empty = buildConfig(name => REQUIRED[name] ?? '')
  for (const i of INPUTS) {
    if (i.default === undefined || i.default === '') continue
    const given = buildConfig(name => (name === i.name ? i.default! : (REQUIRED[name] ?? '')))
    // The name rides along so that a failure says which input's default differs.
    expect({ input: i.name, config: given }).toEqual({ input: i.name, config: empty })
  }
})

test('the CLI has one flag per input, of its kind, and no other flag shares a name', () => {
  expect(DEPLOY_INPUTS).toBe(INPUTS)
  const specs = [...DEPLOY_INPUTS, ...DEPLOY_EXTRA_FLAGS]
  expect(new Set(specs.map(s => s.name)).size).toBe(specs.length)
  for (const i of INPUTS) {
    const value = i.kind === 'boolean' ? [] : ['x']
    const twice = parseArgs([`--${i.name}`, ...value, `--${i.name}`, ...value], specs, 'deploy')
    expect([i.name, twice.flags.get(i.name)]).toEqual([i.name, [value[0] ?? 'true', value[0] ?? 'true']])
  }
})

test('deploy --help shows each input on its own line with its default, its description, and every output', () => {
  const help = deployHelp()
  const flat = help.replace(/\s+/g, ' ')
  const lines = help.split('\n')
  for (const i of INPUTS) {
    const line = lines.find(l => l.startsWith(`  --${i.name}`) && /^ {2}--[a-z0-9-]+(\[|\s|$)/.test(l))
    expect([i.name, line?.split(/[\s[]/)[2]]).toEqual([i.name, `--${i.name}`])
    if (i.default) expect(line).toContain(`default: ${i.default}`)
    if (i.required) expect(line).toContain('required')
    expect(flat).toContain(i.description.replace(/\s+/g, ' '))
  }
  for (const o of OUTPUTS) {
    expect(lines).toContain(`  ${o.name}`)
    expect(flat).toContain(o.description.replace(/\s+/g, ' '))
  }
  // No line runs past 100 columns, so no two options run together on a terminal.
  expect(lines.filter(l => l.length > 110)).toEqual([])
})
