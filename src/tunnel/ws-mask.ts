/**
 * WebSocket frame masking for the two WebSocket paths (ssm, eice). The all-zero masking key is a
 * valid key that `ws` and any compliant server treat as "no XOR": without the optional native
 * `bufferutil` package, masking in JavaScript costs more CPU than TLS itself (it capped eice near
 * 130 MB/s, and was the largest per-frame cost of ssm's 1,024-byte frames after SHA-256). Masking
 * only guards browsers' cleartext connections through caching proxies; inside TLS, carrying SSH
 * ciphertext, it adds nothing. 'random' restores per-frame random keys (what the AWS CLI and the
 * session-manager-plugin send).
 */
export type FrameMask = 'zero' | 'random'

function zeroMask(mask: Buffer): void {
  mask.fill(0)
}

/** The `ws` client options for a masking choice (default 'zero'). */
export function maskOptions(mask: FrameMask = 'zero'): { generateMask?: (mask: Buffer) => void } {
  return mask === 'zero' ? { generateMask: zeroMask } : {}
}
