/**
 * bench:tracos — 10,000 client work-order files end to end through the gateway (POST /tracos/run → job
 * tracos.run: read, validate, insert into workorders, write workorder_{n}.json, mark synced, archive), then
 * the seeds' naive approach (one upsert round trip per order, one mark-synced round trip per order) on the
 * same server in the same run. Prints one JSON line. MONGODB_URI may point at a real mongod.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { MongoClient, type Db } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { systemIntegration } from '../src/integrations/system/index.js'
import { tracosIntegration } from '../src/integrations/tracos/index.js'
import { outboundName, writeFileAtomic } from '../src/integrations/tracos/client-files.js'
import { seedTracos } from '../src/integrations/tracos/seed.js'
import { clientToTracos, tracosToClient } from '../src/integrations/tracos/translate.js'
import { describeServer } from './server.js'

const ORDERS = Number(process.env.BENCH_ORDERS ?? 10_000)
/** Orders for the naive path (default all); fewer means its per-order time is extrapolated. */
// On FerretDB/SQLite every update costs a scan of the collection (~0.1 s each at 10,000 documents), so the
// naive path over all 10,000 would take over half an hour: it runs on 1,000 by default and is extrapolated
// per order (which flatters it: its collection stays small).
const NAIVE_ORDERS = Number(process.env.BENCH_NAIVE_ORDERS ?? Math.min(ORDERS, 1000))
const uri = process.env.MONGODB_URI as string
const API_KEY = 'bench-key-0123456789'

async function folders (): Promise<{ root: string, inbound: string, outbound: string, archive: string, rejected: string }> {
  const root = await mkdtemp(join(tmpdir(), 'bench-tracos-'))
  return { root, inbound: join(root, 'inbound'), outbound: join(root, 'outbound'), archive: join(root, 'archive'), rejected: join(root, 'rejected') }
}

async function dropDb (db: Db): Promise<void> {
  await db.dropDatabase().catch(() => {})
}

/**
 * Writes back what the bench itself left dirty (the seeded files, a previous run's deletions) before a timed
 * section. Otherwise the run's first journal commits flush the setup's 10,000 files too, and the figure swings
 * with whatever the disk was doing before, not with the code under test.
 */
function settleDisk (): void {
  execFileSync('sync')
}

/** The gateway: files seeded, then one POST /tracos/run timed until its job has succeeded. */
async function gatewayRun (client: MongoClient): Promise<{ seconds: number, secondRunSeconds: number, result: Record<string, number>, phasesMs: unknown, rerunPhasesMs: unknown }> {
  const dbName = `bench_tracos_${randomBytes(4).toString('hex')}`
  const dirs = await folders()
  const now = new Date()
  await seedTracos({ db: client.db(dbName), inboundDir: dirs.inbound, count: ORDERS, filesOnly: true, clientStatus: 'completed', now })
  settleDisk()
  const config = loadConfig({
    MONGODB_URI: uri,
    MONGODB_DB: dbName,
    LOG_LEVEL: 'warn',
    GATEWAY_API_KEYS: API_KEY,
    SCHEDULER_ENABLED: 'false',
    JOBS_POLL_INTERVAL_MS: '20',
    TRACOS_INBOUND_DIR: dirs.inbound,
    TRACOS_OUTBOUND_DIR: dirs.outbound,
    TRACOS_ARCHIVE_DIR: dirs.archive,
    TRACOS_REJECTED_DIR: dirs.rejected,
    // Tuning knobs may be passed through.
    ...Object.fromEntries(['TRACOS_BATCH_SIZE', 'TRACOS_FILE_CONCURRENCY', 'TRACOS_OUTBOUND_FLUSH'].flatMap((name) => process.env[name] === undefined ? [] : [[name, process.env[name] as string]]))
  }, buildConfigSchema([systemIntegration, tracosIntegration]))
  const app = await buildApp({ config, integrations: [systemIntegration, tracosIntegration] })
  await app.ready()
  try {
    const runOnce = async (): Promise<{ seconds: number, result: Record<string, number> }> => {
      const started = performance.now()
      const res = await app.inject({ method: 'POST', url: '/tracos/run', headers: { 'x-api-key': API_KEY } })
      if (res.statusCode !== 202) throw new Error(`POST /tracos/run answered ${res.statusCode}: ${res.body}`)
      const { jobId } = res.json() as { jobId: string }
      for (;;) {
        const job = await app.jobs.get(jobId)
        if (job?.status === 'succeeded') return { seconds: (performance.now() - started) / 1000, result: job.result as Record<string, number> }
        if (job?.status === 'failed' || job?.status === 'cancelled') throw new Error(`tracos.run ${job.status}: ${job.error?.message ?? ''}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    const first = await runOnce()
    if (first.result.inserted !== ORDERS || first.result.exported !== ORDERS) throw new Error(`unexpected result ${JSON.stringify(first.result)}`)
    const exported = (await readdir(dirs.outbound)).filter((n) => n.endsWith('.json')).length
    if (exported !== ORDERS) throw new Error(`expected ${ORDERS} outbound files, found ${exported}`)
    // Second run: the same files dropped again, all unchanged (nothing to write, nothing to export).
    await seedTracos({ db: client.db(dbName), inboundDir: dirs.inbound, count: ORDERS, filesOnly: true, clientStatus: 'completed', now })
    settleDisk()
    const second = await runOnce()
    if (second.result.unchanged !== ORDERS || second.result.exported !== 0) throw new Error(`rerun not unchanged: ${JSON.stringify(second.result)}`)
    return { seconds: first.seconds, secondRunSeconds: second.seconds, result: first.result, phasesMs: first.result.phasesMs, rerunPhasesMs: second.result.phasesMs }
  } finally {
    await app.close()
    await dropDb(client.db(dbName))
    await rm(dirs.root, { recursive: true, force: true })
  }
}

/** The seeds' approach: per file read + translate + one updateOne(upsert); per order one write + one updateOne. */
async function naiveRun (client: MongoClient, count: number): Promise<number> {
  const db = client.db(`bench_tracos_naive_${randomBytes(4).toString('hex')}`)
  const dirs = await folders()
  await seedTracos({ db, inboundDir: dirs.inbound, count, filesOnly: true, clientStatus: 'completed' })
  settleDisk()
  const workorders = db.collection('workorders')
  await workorders.createIndex({ number: 1 }, { unique: true })
  try {
    const started = performance.now()
    for (const name of (await readdir(dirs.inbound)).sort()) {
      const translated = clientToTracos(JSON.parse(await readFile(join(dirs.inbound, name), 'utf8')))
      if (!translated.ok) throw new Error(`${name} invalid`)
      await workorders.updateOne({ number: translated.fields.number }, { $set: { ...translated.fields, isSynced: false }, $unset: { syncedAt: '' } }, { upsert: true })
    }
    const { mkdir } = await import('node:fs/promises')
    await mkdir(dirs.outbound, { recursive: true })
    for (const doc of await workorders.find({ isSynced: { $ne: true } }).sort({ number: 1 }).toArray()) {
      await writeFileAtomic(join(dirs.outbound, outboundName(doc.number as number)), `${JSON.stringify(tracosToClient(doc as Record<string, unknown>), null, 2)}\n`)
      await workorders.updateOne({ _id: doc._id }, { $set: { isSynced: true, syncedAt: new Date() } })
    }
    return (performance.now() - started) / 1000
  } finally {
    await dropDb(db)
    await rm(dirs.root, { recursive: true, force: true })
  }
}

const client = new MongoClient(uri)
await client.connect()
try {
  const server = await describeServer(uri)
  const gateway = await gatewayRun(client)
  const naiveSeconds = await naiveRun(client, NAIVE_ORDERS)
  const perOrder = gateway.seconds / ORDERS
  const naivePerDocSeconds = naiveSeconds / NAIVE_ORDERS
  process.stdout.write(`${JSON.stringify({
    orders: ORDERS,
    seconds: Number(gateway.seconds.toFixed(3)),
    ordersPerSec: Math.round(ORDERS / gateway.seconds),
    naivePerDocSeconds: Number(naivePerDocSeconds.toFixed(6)),
    speedup: Number((naivePerDocSeconds / perOrder).toFixed(2)),
    naiveOrders: NAIVE_ORDERS,
    naiveSeconds: Number(naiveSeconds.toFixed(3)),
    naiveExtrapolated: NAIVE_ORDERS < ORDERS,
    unchangedRerunSeconds: Number(gateway.secondRunSeconds.toFixed(3)),
    phasesMs: gateway.phasesMs,
    rerunPhasesMs: gateway.rerunPhasesMs,
    outboundFlush: process.env.TRACOS_OUTBOUND_FLUSH ?? 'file',
    server
  })}\n`)
} finally {
  await client.close()
}
