/**
 * npm run seed:tracos -- --count N [--inbound DIR] [--status S] [--files-only]: sample data like the original
 * generator: N work orders (numbers 1…N, no isSynced field) in MongoDB and N client files 1.json…N.json.
 * MongoDB from MONGODB_URI / MONGODB_DB (or TRACOS_MONGODB_DB), inbound folder from TRACOS_INBOUND_DIR.
 */
import { parseArgs } from 'node:util'
import { MongoClient } from 'mongodb'
import { seedTracos } from '../src/integrations/tracos/seed.js'

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10' },
    inbound: { type: 'string' },
    status: { type: 'string' },
    'files-only': { type: 'boolean', default: false }
  }
})
const count = Number(values.count)
if (!Number.isSafeInteger(count) || count < 1) {
  process.stderr.write('--count must be a positive integer\n')
  process.exit(2)
}
const statuses = ['pending', 'in_progress', 'completed', 'on_hold', 'cancelled', 'deleted']
if (values.status !== undefined && !statuses.includes(values.status)) {
  process.stderr.write(`--status must be one of ${statuses.join(', ')}\n`)
  process.exit(2)
}
const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017'
const dbName = process.env.TRACOS_MONGODB_DB || process.env.MONGODB_DB || 'gateway'
const inboundDir = values.inbound ?? process.env.TRACOS_INBOUND_DIR ?? 'data/inbound'
const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 })
try {
  const seeded = await seedTracos({
    db: client.db(dbName),
    collection: process.env.TRACOS_COLLECTION || 'workorders',
    inboundDir,
    count,
    filesOnly: values['files-only'],
    ...(values.status === undefined ? {} : { clientStatus: values.status as 'pending' })
  })
  process.stdout.write(`${JSON.stringify({ ...seeded, database: dbName, inboundDir })}\n`)
} catch (err) {
  process.stderr.write(`seed failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
} finally {
  await client.close()
}
