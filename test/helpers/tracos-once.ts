/**
 * One TracOS sync run (both directions) in its own process, configured from the environment like the
 * gateway; prints the result as JSON. Used where a test needs another OS user (permission-denied files).
 */
import { MongoClient } from 'mongodb'
import pino from 'pino'
import { loadConfig } from '../../src/config.js'
import { createClientFiles, type InboundAfter } from '../../src/integrations/tracos/client-files.js'
import { createTracosSync } from '../../src/integrations/tracos/sync.js'
import { createWorkOrders } from '../../src/integrations/tracos/workorders.js'
import { testConfigSchema } from './app.js'

const config = loadConfig(process.env, testConfigSchema)
const log = pino({ level: 'silent' })
const client = new MongoClient(config.MONGODB_URI)
try {
  const workOrders = createWorkOrders(client.db(config.MONGODB_DB), { collection: 'workorders', log, retry: { attempts: 3, delayMs: 50 } })
  const files = createClientFiles({
    inboundDir: String(config.TRACOS_INBOUND_DIR),
    outboundDir: String(config.TRACOS_OUTBOUND_DIR),
    archiveDir: String(config.TRACOS_ARCHIVE_DIR),
    rejectedDir: String(config.TRACOS_REJECTED_DIR),
    after: config.TRACOS_INBOUND_AFTER as InboundAfter,
    concurrency: 4
  })
  const sync = createTracosSync(workOrders, files, { inboundDir: String(config.TRACOS_INBOUND_DIR), outboundDir: String(config.TRACOS_OUTBOUND_DIR), batchSize: 100 })
  process.stdout.write(JSON.stringify(await sync.run('both', { log })))
} finally {
  await client.close()
}
