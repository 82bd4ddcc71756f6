/**
 * bench:jobs — the job engine against Agenda 6 on the same server, in one run, with the same no-op jobs:
 * BENCH_JOBS jobs in one process, then BENCH_MULTI_JOBS jobs over 3 processes, for each library (in the order
 * engine, Agenda, Agenda, engine, so a drift of the machine's speed during the run weighs on both alike).
 * Every execution is counted per job id, so a job that ran twice shows up whichever library ran it. Each run
 * has a time budget (BENCH_JOBS_BUDGET_S): a library that cannot get through its jobs in it is stopped and
 * its completed jobs/s reported as such. A third Agenda run in one process takes one lock at a time (lockLimit 1,
 * concurrency 1, BENCH_AGENDA_SERIAL_BUDGET_S): whether its duplicates come from concurrent locks. Around the engine's one-process run the server's own write floor is
 * measured (`serverFloor`); with the engine's write round trips per job it gives the jobs/s this server
 * allows the engine, and the engine's share of that. Prints one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { createJobStore } from '../src/jobs/store.js'
import { AGENDA_JOB, agendaSettings, createBenchAgenda } from './agenda.js'
import { benchIntegration } from './bench-integration.js'
import { cpuMeter, ownCpuSeconds, serverCpuSeconds, serverProcesses } from './cpu.js'
import { ExecutionCounter, type ExecutionReport } from './executions.js'
import { updateFloor } from './floor.js'
import { describeServer } from './server.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 3_000)
const MULTI_JOBS = Number(process.env.BENCH_MULTI_JOBS ?? 3_000)
const BUDGET_S = Number(process.env.BENCH_JOBS_BUDGET_S ?? 90)
const SERIAL_BUDGET_S = Number(process.env.BENCH_AGENDA_SERIAL_BUDGET_S ?? 30)
/** Live backlog the producer keeps at most: a steady stream of triggers rather than one giant burst. */
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50)
const ENGINE_CONCURRENCY = process.env.BENCH_CONCURRENCY ?? '16'
const uri = process.env.MONGODB_URI as string
const root = fileURLToPath(new URL('..', import.meta.url))
const server = serverProcesses(uri)

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

const newDbName = (): string => `bench_${randomBytes(4).toString('hex')}`

interface RunFigures {
  processes: number
  jobs: number
  /** Jobs completed (final state written) at least once within the budget. */
  completed: number
  finished: boolean
  seconds: number
  jobsPerSec: number
  executions: number
  /** Jobs whose handler ran more than once, and the executions beyond each one's first. */
  jobsRunTwiceOrMore: number
  extraExecutions: number
}

/**
 * Enqueues `n` jobs, 100 at a time, whenever fewer than BACKLOG are live (enqueued, not completed), while the
 * library drains them, as triggers would arrive in production; then waits until all are completed or the
 * budget is spent. Returns the run's figures from `counter`.
 */
async function drive (n: number, processes: number, counter: ExecutionCounter, enqueue: () => Promise<unknown>, budgetS = BUDGET_S): Promise<RunFigures> {
  const started = performance.now()
  const deadline = started + budgetS * 1000
  const inBudget = (): boolean => performance.now() < deadline
  for (let i = 0; i < n && inBudget(); i += 100) {
    while (i - counter.completed.size > BACKLOG && inBudget()) await sleep(5)
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, enqueue))
  }
  while (counter.completed.size < n && inBudget()) await sleep(10)
  const seconds = (performance.now() - started) / 1000
  const completed = Math.min(n, counter.completed.size)
  const executions = [...counter.runs.values()].reduce((a, b) => a + b, 0)
  return {
    processes,
    jobs: n,
    completed,
    finished: completed >= n,
    seconds: Number(seconds.toFixed(2)),
    jobsPerSec: Number((completed / seconds).toFixed(1)),
    executions,
    ...counter.duplicates()
  }
}

/** Commands that are the driver's own housekeeping, not the engine's work. */
const DRIVER_COMMANDS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions', 'buildInfo', 'getMore', 'killCursors'])

/** The engine in this process: JOBS jobs, with claim latency and the round trips it makes per job. */
async function engineSingle (): Promise<RunFigures & { p99ClaimLatencyMs: number, p50ClaimLatencyMs: number, commandsPerJob: Record<string, number>, cpuMsPerJob: Record<string, number> }> {
  // Command monitoring counts the round trips the engine makes per job (the bench's own enqueues included).
  const monitoredUri = `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`
  const counter = new ExecutionCounter()
  const config = loadConfig({ MONGODB_URI: monitoredUri, MONGODB_DB: newDbName(), LOG_LEVEL: 'warn', JOBS_CONCURRENCY: ENGINE_CONCURRENCY, JOBS_POLL_INTERVAL_MS: '20', SCHEDULER_ENABLED: 'false', ALLOW_NO_AUTH: 'true' }, buildConfigSchema([benchIntegration()]))
  const app = await buildApp({ config, integrations: [benchIntegration((id) => { counter.ran(id) })] })
  await app.ready()
  const claimMs: number[] = []
  app.jobs.runner.events.on('claimed', ({ claimMs: ms }) => { claimMs.push(ms) })
  app.jobs.runner.events.on('finished', ({ job, outcome }) => { if (outcome === 'succeeded') counter.done(job._id) })
  const commands = new Map<string, number>()
  app.mongo.client.on('commandStarted', (event) => {
    if (!DRIVER_COMMANDS.has(event.commandName)) commands.set(event.commandName, (commands.get(event.commandName) ?? 0) + 1)
  })
  try {
    const meter = cpuMeter({ bench: ownCpuSeconds, server: () => serverCpuSeconds(server) })
    const figures = await drive(JOBS, 1, counter, () => app.jobs.store.enqueue('bench.noop', {}))
    const cpu = meter.stop()
    const commandsPerJob = Object.fromEntries([...commands].sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => [name, Number((n / figures.completed).toFixed(2))]))
    return {
      ...figures,
      p99ClaimLatencyMs: Number(percentile(claimMs, 99).toFixed(1)),
      p50ClaimLatencyMs: Number(percentile(claimMs, 50).toFixed(1)),
      commandsPerJob,
      // The bench process holds the engine and the producer; the server is FerretDB with PostgreSQL.
      cpuMsPerJob: Object.fromEntries(Object.entries(cpu).map(([side, seconds]) => [side, Number((seconds * 1000 / figures.completed).toFixed(2))]))
    }
  } finally {
    await app.mongo.db.dropDatabase()
    await app.close()
  }
}

/** Agenda in this process, JOBS jobs; `serial`: one lock and one job at a time, within SERIAL_BUDGET_S. */
async function agendaSingle (serial = false): Promise<RunFigures> {
  const dbName = newDbName()
  const counter = new ExecutionCounter()
  const settings = serial ? { ...agendaSettings, concurrency: 1, lockLimit: 1 } : agendaSettings
  const bench = await createBenchAgenda(uri, dbName, (id) => { counter.ran(id) }, (id) => { counter.done(id) }, settings)
  try {
    await bench.agenda.start()
    return await drive(JOBS, 1, counter, () => bench.agenda.now(AGENDA_JOB, {}), serial ? SERIAL_BUDGET_S : BUDGET_S)
  } finally {
    await bench.close()
    await dropDatabase(dbName)
  }
}

async function dropDatabase (dbName: string): Promise<void> {
  const client = new MongoClient(uri)
  await client.db(dbName).dropDatabase().catch(() => {})
  await client.close()
}

/** A worker process (bench-worker.ts or agenda-worker.ts) whose execution reports go to `counter`. */
function startWorker (script: string, env: Record<string, string>, counter: ExecutionCounter): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  child.on('message', (report: ExecutionReport) => { counter.add(report) })
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child) })
    child.once('exit', (code) => { reject(new Error(`${script} exited with ${code}`)) })
  })
}

async function stopWorkers (workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map(async (w) => {
    if (w.exitCode !== null) return
    const exited = new Promise((resolve) => w.once('exit', resolve))
    w.kill('SIGTERM')
    await exited
  }))
}

/** MULTI_JOBS jobs over 3 processes of the engine (8 jobs at a time each), enqueued from this one. */
async function engineMulti (): Promise<RunFigures> {
  const dbName = newDbName()
  const client = new MongoClient(uri)
  await client.connect()
  const store = createJobStore(client.db(dbName), { maxAttempts: 5 })
  await store.ensureIndexes()
  const counter = new ExecutionCounter()
  const env = { MONGODB_URI: uri, MONGODB_DB: dbName, LOG_LEVEL: 'warn', JOBS_CONCURRENCY: '8', JOBS_POLL_INTERVAL_MS: '20', SCHEDULER_ENABLED: 'false', ALLOW_NO_AUTH: 'true' }
  const workers = await Promise.all([0, 1, 2].map(() => startWorker('bench/bench-worker.ts', env, counter)))
  try {
    return await drive(MULTI_JOBS, 3, counter, () => store.enqueue('bench.noop', {}))
  } finally {
    await stopWorkers(workers)
    await client.db(dbName).dropDatabase()
    await client.close()
  }
}

/** MULTI_JOBS jobs over 3 processes of Agenda, enqueued from this one (an Agenda that does not process). */
async function agendaMulti (): Promise<RunFigures> {
  const dbName = newDbName()
  const producer = await createBenchAgenda(uri, dbName)
  const counter = new ExecutionCounter()
  const workers = await Promise.all([0, 1, 2].map(() => startWorker('bench/agenda-worker.ts', { MONGODB_URI: uri, MONGODB_DB: dbName }, counter)))
  try {
    return await drive(MULTI_JOBS, 3, counter, () => producer.agenda.now(AGENDA_JOB, {}))
  } finally {
    await stopWorkers(workers)
    await producer.close()
    await dropDatabase(dbName)
  }
}

/** Round trips that write, of those counted per job. */
const WRITE_COMMANDS = ['insert', 'update', 'findAndModify', 'delete']

const serverName = await describeServer(uri)
const floorBefore = await updateFloor(uri)
const engine1 = await engineSingle()
const floorAfter = await updateFloor(uri)
const agenda1 = await agendaSingle()
const agenda3 = await agendaMulti()
const agendaSerial = await agendaSingle(true)
const engine3 = await engineMulti()
// Every write round trip costs the server about one conditional update (a batched insert or a delete by `_id`
// costs somewhat less), so this estimates, not bounds, what the engine as it is can reach on this server.
const writeCommandsPerJob = WRITE_COMMANDS.reduce((sum, name) => sum + (engine1.commandsPerJob[name] ?? 0), 0)
const concurrentUpdatesPerSec = Math.round((floorBefore.concurrentUpdatesPerSec + floorAfter.concurrentUpdatesPerSec) / 2)
const ceilingJobsPerSec = Math.round(concurrentUpdatesPerSec / writeCommandsPerJob)
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2))
process.stdout.write(`${JSON.stringify({
  bench: 'jobs',
  server: serverName,
  backlog: BACKLOG,
  budgetSeconds: BUDGET_S,
  engine: { concurrency: Number(ENGINE_CONCURRENCY), concurrencyPerProcessInMulti: 8, pollIntervalMs: 20, single: engine1, multi: engine3 },
  agenda: { version: agendaVersion(), settings: agendaSettings, single: agenda1, multi: agenda3, serial: { settings: { concurrency: 1, lockLimit: 1 }, budgetSeconds: SERIAL_BUDGET_S, ...agendaSerial } },
  writeCommandsPerJob: Number(writeCommandsPerJob.toFixed(2)),
  serverFloor: { before: floorBefore, after: floorAfter, concurrentUpdatesPerSec, ceilingJobsPerSec },
  ratios: {
    engineOverAgendaSingle: ratio(engine1.jobsPerSec, agenda1.jobsPerSec),
    engineOverAgendaMulti: ratio(engine3.jobsPerSec, agenda3.jobsPerSec),
    engineShareOfCeiling: ratio(engine1.jobsPerSec, ceilingJobsPerSec)
  }
})}\n`)
process.exit(0)

function agendaVersion (): string {
  return String((JSON.parse(readFileSync(join(root, 'node_modules/agenda/package.json'), 'utf8')) as { version: string }).version)
}
