import type { Collection, Db } from 'mongodb'
import { ensureIndexes } from '../../lib/indexes.js'
import { insertManyOnce, insertOnce } from '../../lib/mongo-errors.js'

export const WEBHOOK_EVENTS = ['create', 'update', 'delete', 'archive'] as const
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
  employeeId: number
  data: EventData | null
  receivedAt: Date
  /** Always null: an event is deleted once applied (kept as a field so pending queries stay explicit). */
  appliedAt: Date | null
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

interface StateDocument {
  _id: string
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

  /** Stores an event; a repeated id (same webhook delivered twice) is kept once. */
  async function addEvent (event: EmployeeEventDocument): Promise<boolean> {
    return insertOnce(events, event)
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

  /** When the newest pending event arrived (null: none pending). */
  async function newestPendingAt (): Promise<Date | null> {
    const [newest] = await events.find({ appliedAt: null }, { projection: { receivedAt: 1 } }).sort({ receivedAt: -1 }).limit(1).toArray()
    return newest?.receivedAt ?? null
  }

  async function countPending (): Promise<number> {
    return events.countDocuments({ appliedAt: null })
  }

  /**
   * Applied events are deleted, not flagged: the job result keeps the count, and on FerretDB/SQLite an
   * updateMany costs milliseconds per document while a deleteMany of a thousand takes about a tenth of a second.
   */
  async function removeApplied (ids: string[]): Promise<void> {
    // Few large batches: FerretDB/SQLite answers each deleteMany by scanning the collection and then deletes the
    // matches in one short statement, so the scans, not the batch size, are what costs (and what slows the
    // webhook inserts running meanwhile). 5,000 stays well under SQLite's limit on statement parameters.
    for (let i = 0; i < ids.length; i += 5000) await events.deleteMany({ _id: { $in: ids.slice(i, i + 5000) } })
  }

  /** A full sync reads Odoo's current state, which covers every event received before it started. */
  async function removeReceivedBefore (before: Date): Promise<number> {
    const result = await events.deleteMany({ receivedAt: { $lt: before } })
    return result.deletedCount
  }

  async function recordSync (facts: SyncFacts): Promise<void> {
    await state.updateOne(
      { _id: STATE_ID },
      {
        $set: { [facts.kind === 'full' ? 'lastFullSync' : 'lastEvents']: facts, ...(facts.written ? { lastWriteAt: facts.at } : {}) },
        $inc: { rewrites: facts.written ? 1 : 0 }
      },
      { upsert: true }
    )
  }

  async function getState (): Promise<StateDocument | null> {
    return state.findOne({ _id: STATE_ID })
  }

  return { events, init, addEvent, addEvents, pendingEvents, newestPendingAt, countPending, removeApplied, removeReceivedBefore, recordSync, getState }
}

export type OdooStore = ReturnType<typeof createOdooStore>
