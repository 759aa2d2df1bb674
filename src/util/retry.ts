/** Retries with exponential backoff and full jitter (as configure-aws-credentials does). */

export interface RetryOptions {
  /** Total attempts, including the first (>= 1). */
  attempts: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** Return false to stop retrying this error (e.g. a user mistake). */
  shouldRetry?: (err: unknown) => boolean
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void
  signal?: AbortSignal
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
  return Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2)
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { attempts, baseDelayMs = 500, maxDelayMs = 10000, shouldRetry = () => true, onRetry } = opts
  const wait = opts.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (err) {
      if (attempt >= attempts || !shouldRetry(err) || opts.signal?.aborted) throw err
      const delay = backoffDelay(attempt, baseDelayMs, maxDelayMs)
      onRetry?.(err, attempt, delay)
      await wait(delay)
    }
  }
}
