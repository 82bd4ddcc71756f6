/**
 * Errors a job handler throws to tell the runner what to do. Only errors marked retryable are retried;
 * anything else fails the job at once, so a bug or bad input never burns through attempts.
 */
export class JobError extends Error {
  readonly code: string
  readonly retryable: boolean
  /** Minimum wait before the next attempt, e.g. from an upstream Retry-After header. */
  readonly retryAfterMs: number | undefined
  /** A partial result to keep on the job when this error fails it (what was done before the failure). */
  readonly result: unknown

  constructor (message: string, options: { code?: string, retryable?: boolean, retryAfterMs?: number, cause?: unknown, result?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'JobError'
    this.code = options.code ?? (options.retryable ? 'RETRYABLE' : 'FAILED')
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
    this.result = options.result
  }
}

/** A transient failure (network, timeout, 429, 5xx): retried with backoff. */
export class RetryableError extends JobError {
  constructor (message: string, options: { code?: string, retryAfterMs?: number, cause?: unknown, result?: unknown } = {}) {
    super(message, { ...options, code: options.code ?? 'RETRYABLE', retryable: true })
    this.name = 'RetryableError'
  }
}

/** A failure that another attempt cannot fix (bad credentials, invalid data). */
export class PermanentError extends JobError {
  constructor (message: string, options: { code?: string, cause?: unknown, result?: unknown } = {}) {
    super(message, { ...options, code: options.code ?? 'FAILED', retryable: false })
    this.name = 'PermanentError'
  }
}

/** Reasons the runner aborts a handler's signal with. */
export class JobAbort extends Error {
  readonly reason: 'cancelled' | 'timeout' | 'lease-lost' | 'lock-lost' | 'shutdown'
  constructor (reason: JobAbort['reason'], message: string) {
    super(message)
    this.name = 'JobAbort'
    this.reason = reason
  }
}

export function isRetryable (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true
}

/** The first line of an error message, without stack traces or upstream dumps. */
export function errorMessage (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const firstLine = message.split('\n')[0] ?? ''
  return firstLine.length > 500 ? `${firstLine.slice(0, 497)}...` : firstLine
}
