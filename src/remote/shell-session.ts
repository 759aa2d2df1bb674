/**
 * The instance side of one long-lived shell per connection (driven by ssh/shell-session.ts): the
 * bootstrap the login shell is given, and the loop that then runs the deploy's scripts one after
 * another. sshd starts every command through the user's login shell, whose start-up files may take
 * a while (a version manager in ~/.bashrc: 0.2-0.5 s); this way that is paid once per shell, not
 * once per script.
 */

/**
 * What the login shell runs: reads a script of a given length from stdin and runs it, leaving the
 * rest of stdin to it: `<bytes>\n<script>...`. The loop is read a byte at a time (dd bs=1, in GNU
 * coreutils and BusyBox alike), so not a byte past it is taken and the first script can follow it
 * at once, without waiting for the loop to say it is ready (a round trip). Only without dd does it
 * fall back to head -c, which reads no further than asked in GNU coreutils. One line, no
 * backslash, no `!`: csh and fish login shells take it as it is.
 */
export const BOOT = `IFS= read -r n || exit 1; s=$(dd bs=1 count="$n" 2>/dev/null) || s=$(head -c "$n") || exit 1; eval "$s"`

/**
 * The loop, sent through BOOT. It says it is ready with the boundary, then per script reads
 * `<bytes> <1 if stdin follows>\n<script>` and, when stdin follows, frames `<bytes>\n<bytes of
 * stdin>` up to a `0\n`. Each script runs in a subshell (its `exit`, `cd` and variables stay there)
 * and is followed by `<boundary> <exit status>\n` on stdout and `<boundary>\n` on stderr, so its
 * output and status are told apart without the channel closing. The boundary is random per shell
 * (the caller's), so nothing a script prints (file names, listings) can end its output early.
 * Stdin a script left unread is read to its end (cat), so the next header is read where it starts.
 * Variables are prefixed: a script sees them, and none of its own should be taken for them.
 * Exact reads: dd with iflag=fullblock (GNU and BusyBox), else head -c, which reads no further than
 * asked in GNU coreutils but reads ahead in BusyBox (where stdin's next frame would be lost).
 */
export function sessionScript(boundary: string): string {
  if (!/^[0-9a-f]{16,}$/.test(boundary)) throw new Error('the boundary must be hex')
  return `ec2_push_b="$(printf '\\001')${boundary}"
if dd if=/dev/null bs=1 count=0 iflag=fullblock 2>/dev/null; then
  ec2_push_take() { dd bs="$1" count=1 iflag=fullblock 2>/dev/null; }
else
  ec2_push_take() { head -c "$1"; }
fi
ec2_push_end() { printf '%s %s\\n' "$ec2_push_b" "$1"; printf '%s\\n' "$ec2_push_b" >&2; }
ec2_push_end 0
while read -r ec2_push_n ec2_push_i; do
  ec2_push_s=$(ec2_push_take "$ec2_push_n") || exit 1
  if [ "$ec2_push_i" = 1 ]; then
    { while IFS= read -r ec2_push_k && [ "$ec2_push_k" -gt 0 ]; do ec2_push_take "$ec2_push_k" || exit 1; done; } |
      { (eval "$ec2_push_s"); ec2_push_end $?; cat >/dev/null; }
  else
    (eval "$ec2_push_s") </dev/null
    ec2_push_end $?
  fi
done`
}

/** The byte that starts every boundary the loop prints: no text a script prints ends in it. */
export const BOUNDARY_LEAD = '\x01'
