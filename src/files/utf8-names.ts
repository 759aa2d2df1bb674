/**
 * Local file names read as bytes: ec2-push names files on the instance in UTF-8, so a name that is
 * not valid UTF-8 stops the deploy, shown exactly with escapes.
 */

/** A file name's bytes as text: valid UTF-8 as it is, every other byte as `\xNN`. */
export function escapeName(name: Buffer): string {
  let out = ''
  for (let i = 0; i < name.length;) {
    const n = utf8SequenceAt(name, i)
    if (n === 0) {
      out += `\\x${name[i].toString(16).padStart(2, '0')}`
      i++
    } else {
      out += name.subarray(i, i + n).toString('utf8')
      i += n
    }
  }
  return out
}

export function isUtf8(name: Buffer): boolean {
  for (let i = 0; i < name.length;) {
    const n = utf8SequenceAt(name, i)
    if (n === 0) return false
    i += n
  }
  return true
}

/** The length of the valid UTF-8 sequence starting at `i`, or 0 when there is none. */
function utf8SequenceAt(b: Buffer, i: number): number {
  const lead = b[i]
  const n =
    lead < 0x80
      ? 1
      : lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 0
  if (n <= 1 || i + n > b.length) return n === 1 ? 1 : 0
  const seq = b.subarray(i, i + n)
  // Decoding and encoding again keeps the bytes only for a valid sequence (no overlong form, no surrogate).
  return Buffer.from(seq.toString('utf8')).equals(seq) ? n : 0
}
