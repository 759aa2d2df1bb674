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
 * path>` for a folder (its physical path, as SFTP's realpath gives it), `<i> ?` for anything the
 * script cannot say on one line (a file or a dangling link in the way, a folder it may not enter, a
 * real path with a line break): the upload then asks over SFTP as before. Paths that are not
 * absolute are taken from the login's home folder, as SFTP takes them.
 */
export function folderSurveyScript(paths: string[]): string {
  const lines = [
    `echo ${SURVEY_BEGIN}`,
    'ec2_push_h=$PWD',
    `ec2_push_look() {
  cd -- "$ec2_push_h" || { echo "$1 ?"; return; }
  if [ ! -e "$2" ] && [ ! -L "$2" ]; then
    echo "$1 -"
  elif [ -d "$2" ] && cd -P -- "$2" 2>/dev/null; then
    case $PWD in
    *'
'*) echo "$1 ?" ;;
    *) printf '%s R%s\\n' "$1" "$PWD" ;;
    esac
  else
    echo "$1 ?"
  fi
}`,
    ...paths.map((p, i) => `ec2_push_look ${i} ${shellQuote(p)}`),
    // Back where the next fragment of the same script expects to be.
    `cd -- "$ec2_push_h" || :`,
    `echo ${SURVEY_END}`
  ]
  return lines.join('\n') + '\n'
}

/** What a path was found to be: missing, or a folder leading to `real`. */
export type SurveyAnswer = { kind: 'missing' } | { kind: 'folder'; real: string }

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
    const m = /^(\d+) (-|\?|R(\/.*))$/.exec(line)
    if (!m || Number(m[1]) !== answers.length || m[2] === '?') return { rest }
    answers.push(m[2] === '-' ? { kind: 'missing' } : { kind: 'folder', real: m[3] })
  }
  return answers.length === count ? { answers, rest } : { rest }
}
