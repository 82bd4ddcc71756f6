import t from 'tap'
import { MongoClient } from 'mongodb'
import { createInsertBatcher } from '../../src/lib/insert-batcher.js'
import { insertManyOnce } from '../../src/lib/mongo-errors.js'
import { dropDatabaseAfter, freshDbName, mongoUri } from '../helpers/app.js'

interface Doc { _id: string, n: number }

async function collection (t: { teardown: (fn: () => unknown) => void }) {
  const client = new MongoClient(mongoUri())
  await client.connect()
  t.teardown(() => client.close())
  const dbName = freshDbName()
  dropDatabaseAfter(t, dbName)
  return client.db(dbName).collection<Doc>('docs')
}

t.test('insertManyOnce tells, for each document, whether this call inserted it', async (t) => {
  const docs = await collection(t)
  await docs.insertOne({ _id: 'b', n: 0 })
  const inserted = await insertManyOnce(docs, [{ _id: 'a', n: 1 }, { _id: 'b', n: 1 }, { _id: 'c', n: 1 }, { _id: 'a', n: 2 }])
  t.same(inserted, [true, false, true, false])
  t.same((await docs.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.n]), [['a', 1], ['b', 0], ['c', 1]], 'the existing document is left as it was')
  t.same(await insertManyOnce(docs, []), [])
})

t.test('concurrent insertOnce calls share one batch and each _id has exactly one winner', async (t) => {
  const docs = await collection(t)
  const batcher = createInsertBatcher(docs)
  // 300 calls in one turn of the event loop, every _id asked for three times.
  const calls = Array.from({ length: 300 }, (_, i) => ({ _id: `doc-${i % 100}`, n: i }))
  const results = await Promise.all(calls.map((doc) => batcher.insertOnce(doc)))
  const winners = new Map<string, number>()
  results.forEach((won, i) => { if (won) winners.set(calls[i]!._id, (winners.get(calls[i]!._id) ?? 0) + 1) })
  t.equal(winners.size, 100, 'every _id was inserted')
  t.ok([...winners.values()].every((n) => n === 1), 'by exactly one caller')
  t.equal(await docs.countDocuments({}), 100)
  const notTheWinners = (await docs.find({}).toArray())
    .filter((doc) => doc.n !== calls[calls.findIndex((c, i) => c._id === doc._id && results[i] === true)]?.n)
  t.same(notTheWinners, [], 'each stored document is its winner\'s')
  t.equal(await batcher.insertOnce({ _id: 'doc-1', n: -1 }), false, 'a later call sees the existing document')
})

t.test('an error other than a duplicate key reaches every caller of the batch', async (t) => {
  const docs = await collection(t)
  const batcher = createInsertBatcher(docs)
  // A top-level field name starting with "$" is refused, and not as a duplicate.
  const bad = { _id: 'bad', n: 1, $bad: true } as unknown as Doc
  const results = await Promise.allSettled([batcher.insertOnce({ _id: 'good', n: 1 }), batcher.insertOnce(bad)])
  t.ok(results.every((r) => r.status === 'rejected'), 'both callers learn the batch failed')
})
