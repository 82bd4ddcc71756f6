import { setTimeout as sleep } from 'node:timers/promises'
import { httpError } from './http-errors.js'
import { isRetryableStorageError } from './mongo-errors.js'

/** Seconds a client is asked to wait (Retry-After) when storage did not answer in time. */
export const STORAGE_RETRY_AFTER_S = 2

/** The 503 a request gets when MongoDB is busy or unreachable for longer than its deadline. */
export function storageUnavailable (deadlineMs: number): Error {
  return httpError(503, `the database did not accept the request within ${deadlineMs} ms (busy or unreachable); ` +
    `nothing was acknowledged, send it again in ${STORAGE_RETRY_AFTER_S} s`, undefined, { 'retry-after': String(STORAGE_RETRY_AFTER_S) })
}

/**
 * Runs a storage step on a request's path: retried with backoff while the server answers busy or is briefly
 * away, and given up at the deadline with a 503 (Retry-After) instead of holding the caller. A write still in
 * flight at the deadline may land later; callers make repeats harmless (idempotent ids).
 */
export async function withinStorageDeadline<T> (deadlineMs: number, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now()
    if (left <= 0) throw storageUnavailable(deadlineMs)
    const timer = new AbortController()
    const attemptResult = step()
    attemptResult.catch(() => {}) // a late failure after the deadline has nobody left to tell
    try {
      const outcome = await Promise.race([
        attemptResult.then((value) => ({ value })),
        sleep(left, undefined, { signal: timer.signal }).then(() => null, () => null)
      ])
      if (outcome === null) throw storageUnavailable(deadlineMs)
      return outcome.value
    } catch (err) {
      if (!isRetryableStorageError(err)) throw err
      const pause = Math.min(500, 20 * 2 ** attempt) * (0.5 + Math.random())
      if (Date.now() + pause >= deadline) throw storageUnavailable(deadlineMs)
      await sleep(pause)
    } finally {
      timer.abort()
    }
  }
}

/**
 * Runs a storage step off the request path (a job's bookkeeping): retried with backoff while the server is busy
 * or briefly away, for up to `budgetMs`, so a transient error does not fail work that is already done.
 */
export async function withStorageRetry<T> (step: () => Promise<T>, budgetMs = 30_000): Promise<T> {
  const deadline = Date.now() + budgetMs
  for (let attempt = 0; ; attempt++) {
    try {
      return await step()
    } catch (err) {
      const pause = Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())
      if (!isRetryableStorageError(err) || Date.now() + pause > deadline) throw err
      await sleep(pause)
    }
  }
}
