import { MongoClient } from 'mongodb'
import { performance } from 'node:perf_hooks'
const c = new MongoClient(process.env.MONGODB_URI!); await c.connect()
const db = c.db('perf'); await db.dropDatabase()
const col = db.collection<any>('jobs')
const N = 5000
const docs = Array.from({ length: N }, (_, i) => ({ _id: `id${i}`, status: i % 5 === 0 ? 'queued' : 'succeeded', kind: 'k', runAfter: new Date(Date.now() - 100000 + i), payload: { a: 1, b: 'x'.repeat(200) } }))
for (let i = 0; i < N; i += 1000) await col.insertMany(docs.slice(i, i + 1000))
async function time (name: string, fn: () => Promise<unknown>, n = 20) {
  const t0 = performance.now(); for (let i = 0; i < n; i++) await fn(); console.log(name, ((performance.now() - t0) / n).toFixed(2), 'ms')
}
const now = new Date()
await time('findOne _id last', () => col.findOne({ _id: 'id4995' }))
await time('findOne _id first', () => col.findOne({ _id: 'id5' }))
await time('findOne _id+status last', () => col.findOne({ _id: 'id4995', status: 'queued' }))
await time('updateOne _id last', () => col.updateOne({ _id: 'id4995' }, { $set: { y: 1 } }))
await time('updateOne _id+status last', () => col.updateOne({ _id: 'id4995', status: 'queued' }, { $set: { y: 1 } }))
await time('fOAU _id last', () => col.findOneAndUpdate({ _id: 'id4995' }, { $set: { y: 1 } }))
await time('fOAU _id first', () => col.findOneAndUpdate({ _id: 'id5' }, { $set: { y: 1 } }))
await time('deleteOne _id', () => col.deleteOne({ _id: 'nonexist' }))
await time('insertOne', () => col.insertOne({ status: 'queued' }))
await db.dropDatabase(); await c.close()
