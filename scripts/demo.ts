/**
 * npm run demo: a MongoDB-wire server (provisioned like the tests when MONGODB_URI is unset), the sandbox
 * upstream simulators, the gateway on HOST:PORT (default 127.0.0.1:3000) with every integration pointed at
 * them, and example commands. Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { integrations } from '../src/integrations/index.js'
import { provisionMongo } from './mongo-server.js'
import { startSandboxes } from './sandboxes.js'

const mongo = await provisionMongo()
const dataDir = join(process.cwd(), 'data', 'demo')
mkdirSync(dataDir, { recursive: true })
const mongoDb = process.env.MONGODB_DB || 'gateway_demo'
const started = await startSandboxes(integrations, { dataDir, mongoUri: mongo.uri, mongoDb })

const apiKey = process.env.GATEWAY_API_KEYS || `demo-${randomBytes(12).toString('hex')}`
const readKey = process.env.GATEWAY_READ_KEYS || `demo-read-${randomBytes(12).toString('hex')}`
const env: Record<string, string | undefined> = {
  ...Object.assign({}, ...started.map((s) => s.env)),
  ...process.env,
  MONGODB_URI: mongo.uri,
  MONGODB_DB: mongoDb,
  GATEWAY_API_KEYS: apiKey,
  GATEWAY_READ_KEYS: readKey
}
const config = loadConfig(env, buildConfigSchema(integrations))
const app = await buildApp({ config, integrations })
await app.listen({ host: config.HOST, port: config.PORT })
const base = `http://${config.HOST}:${config.PORT}`
const examples = [
  'curl -s -H "X-API-Key: KEY" BASE/schedules',
  'curl -s -H "X-API-Key: KEY" BASE/jobs',
  'curl -s -X POST -H "X-API-Key: KEY" BASE/system/purge-jobs -H \'Idempotency-Key: demo-1\'',
  ...started.flatMap((s) => s.examples ?? [])
].map((line) => `  ${line.replaceAll('BASE', base).replaceAll('KEY', apiKey)}`)

process.stdout.write(`
Integration gateway demo running at ${base}
MongoDB: ${mongo.description} (${mongo.uri}, database ${config.MONGODB_DB})
Sandbox upstreams:
${started.map((s) => `  ${s.name}: ${s.description}`).join('\n') || '  none'}
Dashboard: ${base}/dashboard (paste one of the keys below)
API key (trigger and read): ${apiKey}
Read-only key:              ${readKey}

Try:
${examples.join('\n')}

Ctrl-C to stop.
`)

let stopping = false
async function stop (): Promise<void> {
  if (stopping) return
  stopping = true
  await app.close()
  for (const sandbox of started.reverse()) await sandbox.close().catch(() => {})
  await mongo.stop()
  process.exit(0)
}
process.on('SIGINT', () => { void stop() })
process.on('SIGTERM', () => { void stop() })
