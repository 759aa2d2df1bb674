import { createHash } from 'node:crypto'

/**
 * Questions asked of the instance before the work starts (docs/remote-protocol.md, "Probes"). Each
 * is a command whose answer cannot be produced by accident: a login banner or an SFTP-only account
 * never prints it.
 */

/**
 * How the instance hashes a large file when OpenSSL works there: it takes a fraction of coreutils'
 * CPU on CPUs with SHA instructions (most EC2 types). `-r` prints the digest first, as sha256sum
 * does; the probe runs exactly this command, so an OpenSSL without `-r` is never used.
 */
export const OPENSSL_SHA256 = 'openssl dgst -sha256 -r'

/** The digest of `abc` (FIPS 180-2's example), what a working OpenSSL_SHA256 must print for it. */
const ABC_DIGEST = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'

/** The digest `echo ec2-push-probe | sha256sum` must print, proving exec and sha256sum both work. */
const PROBE_DIGEST = createHash('sha256').update('ec2-push-probe\n').digest('hex')

/**
 * Can this account run commands, does sha256sum work, and does OpenSSL hash? Its exit status is
 * sha256sum's, whatever OpenSSL did. No redirection: the login shell may not be a Bourne shell.
 */
export const SHA256SUM_PROBE = `printf abc | ${OPENSSL_SHA256}; echo ec2-push-probe | sha256sum`

/** Which of the probe's questions a script asks: sha256sum's always, OpenSSL's where large files will be hashed. */
export interface ProbeAsked {
  openssl: boolean
}

/**
 * The probe as lines of a larger script (the deploy lock's, so it costs no exec of its own):
 * `probe <what sha256sum printed>`, then with `openssl` `probe <what OpenSSL printed, line breaks
 * as spaces>` (`probe ` when either could not run). OpenSSL's start-up is most of the probe's time
 * (some 15 ms a run): a deploy with no large file to hash does not ask it.
 */
export function verifyProbeLines(asked: ProbeAsked): string {
  const sums = `printf 'probe %s\\n' "$(echo ec2-push-probe | sha256sum 2>/dev/null)"`
  if (!asked.openssl) return sums
  return `${sums}
printf 'probe %s\\n' "$(printf abc | ${OPENSSL_SHA256} 2>/dev/null | tr '\\n' ' ')"`
}

/** What the probe found: sha256sum works (files are verified on the instance), OpenSSL hashes. */
export interface ProbeAnswer {
  sha256sum: boolean
  openssl: boolean
}

/**
 * Whether what OpenSSL printed is its digest of `abc`: its only 64-hex word must be exactly that
 * (1.0.2 prints `(stdin)= <hex>` without -r, 3.x `SHA2-256(stdin)= <hex>`, both `<hex> *stdin`
 * with it). Error text, or a program that prints something else, says no. `besides`: a word of
 * another command's output in the same text, not counted.
 */
function opensslHashes(text: string, besides?: string): boolean {
  const words = text.split(/\s+/).filter(w => /^[0-9a-f]{64}$/.test(w) && w !== besides)
  return words.length === 1 && words[0] === ABC_DIGEST
}

/**
 * verifyProbeLines' lines at the start of `text` (two with `asked.openssl`, else one): the verdicts,
 * and the text after them. Anything else there (no shell ran the script) answers no to both, as
 * does OpenSSL when it was not asked.
 */
export function readProbeLines(
  text: string,
  asked: ProbeAsked = { openssl: true }
): ProbeAnswer & { rest: string } {
  const first = text.indexOf('\n')
  const second = first < 0 || !asked.openssl ? -1 : text.indexOf('\n', first + 1)
  const line = (from: number, to: number) => (to < 0 ? text.slice(from) : text.slice(from, to))
  const sums = line(0, first)
  const ssl = first < 0 || !asked.openssl ? '' : line(first + 1, second)
  const end = asked.openssl ? second : first
  const rest = end < 0 ? '' : text.slice(end + 1)
  const sha256sum = sums.startsWith('probe ') && sums.includes(PROBE_DIGEST)
  return { sha256sum, openssl: sha256sum && ssl.startsWith('probe ') && opensslHashes(ssl.slice(6)), rest }
}

/** What SHA256SUM_PROBE's run said. OpenSSL counts only where sha256sum works (it is the fallback). */
export function readProbe(r: { code: number | null; stdout: string }): ProbeAnswer {
  const sha256sum = r.code === 0 && r.stdout.includes(PROBE_DIGEST)
  return { sha256sum, openssl: sha256sum && opensslHashes(r.stdout, PROBE_DIGEST) }
}
