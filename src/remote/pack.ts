import path from 'node:path'
import { safeWord } from './lock.js'
import { TEMP_PREFIX, tempName } from './names.js'
import { nulList, shellQuote } from './quote.js'
import { parseCheck, parseSha256sum } from './verify.js'

/**
 * Extracting a pack of small files (docs/remote-protocol.md, "Packs"): the upload sends many small
 * files as one ustar archive on a script's stdin (transfer/pack.ts) instead of an SFTP open, write and
 * close each. Each folder's members are extracted into a stage of the run in that folder (a temporary
 * folder, mode 700, made by the script), under their own names, so tar never writes a final path.
 * The archive's last member is the list of the others' sha256 (the upload hashes as it streams):
 * the script checks them with `sha256sum --quiet -c`, or lists their digests where sha256sum cannot
 * (BusyBox) and compares the list with its own. When every member is as sent, one `mv` per stage
 * (of at most MV_NAMES names) renames them over their final paths (each a rename(2): never
 * half-written, a link in the way replaced, not followed), instead of a request each over SFTP;
 * what a rename refused (a folder in the way) stays in its stage and is named in the answer, for the
 * upload to publish over SFTP, which says what is wrong. When tar or the check cannot run, the
 * script removes every member it may have extracted and the stages, so nothing of a failed pack
 * stays behind.
 */

export const PACK_BEGIN = '--ec2-push-pack--'
export const PACK_END = '--ec2-push-pack-end--'
/** Follows the check's answer when the script renamed the members itself (see parsePack). */
export const PACK_MOVED = '--ec2-push-pack-moved--'
/** Names per `mv`: well under any ARG_MAX with the longest names ustar can carry. */
const MV_NAMES = 256

/** A stage: the folder (relative to the pack's root) and the names extracted in it. */
export interface PackStage {
  dir: string
  names: string[]
}

/** The members' paths in the archive (relative to the pack's root), stage by stage. */
function stageMembers(stages: PackStage[]): string[] {
  return stages.flatMap(st => st.names.map(n => `${st.dir}/${n}`))
}

/**
 * The script: `root` is remote-path (or a release folder), `folders` the folders under it the
 * members are in (made over SFTP, so they have the modes the SFTP path gives folders; their mkdir
 * requests go out with the script, not answered first, so the script waits up to a second for each
 * to be there, and leaves the pack to SFTP when one is not: a round trip fewer when folders are new,
 * as in every release), `stages` where the members go (a stage per folder; the members' paths in
 * the archive are `<stage>/<name>`), `sums` the last member's (the sha256 list). Files come out with
 * the archive's modes exactly (umask 0 for tar alone), owned by the login (-o), modified when
 * extracted (-m), as an SFTP write leaves them. `marker` (a temporary's name under `root`) holds
 * the shell's process id while the script runs: when the deploy is gone (killed, cut), what it sent
 * may still be extracted for a while, and the clean-up waits for that first (waitForPacksScript).
 */
export function packScript(
  root: string,
  folders: string[],
  stages: PackStage[],
  sums: string,
  marker: string
): string {
  if (!/^[A-Za-z0-9._-]+$/.test(marker)) throw new Error(`not a marker's name: ${marker}`)
  const q = shellQuote(sums)
  const members = stageMembers(stages)
  const stageList = stages.map(st => shellQuote(st.dir)).join(' ')
  const drop = `{ ec2_push_m | xargs -0 rm -f -- 2>/dev/null; rmdir -- ${stageList} 2>/dev/null; }`
  // One mv per stage (no subshell: each process costs more than the renames), then one rmdir.
  const moves = stages.flatMap(st => {
    const into = shellQuote(path.posix.dirname(st.dir))
    const out: string[] = []
    for (let at = 0; at < st.names.length; at += MV_NAMES) {
      const names = st.names.slice(at, at + MV_NAMES).map(n => shellQuote(`${st.dir}/${n}`))
      out.push(`  mv -f -- ${names.join(' ')} ${into} 2>/dev/null`)
    }
    return out
  })
  // A stage left (a rename refused): its number, then what is in it as `<number>/<name>`.
  const kept = stages.map(
    (st, i) =>
      `  [ ! -d ${shellQuote(st.dir)} ] || { echo ${i}; ( cd -- ${shellQuote(st.dir)} && ls -A1 ) | sed 's|^|${i}/|'; }`
  )
  const lines = [
    // tar would make a missing folder itself, with the archive's umask: the upload makes them (the
    // root too, on a first deploy). 100 waits of 10 ms (of 1 s, and fewer, where sleep takes whole
    // seconds only).
    `ec2_push_w() { ec2_push_t=0; while [ ! -d "$1" ]; do [ "$ec2_push_t" -lt 100 ] || return 1; sleep 0.01 2>/dev/null || { sleep 1; ec2_push_t=$((ec2_push_t + 49)); }; ec2_push_t=$((ec2_push_t + 1)); done; }`,
    `ec2_push_w ${shellQuote(root)} || exit 4`,
    `cd -- ${shellQuote(root)} || exit 1`,
    `ec2_push_m() { ${nulList([...members, sums])}; }`,
    ...folders.map(d => `ec2_push_w ${shellQuote(d)} || exit 4`),
    `echo "$$" > ${marker} || exit 1`,
    `trap 'rm -f -- ${marker}' EXIT`,
    // Made here, so tar makes no folder (it would, with the archive's umask of 0).
    `mkdir -m 700 -- ${stageList} || { rmdir -- ${stageList} 2>/dev/null; exit 1; }`,
    // Without a pack to read (no tar), or when it stops half-way, what it wrote goes.
    `if ! (umask 0 && tar -x -m -o -f -); then`,
    `  ${drop}`,
    `  exit 2`,
    `fi`,
    `echo ${PACK_BEGIN}`,
    `ec2_push_ok=`,
    `ec2_push_c=$(sha256sum --quiet --strict -c -- ${q} 2>/dev/null); ec2_push_s=$?`,
    `if [ "$ec2_push_s" = 0 ] || { [ "$ec2_push_s" = 1 ] && [ -n "$ec2_push_c" ]; }; then`,
    `  echo "C $ec2_push_s"`,
    `  printf '%s\\n' "$ec2_push_c"`,
    `  [ "$ec2_push_s" = 0 ] && ec2_push_ok=1`,
    // The list's names, a line each (no member's name has a line break), hashed as sha256sum lists.
    `elif ec2_push_c=$(sed 's/^[0-9a-f]*  //' ${q} | tr '\\n' '\\0' | xargs -0 sha256sum --); then`,
    `  echo L`,
    `  printf '%s\\n' "$ec2_push_c"`,
    // Listed as the sums are written (same order, same form): equal only when every one matches.
    `  [ "$ec2_push_c" = "$(cat -- ${q})" ] && ec2_push_ok=1`,
    `else`,
    `  ${drop}`,
    `  exit 3`,
    `fi`,
    `rm -f -- ${q}`,
    `if [ -n "$ec2_push_ok" ]; then`,
    `  echo ${PACK_MOVED}`,
    ...moves,
    `  rmdir -- ${stageList} 2>/dev/null`,
    ...kept,
    `fi`,
    `echo ${PACK_END}`
  ]
  return lines.join('\n') + '\n'
}

/** The name of a pack's marker: a temporary of the run, told from its files' by what follows the token. */
export function packMarkerName(token: string, n: number): string {
  return tempName(token, `pack${n}`)
}

/**
 * Wait (10 s at most) while a pack of run `token` is still being extracted anywhere under `root`: a
 * marker whose process is alive. Goes before the clean-up of a deploy that was killed, cut or
 * cancelled, so that it does not remove a folder tar is still writing in (tar would make it again).
 */
export function waitForPacksScript(root: string, token: string): string {
  const pattern = shellQuote(`${TEMP_PREFIX}${safeWord(token)}.pack*`)
  return `( cd -- ${shellQuote(root)} 2>/dev/null || exit 0
ec2_push_n=0
while [ "$ec2_push_n" -lt 100 ]; do
  ec2_push_busy=
  # The markers' process ids (a word each; anything else is skipped below).
  ec2_push_ids=$(find . -name ${pattern} -type f -exec cat -- {} + 2>/dev/null)
  for ec2_push_p in $ec2_push_ids; do
    case $ec2_push_p in *[!0-9]* | '') continue ;; esac
    if kill -0 "$ec2_push_p" 2>/dev/null; then ec2_push_busy=1; fi
  done
  [ -n "$ec2_push_busy" ] || break
  sleep 0.1 2>/dev/null || sleep 1
  ec2_push_n=$((ec2_push_n + 1))
done ); :
`
}

/** What a pack's run says of its members (parsePack). */
export interface PackAnswer {
  /** In place and as sent: at their final paths when `published` has them, else in their stage. */
  good: Set<string>
  /** Renamed over their final paths by the script. */
  published: Set<string>
  /** The stages (their numbers) the script left: still to be emptied and removed. */
  kept: Set<number>
}

/**
 * The members a pack's run says are in place and as sent: all of them when nothing is verified
 * (`expected` undefined), else those its check passed or whose listed digest is the expected one;
 * those the script also renamed into place; the stages it left. Undefined when the run did not get
 * to the end (nothing it extracted stays: the script removed it).
 */
export function parsePack(
  r: { code: number | null; stdout: string },
  stages: PackStage[],
  expected?: Map<string, string>
): PackAnswer | undefined {
  const begin = r.stdout.indexOf(`${PACK_BEGIN}\n`)
  const end = r.stdout.lastIndexOf(`${PACK_END}\n`)
  if (r.code !== 0 || begin < 0 || end < begin) return undefined
  let body = r.stdout.slice(begin + PACK_BEGIN.length + 1, end)
  const moved = body.indexOf(`${PACK_MOVED}\n`)
  const tail = moved < 0 ? undefined : body.slice(moved + PACK_MOVED.length + 1)
  if (moved >= 0) body = body.slice(0, moved)
  const good = expected ? checked(body, expected) : new Set(stageMembers(stages))
  if (!good) return undefined
  const kept = new Set<number>()
  const left = new Set<string>()
  for (const line of tail === undefined ? [] : tail.split('\n')) {
    const m = /^(\d+)(?:\/(.*))?$/s.exec(line)
    const st = m ? stages[Number(m[1])] : undefined
    if (!st) continue
    kept.add(Number(m![1]))
    if (m![2] !== undefined) left.add(`${st.dir}/${m![2]}`)
  }
  // The script renames only when every member it was sent checked out; else every stage is left.
  const published = new Set<string>()
  if (tail === undefined) stages.forEach((_, i) => kept.add(i))
  else for (const rel of good) if (!left.has(rel)) published.add(rel)
  return { good, published, kept }
}

/** The check's answer (`C <status>` or `L`, then its lines): the members that are as sent. */
function checked(body: string, expected: Map<string, string>): Set<string> | undefined {
  const nl = body.indexOf('\n')
  const head = nl < 0 ? body : body.slice(0, nl)
  const answer = nl < 0 ? '' : body.slice(nl + 1)
  const good = new Set<string>()
  if (head === 'C 0' || head === 'C 1') {
    const failed = parseCheck(
      { code: Number(head.slice(2)), stdout: answer.trim() === '' ? '' : answer },
      expected
    )
    if (!failed) return undefined
    for (const p of expected.keys()) if (!failed.has(p)) good.add(p)
    return good
  }
  if (head !== 'L') return undefined
  const digests = parseSha256sum(answer)
  for (const [p, digest] of expected) if (digests.get(p) === digest) good.add(p)
  return good
}
