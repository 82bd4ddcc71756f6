import DataLoader from 'dataloader'
import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb'
import { insertManyOnce } from './mongo-errors.js'

/**
 * Unique inserts into one collection, made by many callers at about the same time, sent as one unordered
 * `insertMany` per event-loop turn. Each caller still learns whether its own document went in (false: its
 * `_id` existed already), so contested steps keep their one-winner guarantee while a busy runner pays one
 * round trip, and on FerretDB one write transaction, for a whole batch instead of one per document.
 */
export function createInsertBatcher<T extends Document> (collection: Collection<T>, maxBatchSize = 500) {
  const loader = new DataLoader<OptionalUnlessRequiredId<T>, boolean>(
    async (docs) => insertManyOnce(collection, [...docs]),
    { cache: false, maxBatchSize, batchScheduleFn: (flush) => { setImmediate(flush) } }
  )
  return {
    /** True when this call inserted `doc`, false when a document with its `_id` exists. */
    insertOnce: (doc: OptionalUnlessRequiredId<T>): Promise<boolean> => loader.load(doc)
  }
}
