import type { AnyBulkWriteOperation, Collection, Db, Document, Filter, MongoBulkWriteError, ObjectId } from 'mongodb'
import { isDuplicateKeyError, type Logger } from '../../integration.js'
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

export interface Classified {
  inserts: TracosFields[]
  updates: Array<{ fields: TracosFields, _id: ObjectId | null }>
  unchanged: number
  /**
   * With `unsyncedLimit`: every stored order not marked synced (batch or not), by number — the outbound
   * list found by the same scan. Null when not asked for, or when there were more than the limit.
   */
  unsynced: WorkOrderDocument[] | null
}

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
   * Sorts a batch into new, changed and unchanged orders with ONE query (the batch's existing orders,
   * compared in memory): no write is spent on an order whose content TracOS already holds.
   * `unsyncedLimit`: the same query also returns the unsynced orders (up to that many), so that a run doing
   * both directions needs no second query for its export list. FerretDB answers any filter but `{_id}` by
   * reading the whole collection, so one query with `$or` costs what each half would cost alone.
   */
  async function classify (batch: TracosFields[], options: { unsyncedLimit?: number } = {}): Promise<Classified> {
    const result: Classified = { inserts: [], updates: [], unchanged: 0, unsynced: null }
    if (batch.length === 0) return result
    const numbers = new Set<number>()
    let min = Infinity; let max = -Infinity
    for (const { number } of batch) { min = Math.min(min, number); max = Math.max(max, number); numbers.add(number) }
    // Client files usually carry runs of consecutive numbers: a range is cheaper than a long $in (FerretDB
    // evaluates $in per document); sparse numbers use $in so that the range does not drag in others.
    const inBatch: Filter<WorkOrderDocument> = max - min < batch.length * 2 ? { number: { $gte: min, $lte: max } } : { number: { $in: [...numbers] } }
    const limit = options.unsyncedLimit
    const { existing, unsynced } = await retry('find existing work orders', async () => {
      const existing = new Map<number, WorkOrderDocument>()
      let unsynced: WorkOrderDocument[] | null = limit === undefined ? null : []
      if (limit === undefined) {
        const projection = { number: 1, title: 1, description: 1, status: 1, createdAt: 1, updatedAt: 1, deleted: 1, deletedAt: 1 }
        for (const doc of await collection.find(inBatch, { projection }).toArray()) existing.set(doc.number, doc)
        return { existing, unsynced }
      }
      // Whole documents: the unsynced ones are exported as they are.
      for await (const doc of collection.find({ $or: [inBatch, { isSynced: { $ne: true } }] })) {
        if (numbers.has(doc.number)) existing.set(doc.number, doc)
        if (doc.isSynced !== true && unsynced !== null) {
          // Too many to hold: the caller pages through them with findUnsynced instead.
          if (unsynced.length >= limit) unsynced = null
          else unsynced.push(doc)
        }
      }
      unsynced?.sort((a, b) => a.number - b.number)
      return { existing, unsynced }
    })
    result.unsynced = unsynced
    for (const fields of batch) {
      const stored = existing.get(fields.number)
      if (stored === undefined) result.inserts.push(fields)
      else if (sameFields(stored, fields)) result.unchanged++
      else result.updates.push({ fields, _id: stored._id })
    }
    return result
  }

  /**
   * Writes new and changed orders: new ones with insertMany (cheap on every server), changed ones with
   * bulkWrite chunks by _id. `syncedAt` set = their outbound file is already written (stored synced);
   * null = stored unsynced for the outbound pass. Returns what was written.
   */
  async function write (classified: Pick<Classified, 'inserts' | 'updates'>, syncedAt: Date | null): Promise<{ inserted: number, updated: number }> {
    const sync = syncedAt === null ? { isSynced: false } : { isSynced: true, syncedAt }
    const updates = [...classified.updates]
    let inserted = 0
    for (let i = 0; i < classified.inserts.length; i += INSERT_CHUNK) {
      const chunk = classified.inserts.slice(i, i + INSERT_CHUNK)
      const raced = await insertChunk(chunk, sync)
      inserted += chunk.length - raced.length
      // Inserted by someone else since the read: update those instead.
      updates.push(...raced.map((fields) => ({ fields, _id: null })))
    }
    for (let i = 0; i < updates.length; i += UPDATE_CHUNK) {
      const chunk = updates.slice(i, i + UPDATE_CHUNK)
      const ops: Array<AnyBulkWriteOperation<WorkOrderDocument>> = chunk.map(({ fields, _id }) => ({
        updateOne: {
          // By _id alone when known: FerretDB finds a document by _id much faster than by any other filter.
          filter: _id === null ? { number: fields.number } : { _id },
          update: {
            $set: { ...fields, ...sync },
            $inc: { revision: 1 },
            ...(syncedAt === null ? { $unset: { syncedAt: '' } } : {})
          },
          upsert: _id === null
        }
      }))
      await retry('update work orders', () => collection.bulkWrite(ops, { ordered: false }))
    }
    return { inserted, updated: updates.length }
  }

  /** Inserts a chunk; returns the orders that already existed (duplicate key), which were not inserted. */
  async function insertChunk (chunk: TracosFields[], sync: Record<string, unknown>): Promise<TracosFields[]> {
    const docs = chunk.map((fields) => ({ ...fields, revision: 1, ...sync }))
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

  return { collection, ensureIndexes, classify, write, findUnsynced, markSynced }
}

export type WorkOrders = ReturnType<typeof createWorkOrders>
