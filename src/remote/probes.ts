import { createHash } from 'node:crypto'

/**
 * Questions asked of the instance before the work starts (docs/remote-protocol.md, "Probes"). Each
 * is a command whose answer cannot be produced by accident: a login banner or an SFTP-only account
 * never prints it.
 */

/** Can this account run commands, and does sha256sum work? (Run by the login shell, not through sh.) */
export const SHA256SUM_PROBE = 'echo ec2-push-probe | sha256sum'

/** The digest `echo ec2-push-probe | sha256sum` must print, proving exec and sha256sum both work. */
const PROBE_DIGEST = createHash('sha256').update('ec2-push-probe\n').digest('hex')

/**
 * The probe as a line of a larger script (the deploy lock's, so it costs no exec of its own):
 * prints `probe <what sha256sum printed>`, or `probe ` when it could not run.
 */
export const SHA256SUM_PROBE_LINE = `printf 'probe %s\\n' "$(echo ec2-push-probe | sha256sum 2>/dev/null)"`

/** Whether a SHA256SUM_PROBE_LINE line is a working sha256sum's answer. */
export function probeLineWorks(line: string): boolean {
  return line.startsWith('probe ') && line.includes(PROBE_DIGEST)
}

/** Whether the probe's run answered as a working sha256sum does. */
export function sha256sumWorks(r: { code: number | null; stdout: string }): boolean {
  return r.code === 0 && r.stdout.includes(PROBE_DIGEST)
}
