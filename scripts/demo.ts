/**
 * npm run demo: a MongoDB-wire server (provisioned like the tests when MONGODB_URI is unset), every
 * integration's sandbox upstreams, and the gateway on HOST:PORT (default 127.0.0.1:3000) pointed at them.
 * Each run starts from empty data (database and folders alike); the API keys stay the same across runs
 * (data/.demo-keys.json). Ctrl-C stops the gateway first (its jobs are handed back), then everything else.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { integrations } from '../src/integrations/index.js'
import { provisionMongo } from './mongo-server.js'
import { closeSandboxes, startSandboxes } from './sandboxes.js'

const say = (line: string): void => { process.stdout.write(`[demo] ${line}\n`) }

/** The demo's keys: made once, kept in an ignored file, so an open dashboard's saved key keeps working. */
function demoKeys (file: string): { trigger: string, read: string } {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { trigger: string, read: string }
  const keys = { trigger: `demo-${randomBytes(12).toString('hex')}`, read: `demo-read-${randomBytes(12).toString('hex')}` }
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 })
  return keys
}

const dataRoot = join(process.cwd(), 'data')
const dataDir = join(dataRoot, 'demo')
// Fresh files for a fresh database: stale CSV rows or archived files from an earlier run would not match it.
rmSync(dataDir, { recursive: true, force: true })
mkdirSync(dataDir, { recursive: true })
const keys = demoKeys(join(dataRoot, '.demo-keys.json'))

say('starting the MongoDB-wire server')
const mongo = await provisionMongo()
const mongoDb = process.env.MONGODB_DB || 'gateway_demo'
if (process.env.MONGODB_URI) {
  // A server the user gave us keeps its data: start the demo database empty, like the folders.
  const client = new MongoClient(mongo.uri)
  try { await client.db(mongoDb).dropDatabase() } finally { await client.close() }
}
say('starting the sandbox upstreams')
const started = await startSandboxes(integrations, { dataDir, mongoUri: mongo.uri, mongoDb })

const env: Record<string, string | undefined> = {
  // The demo's own pace: a short drain so Ctrl-C returns quickly, the API docs open in a browser.
  SHUTDOWN_DRAIN_MS: '5000',
  DOCS_PUBLIC: 'true',
  ...Object.assign({}, ...started.map((s) => s.env)),
  ...process.env,
  MONGODB_URI: mongo.uri,
  MONGODB_DB: mongoDb,
  GATEWAY_API_KEYS: process.env.GATEWAY_API_KEYS || keys.trigger,
  GATEWAY_READ_KEYS: process.env.GATEWAY_READ_KEYS || keys.read
}
const config = loadConfig(env, buildConfigSchema(integrations))
say('starting the gateway')
const app = await buildApp({ config, integrations })
await app.listen({ host: config.HOST, port: config.PORT })
const base = `http://${config.HOST}:${config.PORT}`
const apiKey = String(env.GATEWAY_API_KEYS).split(',')[0] as string
const examples = [
  'curl -s -H "X-API-Key: $KEY" $BASE/integrations',
  'curl -s -H "X-API-Key: $KEY" "$BASE/jobs?limit=5"',
  ...started.flatMap((s) => s.examples ?? [])
].map((line) => `  ${line}`)

process.stdout.write(`
Integration gateway demo at ${base}
  Dashboard: ${base}/dashboard   API docs: ${base}/docs
  MongoDB:   ${mongo.description}, database ${mongoDb} (empty at each start)
  Sandboxes:
${started.map((s) => `    ${s.name}: ${s.description}`).join('\n')}
  Keys (kept in data/.demo-keys.json): trigger ${apiKey}, read-only ${String(env.GATEWAY_READ_KEYS)}

In another terminal:
  export KEY=${apiKey} BASE=${base}
${examples.join('\n')}

Ctrl-C stops the demo.
`)

let stopping = false
async function stop (signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    say('stopping at once')
    process.exit(130)
  }
  stopping = true
  say('stopping: the gateway hands its running jobs back, then the sandboxes and the database stop (Ctrl-C again to force)')
  await app.close()
  await closeSandboxes(started)
  await mongo.stop()
  say('stopped')
  // The exit status of an interrupted program, as a shell expects it.
  process.exit(signal === 'SIGINT' ? 130 : 143)
}
process.on('SIGINT', () => { void stop('SIGINT') })
process.on('SIGTERM', () => { void stop('SIGTERM') })
