/**
 * The job store: every read and write of jobs, composed from one file per concern under store/. Each state
 * change is one conditional single-document write (no transactions), and each write a runner makes filters on
 * its lease token. docs/architecture.md (Job engine) says what the engine guarantees and how.
 */
import type { Db } from 'mongodb'
import { createArchive } from './store/archive.js'
import { createClaims } from './store/claims.js'
import { createCoalescing } from './store/coalesce.js'
import { createStoreContext, ensureIndexes, type JobDefaults } from './store/context.js'
import { createEnqueue } from './store/enqueue.js'
import { createLeases } from './store/leases.js'
import { createQueries } from './store/queries.js'
import { createRecovery } from './store/recovery.js'
import type { HoldUntil, JobDocument } from './types.js'

export type { JobDefaults } from './store/context.js'
export type { ListJobsQuery } from './store/queries.js'

export function createJobStore (db: Db, defaults: JobDefaults) {
  const ctx = createStoreContext(db, defaults)
  const archive = createArchive(ctx)
  const coalescing = createCoalescing(ctx)
  const { enqueue, dropDedupeKey } = createEnqueue(ctx, coalescing)
  const claims = createClaims(ctx, archive, coalescing, dropDedupeKey)
  const leases = createLeases(ctx)
  const { recoverJobs } = createRecovery(ctx, archive)
  const queries = createQueries(ctx)

  /** Claims up to `limit` due jobs of `kinds` for one runner; `owner()` makes a lease token per job. */
  function claim (
    kinds: string[], limit: number, owner: () => string, instance: string, leaseMs: number, holdUntil?: HoldUntil
  ): Promise<JobDocument[]> {
    return claims.claim(kinds, limit, { owner, instance, leaseMs, holdUntil })
  }

  return {
    /** Live jobs (queued, running). */
    collection: ctx.jobs,
    /** Finished jobs. */
    doneCollection: ctx.done,
    ensureIndexes: () => ensureIndexes(ctx),
    enqueue,
    /** What a coalescing trigger of `key` would join now, as far as this instance knows (no round trip). */
    coalesced: coalescing.coalesced,
    claim,
    recoverJobs,
    heartbeat: leases.heartbeat,
    recordProgress: leases.recordProgress,
    succeed: archive.succeed,
    fail: archive.fail,
    retryLater: leases.retryLater,
    markCancelled: archive.markCancelled,
    release: leases.release,
    dropDedupeKey,
    get: queries.get,
    list: queries.list,
    requestCancel: claims.requestCancel,
    linkRetry: archive.linkRetry,
    purge: archive.purge,
    countByStatus: queries.countByStatus
  }
}

export type JobStore = ReturnType<typeof createJobStore>
