import { MongoError } from 'mongodb'
import pRetry from 'p-retry'
import { errorMessage } from '../../jobs/errors.js'
import { isTransientMongoError } from '../../lib/mongo-errors.js'

/**
 * Transient MongoDB failures: the core's list (network, server selection, not-primary, shutdown) plus
 * execution/write-concern timeouts and FerretDB-on-SQLite's "database is locked" (SQLITE_BUSY), which a
 * concurrent writer such as the job engine's lease heartbeat can cause and which clears on its own.
 */
export function isTransientTracosError (err: unknown): boolean {
  if (isTransientMongoError(err)) return true
  if (err instanceof MongoError) {
    // ExceededTimeLimit, MaxTimeMSExpired, WriteConcernFailed, NetworkTimeout
    if ([262, 50, 64, 89].includes(Number(err.code))) return true
    if (/SQLITE_BUSY|database is locked/i.test(err.message)) return true
  }
  return false
}

export class MongoUnavailableError extends Error {
  readonly attempts: number
  constructor (operation: string, attempts: number, cause: unknown) {
    super(`MongoDB ${operation} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage(cause)}`)
    this.name = 'MongoUnavailableError'
    this.attempts = attempts
  }
}

export interface RetryPolicy {
  /** Total attempts (1 = no retry). */
  attempts: number
  /** First delay; doubles per retry. */
  delayMs: number
  onRetry?: (info: { operation: string, attempt: number, error: unknown }) => void
}

/**
 * Runs one MongoDB operation, retrying transient failures with exponential backoff. A transient failure
 * that outlasts the attempts becomes MongoUnavailableError; any other error is rethrown at once.
 */
export async function withMongoRetry<T> (operation: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  let attempt = 0
  try {
    return await pRetry(async () => {
      attempt++
      return await fn()
    }, {
      retries: Math.max(0, policy.attempts - 1),
      minTimeout: policy.delayMs,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) => isTransientTracosError(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0 && isTransientTracosError(error)) policy.onRetry?.({ operation, attempt: attemptNumber, error })
      }
    })
  } catch (err) {
    if (isTransientTracosError(err)) throw new MongoUnavailableError(operation, attempt, err)
    throw err
  }
}
