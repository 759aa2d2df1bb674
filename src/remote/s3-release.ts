import { shellQuote } from './quote.js'
import { type LockOwner, ownerFields } from './lock.js'
import {
  CURRENT_LINK,
  META_DIR,
  OLD_LOCK,
  OLD_RELEASE_MARKER,
  RELEASES_DIR,
  S3_MANIFEST,
  TEMP_PREFIX
} from './names.js'

/**
 * The script every instance runs for `delivery: s3` (sent by Run Command as AWS-RunShellScript):
 * fetch the manifest through its presigned URL, fetch the files it lists (curl, else wget; small
 * files come in one pack, see delivery/s3/pack.ts), verify every sha256, and publish them in the same layout as `push` under the same lock, then print one
 * JSON line (S3_RESULT_PREFIX...) the runner reads back. A pure renderer: the options become
 * shell assignments at the top, the body never changes. POSIX sh (dash, BusyBox), shellcheck-clean.
 *
 * On the instance it keeps push's layout (names.ts): the same lock and owner file, the same
 * release markers in .ec2-push/releases/<id> (nothing of ours inside a release), the same release
 * log, the same temporaries; only its reuse manifest is its own (.ec2-push/s3-manifest, sha256 TAB
 * path), since push's sealed manifest at .ec2-push/manifest has another format.
 */

export const S3_RESULT_PREFIX = '{"ec2push":1,'
/** At most this much of post-command's output rides in the result line (see jout). */
export const POST_OUTPUT_BYTES = 8000
export const MANIFEST_HEADER = 'ec2-push-manifest\t2'

export interface S3ReleaseScriptOptions {
  remotePath: string
  manifestUrl: string
  release: 'none' | 'atomic'
  releaseId: string
  keepReleases: number
  sync: boolean
  delete: boolean
  /** protect patterns as one awk ERE (matched against paths relative to remote-path), or '' */
  protectRegex: string
  dryRun: boolean
  rollback: boolean
  preCommand?: string
  postCommand?: string
  /** Unique per run: names the temporaries and the lock's owner. */
  token: string
  run: string
  lockTtlSeconds: number
  /** Who takes the lock (push's owner fields); by default built from token, run and lockTtlSeconds. */
  owner?: LockOwner
}

/** The manifest's second line: the pack of small files (sha256, size, presigned URL), if any. */
export function packLine(pack?: { sha256: string; size: number; url: string }): string {
  return pack ? `pack\t${pack.sha256}\t${pack.size}\t${pack.url}` : 'pack\t-\t0\t-'
}

/**
 * The manifest's file lines (after the pack line): sha256, octal mode, size, source, path. The
 * source is a presigned URL, or `=<offset>` for a file stored in the pack with its data at that
 * offset, or `+<offset>` for one whose content is the file stored there (the pack holds each
 * content once).
 */
export function manifestLine(f: {
  sha256: string
  mode: number
  size: number
  source: string
  path: string
}): string {
  return `${f.sha256}\t${(f.mode & 0o7777).toString(8).padStart(4, '0')}\t${f.size}\t${f.source}\t${f.path}`
}

/**
 * Protect patterns (relative to remote-path; `*`, `?` within a name, `**` across folders, a pattern
 * without `/` matches at any depth, a matched folder protects what is under it) as one POSIX ERE.
 */
export function protectRegex(patterns: string[]): string {
  const one = (glob: string) => {
    let re = ''
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i]
      if (c === '*' && glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') {
          i++
          re += '(.*/)?'
        } else re += '.*'
      } else if (c === '*') re += '[^/]*'
      else if (c === '?') re += '[^/]'
      else
        re += /[A-Za-z0-9_-]/.test(c)
          ? c
          : c === '/'
            ? '/'
            : `[${c === '\\' || c === '^' || c === ']' ? '\\' + c : c}]`
    }
    return re
  }
  const alts = patterns
    .map(p => p.trim().replace(/^\.\//, '').replace(/\/+$/, ''))
    .filter(Boolean)
    .map(p => (p.includes('/') ? one(p.replace(/^\//, '')) : `(.*/)?${one(p)}`))
  return alts.length ? `^(${alts.join('|')})(/.*)?$` : ''
}

export function renderS3ReleaseScript(o: S3ReleaseScriptOptions): string {
  const vars = [
    `ROOT=${shellQuote(o.remotePath)}`,
    `MANIFEST_URL=${shellQuote(o.manifestUrl)}`,
    `MODE=${o.release}`,
    `ID=${shellQuote(o.releaseId)}`,
    `KEEP=${o.keepReleases}`,
    `SYNC=${o.sync ? 1 : 0}`,
    `DELETE=${o.delete ? 1 : 0}`,
    `PROTECT=${shellQuote(o.protectRegex)}`,
    `DRY=${o.dryRun ? 1 : 0}`,
    `ROLLBACK=${o.rollback ? 1 : 0}`,
    '# shellcheck disable=SC2016 # a command, run later by sh -c',
    `PRE=${shellQuote(o.preCommand ?? '')}`,
    '# shellcheck disable=SC2016',
    `POST=${shellQuote(o.postCommand ?? '')}`,
    `TOKEN=${shellQuote(o.token)}`,
    `RUN=${shellQuote(o.run)}`,
    `OWNER=${shellQuote(
      ownerFields(
        o.owner ?? {
          token: o.token,
          repo: '',
          run: o.run,
          attempt: '',
          runner: '',
          host: '',
          pid: 0,
          ttl: o.lockTtlSeconds
        }
      )
    )}`
  ]
  return `#!/bin/sh
# ec2-push delivery: s3 (rendered by src/remote/s3-release.ts)
set -u
umask 022
${vars.join('\n')}
${BODY}`
}

/** The fixed part (String.raw keeps the shell's backslashes; `\\${` stands for the shell's `${`). */
const BODY = String.raw`T0=$(date +%s)
META="$ROOT/${META_DIR}"
LOCK="$META/lock"
TMPN="${TEMP_PREFIX}$TOKEN"
TAB=$(printf '\t')
TMPD=''
STAGE=''
HELD=0
FILES=0 FETCHED=0 REUSED=0 BYTES=0 DELETED=0
PREV='' REL='' ROLLED=false
# MADE: this run made releases/$REL (undone on a failure before the switch); LIVE: current was switched to it.
MADE=0 LIVE=0

jstr() { printf '%s' "$1" | tr -d '"\\\r' | tr '\n\t' '  '; }
# post-command's output as a JSON string's body: its last ${POST_OUTPUT_BYTES} bytes (Run Command returns
# only the first 24,000 characters of stdout, and escaping at most doubles them); OUTCUT says how
# many bytes went before them (-1: post-command did not run).
jout() {
  tail -c ${POST_OUTPUT_BYTES} "$TMPD/post.out" | tr -d '\000-\010\013\014\016-\037' | awk '
    BEGIN { ORS = "" }
    NR > 1 { print "\\n" }
    { for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
        if (c == "\\") c = "\\\\"; else if (c == "\"") c = "\\\""; else if (c == "\t") c = "\\t"; else if (c == "\r") c = "\\r"
        print c } }'
}
emit() {
  OUTCUT=-1 out=''
  if [ -n "$TMPD" ] && [ -f "$TMPD/post.out" ]; then
    n=$(wc -c < "$TMPD/post.out" | tr -d ' ')
    OUTCUT=0
    [ "$n" -le ${POST_OUTPUT_BYTES} ] || OUTCUT=$((n - ${POST_OUTPUT_BYTES}))
    out=$(jout)
  fi
  printf '{"ec2push":1,"status":"%s","release":"%s","previous":"%s","files":%s,"fetched":%s,"reused":%s,"bytes":%s,"deleted":%s,"rolledBack":%s,"seconds":%s,"error":"%s","output":"%s","outputCut":%s}\n' \
    "$1" "$(jstr "$REL")" "$(jstr "$PREV")" "$FILES" "$FETCHED" "$REUSED" "$BYTES" "$DELETED" "$ROLLED" "$(( $(date +%s) - T0 ))" "$(jstr "$2")" "$out" "$OUTCUT"
}
# The state files go first and the folder last: the watcher (see watch) finds the folder only when
# this script was killed, and then undoes no more than is left.
cleanup() {
  if [ -n "$TMPD" ]; then rm -f -- "$TMPD/made" "$TMPD/live"; fi
  if [ -n "$STAGE" ]; then rm -rf -- "$STAGE"; fi
  if [ "$HELD" = 1 ]; then rm -rf -- "$LOCK"; HELD=0; fi
  if [ -n "$TMPD" ]; then rm -rf -- "$TMPD"; fi
}
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$RUN" >> "$META/log" 2>/dev/null || :; }
fail() {
  printf 'ec2-push: %s\n' "$1" >&2
  # As push: a release that never went live leaves nothing behind; one that did is logged as failed.
  if [ "$MADE" = 1 ] && [ "$LIVE" = 0 ]; then rm -rf -- "$ROOT/${RELEASES_DIR}/$REL" && rm -f -- "$META/releases/$REL"
  elif [ "$LIVE" = 1 ]; then record "$REL" failed; fi
  emit failure "$1"
  cleanup
  exit 1
}
trap 'fail "interrupted by a signal"' HUP INT TERM

if command -v curl >/dev/null 2>&1; then FETCH=curl
elif command -v wget >/dev/null 2>&1; then FETCH=wget
else fail "neither curl nor wget is installed on this instance; install one of them (delivery: s3 fetches with it)"; fi
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is not installed on this instance (coreutils or BusyBox provide it)"
# The SSM agent ends a cancelled or timed-out command with SIGKILL to its process group, so no trap
# runs then. A watcher in a session of its own waits for this script to end; if the temporary
# folder is still there (every other end removes it), it undoes what fail would have: the
# unfinished release (unless current points to it), the lock, the temporaries. The script tells it
# what it holds with files in $TMPD: held (the lock, or about to take it), made (the release id),
# live (switched). The watcher makes the folder itself once it is out of the process group, and
# says ok: a kill before that leaves nothing; after it, the watcher is there to clean up.
# shellcheck disable=SC2016 # expanded by the watcher's own sh
WATCHER='mkdir -m 700 "$2" || exit 1
(
  while kill -0 "$1" 2>/dev/null; do sleep 1; done
  [ -d "$2" ] || exit 0
  root=$3 meta=$4 tmpn=$5 rel=""
  if [ -f "$2/made" ]; then rel=$(cat "$2/made"); fi
  if [ -n "$rel" ]; then
    if [ -f "$2/live" ] || [ "$(readlink "$root/${CURRENT_LINK}")" = "${RELEASES_DIR}/$rel" ]; then
      printf "%s\tfailed\t%s\t%s\n" "$rel" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$6" >> "$meta/log"
    else
      rm -rf -- "$root/${RELEASES_DIR}/$rel"; rm -f -- "$meta/releases/$rel"
    fi
  fi
  rm -rf -- "$root/$tmpn".* "$meta/$tmpn".*
  # Ours: its owner names our token, or it has none yet (killed between the mkdir and the owner).
  if [ -f "$2/held" ] && { [ ! -f "$meta/lock/owner" ] || grep -qx "token=$7" "$meta/lock/owner"; }; then
    rm -rf -- "$meta/lock"
  fi
  rm -rf -- "$2"
) </dev/null >/dev/null 2>&1 &
echo ok'
T="\${TMPDIR:-/tmp}/ec2-push.$TOKEN.$$"
if command -v setsid >/dev/null 2>&1; then
  ok=$(setsid sh -c "$WATCHER" ec2-push-watch "$$" "$T" "$ROOT" "$META" "$TMPN" "$RUN" "$TOKEN" 2>/dev/null)
else
  ok=$(mkdir -m 700 "$T" 2>/dev/null && echo ok)
fi
[ "$ok" = ok ] || fail "cannot create the temporary folder $T"
TMPD=$T

# fetch URL OUT: one file, the URL kept off the command line (curl reads it from its config on stdin).
fetch() {
  if [ "$FETCH" = curl ]; then
    printf 'url = "%s"\noutput = "%s"\n' "$1" "$2" | curl -fsS --retry 3 --retry-connrefused -K - 2>"$TMPD/err"
  else
    wget -q -O "$2" "$1" 2>"$TMPD/err"
  fi
}
lasterr() { tail -n 1 "$TMPD/err" 2>/dev/null | tr -d '\r'; }


# A release's marker (push's, in $META/releases/<id>; or an older version's inside the folder).
marker() {
  if [ -f "$META/releases/$1" ]; then printf '%s' "$META/releases/$1"
  elif [ -f "$ROOT/${RELEASES_DIR}/$1/${OLD_RELEASE_MARKER}" ] && [ ! -L "$ROOT/${RELEASES_DIR}/$1" ]; then printf '%s' "$ROOT/${RELEASES_DIR}/$1/${OLD_RELEASE_MARKER}"; fi
}
# Our releases as "seq TAB id TAB outcome TAB old", oldest first: the outcome is the last event the
# release log has for it (- for none), old is 1 for a release marked by an older version (no log).
list_releases() {
  for d in "$ROOT"/${RELEASES_DIR}/*/; do
    n=$(basename "$d")
    m=$(marker "$n")
    [ -n "$m" ] || continue
    awk -v n="$n" '{ for (i = 1; i <= NF; i++) { if ($i ~ /^seq=[0-9]+$/) s = substr($i, 5); if ($i == "v=2") v = 1 } }
      END { printf "%d\t%s\t%d\n", s, n, v ? 0 : 1 }' "$m"
  done | sort -n | awk -F '\t' -v lf="$META/log" '
    BEGIN { while ((getline l < lf) > 0) { split(l, f, "\t"); o[f[1]] = f[2] } }
    { print $1 "\t" $2 "\t" (($2 in o) ? o[$2] : "-") "\t" $3 }'
}
# As push's isGood: went live and did not fail (an older version's release, without a log, counts).
# shellcheck disable=SC2016 # an awk condition
GOOD='$3 == "live" || ($3 == "-" && $4 == 1)'
current_id() {
  [ -L "$ROOT/${CURRENT_LINK}" ] || return 0
  t=$(readlink "$ROOT/${CURRENT_LINK}")
  case "$t" in ${RELEASES_DIR}/*) t=\${t#${RELEASES_DIR}/}; printf '%s' "\${t%/}" ;; esac
}
switch_to() {
  ln -s "${RELEASES_DIR}/$1" "$ROOT/$TMPN.current" || return 1
  if ! mv -Tf "$ROOT/$TMPN.current" "$ROOT/${CURRENT_LINK}" 2>/dev/null &&
     ! mv -hf "$ROOT/$TMPN.current" "$ROOT/${CURRENT_LINK}" 2>/dev/null; then
    rm -f "$ROOT/$TMPN.current"; return 1
  fi
}
take_lock() {
  mkdir -p "$META" || fail "cannot create $META"
  # held goes first: a kill right after the mkdir must not leave the lock unknown to the watcher.
  : > "$TMPD/held"
  if [ ! -d "$ROOT/${OLD_LOCK}" ] && mkdir "$LOCK" 2>/dev/null; then
    HELD=1
    if ! { printf '%s\n' "$OWNER" && printf 'since=%s\n' "$(date +%s)"; } > "$LOCK/owner.tmp" || ! mv -f "$LOCK/owner.tmp" "$LOCK/owner"; then
      fail "cannot write the lock's owner file in $LOCK"
    fi
  else
    rm -f -- "$TMPD/held"
    who=$(sed -n 's/^run=//p' "$LOCK/owner" 2>/dev/null)
    since=$(sed -n 's/^since=//p' "$LOCK/owner" 2>/dev/null)
    fail "another deploy holds the lock $LOCK (run \${who:-unknown}, since \${since:-unknown} s after the epoch); wait for it, or if none is running remove it: rm -rf $LOCK"
  fi
}
# pre-command and post-command as push runs them: in remote-path, set -e, with the release's paths exported.
run_hook() { # command release-id previous-id pre|post
  [ -n "$1" ] || return 0
  if [ "$MODE" = atomic ] || [ "$ROLLBACK" = 1 ]; then rp="$ROOT/${RELEASES_DIR}/$2"; else rp=$ROOT; fi
  pp=''; if [ -n "$3" ]; then pp="$ROOT/${RELEASES_DIR}/$3"; fi
  # Into a file, then stderr: post-command's is also the step's command-output (see jout).
  (cd "$ROOT" && EC2_PUSH_RELEASE_PATH=$rp EC2_PUSH_RELEASE_ID=\${2:-$ID} EC2_PUSH_REMOTE_PATH=$ROOT \
    EC2_PUSH_TARGET=\${AWS_SSM_INSTANCE_ID:-$(hostname)} EC2_PUSH_PREVIOUS_RELEASE_PATH=$pp \
    sh -ec "$1") > "$TMPD/$4.out" 2>&1
  s=$?
  cat "$TMPD/$4.out" >&2
  return $s
}

if [ "$ROLLBACK" = 1 ]; then
  take_lock
  cur=$(current_id)
  [ -n "$cur" ] || fail "rollback: $ROOT/current is not a symlink to one of our releases"
  PREV=$cur
  # As push's rollbackTarget: the newest release before current that went live and did not fail.
  REL=$(list_releases | awk -F '\t' -v c="$cur" '$2 == c { print g; exit } '"$GOOD"' { g = $2 }')
  [ -n "$REL" ] || fail "rollback: there is no release before $cur on this instance that went live and did not fail"
  if [ "$DRY" = 1 ]; then emit dry-run ""; cleanup; exit 0; fi
  run_hook "$PRE" "$REL" "$cur" pre || fail "pre-command failed (exit status non-zero); nothing was changed"
  switch_to "$REL" || fail "rollback: could not switch current to releases/$REL"
  ROLLED=true
  record "$cur" rolled-back
  record "$REL" live
  run_hook "$POST" "$REL" "$cur" post || fail "post-command failed after the rollback to $REL (exit status non-zero)"
  emit success ""
  cleanup
  exit 0
fi

fetch "$MANIFEST_URL" "$TMPD/manifest" || fail "fetching the manifest from S3 failed: $(lasterr) (an expired or refused presigned URL reads as 403)"
[ "$(head -n 1 "$TMPD/manifest")" = "ec2-push-manifest\${TAB}2" ] || fail "the manifest fetched from S3 is not an ec2-push manifest (version 2)"
# Line 2: the pack of small files (sha256, size, URL), or "pack - 0 -" when there is none.
sed -n 2p "$TMPD/manifest" > "$TMPD/pack.line"
IFS="$TAB" read -r _ PACK_SHA PACK_SIZE PACK_URL < "$TMPD/pack.line"
tail -n +3 "$TMPD/manifest" > "$TMPD/files"
FILES=$(wc -l < "$TMPD/files" | tr -d ' ')

# Sync: the files published by the last deploy (sha TAB path) that still exist can be reused.
: > "$TMPD/have"
if [ "$SYNC" = 1 ] && [ -f "$META/${S3_MANIFEST}" ]; then
  if [ "$MODE" = atomic ]; then SRC=$ROOT/current; else SRC=$ROOT; fi
  awk -F '\t' -v src="$SRC" '{ print $1 "\t" src "/" $2 }' "$META/${S3_MANIFEST}" > "$TMPD/have"
fi

if [ "$DRY" = 1 ]; then
  awk -F '\t' 'FILENAME == ARGV[1] { h[$1] = 1; next } !($1 in h) && $3 > 0 { n++; b += $3 } END { printf "%d %d\n", n, b }' "$TMPD/have" "$TMPD/files" > "$TMPD/counts"
  read -r FETCHED BYTES < "$TMPD/counts"
  REUSED=$((FILES - FETCHED))
  if [ "$MODE" = atomic ]; then REL=$ID; PREV=$(current_id); fi
  emit dry-run ""
  cleanup
  exit 0
fi

take_lock
if [ "$MODE" = atomic ]; then
  REL=$ID
  PREV=$(current_id)
  [ "$PREV" != "$ID" ] || fail "release $ID is what current points to; choose another release-id"
fi
run_hook "$PRE" "$REL" "$PREV" pre || fail "pre-command failed (exit status non-zero); nothing was changed"

if [ "$MODE" = atomic ]; then
  DEST="$ROOT/${RELEASES_DIR}/$ID"
  if [ -e "$DEST" ] || [ -L "$DEST" ]; then
    if [ -n "$(marker "$ID")" ] && [ ! -L "$DEST" ]; then rm -rf -- "$DEST"
    else fail "$DEST exists and was not made by ec2-push; move it away or choose another release-id"; fi
  fi
  seq=$(list_releases | awk -F '\t' '{ s = $1 } END { print s + 1 }')
  mkdir -p "$META/releases" "$ROOT/${RELEASES_DIR}" || fail "cannot create $META/releases"
  printf '%s' "$ID" > "$TMPD/made"
  printf 'v=2 seq=%s created=%s run=%s\n' "$seq" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$RUN" > "$META/releases/$ID" || fail "cannot write the marker of release $ID"
  MADE=1
  mkdir "$DEST" || fail "cannot create $DEST"
else
  STAGE="$ROOT/$TMPN.stage"
  mkdir -p "$STAGE" || fail "cannot create $STAGE"
  DEST=$STAGE
fi

# Plan: empty files, reused ones (a file with that sha256 we already have), the rest fetched.
# Folders first, with one mkdir.
awk -F '\t' -v dest="$DEST" -v tmp="$TMPD" '
  FILENAME == ARGV[1] { if (!($1 in h)) h[$1] = $2; next }
  {
    p = $5; d = p; sub(/\/[^\/]*$/, "", d); if (d != p) print dest "/" d > (tmp "/dirs")
    if ($3 == 0) print dest "/" p > (tmp "/empty")
    else if ($1 in h) print $1 "\t" h[$1] "\t" dest "/" p > (tmp "/reuse")
  }' "$TMPD/have" "$TMPD/files"
for f in dirs empty reuse; do [ -f "$TMPD/$f" ] || : > "$TMPD/$f"; done
if [ -s "$TMPD/dirs" ]; then sort -u "$TMPD/dirs" | tr '\n' '\0' | xargs -0 mkdir -p -- || fail "cannot create the folders of the release"; fi

# Reused files are copied, then checked; any that differ are fetched after all.
while IFS="$TAB" read -r sha src dst; do
  if cp -p -- "$src" "$dst" 2>/dev/null; then printf '%s  %s\n' "$sha" "$dst"; fi
done < "$TMPD/reuse" > "$TMPD/reuse.sums"
sha256sum -c "$TMPD/reuse.sums" 2>/dev/null | sed -n 's/: OK$//p' > "$TMPD/reused"
REUSED=$(wc -l < "$TMPD/reused" | tr -d ' ')
awk -F '\t' -v dest="$DEST" 'FILENAME == ARGV[1] { ok[$0] = 1; next } $3 > 0 && !((dest "/" $5) in ok)' "$TMPD/reused" "$TMPD/files" > "$TMPD/fetch"
# Empty files are made here (curl writes no file for an empty body).
while IFS= read -r p; do : > "$p" || fail "cannot create $p"; done < "$TMPD/empty"

FETCHED=$(wc -l < "$TMPD/fetch" | tr -d ' ')
BYTES=$(awk -F '\t' '{ b += $3 } END { printf "%d", b }' "$TMPD/fetch")
# Files in the pack (source =<offset>, or +<offset> for a copy of the file stored there) come from
# the whole pack, one request and tar, when that costs less than a range request each (counting a
# request as 64 KiB); without tar, by range. The others are objects of their own.
awk -F '\t' -v tmp="$TMPD" '
  { c = substr($4, 1, 1); if (c == "=" || c == "+") { print > (tmp "/inpack"); n++; b += $3 } else print > (tmp "/single") }
  END { printf "%d %d\n", n, b }' "$TMPD/fetch" > "$TMPD/counts"
for f in inpack single; do [ -f "$TMPD/$f" ] || : > "$TMPD/$f"; done
read -r NPACK BPACK < "$TMPD/counts"
RANGED=$TMPD/inpack
if [ "$NPACK" -gt 0 ] && command -v tar >/dev/null 2>&1 && [ $((BPACK + NPACK * 65536)) -ge "$PACK_SIZE" ]; then
  RANGED=/dev/null
  BYTES=$((BYTES - BPACK + PACK_SIZE))
  fetch "$PACK_URL" "$TMPD/pack" || fail "fetching the pack of small files from S3 failed: $(lasterr)"
  # The pack is checked whole before tar reads it; each file is checked again below.
  if ! printf '%s  %s\n' "$PACK_SHA" "$TMPD/pack" | sha256sum -c >/dev/null 2>&1; then
    first=$(head -n 1 "$TMPD/inpack" | cut -f 5)
    fail "the pack of small files fetched from S3 does not match its sha256 ($NPACK files, first: $first): the object changed after upload; nothing was published"
  fi
  tar -xmf "$TMPD/pack" -C "$DEST" 2>"$TMPD/err" || fail "unpacking the pack of small files failed: $(lasterr)"
  rm -f -- "$TMPD/pack"
  awk -F '\t' -v dest="$DEST" '
    FILENAME == ARGV[1] { if (substr($4, 1, 1) == "=") m[substr($4, 2)] = $5; next }
    substr($4, 1, 1) == "+" { print dest "/" m[substr($4, 2)] "\t" dest "/" $5 }' "$TMPD/files" "$TMPD/inpack" > "$TMPD/copies"
  while IFS="$TAB" read -r src dst; do cp -- "$src" "$dst" || fail "cannot create $dst"; done < "$TMPD/copies"
fi

# What is left, as "URL TAB range (- for all) TAB path".
awk -F '\t' -v pu="$PACK_URL" '
  { c = substr($4, 1, 1) }
  c == "=" || c == "+" { o = substr($4, 2) + 0; printf "%s\t%d-%d\t%s\n", pu, o, o + $3 - 1, $5; next }
  { print $4 "\t-\t" $5 }' "$RANGED" "$TMPD/single" > "$TMPD/get"
if [ -s "$TMPD/get" ]; then
  if [ "$FETCH" = curl ]; then
    # One curl for all (one connection kept alive), a section each. In curl's config a quoted value
    # takes \" and \\ for a quote and a backslash (names may hold both).
    awk -F '\t' -v dest="$DEST" '
      function q(s,  o, c, i) { o = ""; for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); if (c == "\\" || c == "\"") o = o "\\"; o = o c }; return o }
      {
        if (NR > 1) print "next"
        print "url = \"" q($1) "\""; print "output = \"" q(dest "/" $3) "\""
        if ($2 != "-") print "range = \"" $2 "\""
        print "fail"; print "retry = 3"; print "retry-connrefused"
      }' "$TMPD/get" > "$TMPD/curl.cfg"
    n=$(wc -l < "$TMPD/get" | tr -d ' ')
    curl -sS --fail-early -K "$TMPD/curl.cfg" 2>"$TMPD/err" || fail "fetching $n files from S3 failed: $(lasterr)"
  else
    while IFS="$TAB" read -r url range p; do
      if [ "$range" = - ]; then fetch "$url" "$DEST/$p"
      else wget -q --header "Range: bytes=$range" -O "$DEST/$p" "$url" 2>"$TMPD/err"; fi || fail "fetching $p from S3 failed: $(lasterr)"
    done < "$TMPD/get"
  fi
fi

# Every fetched file against the sha256 the runner computed before uploading it.
awk -F '\t' -v dest="$DEST" '{ print $1 "  " dest "/" $5 }' "$TMPD/fetch" > "$TMPD/fetch.sums"
sha256sum -c "$TMPD/fetch.sums" 2>/dev/null | sed -n 's/: FAILED.*$//p' > "$TMPD/bad"
if [ -s "$TMPD/bad" ]; then
  n=$(wc -l < "$TMPD/bad" | tr -d ' ')
  first=$(head -n 1 "$TMPD/bad"); first=\${first#"$DEST"/}
  fail "$n files fetched from S3 do not match their sha256 (first: $first): the objects changed after upload; nothing was published"
fi

# Modes other than the umask's.
awk -F '\t' -v dest="$DEST" '$2 != "0644" { print $2 "\t" dest "/" $5 }' "$TMPD/files" > "$TMPD/modes"
cut -f 1 "$TMPD/modes" | sort -u > "$TMPD/modelist"
while IFS= read -r m; do
  awk -F '\t' -v m="$m" '$1 == m { print $2 }' "$TMPD/modes" | tr '\n' '\0' | xargs -0 chmod "$m" -- 2>"$TMPD/err" || fail "chmod $m failed: $(lasterr)"
done < "$TMPD/modelist"

if [ "$MODE" = atomic ]; then
  switch_to "$ID" || fail "could not switch current to releases/$ID (needs GNU mv -T or BSD mv -h)"
  LIVE=1
  : > "$TMPD/live"
  record "$ID" live
  if ! run_hook "$POST" "$ID" "$PREV" post; then
    if [ -z "$PREV" ]; then
      fail "post-command failed (exit status non-zero); there is no earlier release to roll back to, so current still points to releases/$ID"
    elif switch_to "$PREV"; then
      ROLLED=true
      fail "post-command failed (exit status non-zero); rolled back: current points to releases/$PREV again"
    fi
    fail "post-command failed (exit status non-zero), and the switch back to releases/$PREV failed too: current still points to releases/$ID"
  fi
  # keep-releases as push's prune: failed and unfinished releases first (never current), then the
  # oldest good ones beyond keep (current counts as one); their lines leave the release log too.
  list_releases | awk -F '\t' -v keep="$KEEP" -v cur="$ID" '$2 == cur { next }
    '"$GOOD"' || $3 == "rolled-back" { good[++g] = $2; next } { print $2 }
    END { for (i = 1; i <= g - (keep - 1); i++) print good[i] }' |
    while IFS= read -r old; do
      if [ -n "$(marker "$old")" ] && [ ! -L "$ROOT/${RELEASES_DIR}/$old" ]; then
        rm -rf -- "$ROOT/${RELEASES_DIR}/$old" && rm -f -- "$META/releases/$old" "$META/manifests/$old" && printf '%s\n' "$old"
      fi
    done > "$TMPD/pruned"
  if [ -s "$TMPD/pruned" ] && [ -f "$META/log" ]; then
    awk -F '\t' 'FILENAME == ARGV[1] { gone[$0] = 1; next } !($1 in gone)' "$TMPD/pruned" "$META/log" > "$META/$TMPN.log" &&
      mv -f -- "$META/$TMPN.log" "$META/log"
  fi
else
  # In place: each folder's files move over in one mv (each file a rename: never half-written).
  awk -F '\t' '{ d = $5; if (sub(/\/[^\/]*$/, "", d) == 0) d = "."; print d }' "$TMPD/files" | sort -u > "$TMPD/pubdirs"
  while IFS= read -r d; do
    mkdir -p -- "$ROOT/$d" || fail "cannot create $ROOT/$d"
    # shellcheck disable=SC2016 # the inner sh expands "$@" and "$0", not this one
    awk -F '\t' -v d="$d" '{ p = $5; b = p; if (sub(/\/[^\/]*$/, "", p) == 0) p = "."; sub(/^.*\//, "", b); if (p == d) print b }' "$TMPD/files" |
      (cd "$STAGE/$d" && tr '\n' '\0' | xargs -0 sh -c 'mv -f -- "$@" "$0"' "$ROOT/$d/") ||
      fail "moving the files into $ROOT/$d failed"
  done < "$TMPD/pubdirs"
  if [ "$DELETE" = 1 ]; then
    (cd "$ROOT" && find . \( -path ./${META_DIR} -o -path ./${RELEASES_DIR} -o -name '${TEMP_PREFIX}*' \) -prune -o \( -type f -o -type l \) -print) |
      sed 's|^\./||' |
      awk -F '\t' -v prot="$PROTECT" 'FILENAME == ARGV[1] { keep[$5] = 1; next } !($0 in keep) && (prot == "" || $0 !~ prot)' "$TMPD/files" - > "$TMPD/gone"
    DELETED=$(wc -l < "$TMPD/gone" | tr -d ' ')
    (cd "$ROOT" && tr '\n' '\0' < "$TMPD/gone" | xargs -0 rm -f --)
  fi
  run_hook "$POST" "" "" post || fail "post-command failed (exit status non-zero)"
fi

awk -F '\t' '{ print $1 "\t" $5 }' "$TMPD/files" > "$META/$TMPN.${S3_MANIFEST}" &&
  mv -f "$META/$TMPN.${S3_MANIFEST}" "$META/${S3_MANIFEST}"
emit success ""
cleanup
exit 0
`.replace(/\\\$\{/g, '${')
