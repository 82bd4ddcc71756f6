/**
 * A job's final state, written only by the runner holding its lease, then the move to `jobs_done` (copy first,
 * delete second: a crash in between leaves a copy that recovery completes, never a lost job). And the purge.
 */
import { DAY_MS } from '../../lib/duration.js'
import type { JobDocument, JobErrorInfo, JobProgress } from '../types.js'
import { cleared, owned, type StoreContext } from './context.js'

export function createArchive (ctx: StoreContext) {
  const { jobs, done, keys, claims, triggers } = ctx

  /** Moves a finished job to `jobs_done`. */
  async function archive (job: JobDocument): Promise<void> {
    await ctx.insertDone(job)
    await jobs.deleteOne({ _id: job._id, status: job.status })
  }

  /** Applies a final state to a job this owner holds, then archives it. False when the lease was lost. */
  async function finish (id: string, owner: string, set: Partial<JobDocument>): Promise<boolean> {
    const job = await jobs.findOneAndUpdate(owned(id, owner), { $set: set }, { returnDocument: 'after' })
    if (job === null) return false
    await archive(job)
    return true
  }

  /** `progress`: the last step the handler reported, kept on the finished job (null keeps what was written). */
  async function succeed (id: string, owner: string, result: unknown, progress: JobProgress | null = null) {
    const now = new Date()
    const set = { ...cleared(now), status: 'succeeded' as const, result: result ?? null, error: null, finishedAt: now }
    return finish(id, owner, progress === null ? set : { ...set, progress })
  }

  async function fail (
    id: string, owner: string, error: JobErrorInfo, result?: unknown, progress: JobProgress | null = null
  ): Promise<boolean> {
    const now = new Date()
    const set: Partial<JobDocument> = { ...cleared(now), status: 'failed', error, finishedAt: now }
    if (result !== undefined) set.result = result
    if (progress !== null) set.progress = progress
    return finish(id, owner, set)
  }

  async function markCancelled (id: string, owner: string): Promise<boolean> {
    const now = new Date()
    return finish(id, owner, { ...cleared(now), status: 'cancelled', finishedAt: now })
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
    const dayAgo = new Date(Math.min(before.getTime(), Date.now() - DAY_MS))
    await claims.deleteMany({ at: { $lt: dayAgo } })
    // Trigger records are deleted as their job starts; one left over was written by a trigger racing the start.
    await triggers.deleteMany({ at: { $lt: dayAgo } })
    return { jobs: deletedJobs.deletedCount, keys: deletedKeys.deletedCount }
  }

  return { archive, succeed, fail, markCancelled, linkRetry, purge }
}

export type Archive = ReturnType<typeof createArchive>
