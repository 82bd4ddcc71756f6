/**
 * bench:odoo — (1) a full sync of 100,000 employees from the Odoo simulator, with the simulator and the compiled
 * gateway each in its own process, so peakRssMb is the gateway's own high-water mark; (2) a burst of 1,000
 * webhooks sent over real HTTP to that gateway with a bounded number in flight, like n8n's HTTP node, until every
 * event is in the CSV. The measured burst is the gateway's second: its first after start (firstBurst, reported
 * on its own) runs on code the JIT has not compiled yet. Each burst opens new connections. Prints one JSON line.
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
import { describeServer } from './server.js'

const EMPLOYEES = Number(process.env.BENCH_ODOO_EMPLOYEES ?? 100_000)
const EVENTS = Number(process.env.BENCH_ODOO_EVENTS ?? 1_000)
/** Employees behind the webhook burst (the CSV each events job rewrites). */
const BURST_EMPLOYEES = Number(process.env.BENCH_ODOO_BURST_EMPLOYEES ?? 5_000)
const IN_FLIGHT = Number(process.env.BENCH_ODOO_IN_FLIGHT ?? 25)
/** Events in the gateway's first burst after start, sent (and applied) before the measured one. */
const FIRST_BURST_EVENTS = Number(process.env.BENCH_ODOO_FIRST_BURST_EVENTS ?? 250)
const uri = process.env.MONGODB_URI as string
const root = fileURLToPath(new URL('..', import.meta.url))
const API_KEY = 'bench-odoo-key-0123456789'

interface SimInfo { url: string, db: string, login: string, password: string }

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

async function post (url: string, body: unknown, dispatcher?: Dispatcher): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await request(url, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: body === undefined ? undefined : JSON.stringify(body) })
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

async function runJob (base: string): Promise<Record<string, unknown>> {
  const accepted = await post(`${base}/odoo/sync-csv`, undefined)
  const statusUrl = `${base}${String(accepted.json.statusUrl)}`
  for (;;) {
    const res = await request(statusUrl, { headers: { 'x-api-key': API_KEY } })
    const job = await res.body.json() as Record<string, unknown>
    if (job.status === 'succeeded' || job.status === 'failed') return job
    await sleep(20)
  }
}

/** A full sync of EMPLOYEES employees through the compiled gateway: its time and the gateway's peak RSS. */
async function fullSync (dir: string): Promise<Record<string, number | string>> {
  const { child: simChild, info } = await startSimulator(EMPLOYEES)
  const dbName = `bench_odoo_${randomBytes(4).toString('hex')}`
  const { gateway, base } = await startGatewayProcess(info, join(dir, 'full.csv'), dbName)
  try {
    const baseline = rssOf(gateway.pid as number).nowMb
    const started = performance.now()
    const job = await runJob(base)
    const seconds = (performance.now() - started) / 1000
    if (job.status !== 'succeeded') throw new Error(`full sync failed: ${JSON.stringify(job.error)}`)
    const { peakMb } = rssOf(gateway.pid as number)
    const result = job.result as { rows: number }
    return { employees: EMPLOYEES, seconds: Number(seconds.toFixed(2)), peakRssMb: peakMb, rows: result.rows, idleRssMb: baseline, process: `NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS} node dist/server.js` }
  } finally {
    await stopGateway(gateway, dbName)
    await stop(simChild)
  }
}

async function simControl (sim: SimInfo, body: unknown): Promise<void> {
  const res = await request(`${sim.url}/__sim/control`, { method: 'POST', body: JSON.stringify(body) })
  if (res.statusCode !== 200) throw new Error(`simulator control failed: ${await res.body.text()}`)
  await res.body.dump()
}

/**
 * The gateway's own view of the webhook acks: cumulative counts from its Prometheus histogram
 * (`gateway_http_request_duration_seconds`, time from request start to response sent) for POST /odoo/webhook.
 */
async function serverAckBuckets (base: string): Promise<Map<string, number>> {
  const res = await request(`${base}/metrics`, { headers: { 'x-api-key': API_KEY } })
  const text = await res.body.text()
  const buckets = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line.startsWith('gateway_http_request_duration_seconds_bucket{') || !line.includes('route="/odoo/webhook"') || !line.includes('status_code="202"')) continue
    const le = /le="([^"]+)"/.exec(line)?.[1]
    if (le !== undefined) buckets.set(le, Number(line.slice(line.lastIndexOf(' ') + 1)))
  }
  return buckets
}

interface BurstFigures { ackMs: number[], sendSeconds: number, secondsUntilApplied: number }

/**
 * Sends one `update` webhook per employee with IN_FLIGHT requests in flight (half the ids as numeric strings, as
 * n8n templates send them), each on a connection of a fresh client, then waits until every event is applied.
 */
async function sendBurst (base: string, db: Db, employees: SimEmployee[]): Promise<BurstFigures> {
  // A sender's new burst opens new connections: nothing is reused from an earlier burst.
  const dispatcher = new Agent()
  try {
    const limit = pLimit(IN_FLIGHT)
    const ackMs: number[] = []
    const started = performance.now()
    const answers = await Promise.all(employees.map((e) => limit(async () => {
      const t0 = performance.now()
      const res = await post(`${base}/odoo/webhook`, { event: 'update', employee_id: e.id % 2 === 0 ? e.id : String(e.id), data: { name: e.name } }, dispatcher)
      ackMs.push(performance.now() - t0)
      return res.status
    })))
    const sendSeconds = (performance.now() - started) / 1000
    if (answers.some((s) => s !== 202)) throw new Error(`some webhooks were refused: ${answers.filter((s) => s !== 202).length}`)
    const events = db.collection('odoo_events')
    const jobs = db.collection('jobs')
    for (;;) {
      const pending = await events.countDocuments({ appliedAt: null })
      const open = await jobs.countDocuments({ kind: 'odoo.employee-events', status: { $in: ['queued', 'running'] } })
      if (pending === 0 && open === 0) break
      await sleep(20)
    }
    return { ackMs, sendSeconds, secondsUntilApplied: (performance.now() - started) / 1000 }
  } finally {
    await dispatcher.close()
  }
}

function changedEmployees (from: number, count: number): SimEmployee[] {
  return Array.from({ length: count }, (_, i) => {
    const id = from + i
    return { id, name: `Bench${id} Changed`, work_email: `b${id}@example.com`, job_title: 'Bench', department_id: 2, parent_id: false, active: true }
  })
}

async function webhookBurst (dir: string) {
  const { child, info } = await startSimulator(BURST_EMPLOYEES)
  const csvPath = join(dir, 'burst.csv')
  const dbName = `bench_odoo_${randomBytes(4).toString('hex')}`
  const { gateway, base } = await startGatewayProcess(info, csvPath, dbName)
  const mongo = new MongoClient(uri)
  try {
    const db = mongo.db(dbName)
    const initial = await runJob(base)
    if (initial.status !== 'succeeded') throw new Error('initial sync failed')
    // The gateway's first burst after it starts, on code the JIT has not seen yet: reported on its own
    // (firstBurst). The measured burst is the next one, as a gateway in service sees them.
    const warmUp = changedEmployees(EVENTS + 1, FIRST_BURST_EVENTS)
    await simControl(info, { action: 'upsert', employees: warmUp })
    const first = await sendBurst(base, db, warmUp)
    const state = db.collection('odoo_state')
    const rewritesBefore = Number((await state.findOne({ _id: 'hr-csv' as never }))?.rewrites ?? 0)
    // Change EVENTS employees in Odoo, then send one webhook per change.
    const changed = changedEmployees(1, EVENTS)
    await simControl(info, { action: 'upsert', employees: changed })
    const bucketsBefore = await serverAckBuckets(base)
    const burst = await sendBurst(base, db, changed)
    const bucketsAfter = await serverAckBuckets(base)
    const served = (le: string): number => (bucketsAfter.get(le) ?? 0) - (bucketsBefore.get(le) ?? 0)
    const rows = parse(readFileSync(csvPath, 'utf8'), { columns: true }) as Array<Record<string, string>>
    const applied = rows.filter((r) => /^Bench\d+$/.test(r.givenName ?? '')).length
    if (applied !== EVENTS + FIRST_BURST_EVENTS) throw new Error(`only ${applied} of ${EVENTS + FIRST_BURST_EVENTS} changes are in the CSV`)
    const rewrites = Number((await state.findOne({ _id: 'hr-csv' as never }))?.rewrites ?? 0) - rewritesBefore
    return {
      events: EVENTS,
      secondsUntilApplied: Number(burst.secondsUntilApplied.toFixed(2)),
      rewrites,
      p99AckMs: Number(percentile(burst.ackMs, 99).toFixed(1)),
      p50AckMs: Number(percentile(burst.ackMs, 50).toFixed(1)),
      sendSeconds: Number(burst.sendSeconds.toFixed(2)),
      // Inside the gateway (its /metrics histogram): how many acks took at most 25 / 50 / 100 ms from request
      // start to response; the rest of what the client sees is connection set-up and the client's own turn.
      serverAcks: { count: served('+Inf'), within25Ms: served('0.025'), within50Ms: served('0.05'), within100Ms: served('0.1') },
      inFlight: IN_FLIGHT,
      csvRows: rows.length,
      firstBurst: {
        events: FIRST_BURST_EVENTS,
        p99AckMs: Number(percentile(first.ackMs, 99).toFixed(1)),
        p50AckMs: Number(percentile(first.ackMs, 50).toFixed(1)),
        secondsUntilApplied: Number(first.secondsUntilApplied.toFixed(2))
      }
    }
  } finally {
    await mongo.close()
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
  const burst = only === 'sync' ? null : await webhookBurst(dir)
  process.stdout.write(`${JSON.stringify({
    fullSync: sync,
    webhookBurst: burst,
    server: await describeServer(uri),
    targets: { fullSync: 'seconds ≤ 10, peakRssMb ≤ 200', webhookBurst: `secondsUntilApplied ≤ 3, rewrites ≤ 5, p99AckMs ≤ 50 (HTTP, ${IN_FLIGHT} requests in flight like n8n)` }
  })}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(0)
