/**
 * The engine's collections and the helpers every part of the store shares. Live jobs (queued, running) are in
 * `jobs`, finished ones in `jobs_done`, so claims, heartbeats and lease checks only ever touch the live set.
 */
import type { Collection, Db, Filter } from 'mongodb'
import { ensureIndexes as createMissingIndexes } from '../../lib/indexes.js'
import { createInsertBatcher } from '../../lib/insert-batcher.js'
import type { JobDocument, JobStatus } from '../types.js'

/** Maps a key (dedupe or idempotency) to the job it stands for. `_id` makes the key unique across instances. */
export interface JobKeyDocument {
  _id: string
  jobId: string
  type: 'dedupe' | 'idempotency'
  createdAt: Date
}

/** One won claim of a job (see claim records in non-atomic-server.ts), or a job's cancel record. */
export interface JobClaimDocument {
  _id: string
  jobId: string
  owner: string
  at: Date
}

/** The latest trigger one instance joined a coalesced job with (`_id`: `<jobId>:<instance>`; see coalesce.ts). */
export interface JobTriggerDocument {
  _id: string
  jobId: string
  at: Date
}

export interface JobDefaults {
  maxAttempts: number
  /** Order claims by due time. Off where the server cannot sort without scanning (see non-atomic-server.ts). */
  sortedClaims?: boolean
}

export const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled']

export interface StoreContext {
  defaults: JobDefaults
  jobs: Collection<JobDocument>
  done: Collection<JobDocument>
  keys: Collection<JobKeyDocument>
  claims: Collection<JobClaimDocument>
  triggers: Collection<JobTriggerDocument>
  /** A job's own insert, batched with other callers' (one round trip per batch; see createInsertBatcher). */
  insertJob: (job: JobDocument) => Promise<boolean>
  /** A finished job's copy into `jobs_done`, batched the same way. */
  insertDone: (job: JobDocument) => Promise<boolean>
}

export function createStoreContext (db: Db, defaults: JobDefaults): StoreContext {
  const jobs = db.collection<JobDocument>('jobs')
  const done = db.collection<JobDocument>('jobs_done')
  // Claim records are not batched: they are contested (see non-atomic-server.ts).
  const jobInserts = createInsertBatcher(jobs)
  const doneInserts = createInsertBatcher(done)
  return {
    defaults,
    jobs,
    done,
    keys: db.collection<JobKeyDocument>('job_keys'),
    claims: db.collection<JobClaimDocument>('job_claims'),
    triggers: db.collection<JobTriggerDocument>('job_triggers'),
    insertJob: (job) => jobInserts.insertOnce(job),
    insertDone: (job) => doneInserts.insertOnce(job)
  }
}

export async function ensureIndexes ({ jobs, done, keys, claims, triggers }: StoreContext): Promise<void> {
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
  await createMissingIndexes(triggers, [{ key: { jobId: 1 }, name: 'job' }, { key: { at: 1 }, name: 'purge' }])
}

export function dedupeKeyId (kind: string, key: string): string {
  return `dedupe:${kind}:${key}`
}

/** A job, live or finished. */
export async function getJob ({ jobs, done }: StoreContext, id: string): Promise<JobDocument | null> {
  return (await jobs.findOne({ _id: id })) ?? (await done.findOne({ _id: id }))
}

/** The filter of every write a runner makes: the job is running under this owner's lease token. */
export function owned (id: string, owner: string): Filter<JobDocument> {
  return { _id: id, leaseOwner: owner, status: 'running' }
}

/** The fields that say no runner holds the job. */
export function cleared (now: Date) {
  return { leaseOwner: null, leaseInstance: null, leaseExpiresAt: null, updatedAt: now }
}
