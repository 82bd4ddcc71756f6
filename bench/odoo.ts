/**
 * bench:odoo — (1) a full sync of 100,000 employees from the Odoo simulator, with the simulator and the compiled
 * gateway each in its own process, so peakRssMb is the gateway's own high-water mark, against the limit of that
 * path: the time the simulator alone needs to serve the same pages to a client that only reads them
 * (odoo-reader.ts), measured before and after the syncs. (2) Webhook intake at the shapes n8n sends, over real
 * HTTP to that gateway: 1,000 single-event requests with and without an Idempotency-Key at 25 and 100 in
 * flight, and the same 1,000 events as one batch request, against the HTTP ceiling (a bare Fastify route in its
 * own process answering 202, bare-route.ts, driven by the same client load) and the server's insert floor
 * (floor.ts: inserts with as many writers, one by one and grouped; one insertMany of the batch). Every ratio
 * comes from the same run, and each side's CPU per event is recorded (cpu.ts). Prints one JSON line.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parse } from 'csv-parse/sync'
import { MongoClient, type Db } from 'mongodb'
import pLimit from 'p-limit'
import { Agent, request, type Dispatcher } from 'undici'
import type { SimEmployee } from '../src/integrations/odoo/sandbox/employees.js'
import { freePort } from '../scripts/mongo-server.js'
import { cpuMeter, cpuSecondsOf, ownCpuSeconds, serverCpuSeconds, serverProcesses } from './cpu.js'
import { insertFloor } from './floor.js'
import { readAllPages, type SimInfo } from './odoo-reader.js'
import { describeServer } from './server.js'

const EMPLOYEES = Number(process.env.BENCH_ODOO_EMPLOYEES ?? 100_000)
const EVENTS = Number(process.env.BENCH_ODOO_EVENTS ?? 1_000)
/** Employees behind the webhook burst (the CSV each events job rewrites). */
const BURST_EMPLOYEES = Number(process.env.BENCH_ODOO_BURST_EMPLOYEES ?? 5_000)
/**
 * Requests in flight: 25 (a throttled sender) and 100. Every event at once (n8n's HTTP Request node, e.g.
 * BENCH_ODOO_IN_FLIGHT=25,100,1000) is left out by default: each send then opens 1,000 connections, which
 * decides the bare route's figure as much as the gateway's, so that ratio says little.
 */
const IN_FLIGHT_LEVELS = (process.env.BENCH_ODOO_IN_FLIGHT ?? '25,100').split(',').map(Number)
/** Events in the gateway's first burst after start, sent (and applied) before the measured one. */
const FIRST_BURST_EVENTS = Number(process.env.BENCH_ODOO_FIRST_BURST_EVENTS ?? 250)
const uri = process.env.MONGODB_URI as string
const root = fileURLToPath(new URL('..', import.meta.url))
const API_KEY = 'bench-odoo-key-0123456789'

async function startSimulator (employees: number): Promise<{ child: ChildProcess, info: SimInfo }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/integrations/odoo/sandbox/serve.ts'], {
    cwd: root, env: { PATH: process.env.PATH ?? '', ODOO_SIM_EMPLOYEES: String(employees) }, stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  const info = await new Promise<SimInfo>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line !== undefined && out.includes('\n')) resolve(JSON.parse(line) as SimInfo)
    })
    child.on('exit', (code) => { reject(new Error(`simulator exited with ${code}`)) })
  })
  return { child, info }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function post (url: string, body: unknown, dispatcher?: Dispatcher, idempotencyKey?: string): Promise<{ status: number, json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': API_KEY, ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) }
  const res = await request(url, { method: 'POST', dispatcher, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  return { status: res.statusCode, json: await res.body.json() as Record<string, unknown> }
}

/** Peak and current RSS of a process, from /proc (VmHWM is the kernel's high-water mark). */
function rssOf (pid: number): { peakMb: number, nowMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { peakMb: Math.round(kb('VmHWM') / 1024), nowMb: Math.round(kb('VmRSS') / 1024) }
}

/** The image's NODE_OPTIONS (docker/Dockerfile), whose heap budget decides how far the heap grows. */
const PRODUCTION_NODE_OPTIONS = /NODE_OPTIONS="([^"]*)"/.exec(readFileSync(join(root, 'docker/Dockerfile'), 'utf8'))?.[1]
if (PRODUCTION_NODE_OPTIONS === undefined) throw new Error('docker/Dockerfile sets no NODE_OPTIONS')

/**
 * The gateway as production runs it (compiled, `node dist/server.js` with the image's NODE_OPTIONS, see
 * docker/Dockerfile) in its own process, so its peak RSS is the gateway's alone: not the bench's, not the
 * simulator's, not tsx's.
 */
async function startGatewayProcess (sim: SimInfo, csvPath: string, dbName: string): Promise<{ gateway: ChildProcess, base: string }> {
  const port = await freePort()
  const gateway = spawn(process.execPath, ['dist/server.js'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
      MONGODB_URI: uri,
      MONGODB_DB: dbName,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEWAY_API_KEYS: API_KEY,
      RATE_LIMIT_MAX: '0',
      SCHEDULER_ENABLED: 'false',
      JOBS_POLL_INTERVAL_MS: '100',
      ODOO_URL: sim.url,
      ODOO_DB: sim.db,
      ODOO_USERNAME: sim.login,
      ODOO_PASSWORD: sim.password,
      ODOO_CSV_PATH: csvPath,
      ...(process.env.ODOO_SYNC_CONCURRENCY ? { ODOO_SYNC_CONCURRENCY: process.env.ODOO_SYNC_CONCURRENCY } : {}),
      ...(process.env.ODOO_PAGE_SIZE ? { ODOO_PAGE_SIZE: process.env.ODOO_PAGE_SIZE } : {})
    }
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (gateway.exitCode !== null) throw new Error('the gateway exited')
    try {
      if ((await request(`${base}/health`)).statusCode === 200) break
    } catch {}
    if (i > 600) throw new Error('the gateway did not start')
    await sleep(50)
  }
  return { gateway, base }
}

async function stopGateway (gateway: ChildProcess, dbName: string): Promise<void> {
  gateway.kill('SIGTERM')
  if (gateway.exitCode === null) await new Promise((resolve) => gateway.once('exit', resolve))
  const client = new MongoClient(uri)
  await client.db(dbName).dropDatabase()
  await client.close()
}

/**
 * Triggers a full sync and waits for it; its time runs from the request to the job's own `finishedAt` (one
 * clock, this machine's), so the status polls can be sparse and cost the gateway little while it works.
 */
async function runJob (base: string): Promise<{ job: Record<string, unknown>, seconds: number }> {
  const requestedAt = Date.now()
  const accepted = await post(`${base}/odoo/sync-csv`, undefined)
  const statusUrl = `${base}${String(accepted.json.statusUrl)}`
  for (;;) {
    const res = await request(statusUrl, { headers: { 'x-api-key': API_KEY } })
    const job = await res.body.json() as Record<string, unknown>
    if (job.status === 'succeeded' || job.status === 'failed') {
      return { job, seconds: (Date.parse(String(job.finishedAt)) - requestedAt) / 1000 }
    }
    await sleep(250)
  }
}

const roundAll = (values: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v.toFixed(2))]))

/** Page size and pages in flight of the full sync: the gateway's settings, passed through, for the reader too. */
const PAGE_SIZE = Number(process.env.ODOO_PAGE_SIZE ?? 500)
const SYNC_CONCURRENCY = Number(process.env.ODOO_SYNC_CONCURRENCY ?? 1)

/** One full sync into an empty CSV by a fresh compiled gateway: its time and that process's peak RSS. */
async function syncOnce (info: SimInfo, csvPath: string, simPid: number): Promise<{ seconds: number, peakRssMb: number, idleRssMb: number, rows: number, cpuSeconds: Record<string, number> }> {
  const dbName = `bench_odoo_${randomBytes(4).toString('hex')}`
  rmSync(csvPath, { force: true })
  const { gateway, base } = await startGatewayProcess(info, csvPath, dbName)
  try {
    const idleRssMb = rssOf(gateway.pid as number).nowMb
    const meter = cpuMeter({ gateway: () => cpuSecondsOf(gateway.pid as number), simulator: () => cpuSecondsOf(simPid), server: () => serverCpuSeconds(server), bench: ownCpuSeconds })
    const { job, seconds } = await runJob(base)
    const cpuSeconds = roundAll(meter.stop())
    if (job.status !== 'succeeded') throw new Error(`full sync failed: ${JSON.stringify(job.error)}`)
    const { peakMb } = rssOf(gateway.pid as number)
    return { seconds, peakRssMb: peakMb, idleRssMb, rows: (job.result as { rows: number }).rows, cpuSeconds }
  } finally {
    await stopGateway(gateway, dbName)
  }
}

/**
 * A full sync of EMPLOYEES employees through the compiled gateway, twice (a fresh gateway each time), between
 * two reads of the same pages by a client that only reads them (the limit of this path), in the order read,
 * sync, sync, read, so a drift of the machine's speed weighs on both alike.
 */
async function fullSync (dir: string): Promise<Record<string, unknown>> {
  const { child: simChild, info } = await startSimulator(EMPLOYEES)
  try {
    const csvPath = join(dir, 'full.csv')
    const simPid = simChild.pid as number
    const read = async (): Promise<Awaited<ReturnType<typeof readAllPages>> & { cpuSeconds: Record<string, number> }> => {
      const meter = cpuMeter({ simulator: () => cpuSecondsOf(simPid), reader: ownCpuSeconds })
      const figures = await readAllPages(info, PAGE_SIZE, SYNC_CONCURRENCY)
      return { ...figures, cpuSeconds: roundAll(meter.stop()) }
    }
    const readBefore = await read()
    const syncs = [await syncOnce(info, csvPath, simPid), await syncOnce(info, csvPath, simPid)]
    const readAfter = await read()
    for (const sync of syncs) if (sync.rows !== EMPLOYEES) throw new Error(`full sync wrote ${sync.rows} rows, not ${EMPLOYEES}`)
    const seconds = (syncs[0]!.seconds + syncs[1]!.seconds) / 2
    const readSeconds = (readBefore.seconds + readAfter.seconds) / 2
    return {
      employees: EMPLOYEES,
      pageSize: PAGE_SIZE,
      concurrency: SYNC_CONCURRENCY,
      seconds: Number(seconds.toFixed(2)),
      runsSeconds: syncs.map((s) => Number(s.seconds.toFixed(2))),
      peakRssMb: Math.max(...syncs.map((s) => s.peakRssMb)),
      idleRssMb: Math.max(...syncs.map((s) => s.idleRssMb)),
      rows: syncs[0]!.rows,
      simulatorServeSeconds: Number(readSeconds.toFixed(2)),
      simulatorServeRunsSeconds: [readBefore.seconds, readAfter.seconds].map((s) => Number(s.toFixed(2))),
      pages: readBefore.pages,
      servedMb: Number((readBefore.bytes / 1e6).toFixed(1)),
      overServe: ratio(seconds, readSeconds),
      cpuSeconds: { syncs: syncs.map((s) => s.cpuSeconds), reads: [readBefore.cpuSeconds, readAfter.cpuSeconds] },
      process: `NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS} node dist/server.js`
    }
  } finally {
    await stop(simChild)
  }
}

async function simControl (sim: SimInfo, body: unknown): Promise<void> {
  const res = await request(`${sim.url}/__sim/control`, { method: 'POST', body: JSON.stringify(body) })
  if (res.statusCode !== 200) throw new Error(`simulator control failed: ${await res.body.text()}`)
  await res.body.dump()
}

/** CPU milliseconds per event during a send: the bench's client, the process answering, the MongoDB-wire server. */
interface CpuPerEvent { client: number, answering: number, server: number }
interface SendFigures { acksPerSec: number, ackMs: number[], sendSeconds: number, secondsUntilApplied: number, cpuMs: CpuPerEvent }

const server = serverProcesses(uri)

type Shape = 'unkeyed' | 'keyed' | 'batch'

/** Waits until every stored event is applied and no events job is open. */
async function untilApplied (db: Db): Promise<void> {
  const events = db.collection('odoo_events')
  const jobs = db.collection('jobs')
  for (;;) {
    const pending = await events.countDocuments({ appliedAt: null })
    const open = await jobs.countDocuments({ kind: 'odoo.employee-events', status: { $in: ['queued', 'running'] } })
    if (pending === 0 && open === 0) return
    await sleep(20)
  }
}

let run = 0

/**
 * Sends one `update` per employee the way n8n does: `inFlight` requests at once (n8n's HTTP node sends every
 * item of a run at once: inFlight = the number of events), each keyed or not, half the ids as numeric strings;
 * or all of them as one batch request. Each send opens new connections (nothing reused from an earlier one).
 * With `db` (the gateway's), then waits until every event is applied, so the next measurement starts from a
 * quiet gateway; the bare route (`db` null) has nothing to apply.
 */
async function send (base: string, db: Db | null, employees: SimEmployee[], shape: Shape, inFlight: number, pid: number): Promise<SendFigures> {
  const dispatcher = new Agent({ connections: inFlight })
  run++
  try {
    const limit = pLimit(inFlight)
    const ackMs: number[] = []
    const meter = cpuMeter({ client: ownCpuSeconds, answering: () => cpuSecondsOf(pid), server: () => serverCpuSeconds(server) })
    const started = performance.now()
    const event = (e: SimEmployee) => ({ event: 'update', employee_id: e.id % 2 === 0 ? e.id : String(e.id), data: { name: e.name } })
    const answers = shape === 'batch'
      ? [(await post(`${base}/odoo/webhook`, { events: employees.map(event) }, dispatcher, `bench-${run}-batch`)).status]
      : await Promise.all(employees.map((e) => limit(async () => {
        const t0 = performance.now()
        const res = await post(`${base}/odoo/webhook`, event(e), dispatcher, shape === 'keyed' ? `bench-${run}-${e.id}` : undefined)
        ackMs.push(performance.now() - t0)
        return res.status
      })))
    const sendSeconds = (performance.now() - started) / 1000
    const cpu = meter.stop()
    const cpuMs = { client: (cpu.client ?? 0) * 1000 / employees.length, answering: (cpu.answering ?? 0) * 1000 / employees.length, server: (cpu.server ?? 0) * 1000 / employees.length }
    if (answers.some((s) => s !== 202)) throw new Error(`${shape}: ${answers.filter((s) => s !== 202).length} requests were not answered 202`)
    if (db !== null) await untilApplied(db)
    return { acksPerSec: employees.length / sendSeconds, ackMs, sendSeconds, secondsUntilApplied: (performance.now() - started) / 1000, cpuMs }
  } finally {
    await dispatcher.close()
  }
}

/** The bare Fastify route (bare-route.ts) in its own process, with the gateway's NODE_OPTIONS. */
async function startBareRoute (): Promise<{ bare: ChildProcess, bareBase: string }> {
  const port = await freePort()
  const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-route.ts'], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, PORT: String(port) }
  })
  await new Promise<void>((resolve, reject) => {
    bare.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve() })
    bare.once('exit', (code) => { reject(new Error(`the bare route exited with ${code}`)) })
  })
  return { bare, bareBase: `http://127.0.0.1:${port}` }
}

function changedEmployees (from: number, count: number, tag: string): SimEmployee[] {
  return Array.from({ length: count }, (_, i) => {
    const id = from + i
    return { id, name: `${tag}${id} Changed`, work_email: `b${id}@example.com`, job_title: 'Bench', department_id: 2, parent_id: false, active: true }
  })
}

const round1 = (value: number): number => Number(value.toFixed(1))
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2))

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length

/** Sends of each shape per level: the order alternates (bare, unkeyed, keyed; keyed, unkeyed, bare; …). */
const ROUNDS = Number(process.env.BENCH_ODOO_ROUNDS ?? 9)

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Mean CPU ms per event over sends, each side rounded to µs. */
function meanCpu (sends: SendFigures[]): CpuPerEvent {
  const side = (key: keyof CpuPerEvent): number => Number(mean(sends.map((f) => f.cpuMs[key])).toFixed(3))
  return { client: side('client'), answering: side('answering'), server: side('server') }
}

/**
 * Webhook intake at n8n's shapes, all in one run so the machine's mood cancels out: EVENTS single-event
 * requests at each level of IN_FLIGHT_LEVELS to the bare route, and to the gateway without and with an
 * Idempotency-Key, ROUNDS times each in alternating order (bare, unkeyed, keyed; keyed, unkeyed, bare; …; the
 * median is kept), the server's insert floor at the same level after the first round; then the same events as
 * one batch request (bare, gateway, gateway, bare) against the floor of one insertMany of them. Each send also
 * records the CPU spent per event by the client, the answering process and the server.
 */
async function webhookIntake (dir: string) {
  const { child, info } = await startSimulator(BURST_EMPLOYEES)
  const csvPath = join(dir, 'burst.csv')
  const dbName = `bench_odoo_${randomBytes(4).toString('hex')}`
  const { gateway, base } = await startGatewayProcess(info, csvPath, dbName)
  const { bare, bareBase } = await startBareRoute()
  const mongo = new MongoClient(uri)
  try {
    const db = mongo.db(dbName)
    const { job: initial } = await runJob(base)
    if (initial.status !== 'succeeded') throw new Error('initial sync failed')
    // The first burst after start runs on code the JIT has not compiled yet: not measured.
    const gatewayPid = gateway.pid as number
    const barePid = bare.pid as number
    await send(base, db, changedEmployees(EVENTS + 1, FIRST_BURST_EVENTS, 'Warm'), 'keyed', 25, gatewayPid)
    await send(base, db, changedEmployees(EVENTS + 1, FIRST_BURST_EVENTS, 'Warm'), 'unkeyed', 25, gatewayPid)
    await send(bareBase, null, changedEmployees(EVENTS + 1, FIRST_BURST_EVENTS, 'Warm'), 'unkeyed', 25, barePid)
    let tag = 0
    const measure = async (shape: Shape, inFlight: number): Promise<SendFigures> => {
      const changed = changedEmployees(1, EVENTS, `Bench${++tag}x`)
      await simControl(info, { action: 'upsert', employees: changed })
      return send(base, db, changed, shape, inFlight, gatewayPid)
    }
    const measureBare = (shape: Shape, inFlight: number): Promise<SendFigures> => send(bareBase, null, changedEmployees(1, EVENTS, 'Bare'), shape, inFlight, barePid)
    const levels: Array<Record<string, unknown>> = []
    const floors: Array<Awaited<ReturnType<typeof insertFloor>>> = []
    let n8nShape: SendFigures | null = null
    const forward = ['bare', 'unkeyed', 'keyed'] as const
    const backward = ['keyed', 'unkeyed', 'bare'] as const
    for (const inFlight of IN_FLIGHT_LEVELS) {
      const sends: Record<'bare' | 'unkeyed' | 'keyed', SendFigures[]> = { bare: [], unkeyed: [], keyed: [] }
      for (let round = 0; round < ROUNDS; round++) {
        for (const target of round % 2 === 0 ? forward : backward) {
          const figures = target === 'bare' ? await measureBare('unkeyed', inFlight) : await measure(target, inFlight)
          sends[target].push(figures)
          if (target === 'keyed' && inFlight === EVENTS) n8nShape = figures
        }
        if (round === 0) floors.push(await insertFloor(uri, inFlight, EVENTS, EVENTS))
      }
      const floor = floors.at(-1) as Awaited<ReturnType<typeof insertFloor>>
      const rates = (target: keyof typeof sends): number[] => sends[target].map((f) => f.acksPerSec)
      const [barePerSec, unkeyedPerSec, keyedPerSec] = [median(rates('bare')), median(rates('unkeyed')), median(rates('keyed'))]
      // Each round sends the three shapes back to back: the median of the rounds' own ratios lets a drift of the
      // machine's speed weigh on both sides of each ratio.
      const paired = (a: keyof typeof sends, b: keyof typeof sends): number => {
        return Number(median(rates(a).map((rate, round) => rate / (rates(b)[round] as number))).toFixed(2))
      }
      levels.push({
        inFlight,
        barePerSec: Math.round(barePerSec),
        unkeyedPerSec: Math.round(unkeyedPerSec),
        keyedPerSec: Math.round(keyedPerSec),
        insertsPerSec: floor.insertsPerSec,
        groupedInsertsPerSec: floor.groupedPerSec,
        keyedOverUnkeyed: paired('keyed', 'unkeyed'),
        unkeyedOverBare: paired('unkeyed', 'bare'),
        unkeyedOverInsertFloor: ratio(unkeyedPerSec, floor.insertsPerSec),
        keyedOverInsertFloor: ratio(keyedPerSec, floor.insertsPerSec),
        unkeyedOverGroupedFloor: ratio(unkeyedPerSec, floor.groupedPerSec),
        keyedOverGroupedFloor: ratio(keyedPerSec, floor.groupedPerSec),
        runs: { bare: rates('bare').map(Math.round), unkeyed: rates('unkeyed').map(Math.round), keyed: rates('keyed').map(Math.round) },
        cpuMsPerEvent: { bare: meanCpu(sends.bare), unkeyed: meanCpu(sends.unkeyed), keyed: meanCpu(sends.keyed) }
      })
    }
    const bareBatches = [await measureBare('batch', 1)]
    const batches = [await measure('batch', 1), await measure('batch', 1)]
    bareBatches.push(await measureBare('batch', 1))
    const batchPerSec = mean(batches.map((b) => b.acksPerSec))
    const bareBatchPerSec = mean(bareBatches.map((b) => b.acksPerSec))
    const insertManyDocsPerSec = mean(floors.map((f) => f.batchedDocsPerSec))
    const singleKeyed = Number(levels.at(-1)?.keyedPerSec)
    const batchCpu = { gateway: meanCpu(batches), bare: meanCpu(bareBatches) }
    const rows = parse(readFileSync(csvPath, 'utf8'), { columns: true }) as Array<Record<string, string>>
    const applied = rows.filter((r) => r.givenName === `Bench${tag}x${Number(r.personalNumber) - 1000}`).length
    if (applied !== EVENTS) throw new Error(`only ${applied} of ${EVENTS} changes of the last send are in the CSV`)
    return {
      events: EVENTS,
      levels,
      batch: {
        eventsPerSec: Math.round(batchPerSec),
        bareEventsPerSec: Math.round(bareBatchPerSec),
        insertManyDocsPerSec: Math.round(insertManyDocsPerSec),
        overBare: ratio(batchPerSec, bareBatchPerSec),
        overInsertFloor: ratio(batchPerSec, insertManyDocsPerSec),
        requestSeconds: Number((batches[0]?.sendSeconds ?? 0).toFixed(3)),
        cpuMsPerEvent: batchCpu
      },
      batchOverSingle: ratio(batchPerSec, singleKeyed),
      insertFloors: floors,
      n8nShape: n8nShape === null
        ? null
        : {
            inFlight: EVENTS,
            keyed: true,
            p50AckMs: round1(percentile(n8nShape.ackMs, 50)),
            p99AckMs: round1(percentile(n8nShape.ackMs, 99)),
            secondsUntilApplied: Number(n8nShape.secondsUntilApplied.toFixed(2))
          }
    }
  } finally {
    await mongo.close()
    await stop(bare)
    await stopGateway(gateway, dbName)
    await stop(child)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-odoo-'))
try {
  // Build once: both parts run the compiled gateway, as docker/Dockerfile does.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  const only = process.env.BENCH_ODOO_ONLY
  const sync = only === 'burst' ? null : await fullSync(dir)
  const intake = only === 'sync' ? null : await webhookIntake(dir)
  process.stdout.write(`${JSON.stringify({
    fullSync: sync,
    webhookIntake: intake,
    server: await describeServer(uri),
    targets: { fullSync: 'overServe ≤ 2, peakRssMb ≤ 200', webhookIntake: 'keyedOverUnkeyed ≥ 0.8 and unkeyedOverBare ≥ 0.5 at every level' }
  })}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(0)
