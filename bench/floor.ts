/**
 * What the MongoDB-wire server itself completes, measured with the plain driver in the same run as the code it
 * bounds: the limit under the gateway, so a figure can be given as a share of it.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { MongoClient, type Collection } from 'mongodb'

interface EventDoc { _id: string, [field: string]: unknown }

/** Runs `ops` calls of `op(i)` with `inFlight` at a time; returns calls per second. */
async function rate (ops: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    for (let i = next++; i < ops; i = next++) await op(i)
  }))
  return ops / ((performance.now() - started) / 1000)
}

async function withDb<T> (uri: string, fn: (db: ReturnType<MongoClient['db']>) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { maxPoolSize: 100 })
  const db = client.db(`bench_floor_${randomBytes(4).toString('hex')}`)
  try {
    return await fn(db)
  } finally {
    await db.dropDatabase().catch(() => {})
    await client.close()
  }
}

/**
 * Writes the job engine needs: one single-document update by `_id` at a time (`updateMs`), conditional
 * single-document `findOneAndUpdate`s with 16 in flight on distinct documents, as the runner makes them
 * (`concurrentUpdatesPerSec`), and a batched insert's cost per document (`insertManyPerDocMs`).
 */
export async function updateFloor (uri: string): Promise<{ updateMs: number, insertManyPerDocMs: number, concurrentUpdatesPerSec: number }> {
  return await withDb(uri, async (db) => {
    const docs = db.collection<{ _id: string, n: number, status: string }>('floor')
    await docs.insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: `d${i}`, n: 0, status: 'queued' })))
    let started = performance.now()
    for (let i = 0; i < 300; i++) await docs.updateOne({ _id: `d${i % 200}` }, { $inc: { n: 1 } })
    const updateMs = (performance.now() - started) / 300
    const concurrentUpdatesPerSec = await rate(1600, 16, (i) => docs.findOneAndUpdate({ _id: `d${i % 200}`, status: 'queued' }, { $inc: { n: 1 } }, { returnDocument: 'after' }))
    started = performance.now()
    for (let b = 0; b < 20; b++) await docs.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `b${b}-${i}`, n: 0, status: 'new' })))
    const insertManyPerDocMs = (performance.now() - started) / 1000
    return { updateMs: Number(updateMs.toFixed(2)), insertManyPerDocMs: Number(insertManyPerDocMs.toFixed(3)), concurrentUpdatesPerSec: Math.round(concurrentUpdatesPerSec) }
  })
}

/**
 * Inserts of one small document each (an event's size), `inFlight` at a time (`insertsPerSec`: what a
 * route that stores each request by itself could reach); the same with the documents grouped
 * (`groupedPerSec`: `inFlight` writers each wait for their document to be stored, and one insertMany at a time
 * carries every document waiting, as the gateway's intake stores events, but with nothing else around it: no
 * HTTP, no job); and the same documents `batch` per insertMany, one at a time (`batchedDocsPerSec`).
 */
export async function insertFloor (uri: string, inFlight: number, count: number, batch: number): Promise<{ inFlight: number, insertsPerSec: number, groupedPerSec: number, groupedMeanBatch: number, batch: number, batchedDocsPerSec: number }> {
  return await withDb(uri, async (db) => {
    const docs = db.collection<EventDoc>('floor_events')
    // The gateway's events collection has this index besides `_id` (src/integrations/odoo/store.ts); each
    // insert maintains both there, so here too.
    await docs.createIndex({ appliedAt: 1, receivedAt: 1 })
    const doc = (i: number): EventDoc => ({ _id: `e${i}-${randomBytes(4).toString('hex')}`, event: 'update', employeeId: i, data: { name: `Employee ${i} Changed` }, receivedAt: new Date(), appliedAt: null })
    await docs.insertOne(doc(-1))
    const insertsPerSec = await rate(count, inFlight, (i) => docs.insertOne(doc(i)))
    const grouped = groupedInserts(docs)
    const groupedPerSec = await rate(count, inFlight, (i) => grouped.store(doc(-2 - i)))
    const batches = Math.max(1, Math.round(count / batch))
    const batchesPerSec = await rate(batches, 1, (b) => docs.insertMany(Array.from({ length: batch }, (_, i) => doc(count + b * batch + i))))
    return { inFlight, insertsPerSec: Math.round(insertsPerSec), groupedPerSec: Math.round(groupedPerSec), groupedMeanBatch: Number((count / grouped.writes()).toFixed(1)), batch, batchedDocsPerSec: Math.round(batchesPerSec * batch) }
  })
}

/** Group commit with the plain driver: `store(doc)` resolves once an insertMany carrying it has completed. */
function groupedInserts (docs: Collection<EventDoc>): { store: (doc: EventDoc) => Promise<void>, writes: () => number } {
  let waiting: Array<{ doc: EventDoc, resolve: () => void, reject: (err: unknown) => void }> = []
  let flushing = false
  let writes = 0
  async function flush (): Promise<void> {
    flushing = true
    while (waiting.length > 0) {
      const batch = waiting
      waiting = []
      writes++
      try {
        await docs.insertMany(batch.map((w) => w.doc), { ordered: false })
        for (const w of batch) w.resolve()
      } catch (err) {
        for (const w of batch) w.reject(err)
      }
    }
    flushing = false
  }
  return {
    store: (doc) => new Promise((resolve, reject) => {
      waiting.push({ doc, resolve, reject })
      if (!flushing) {
        flushing = true
        setImmediate(() => { void flush() })
      }
    }),
    writes: () => writes
  }
}
