/**
 * What the runner holding a job's lease writes while it runs it. Every write filters on the lease token, so a
 * runner that lost the lease (it expired, another runner took the job over) changes nothing.
 */
import type { JobDocument, JobErrorInfo, JobProgress } from '../types.js'
import { cleared, owned, type StoreContext } from './context.js'
import { cancelRequested } from './non-atomic-server.js'

export function createLeases ({ jobs, claims }: StoreContext) {
  /** Renews the lease. Returns null when the lease was lost (someone else owns the job now). */
  async function heartbeat (id: string, owner: string, leaseMs: number): Promise<{ cancelRequested: boolean } | null> {
    const now = new Date()
    const leaseExpiresAt = new Date(now.getTime() + leaseMs)
    // Reads the whole document back: see non-atomic-server.ts on projections in findAndModify.
    const job = await jobs.findOneAndUpdate(
      owned(id, owner),
      { $set: { leaseExpiresAt, updatedAt: now } },
      { returnDocument: 'after' }
    )
    if (job === null) return null
    return { cancelRequested: await cancelRequested(claims, job) }
  }

  async function recordProgress (id: string, owner: string, progress: JobProgress): Promise<boolean> {
    const r = await jobs.updateOne(owned(id, owner), { $set: { progress, updatedAt: new Date() } })
    return r.matchedCount === 1
  }

  /** Back to the queue after a failed attempt, due at `runAfter`; the attempt counts. */
  async function retryLater (
    id: string, owner: string, error: JobErrorInfo, runAfter: Date, progress?: JobProgress
  ): Promise<boolean> {
    const set: Partial<JobDocument> = { ...cleared(new Date()), status: 'queued', error, runAfter }
    if (progress !== undefined) set.progress = progress
    const r = await jobs.updateOne(owned(id, owner), { $set: set })
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

  return { heartbeat, recordProgress, retryLater, release }
}
