import { shellQuote } from './quote.js'

/**
 * The upload's folder survey as a script (docs/remote-protocol.md, "Folder survey"): for each path,
 * whether it is there and, for a folder, where it leads. transfer/folders.ts asks the same over SFTP;
 * asked in the lock's exec instead, the answer is in when the SFTP channel gets ready, and the
 * upload's first requests (the missing folders, the opens) go out a round trip sooner. Only shell
 * builtins run per path (cd, test, printf), so a survey of many folders costs no processes.
 */

export const SURVEY_BEGIN = '--ec2-push-folders--'
export const SURVEY_END = '--ec2-push-folders-end--'

/**
 * One line per path, in order: `<i> -` when nothing is there (not even a dangling link), `<i> R<real
 * path>` for a folder (its physical path, as SFTP's realpath gives it), or `<i> =` for one of `rels`
 * whose physical path is remote-path's own followed by the folder's (no link on the way: the common
 * case, a few bytes back instead of a path, which counts over ssm), `<i> ?` for anything the script
 * cannot say on one line (a file or a dangling link in the way, a folder it may not enter, a real path
 * with a line break): the upload then asks over SFTP as before. `paths` starts with remote-path;
 * the last `rels.length` of them are remote-path joined with each of `rels`. Paths that are not
 * absolute are taken from the login's home folder, as SFTP takes them.
 */
export function folderSurveyScript(paths: string[], rels: string[]): string {
  const first = paths.length - rels.length
  const lines = [
    `echo ${SURVEY_BEGIN}`,
    'ec2_push_h=$PWD',
    // $1 index, $2 path, $3 the physical path it has when no link is on the way (or nothing).
    `ec2_push_look() {
  ec2_push_real=
  cd -- "$ec2_push_h" || { echo "$1 ?"; return; }
  if [ ! -e "$2" ] && [ ! -L "$2" ]; then
    echo "$1 -"
  elif [ -d "$2" ] && cd -P -- "$2" 2>/dev/null; then
    ec2_push_real=$PWD
    if [ -n "$3" ] && [ "$PWD" = "$3" ]; then
      echo "$1 ="
    else
      case $PWD in
      *'
'*) echo "$1 ?" ;;
      *) printf '%s R%s\\n' "$1" "$PWD" ;;
      esac
    fi
  else
    echo "$1 ?"
  fi
}`,
    // Where remote-path (the first path) leads, for the folders under it.
    ...paths
      .slice(0, first)
      .flatMap((p, i) => [
        `ec2_push_look ${i} ${shellQuote(p)} ''`,
        ...(i === 0 ? ['ec2_push_r=$ec2_push_real'] : [])
      ]),
    ...rels.map(
      (rel, i) =>
        `ec2_push_look ${first + i} ${shellQuote(paths[first + i])} "$ec2_push_r"/${shellQuote(rel)}`
    ),
    // Back where the next fragment of the same script expects to be.
    `cd -- "$ec2_push_h" || :`,
    `echo ${SURVEY_END}`
  ]
  return lines.join('\n') + '\n'
}

/** What a path was found to be: missing, a folder leading to `real`, or one with no link on the way. */
export type SurveyAnswer = { kind: 'missing' } | { kind: 'folder'; real: string } | { kind: 'as-named' }

/**
 * The survey's block in `out`: the answers by index, or undefined when the block is absent or
 * incomplete or any path was `?`; and `out` without the block.
 */
export function parseFolderSurvey(out: string, count: number): { answers?: SurveyAnswer[]; rest: string } {
  const begin = out.indexOf(`${SURVEY_BEGIN}\n`)
  const end = begin < 0 ? -1 : out.indexOf(`${SURVEY_END}\n`, begin)
  if (end < 0) return { rest: out }
  const rest = out.slice(0, begin) + out.slice(end + SURVEY_END.length + 1)
  const answers: SurveyAnswer[] = []
  for (const line of out.slice(begin + SURVEY_BEGIN.length + 1, end).split('\n')) {
    if (line === '') continue
    const m = /^(\d+) (-|\?|=|R(\/.*))$/.exec(line)
    if (!m || Number(m[1]) !== answers.length || m[2] === '?') return { rest }
    answers.push(
      m[2] === '-'
        ? { kind: 'missing' }
        : m[2] === '='
          ? { kind: 'as-named' }
          : { kind: 'folder', real: m[3] }
    )
  }
  return answers.length === count ? { answers, rest } : { rest }
}
