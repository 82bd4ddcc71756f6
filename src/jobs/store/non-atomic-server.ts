/**
 * What the engine does only because some servers do not apply findAndModify and update atomically, in one place.
 * FerretDB 1.x reads the matching document, then writes the whole document back. So (1) two writers whose
 * filters match one document can both "win" it, and (2) a write that read an older state puts back fields
 * another writer changed in between. The one outcome such a server decides atomically is a unique `_id` on
 * insert. On MongoDB these measures are redundant and cheap; the rest of the engine calls them by name.
 *
 * The measures:
 * - Claim records (`winNextClaim`): a job's n-th claim is won by inserting `<jobId>:<n>` into `job_claims`, not
 *   by the conditional update that marks it running (against 1). A runner that dies between the record and that
 *   update leaves the number taken: recovery moves such a job past it (recovery.ts, recoverStalledClaims).
 * - Cancel records (`recordCancel`, `cancelRecorded`): a cancel request is written as `<jobId>:cancel` besides the
 *   job's `cancelRequested` flag, because a heartbeat racing the request can write the flag back (against 2).
 * - Stale running copies (`dropStaleRunningCopy`): a job archived to `jobs_done` whose live copy still says
 *   running got it from a late write racing its final one (against 2): the copy is dropped, never run again.
 * - Heartbeat before the final write: the runner waits for a heartbeat in flight before it writes a job's final
 *   state, or the heartbeat could write `running` back over it (against 2; runner.ts, stopHeartbeat).
 * - Lock takeover records: an expired exclusive lock is taken over by inserting a record named after the
 *   expired lease, not by a conditional update (against 1; locks.ts).
 *
 * Other limits of FerretDB 1.x the engine works around, named here so there is one place to look:
 * - It cannot sort without scanning: claims then follow insertion order (`serverSortsClaims`).
 * - It rejects a projection in findAndModify: heartbeats read the whole document back.
 * - It drops null fields on upsert: readers default a missing field to null (view.ts).
 * - It applies a batch insert holding a duplicate one document at a time: contested claim records are never
 *   batched. It answers other filters than `{ _id }` by scanning: finished jobs leave the live collection.
 */
import type { Collection, Db } from 'mongodb'
import { insertOnce } from '../../lib/mongo-errors.js'
import type { JobDocument } from '../types.js'
import type { JobClaimDocument } from './context.js'

/** Whether the server orders claims by due time through an index; FerretDB 1.x would scan every live job. */
export async function serverSortsClaims (db: Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 }).catch(() => ({}))
  return !('ferretdbVersion' in info)
}

export function claimRecordId (jobId: string, claimSeq: number): string {
  return `${jobId}:${claimSeq}`
}

/** Inserts the record of the job's next claim; false when a runner (or a cancel) holds that claim already. */
export function winNextClaim (
  claims: Collection<JobClaimDocument>, job: JobDocument, owner: string, at: Date
): Promise<boolean> {
  return insertOnce(claims, { _id: claimRecordId(job._id, (job.claimSeq ?? 0) + 1), jobId: job._id, owner, at })
}

function cancelRecordId (jobId: string): string {
  return `${jobId}:cancel`
}

/** Records a cancel request where no other writer can overwrite it. */
export async function recordCancel (claims: Collection<JobClaimDocument>, jobId: string): Promise<void> {
  await insertOnce(claims, { _id: cancelRecordId(jobId), jobId, owner: 'cancel', at: new Date() })
}

export async function cancelRecorded (claims: Collection<JobClaimDocument>, jobId: string): Promise<boolean> {
  return (await claims.findOne({ _id: cancelRecordId(jobId) })) !== null
}

/** Whether a cancel was requested: the job's flag, or the record that cannot be lost. */
export async function cancelRequested (claims: Collection<JobClaimDocument>, job: JobDocument): Promise<boolean> {
  return job.cancelRequested === true || await cancelRecorded(claims, job._id)
}

/**
 * The finished job when `jobId` was archived already; its live copy still marked running is then a stale write
 * and is deleted. Null when the job has not finished.
 */
export async function dropStaleRunningCopy (
  jobs: Collection<JobDocument>, done: Collection<JobDocument>, jobId: string
): Promise<JobDocument | null> {
  const finished = await done.findOne({ _id: jobId })
  if (finished !== null) await jobs.deleteOne({ _id: jobId, status: 'running' })
  return finished
}
