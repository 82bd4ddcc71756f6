import pRetry from 'p-retry'
import { errorMessage, isRetryableStorageError } from '../../integration.js'

/** Transient MongoDB failures, SQLITE_BUSY included (see isRetryableStorageError). */
export const isTransientTracosError = isRetryableStorageError

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
