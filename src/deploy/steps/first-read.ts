import type { DeployConfig } from '../../config.js'
import { folderSurveyScript, parseFolderSurvey } from '../../remote/folder-survey.js'
import { foldersUnder, surveyFrom, surveyPaths, type FolderSurvey } from '../../transfer/folders.js'
import { manifestFromDir } from '../../remote/names.js'
import { releaseStateScript } from '../../remote/releases.js'
import { plannedInput, snapshotScript } from '../../remote/sync-snapshot.js'
import type { DeployContext } from '../context.js'

/** What a deploy reads from the instance first (in the lock's exec): its releases, or the folder. */
export async function firstReadScript(c: DeployContext): Promise<string> {
  const { config } = c
  if (config.release === 'atomic' || config.rollback) return releaseStateScript(c.root)
  if (config.sync || config.delete)
    return snapshotScript(c.root, await c.snapshotRequest(), manifestFromDir())
  return ''
}

/**
 * The same read for the lock's exec, without waiting for the local digests: with sync, the planned
 * files follow on the script's stdin once hashed, so the instance lists the folder meanwhile.
 */
export function firstReadStreamed(c: DeployContext): { script: string; input?: Promise<string> } {
  const { config } = c
  if (config.release === 'atomic' || config.rollback || !config.sync) return { script: '' }
  const input = c.snapshotRequest().then(r => plannedInput(r!))
  input.catch(() => {})
  return { script: snapshotScript(c.root, 'stdin', manifestFromDir()), input }
}

/** Does a dry run of this configuration read the instance at all? */
export function readsInstance(config: DeployConfig): boolean {
  return config.sync || config.delete || config.rollback
}

/** Up to this many folders are surveyed in the lock's exec; beyond, the upload asks over SFTP. */
const MAX_SURVEYED = 5000

/**
 * The upload's folder survey, asked in the lock's exec (remote/folder-survey.ts): when the files go
 * into remote-path itself (a release's folder is made later) and nothing runs between the lock and
 * the upload that could change the folders (a pre-command). Its block is taken out of the exec's
 * output before the first read's parsers see it; an answer the script could not give on its own
 * leaves the survey to the upload.
 */
export function folderSurveyRead(
  c: DeployContext
): { script: string; take(out: string): { folders?: FolderSurvey; rest: string } } | undefined {
  const { config, plan } = c.o
  if (config.rollback || config.release === 'atomic' || config.preCommand || plan.files.length === 0)
    return undefined
  const rels = foldersUnder(plan.files.map(f => f.relativePath))
  if (rels.size > MAX_SURVEYED) return undefined
  const paths = surveyPaths(c.root, rels)
  return {
    script: folderSurveyScript(paths, [...rels]),
    take(out) {
      const { answers, rest } = parseFolderSurvey(out, paths.length)
      return { rest, folders: answers && surveyFrom(c.root, rels, answers) }
    }
  }
}
