// Where the repository is, for simulators and tests run from sim/ (ts-jest) or build/sim/ (compiled).
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/** The repository root, from sim/ in the source tree or build/sim/ once compiled. */
export const REPO_ROOT =
  path.basename(path.dirname(here)) === 'build' ? path.resolve(here, '../..') : path.resolve(here, '..')
