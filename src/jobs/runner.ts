import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Logger } from '../lib/logger.js'
import { untilAborted } from '../lib/until-aborted.js'
import { JobAbort, errorMessage, isRetryable } from './errors.js'
import type { Locks } from './locks.js'
import type { JobRegistry } from './registry.js'
import type { JobStore } from './store.js'
import { MongoTopologyClosedError } from 'mongodb'
import { isRetryableStorageError } from '../lib/mongo-errors.js'
import { withStorageRetry } from '../lib/storage-deadline.js'
import type { HoldUntil, JobContext, JobDocument, JobErrorInfo, JobKindDefinition, JobProgress } from './types.js'

export interface RunnerOptions {
  instanceId: string
  concurrency: number
  pollIntervalMs: number
  leaseMs: number
  defaultTimeoutMs: number
  backoff: { baseMs: number, maxMs: number }
  log: Logger
}

export interface RunnerEvents {
  claimed: [{ job: JobDocument, claimMs: number }]
  finished: [{ job: JobDocument, outcome: JobOutcome, durationMs: number }]
}

export type JobOutcome = 'succeeded' | 'failed' | 'retry' | 'cancelled' | 'released' | 'lease-lost'

interface ActiveJob {
  job: JobDocument
  controller: AbortController
  done: Promise<void>
}

/** Delay before attempt `attempt + 1`: exponential, capped, with jitter; never shorter than an upstream hint. */
export function backoffDelay (attempt: number, baseMs: number, maxMs: number, retryAfterMs = 0): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  const jittered = exponential / 2 + Math.random() * (exponential / 2)
  return Math.max(Math.round(jittered), retryAfterMs)
}

/** How long a job waits before another claim when its exclusive lock is held elsewhere. */
const LOCK_BUSY_DELAY_MS = 1000

/**
 * Claims due jobs and runs their handlers, at most `concurrency` at a time. Every job runs under a lease
 * with a random owner token: the lease is renewed on a heartbeat, and every write filters on the token, so a
 * runner that lost its lease can no longer change the job.
 */
export function createJobRunner (store: JobStore, locks: Locks, registry: JobRegistry, options: RunnerOptions) {
  const { instanceId, concurrency, pollIntervalMs, leaseMs, log } = options
  /**
   * A job's final state write (and a hand-back), retried while MongoDB is busy or briefly away, within half a
   * lease: the work is done, and a write given up on would let the lease expire and the job run again.
   */
  const settle = <T>(step: () => Promise<T>): Promise<T> => withStorageRetry(step, leaseMs / 2)
  const events = new EventEmitter<RunnerEvents>()
  const active = new Map<string, ActiveJob>()
  let state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle'
  let loop: Promise<void> = Promise.resolve()
  let wakeUp: (() => void) | null = null

  function wake (): void {
    wakeUp?.()
  }

  function idle (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done (): void {
        clearTimeout(timer)
        wakeUp = null
        resolve()
      }
      wakeUp = done
    })
  }

  let lastRecovery = 0

  /** A kind's holdUntil, asked for a job the runner has won; a failing one lets the job run. */
  const holdUntil: HoldUntil = async (job) => {
    const ask = registry.get(job.kind)?.holdUntil
    if (ask === undefined) return null
    try {
      return await ask(job)
    } catch (err) {
      log.warn({ err, jobId: job._id, kind: job.kind }, 'could not tell whether the job should wait; it runs now')
      return null
    }
  }

  async function recoverJobs (): Promise<void> {
    // At a fraction of the lease length, so a crashed runner's job is taken over soon after its lease expires.
    if (Date.now() - lastRecovery < Math.min(leaseMs / 4, 5000)) return
    lastRecovery = Date.now()
    const acted = await store.recoverJobs(leaseMs)
    if (acted > 0) log.warn({ jobs: acted }, 'recovered jobs left behind by a runner that stopped')
  }

  async function run (): Promise<void> {
    while (state === 'running') {
      try {
        await recoverJobs()
        // Claim in batches: one look at the queue, then the free slots' worth of atomic claims in parallel.
        while (state === 'running' && active.size < concurrency) {
          const started = performance.now()
          const jobs = await store.claim(registry.kinds(), concurrency - active.size, () => `${instanceId}:${randomUUID()}`, instanceId, leaseMs, holdUntil)
          const claimMs = performance.now() - started
          if (state !== 'running') {
            // Stopped while claiming: hand the jobs straight back.
            await Promise.all(jobs.map((job) => store.release(job._id, job.leaseOwner as string)))
            break
          }
          for (const job of jobs) {
            events.emit('claimed', { job, claimMs })
            launch(job)
          }
          if (jobs.length === 0) break
        }
      } catch (err) {
        log.error({ err }, 'job runner could not claim jobs; trying again')
      }
      if (state === 'running') await idle(pollIntervalMs)
    }
  }

  function launch (job: JobDocument): void {
    const controller = new AbortController()
    const entry: ActiveJob = { job, controller, done: Promise.resolve() }
    entry.done = execute(job, controller)
      .catch((err: unknown) => {
        // A shutdown that gave up on an unreachable MongoDB closed the client under this job: the app said so.
        if (state !== 'running' && err instanceof MongoTopologyClosedError) return
        log.error({ err, jobId: job._id }, 'job bookkeeping failed')
      })
      .finally(() => {
        active.delete(job._id)
        wake()
      })
    active.set(job._id, entry)
  }

  async function execute (job: JobDocument, controller: AbortController): Promise<void> {
    const owner = job.leaseOwner as string
    const definition = registry.get(job.kind) as JobKindDefinition
    const jobLog = log.child({ jobId: job._id, kind: job.kind, requestId: job.requestId ?? undefined, attempt: job.attempts })
    const started = performance.now()
    const finish = (outcome: JobOutcome): void => {
      events.emit('finished', { job, outcome, durationMs: performance.now() - started })
    }

    if (definition.exclusive !== undefined && !(await locks.acquire(definition.exclusive, owner, leaseMs))) {
      jobLog.debug({ lock: definition.exclusive }, 'exclusive lock is held elsewhere; job goes back to the queue')
      await store.release(job._id, owner, new Date(Date.now() + LOCK_BUSY_DELAY_MS))
      finish('released')
      return
    }

    let beating: Promise<void> | null = null
    const heartbeat = setInterval(() => { beating ??= beat().finally(() => { beating = null }) }, Math.max(100, Math.floor(leaseMs / 3)))
    // Before the final write: no heartbeat may be in flight, or it could write the running state back over the
    // final one ("heartbeat before the final write" in store/non-atomic-server.ts).
    const stopHeartbeat = async (): Promise<void> => {
      clearInterval(heartbeat)
      await beating
    }
    const timeoutMs = definition.timeoutMs ?? options.defaultTimeoutMs
    const timeout = setTimeout(() => {
      controller.abort(new JobAbort('timeout', `job exceeded its time limit of ${timeoutMs} ms`))
    }, timeoutMs)

    async function beat (): Promise<void> {
      try {
        const lease = await store.heartbeat(job._id, owner, leaseMs)
        if (lease === null) {
          controller.abort(new JobAbort('lease-lost', 'the job lease was lost to another runner'))
        } else if (lease.cancelRequested) {
          controller.abort(new JobAbort('cancelled', 'the job was cancelled'))
        }
        // The exclusive lock expired (heartbeats failed for a lease) and another runner took it: two
        // exclusive jobs must not go on side by side, so this one stops and goes back to the queue.
        if (definition.exclusive !== undefined && !(await locks.renew(definition.exclusive, owner, leaseMs))) {
          controller.abort(new JobAbort('lock-lost', `the exclusive lock ${definition.exclusive} was taken over by another runner`))
        }
      } catch (err) {
        jobLog.warn({ err }, 'lease heartbeat failed; will try again')
      }
    }

    const progress = progressWriter(job._id, owner, jobLog)
    const ctx: JobContext = { job, params: job.params, signal: controller.signal, log: jobLog, progress: progress.update }

    try {
      await store.dropDedupeKey(job)
      jobLog.info('job started')
      let outcome: { ok: true, value: unknown } | { ok: false, error: unknown }
      try {
        outcome = { ok: true, value: await untilAborted(definition.handler(ctx), controller.signal) }
      } catch (error) {
        outcome = { ok: false, error: controller.signal.aborted ? controller.signal.reason : error }
      }
      const lastProgress = await progress.settle()
      await stopHeartbeat()

      if (outcome.ok) {
        if (await settle(() => store.succeed(job._id, owner, outcome.value, lastProgress))) {
          jobLog.info({ durationMs: Math.round(performance.now() - started) }, 'job succeeded')
          finish('succeeded')
        } else {
          jobLog.warn('job finished but its lease was lost; result discarded')
          finish('lease-lost')
        }
        return
      }
      finish(await recordFailure(job, owner, definition, outcome.error, jobLog, lastProgress))
    } finally {
      clearInterval(heartbeat)
      clearTimeout(timeout)
      if (definition.exclusive !== undefined) {
        await locks.release(definition.exclusive, owner).catch((err: unknown) => { jobLog.warn({ err }, 'could not release lock') })
      }
    }
  }

  async function recordFailure (job: JobDocument, owner: string, definition: JobKindDefinition, error: unknown, jobLog: Logger, lastProgress: JobProgress | null): Promise<JobOutcome> {
    if (error instanceof JobAbort) {
      switch (error.reason) {
        case 'lease-lost':
          jobLog.warn('job lease lost; another runner owns the job now')
          return 'lease-lost'
        case 'shutdown':
          // Not retried: shutting down must not wait for a MongoDB that is gone (the lease expires instead).
          await store.release(job._id, owner)
          jobLog.warn('job interrupted by shutdown and returned to the queue')
          return 'released'
        case 'lock-lost':
          await settle(() => store.release(job._id, owner, new Date(Date.now() + LOCK_BUSY_DELAY_MS)))
          jobLog.warn({ lock: definition.exclusive }, 'exclusive lock lost; job interrupted and returned to the queue')
          return 'released'
        case 'cancelled':
          await settle(() => store.markCancelled(job._id, owner))
          jobLog.info('job cancelled')
          return 'cancelled'
        case 'timeout':
          await settle(() => store.fail(job._id, owner, { message: error.message, code: 'JOB_TIMEOUT', retryable: false }))
          jobLog.error(error.message)
          return 'failed'
      }
    }
    const info: JobErrorInfo = {
      message: errorMessage(error),
      code: typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'HANDLER_ERROR',
      // MongoDB busy or briefly away inside a handler clears on its own: another attempt, not a failure.
      retryable: isRetryable(error) || isRetryableStorageError(error)
    }
    const partial = (error as { result?: unknown } | null)?.result
    // Runs cut short by a dead runner are not the handler's failures: they do not use up its attempts.
    const tried = job.attempts - (job.leaseExpiries ?? 0)
    if (info.retryable && tried < job.maxAttempts) {
      const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs
      const delay = backoffDelay(job.attempts, definition.backoff?.baseMs ?? options.backoff.baseMs, definition.backoff?.maxMs ?? options.backoff.maxMs, retryAfterMs)
      const runAfter = new Date(Date.now() + delay)
      // Said where people look (the job's progress), not only in the log: the job is waiting, and until when.
      const waiting = { done: 0, total: null, message: `waiting to retry until ${runAfter.toISOString()}: attempt ${tried} of ${job.maxAttempts} failed (${info.message})`, updatedAt: new Date() }
      await settle(() => store.retryLater(job._id, owner, info, runAfter, waiting))
      jobLog.warn({ err: error, retryInMs: delay }, 'job attempt failed; will retry')
      return 'retry'
    }
    if (info.retryable) info.attemptsExhausted = true
    await settle(() => store.fail(job._id, owner, info, partial, lastProgress))
    jobLog.error({ err: error }, 'job failed')
    return 'failed'
  }

  /** Coalesces progress updates into at most one write in flight, spaced out a little. */
  function progressWriter (jobId: string, owner: string, jobLog: Logger) {
    let pending: JobProgress | null = null
    let lastWritten: JobProgress | null = null
    let writing: Promise<void> | null = null
    async function flush (): Promise<void> {
      while (pending !== null) {
        const next = pending
        lastWritten = next
        pending = null
        await store.recordProgress(jobId, owner, next).catch((err: unknown) => { jobLog.warn({ err }, 'could not record progress') })
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      writing = null
    }
    return {
      update (done: number, total: number | null = null, message: string | null = null): void {
        pending = { done, total, message, updatedAt: new Date() }
        writing ??= flush()
      },
      /** Stops writing and returns the last progress reported, for the job's final write to keep. */
      async settle (): Promise<JobProgress | null> {
        const last = pending ?? lastWritten
        pending = null
        await writing
        return last
      }
    }
  }

  return {
    events,
    start (): void {
      if (state === 'running') return
      state = 'running'
      loop = run()
    },
    wake,
    /** Aborts a job this instance is running (cancel requested through this instance). */
    abortLocal (jobId: string, reason: JobAbort): boolean {
      const entry = active.get(jobId)
      if (entry === undefined) return false
      entry.controller.abort(reason)
      return true
    },
    activeCount: (): number => active.size,
    isRunning: (): boolean => state === 'running',
    /**
     * Stops claiming, lets running jobs finish for up to `drainMs`, then aborts the rest and gives their
     * jobs back to the queue so another instance (or the next start) runs them.
     */
    async stop (drainMs: number): Promise<{ drained: number, released: number }> {
      if (state !== 'running') return { drained: 0, released: 0 }
      state = 'stopping'
      wake()
      // No job is launched from here on: a claim still in flight hands its jobs back once it returns. That claim
      // may be waiting for an unreachable MongoDB (up to the driver's server selection timeout), so it gets the
      // same deadline as the running jobs instead of holding the shutdown up on its own.
      const before = active.size
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([loop, ...[...active.values()].map((a) => a.done)]),
        new Promise((resolve) => { timer = setTimeout(resolve, drainMs) })
      ])
      clearTimeout(timer)
      const left = [...active.values()]
      if (left.length > 0) log.warn({ jobs: left.map((a) => a.job._id), drainMs }, 'interrupting jobs still running after the shutdown drain')
      for (const entry of left) entry.controller.abort(new JobAbort('shutdown', 'the gateway is shutting down'))
      await Promise.allSettled(left.map((a) => a.done))
      state = 'stopped'
      return { drained: before - left.length, released: left.length }
    }
  }
}

export type JobRunner = ReturnType<typeof createJobRunner>
