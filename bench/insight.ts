/**
 * bench:insight — 10,000 shipped serials through insight.sync into an empty Oomnitza simulator that takes 20 ms
 * per call: once as the gateway does it (batched IN lookups, OOMNITZA_CONCURRENCY calls in flight), once one
 * request at a time with a lookup per serial (the official connector's approach). The sequential run is
 * measured on BENCH_SEQUENTIAL_SERIALS serials (default 1,000; set 10000 to measure it all) and scaled linearly
 * to the full count when smaller; the output says which. Prints one JSON line.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { MongoClient } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { insightIntegration } from '../src/integrations/insight/index.js'
import { startInsightSimulator } from '../src/integrations/insight/sandbox/insight-simulator.js'
import { startOomnitzaSimulator } from '../src/integrations/insight/sandbox/oomnitza-simulator.js'
import { generateOrders } from '../src/integrations/insight/sandbox/orders.js'
import { describeServer } from './server.js'

const SERIALS = Number(process.env.BENCH_SERIALS ?? 10_000)
const SEQUENTIAL_SERIALS = Math.min(SERIALS, Number(process.env.BENCH_SEQUENTIAL_SERIALS ?? 1_000))
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20)
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? '8'
const uri = process.env.MONGODB_URI as string
const to = '2026-04-30'

async function measure (serials: number, env: Record<string, string>): Promise<{ seconds: number, created: number }> {
  const insight = await startInsightSimulator()
  insight.state.orders = generateOrders({ serials, to, days: 10 })
  const oomnitza = await startOomnitzaSimulator({ latencyMs: LATENCY_MS })
  const dbName = `bench_insight_${randomBytes(4).toString('hex')}`
  const config = loadConfig({
    MONGODB_URI: uri,
    MONGODB_DB: dbName,
    LOG_LEVEL: 'warn',
    GATEWAY_API_KEYS: randomBytes(16).toString('hex'),
    SCHEDULER_ENABLED: 'false',
    JOBS_POLL_INTERVAL_MS: '20',
    INSIGHT_RUN_TIMEOUT: '30m',
    ...insight.env(),
    ...oomnitza.env(),
    ...env
  }, buildConfigSchema([insightIntegration]))
  const app = await buildApp({ config, integrations: [insightIntegration] })
  await app.ready()
  try {
    const started = performance.now()
    const { job } = await app.jobs.enqueue('insight.sync', { from: '2026-04-01', to, dateField: 'creation' })
    for (;;) {
      const current = await app.jobs.get(job._id)
      if (current?.status === 'succeeded') {
        const seconds = (performance.now() - started) / 1000
        const result = current.result as { serials: number, assets: { created: number } }
        if (result.serials !== serials || result.assets.created !== serials || oomnitza.assets.size !== serials) {
          throw new Error(`expected ${serials} created, got ${JSON.stringify(result.assets)} (${oomnitza.assets.size} stored)`)
        }
        return { seconds, created: result.assets.created }
      }
      if (current?.status === 'failed' || current?.status === 'cancelled') throw new Error(`sync ${current.status}: ${current.error?.message}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    await app.close()
    await insight.close()
    await oomnitza.close()
    const client = new MongoClient(uri)
    await client.db(dbName).dropDatabase().catch(() => {})
    await client.close()
  }
}

const concurrent = await measure(SERIALS, { OOMNITZA_CONCURRENCY: CONCURRENCY })
const sequential = await measure(SEQUENTIAL_SERIALS, { OOMNITZA_CONCURRENCY: '1', OOMNITZA_LOOKUP_BATCH: '1' })
const sequentialSeconds = sequential.seconds * (SERIALS / SEQUENTIAL_SERIALS)
const round = (n: number) => Math.round(n * 100) / 100
process.stdout.write(`${JSON.stringify({
  serials: SERIALS,
  seconds: round(concurrent.seconds),
  sequentialSeconds: round(sequentialSeconds),
  speedup: round(sequentialSeconds / concurrent.seconds),
  sequentialMeasuredSerials: SEQUENTIAL_SERIALS,
  sequentialMeasuredSeconds: round(sequential.seconds),
  sequentialExtrapolated: SEQUENTIAL_SERIALS < SERIALS,
  concurrency: Number(CONCURRENCY),
  oomnitzaLatencyMs: LATENCY_MS,
  server: await describeServer(uri)
})}\n`)
process.exit(0)
