import { safeWord } from './lock.js'
import { TEMP_PREFIX, tempName } from './names.js'
import { nulList, shellQuote } from './quote.js'
import { parseCheck, parseSha256sum } from './verify.js'

/**
 * Extracting a pack of small files (docs/remote-protocol.md, "Packs"): the upload sends many small
 * files as one ustar archive on a script's stdin (transfer/pack.ts) instead of an SFTP open, write and
 * close each. Every member is a temporary name beside its final path (the one the SFTP path would
 * use), so tar never writes a final path, and the renames that publish the good ones go over SFTP as
 * for any other file. The archive's last member is the list of the others' sha256 (the upload hashes
 * as it streams): the script checks them with `sha256sum --quiet -c`, or lists their digests where
 * sha256sum cannot (BusyBox), and removes that list. When tar or the check cannot run, it removes
 * every member it may have extracted, so nothing of a failed pack stays behind.
 */

export const PACK_BEGIN = '--ec2-push-pack--'
export const PACK_END = '--ec2-push-pack-end--'

/**
 * The script: `root` is remote-path (or a release folder), `folders` the folders under it the
 * members are in (made over SFTP, so they have the modes the SFTP path gives folders; their mkdir
 * requests go out with the script, not answered first, so the script waits up to a second for each
 * to be there, and leaves the pack to SFTP when one is not: a round trip fewer when folders are new,
 * as in every release), `members` the temporaries' paths relative to `root`, `sums`
 * the last member's (the sha256 list). Files come out with the archive's modes exactly (umask 0 for
 * tar alone, which then makes no folder), owned by the login (-o), modified when extracted (-m), as
 * an SFTP write leaves them. `marker` (a temporary's name under `root`) holds the shell's process id
 * while the script runs: when the deploy is gone (killed, cut), what it sent may still be extracted
 * for a while, and the clean-up waits for that first (waitForPacksScript).
 */
export function packScript(
  root: string,
  folders: string[],
  members: string[],
  sums: string,
  marker: string
): string {
  if (!/^[A-Za-z0-9._-]+$/.test(marker)) throw new Error(`not a marker's name: ${marker}`)
  const q = shellQuote(sums)
  const drop = `ec2_push_m | xargs -0 rm -f -- 2>/dev/null`
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
    // Without a pack to read (no tar), or when it stops half-way, what it wrote goes.
    `if ! (umask 0 && tar -x -m -o -f -); then`,
    `  ${drop}`,
    `  exit 2`,
    `fi`,
    `echo ${PACK_BEGIN}`,
    `ec2_push_c=$(sha256sum --quiet --strict -c -- ${q} 2>/dev/null); ec2_push_s=$?`,
    `if [ "$ec2_push_s" = 0 ] || { [ "$ec2_push_s" = 1 ] && [ -n "$ec2_push_c" ]; }; then`,
    `  echo "C $ec2_push_s"`,
    `  printf '%s\\n' "$ec2_push_c"`,
    // The list's names, a line each (no member's name has a line break), hashed as sha256sum lists.
    `elif ec2_push_c=$(sed 's/^[0-9a-f]*  //' ${q} | tr '\\n' '\\0' | xargs -0 sha256sum --); then`,
    `  echo L`,
    `  printf '%s\\n' "$ec2_push_c"`,
    `else`,
    `  ${drop}`,
    `  exit 3`,
    `fi`,
    `rm -f -- ${q}`,
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

/**
 * The members a pack's run says are in place and as sent: all of them when nothing is verified
 * (`expected` undefined), else those its check passed or whose listed digest is the expected one.
 * Undefined when the run did not get to the end (nothing it extracted stays: the script removed it).
 */
export function parsePack(
  r: { code: number | null; stdout: string },
  members: string[],
  expected?: Map<string, string>
): Set<string> | undefined {
  const begin = r.stdout.indexOf(`${PACK_BEGIN}\n`)
  const end = r.stdout.lastIndexOf(`${PACK_END}\n`)
  if (r.code !== 0 || begin < 0 || end < begin) return undefined
  if (!expected) return new Set(members)
  const body = r.stdout.slice(begin + PACK_BEGIN.length + 1, end)
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
