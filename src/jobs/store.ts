import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Collection, Db, Filter } from 'mongodb'
import { DAY_MS } from '../lib/duration.js'
import { ensureIndexes as createMissingIndexes } from '../lib/indexes.js'
import { createInsertBatcher } from '../lib/insert-batcher.js'
import { insertOnce, isDuplicateKeyError } from '../lib/mongo-errors.js'
import type {
  EnqueueOptions, EnqueueResult, HoldUntil, JobDocument, JobErrorInfo, JobParams, JobProgress, JobStatus
} from './types.js'

/** Maps a key (dedupe or idempotency) to the job it stands for. `_id` makes the key unique across instances. */
interface JobKeyDocument {
  _id: string
  jobId: string
  type: 'dedupe' | 'idempotency'
  createdAt: Date
}

/** One won claim of a job; `_id` is `<jobId>:<claimSeq>`, so each claim of a job has exactly one winner. */
interface JobClaimDocument {
  _id: string
  jobId: string
  owner: string
  at: Date
}

export interface ListJobsQuery {
  kind?: string
  status?: JobStatus
  limit: number
  cursor?: { createdAt: Date, id: string }
}

export interface JobDefaults {
  maxAttempts: number
  /** Order claims by due time. Off where the server cannot sort without scanning (FerretDB 1.x). */
  sortedClaims?: boolean
}

const TERMINAL: JobStatus[] = ['succeeded', 'failed', 'cancelled']

/** Runs whose runner died (lease expired) after which a job is failed as likely crashing its runner. */
const MAX_LEASE_EXPIRIES = 5

/** How long a finished job may wait in `jobs` before recovery moves it to `jobs_done` for its runner. */
const ARCHIVE_GRACE_MS = 30_000

/**
 * Every read and write of jobs. Each state change is one conditional single-document update (no
 * transactions), and each write a runner makes filters on its lease token.
 *
 * Live jobs (queued, running) are in `jobs`; a job that finishes is moved to `jobs_done`. Claims, heartbeats
 * and lease checks so touch only the live set, which matters on servers that answer these queries by
 * scanning (FerretDB 1.x on SQLite does), while finished jobs are kept for JOBS_RETENTION_DAYS.
 */
export function createJobStore (db: Db, defaults: JobDefaults) {
  const jobs: Collection<JobDocument> = db.collection<JobDocument>('jobs')
  const done: Collection<JobDocument> = db.collection<JobDocument>('jobs_done')
  const keys: Collection<JobKeyDocument> = db.collection<JobKeyDocument>('job_keys')
  const claims: Collection<JobClaimDocument> = db.collection<JobClaimDocument>('job_claims')
  // A job's own insert and its archived copy go out in batches: a burst of triggers, or a busy runner, then
  // pays one round trip per batch rather than one per job (see createInsertBatcher). Claim records are not
  // batched: they are contested, and FerretDB answers a batch holding a duplicate by inserting one at a time.
  const jobInserts = createInsertBatcher(jobs)
  const doneInserts = createInsertBatcher(done)

  async function ensureIndexes (): Promise<void> {
    await createMissingIndexes(jobs, [
      { key: { status: 1, runAfter: 1 }, name: 'claim' },
      { key: { status: 1, leaseExpiresAt: 1 }, name: 'expired_leases' },
      { key: { createdAt: -1, _id: -1 }, name: 'list' },
      { key: { kind: 1, createdAt: -1 }, name: 'list_by_kind' }
    ])
    await createMissingIndexes(done, [
      { key: { createdAt: -1, _id: -1 }, name: 'list' },
      { key: { kind: 1, createdAt: -1 }, name: 'list_by_kind' },
      { key: { finishedAt: 1 }, name: 'purge' }
    ])
    await createMissingIndexes(keys, [{ key: { createdAt: 1 }, name: 'purge' }])
    await createMissingIndexes(claims, [{ key: { at: 1 }, name: 'purge' }])
  }

  function newJob (kind: string, params: JobParams, options: EnqueueOptions, id = options.jobId ?? randomUUID()): JobDocument {
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
      claimSeq: 0,
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
    if (await jobInserts.insertOnce(job)) return job
    const stored = await get(job._id)
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
      const job = await get(key.jobId)
      if (job !== null) return job
      if (Date.now() - key.createdAt.getTime() > 2000) return insertMissingJob({ ...fallback(), _id: key.jobId })
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
      // A job drops its key as its handler starts, so a running job that still has it was claimed but has not
      // started its work (it is waiting for its exclusive lock, and may go back to the queue): it still takes
      // the trigger. Treating it as started made a second queued job each time (18 at once under a burst).
      if (existing?.status === 'queued' || (existing?.status === 'running' && await keys.findOne({ _id: keyId, jobId: existing._id }) !== null)) {
        return { job: existing, created: false, reusedBy: 'dedupe' }
      }
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
   * Claims up to `limit` due jobs of the given kinds. A claim is won by inserting `<jobId>:<claimSeq>` into
   * `job_claims`: a unique `_id` is the one guarantee every supported server gives under concurrency
   * (FerretDB 1.x applies findAndModify as a read then a write, so two runners could both match one job).
   * The winner then marks the job running with its own lease token (`owner()` makes one per job).
   */
  async function claim (kinds: string[], limit: number, owner: () => string, instance: string, leaseMs: number, holdUntil?: HoldUntil): Promise<JobDocument[]> {
    const now = new Date()
    const cursor = jobs.find({ status: 'queued', runAfter: { $lte: now }, kind: { $in: kinds } }).limit(limit * 3)
    // Without an index-backed sort (FerretDB 1.x) claims follow insertion order, which is close to FIFO.
    if (defaults.sortedClaims === true) cursor.sort({ runAfter: 1, createdAt: 1 })
    const candidates = await cursor.toArray()
    // Other runners see the same candidates: start at a random point so they mostly try different ones.
    const offset = Math.floor(Math.random() * Math.max(1, candidates.length))
    const ordered = [...candidates.slice(offset), ...candidates.slice(0, offset)]
    const claimed: JobDocument[] = []
    let failure: unknown
    for (let i = 0; i < ordered.length && claimed.length < limit;) {
      const batch = ordered.slice(i, i + limit - claimed.length)
      i += batch.length
      // Settled, not all: a claim that failed must not hide the jobs its siblings marked running for this
      // runner, or nobody would run them until their leases expired.
      const results = await Promise.allSettled(batch.map((candidate) => claimOne(candidate, owner(), instance, leaseMs, now, holdUntil)))
      for (const result of results) {
        if (result.status === 'fulfilled' && result.value !== null) claimed.push(result.value)
        else if (result.status === 'rejected') failure ??= result.reason
      }
    }
    if (claimed.length === 0 && failure !== undefined) throw failure
    return claimed
  }

  /**
   * Cancels a queued job whose next claim record the caller has just won (still at the claim number it was won
   * for), then archives it. Null when the job moved on meanwhile (recovery passed that claim).
   */
  async function cancelWonClaim (job: JobDocument, now: Date): Promise<JobDocument | null> {
    const claimSeq = (job.claimSeq ?? 0) + 1
    const cancelled = await jobs.findOneAndUpdate(
      { _id: job._id, status: 'queued', claimSeq: claimSeq - 1 },
      { $set: { status: 'cancelled', claimSeq, finishedAt: now, updatedAt: now } },
      { returnDocument: 'after' }
    )
    if (cancelled !== null) {
      await archive(cancelled)
      await dropDedupeKey(cancelled)
    }
    return cancelled
  }

  function claimRecordId (jobId: string, claimSeq: number): string {
    return `${jobId}:${claimSeq}`
  }

  /** Inserts the record of the job's next claim; false when a runner (or a cancel) holds that claim already. */
  function winNextClaim (job: JobDocument, owner: string, at: Date): Promise<boolean> {
    return insertOnce(claims, { _id: claimRecordId(job._id, (job.claimSeq ?? 0) + 1), jobId: job._id, owner, at })
  }

  async function claimOne (candidate: JobDocument, owner: string, instance: string, leaseMs: number, now: Date, holdUntil?: HoldUntil): Promise<JobDocument | null> {
    if (!(await winNextClaim(candidate, owner, now))) return null
    const claimSeq = (candidate.claimSeq ?? 0) + 1
    // Cancelled while it ran, then put back in the queue (a retry, a busy lock, a shutdown) before its runner
    // saw the request: it ends cancelled instead of running again. (The flag can be lost to a racing
    // heartbeat on FerretDB; the cancel record cannot, so a job that ran before is checked for it too.)
    if (candidate.cancelRequested === true || (candidate.attempts > 0 && await claims.findOne({ _id: cancelRecordId(candidate._id) }) !== null)) {
      await cancelWonClaim(candidate, now)
      return null
    }
    const until = holdUntil === undefined ? null : await holdUntil(candidate)
    if (until !== null && until.getTime() > Date.now()) {
      // Asked to wait: the claim number moves on and the job stays queued, so that anyone looking at it
      // (an enqueue coalescing into it, a cancel) sees a queued job, never a run that did not happen.
      await jobs.updateOne({ _id: candidate._id, status: 'queued', claimSeq: claimSeq - 1 }, { $set: { claimSeq, runAfter: until, updatedAt: new Date() } })
      return null
    }
    // Still at the claim number the record was won for: recovery moves past a claim whose runner died
    // between the record and this write (see recoverStalledClaims), and then this write must not land.
    return jobs.findOneAndUpdate(
      { _id: candidate._id, status: 'queued', claimSeq: claimSeq - 1 },
      {
        $set: { status: 'running', claimSeq, leaseOwner: owner, leaseInstance: instance, leaseExpiresAt: new Date(now.getTime() + leaseMs), startedAt: now, updatedAt: now },
        $inc: { attempts: 1 }
      },
      { returnDocument: 'after' }
    )
  }

  /**
   * Housekeeping the runner does every few seconds: a running job whose runner stopped renewing its lease goes
   * back to the queue (the attempt counts) or fails when that was its last attempt; a job finished but not yet
   * moved to `jobs_done` (its runner crashed in between) is moved. Returns how many jobs it acted on.
   */
  async function recoverJobs (leaseMs = 60_000): Promise<number> {
    let acted = await recoverStalledClaims(leaseMs)
    for (let i = 0; i < 100; i++) {
      const now = new Date()
      const expired = await jobs.findOne({ status: 'running', leaseExpiresAt: { $lt: now } })
      if (expired === null) break
      if (await recoverExpiredLease(expired, now) !== null) acted++
    }
    // A finished job sits in `jobs` while its runner moves it (finish() archives right after the final write);
    // only one left there for a while was abandoned by a runner that stopped in between.
    const abandoned = new Date(Date.now() - ARCHIVE_GRACE_MS)
    for (let i = 0; i < 100; i++) {
      const finished = await jobs.findOne({ status: { $in: TERMINAL }, finishedAt: { $lt: abandoned } })
      if (finished === null) break
      await archive(finished)
      acted++
    }
    return acted
  }

  /**
   * A runner that dies after winning a claim record but before marking the job running leaves the job queued
   * with its next claim number taken, so no runner could ever claim it. Such a job has been due for longer
   * than a lease and its claim record is older than a lease: move it to the next claim number. Only the
   * longest-waiting due jobs are checked (one read by `_id` each), and a stalled one only gets older.
   */
  async function recoverStalledClaims (leaseMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - leaseMs)
    const waiting = await jobs.find({ status: 'queued', runAfter: { $lt: cutoff } }).sort({ runAfter: 1 }).limit(20).toArray()
    let moved = 0
    for (const job of waiting) {
      const seq = job.claimSeq ?? 0
      const record = await claims.findOne({ _id: claimRecordId(job._id, seq + 1) })
      if (record === null || record.at >= cutoff) continue
      // A queued copy of a job that has finished (see insertMissingJob) must never get a claim number it could
      // be won with: it is dropped instead.
      if (await done.findOne({ _id: job._id }) !== null) {
        const r = await jobs.deleteOne({ _id: job._id, status: 'queued', claimSeq: seq })
        moved += r.deletedCount
        continue
      }
      const r = await jobs.updateOne({ _id: job._id, status: 'queued', claimSeq: seq }, { $set: { claimSeq: seq + 1, updatedAt: new Date() } })
      moved += r.modifiedCount
    }
    return moved
  }

  async function recoverExpiredLease (expired: JobDocument, now: Date): Promise<JobDocument | null> {
    // A job with a copy in `jobs_done` has finished. A live copy still marked running is a stale write that
    // landed after the final one (FerretDB 1.x applies an update as a read, then a write of the whole
    // document, so a cancel request racing the runner's finish can write `running` back): drop it, never rerun it.
    const finished = await done.findOne({ _id: expired._id })
    if (finished !== null) {
      await jobs.deleteOne({ _id: expired._id, status: 'running' })
      return finished
    }
    const filter: Filter<JobDocument> = { _id: expired._id, status: 'running', leaseOwner: expired.leaseOwner }
    let set: Partial<JobDocument>
    if (expired.cancelRequested || (await claims.findOne({ _id: cancelRecordId(expired._id) })) !== null) {
      set = { ...cleared(now), status: 'cancelled', finishedAt: now }
    } else if ((expired.leaseExpiries ?? 0) + 1 >= MAX_LEASE_EXPIRIES) {
      const error: JobErrorInfo = {
        message: `its runner stopped renewing the lease ${MAX_LEASE_EXPIRIES} times (last ${expired.leaseInstance ?? '?'}): the job may be crashing its runner`,
        code: 'LEASE_EXPIRED',
        retryable: true,
        attemptsExhausted: true
      }
      set = { ...cleared(now), status: 'failed', error, finishedAt: now, leaseExpiries: (expired.leaseExpiries ?? 0) + 1 }
    } else {
      // A runner that died (a kill, a crash, a lost host) is not the job's failure: it runs again, and its
      // attempts for handler errors are counted without these runs (see the runner).
      set = { ...cleared(now), status: 'queued', runAfter: now, leaseExpiries: (expired.leaseExpiries ?? 0) + 1 }
    }
    const recovered = await jobs.findOneAndUpdate(filter, { $set: set }, { returnDocument: 'after' })
    if (recovered !== null && TERMINAL.includes(recovered.status)) await archive(recovered)
    return recovered
  }

  /** Moves a finished job to `jobs_done`: copy first, then delete, so a crash in between loses nothing. */
  async function archive (job: JobDocument): Promise<void> {
    await doneInserts.insertOnce(job)
    await jobs.deleteOne({ _id: job._id, status: job.status })
  }

  /** Applies a final state to a job this owner holds, then archives it. False when the lease was lost. */
  async function finish (id: string, owner: string, set: Partial<JobDocument>): Promise<boolean> {
    const job = await jobs.findOneAndUpdate(owned(id, owner), { $set: set }, { returnDocument: 'after' })
    if (job === null) return false
    await archive(job)
    return true
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
    const leaseExpiresAt = new Date(now.getTime() + leaseMs)
    const job = await jobs.findOneAndUpdate(
      owned(id, owner),
      { $set: { leaseExpiresAt, updatedAt: now } },
      { returnDocument: 'after' } // no projection: FerretDB 1.24 rejects it in findAndModify
    )
    if (job === null) return null
    return { cancelRequested: job.cancelRequested === true || (await claims.findOne({ _id: cancelRecordId(id) })) !== null }
  }

  function cancelRecordId (id: string): string {
    return `${id}:cancel`
  }

  async function recordProgress (id: string, owner: string, progress: JobProgress): Promise<boolean> {
    const r = await jobs.updateOne(owned(id, owner), { $set: { progress, updatedAt: new Date() } })
    return r.matchedCount === 1
  }

  /** `progress`: the last step the handler reported, kept on the finished job (null keeps what was written). */
  async function succeed (id: string, owner: string, result: unknown, progress: JobProgress | null = null): Promise<boolean> {
    const now = new Date()
    return finish(id, owner, { ...cleared(now), status: 'succeeded', result: result ?? null, error: null, finishedAt: now, ...(progress === null ? {} : { progress }) })
  }

  async function fail (id: string, owner: string, error: JobErrorInfo, result?: unknown, progress: JobProgress | null = null): Promise<boolean> {
    const now = new Date()
    const set: Partial<JobDocument> = { ...cleared(now), status: 'failed', error, finishedAt: now }
    if (result !== undefined) set.result = result
    if (progress !== null) set.progress = progress
    return finish(id, owner, set)
  }

  async function retryLater (id: string, owner: string, error: JobErrorInfo, runAfter: Date, progress?: JobProgress): Promise<boolean> {
    const r = await jobs.updateOne(owned(id, owner), {
      $set: { ...cleared(new Date()), status: 'queued', error, runAfter, ...(progress === undefined ? {} : { progress }) }
    })
    return r.matchedCount === 1
  }

  async function markCancelled (id: string, owner: string): Promise<boolean> {
    const now = new Date()
    return finish(id, owner, { ...cleared(now), status: 'cancelled', finishedAt: now })
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
    return (await jobs.findOne({ _id: id })) ?? (await done.findOne({ _id: id }))
  }

  async function list (query: ListJobsQuery): Promise<JobDocument[]> {
    const filter: Filter<JobDocument> = {}
    if (query.kind !== undefined) filter.kind = query.kind
    if (query.status !== undefined) filter.status = query.status
    if (query.cursor !== undefined) {
      const { createdAt, id } = query.cursor
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }]
    }
    // Newest first across both collections: take `limit` from each, merge, keep `limit`.
    const fetch = (c: Collection<JobDocument>) => c.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit).toArray()
    const [live, finished] = await Promise.all([fetch(jobs), fetch(done)])
    const byId = new Map<string, JobDocument>()
    for (const job of [...finished, ...live]) byId.set(job._id, job) // a live copy wins over a stale archive
    return [...byId.values()]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0))
      .slice(0, query.limit)
  }

  /**
   * queued → cancelled at once; running → flag the runner, which aborts the handler. Cancelling a queued job
   * competes with the runners for the job's next claim record, so that it is either cancelled or run, never
   * both. A claim lost to a runner means the job is starting (the flag is set once it shows as running) or
   * being held back (it stays queued, and the next claim number is competed for).
   */
  async function requestCancel (id: string): Promise<JobDocument | null> {
    for (let attempt = 0; attempt < 40; attempt++) {
      const live = await jobs.findOne({ _id: id })
      const now = new Date()
      if (live?.status === 'queued' && await winNextClaim(live, 'cancel', now)) {
        const cancelled = await cancelWonClaim(live, now)
        if (cancelled !== null) return cancelled
      }
      const running = await jobs.findOneAndUpdate(
        { _id: id, status: 'running' },
        { $set: { cancelRequested: true, updatedAt: new Date() } },
        { returnDocument: 'after' }
      )
      if (running !== null) {
        // Recorded on its own too: on FerretDB 1.x a heartbeat racing the update above writes the whole
        // document back and can drop the flag, while a record nobody else writes cannot be lost.
        await insertOnce(claims, { _id: cancelRecordId(id), jobId: id, owner: 'cancel', at: new Date() })
        return running
      }
      // Queued still: a runner won the claim and is about to mark the job running, or it held the job back
      // (the claim number moved on: the next pass competes for the next one). Running now: it turned running
      // between the update above and this read, so flag it on the next pass.
      const status = (await jobs.findOne({ _id: id }))?.status
      if (status === 'running') continue
      if (status !== 'queued') return null
      await sleep(50)
    }
    return null
  }

  async function linkRetry (oldId: string, newId: string): Promise<void> {
    const set = { $set: { retriedBy: newId, updatedAt: new Date() } }
    await Promise.all([done.updateOne({ _id: oldId }, set), jobs.updateOne({ _id: oldId }, set)])
  }

  /** Deletes finished jobs and idempotency keys older than the cutoff. */
  async function purge (before: Date): Promise<{ jobs: number, keys: number }> {
    const deletedJobs = await done.deleteMany({ finishedAt: { $lt: before } })
    const deletedKeys = await keys.deleteMany({ createdAt: { $lt: before } })
    // A claim record only matters while a runner may still act on a job read before that claim: seconds.
    await claims.deleteMany({ at: { $lt: new Date(Math.min(before.getTime(), Date.now() - DAY_MS)) } })
    return { jobs: deletedJobs.deletedCount, keys: deletedKeys.deletedCount }
  }

  async function countByStatus (): Promise<Array<{ kind: string, status: JobStatus, count: number }>> {
    const group = [{ $group: { _id: { kind: '$kind', status: '$status' }, count: { $sum: 1 } } }]
    const totals = new Map<string, { kind: string, status: JobStatus, count: number }>()
    for (const collection of [jobs, done]) {
      for (const row of await collection.aggregate<{ _id: { kind: string, status: JobStatus }, count: number }>(group).toArray()) {
        const key = `${row._id.kind}\u0000${row._id.status}`
        const entry = totals.get(key) ?? { kind: row._id.kind, status: row._id.status, count: 0 }
        entry.count += row.count
        totals.set(key, entry)
      }
    }
    return [...totals.values()]
  }

  return {
    /** Live jobs (queued, running). */
    collection: jobs,
    /** Finished jobs. */
    doneCollection: done,
    ensureIndexes,
    enqueue,
    claim,
    recoverJobs,
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
