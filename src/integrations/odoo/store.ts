import type { Collection, Db } from 'mongodb'
import { ensureIndexes, insertManyOnce } from '../../integration.js'

export const WEBHOOK_EVENTS = ['create', 'update', 'delete', 'archive', 'department'] as const
export type WebhookEvent = typeof WEBHOOK_EVENTS[number]

/** The optional payload n8n sends along; used only when Odoo cannot be reached. */
export interface EventData {
  name?: string
  work_email?: string | false
  job_title?: string | false
  active?: boolean
}

/** One accepted webhook, stored before the 202 so that a crash cannot lose it. */
export interface EmployeeEventDocument {
  _id: string
  event: WebhookEvent
  /** The changed employee; 0 for a `department` event. */
  employeeId: number
  /** A `department` event's department: its employees (and its sub-departments') are read again. */
  departmentId?: number
  data: EventData | null
  receivedAt: Date
  /**
   * Null while pending. An applied event is deleted, except a keyed request's delivery record (its first
   * event, `_id` `delivery:<key>`), which stays as a tombstone with `appliedAt` set so a repeat of the
   * delivery is recognised by the same insert that would store it, until ODOO_WEBHOOK_KEY_RETENTION.
   */
  appliedAt: Date | null
  /** Delivery records only: the job expected at the insert (see `batchId` for the one named in the answer). */
  jobId?: string | null
  /** Delivery records only: the intake batch that stored it; a `batch:<id>` record names another job if it went elsewhere. */
  batchId?: string
  /** Delivery records only: how many events the delivery carried. */
  deliveryEvents?: number
  /** The intake's insert that stored the event, and how many events it held: see removeApplied. */
  intake?: string
  intakeSize?: number
}

export interface SyncFacts {
  kind: 'full' | 'events'
  jobId: string
  rows: number
  hash: string
  written: boolean
  durationMs: number
  at: Date
}

/** A run the mass-deactivation guard stopped. */
export interface BlockedRun {
  jobId: string
  at: Date
  count: number
  activeRows: number
  sample: string[]
}

interface StateDocument {
  _id: string
  /** The last run stopped by the mass-deactivation guard, until a run writes the CSV again. */
  lastBlocked?: BlockedRun | null
  rewrites: number
  lastWriteAt: Date | null
  lastFullSync: SyncFacts | null
  lastEvents: SyncFacts | null
}

const STATE_ID = 'hr-csv'

/** MongoDB collections of the Odoo integration: pending webhook events and the last sync facts. */
export function createOdooStore (db: Db) {
  const events: Collection<EmployeeEventDocument> = db.collection<EmployeeEventDocument>('odoo_events')
  const state: Collection<StateDocument> = db.collection<StateDocument>('odoo_state')

  async function init (): Promise<void> {
    await ensureIndexes(events, [{ key: { appliedAt: 1, receivedAt: 1 }, name: 'appliedAt_receivedAt' }])
  }

  /** Delivery records (pending or applied) by `_id`, in one read: only repeated deliveries ask. */
  async function findDeliveries (ids: string[]): Promise<Map<string, EmployeeEventDocument>> {
    const found = await events.find({ _id: { $in: ids } }, { projection: { data: 0 } }).toArray()
    return new Map(found.map((doc) => [doc._id, doc]))
  }

  /** Records the job that reads these delivery records (when the one expected at their insert had started). */
  async function assignJob (ids: string[], jobId: string): Promise<void> {
    await events.updateMany({ _id: { $in: ids } }, { $set: { jobId }, $unset: { batchId: '' } })
  }

  /**
   * Says that the deliveries of an intake batch went to `jobId`, not to the job expected when they were stored.
   * Kept like a tombstone (`appliedAt` set, so never pending), as long as the deliveries are remembered.
   */
  async function redirectBatch (batchId: string, jobId: string): Promise<void> {
    const now = new Date()
    await insertManyOnce(events, [{ _id: `batch:${batchId}`, event: 'update', employeeId: 0, data: null, receivedAt: now, appliedAt: now, jobId }])
  }

  /** The job named in the first answer to each delivery record, by record `_id`. */
  async function jobsOf (deliveries: EmployeeEventDocument[]): Promise<Map<string, string>> {
    const batchIds = [...new Set(deliveries.flatMap((doc) => doc.batchId === undefined ? [] : [`batch:${doc.batchId}`]))]
    const redirects = batchIds.length === 0 ? [] : await events.find({ _id: { $in: batchIds } }).toArray()
    const redirected = new Map(redirects.map((doc) => [doc._id.slice('batch:'.length), doc.jobId]))
    const named = new Map<string, string>()
    for (const doc of deliveries) {
      const jobId = (doc.batchId === undefined ? undefined : redirected.get(doc.batchId)) ?? doc.jobId
      if (typeof jobId === 'string') named.set(doc._id, jobId)
    }
    return named
  }

  async function removeIds (ids: string[]): Promise<void> {
    await events.deleteMany({ _id: { $in: ids } })
  }

  /**
   * Stores several events in one insertMany (one write transaction instead of one per event, which is what
   * keeps a burst's acknowledgements fast). Returns the ids that were already stored (repeated deliveries).
   */
  async function addEvents (docs: EmployeeEventDocument[]): Promise<Set<string>> {
    const inserted = await insertManyOnce(events, docs)
    return new Set(docs.filter((_, i) => !inserted[i]).map((doc) => doc._id))
  }

  function pendingEvents (limit: number): Promise<EmployeeEventDocument[]> {
    return events.find({ appliedAt: null }).sort({ receivedAt: 1 }).limit(limit).toArray()
  }

  async function countPending (): Promise<number> {
    return events.countDocuments({ appliedAt: null })
  }

  /**
   * Applied events are deleted, not flagged: the job result keeps the count, and on FerretDB an updateMany
   * costs milliseconds per document. A delete by a long `_id` list is slow there too (it tests every stored
   * event against the whole list: 5,000 ids among 60,000 events took 20 s), so events are deleted by the
   * intake insert that stored them, when every event of that insert was applied; the rest by `_id`.
   */
  async function removeApplied (applied: EmployeeEventDocument[], at = new Date()): Promise<void> {
    const byIntake = new Map<string, EmployeeEventDocument[]>()
    for (const event of applied) {
      if (event.intake === undefined) continue
      const group = byIntake.get(event.intake)
      if (group === undefined) byIntake.set(event.intake, [event])
      else group.push(event)
    }
    const whole = [...byIntake].filter(([, events]) => events.length === events[0]?.intakeSize).map(([intake]) => intake)
    const wholeSet = new Set(whole)
    const rest = applied.filter((event) => event.intake === undefined || !wholeSet.has(event.intake)).map((event) => event._id)
    for (let i = 0; i < whole.length; i += 500) await events.deleteMany({ intake: { $in: whole.slice(i, i + 500) }, appliedAt: null })
    for (let i = 0; i < rest.length; i += 5000) await events.deleteMany({ _id: { $in: rest.slice(i, i + 5000) } })
    // Delivery records come back as tombstones (a delete and an insert cost far less than an update there).
    const tombstones = applied.filter((event) => event.deliveryEvents !== undefined)
      .map((event) => ({ ...event, data: null, appliedAt: at }))
    if (tombstones.length > 0) await insertManyOnce(events, tombstones)
  }

  /** Forgets delivery records applied before `before`: a repeat after that is stored and applied again. */
  async function purgeDeliveries (before: Date): Promise<number> {
    return (await events.deleteMany({ appliedAt: { $lt: before } })).deletedCount
  }

  /** A full sync reads Odoo's current state, which covers every event received before it started. */
  async function removeReceivedBefore (before: Date): Promise<number> {
    const covered = await events.find({ appliedAt: null, receivedAt: { $lt: before } }, { projection: { data: 0 } }).toArray()
    await removeApplied(covered)
    return covered.length
  }

  async function recordSync (facts: SyncFacts): Promise<void> {
    await state.updateOne(
      { _id: STATE_ID },
      {
        $set: { [facts.kind === 'full' ? 'lastFullSync' : 'lastEvents']: facts, lastBlocked: null, ...(facts.written ? { lastWriteAt: facts.at } : {}) },
        $inc: { rewrites: facts.written ? 1 : 0 }
      },
      { upsert: true }
    )
  }

  async function recordBlocked (run: BlockedRun): Promise<void> {
    await state.updateOne({ _id: STATE_ID }, { $set: { lastBlocked: run }, $setOnInsert: { rewrites: 0, lastWriteAt: null, lastFullSync: null, lastEvents: null } }, { upsert: true })
  }

  async function getState (): Promise<StateDocument | null> {
    return state.findOne({ _id: STATE_ID })
  }

  return { events, init, findDeliveries, assignJob, redirectBatch, jobsOf, removeIds, purgeDeliveries, addEvents, pendingEvents, countPending, removeApplied, removeReceivedBefore, recordSync, recordBlocked, getState }
}

export type OdooStore = ReturnType<typeof createOdooStore>
