import type { AnyBulkWriteOperation, Collection, Db, Document, Filter, MongoBulkWriteError, ObjectId } from 'mongodb'
import type { Logger } from '../../lib/logger.js'
import { isDuplicateKeyError } from '../../lib/mongo-errors.js'
import { withMongoRetry, type RetryPolicy } from './retry.js'
import { sameFields, type TracosFields } from './translate.js'

/** FerretDB on SQLite hangs on an `update` command with ~100 statements or more: stay below. */
const UPDATE_CHUNK = 90
const INSERT_CHUNK = 1000

export interface WorkOrderDocument extends Document {
  _id: ObjectId
  number: number
  title?: string
  description?: string
  status?: string
  createdAt?: Date
  updatedAt?: Date
  deleted?: boolean
  deletedAt?: Date | null
  revision?: number
  isSynced?: boolean
  syncedAt?: Date
}

export interface UpsertCounts { inserted: number, updated: number, unchanged: number }

/**
 * TracOS I/O: the `workorders` collection. Writes run one after another (never concurrently), because
 * FerretDB on SQLite answers concurrent writers with SQLITE_BUSY.
 */
export function createWorkOrders (db: Db, options: { collection: string, retry: RetryPolicy, log: Logger }) {
  const collection: Collection<WorkOrderDocument> = db.collection<WorkOrderDocument>(options.collection)
  const retry = <T>(operation: string, fn: () => Promise<T>): Promise<T> => withMongoRetry(operation, options.retry, fn)

  /** Unique index on the business key. Existing duplicates (e.g. the generator run twice) are reported, not fatal. */
  async function ensureIndexes (): Promise<void> {
    let existing: string[] = []
    try {
      existing = (await collection.listIndexes().toArray()).map((i) => String(i.name))
    } catch (err) {
      if ((err as { code?: number }).code !== 26) throw err
    }
    if (existing.includes('number_unique')) return
    try {
      await collection.createIndex({ number: 1 }, { name: 'number_unique', unique: true })
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err
      const dupes = await collection.aggregate([{ $group: { _id: '$number', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }, { $limit: 20 }]).toArray()
      options.log.error({ duplicateNumbers: dupes.map((d) => d._id) }, 'workorders has duplicate numbers: unique index on number not created; remove the duplicates')
    }
  }

  /**
   * Inserts new orders and updates changed ones; identical ones are left alone so their isSynced stays.
   * One query reads the batch's existing orders, new ones go in with insertMany (cheap on every server),
   * and only changed ones are updated, in bulkWrite chunks.
   */
  async function upsertBatch (batch: TracosFields[]): Promise<UpsertCounts> {
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 }
    if (batch.length === 0) return counts
    const numbers = batch.map((f) => f.number)
    const existing = new Map<number, WorkOrderDocument>()
    const projection = { number: 1, title: 1, description: 1, status: 1, createdAt: 1, updatedAt: 1, deleted: 1, deletedAt: 1 }
    for (const doc of await retry('find existing work orders', () => collection.find({ number: { $in: numbers } }, { projection }).toArray())) {
      existing.set(doc.number, doc)
    }
    const inserts: TracosFields[] = []
    const updates: TracosFields[] = []
    for (const fields of batch) {
      const stored = existing.get(fields.number)
      if (stored === undefined) inserts.push(fields)
      else if (sameFields(stored, fields)) counts.unchanged++
      else updates.push(fields)
    }

    for (let i = 0; i < inserts.length; i += INSERT_CHUNK) {
      const chunk = inserts.slice(i, i + INSERT_CHUNK)
      const raced = await insertChunk(chunk)
      counts.inserted += chunk.length - raced.length
      // Inserted by someone else since the read: update those instead.
      updates.push(...raced)
    }
    for (let i = 0; i < updates.length; i += UPDATE_CHUNK) {
      const chunk = updates.slice(i, i + UPDATE_CHUNK)
      const ops: Array<AnyBulkWriteOperation<WorkOrderDocument>> = chunk.map((fields) => ({
        updateOne: {
          filter: { number: fields.number },
          update: { $set: { ...setFields(fields), isSynced: false }, $inc: { revision: 1 }, $unset: { syncedAt: '' } },
          upsert: true
        }
      }))
      await retry('update work orders', () => collection.bulkWrite(ops, { ordered: false }))
      counts.updated += chunk.length
    }
    return counts
  }

  /** Inserts a chunk; returns the orders that already existed (duplicate key), which were not inserted. */
  async function insertChunk (chunk: TracosFields[]): Promise<TracosFields[]> {
    const docs = chunk.map((fields) => ({ ...setFields(fields), revision: 1, isSynced: false }))
    try {
      // A retried insertMany after a lost connection may meet its own first inserts: those are duplicates too.
      await retry('insert work orders', () => collection.insertMany(docs as unknown as WorkOrderDocument[], { ordered: false }))
      return []
    } catch (err) {
      const writeErrors = (err as MongoBulkWriteError).writeErrors
      if (!Array.isArray(writeErrors) || writeErrors.length === 0 || !writeErrors.every((e) => e.code === 11000)) throw err
      const failed = new Set(writeErrors.map((e) => e.index))
      return chunk.filter((_, index) => failed.has(index))
    }
  }

  /** Orders not marked synced (false or no isSynced field at all), by number, after `afterNumber`. */
  function findUnsynced (afterNumber: number, limit: number): Promise<WorkOrderDocument[]> {
    return retry('find unsynced work orders', () => collection
      .find({ isSynced: { $ne: true }, number: { $gt: afterNumber } })
      .sort({ number: 1 })
      .limit(limit)
      .toArray())
  }

  /**
   * Marks exported orders synced with one ranged updateMany. The range [min, max] of one findUnsynced page
   * holds exactly the exported orders plus those that failed to export (excluded by number); the updatedAt
   * guard leaves alone an order whose content a TracOS writer changed after it was read.
   */
  async function markSynced (exported: WorkOrderDocument[], notExported: number[], syncedAt: Date): Promise<number> {
    if (exported.length === 0) return 0
    let min = Infinity; let max = -Infinity; let newest = -Infinity; let undated = false
    for (const doc of exported) {
      min = Math.min(min, doc.number); max = Math.max(max, doc.number)
      if (doc.updatedAt instanceof Date) newest = Math.max(newest, doc.updatedAt.getTime())
      else undated = true
    }
    const dated: Filter<WorkOrderDocument> = Number.isFinite(newest) ? { updatedAt: { $lte: new Date(newest) } } : { updatedAt: { $exists: false } }
    const filter: Filter<WorkOrderDocument> = {
      number: notExported.length > 0 ? { $gte: min, $lte: max, $nin: notExported } : { $gte: min, $lte: max },
      isSynced: { $ne: true },
      ...(undated && Number.isFinite(newest) ? { $or: [dated, { updatedAt: { $exists: false } }] } : dated)
    }
    const result = await retry('mark work orders synced', () => collection.updateMany(filter, { $set: { isSynced: true, syncedAt } }))
    return result.modifiedCount
  }

  return { collection, ensureIndexes, upsertBatch, findUnsynced, markSynced }
}

export type WorkOrders = ReturnType<typeof createWorkOrders>

function setFields (fields: TracosFields): Record<string, unknown> {
  const { deletedAt, ...rest } = fields
  return { ...rest, deletedAt }
}
