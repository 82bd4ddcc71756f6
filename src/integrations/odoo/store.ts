import type { Collection, Db } from 'mongodb'
import { ensureIndexes } from '../../lib/indexes.js'
import { isDuplicateKeyError } from '../../lib/mongo-errors.js'

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
  /** null while pending; set by the job (or full sync) that applied it. */
  appliedAt: Date | null
  appliedBy: string | null
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
    try {
      await events.insertOne(event)
      return true
    } catch (err) {
      if (isDuplicateKeyError(err)) return false
      throw err
    }
  }

  function pendingEvents (limit: number): Promise<EmployeeEventDocument[]> {
    return events.find({ appliedAt: null }).sort({ receivedAt: 1 }).limit(limit).toArray()
  }

  async function countPending (): Promise<number> {
    return events.countDocuments({ appliedAt: null })
  }

  async function markApplied (ids: string[], jobId: string): Promise<void> {
    // Batches keep each update command small (FerretDB is slow with very large commands).
    for (let i = 0; i < ids.length; i += 1000) {
      await events.updateMany({ _id: { $in: ids.slice(i, i + 1000) } }, { $set: { appliedAt: new Date(), appliedBy: jobId } })
    }
  }

  /** A full sync reads Odoo's current state, which covers every event received before it started. */
  async function markAppliedBefore (before: Date, jobId: string): Promise<number> {
    const result = await events.updateMany({ appliedAt: null, receivedAt: { $lt: before } }, { $set: { appliedAt: new Date(), appliedBy: jobId } })
    return result.modifiedCount
  }

  async function purgeApplied (before: Date): Promise<number> {
    const result = await events.deleteMany({ appliedAt: { $ne: null, $lt: before } })
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

  return { events, init, addEvent, pendingEvents, countPending, markApplied, markAppliedBefore, purgeApplied, recordSync, getState }
}

export type OdooStore = ReturnType<typeof createOdooStore>
