/**
 * An error the user can fix: its message is one line that says what is wrong and what to do.
 * The action and the CLI print only the message (no stack) for these.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '))
    this.name = 'UserError'
  }
}

/** A failure worth retrying (dropped connection, timeout): retried with backoff, then reported. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TransientError'
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
