/**
 * Enqueue, and the keys that make it return an existing job. A dedupe or idempotency key is a document with a
 * unique `_id`, written before its job: two instances enqueueing one key at once make one job between them.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDuplicateKeyError } from '../../lib/mongo-errors.js'
import type { CoalesceOptions, EnqueueOptions, EnqueueResult, JobDocument, JobParams } from '../types.js'
import type { Coalescing } from './coalesce.js'
import { dedupeKeyId, getJob, type StoreContext } from './context.js'

/** How old a key may be with no job behind it before the enqueue that wrote it counts as crashed. */
const ORPHAN_KEY_MS = 2000

function checkCoalesce (options: EnqueueOptions, { key, debounceMs, maxWaitMs }: CoalesceOptions): void {
  if (key === '') throw new Error('coalesce.key must not be empty')
  if (![debounceMs, maxWaitMs].every((ms) => Number.isFinite(ms) && ms >= 0)) {
    throw new Error('coalesce.debounceMs and coalesce.maxWaitMs must be finite numbers of milliseconds, 0 or more')
  }
  if (options.dedupeKey !== undefined && options.dedupeKey !== key) throw new Error('coalesce.key is the dedupe key')
  if (options.runAfter !== undefined) throw new Error('a coalescing enqueue sets runAfter itself (from debounceMs)')
}

/** A coalescing enqueue's options as the dedupe enqueue takes them: the key, and the first possible start. */
function coalescingOptions (options: EnqueueOptions, coalesce: CoalesceOptions, jobId: string): EnqueueOptions {
  const runAfter = new Date(Date.now() + Math.min(coalesce.debounceMs, coalesce.maxWaitMs))
  return { ...options, dedupeKey: coalesce.key, runAfter, jobId: options.jobId ?? jobId }
}

/** What a runner needs to know of a coalesced job to decide when it may start (settleAt in coalesce.ts). */
function startWindow ({ debounceMs, maxWaitMs }: CoalesceOptions) {
  return { debounceMs, maxWaitMs }
}

export function createEnqueue (ctx: StoreContext, coalescing: Coalescing) {
  const { jobs, done, keys } = ctx

  function newJob (kind: string, params: JobParams, options: EnqueueOptions, id = options.jobId ?? randomUUID()) {
    const now = new Date()
    const job: JobDocument = {
      _id: id,
      kind,
      params,
      status: 'queued',
      trigger: options.trigger ?? 'api',
      requestId: options.requestId ?? null,
      attempts: 0,
      maxAttempts: options.maxAttempts ?? ctx.defaults.maxAttempts,
      runAfter: options.runAfter ?? now,
      leaseOwner: null,
      leaseInstance: null,
      leaseExpiresAt: null,
      claimSeq: 0,
      cancelRequested: false,
      progress: null,
      result: null,
      error: null,
      dedupeKey: options.dedupeKey ?? null,
      ...(options.coalesce === undefined ? {} : { coalesce: startWindow(options.coalesce) }),
      idempotencyKey: options.idempotencyKey ?? null,
      scheduleId: options.scheduleId ?? null,
      retryOf: options.retryOf ?? null,
      retriedBy: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now
    }
    return job
  }

  /** Inserts the job unless a job with its id exists already (a crash-repair path may race the original). */
  async function insertJobOnce (job: JobDocument): Promise<JobDocument> {
    if (await ctx.insertJob(job)) return job
    const stored = await getJob(ctx, job._id)
    if (stored === null) throw new Error(`job ${job._id} vanished right after insert`)
    return stored
  }

  /**
   * Follows a key to its job. The job may not exist yet: the enqueue that owns the key inserts the key first
   * and the job right after. If it still does not show up, its enqueue crashed in between and we create it.
   */
  async function jobForKey (keyId: string, fallback: () => JobDocument): Promise<JobDocument | null> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const key = await keys.findOne({ _id: keyId })
      if (key === null) return null
      const job = await getJob(ctx, key.jobId)
      if (job !== null) return job
      if (Date.now() - key.createdAt.getTime() > ORPHAN_KEY_MS) {
        return insertMissingJob({ ...fallback(), _id: key.jobId })
      }
      await sleep(50)
    }
    return null
  }

  /**
   * Inserts a key's job that its enqueue never inserted. That enqueue may only have been slow: its job can have
   * been inserted, run and archived between our look and this insert, and then the copy inserted here is a
   * stale duplicate. Its first claim record is taken, so no runner can claim it; it is dropped at once.
   */
  async function insertMissingJob (job: JobDocument): Promise<JobDocument> {
    const inserted = await insertJobOnce(job)
    const finished = await done.findOne({ _id: job._id })
    if (finished === null) return inserted
    await jobs.deleteOne({ _id: job._id, status: 'queued' })
    return finished
  }

  /**
   * Whether a job a dedupe key leads to still takes triggers. A job drops its key as its handler starts, so a
   * running job that still has it was claimed but has not started its work (it is waiting for its exclusive
   * lock, and may go back to the queue): it still takes the trigger. Treating it as started made a second
   * queued job each time (18 at once under a burst).
   */
  async function takesTriggers (keyId: string, job: JobDocument): Promise<boolean> {
    if (job.status === 'queued') return true
    return job.status === 'running' && await keys.findOne({ _id: keyId, jobId: job._id }) !== null
  }

  async function enqueueDeduped (
    kind: string, params: JobParams, options: EnqueueOptions, dedupeKey: string
  ): Promise<EnqueueResult> {
    const keyId = dedupeKeyId(kind, dedupeKey)
    for (let attempt = 0; attempt < 20; attempt++) {
      const job = newJob(kind, params, options)
      try {
        await keys.insertOne({ _id: keyId, jobId: job._id, type: 'dedupe', createdAt: new Date() })
        return { job: await insertJobOnce(job), created: true }
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err
      }
      const existing = await jobForKey(keyId, () => newJob(kind, params, options))
      if (existing !== null && await takesTriggers(keyId, existing)) {
        return { job: existing, created: false, reusedBy: 'dedupe' }
      }
      // The key points at a job that has started or finished: it no longer coalesces anything. Drop it and retry.
      if (existing !== null) await keys.deleteOne({ _id: keyId, jobId: existing._id })
    }
    throw new Error(`could not enqueue ${kind}: dedupe key ${dedupeKey} kept changing`)
  }

  /** Without an idempotency key: a new job, or the queued one its dedupe (or coalesce) key stands for. */
  async function enqueueOnce (kind: string, params: JobParams, options: EnqueueOptions, jobId?: string) {
    const { coalesce } = options
    if (coalesce !== undefined) {
      return coalescing.trigger(kind, coalesce.key, (id) => {
        return enqueueDeduped(kind, params, coalescingOptions(options, coalesce, id), coalesce.key)
      })
    }
    if (options.dedupeKey !== undefined) return enqueueDeduped(kind, params, options, options.dedupeKey)
    return { job: await insertJobOnce(newJob(kind, params, options, jobId)), created: true }
  }

  /**
   * Records a job, or returns the one a key already stands for. With an idempotency key the key is written
   * first (unique `_id`), so two instances receiving the same delivery create one job between them.
   */
  async function enqueue (kind: string, params: JobParams, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const { idempotencyKey } = options
    if (options.coalesce !== undefined) checkCoalesce(options, options.coalesce)
    if (idempotencyKey === undefined) return enqueueOnce(kind, params, options)
    const keyId = `idempotency:${kind}:${idempotencyKey}`
    const claimedId = randomUUID()
    try {
      await keys.insertOne({ _id: keyId, jobId: claimedId, type: 'idempotency', createdAt: new Date() })
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err
      const existing = await jobForKey(keyId, () => newJob(kind, params, options))
      if (existing !== null) return { job: existing, created: false, reusedBy: 'idempotency' }
      return enqueue(kind, params, options) // the key was purged in between; start over
    }
    const result = await enqueueOnce(kind, params, options, claimedId)
    if (result.job._id !== claimedId) {
      // Coalesced into another job: point the idempotency key at it so a repeat finds the same job.
      await keys.updateOne({ _id: keyId, jobId: claimedId }, { $set: { jobId: result.job._id } })
    }
    return result
  }

  /** Once a job starts, its dedupe key no longer coalesces: later triggers need a run of their own. */
  async function dropDedupeKey (job: JobDocument): Promise<void> {
    if (job.dedupeKey == null) return
    await Promise.all([
      keys.deleteOne({ _id: dedupeKeyId(job.kind, job.dedupeKey), jobId: job._id }),
      coalescing.ended(job)
    ])
  }

  return { enqueue, dropDedupeKey }
}
