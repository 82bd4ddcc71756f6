/**
 * npm run demo: a MongoDB-wire server (provisioned like the tests when MONGODB_URI is unset), the gateway on
 * HOST:PORT (default 127.0.0.1:3000) with every integration, and example commands. Ctrl-C stops everything.
 */
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { provisionMongo } from './mongo-server.js'

const mongo = await provisionMongo()
const config = loadConfig({ MONGODB_DB: 'gateway_demo', ...process.env, MONGODB_URI: mongo.uri })
const app = await buildApp({ config })
await app.listen({ host: config.HOST, port: config.PORT })
const base = `http://${config.HOST}:${config.PORT}`

process.stdout.write(`
Integration gateway demo running at ${base}
MongoDB: ${mongo.description} (${mongo.uri}, database ${config.MONGODB_DB})

Try:
  curl -s ${base}/schedules
  curl -s ${base}/jobs
  curl -s -X POST ${base}/system/purge-jobs -H 'Idempotency-Key: demo-1'
  curl -s ${base}/jobs?kind=system.purge-jobs\\&limit=5

Ctrl-C to stop.
`)

let stopping = false
async function stop (): Promise<void> {
  if (stopping) return
  stopping = true
  await app.close()
  await mongo.stop()
  process.exit(0)
}
process.on('SIGINT', () => { void stop() })
process.on('SIGTERM', () => { void stop() })
