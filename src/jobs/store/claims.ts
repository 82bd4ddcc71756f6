/**
 * Who runs a job, and when it is cancelled instead. Each claim of a job has exactly one winner (its claim
 * record), the winner marks the job running under its own lease token, and a cancel competes for the same
 * claim: a queued job is either cancelled or run, never both.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { HoldUntil, JobDocument } from '../types.js'
import type { Archive } from './archive.js'
import type { Coalescing } from './coalesce.js'
import type { StoreContext } from './context.js'
import { cancelRecorded, recordCancel, winNextClaim } from './non-atomic-server.js'

export interface Claimer {
  /** A new lease token, one per claimed job. */
  owner: () => string
  /** The gateway instance claiming (for operators). */
  instance: string
  leaseMs: number
  /** Asked for a won job before it is marked running: a time ahead leaves it queued until then. */
  holdUntil?: HoldUntil
}

export function createClaims (
  ctx: StoreContext, archive: Archive, coalescing: Coalescing, dropDedupeKey: (job: JobDocument) => Promise<void>
) {
  const { jobs, claims } = ctx

  /** Claims up to `limit` due jobs of the given kinds; see claimOne for how each one is won. */
  async function claim (kinds: string[], limit: number, claimer: Claimer): Promise<JobDocument[]> {
    const now = new Date()
    const candidates = await dueJobs(kinds, limit * 3, now)
    const claimed: JobDocument[] = []
    let failure: unknown
    for (let i = 0; i < candidates.length && claimed.length < limit;) {
      const batch = candidates.slice(i, i + limit - claimed.length)
      i += batch.length
      // Settled, not all: a claim that failed must not hide the jobs its siblings marked running for this
      // runner, or nobody would run them until their leases expired.
      const results = await Promise.allSettled(batch.map((candidate) => claimOne(candidate, claimer, now)))
      for (const result of results) {
        if (result.status === 'fulfilled' && result.value !== null) claimed.push(result.value)
        else if (result.status === 'rejected') failure ??= result.reason
      }
    }
    if (claimed.length === 0 && failure !== undefined) throw failure
    return claimed
  }

  /** Due queued jobs, rotated to start at a random one: other runners see the same, and mostly try others. */
  async function dueJobs (kinds: string[], limit: number, now: Date): Promise<JobDocument[]> {
    const cursor = jobs.find({ status: 'queued', runAfter: { $lte: now }, kind: { $in: kinds } }).limit(limit)
    // Without an index-backed sort, claims follow insertion order, which is close to FIFO.
    if (ctx.defaults.sortedClaims === true) cursor.sort({ runAfter: 1, createdAt: 1 })
    const candidates = await cursor.toArray()
    const offset = Math.floor(Math.random() * Math.max(1, candidates.length))
    return [...candidates.slice(offset), ...candidates.slice(0, offset)]
  }

  /**
   * Wins the job's next claim record, then marks it running for this claimer. The mark filters on the claim
   * number the record was won for: recovery moves past a claim whose runner died between the record and the
   * mark (recoverStalledClaims), and then the mark must not land.
   */
  async function claimOne (candidate: JobDocument, claimer: Claimer, now: Date): Promise<JobDocument | null> {
    const owner = claimer.owner()
    if (!(await winNextClaim(claims, candidate, owner, now))) return null
    const claimSeq = (candidate.claimSeq ?? 0) + 1
    // Cancelled while it ran, then put back in the queue (a retry, a busy lock, a shutdown) before its runner
    // saw the request: it ends cancelled instead of running again. A job that ran before may carry only the
    // cancel record (its flag lost to a racing heartbeat), so it is checked for that too.
    if (candidate.cancelRequested === true || (candidate.attempts > 0 && await cancelRecorded(claims, candidate._id))) {
      await cancelWonClaim(candidate, now)
      return null
    }
    const until = await startsAt(candidate, claimer)
    if (until !== null && until.getTime() > Date.now()) {
      if (await hold(candidate, claimSeq, until)) coalescing.held(candidate, until)
      return null
    }
    return jobs.findOneAndUpdate(
      { _id: candidate._id, status: 'queued', claimSeq: claimSeq - 1 },
      {
        $set: {
          status: 'running',
          claimSeq,
          leaseOwner: owner,
          leaseInstance: claimer.instance,
          leaseExpiresAt: new Date(now.getTime() + claimer.leaseMs),
          startedAt: now,
          updatedAt: now
        },
        $inc: { attempts: 1 }
      },
      { returnDocument: 'after' }
    )
  }

  /** When a won job may start: after its quiet moment if it is coalesced, and when its kind says. */
  async function startsAt (job: JobDocument, claimer: Claimer): Promise<Date | null> {
    const settled = await coalescing.settleAt(job)
    const asked = claimer.holdUntil === undefined ? null : await claimer.holdUntil(job)
    if (settled === null || asked === null) return settled ?? asked
    return settled > asked ? settled : asked
  }

  /**
   * Asked to wait: the claim number moves on and the job stays queued, so that anyone looking at it (an enqueue
   * coalescing into it, a cancel) sees a queued job, never a run that did not happen.
   */
  async function hold (job: JobDocument, claimSeq: number, until: Date): Promise<boolean> {
    const r = await jobs.updateOne(
      { _id: job._id, status: 'queued', claimSeq: claimSeq - 1 },
      { $set: { claimSeq, runAfter: until, updatedAt: new Date() } }
    )
    return r.modifiedCount === 1
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
      await archive.archive(cancelled)
      await dropDedupeKey(cancelled)
    }
    return cancelled
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
      if (live?.status === 'queued' && await winNextClaim(claims, live, 'cancel', now)) {
        const cancelled = await cancelWonClaim(live, now)
        if (cancelled !== null) return cancelled
      }
      const running = await jobs.findOneAndUpdate(
        { _id: id, status: 'running' },
        { $set: { cancelRequested: true, updatedAt: new Date() } },
        { returnDocument: 'after' }
      )
      if (running !== null) {
        await recordCancel(claims, id)
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

  return { claim, requestCancel }
}
