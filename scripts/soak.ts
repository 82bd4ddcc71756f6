/**
 * npm run soak — SOAK_EVENTS (100,000) single-event Odoo webhooks at SOAK_IN_FLIGHT (100) in flight, every
 * other one with an Idempotency-Key, against the gateway in its own process and the Odoo simulator, then until
 * every event is applied. Prints one JSON line: answers by status (0 × 5xx expected), events lost (acknowledged
 * but never applied), the drain ratio (time until applied over time to send), and the gateway's RSS growth from
 * the first to the second half of the send (< 10% expected). Exits non-zero on a 5xx, a loss or a stuck drain.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import pLimit from 'p-limit'
import { Agent, request } from 'undici'
import { generateEmployees } from '../src/integrations/odoo/sandbox/employees.js'
import { createOdooSimulator } from '../src/integrations/odoo/sandbox/simulator.js'
import { freePort } from './mongo-server.js'

const EVENTS = Number(process.env.SOAK_EVENTS ?? 100_000)
const IN_FLIGHT = Number(process.env.SOAK_IN_FLIGHT ?? 100)
const EMPLOYEES = Number(process.env.SOAK_EMPLOYEES ?? 5000)
/** How long the drain may take after the last answer before the soak calls the events stuck. */
const DRAIN_LIMIT_MS = Number(process.env.SOAK_DRAIN_LIMIT_MS ?? 15 * 60_000)
const API_KEY = 'soak-key-0123456789abcdef'
const root = fileURLToPath(new URL('..', import.meta.url))
const uri = process.env.MONGODB_URI as string

function rssMb (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

async function startGateway (env: Record<string, string>): Promise<{ child: ChildProcess, base: string }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env }
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('the gateway exited at start')
    if (await request(`${base}/health`).then((r) => r.statusCode === 200, () => false)) return { child, base }
    if (i > 1200) throw new Error('the gateway did not start')
    await sleep(50)
  }
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)

async function main (): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'soak-'))
  const sim = createOdooSimulator({ employees: generateEmployees(EMPLOYEES) })
  await sim.listen()
  const dbName = `soak_${randomBytes(4).toString('hex')}`
  const { child, base } = await startGateway({
    MONGODB_URI: uri,
    MONGODB_DB: dbName,
    GATEWAY_API_KEYS: API_KEY,
    // The intake under sustained load, not the rate limit (10,000 a minute per key by default).
    RATE_LIMIT_MAX: '0',
    SCHEDULER_ENABLED: 'false',
    ODOO_URL: sim.url,
    ODOO_DB: sim.db,
    ODOO_USERNAME: sim.login,
    ODOO_PASSWORD: sim.password,
    ODOO_CSV_PATH: join(dir, 'hr_clean.csv')
  })
  const mongo = new MongoClient(uri)
  const dispatcher = new Agent({ connections: IN_FLIGHT })
  try {
    const db = mongo.db(dbName)
    const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY }
    const first = await request(`${base}/odoo/sync-csv`, { method: 'POST', headers })
    await first.body.dump()
    const statuses = new Map<number, number>()
    const rss: Array<{ at: number, mb: number }> = []
    const sampler = setInterval(() => { rss.push({ at: performance.now(), mb: rssMb(child.pid as number) }) }, 500)
    const limit = pLimit(IN_FLIGHT)
    let acknowledged = 0
    const started = performance.now()
    const progress = setInterval(() => { process.stderr.write(`[soak] ${acknowledged} acknowledged after ${((performance.now() - started) / 1000).toFixed(0)} s\n`) }, 15_000)
    await Promise.all(Array.from({ length: EVENTS }, (_, i) => limit(async () => {
      const id = (i % EMPLOYEES) + 1
      const keyed = i % 2 === 0 ? { 'idempotency-key': `soak-${i}` } : {}
      const res = await request(`${base}/odoo/webhook`, {
        method: 'POST', dispatcher, headers: { ...headers, ...keyed }, body: JSON.stringify({ event: 'update', employee_id: id })
      }).catch(() => null)
      const status = res?.statusCode ?? 0
      await res?.body.dump()
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      if (status >= 200 && status < 300) acknowledged++
    })))
    const sendSeconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    clearInterval(progress)
    process.stderr.write(`[soak] sent ${EVENTS} in ${sendSeconds.toFixed(1)} s; waiting for the drain\n`)
    // Drained: no events job open, then no event pending. Polled gently: on FerretDB a count of pending events
    // scans the whole collection, and polling it hard would slow the drain it measures.
    const deadline = Date.now() + DRAIN_LIMIT_MS
    let drained = false
    while (Date.now() < deadline) {
      await sleep(1000)
      const open = await db.collection('jobs').countDocuments({ kind: 'odoo.employee-events', status: { $in: ['queued', 'running'] } })
      if (open > 0) continue
      if (await db.collection('odoo_events').countDocuments({ appliedAt: null }) === 0) { drained = true; break }
    }
    const drainSeconds = (performance.now() - started) / 1000
    const jobs = await db.collection('jobs_done').find({ kind: { $in: ['odoo.employee-events', 'odoo.sync-csv'] } }).toArray()
    const applied = jobs.filter((job) => job.kind === 'odoo.employee-events').reduce((sum, job) => sum + Number(job.result?.events ?? 0), 0)
    const covered = jobs.filter((job) => job.kind === 'odoo.sync-csv').reduce((sum, job) => sum + Number(job.result?.coveredEvents ?? 0), 0)
    const eventsJobs = jobs.filter((job) => job.kind === 'odoo.employee-events')
    const half = started + (sendSeconds * 1000) / 2
    const firstHalf = mean(rss.filter((s) => s.at < half).map((s) => s.mb))
    const secondHalf = mean(rss.filter((s) => s.at >= half).map((s) => s.mb))
    const fiveHundreds = [...statuses.entries()].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0)
    const lost = acknowledged - (applied + covered)
    const line = {
      soak: 'odoo-webhook',
      events: EVENTS,
      inFlight: IN_FLIGHT,
      keyedShare: 0.5,
      answers: Object.fromEntries([...statuses.entries()].sort(([a], [b]) => a - b)),
      fiveHundreds,
      acknowledged,
      applied: applied + covered,
      lost,
      drained,
      acksPerSec: Math.round(acknowledged / sendSeconds),
      sendSeconds: Number(sendSeconds.toFixed(1)),
      drainSeconds: Number(drainSeconds.toFixed(1)),
      drainRatio: Number((drainSeconds / sendSeconds).toFixed(2)),
      eventsJobs: eventsJobs.length,
      emptyEventsJobs: eventsJobs.filter((job) => Number(job.result?.events ?? 0) === 0).length,
      rssMb: { firstHalf: Math.round(firstHalf), secondHalf: Math.round(secondHalf), growthPercent: Number((((secondHalf - firstHalf) / firstHalf) * 100).toFixed(1)) }
    }
    process.stdout.write(`${JSON.stringify(line)}\n`)
    return fiveHundreds === 0 && lost === 0 && drained ? 0 : 1
  } finally {
    await dispatcher.close()
    child.kill('SIGTERM')
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    await mongo.db(dbName).dropDatabase().catch(() => {})
    await mongo.close()
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

process.exit(await main())
