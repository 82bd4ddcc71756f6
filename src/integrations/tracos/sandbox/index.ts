import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import type { Sandbox, SandboxOptions } from '../../../integration.js'
import { seedTracos } from '../seed.js'

/**
 * The TracOS "upstream" for the demo: there is no server to simulate, TracOS is the `workorders` collection
 * and the client ERP is a set of folders. This seeds both like the original generator (10 work orders with
 * no isSynced field, 10 client files) plus two ugly files that end up rejected with their reports.
 */
export async function tracosSandbox ({ dataDir, mongoUri, mongoDb }: SandboxOptions): Promise<Sandbox> {
  const root = join(dataDir, 'tracos')
  const dirs = { inbound: join(root, 'inbound'), outbound: join(root, 'outbound'), archive: join(root, 'archive'), rejected: join(root, 'rejected') }
  await mkdir(dirs.inbound, { recursive: true })
  const client = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 10_000 })
  try {
    const db = client.db(mongoDb)
    // Documents only into an empty collection: a second demo run must not duplicate numbers.
    const empty = (await db.collection('workorders').estimatedDocumentCount()) === 0
    await seedTracos({ db, inboundDir: dirs.inbound, count: 10, filesOnly: !empty })
  } finally {
    await client.close()
  }
  await writeFile(join(dirs.inbound, 'corrupt.json'), '{"orderNo": 11, "summary": "cut off')
  await writeFile(join(dirs.inbound, 'bad-date.json'), JSON.stringify({ orderNo: 12, summary: 'Bad date', creationDate: '2026-02-30T10:00:00Z', isDone: 'yes' }))
  return {
    description: `client folders under ${root}; TracOS is the collection ${mongoDb}.workorders`,
    env: {
      TRACOS_INBOUND_DIR: dirs.inbound,
      TRACOS_OUTBOUND_DIR: dirs.outbound,
      TRACOS_ARCHIVE_DIR: dirs.archive,
      TRACOS_REJECTED_DIR: dirs.rejected,
      // A human pace: runs on demand in the demo, and every five minutes otherwise.
      TRACOS_SYNC_INTERVAL: '5m'
    },
    examples: [
      'curl -s -X POST -H "X-API-Key: $KEY" $BASE/tracos/run',
      'curl -s -X POST -H "X-API-Key: $KEY" -H \'content-type: application/json\' -d \'{"direction":"outbound"}\' $BASE/tracos/run',
      `ls ${dirs.outbound} ${dirs.archive} ${dirs.rejected}`,
      `MONGODB_URI=${mongoUri} MONGODB_DB=${mongoDb} TRACOS_INBOUND_DIR=${dirs.inbound} npm run seed:tracos -- --count 5   # more orders and client files`
    ],
    close: async () => {}
  }
}
