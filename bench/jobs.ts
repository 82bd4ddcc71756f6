/**
 * bench:jobs — enqueue and complete N no-op jobs on one gateway instance (throughput, claim latency), then run
 * 3 gateway processes on one database and count jobs that ran more than once; `commandsPerJob` counts the
 * engine's round trips per job, and `serverFloor` is what the server itself allows (one update at a time, updates
 * with 16 in flight, and the jobs/s that implies for the engine's write round trips). Prints one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { createJobStore } from '../src/jobs/store.js'
import { benchIntegration } from './bench-integration.js'
import { describeServer } from './server.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000)
const MULTI_JOBS = Number(process.env.BENCH_MULTI_JOBS ?? 6_000)
const uri = process.env.MONGODB_URI as string
const root = fileURLToPath(new URL('..', import.meta.url))

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

/** Live backlog the producer keeps at most: a steady stream of triggers rather than one giant burst. */
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50)

/**
 * Enqueues `n` jobs, 100 at a time, whenever `live(enqueued)` (jobs enqueued but not finished) is at most BACKLOG.
 * `live` counts in-process where it can: polling the server with a count every few ms took a third of the
 * server's CPU and so measured the producer rather than the engine.
 */
async function enqueueAll (store: ReturnType<typeof createJobStore>, n: number, live: (enqueued: number) => number | Promise<number>, params: Record<string, unknown> = {}): Promise<void> {
  for (let i = 0; i < n; i += 100) {
    while ((await live(i)) > BACKLOG) await sleep(5)
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => store.enqueue('bench.noop', params)))
  }
}

/** Commands that are the driver's own housekeeping, not the engine's work. */
const DRIVER_COMMANDS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions', 'buildInfo', 'getMore', 'killCursors'])

async function singleInstance (): Promise<{ jobsPerSec: number, p99ClaimLatencyMs: number, p50ClaimLatencyMs: number, seconds: number, commandsPerJob: Record<string, number> }> {
  const dbName = `bench_${randomBytes(4).toString('hex')}`
  // Command monitoring counts the round trips the engine makes per job (the bench's own enqueues included).
  const monitoredUri = `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`
  const config = loadConfig({ MONGODB_URI: monitoredUri, MONGODB_DB: dbName, LOG_LEVEL: 'warn', JOBS_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? '16', JOBS_POLL_INTERVAL_MS: '20', SCHEDULER_ENABLED: 'false', ALLOW_NO_AUTH: 'true' }, buildConfigSchema([benchIntegration]))
  const app = await buildApp({ config, integrations: [benchIntegration] })
  await app.ready()
  const claimMs: number[] = []
  let finished = 0
  let ended = 0
  app.jobs.runner.events.on('claimed', ({ claimMs: ms }) => { claimMs.push(ms) })
  app.jobs.runner.events.on('finished', ({ outcome }) => { ended++; if (outcome === 'succeeded') finished++ })
  const commands = new Map<string, number>()
  app.mongo.client.on('commandStarted', (event) => {
    if (!DRIVER_COMMANDS.has(event.commandName)) commands.set(event.commandName, (commands.get(event.commandName) ?? 0) + 1)
  })
  const started = performance.now()
  // Enqueue while the runner drains, as triggers would arrive in production.
  await enqueueAll(app.jobs.store, JOBS, (enqueued) => enqueued - ended)
  while (finished < JOBS) await sleep(20)
  const seconds = (performance.now() - started) / 1000
  const commandsPerJob = Object.fromEntries([...commands].sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => [name, Number((n / JOBS).toFixed(2))]))
  await app.mongo.db.dropDatabase()
  await app.close()
  return {
    jobsPerSec: Math.round(JOBS / seconds),
    p99ClaimLatencyMs: Number(percentile(claimMs, 99).toFixed(1)),
    p50ClaimLatencyMs: Number(percentile(claimMs, 50).toFixed(1)),
    seconds: Number(seconds.toFixed(2)),
    commandsPerJob
  }
}

function startProcess (env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bench-worker.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child) })
    child.once('exit', (code) => { reject(new Error(`bench worker exited with ${code}`)) })
  })
}

async function threeInstances (): Promise<{ jobs: number, processes: number, seconds: number, duplicateExecutions: number }> {
  const dbName = `bench_${randomBytes(4).toString('hex')}`
  const client = new MongoClient(uri)
  await client.connect()
  const db = client.db(dbName)
  const store = createJobStore(db, { maxAttempts: 5 })
  await store.ensureIndexes()
  const env = { MONGODB_URI: uri, MONGODB_DB: dbName, LOG_LEVEL: 'warn', JOBS_CONCURRENCY: '8', JOBS_POLL_INTERVAL_MS: '20', SCHEDULER_ENABLED: 'false', ALLOW_NO_AUTH: 'true' }
  const workers = await Promise.all([startProcess(env), startProcess(env), startProcess(env)])
  const started = performance.now()
  // The workers are other processes: count on the server, less often.
  await enqueueAll(store, MULTI_JOBS, async () => { await sleep(15); return await store.collection.countDocuments({}) }, { record: true })
  while ((await store.doneCollection.countDocuments({ status: 'succeeded' })) < MULTI_JOBS) await sleep(200)
  const seconds = (performance.now() - started) / 1000
  for (const w of workers) w.kill('SIGTERM')
  const duplicates = await db.collection('bench_runs').aggregate([
    { $group: { _id: '$jobId', n: { $sum: 1 } } },
    { $match: { n: { $gt: 1 } } }
  ]).toArray()
  await db.dropDatabase()
  await client.close()
  return { jobs: MULTI_JOBS, processes: 3, seconds: Number(seconds.toFixed(2)), duplicateExecutions: duplicates.length }
}

/** Round trips that write, of those counted per job. */
const WRITE_COMMANDS = ['insert', 'update', 'findAndModify', 'delete']

/**
 * What the server allows: one single-document update by `_id` at a time (`updateMs`), and conditional
 * single-document `findOneAndUpdate`s (the engine's claim and finish) with 16 in flight on distinct documents,
 * as the runner makes them (`concurrentUpdatesPerSec`). With the write round trips the engine made per job in
 * the single-instance run, the latter estimates the jobs/s the server could sustain for this engine.
 */
async function serverFloor (): Promise<{ updateMs: number, insertManyPerDocMs: number, concurrentUpdatesPerSec: number }> {
  const client = new MongoClient(uri, { maxPoolSize: 32 })
  const db = client.db(`bench_floor_${randomBytes(4).toString('hex')}`)
  const docs = db.collection<{ _id: string, n: number, status: string }>('floor')
  await docs.insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: `d${i}`, n: 0, status: 'queued' })))
  let started = performance.now()
  for (let i = 0; i < 300; i++) await docs.updateOne({ _id: `d${i % 200}` }, { $inc: { n: 1 } })
  const updateMs = (performance.now() - started) / 300
  const concurrentOps = 1600
  let next = 0
  started = performance.now()
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = next++; i < concurrentOps; i = next++) {
      await docs.findOneAndUpdate({ _id: `d${i % 200}`, status: 'queued' }, { $inc: { n: 1 } }, { returnDocument: 'after' })
    }
  }))
  const concurrentUpdatesPerSec = Math.round(concurrentOps / ((performance.now() - started) / 1000))
  started = performance.now()
  for (let b = 0; b < 20; b++) await docs.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `b${b}-${i}`, n: 0, status: 'new' })))
  const insertManyPerDocMs = (performance.now() - started) / 1000
  await db.dropDatabase()
  await client.close()
  return { updateMs: Number(updateMs.toFixed(2)), insertManyPerDocMs: Number(insertManyPerDocMs.toFixed(3)), concurrentUpdatesPerSec }
}

const server = await describeServer(uri)
const floor = await serverFloor()
const single = await singleInstance()
const multi = await threeInstances()
// Every write round trip costs the server about one conditional update (a batched insert or a delete by `_id`
// costs somewhat less), so this estimates, not bounds, what the engine as it is can reach on this server.
const writeCommandsPerJob = WRITE_COMMANDS.reduce((sum, name) => sum + (single.commandsPerJob[name] ?? 0), 0)
const ceilingJobsPerSec = Math.round(floor.concurrentUpdatesPerSec / writeCommandsPerJob)
process.stdout.write(`${JSON.stringify({ bench: 'jobs', server, jobs: JOBS, backlog: BACKLOG, ...single, writeCommandsPerJob: Number(writeCommandsPerJob.toFixed(2)), multiInstance: multi, serverFloor: { ...floor, ceilingJobsPerSec } })}\n`)
process.exit(0)
