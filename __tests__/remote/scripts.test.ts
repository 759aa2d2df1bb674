import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { FAMILIES } from './families.js'
import { makeFixture, pwnedFiles, SHELLS, shellcheck, treeState } from './harness.js'

/**
 * Every instance-side script, rendered for a folder of hostile names and run by a real dash and a
 * real BusyBox sh: its answer parses back to the truth, nothing outside the folder changes, no
 * name is ever run as a command, and shellcheck finds nothing in it. The scripts and what each
 * family checks are in families.ts (docs/remote-protocol.md says what each one promises).
 */

for (const family of FAMILIES) {
  describe(family.name, () => {
    test.each(SHELLS)(
      'under $name: right answers, nothing outside touched, shellcheck clean',
      async shell => {
        const fx = await makeFixture(shell)
        try {
          const outside = await treeState(fx.outside)
          await family.run(fx)
          expect(await treeState(fx.outside)).toEqual(outside)
          expect(await pwnedFiles(fx.root)).toEqual([])
          expect(await readdir(path.join(fx.root, 'cwd'))).toEqual([])
          expect(fx.scripts.size).toBeGreaterThan(0)
          for (const [script, directive] of fx.scripts) {
            expect({ script: script.slice(0, 300), findings: shellcheck(script, directive) }).toEqual({
              script: script.slice(0, 300),
              findings: ''
            })
          }
        } finally {
          await rm(fx.root, { recursive: true, force: true })
        }
      }
    )
  })
}

test('every module of src/remote/ that renders scripts is run by a family', async () => {
  // Shared by every family: quoting, the reserved names, the manifest's line format.
  const helpers = new Set(['quote.ts', 'names.ts', 'manifest-lines.ts'])
  const covered = new Set(FAMILIES.flatMap(f => f.modules))
  const modules = (await readdir(path.join(process.cwd(), 'src', 'remote'))).filter(f => f.endsWith('.ts'))
  const uncovered = modules.filter(m => !helpers.has(m) && !covered.has(m))
  expect({ uncovered, hint: 'add an entry to FAMILIES in __tests__/remote/families.ts' }).toEqual({
    uncovered: [],
    hint: 'add an entry to FAMILIES in __tests__/remote/families.ts'
  })
})
