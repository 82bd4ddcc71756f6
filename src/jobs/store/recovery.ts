/**
 * What survives a runner that stops at any point (kill -9 included): a job whose lease expired runs again (or
 * fails, when it looks like the cause), a claim its runner never used is freed, a finished job is archived.
 */
import type { Filter } from 'mongodb'
import type { JobDocument, JobErrorInfo } from '../types.js'
import type { Archive } from './archive.js'
import { cleared, TERMINAL, type StoreContext } from './context.js'
import { cancelRequested, claimRecordId, dropStaleRunningCopy } from './non-atomic-server.js'

/** Runs whose runner died (lease expired) after which a job is failed as likely crashing its runner. */
const MAX_LEASE_EXPIRIES = 5

/** How long a finished job may wait in `jobs` before recovery moves it to `jobs_done` for its runner. */
const ARCHIVE_GRACE_MS = 30_000

/** Jobs acted on per kind of repair and pass; the next pass (seconds later) takes the rest. */
const PER_PASS = 100

export function createRecovery (ctx: StoreContext, archive: Archive) {
  const { jobs, done, claims } = ctx

  /**
   * Housekeeping the runner does every few seconds: a running job whose runner stopped renewing its lease goes
   * back to the queue (the attempt counts) or fails when that was its last attempt; a job finished but not yet
   * moved to `jobs_done` (its runner crashed in between) is moved. Returns how many jobs it acted on.
   */
  async function recoverJobs (leaseMs = 60_000): Promise<number> {
    let acted = await recoverStalledClaims(leaseMs)
    for (let i = 0; i < PER_PASS; i++) {
      const now = new Date()
      const expired = await jobs.findOne({ status: 'running', leaseExpiresAt: { $lt: now } })
      if (expired === null) break
      if (await recoverExpiredLease(expired, now) !== null) acted++
    }
    return acted + await archiveAbandoned()
  }

  /**
   * A finished job sits in `jobs` while its runner moves it (the final write archives right after); only one
   * left there for a while was abandoned by a runner that stopped in between.
   */
  async function archiveAbandoned (): Promise<number> {
    const abandoned = new Date(Date.now() - ARCHIVE_GRACE_MS)
    let moved = 0
    for (; moved < PER_PASS; moved++) {
      const finished = await jobs.findOne({ status: { $in: [...TERMINAL] }, finishedAt: { $lt: abandoned } })
      if (finished === null) break
      await archive.archive(finished)
    }
    return moved
  }

  /**
   * A runner that dies after winning a claim record but before marking the job running leaves the job queued
   * with its next claim number taken, so no runner could ever claim it. Such a job has been due for longer
   * than a lease and its claim record is older than a lease: move it to the next claim number. Only the
   * longest-waiting due jobs are checked (one read by `_id` each), and a stalled one only gets older.
   */
  async function recoverStalledClaims (leaseMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - leaseMs)
    const waiting = await jobs.find({ status: 'queued', runAfter: { $lt: cutoff } }).sort({ runAfter: 1 }).limit(20)
      .toArray()
    let moved = 0
    for (const job of waiting) {
      const seq = job.claimSeq ?? 0
      const record = await claims.findOne({ _id: claimRecordId(job._id, seq + 1) })
      if (record === null || record.at >= cutoff) continue
      const filter = { _id: job._id, status: 'queued' as const, claimSeq: seq }
      // A queued copy of a job that has finished (see insertMissingJob) must never get a claim number it could
      // be won with: it is dropped instead.
      if (await done.findOne({ _id: job._id }) !== null) {
        moved += (await jobs.deleteOne(filter)).deletedCount
        continue
      }
      moved += (await jobs.updateOne(filter, { $set: { claimSeq: seq + 1, updatedAt: new Date() } })).modifiedCount
    }
    return moved
  }

  /** A job whose runner stopped renewing its lease: queued again, or failed or cancelled, and then archived. */
  async function recoverExpiredLease (expired: JobDocument, now: Date): Promise<JobDocument | null> {
    const finished = await dropStaleRunningCopy(jobs, done, expired._id)
    if (finished !== null) return finished
    const filter: Filter<JobDocument> = { _id: expired._id, status: 'running', leaseOwner: expired.leaseOwner }
    const set = await afterExpiry(expired, now)
    const recovered = await jobs.findOneAndUpdate(filter, { $set: set }, { returnDocument: 'after' })
    if (recovered !== null && TERMINAL.includes(recovered.status)) await archive.archive(recovered)
    return recovered
  }

  async function afterExpiry (expired: JobDocument, now: Date): Promise<Partial<JobDocument>> {
    if (await cancelRequested(claims, expired)) return { ...cleared(now), status: 'cancelled', finishedAt: now }
    const leaseExpiries = (expired.leaseExpiries ?? 0) + 1
    if (leaseExpiries >= MAX_LEASE_EXPIRIES) {
      const error: JobErrorInfo = {
        message: `its runner stopped renewing the lease ${MAX_LEASE_EXPIRIES} times ` +
          `(last ${expired.leaseInstance ?? '?'}): the job may be crashing its runner`,
        code: 'LEASE_EXPIRED',
        retryable: true,
        attemptsExhausted: true
      }
      return { ...cleared(now), status: 'failed', error, finishedAt: now, leaseExpiries }
    }
    // A runner that died (a kill, a crash, a lost host) is not the job's failure: it runs again, and its
    // attempts for handler errors are counted without these runs (see the runner).
    return { ...cleared(now), status: 'queued', runAfter: now, leaseExpiries }
  }

  return { recoverJobs }
}
