import { MongoClient } from 'mongodb'
const c = new MongoClient(process.env.MONGODB_URI!); await c.connect()
const db = c.db('perf_t'); const col = db.collection('w')
await col.createIndex({ number: 1 }, { unique: true })
const t = async (label: string, fn: () => Promise<unknown>) => { const s = performance.now(); const r = await fn(); console.log(label, ((performance.now() - s)/1000).toFixed(3)); return r }
const N = 10000
const docs = Array.from({ length: N }, (_, i) => ({ number: i + 1, title: 'Example workorder #' + i, description: 'Example workorder description', status: 'completed', createdAt: new Date(), updatedAt: new Date(), deleted: false, deletedAt: null, revision: 1, isSynced: true, syncedAt: new Date() }))
for (let i = 0; i < N; i += 1000) await t('insertMany', () => col.insertMany(docs.slice(i, i + 1000), { ordered: false }))
const projection = { number: 1, title: 1, description: 1, status: 1, createdAt: 1, updatedAt: 1, deleted: 1, deletedAt: 1 }
await t('find $in 1000 proj', () => col.find({ number: { $in: docs.slice(5000, 6000).map(d => d.number) } }, { projection }).toArray())
await t('find range 1000 proj', () => col.find({ number: { $gte: 5001, $lte: 6000 } }, { projection }).toArray())
await t('find range 1000 sorted', () => col.find({ number: { $gte: 5001, $lte: 6000 } }, { projection }).sort({ number: 1 }).toArray())
await t('find unsynced', () => col.find({ isSynced: { $ne: true }, number: { $gt: 0 } }).sort({ number: 1 }).limit(1000).toArray())
await db.dropDatabase(); await c.close()
