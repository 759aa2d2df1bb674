/**
 * The `aws-chunked` content encoding the SDK uses when it sends a checksum as a trailer
 * (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER): `<hex size>\r\n<bytes>\r\n` chunks, a
 * zero-size chunk, then `name:value\r\n` trailers and an empty line. Signed chunks (`;chunk-signature=`)
 * are refused: the action never sends them.
 */
export function decodeAwsChunked(
  raw: Buffer
): { data: Buffer; trailers: Record<string, string> } | { error: string } {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) return { error: 'The aws-chunked body ended inside a chunk header.' }
    const header = raw.subarray(at, eol).toString('latin1')
    if (header.includes(';'))
      return { error: 'Signed aws-chunked payloads are not supported by this simulator.' }
    const size = parseInt(header, 16)
    if (!Number.isFinite(size) || size < 0) return { error: `Bad aws-chunked chunk size '${header}'.` }
    at = eol + 2
    if (size === 0) break
    if (at + size + 2 > raw.length) return { error: 'The aws-chunked body ended inside a chunk.' }
    parts.push(raw.subarray(at, at + size))
    at += size + 2
  }
  const trailers: Record<string, string> = {}
  for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { data: Buffer.concat(parts), trailers }
}
