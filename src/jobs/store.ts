import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Collection, Db, Filter } from 'mongodb'
import { ensureIndexes as createMissingIndexes } from '../lib/indexes.js'
import { isDuplicateKeyError } from '../lib/mongo-errors.js'
import type {
  EnqueueOptions, EnqueueResult, JobDocument, JobErrorInfo, JobParams, JobProgress, JobStatus
} from './types.js'

/** Maps a key (dedupe or idempotency) to the job it stands for. `_id` makes the key unique across instances. */
interface JobKeyDocument {
  _id: string
  jobId: string
  type: 'dedupe' | 'idempotency'
  createdAt: Date
}

export interface ListJobsQuery {
  kind?: string
  status?: JobStatus
  limit: number
  cursor?: { createdAt: Date, id: string }
}

export interface JobDefaults {
  maxAttempts: number
}

/**
 * Every read and write of the `jobs` collection. Each state change is one conditional single-document
 * update (no transactions), and each write a runner makes filters on its lease token.
 */
export function createJobStore (db: Db, defaults: JobDefaults) {
  const jobs: Collection<JobDocument> = db.collection<JobDocument>('jobs')
  const keys: Collection<JobKeyDocument> = db.collection<JobKeyDocument>('job_keys')

  async function ensureIndexes (): Promise<void> {
    await createMissingIndexes(jobs, [
      { key: { status: 1, runAfter: 1 }, name: 'claim' },
      { key: { status: 1, leaseExpiresAt: 1 }, name: 'expired_leases' },
      { key: { createdAt: -1, _id: -1 }, name: 'list' },
      { key: { kind: 1, createdAt: -1 }, name: 'list_by_kind' },
      { key: { finishedAt: 1 }, name: 'purge' }
    ])
    await createMissingIndexes(keys, [{ key: { createdAt: 1 }, name: 'purge' }])
  }

  function newJob (kind: string, params: JobParams, options: EnqueueOptions, id = randomUUID()): JobDocument {
    const now = new Date()
    return {
      _id: id,
      kind,
      params,
      status: 'queued',
      trigger: options.trigger ?? 'api',
      requestId: options.requestId ?? null,
      attempts: 0,
      maxAttempts: options.maxAttempts ?? defaults.maxAttempts,
      runAfter: options.runAfter ?? now,
      leaseOwner: null,
      leaseInstance: null,
      leaseExpiresAt: null,
      cancelRequested: false,
      progress: null,
      result: null,
      error: null,
      dedupeKey: options.dedupeKey ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      scheduleId: options.scheduleId ?? null,
      retryOf: options.retryOf ?? null,
      retriedBy: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now
    }
  }

  /** Inserts the job unless a job with its id exists already (a crash-repair path may race the original). */
  async function insertJobOnce (job: JobDocument): Promise<JobDocument> {
    try {
      await jobs.insertOne(job)
      return job
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err
    }
    const stored = await jobs.findOne({ _id: job._id })
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
      const job = await jobs.findOne({ _id: key.jobId })
      if (job !== null) return job
      if (Date.now() - key.createdAt.getTime() > 2000) return insertJobOnce({ ...fallback(), _id: key.jobId })
      await sleep(50)
    }
    return null
  }

  async function enqueueDeduped (kind: string, params: JobParams, options: EnqueueOptions & { dedupeKey: string }): Promise<EnqueueResult> {
    const keyId = `dedupe:${kind}:${options.dedupeKey}`
    for (let attempt = 0; attempt < 20; attempt++) {
      const job = newJob(kind, params, options)
      try {
        await keys.insertOne({ _id: keyId, jobId: job._id, type: 'dedupe', createdAt: new Date() })
        return { job: await insertJobOnce(job), created: true }
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err
      }
      const existing = await jobForKey(keyId, () => newJob(kind, params, options))
      if (existing?.status === 'queued') return { job: existing, created: false, reusedBy: 'dedupe' }
      // The key points at a job that has started or finished: it no longer coalesces anything. Drop it and retry.
      if (existing !== null) await keys.deleteOne({ _id: keyId, jobId: existing._id })
    }
    throw new Error(`could not enqueue ${kind}: dedupe key ${options.dedupeKey} kept changing`)
  }

  /**
   * Records a job, or returns the one a key already stands for. With an idempotency key the key is written
   * first (unique `_id`), so two instances receiving the same delivery create one job between them.
   */
  async function enqueue (kind: string, params: JobParams, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const { idempotencyKey } = options
    if (idempotencyKey === undefined) {
      if (options.dedupeKey !== undefined) return enqueueDeduped(kind, params, { ...options, dedupeKey: options.dedupeKey })
      return { job: await insertJobOnce(newJob(kind, params, options)), created: true }
    }
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
    const result = options.dedupeKey !== undefined
      ? await enqueueDeduped(kind, params, { ...options, dedupeKey: options.dedupeKey })
      : { job: await insertJobOnce(newJob(kind, params, options, claimedId)), created: true }
    if (result.job._id !== claimedId) {
      // Coalesced into another job: point the idempotency key at it so a repeat finds the same job.
      await keys.updateOne({ _id: keyId, jobId: claimedId }, { $set: { jobId: result.job._id } })
    }
    return result
  }

  /**
   * Claims the oldest due job of the given kinds: one atomic findOneAndUpdate that sets a fresh lease token.
   */
  async function claim (kinds: string[], owner: string, instance: string, leaseMs: number): Promise<JobDocument | null> {
    const now = new Date()
    return jobs.findOneAndUpdate(
      { status: 'queued', runAfter: { $lte: now }, kind: { $in: kinds } },
      {
        $set: {
          status: 'running',
          leaseOwner: owner,
          leaseInstance: instance,
          leaseExpiresAt: new Date(now.getTime() + leaseMs),
          startedAt: now,
          updatedAt: now
        },
        $inc: { attempts: 1 }
      },
      { sort: { runAfter: 1, createdAt: 1 }, returnDocument: 'after' }
    )
  }

  /**
   * Puts a running job whose runner stopped renewing its lease back in the queue (the attempt counts), or
   * fails it when that was its last attempt. Returns the job it acted on, if any.
   */
  async function recoverExpiredLease (): Promise<JobDocument | null> {
    const now = new Date()
    const expired = await jobs.findOne({ status: 'running', leaseExpiresAt: { $lt: now } })
    if (expired === null) return null
    const filter: Filter<JobDocument> = { _id: expired._id, status: 'running', leaseOwner: expired.leaseOwner }
    if (expired.cancelRequested) {
      return jobs.findOneAndUpdate(filter, { $set: { ...cleared(now), status: 'cancelled', finishedAt: now } }, { returnDocument: 'after' })
    }
    if (expired.attempts >= expired.maxAttempts) {
      const error: JobErrorInfo = {
        message: `runner ${expired.leaseInstance ?? '?'} stopped renewing its lease and no attempts are left`,
        code: 'LEASE_EXPIRED',
        retryable: true,
        attemptsExhausted: true
      }
      return jobs.findOneAndUpdate(filter, { $set: { ...cleared(now), status: 'failed', error, finishedAt: now } }, { returnDocument: 'after' })
    }
    return jobs.findOneAndUpdate(filter, { $set: { ...cleared(now), status: 'queued', runAfter: now } }, { returnDocument: 'after' })
  }

  function cleared (now: Date) {
    return { leaseOwner: null, leaseInstance: null, leaseExpiresAt: null, updatedAt: now }
  }

  function owned (id: string, owner: string): Filter<JobDocument> {
    return { _id: id, leaseOwner: owner, status: 'running' }
  }

  /** Renews the lease. Returns null when the lease was lost (someone else owns the job now). */
  async function heartbeat (id: string, owner: string, leaseMs: number): Promise<{ cancelRequested: boolean } | null> {
    const now = new Date()
    const job = await jobs.findOneAndUpdate(
      owned(id, owner),
      { $set: { leaseExpiresAt: new Date(now.getTime() + leaseMs), updatedAt: now } },
      { returnDocument: 'after' } // no projection: FerretDB 1.24 rejects it in findAndModify
    )
    return job === null ? null : { cancelRequested: job.cancelRequested === true }
  }

  async function recordProgress (id: string, owner: string, progress: JobProgress): Promise<boolean> {
    const r = await jobs.updateOne(owned(id, owner), { $set: { progress, updatedAt: new Date() } })
    return r.matchedCount === 1
  }

  async function succeed (id: string, owner: string, result: unknown): Promise<boolean> {
    const now = new Date()
    const r = await jobs.updateOne(owned(id, owner), {
      $set: { ...cleared(now), status: 'succeeded', result: result ?? null, error: null, finishedAt: now }
    })
    return r.matchedCount === 1
  }

  async function fail (id: string, owner: string, error: JobErrorInfo, result?: unknown): Promise<boolean> {
    const now = new Date()
    const set: Partial<JobDocument> = { ...cleared(now), status: 'failed', error, finishedAt: now }
    if (result !== undefined) set.result = result
    const r = await jobs.updateOne(owned(id, owner), { $set: set })
    return r.matchedCount === 1
  }

  async function retryLater (id: string, owner: string, error: JobErrorInfo, runAfter: Date): Promise<boolean> {
    const r = await jobs.updateOne(owned(id, owner), {
      $set: { ...cleared(new Date()), status: 'queued', error, runAfter }
    })
    return r.matchedCount === 1
  }

  async function markCancelled (id: string, owner: string): Promise<boolean> {
    const now = new Date()
    const r = await jobs.updateOne(owned(id, owner), { $set: { ...cleared(now), status: 'cancelled', finishedAt: now } })
    return r.matchedCount === 1
  }

  /** Gives a job back to the queue without counting the attempt (shutdown, or its lock was busy). */
  async function release (id: string, owner: string, runAfter = new Date()): Promise<boolean> {
    const r = await jobs.updateOne(owned(id, owner), {
      $set: { ...cleared(new Date()), status: 'queued', runAfter },
      $inc: { attempts: -1 }
    })
    return r.matchedCount === 1
  }

  /** Once a job starts, its dedupe key no longer coalesces: later triggers need a run of their own. */
  async function dropDedupeKey (job: JobDocument): Promise<void> {
    if (job.dedupeKey == null) return
    await keys.deleteOne({ _id: `dedupe:${job.kind}:${job.dedupeKey}`, jobId: job._id })
  }

  async function get (id: string): Promise<JobDocument | null> {
    return jobs.findOne({ _id: id })
  }

  async function list (query: ListJobsQuery): Promise<JobDocument[]> {
    const filter: Filter<JobDocument> = {}
    if (query.kind !== undefined) filter.kind = query.kind
    if (query.status !== undefined) filter.status = query.status
    if (query.cursor !== undefined) {
      const { createdAt, id } = query.cursor
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }]
    }
    return jobs.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit).toArray()
  }

  /** queued → cancelled at once; running → flag the runner, which aborts the handler. */
  async function requestCancel (id: string): Promise<JobDocument | null> {
    const now = new Date()
    const queued = await jobs.findOneAndUpdate(
      { _id: id, status: 'queued' },
      { $set: { status: 'cancelled', finishedAt: now, updatedAt: now } },
      { returnDocument: 'after' }
    )
    if (queued !== null) {
      await dropDedupeKey(queued)
      return queued
    }
    return jobs.findOneAndUpdate(
      { _id: id, status: 'running' },
      { $set: { cancelRequested: true, updatedAt: now } },
      { returnDocument: 'after' }
    )
  }

  async function linkRetry (oldId: string, newId: string): Promise<void> {
    await jobs.updateOne({ _id: oldId }, { $set: { retriedBy: newId, updatedAt: new Date() } })
  }

  /** Deletes finished jobs and idempotency keys older than the cutoff. */
  async function purge (before: Date): Promise<{ jobs: number, keys: number }> {
    const deletedJobs = await jobs.deleteMany({ status: { $in: ['succeeded', 'failed', 'cancelled'] }, finishedAt: { $lt: before } })
    const deletedKeys = await keys.deleteMany({ createdAt: { $lt: before } })
    return { jobs: deletedJobs.deletedCount, keys: deletedKeys.deletedCount }
  }

  async function countByStatus (): Promise<Array<{ kind: string, status: JobStatus, count: number }>> {
    const rows = await jobs.aggregate<{ _id: { kind: string, status: JobStatus }, count: number }>([
      { $group: { _id: { kind: '$kind', status: '$status' }, count: { $sum: 1 } } }
    ]).toArray()
    return rows.map((r) => ({ kind: r._id.kind, status: r._id.status, count: r.count }))
  }

  return {
    collection: jobs,
    ensureIndexes,
    enqueue,
    claim,
    recoverExpiredLease,
    heartbeat,
    recordProgress,
    succeed,
    fail,
    retryLater,
    markCancelled,
    release,
    dropDedupeKey,
    get,
    list,
    requestCancel,
    linkRetry,
    purge,
    countByStatus
  }
}

export type JobStore = ReturnType<typeof createJobStore>
