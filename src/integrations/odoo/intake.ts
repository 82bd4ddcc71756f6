import { randomUUID } from 'node:crypto'
import type { EmployeeEventDocument, OdooStore } from './store.js'

/** Events one insertMany carries at most, unless a single request holds more (a request is never split). */
const MAX_BATCH = 500

/**
 * Group commit: when the last write held several requests, the next one waits until as many are queued, at most
 * LINGER_MS. Senders that just got their answers send again at about the same time (n8n sends a run's items at
 * once); one write for all of them costs the database far less than one for the first to come back and another
 * for the rest. A lone request never waits.
 */
const LINGER_MS = 3
/** How recent the last write must be for its size to say who is coming back (they answer within milliseconds). */
const RECENT_MS = 20

/** One request's events: stored together, answered together. */
export interface IntakeRequest {
  docs: EmployeeEventDocument[]
  /** The request carried an Idempotency-Key (or a verified webhook-id): `docs[0]` is its delivery record. */
  keyed: boolean
}

export interface IntakeAnswer {
  jobId: string
  /** The job's status: `queued` for a new delivery, whatever it is now for a repeat. */
  status: string
  /** A repeat of a delivery stored before: nothing new was stored. */
  repeat: boolean
  /** Events of the first delivery (for a repeat) or of this request. */
  events: number
}

export interface BatchJobs {
  /**
   * The job that will most likely read a batch stored now, known without a round trip (the queued job this
   * instance knows about, else a fresh id that the next enqueue will use). Recorded with keyed events.
   */
  expectedJob: () => string
  /** Called as a batch's write starts: lets the job lookup begin meanwhile when it will need a round trip. */
  beforeStore: (expected: string) => void
  /** Names a job that will read a batch stored (durably) at `storedAt`. */
  jobFor: (storedAt: number) => Promise<string>
  /** A job's status; null when it does not exist (a repeat's recorded job may never have been enqueued). */
  status: (jobId: string) => Promise<string | null>
}

/** Runs a storage step on the request path (retries while busy, 503 at the deadline). */
export type StorageStep = <T>(step: () => Promise<T>) => Promise<T>

/**
 * Group commit for webhook events: requests that arrive while a write is in flight are stored together in the
 * next insertMany, and each request is answered only after its batch is durable and `jobs.jobFor` has named
 * a job that will read it. An Idempotency-Key costs no extra round trip: the key is the `_id` of the request's
 * first event, so the same insert that stores the events detects a repeat (a duplicate `_id`), and the job
 * named in the answer is recorded on that event (patched in the rare case the expected job had started).
 */
export function createEventIntake (store: OdooStore, jobs: BatchJobs, storage: StorageStep) {
  interface Waiting { request: IntakeRequest, resolve: (v: IntakeAnswer) => void, reject: (err: unknown) => void }
  let queue: Waiting[] = []
  let flushing = false

  /** Takes whole requests from the queue up to MAX_BATCH events (at least one request). */
  function takeBatch (): Waiting[] {
    let size = 0
    let count = 0
    while (count < queue.length && (count === 0 || size + (queue[count]?.request.docs.length ?? 0) <= MAX_BATCH)) {
      size += queue[count]?.request.docs.length ?? 0
      count++
    }
    const batch = queue.slice(0, count)
    queue = queue.slice(count)
    return batch
  }

  /**
   * The first answers of a batch's repeated deliveries, in a few reads for the whole batch (n8n resends every
   * item of a run at once): their records, the jobs those name, and those jobs' states.
   */
  async function answerRepeats (repeats: IntakeRequest[], existing: Set<string>): Promise<IntakeAnswer[]> {
    // Events the insert put back (their first delivery was applied and deleted) are removed again.
    const reinserted = repeats.flatMap((request) => request.docs.filter((doc) => !existing.has(doc._id)).map((doc) => doc._id))
    if (reinserted.length > 0) await storage(() => store.removeIds(reinserted))
    const records = await storage(() => store.findDeliveries(repeats.map((request) => (request.docs[0] as EmployeeEventDocument)._id)))
    const jobIds = await storage(() => store.jobsOf([...records.values()]))
    const statuses = new Map<string, string | null>()
    await Promise.all([...new Set(jobIds.values())].map(async (jobId) => {
      statuses.set(jobId, await storage(() => jobs.status(jobId)))
    }))
    // Still pending under a job that was never made (the first request failed after its write): name one now.
    const orphans = repeats.map((request) => (request.docs[0] as EmployeeEventDocument)._id)
      .filter((id) => { const jobId = jobIds.get(id); return jobId === undefined || statuses.get(jobId) == null })
    if (orphans.length > 0) {
      const jobId = await storage(() => jobs.jobFor(Date.now()))
      await storage(() => store.assignJob(orphans, jobId))
      for (const id of orphans) jobIds.set(id, jobId)
      statuses.set(jobId, 'queued')
    }
    return repeats.map((request) => {
      const first = request.docs[0] as EmployeeEventDocument
      const jobId = jobIds.get(first._id) as string
      return { jobId, status: statuses.get(jobId) ?? 'queued', repeat: true, events: records.get(first._id)?.deliveryEvents ?? request.docs.length }
    })
  }

  async function storeBatch (batch: Waiting[]): Promise<void> {
    const expected = jobs.expectedJob()
    const batchId = randomUUID()
    for (const { request } of batch) if (request.keyed) Object.assign(request.docs[0] as EmployeeEventDocument, { jobId: expected, batchId })
    // Every event names the insert that stores it, so the job that applies them all can delete them by it.
    const intakeSize = batch.reduce((sum, w) => sum + w.request.docs.length, 0)
    for (const { request } of batch) for (const doc of request.docs) Object.assign(doc, { intake: batchId, intakeSize })
    // A keyed request may turn out a repeat that needs no job: only unkeyed ones start the lookup early.
    if (batch.some((w) => !w.request.keyed)) jobs.beforeStore(expected)
    const existing = await storage(() => store.addEvents(batch.flatMap((w) => w.request.docs)))
    const isRepeat = (request: IntakeRequest): boolean => request.keyed && existing.has((request.docs[0] as EmployeeEventDocument)._id)
    const fresh = batch.filter((w) => !isRepeat(w.request))
    const repeats = batch.filter((w) => isRepeat(w.request))
    if (fresh.length > 0) {
      const jobId = await storage(() => jobs.jobFor(Date.now()))
      // The expected job had started (or another was queued meanwhile): one record says which job the batch's
      // deliveries went to, instead of an update of each.
      if (jobId !== expected && fresh.some((w) => w.request.keyed)) await storage(() => store.redirectBatch(batchId, jobId))
      for (const w of fresh) w.resolve({ jobId, status: 'queued', repeat: false, events: w.request.docs.length })
    }
    if (repeats.length === 0) return
    const answers = await answerRepeats(repeats.map((w) => w.request), existing)
    repeats.forEach((w, i) => { w.resolve(answers[i] as IntakeAnswer) })
  }

  /** The requests of the last write and when it ended: the senders likely to send again now. */
  let last = { requests: 0, endedAt: 0 }
  /** While a write lingers: how many queued requests end the wait, and how to end it. */
  let lingering: { enough: number, stop: () => void } | null = null

  /** Waits until `enough` requests are queued, at most LINGER_MS. */
  function linger (enough: number): Promise<void> {
    return new Promise((resolve) => {
      const stop = (): void => {
        clearTimeout(timer)
        lingering = null
        resolve()
      }
      const timer = setTimeout(stop, LINGER_MS)
      lingering = { enough, stop }
    })
  }

  async function flush (): Promise<void> {
    flushing = true
    try {
      while (queue.length > 0) {
        if (last.requests > 1 && queue.length < last.requests && Date.now() - last.endedAt < RECENT_MS) await linger(last.requests)
        const batch = takeBatch()
        try {
          await storeBatch(batch)
        } catch (err) {
          for (const w of batch) w.reject(err)
        }
        last = { requests: batch.length, endedAt: Date.now() }
      }
    } finally {
      flushing = false
    }
  }

  return {
    /** Stores a request's events durably and names the job that applies them. */
    accept (request: IntakeRequest): Promise<IntakeAnswer> {
      return new Promise((resolve, reject) => {
        queue.push({ request, resolve, reject })
        if (lingering !== null && queue.length >= lingering.enough) lingering.stop()
        // Flush on the next turn of the event loop, so requests parsed in the same I/O phase share a batch.
        if (!flushing) {
          flushing = true
          setImmediate(() => { void flush() })
        }
      })
    }
  }
}
