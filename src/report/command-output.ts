// post-command's output as a step output: bounded (the runner refuses huge outputs, and a chatty
// command should not fill the output twice) and with the run's secrets masked, since the runner
// masks the log but not what a later step reads from an output.

/** At most this many bytes (UTF-8) of post-command's output are kept: its end, where results usually are. */
export const MAX_COMMAND_OUTPUT = 64 * 1024

/** Lines kept up to a limit in bytes; past it, the oldest go and a first line says how much. */
export class BoundedText {
  private lines: string[] = []
  private size = 0
  private dropped = 0

  constructor(private readonly limit: number) {}

  add(line: string): void {
    let kept = line
    if (Buffer.byteLength(kept) > this.limit) {
      kept = Buffer.from(kept)
        .subarray(-this.limit)
        .toString()
        .replace(/^\uFFFD+/, '')
      this.dropped += Buffer.byteLength(line) - Buffer.byteLength(kept)
    }
    this.lines.push(kept)
    this.size += Buffer.byteLength(kept) + 1
    while (this.size > this.limit && this.lines.length > 1) {
      const old = this.lines.shift()!
      const n = Buffer.byteLength(old) + 1
      this.size -= n
      this.dropped += n
    }
  }

  text(): string {
    const body = this.lines.join('\n')
    return this.dropped ? `[first ${this.dropped} bytes cut]\n${body}` : body
  }
}

/** `text` with each secret (and each line of a multi-line secret) replaced by ***. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const parts = new Set<string>()
  for (const s of secrets) {
    if (!s || s.length < 4) continue
    parts.add(s)
    for (const line of s.split('\n')) if (line.trim().length >= 8) parts.add(line.trim())
  }
  let out = text
  // Longest first, so a whole key goes before any of its lines.
  for (const p of [...parts].sort((a, b) => b.length - a.length)) out = out.split(p).join('***')
  return out
}
