/**
 * bench:bobo — 100 drop-folder files × 1,000 rows (5,000 employees) processed by one bobo.process job into the
 * AtHoc simulator. Prints one JSON line: {rows, files, employees, seconds, athocCalls, seedCalls}. athocCalls
 * should be ⌈employees / ATHOC_SYNC_CHUNK⌉; seedCalls is what the original (the seeds' bobosync) makes for the
 * same files: one SyncByCommonNames call per batch of BATCH_SIZE files (default 10), whatever the employees.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { boboIntegration } from '../src/integrations/bobo/index.js'
import { startAthocSimulator } from '../src/integrations/bobo/sandbox/athoc-simulator.js'
import { systemIntegration } from '../src/integrations/system/index.js'
import { describeServer } from './server.js'

const FILES = Number(process.env.BENCH_FILES ?? 100)
const ROWS = Number(process.env.BENCH_ROWS ?? 1000)
const EMPLOYEES = Number(process.env.BENCH_EMPLOYEES ?? 5000)
const CHUNK = Number(process.env.BENCH_CHUNK ?? 500)
const uri = process.env.MONGODB_URI as string
/** The original's BATCH_SIZE: files per batch, one AtHoc call per batch. */
const SEED_FILES_PER_CALL = 10

const root = await mkdtemp(join(tmpdir(), 'bench-bobo-'))
const dirs = { incoming: join(root, 'incoming'), processed: join(root, 'processed'), failed: join(root, 'failed') }
const sim = await startAthocSimulator({ maxPageSize: 1000 })
const ids = Array.from({ length: EMPLOYEES }, (_, i) => String(i).padStart(5, '0'))
for (const id of ids) sim.addUser(`e${id}@example.org`, { 'Collar-Number': id })

const dbName = `bench_bobo_${randomBytes(4).toString('hex')}`
const config = loadConfig({
  ...sim.env(),
  MONGODB_URI: uri,
  MONGODB_DB: dbName,
  LOG_LEVEL: 'warn',
  ALLOW_NO_AUTH: 'true',
  SCHEDULER_ENABLED: 'false',
  JOBS_POLL_INTERVAL_MS: '20',
  BOBO_INCOMING_DIR: dirs.incoming,
  BOBO_PROCESSED_DIR: dirs.processed,
  BOBO_FAILED_DIR: dirs.failed,
  BOBO_MAX_FILES_PER_BATCH: String(FILES),
  BOBO_STABLE_MS: '0',
  ATHOC_SYNC_CHUNK: String(CHUNK)
}, buildConfigSchema([systemIntegration, boboIntegration]))
const app = await buildApp({ config, integrations: [systemIntegration, boboIntegration] })
await app.ready()

async function runJob (kind: string, params: Record<string, unknown> = {}) {
  const { job } = await app.jobs.enqueue(kind, params)
  for (;;) {
    const current = await app.jobs.get(job._id)
    if (current !== null && ['succeeded', 'failed', 'cancelled'].includes(current.status)) return current
    await sleep(10)
  }
}

try {
  const mapped = await runJob('bobo.mapping-sync', { force: true })
  if (mapped.status !== 'succeeded') throw new Error(`mapping sync ${mapped.status}: ${JSON.stringify(mapped.error)}`)

  await mkdir(dirs.incoming, { recursive: true })
  let row = 0
  for (let f = 0; f < FILES; f++) {
    const lines: string[] = []
    for (let r = 0; r < ROWS; r++, row++) {
      const id = ids[row % EMPLOYEES] as string
      const minute = String(Math.floor(row / EMPLOYEES) % 60).padStart(2, '0')
      const created = `20240617${String(8 + (f % 10)).padStart(2, '0')}${minute}00`
      lines.push(`${row % 3 === 0 ? 'BOF' : 'BON'},${id},PAY${id},20240617,080000,${created},1,51.5074,-0.1278,5.0`)
    }
    const path = join(dirs.incoming, `BOBO_20240617_${String(f).padStart(6, '0')}_output.csv`)
    await writeFile(path, lines.join('\r\n') + '\r\n')
    const at = new Date(Date.now() - 60_000 + f)
    await utimes(path, at, at)
  }
  const callsBefore = sim.counts.sync
  const started = performance.now()
  const job = await runJob('bobo.process')
  const seconds = (performance.now() - started) / 1000
  if (job.status !== 'succeeded') throw new Error(`bobo.process ${job.status}: ${JSON.stringify(job.error)}`)
  const result = job.result as { files: number, employees: number, processed: number }
  const processed = (await readdir(dirs.processed)).length
  if (processed !== FILES || result.processed !== FILES) throw new Error(`only ${processed} of ${FILES} files processed`)
  if (process.env.BENCH_VERBOSE) process.stderr.write(`${JSON.stringify(job.result)}\n`)
  process.stdout.write(`${JSON.stringify({ rows: FILES * ROWS, files: result.files, employees: result.employees, seconds: Math.round(seconds * 100) / 100, athocCalls: sim.counts.sync - callsBefore, seedCalls: Math.ceil(FILES / SEED_FILES_PER_CALL), server: await describeServer(uri) })}\n`)
} finally {
  await app.close()
  await sim.close()
  const client = new MongoClient(uri)
  await client.db(dbName).dropDatabase().catch(() => {})
  await client.close()
  await rm(root, { recursive: true, force: true })
}
