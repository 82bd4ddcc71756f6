import { setTimeout as sleep } from 'node:timers/promises'
import { httpError } from './http-errors.js'
import { MongoError } from 'mongodb'
import { isRetryableStorageError } from './mongo-errors.js'

/** Seconds a client is asked to wait (Retry-After) when storage did not answer in time. */
export const STORAGE_RETRY_AFTER_S = 2

/** The 503 a request gets when MongoDB is busy or unreachable (for longer than its deadline, when it has one). */
export function storageUnavailable (deadlineMs?: number): Error {
  const what = deadlineMs === undefined ? 'the database is busy or unreachable' : `the database did not accept the request within ${deadlineMs} ms (busy or unreachable)`
  return httpError(503, `${what}; nothing was acknowledged, send it again in ${STORAGE_RETRY_AFTER_S} s`, undefined, { 'retry-after': String(STORAGE_RETRY_AFTER_S) })
}

/** How long a request waits for storage the driver already knows to be unreachable (then 503). */
export const UNREACHABLE_WAIT_MS = 1000

/** Storage steps on request paths: quick 503s while MongoDB is away, retries while it is busy. */
export interface RequestStorage {
  /** Runs a step within the request deadline (see withinStorageDeadline). */
  request: <T>(step: () => Promise<T>) => Promise<T>
  /** False from the moment the driver lost its server until it has one again. */
  reachable: () => boolean
}

export function createRequestStorage (deadlineMs: number, reachable: () => boolean): RequestStorage {
  // While the server is known to be away, any driver error is the outage's, whatever the driver called it.
  const retryable = (err: unknown): boolean => isRetryableStorageError(err) || (err instanceof MongoError && !reachable())
  return {
    // Storage known to be away: wait a second for it to come back, not the whole deadline.
    request: (step) => withinStorageDeadline(reachable() ? deadlineMs : Math.min(deadlineMs, UNREACHABLE_WAIT_MS), step, retryable),
    reachable
  }
}

/**
 * Runs a storage step on a request's path: retried with backoff while the server answers busy or is briefly
 * away, and given up at the deadline with a 503 (Retry-After) instead of holding the caller. A write still in
 * flight at the deadline may land later; callers make repeats harmless (idempotent ids).
 */
export async function withinStorageDeadline<T> (deadlineMs: number, step: () => Promise<T>, retryable: (err: unknown) => boolean = isRetryableStorageError): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (let attempt = 0; ; attempt++) {
    const left = deadline - Date.now()
    if (left <= 0) throw storageUnavailable(deadlineMs)
    const attemptResult = step()
    attemptResult.catch(() => {}) // a late failure after the deadline has nobody left to tell
    // A plain timer, cleared when the step settles: an aborted sleep would build an AbortError (a stack
    // trace) on every request.
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<null>((resolve) => { timer = setTimeout(resolve, left, null) })
    try {
      const outcome = await Promise.race([attemptResult.then((value) => ({ value })), expired])
      if (outcome === null) throw storageUnavailable(deadlineMs)
      return outcome.value
    } catch (err) {
      if (!retryable(err)) throw err
      const pause = Math.min(500, 20 * 2 ** attempt) * (0.5 + Math.random())
      if (Date.now() + pause >= deadline) throw storageUnavailable(deadlineMs)
      await sleep(pause)
    } finally {
      clearTimeout(timer)
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
