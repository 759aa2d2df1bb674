export const id = 577;
export const ids = [577];
export const modules = {

/***/ 1043:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   J6: () => (/* binding */ awsErrorCode),
/* harmony export */   X_: () => (/* binding */ awsErrorMessage),
/* harmony export */   Y0: () => (/* binding */ MAX_PAGES),
/* harmony export */   pI: () => (/* binding */ ec2ClientFor)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5193);
/* harmony import */ var _net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1442);


const clients = new WeakMap();
/**
 * One EC2 client per AWS context (the SDK honours AWS_ENDPOINT_URL_EC2, which points it at the
 * simulator in tests and the sandbox). Its credential provider also signs the EICE tunnel URLs.
 */
function ec2ClientFor(aws) {
    let client = clients.get(aws);
    if (!client) {
        client = new _aws_sdk_client_ec2__WEBPACK_IMPORTED_MODULE_1__/* .EC2Client */ .gu5({
            region: aws.region || undefined,
            credentials: aws.credentials,
            ...(0,_net_proxy_agent_js__WEBPACK_IMPORTED_MODULE_0__/* .sdkProxyConfig */ .L)()
        });
        clients.set(aws, client);
    }
    return client;
}
/** The SDK's error code (`name`) of a failed call, or '' for non-service errors. */
function awsErrorCode(err) {
    if (err && typeof err === 'object') {
        const e = err;
        for (const v of [e.Code, e.name, e.code])
            if (typeof v === 'string' && v)
                return v;
    }
    return '';
}
/** The first sentence-sized piece of an AWS error message (IAM messages run long). */
function awsErrorMessage(err) {
    const m = err instanceof Error ? err.message : String(err);
    return m.replace(/\s+/g, ' ').trim();
}
/** Bound on the pages one EC2 Describe* lookup reads (1000 instances, or many endpoints, a page). */
const MAX_PAGES = 20;


/***/ }),

/***/ 4577:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runS3Delivery: () => (/* binding */ runS3Delivery)
});

// UNUSED EXPORTS: executionTimeout, failureReport, stopLine

// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-s3/dist-cjs/index.js
var dist_cjs = __webpack_require__(3711);
// EXTERNAL MODULE: ./node_modules/@aws-sdk/client-ssm/dist-cjs/index.js
var client_ssm_dist_cjs = __webpack_require__(4736);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: ./build/action/errors.js
var errors = __webpack_require__(6932);
// EXTERNAL MODULE: ./build/action/files/plan.js + 2 modules
var files_plan = __webpack_require__(944);
// EXTERNAL MODULE: ./build/action/remote/names.js
var names = __webpack_require__(8978);
// EXTERNAL MODULE: ./build/action/remote/releases.js
var releases = __webpack_require__(6458);
// EXTERNAL MODULE: ./build/action/remote/quote.js
var quote = __webpack_require__(8774);
// EXTERNAL MODULE: ./build/action/remote/lock.js
var lock = __webpack_require__(6971);
;// CONCATENATED MODULE: ./build/action/remote/s3-release.js



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
const S3_RESULT_PREFIX = '{"ec2push":1,';
/** At most this much of post-command's output rides in the result line (see jout). */
const POST_OUTPUT_BYTES = 8000;
const MANIFEST_HEADER = 'ec2-push-manifest\t2';
/** The manifest's second line: the pack of small files (sha256, size, presigned URL), if any. */
function packLine(pack) {
    return pack ? `pack\t${pack.sha256}\t${pack.size}\t${pack.url}` : 'pack\t-\t0\t-';
}
/**
 * The manifest's file lines (after the pack line): sha256, octal mode, size, source, path. The
 * source is a presigned URL, or `=<offset>` for a file stored in the pack with its data at that
 * offset, or `+<offset>` for one whose content is the file stored there (the pack holds each
 * content once).
 */
function manifestLine(f) {
    return `${f.sha256}\t${(f.mode & 0o7777).toString(8).padStart(4, '0')}\t${f.size}\t${f.source}\t${f.path}`;
}
/**
 * Protect patterns (relative to remote-path; `*`, `?` within a name, `**` across folders, a pattern
 * without `/` matches at any depth, a matched folder protects what is under it) as one POSIX ERE.
 */
function protectRegex(patterns) {
    const one = (glob) => {
        let re = '';
        for (let i = 0; i < glob.length; i++) {
            const c = glob[i];
            if (c === '*' && glob[i + 1] === '*') {
                i++;
                if (glob[i + 1] === '/') {
                    i++;
                    re += '(.*/)?';
                }
                else
                    re += '.*';
            }
            else if (c === '*')
                re += '[^/]*';
            else if (c === '?')
                re += '[^/]';
            else
                re += /[A-Za-z0-9_-]/.test(c)
                    ? c
                    : c === '/'
                        ? '/'
                        : `[${c === '\\' || c === '^' || c === ']' ? '\\' + c : c}]`;
        }
        return re;
    };
    const alts = patterns
        .map(p => p.trim().replace(/^\.\//, '').replace(/\/+$/, ''))
        .filter(Boolean)
        .map(p => (p.includes('/') ? one(p.replace(/^\//, '')) : `(.*/)?${one(p)}`));
    return alts.length ? `^(${alts.join('|')})(/.*)?$` : '';
}
function renderS3ReleaseScript(o) {
    const vars = [
        `ROOT=${(0,quote/* shellQuote */.Z)(o.remotePath)}`,
        `MANIFEST_URL=${(0,quote/* shellQuote */.Z)(o.manifestUrl)}`,
        `MODE=${o.release}`,
        `ID=${(0,quote/* shellQuote */.Z)(o.releaseId)}`,
        `KEEP=${o.keepReleases}`,
        `SYNC=${o.sync ? 1 : 0}`,
        `DELETE=${o.delete ? 1 : 0}`,
        `PROTECT=${(0,quote/* shellQuote */.Z)(o.protectRegex)}`,
        `DRY=${o.dryRun ? 1 : 0}`,
        `ROLLBACK=${o.rollback ? 1 : 0}`,
        '# shellcheck disable=SC2016 # a command, run later by sh -c',
        `PRE=${(0,quote/* shellQuote */.Z)(o.preCommand ?? '')}`,
        '# shellcheck disable=SC2016',
        `POST=${(0,quote/* shellQuote */.Z)(o.postCommand ?? '')}`,
        `TOKEN=${(0,quote/* shellQuote */.Z)(o.token)}`,
        `RUN=${(0,quote/* shellQuote */.Z)(o.run)}`,
        `OWNER=${(0,quote/* shellQuote */.Z)((0,lock/* ownerFields */.Fg)(o.owner ?? {
            token: o.token,
            repo: '',
            run: o.run,
            attempt: '',
            runner: '',
            host: '',
            pid: 0,
            ttl: o.lockTtlSeconds
        }))}`
    ];
    return `#!/bin/sh
# ec2-push delivery: s3 (rendered by src/remote/s3-release.ts)
set -u
umask 022
${vars.join('\n')}
${BODY}`;
}
/** The fixed part (String.raw keeps the shell's backslashes; `\\${` stands for the shell's `${`). */
const BODY = String.raw `T0=$(date +%s)
META="$ROOT/${names/* META_DIR */.AB}"
LOCK="$META/lock"
TMPN="${names/* TEMP_PREFIX */.MX}$TOKEN"
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
  if [ "$MADE" = 1 ] && [ "$LIVE" = 0 ]; then rm -rf -- "$ROOT/${names/* RELEASES_DIR */.Dy}/$REL" && rm -f -- "$META/releases/$REL"
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
    if [ -f "$2/live" ] || [ "$(readlink "$root/${names/* CURRENT_LINK */.Rv}")" = "${names/* RELEASES_DIR */.Dy}/$rel" ]; then
      printf "%s\tfailed\t%s\t%s\n" "$rel" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$6" >> "$meta/log"
    else
      rm -rf -- "$root/${names/* RELEASES_DIR */.Dy}/$rel"; rm -f -- "$meta/releases/$rel"
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
  elif [ -f "$ROOT/${names/* RELEASES_DIR */.Dy}/$1/${names/* OLD_RELEASE_MARKER */.vy}" ] && [ ! -L "$ROOT/${names/* RELEASES_DIR */.Dy}/$1" ]; then printf '%s' "$ROOT/${names/* RELEASES_DIR */.Dy}/$1/${names/* OLD_RELEASE_MARKER */.vy}"; fi
}
# Our releases as "seq TAB id TAB outcome TAB old", oldest first: the outcome is the last event the
# release log has for it (- for none), old is 1 for a release marked by an older version (no log).
list_releases() {
  for d in "$ROOT"/${names/* RELEASES_DIR */.Dy}/*/; do
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
  [ -L "$ROOT/${names/* CURRENT_LINK */.Rv}" ] || return 0
  t=$(readlink "$ROOT/${names/* CURRENT_LINK */.Rv}")
  case "$t" in ${names/* RELEASES_DIR */.Dy}/*) t=\${t#${names/* RELEASES_DIR */.Dy}/}; printf '%s' "\${t%/}" ;; esac
}
switch_to() {
  ln -s "${names/* RELEASES_DIR */.Dy}/$1" "$ROOT/$TMPN.current" || return 1
  if ! mv -Tf "$ROOT/$TMPN.current" "$ROOT/${names/* CURRENT_LINK */.Rv}" 2>/dev/null &&
     ! mv -hf "$ROOT/$TMPN.current" "$ROOT/${names/* CURRENT_LINK */.Rv}" 2>/dev/null; then
    rm -f "$ROOT/$TMPN.current"; return 1
  fi
}
take_lock() {
  mkdir -p "$META" || fail "cannot create $META"
  # held goes first: a kill right after the mkdir must not leave the lock unknown to the watcher.
  : > "$TMPD/held"
  if [ ! -d "$ROOT/${names/* OLD_LOCK */.wj}" ] && mkdir "$LOCK" 2>/dev/null; then
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
  if [ "$MODE" = atomic ] || [ "$ROLLBACK" = 1 ]; then rp="$ROOT/${names/* RELEASES_DIR */.Dy}/$2"; else rp=$ROOT; fi
  pp=''; if [ -n "$3" ]; then pp="$ROOT/${names/* RELEASES_DIR */.Dy}/$3"; fi
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
if [ "$SYNC" = 1 ] && [ -f "$META/${names/* S3_MANIFEST */.Zq}" ]; then
  if [ "$MODE" = atomic ]; then SRC=$ROOT/current; else SRC=$ROOT; fi
  awk -F '\t' -v src="$SRC" '{ print $1 "\t" src "/" $2 }' "$META/${names/* S3_MANIFEST */.Zq}" > "$TMPD/have"
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
  DEST="$ROOT/${names/* RELEASES_DIR */.Dy}/$ID"
  if [ -e "$DEST" ] || [ -L "$DEST" ]; then
    if [ -n "$(marker "$ID")" ] && [ ! -L "$DEST" ]; then rm -rf -- "$DEST"
    else fail "$DEST exists and was not made by ec2-push; move it away or choose another release-id"; fi
  fi
  seq=$(list_releases | awk -F '\t' '{ s = $1 } END { print s + 1 }')
  mkdir -p "$META/releases" "$ROOT/${names/* RELEASES_DIR */.Dy}" || fail "cannot create $META/releases"
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
      if [ -n "$(marker "$old")" ] && [ ! -L "$ROOT/${names/* RELEASES_DIR */.Dy}/$old" ]; then
        rm -rf -- "$ROOT/${names/* RELEASES_DIR */.Dy}/$old" && rm -f -- "$META/releases/$old" "$META/manifests/$old" && printf '%s\n' "$old"
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
    (cd "$ROOT" && find . \( -path ./${names/* META_DIR */.AB} -o -path ./${names/* RELEASES_DIR */.Dy} -o -name '${names/* TEMP_PREFIX */.MX}*' \) -prune -o \( -type f -o -type l \) -print) |
      sed 's|^\./||' |
      awk -F '\t' -v prot="$PROTECT" 'FILENAME == ARGV[1] { keep[$5] = 1; next } !($0 in keep) && (prot == "" || $0 !~ prot)' "$TMPD/files" - > "$TMPD/gone"
    DELETED=$(wc -l < "$TMPD/gone" | tr -d ' ')
    (cd "$ROOT" && tr '\n' '\0' < "$TMPD/gone" | xargs -0 rm -f --)
  fi
  run_hook "$POST" "" "" post || fail "post-command failed (exit status non-zero)"
fi

awk -F '\t' '{ print $1 "\t" $5 }' "$TMPD/files" > "$META/$TMPN.${names/* S3_MANIFEST */.Zq}" &&
  mv -f "$META/$TMPN.${names/* S3_MANIFEST */.Zq}" "$META/${names/* S3_MANIFEST */.Zq}"
emit success ""
cleanup
exit 0
`.replace(/\\\$\{/g, '${');

;// CONCATENATED MODULE: ./build/action/report/results.js
function summarise(results, durationMs, filesTotal, mode) {
    const bytes = results.reduce((n, r) => n + r.bytesTransferred, 0);
    return {
        'bytes-transferred': bytes,
        'duration-ms': durationMs,
        'bytes-per-second': bytesPerSecond(bytes, durationMs),
        'files-uploaded': results.reduce((n, r) => n + r.filesUploaded, 0),
        'files-skipped': results.reduce((n, r) => n + r.filesSkipped, 0),
        'files-total': filesTotal,
        mode,
        results,
        'command-output': results.length === 1 ? (results[0].commandOutput ?? '') : ''
    };
}
function bytesPerSecond(bytes, ms) {
    return ms > 0 ? Math.round((bytes * 1000) / ms) : 0;
}
/** The step's figures in one line, as the job summary and the CLI's last line say them. */
function figuresLine(out) {
    return `${out['files-uploaded']} files uploaded (${out['files-skipped']} unchanged), ${out['bytes-transferred']} bytes in ${(out['duration-ms'] / 1000).toFixed(1)} s: ${out['bytes-per-second']} bytes/s`;
}
function throughputMBps(bytes, ms) {
    return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : '0.0';
}

// EXTERNAL MODULE: ./build/action/sync/local-hash.js
var local_hash = __webpack_require__(3317);
// EXTERNAL MODULE: ./build/action/aws/credentials.js
var credentials = __webpack_require__(2223);
// EXTERNAL MODULE: ./build/action/aws/ec2.js
var ec2 = __webpack_require__(1043);
;// CONCATENATED MODULE: ./build/action/delivery/s3/errors.js


/** S3's refusals as one line each: what was refused, why, and what the runner's role needs. */
function s3Failure(err, operation, bucket, key) {
    const code = (0,ec2/* awsErrorCode */.J6)(err);
    const status = err.$metadata?.httpStatusCode;
    if (code === 'NoSuchBucket' || (operation === 'HeadObject' && status === 404))
        return new errors/* UserError */.yo(`S3 bucket '${bucket}' does not exist (or is in another region): create it, or fix 's3-bucket' and 'aws-region'.`);
    if (code === 'AccessDenied' || code === 'Forbidden' || status === 403)
        return new errors/* UserError */.yo(`S3 refused ${operation} on s3://${bucket}/${key} (AccessDenied): the runner's role needs s3:PutObject, s3:GetObject and s3:ListBucket on that prefix (see the README's IAM policy).`);
    if (code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId')
        return new errors/* UserError */.yo(`S3 refused the runner's credentials (${code}): check the AWS credentials this step uses.`);
    if (code === 'BadDigest')
        return new Error(`S3 refused s3://${bucket}/${key}: the bytes it received do not match their SHA-256 (BadDigest); the file changed while it was read, or the network corrupted it.`);
    return new Error(`S3 ${operation} s3://${bucket}/${key} failed: ${code ? code + ': ' : ''}${(0,ec2/* awsErrorMessage */.X_)(err)}`);
}

// EXTERNAL MODULE: ./node_modules/@aws-sdk/lib-storage/dist-cjs/index.js
var lib_storage_dist_cjs = __webpack_require__(2358);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
;// CONCATENATED MODULE: ./build/action/fleet/pool.js
/**
 * Run `work` for every item with at most `limit` at once, in order of the items. Items not yet
 * started when `stop` is aborted are handed to `skip` instead.
 */
async function runPool(items, limit, work, opts = {}) {
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            if (opts.stop?.aborted)
                opts.skip?.(items[i], i);
            else
                await work(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

;// CONCATENATED MODULE: ./build/action/delivery/s3/objects.js






/**
 * Content-addressed objects: each distinct file goes up once as `<prefix>/objects/<sha256>`, and
 * only when HeadObject says it is not there yet (a redeploy uploads only what changed). Every
 * object carries S3's SHA-256 checksum, so S3 refuses bytes that changed on the way: a small file
 * with the digest computed before (PutObject's x-amz-checksum-sha256), a large one in parts through
 * lib-storage, each part checksummed.
 */
const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;
const OBJECTS_IN_FLIGHT = 16;
function objectKey(prefix, sha256) {
    return `${prefix ? prefix + '/' : ''}objects/${sha256}`;
}
async function uploadObjects(client, bucket, prefix, objects, signal) {
    const unique = [...new Map(objects.map(o => [o.sha256, o])).values()];
    const out = { uploaded: 0, skipped: 0, bytes: 0 };
    await runPool(unique, OBJECTS_IN_FLIGHT, async (o) => {
        signal?.throwIfAborted();
        const key = objectKey(prefix, o.sha256);
        if (await exists(client, bucket, key, o.size, signal)) {
            out.skipped++;
            return;
        }
        try {
            if (o.size <= MULTIPART_THRESHOLD) {
                await client.send(new dist_cjs.PutObjectCommand({
                    Bucket: bucket,
                    Key: key,
                    Body: o.body ?? (await (0,promises_.readFile)(o.localPath)),
                    ChecksumSHA256: Buffer.from(o.sha256, 'hex').toString('base64')
                }), { abortSignal: signal });
            }
            else {
                // A cancelled step stops the parts and aborts the multipart upload, so no parts linger in S3.
                const abortController = new AbortController();
                const stop = () => abortController.abort();
                signal?.addEventListener('abort', stop, { once: true });
                try {
                    await new lib_storage_dist_cjs/* Upload */._({
                        client,
                        params: {
                            Bucket: bucket,
                            Key: key,
                            Body: o.body ?? (0,external_node_fs_.createReadStream)(o.localPath, { highWaterMark: 1 << 20 }),
                            ChecksumAlgorithm: 'SHA256'
                        },
                        partSize: PART_SIZE,
                        queueSize: 4,
                        leavePartsOnError: false,
                        abortController
                    }).done();
                }
                finally {
                    signal?.removeEventListener('abort', stop);
                }
            }
        }
        catch (err) {
            throw s3Failure(err, 'PutObject', bucket, key);
        }
        out.uploaded++;
        out.bytes += o.size;
    });
    return out;
}
/** The object is there with the expected size (its name is its content's sha256). */
async function exists(client, bucket, key, size, signal) {
    try {
        const head = await client.send(new dist_cjs.HeadObjectCommand({ Bucket: bucket, Key: key }), {
            abortSignal: signal
        });
        return head.ContentLength === size;
    }
    catch (err) {
        const status = err.$metadata?.httpStatusCode;
        if (status === 404 && err.name !== 'NoSuchBucket')
            return false;
        throw s3Failure(err, 'HeadObject', bucket, key);
    }
}

;// CONCATENATED MODULE: ./build/action/delivery/s3/pack.js


/**
 * The pack of `delivery: s3`: small files travel as one object, a POSIX tar (ustar, with a pax
 * header for names longer than 100 bytes), so an instance makes one request for thousands of them
 * instead of one each. Each distinct content is stored once, as a regular file named by the first
 * path that has it; every header is the same but for name and size (mode 0644, owner 0, time 0),
 * so the same files make the same pack, byte for byte, and a redeploy finds it already in S3
 * (content-addressed). The manifest gives each file's data offset in the pack: an instance that
 * lacks only a few files fetches just those bytes (an HTTP range), and one without tar does so for
 * all of them. Each file is still checked against its own sha256 once it is on the instance.
 */
/** Files up to this size go in the pack; larger ones are objects of their own. */
const PACK_FILE_MAX = 1024 * 1024;
/** The pack is built in memory: files past this total travel as objects of their own. */
const PACK_MAX_BYTES = 128 * 1024 * 1024;
const BLOCK = 512;
/** Which files go in the pack: non-empty ones up to PACK_FILE_MAX, distinct contents up to PACK_MAX_BYTES. */
function packable(files) {
    const seen = new Set();
    let total = 0;
    const out = [];
    for (const f of [...files].sort((a, b) => cmp(a.relativePath, b.relativePath))) {
        if (f.size === 0 || f.size > PACK_FILE_MAX)
            continue;
        if (!seen.has(f.sha256)) {
            const cost = f.size + 3 * BLOCK;
            if (total + cost > PACK_MAX_BYTES)
                continue;
            total += cost;
            seen.add(f.sha256);
        }
        out.push(f);
    }
    return out;
}
/** The pack of `files` (already chosen by packable), read from disk; undefined for none. */
async function buildPack(files) {
    const first = new Map();
    for (const f of [...files].sort((a, b) => cmp(a.relativePath, b.relativePath)))
        if (!first.has(f.sha256))
            first.set(f.sha256, f);
    if (first.size === 0)
        return undefined;
    const parts = [];
    const members = new Map();
    let at = 0;
    for (const f of first.values()) {
        const data = await (0,promises_.readFile)(f.localPath);
        if (data.length !== f.size || sha256(data) !== f.sha256)
            throw new Error(`${f.localPath} changed while the deploy was reading it; run again`);
        for (const b of headers(f.relativePath, data.length)) {
            parts.push(b);
            at += b.length;
        }
        members.set(f.sha256, { path: f.relativePath, offset: at });
        parts.push(data, Buffer.alloc(pad(data.length)));
        at += data.length + pad(data.length);
    }
    parts.push(Buffer.alloc(2 * BLOCK));
    const body = Buffer.concat(parts);
    return { body, sha256: sha256(body), members };
}
function headers(name, size) {
    const bytes = Buffer.from(name, 'utf8');
    if (bytes.length <= 100)
        return [header(bytes, size, '0')];
    // pax: a record "<len> path=<name>\n", where <len> counts the whole record, its own digits too.
    const body = ` path=${name}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len)
        len++;
    const record = Buffer.from(`${len}${body}`, 'utf8');
    return [
        header(Buffer.from('PaxHeader'), record.length, 'x'),
        Buffer.concat([record, Buffer.alloc(pad(record.length))]),
        header(bytes.subarray(0, 100), size, '0')
    ];
}
function header(name, size, type) {
    const h = Buffer.alloc(BLOCK);
    name.copy(h, 0, 0, Math.min(100, name.length));
    h.write('0000644\0', 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    h.write('00000000000\0', 136, 'ascii');
    h.write('        ', 148, 'ascii');
    h.write(type, 156, 'ascii');
    h.write('ustar\0' + '00', 257, 'ascii');
    let sum = 0;
    for (const b of h)
        sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    return h;
}
const pad = (n) => (BLOCK - (n % BLOCK)) % BLOCK;
const sha256 = (b) => (0,external_node_crypto_.createHash)('sha256').update(b).digest('hex');
/** Byte order, not the locale's: the pack must not depend on the runner. */
const cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// EXTERNAL MODULE: ./node_modules/@smithy/signature-v4/dist-cjs/index.js
var signature_v4_dist_cjs = __webpack_require__(5118);
// EXTERNAL MODULE: ./build/action/tunnel/eice/signer.js
var eice_signer = __webpack_require__(8087);
;// CONCATENATED MODULE: ./build/action/delivery/s3/presign.js


function objectUrlBase(loc) {
    if (loc.endpoint) {
        const u = new URL(loc.endpoint);
        return { origin: u.origin, pathPrefix: `${u.pathname.replace(/\/+$/, '')}/${loc.bucket}` };
    }
    const suffix = loc.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    if (loc.bucket.includes('.'))
        return { origin: `https://s3.${loc.region}.${suffix}`, pathPrefix: `/${loc.bucket}` };
    return { origin: `https://${loc.bucket}.s3.${loc.region}.${suffix}`, pathPrefix: '' };
}
function createPresigner(loc, credentials, expiresIn, signingDate = () => new Date()) {
    const base = objectUrlBase(loc);
    const origin = new URL(base.origin);
    return {
        async url(key) {
            const path = `${base.pathPrefix}/${key.split('/').map(eice_signer/* rfc3986 */.gV).join('/')}`;
            const signer = new signature_v4_dist_cjs.SignatureV4({
                service: 's3',
                region: loc.region,
                credentials: await credentials(),
                sha256: eice_signer/* NodeSha256 */.u7,
                uriEscapePath: false
            });
            const signed = await signer.presign({
                method: 'GET',
                protocol: origin.protocol,
                hostname: origin.hostname,
                port: origin.port ? Number(origin.port) : undefined,
                path,
                query: {},
                headers: { host: origin.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
            }, { expiresIn, signingDate: signingDate(), unsignableHeaders: new Set(['x-amz-content-sha256']) });
            const q = signed.query ?? {};
            const pairs = Object.keys(q)
                .sort((a, b) => (a === 'X-Amz-Signature' ? 1 : b === 'X-Amz-Signature' ? -1 : 0))
                .map(k => `${(0,eice_signer/* rfc3986 */.gV)(k)}=${(0,eice_signer/* rfc3986 */.gV)(String(q[k]))}`);
            return `${origin.origin}${path}?${pairs.join('&')}`;
        }
    };
}

// EXTERNAL MODULE: ./build/action/report/command-output.js
var command_output = __webpack_require__(1169);
;// CONCATENATED MODULE: ./build/action/delivery/s3/results.js



/** Presigned URLs never reach a log, even if a tool on the instance printed one. */
const scrub = (s) => s.replace(/X-Amz-(Signature|Credential|Security-Token)=[^&\s"']+/g, 'X-Amz-$1=***');
function parseReport(stdout) {
    const line = stdout
        .split('\n')
        .reverse()
        .find(l => l.startsWith(S3_RESULT_PREFIX));
    if (!line)
        return undefined;
    try {
        return JSON.parse(line);
    }
    catch {
        return undefined;
    }
}
function stderrTail(stderr) {
    const lines = stderr
        .split('\n')
        .map(l => l.trim())
        .filter(Boolean);
    const last = lines.reverse().find(l => l.startsWith('ec2-push: ')) ?? lines[0] ?? '';
    return scrub(last.replace(/^ec2-push: /, '')).slice(0, 400);
}
function describeOutcomes(outcomes, filesTotal, config, mask = l => l, 
/** Why the runner cancelled the commands, when it did ("the step ran out of time", ...). */
stoppedBecause = '') {
    return outcomes.map(o => {
        const report = parseReport(o.stdout);
        // A script that exits 0 has published (or dry-run): without its output, Success says as much.
        const ok = o.status === 'Success' && (report?.status === 'success' || report?.status === 'dry-run' || !!o.unread);
        const base = {
            target: o.instanceId,
            mode: 's3',
            status: ok
                ? 'success'
                : notSent(o)
                    ? 'skipped'
                    : o.status === 'Cancelled' && !o.unconfirmed
                        ? 'cancelled'
                        : 'failure',
            filesUploaded: report?.fetched ?? 0,
            filesSkipped: report?.reused ?? 0,
            filesTotal: report?.files ?? filesTotal,
            bytesTransferred: report?.bytes ?? 0,
            durationMs: (report?.seconds ?? 0) * 1000,
            verification: report && report.status !== 'dry-run' ? 'sha256' : 'not reached',
            reconnects: 0
        };
        if (report?.release && config.release === 'atomic') {
            base.releaseId = report.release;
            base.releasePath = (0,names/* releaseDir */.ZI)(config.remotePath, report.release);
            if (report.previous)
                base.previousRelease = report.previous;
        }
        if (report?.rolledBack)
            base.rolledBack = true;
        if (report?.deleted)
            base.filesDeleted = report.deleted;
        if (report?.output !== undefined && (report.outputCut ?? -1) >= 0)
            base.commandOutput = commandOutput(report.output, report.outputCut, mask);
        if (!ok)
            base.error = errorOf(o, report, config.timeoutSeconds, stoppedBecause);
        return base;
    });
}
/** As push gives it: lines masked whole, then bounded; the instance already kept only the end. */
function commandOutput(text, cut, mask) {
    const out = new command_output/* BoundedText */.FM(command_output/* MAX_COMMAND_OUTPUT */.RO);
    // A cut inside a character leaves replacement characters at the start.
    for (const line of scrub(text.replace(/^\uFFFD+/, '')).split('\n'))
        out.add(mask(line));
    const body = out.text();
    return cut > 0 ? `[first ${cut} bytes cut]\n${body}` : body;
}
/**
 * An invocation Run Command never sent because the command had more failures than MaxErrors (its
 * details say Terminated; one cancelled by CancelCommand says Cancelled).
 */
function notSent(o) {
    return o.status === 'Cancelled' && !o.stopped && !o.unconfirmed && o.statusDetails === 'Terminated';
}
function errorOf(o, report, timeoutSeconds, stoppedBecause) {
    if (o.unconfirmed)
        return `cancellation not confirmed: Run Command still says ${o.status} (command ${o.commandId}), so its script may still be running there; check that instance`;
    if (o.stopped === 'running')
        return `cancelled while its script ran (${stoppedBecause}): the agent stopped it, and the instance undoes its lock, temporaries and unfinished release`;
    if (o.stopped === 'waiting')
        return `cancelled before it started (${stoppedBecause}): nothing ran there`;
    switch (o.status) {
        case 'Offline':
            return "offline: its SSM agent did not take the command (Run Command: Delayed); the command was cancelled there. Check the instance's SSM agent (PingStatus Online).";
        case 'TimedOut':
            // Run Command's delivery timeout (SendCommand's TimeoutSeconds): the script never started.
            if (o.statusDetails.replace(/\s/g, '') === 'DeliveryTimedOut')
                return "not run: its SSM agent did not take the command before the delivery timeout (Run Command: Delivery Timed Out); the instance is offline or was queued behind MaxConcurrency. Check the instance's SSM agent (PingStatus Online).";
            return `the command timed out on the instance after ${timeoutSeconds} s (executionTimeout); ${stderrTail(o.stderr) || 'no output'}`;
        case 'Cancelled':
            if (notSent(o))
                return 'not run: MaxErrors was reached (fail-fast) before Run Command sent it here';
            return `cancelled outside this run (Run Command: ${o.statusDetails || o.status}), by CancelCommand or the console; if its script had started, the instance undid its lock, temporaries and unfinished release`;
    }
    if (o.unread)
        return `Run Command status ${o.status} (${o.statusDetails}); its output was not read before the runner stopped`;
    return (scrub(report?.error || '') ||
        stderrTail(o.stderr) ||
        `Run Command status ${o.status} (${o.statusDetails})`);
}
/** A text table for the log: one row per instance. */
function summaryTable(results) {
    const rows = results.map(r => [
        r.target,
        r.status,
        `${r.filesUploaded} fetched, ${r.filesSkipped} reused`,
        `${r.bytesTransferred} B`,
        `${(r.durationMs / 1000).toFixed(0)} s`,
        r.releaseId ?? ''
    ]);
    const head = ['instance', 'status', 'files', 'bytes', 'time', 'release'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
    const fmt = (r) => r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd();
    return [fmt(head), ...rows.map(fmt)];
}

;// CONCATENATED MODULE: ./build/action/delivery/s3/run-command.js




/**
 * Systems Manager Run Command as the fan-out: one SendCommand (AWS-RunShellScript) per 50 instance
 * ids (the API's limit) and one per tag target (`tag:Role=web` -> Targets Key=tag:Role), then
 * ListCommandInvocations polled (often at first, then less) until every invocation is over. An
 * invocation still waiting for its agent when all the others are done, or for a minute, is an
 * offline instance: its command is cancelled (so it cannot run later, out of order, and its place
 * in MaxConcurrency goes to the next instance) and it is reported as offline. When the step stops
 * early (cancelled, out of time, a later SendCommand refused, polling failed), every command sent
 * is cancelled and polled until each invocation has ended or a short bound has passed
 * (stopCommands), so no instance goes on deploying after the step has failed.
 */
const DOCUMENT = 'AWS-RunShellScript';
const IDS_PER_CALL = 50;
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
const MAX_POLL_MS = 5000;
/** An agent that has not taken a command in this long is treated as offline. */
const OFFLINE_AFTER_MS = 60_000;
/** GetCommandInvocation calls at once when reading the outputs (the API throttles bursts). */
const OUTPUTS_IN_FLIGHT = 8;
function commandBatches(targets) {
    const ids = [...new Set(targets.flatMap(t => (t.kind === 'instance' ? [t.instanceId] : [])))];
    const out = [];
    for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
        const batch = ids.slice(i, i + IDS_PER_CALL);
        out.push({
            InstanceIds: batch,
            label: batch.length === 1
                ? batch[0]
                : `${batch.length} instance ids, ${batch[0]} to ${batch[batch.length - 1]}`
        });
    }
    for (const t of targets) {
        if (t.kind === 'tag')
            out.push({ Targets: [{ Key: `tag:${t.key}`, Values: [t.value] }], label: t.label });
        else if (t.kind === 'host')
            throw new errors/* UserError */.yo(`delivery: s3 reaches instances through Systems Manager: target '${t.label}' must be an instance id (i-...) or a tag filter (tag:Key=Value).`);
    }
    return out;
}
/** SendCommand refused or failed for one batch (the commands of the batches before it went out). */
class SendCommandFailure extends errors/* UserError */.yo {
}
/**
 * One SendCommand per batch, in order; each command id goes into `sent` as soon as it is known, so a
 * caller that stops (a refusal here, a cancellation) can cancel what went out.
 */
async function sendCommands(ssm, o, sent) {
    const batches = commandBatches(o.targets);
    for (const [n, batch] of batches.entries()) {
        o.signal?.throwIfAborted();
        try {
            const r = await ssm.send(new client_ssm_dist_cjs/* SendCommandCommand */.VWR({
                DocumentName: DOCUMENT,
                InstanceIds: batch.InstanceIds,
                Targets: batch.Targets,
                Parameters: { commands: [o.script], executionTimeout: [String(o.executionTimeoutSeconds)] },
                TimeoutSeconds: Math.max(30, Math.min(2592000, o.executionTimeoutSeconds)),
                MaxConcurrency: o.maxConcurrency,
                MaxErrors: o.maxErrors,
                Comment: o.comment.slice(0, 100)
            }));
            if (!r.Command?.CommandId)
                throw new Error('SendCommand returned no CommandId');
            sent.push(r.Command.CommandId);
        }
        catch (err) {
            const which = batches.length > 1 ? `batch ${n + 1} of ${batches.length} (${batch.label})` : batch.label;
            throw new SendCommandFailure(`SendCommand for ${which} failed: ${sendFailureReason(err)}`);
        }
    }
}
/** Why SendCommand failed, with what to do about it where that is known. */
function sendFailureReason(err) {
    const code = (0,ec2/* awsErrorCode */.J6)(err);
    const attempts = err.$metadata?.attempts ?? 1;
    const tried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    const said = `${code && code !== 'Error' ? code + ': ' : ''}${(0,ec2/* awsErrorMessage */.X_)(err)}${tried}`;
    if (code === 'AccessDeniedException')
        return `${said}; the runner's role needs ssm:SendCommand on ${DOCUMENT} and the instances`;
    if (code === 'InvalidInstanceId')
        return `${said}; the instances must be running, managed by Systems Manager and Online`;
    if (code === 'ThrottlingException')
        return `${said}; Systems Manager is throttling this account, run again later`;
    return said;
}
/** The polling of an interrupted waitForInvocations: what was last seen, which were found offline. */
class Interrupted extends Error {
    reason;
    last;
    offline;
    constructor(reason, last, offline) {
        super(reason instanceof Error ? reason.message : String(reason));
        this.reason = reason;
        this.last = last;
        this.offline = offline;
    }
}
/**
 * Poll until every invocation of every command is over (offline ones cancelled), then read their
 * output. When the signal fires or a call fails, throws Interrupted with what it saw last.
 */
async function waitForInvocations(ssm, commandIds, o) {
    const seen = { invocations: [] };
    const offline = new Set();
    try {
        await pollUntilOver(ssm, commandIds, o, seen, offline);
    }
    catch (err) {
        throw new Interrupted(err, seen.invocations, offline);
    }
    return readOutcomes(ssm, seen.invocations, offline);
}
async function pollUntilOver(ssm, commandIds, o, seen, offline) {
    const started = Date.now();
    let delay = o.pollMs;
    let invocations = [];
    const delayedSince = new Map();
    const offlineAfterMs = o.offlineAfterMs ?? OFFLINE_AFTER_MS;
    for (;;) {
        await sleep(delay, o.signal);
        const pages = await Promise.all(commandIds.map(id => listAll(ssm, id)));
        invocations = pages.flatMap(p => p.invocations);
        seen.invocations = invocations;
        // A late poll costs at most an eighth of the time so far (a short deploy is seen done within a
        // fraction of a second), never more than MAX_POLL_MS, and big fleets (many pages) poll less often.
        const calls = pages.reduce((n, p) => n + p.calls, 0);
        delay = Math.min(Math.max(MAX_POLL_MS, o.pollMs * calls), Math.max(o.pollMs * calls, (Date.now() - started) / 8));
        const open = invocations.filter(i => !TERMINAL.has(i.Status ?? '') && !offline.has(key(i)));
        o.onProgress?.(invocations.length - open.length, invocations.length);
        if (invocations.length && open.length === 0)
            break;
        // An agent that has not taken the command when only such agents are left, or after
        // offlineAfterMs, is offline: its command is cancelled there, which also frees its place
        // in MaxConcurrency for the instances still waiting.
        const now = Date.now();
        for (const i of open)
            if (i.Status === 'Delayed' && !delayedSince.has(key(i)))
                delayedSince.set(key(i), now);
        const allDelayed = invocations.length > 0 && open.every(i => i.Status === 'Delayed');
        const gone = open.filter(i => i.Status === 'Delayed' && (allDelayed || now - delayedSince.get(key(i)) >= offlineAfterMs));
        for (const id of commandIds) {
            const mine = gone.filter(i => i.CommandId === id).map(i => i.InstanceId);
            // CancelCommand takes at most 50 instance ids.
            for (let at = 0; at < mine.length; at += IDS_PER_CALL)
                await ssm.send(new client_ssm_dist_cjs/* CancelCommandCommand */.tal({ CommandId: id, InstanceIds: mine.slice(at, at + IDS_PER_CALL) }));
        }
        for (const i of gone)
            offline.add(key(i));
    }
}
/** Each invocation's outcome, its output read with GetCommandInvocation unless `instead` gives it. */
async function readOutcomes(ssm, invocations, offline, instead = () => undefined) {
    const outcomes = new Array(invocations.length);
    await runPool(invocations, OUTPUTS_IN_FLIGHT, async (i, n) => {
        const base = outcomeOf(i);
        if (offline.has(key(i))) {
            outcomes[n] = { ...base, status: 'Offline' };
            return;
        }
        const given = instead(i);
        if (given) {
            outcomes[n] = { ...base, ...given };
            return;
        }
        const r = await ssm.send(new client_ssm_dist_cjs/* GetCommandInvocationCommand */.ryN({ CommandId: base.commandId, InstanceId: base.instanceId }));
        outcomes[n] = {
            ...base,
            status: r.Status ?? base.status,
            statusDetails: r.StatusDetails ?? base.statusDetails,
            stdout: r.StandardOutputContent ?? '',
            stderr: r.StandardErrorContent ?? '',
            ...(r.ExecutionStartDateTime ? { startedAt: r.ExecutionStartDateTime } : {})
        };
    });
    return outcomes;
}
const outcomeOf = (i) => ({
    instanceId: i.InstanceId ?? '',
    commandId: i.CommandId ?? '',
    status: i.Status ?? '',
    statusDetails: i.StatusDetails ?? '',
    stdout: '',
    stderr: ''
});
/**
 * CancelCommand for every command sent (an invocation not started never runs; the agent kills a
 * running one's script, whose watcher then undoes what it left), then ListCommandInvocations until
 * every invocation has ended (Cancelled, Success, Failed, TimedOut) or confirmMs has passed. Each
 * outcome says whether it was stopped running or waiting, or that its end was not confirmed.
 */
async function stopCommands(ssm, commandIds, o) {
    const before = new Map((o.last?.last ?? []).map(i => [key(i), i.Status ?? '']));
    const offline = o.last?.offline ?? new Set();
    const refused = [];
    await Promise.all(commandIds.map(id => ssm
        .send(new client_ssm_dist_cjs/* CancelCommandCommand */.tal({ CommandId: id }))
        .catch((err) => refused.push(`${(0,ec2/* awsErrorCode */.J6)(err) || 'Error'}: ${(0,ec2/* awsErrorMessage */.X_)(err)}`))));
    const deadline = Date.now() + o.confirmMs;
    let invocations = o.last?.last ?? [];
    let delay = o.pollMs;
    for (;;) {
        try {
            invocations = (await Promise.all(commandIds.map(id => listAll(ssm, id)))).flatMap(p => p.invocations);
        }
        catch {
            // Keep what was seen last: what cannot be listed is not confirmed.
        }
        const open = invocations.filter(i => !TERMINAL.has(i.Status ?? '') && !offline.has(key(i)));
        const left = deadline - Date.now();
        if ((invocations.length && open.length === 0) || left <= 0)
            break;
        await new Promise(r => setTimeout(r, Math.min(delay, left)));
        delay = Math.min(1000, delay * 2);
    }
    // Outputs are read for a bounded time too (a large fleet after a cancellation signal has seconds
    // at most); an invocation read no more is reported from its status alone.
    const readBy = Date.now() + o.confirmMs / 2;
    const unread = (i) => !TERMINAL.has(i.Status ?? '') ? { unconfirmed: true } : Date.now() > readBy ? { unread: true } : undefined;
    const outcomes = await readOutcomes(ssm, invocations, offline, unread).catch(() => 
    // GetCommandInvocation failed too: the statuses alone still say who was stopped.
    invocations.map(i => ({
        ...outcomeOf(i),
        ...(offline.has(key(i)) ? { status: 'Offline' } : (unread(i) ?? { unread: true }))
    })));
    for (const out of outcomes) {
        const was = before.get(`${out.commandId}/${out.instanceId}`) ?? 'Pending';
        if (out.status !== 'Cancelled' || TERMINAL.has(was))
            continue;
        // Started or not, as the invocation itself says (the last poll may predate its start).
        out.stopped = out.startedAt || was === 'InProgress' || was === 'Cancelling' ? 'running' : 'waiting';
    }
    return { outcomes, ...(refused.length ? { cancelError: [...new Set(refused)].join('; ') } : {}) };
}
const key = (i) => `${i.CommandId}/${i.InstanceId}`;
async function listAll(ssm, commandId) {
    const out = [];
    let token;
    let calls = 0;
    do {
        const r = await ssm.send(new client_ssm_dist_cjs/* ListCommandInvocationsCommand */.mdT({ CommandId: commandId, MaxResults: 50, NextToken: token }));
        calls++;
        out.push(...(r.CommandInvocations ?? []));
        token = r.NextToken;
    } while (token);
    return { invocations: out, calls };
}
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal.aborted)
            return reject(signal.reason);
        const t = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(t);
            reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
    });
}

// EXTERNAL MODULE: ./build/action/net/proxy-agent.js + 1 modules
var proxy_agent = __webpack_require__(1442);
;// CONCATENATED MODULE: ./build/action/delivery/s3/deploy.js




















/**
 * `delivery: s3`, the whole of it: match and hash the files, upload each distinct one once to S3
 * (content-addressed; small files in one pack), put a manifest listing them with presigned GET URLs, then one Run Command
 * (per 50 ids or per tag target) whose parameters hold only the release script and the manifest's
 * presigned URL. Each instance fetches, verifies and publishes by itself; the runner polls, then
 * reports per instance. Never throws, like runDeploy.
 */
async function runS3Delivery(config, s3, logger, opts = {}) {
    const started = Date.now();
    const mode = 's3';
    const releasePath = config.release === 'atomic' && !config.rollback
        ? (0,names/* releaseDir */.ZI)(config.remotePath, config.releaseId)
        : config.remotePath;
    let results = [];
    let filesTotal = 0;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), config.timeoutSeconds * 1000);
    const cancel = opts.cancel ?? new AbortController().signal;
    const signal = AbortSignal.any([controller.signal, cancel]);
    try {
        if (!config.remotePath.startsWith('/'))
            throw new errors/* UserError */.yo(`With delivery: s3, 'remote-path' must be absolute (Run Command scripts run as root in the agent's folder), got '${config.remotePath}'.`);
        const aws = await logger.group('AWS credentials', () => (0,credentials.resolveAwsContext)(config.aws, logger, opts.aws));
        const region = aws.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
        if (!region)
            throw new errors/* UserError */.yo("No AWS region: set 'aws-region' (or AWS_REGION).");
        const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
        const s3Client = new dist_cjs.S3Client({
            region,
            credentials: aws.credentials,
            forcePathStyle: !!endpoint,
            ...(0,proxy_agent/* sdkProxyConfig */.L)()
        });
        const ssm = new client_ssm_dist_cjs/* SSMClient */.jBj({ region, credentials: aws.credentials, ...(0,proxy_agent/* sdkProxyConfig */.L)() });
        const plan = config.rollback
            ? { root: '', files: [], totalBytes: 0 }
            : await logger.group('Files', () => (0,files_plan/* planFiles */.C)({
                patterns: config.files,
                baseDir: config.baseDir,
                includeHiddenFiles: config.includeHiddenFiles,
                ifNoFilesFound: config.ifNoFilesFound,
                logger,
                cwd: opts.cwd
            }));
        filesTotal = plan.files.length;
        const awkward = plan.files.find(f => [...f.relativePath].some(c => c < ' ' || c === '\x7f'));
        if (awkward)
            throw new errors/* UserError */.yo(`delivery: s3 cannot carry the file name ${JSON.stringify(awkward.relativePath)} (a control character: the manifest is one line per file, tab-separated); rename it or use delivery: push.`);
        if (!config.rollback && plan.files.length === 0)
            return { outputs: summarise([], Date.now() - started, 0, mode), releasePath };
        const token = (0,external_node_crypto_.randomBytes)(8).toString('hex');
        // The URLs live no longer than the step may run: the command cannot outlive them usefully.
        const presigner = createPresigner({ bucket: s3.bucket, region, endpoint }, () => (0,credentials/* currentCredentials */.e)(aws), config.timeoutSeconds);
        let manifestUrl = '';
        if (!config.rollback) {
            const digests = await (0,local_hash/* hashLocalFiles */.v)(plan.files);
            const objects = plan.files.map(f => ({ ...f, sha256: digests.get(f.relativePath) }));
            const inPack = packable(objects);
            const pack = await buildPack(inPack);
            const packed = new Set(pack ? inPack.map(f => f.relativePath) : []);
            const own = objects.filter(o => !packed.has(o.relativePath));
            if (!config.dryRun) {
                const up = await logger.group('Upload to S3', () => uploadObjects(s3Client, s3.bucket, s3.prefix, [...own, ...(pack ? [{ sha256: pack.sha256, size: pack.body.length, body: pack.body }] : [])], signal));
                logger.info(`s3://${s3.bucket}/${s3.prefix}/objects: ${up.uploaded} objects uploaded (${up.bytes} bytes), ${up.skipped} already there${pack ? `; ${packed.size} small files travel in one pack of ${pack.body.length} bytes` : ''}`);
            }
            const lines = [
                MANIFEST_HEADER,
                packLine(pack && {
                    sha256: pack.sha256,
                    size: pack.body.length,
                    url: await presigner.url(objectKey(s3.prefix, pack.sha256))
                })
            ];
            for (const o of objects) {
                const at = packed.has(o.relativePath) ? pack.members.get(o.sha256) : undefined;
                lines.push(manifestLine({
                    sha256: o.sha256,
                    mode: o.mode,
                    size: o.size,
                    path: o.relativePath,
                    source: at
                        ? `${at.path === o.relativePath ? '=' : '+'}${at.offset}`
                        : await presigner.url(objectKey(s3.prefix, o.sha256))
                }));
            }
            const body = Buffer.from(lines.join('\n') + '\n');
            const manifestKey = `${s3.prefix}/manifests/${config.releaseId}-${token}.tsv`;
            try {
                await s3Client.send(new dist_cjs.PutObjectCommand({
                    Bucket: s3.bucket,
                    Key: manifestKey,
                    Body: body,
                    ContentType: 'text/tab-separated-values',
                    ChecksumSHA256: (0,external_node_crypto_.createHash)('sha256').update(body).digest('base64')
                }), { abortSignal: signal });
            }
            catch (err) {
                throw s3Failure(err, 'PutObject', s3.bucket, manifestKey);
            }
            manifestUrl = await presigner.url(manifestKey);
            logger.setSecret(manifestUrl);
            logger.setSecret(new URL(manifestUrl).searchParams.get('X-Amz-Signature') ?? '');
            // S3 refuses a presigned URL once the session that signed it has expired, whatever its X-Amz-Expires.
            const expires = (await (0,credentials/* currentCredentials */.e)(aws)).expiration;
            const deadline = started + config.timeoutSeconds * 1000;
            if (expires && expires.getTime() < deadline)
                logger.warning(`The presigned URLs are signed with credentials that expire at ${expires.toISOString()}, ${Math.round((deadline - expires.getTime()) / 1000)} s before timeout-seconds (${config.timeoutSeconds} s) runs out: an instance whose command starts after that cannot fetch (S3 answers 403). Raise role-duration-seconds (or the lifetime of the credentials given), or lower timeout-seconds.`);
        }
        const script = renderS3ReleaseScript({
            remotePath: config.remotePath,
            manifestUrl,
            release: config.release,
            releaseId: config.releaseId,
            keepReleases: config.keepReleases,
            sync: config.sync,
            delete: config.delete,
            protectRegex: protectRegex(config.protect),
            dryRun: config.dryRun,
            rollback: config.rollback,
            preCommand: config.preCommand,
            postCommand: config.postCommand,
            token,
            run: (0,releases/* runLabel */.Az)(),
            lockTtlSeconds: config.timeoutSeconds + 60,
            // The lock's owner as push writes it, so either delivery reads the other's holder.
            owner: {
                token,
                repo: process.env.GITHUB_REPOSITORY ?? '',
                run: process.env.GITHUB_RUN_ID ?? 'local',
                attempt: process.env.GITHUB_RUN_ATTEMPT ?? '',
                runner: process.env.RUNNER_NAME ?? '',
                host: external_node_os_.hostname(),
                pid: process.pid,
                ttl: config.timeoutSeconds + 60
            }
        });
        // From what is left of the step's limit once the files are in S3, so a command that hangs
        // times out while the runner is still there to say which instance it was.
        const commandTimeout = executionTimeout(config.timeoutSeconds - Math.ceil((Date.now() - started) / 1000));
        const sent = [];
        const { outcomes, stop } = await logger.group('Run Command', async () => {
            try {
                await sendCommands(ssm, {
                    targets: config.targets,
                    script,
                    executionTimeoutSeconds: commandTimeout,
                    maxConcurrency: s3.maxConcurrency,
                    maxErrors: s3.maxErrors,
                    comment: `ec2-push ${config.rollback ? 'rollback' : config.releaseId}`,
                    signal
                }, sent);
                logger.info(`SendCommand: ${sent.join(', ')} (MaxConcurrency ${s3.maxConcurrency}, MaxErrors ${s3.maxErrors})`);
                let last = -1;
                const outcomes = await waitForInvocations(ssm, sent, {
                    signal,
                    pollMs: opts.pollMs ?? 250,
                    offlineAfterMs: opts.offlineAfterMs,
                    onProgress: (done, total) => {
                        if (done !== last)
                            logger.info(`${done} of ${total} instances done`);
                        last = done;
                    }
                });
                return { outcomes, stop: undefined };
            }
            catch (err) {
                if (!sent.length)
                    throw err;
                // Whatever stopped the step (a cancellation, its time limit, a later batch refused, polling
                // failed), the commands already out are cancelled: no instance goes on deploying after it.
                const why = cancel.aborted
                    ? 'the deploy was cancelled'
                    : controller.signal.aborted
                        ? `the step ran out of time, timeout-seconds ${config.timeoutSeconds}`
                        : err instanceof SendCommandFailure
                            ? 'SendCommand failed for a later batch'
                            : 'the runner could not follow the command';
                const confirmMs = opts.confirmCancelMs ?? (cancel.aborted ? CONFIRM_AFTER_SIGNAL_MS : CONFIRM_MS);
                logger.info(`Cancelling ${sent.join(', ')}: ${why}`);
                const stopped = await stopCommands(ssm, sent, {
                    last: err instanceof Interrupted ? err : undefined,
                    pollMs: opts.pollMs ?? 250,
                    confirmMs
                });
                return { outcomes: stopped.outcomes, stop: { why, err, confirmMs, cancelError: stopped.cancelError } };
            }
        });
        if (outcomes.length === 0 && !stop)
            throw new errors/* UserError */.yo(`No instance matched the targets (${config.targets.map(t => t.label).join(', ')}): check the tag key and value and that the instances are managed by Systems Manager.`);
        results = describeOutcomes(outcomes, plan.files.length, { ...config, timeoutSeconds: commandTimeout }, line => logger.mask?.(line) ?? line, stop?.why);
        for (const line of summaryTable(results))
            logger.info(line);
        const outputs = summarise(results, Date.now() - started, filesTotal, mode);
        const finalPath = results.find(r => r.status === 'success' && r.releasePath)?.releasePath ?? releasePath;
        if (stop) {
            const line = stopLine(outcomes, stop.confirmMs, stop.cancelError);
            const first = cancel.aborted
                ? `The deploy was cancelled: ${line}`
                : controller.signal.aborted
                    ? `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s): ${line}; raise 'timeout-seconds'`
                    : stop.err instanceof SendCommandFailure
                        ? `${stop.err.message}; ${line}`
                        : `Run Command could not be followed: ${followError(stop.err)}; ${line}`;
            // A refused batch is the one line asked for; otherwise the instances that failed follow it.
            const failedLines = results
                .filter(r => r.status === 'failure')
                .map(r => `  ${r.target}: ${r.error ?? 'failed'}`);
            const error = stop.err instanceof SendCommandFailure ? first : [first, ...failedLines].join('\n');
            return { outputs, releasePath: finalPath, error };
        }
        const failed = results.filter(r => r.status === 'failure');
        if (failed.length === 0 && !results.some(r => r.status === 'cancelled' || r.status === 'skipped'))
            return {
                outputs,
                releasePath: finalPath,
                ...(config.dryRun
                    ? { plan: JSON.stringify({ dryRun: true, delivery: 's3', releasePath, targets: results }) }
                    : {})
            };
        return { outputs, releasePath: finalPath, error: failureReport(results) };
    }
    catch (err) {
        let message = (0,errors/* errorMessage */.gJ)(err);
        if (cancel.aborted && !(err instanceof errors/* UserError */.yo))
            message = 'The deploy was cancelled before Run Command was sent; no instance was changed.';
        else if (controller.signal.aborted && !cancel.aborted)
            message = `The deploy did not finish within timeout-seconds (${config.timeoutSeconds} s) and Run Command was not sent; no instance was changed; raise 'timeout-seconds'.`;
        if (!(err instanceof errors/* UserError */.yo))
            logger.debug(err instanceof Error ? (err.stack ?? message) : message);
        return {
            outputs: summarise(results, Date.now() - started, filesTotal, mode),
            releasePath,
            error: message
        };
    }
    finally {
        clearTimeout(timer);
    }
}
/**
 * After a cancellation signal the process exits 6.5 s later (cancellation.ts): 3 s to confirm, then
 * at most half that to read outputs.
 */
const CONFIRM_AFTER_SIGNAL_MS = 3000;
/** Otherwise, how long cancelled invocations get to end before they are reported as not confirmed. */
const CONFIRM_MS = 15_000;
/**
 * What stopping did, in one line: the instances cancelled while running and before starting (a
 * few named), and those whose end Run Command had not confirmed when the wait gave up.
 */
function stopLine(outcomes, confirmMs, cancelError) {
    const running = outcomes.filter(o => o.stopped === 'running').map(o => o.instanceId);
    const waiting = outcomes.filter(o => o.stopped === 'waiting').map(o => o.instanceId);
    const open = outcomes.filter(o => o.unconfirmed).map(o => `${o.instanceId} (${o.status})`);
    const parts = [
        running.length && `${running.length} while running (${some(running)})`,
        waiting.length && `${waiting.length} before starting (${some(waiting)})`
    ].filter(Boolean);
    const said = [
        parts.length
            ? `Run Command cancelled ${running.length + waiting.length} instances: ${parts.join(', ')}`
            : 'Run Command was asked to cancel the commands sent, and no instance was still running them'
    ];
    if (open.length)
        said.push(`cancellation not confirmed after ${Math.round(confirmMs / 1000)} s on ${open.length} (${some(open)}): their scripts may still be running`);
    if (cancelError)
        said.push(`CancelCommand failed: ${cancelError}`);
    return said.join('; ');
}
/** Why polling Run Command failed, as the service said it. */
function followError(err) {
    const cause = err instanceof Interrupted ? err.reason : err;
    const code = (0,ec2/* awsErrorCode */.J6)(cause);
    const hint = code === 'AccessDeniedException'
        ? " (the runner's role needs ssm:ListCommandInvocations and ssm:GetCommandInvocation)"
        : '';
    return `${code && code !== 'Error' ? code + ': ' : ''}${(0,ec2/* awsErrorMessage */.X_)(cause)}${hint}`;
}
const some = (items, n = 5) => items.length <= n ? items.join(', ') : `${items.slice(0, n).join(', ')} and ${items.length - n} more`;
/**
 * The command's executionTimeout: the time the step has left less a margin (a quarter, at most
 * 60 s), so the runner is still there to read a timed-out instance's output and say which one it was.
 */
function executionTimeout(timeoutSeconds) {
    return Math.min(172800, Math.max(5, timeoutSeconds - Math.min(60, Math.floor(timeoutSeconds / 4))));
}
/** The step's error: how many failed, then one line per instance that failed or was cancelled, with why. */
function failureReport(results) {
    const failed = results.filter(r => r.status === 'failure');
    const notRun = results.filter(r => r.status === 'skipped').length;
    const cancelled = results.filter(r => r.status === 'cancelled');
    const besides = [
        ...(notRun ? [`${notRun} not run: MaxErrors reached`] : []),
        ...(cancelled.length ? [`${cancelled.length} cancelled`] : [])
    ];
    const head = `${failed.length} of ${results.length} instances failed${besides.length ? ` (${besides.join(', ')})` : ''}:`;
    return [head, ...[...failed, ...cancelled].map(r => `  ${r.target}: ${r.error ?? r.status}`)].join('\n');
}


/***/ }),

/***/ 8087:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   G7: () => (/* binding */ MAX_TUNNEL_SECONDS),
/* harmony export */   gV: () => (/* binding */ rfc3986),
/* harmony export */   ks: () => (/* binding */ presignOpenTunnelUrl),
/* harmony export */   u7: () => (/* binding */ NodeSha256)
/* harmony export */ });
/* unused harmony exports EICE_SIGNING_SERVICE, PRESIGN_EXPIRES_SECONDS, hostHeaderFor */
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var _smithy_signature_v4__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5118);


/** SigV4 signing name of the EICE tunnel endpoint (not `ec2`). */
const EICE_SIGNING_SERVICE = 'ec2-instance-connect';
/** The AWS CLI signs every tunnel URL for 60 s and opens it at once; so do we. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** The service ends every tunnel after at most this many seconds. */
const MAX_TUNNEL_SECONDS = 3600;
/** SHA-256 for @smithy/signature-v4 from node:crypto (keeps @smithy/hash-node out of the dependency list). */
class NodeSha256 {
    secret;
    hash;
    constructor(secret) {
        this.secret = secret;
        this.hash = this.fresh();
    }
    fresh() {
        return this.secret === undefined ? (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHash)('sha256') : (0,node_crypto__WEBPACK_IMPORTED_MODULE_0__.createHmac)('sha256', toBinary(this.secret));
    }
    update(data) {
        this.hash.update(data);
    }
    async digest() {
        return new Uint8Array(this.hash.digest());
    }
    reset() {
        this.hash = this.fresh();
    }
}
function toBinary(data) {
    if (typeof data === 'string')
        return data;
    if (ArrayBuffer.isView(data))
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new Uint8Array(data);
}
/**
 * The value Node's http client sends as Host for `wss://<dnsName>`: the name, plus `:port` unless
 * the port is 443. The signature covers this header, so it must match byte for byte.
 */
function hostHeaderFor(dnsName) {
    return new URL(`wss://${dnsName}/`).host;
}
/**
 * Build the presigned `wss://<DnsName>/openTunnel?...` URL (SigV4 query auth, only `host` signed,
 * empty-body payload hash, session token inside the signed query). The URL is a bearer credential
 * for 60 s: callers must mask it before it can reach a log.
 */
async function presignOpenTunnelUrl(p) {
    const host = hostHeaderFor(p.dnsName);
    const url = new URL(`wss://${host}/openTunnel`);
    const query = {
        instanceConnectEndpointId: p.endpointId,
        remotePort: String(p.remotePort),
        privateIpAddress: p.privateIpAddress
    };
    if (p.maxTunnelDuration !== undefined)
        query.maxTunnelDuration = String(p.maxTunnelDuration);
    const signer = new _smithy_signature_v4__WEBPACK_IMPORTED_MODULE_1__.SignatureV4({
        service: EICE_SIGNING_SERVICE,
        region: p.region,
        credentials: p.credentials,
        sha256: NodeSha256
    });
    const signed = await signer.presign({
        method: 'GET',
        protocol: 'wss:',
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: '/openTunnel',
        query,
        // Without an explicit host header smithy signs no headers at all; the service needs `host`.
        headers: { host }
    }, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: p.signingDate ?? new Date() });
    // Operation parameters first, then the X-Amz-* ones with the signature last, as the CLI emits them.
    const order = (k) => (k === 'X-Amz-Signature' ? 2 : k.startsWith('X-Amz-') ? 1 : 0);
    const signedQuery = signed.query ?? {};
    const keys = Object.keys(signedQuery).sort((a, b) => order(a) - order(b));
    const pairs = keys.map(k => `${rfc3986(k)}=${rfc3986(String(signedQuery[k]))}`);
    return `wss://${host}/openTunnel?${pairs.join('&')}`;
}
/** encodeURIComponent leaves !'()* alone; SigV4 (and the service) encode them. */
function rfc3986(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}


/***/ })

};
