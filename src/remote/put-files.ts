import path from 'node:path'
import { shellQuote } from './quote.js'

/**
 * Putting a few small files in place from a script's own text (docs/remote-protocol.md, "Putting
 * files from a script"): for a sync redeploy that changed a handful of files, their bytes ride in
 * the exec that also writes the manifest and releases the lock, instead of an SFTP open, write,
 * check and rename of their own. Each file is written to its temporary, given its mode, checked by
 * sha256sum there and renamed over its final path (mv -T: never into a folder in the way); a file
 * whose folders are not plain folders already, or that fails anywhere, is left to the SFTP upload,
 * which makes folders, follows the rules for links and says what is wrong.
 */

/** One file to put: paths relative to the folder the script runs in. */
export interface PutFile {
  rel: string
  temp: string
  mode: number
  sha256: string
  data: Buffer
}

/** Ends the lines that say which files were put (`P <n>`) and which were left (`F <n>`). */
export const PUT_DONE = '--ec2-push-put--'

const DATA_END = 'EC2_PUSH_DATA'

/** Every folder above `rel` (`a/b/c` -> `a`, `a/b`), as `./` paths. */
function folders(rel: string): string[] {
  const out: string[] = []
  for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) out.unshift(`./${d}`)
  return out
}

/**
 * Put `files` under `dir` (which must exist), print `P <index>` or `F <index>` for each, then
 * PUT_DONE; `then` runs only when every file was put (else the script ends there, with status 0).
 */
export function putFilesScript(dir: string, files: PutFile[], then = ''): string {
  const lines = [
    `cd -- ${shellQuote(dir)} || exit 1`,
    // $1 temporary, $2 final path, $3 mode, $4 sha256; the bytes in base64 on stdin.
    `ec2_push_put() {
  if base64 -d > "$1" && chmod "$3" -- "$1" && ec2_push_s=$(sha256sum < "$1") && [ "\${ec2_push_s%% *}" = "$4" ] && mv -fT -- "$1" "$2"; then
    return 0
  fi
  rm -f -- "$1"
  return 1
}`,
    'ec2_push_left=0'
  ]
  files.forEach((f, i) => {
    const checks = folders(f.rel).map(d => `[ -d ${shellQuote(d)} ] && [ ! -L ${shellQuote(d)} ] && `)
    const b64 = f.data.toString('base64').replace(/.{1,76}/g, '$&\n')
    lines.push(
      `if ${checks.join('')}ec2_push_put ${shellQuote(`./${f.temp}`)} ${shellQuote(`./${f.rel}`)} ${(f.mode & 0o777).toString(8)} ${f.sha256} 2>/dev/null <<'${DATA_END}'; then echo 'P ${i}'; else echo 'F ${i}'; ec2_push_left=1; fi
${b64}${DATA_END}`
    )
  })
  lines.push(`echo ${PUT_DONE}`, '[ "$ec2_push_left" = 0 ] || exit 0', then)
  return lines.join('\n') + '\n'
}

/** What putFilesScript said: the indexes put, and whether its answer was whole (PUT_DONE seen). */
export function parsePut(out: string): { put: Set<number>; whole: boolean } {
  const at = out.indexOf(`${PUT_DONE}\n`)
  const put = new Set<number>()
  for (const line of (at < 0 ? out : out.slice(0, at)).split('\n')) {
    const m = /^P (\d+)$/.exec(line)
    if (m) put.add(Number(m[1]))
  }
  return { put, whole: at >= 0 }
}
