/**
 * npm run chaos [-- --seed=N] [--kills=N] [--keep] [--self-test]
 *
 * A repeatable SIGKILL loop against the gateway's core promise: whatever it acknowledged with a 2xx survives
 * `kill -9`, is applied exactly once, and nothing is left stuck, partial or duplicated.
 *
 * FerretDB (SQLite, temp dir) and the gateway (`node --import tsx src/server.ts`) each run in a process group
 * of their own; the simulators (Odoo, AtHoc, Insight, Oomnitza) run inside this process, so they live through
 * every kill and remember what they were sent. A seeded load (Odoo webhooks single and batched, keyed and not,
 * full syncs, BOBO uploads, TracOS client files + runs, Insight syncs) goes at the gateway while it is killed
 * `--kills` times at seeded moments and restarted on the same port and data; once, FerretDB is killed and
 * restarted on the same port and data dir instead, under the running gateway. Then, with the load stopped,
 * keyed requests that never got an answer re-sent and one sweep (`/bobo/process`, `/tracos/run`) sent, the run
 * waits for quiescence and checks every acknowledged request (see scripts/chaos/check.ts).
 *
 * Prints one JSON line on stdout; exits 1 on anything lost, duplicated, stuck or partial (details and the seed
 * on stderr, the run's folder with every process's log is kept), 2 when the run itself could not be done.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { MongoClient, type Db } from 'mongodb'
import { request } from 'undici'
import { startAthocSimulator, type AthocSimulator } from '../src/integrations/bobo/sandbox/athoc-simulator.js'
import { startInsightSimulator, type InsightSimulator } from '../src/integrations/insight/sandbox/insight-simulator.js'
import { startOomnitzaSimulator, type OomnitzaSimulator } from '../src/integrations/insight/sandbox/oomnitza-simulator.js'
import { generateEmployees } from '../src/integrations/odoo/sandbox/employees.js'
import { createOdooSimulator, type OdooSimulator } from '../src/integrations/odoo/sandbox/simulator.js'
import { check, type Dirs, type Disruption, type Finding } from './chaos/check.js'
import { BOBO_EMPLOYEE, BOBO_LOGIN, createLoad, createSender, Gate, type Rec } from './chaos/load.js'
import { selfTest } from './chaos/selftest.js'
import { createFerret, ferretBinary, killAllGroups, startGateway, type Ferret, type GatewayProcess } from './chaos/procs.js'
import { Rng } from './chaos/rng.js'
import { freePort } from './mongo-server.js'

const started = Date.now()
const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    kills: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    'self-test': { type: 'boolean', default: false }
  },
  allowPositionals: false
})
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
const kills = Number(values.kills)
if (!Number.isSafeInteger(seed) || seed < 0) usage(`--seed must be a non-negative integer, got ${values.seed}`)
if (!Number.isSafeInteger(kills) || kills < 1) usage(`--kills must be a positive integer, got ${values.kills}`)

function usage (message: string): never {
  process.stderr.write(`${message}\nusage: npm run chaos -- [--seed=N] [--kills=N] [--keep] [--self-test]\n`)
  process.exit(2)
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const API_KEY = 'chaos-key-0123456789abcdef'
const DB_NAME = 'chaos'
const ODOO_EMPLOYEES = 300
const DUTY_FIELD = 'On-Duty-DTG'
const QUIESCENCE_TIMEOUT_MS = 150_000

const log = (line: string): void => { process.stderr.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`) }
log(`seed=${seed} kills=${kills} (repeat with: npm run chaos -- --seed=${seed} --kills=${kills})`)

const work = mkdtempSync(join(tmpdir(), `chaos-${seed}-`))
const logsDir = join(work, 'logs')
mkdirSync(logsDir)
const dirs: Dirs & { tracosStaging: string } = {
  hrDir: join(work, 'hr'),
  hrCsv: join(work, 'hr', 'hr_clean.csv'),
  boboIncoming: join(work, 'bobo', 'incoming'),
  boboProcessed: join(work, 'bobo', 'processed'),
  boboFailed: join(work, 'bobo', 'failed'),
  tracosInbound: join(work, 'tracos', 'inbound'),
  tracosOutbound: join(work, 'tracos', 'outbound'),
  tracosArchive: join(work, 'tracos', 'archive'),
  tracosRejected: join(work, 'tracos', 'rejected'),
  tracosStaging: join(work, 'tracos', 'client-staging')
}
for (const dir of [dirs.hrDir, dirs.boboIncoming, dirs.tracosInbound, dirs.tracosStaging]) mkdirSync(dir, { recursive: true })

// Whatever happens, no process group of ours outlives this process.
process.on('exit', killAllGroups)
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: stopping everything (seed=${seed})`)
    killAllGroups()
    if (!values.keep) rmSync(work, { recursive: true, force: true })
    process.exit(130)
  })
}

// The seeded schedule: when each kill lands after the gateway is up, how long it stays dead, and the DB kill.
const killRng = new Rng(seed, 'kills')
// Most kills land while the gateway serves (a delay after /health answered); about one in eight lands while it
// is still starting (a delay after the spawn: index creation, recovery of the dead one's jobs, first claims).
const killPlan = Array.from({ length: kills }, () => killRng.chance(0.12)
  ? { during: 'start-up' as const, delayMs: killRng.int(500, 4000) }
  : { during: 'service' as const, delayMs: killRng.int(300, 4500) })
const deadFor = Array.from({ length: kills }, () => killRng.int(0, 400))
const dbKill = { cycle: killRng.int(0, kills - 1), after: killRng.int(200, 2500), downMs: killRng.int(1000, 4000) }
// The first kill and the database kill land under a serving gateway.
killPlan[0] = { during: 'service', delayMs: (killPlan[0] as { delayMs: number }).delayMs }
if (killPlan[dbKill.cycle] !== undefined) killPlan[dbKill.cycle] = { during: 'service', delayMs: Math.max(dbKill.after + 500, (killPlan[dbKill.cycle] as { delayMs: number }).delayMs) }
const tailMs = killRng.int(1000, 3000)

interface Run {
  ferret: Ferret
  mongo: MongoClient
  db: Db
  odoo: OdooSimulator
  athoc: AthocSimulator
  insight: InsightSimulator
  oomnitza: OomnitzaSimulator
}

async function main (): Promise<number> {
  const binary = await ferretBinary()
  const ferret = createFerret(binary, join(work, 'ferretdb'), await freePort(), join(logsDir, 'ferretdb.log'))
  await ferret.start()
  log(`FerretDB ${binary} on ${ferret.uri} (pid group ${ferret.pid ?? '?'})`)
  const mongo = new MongoClient(ferret.uri, { serverSelectionTimeoutMS: 10_000 })
  const db = mongo.db(DB_NAME)

  // Upstreams with some latency, so that jobs last long enough for kills to land inside them.
  const odoo = createOdooSimulator({ employees: generateEmployees(ODOO_EMPLOYEES) })
  odoo.setDelay(40)
  await odoo.listen()
  const athoc = await startAthocSimulator({ orgCode: 'CHAOS' })
  athoc.hooks.beforeSync = async () => { await sleep(150) }
  const insight = await startInsightSimulator({ latencyMs: 50 })
  const oomnitza = await startOomnitzaSimulator({ latencyMs: 15 })
  const run: Run = { ferret, mongo, db, odoo, athoc, insight, oomnitza }
  try {
    return await chaos(run)
  } finally {
    await Promise.allSettled([odoo.close(), athoc.close(), insight.close(), oomnitza.close()])
    await mongo.close().catch(() => {})
    await ferret.stop().catch(() => {})
  }
}

async function chaos ({ ferret, db, odoo, athoc, insight, oomnitza }: Run): Promise<number> {
  // BOBO employees: one AtHoc user and one mapping each; every upload row uses an employee of its own.
  const boboPool = 600 + kills * 150
  for (let k = 0; k < boboPool; k++) athoc.addUser(BOBO_LOGIN(k), { 'Collar-Number': BOBO_EMPLOYEE(k) })
  const mappings = Array.from({ length: boboPool }, (_, k) => ({ _id: BOBO_EMPLOYEE(k) as never, login: BOBO_LOGIN(k), collar: BOBO_EMPLOYEE(k), updatedAt: new Date() }))
  for (let i = 0; i < mappings.length; i += 500) await db.collection('workerMappings').insertMany(mappings.slice(i, i + 500))

  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    MONGODB_URI: ferret.uri,
    MONGODB_DB: DB_NAME,
    GATEWAY_API_KEYS: API_KEY,
    RATE_LIMIT_MAX: '0',
    SCHEDULER_ENABLED: 'false',
    JOBS_LEASE_MS: '3000',
    JOBS_POLL_INTERVAL_MS: '100',
    JOBS_BACKOFF_BASE_MS: '200',
    JOBS_BACKOFF_MAX_MS: '2000',
    SHUTDOWN_DRAIN_MS: '2000',
    STORAGE_REQUEST_TIMEOUT_MS: '3000',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    ODOO_URL: odoo.url,
    ODOO_DB: odoo.db,
    ODOO_USERNAME: odoo.login,
    ODOO_PASSWORD: odoo.password,
    ODOO_CSV_PATH: dirs.hrCsv,
    ODOO_TIMEOUT_MS: '10000',
    ODOO_EVENTS_DEBOUNCE_MS: '200',
    ODOO_RETRY_BASE_MS: '200',
    ODOO_RETRY_MAX_MS: '2000',
    // Archive events are part of the load: the guard would (rightly) stop a run that sees many at once.
    ODOO_DEACTIVATION_GUARD_PERCENT: '100',
    ...athoc.env(),
    ATHOC_TIMEOUT_MS: '10000',
    ATHOC_RETRY_BASE_MS: '100',
    BOBO_INCOMING_DIR: dirs.boboIncoming,
    BOBO_PROCESSED_DIR: dirs.boboProcessed,
    BOBO_FAILED_DIR: dirs.boboFailed,
    BOBO_STABLE_MS: '200',
    TRACOS_INBOUND_DIR: dirs.tracosInbound,
    TRACOS_OUTBOUND_DIR: dirs.tracosOutbound,
    TRACOS_ARCHIVE_DIR: dirs.tracosArchive,
    TRACOS_REJECTED_DIR: dirs.tracosRejected,
    TRACOS_MONGO_RETRY_DELAY_MS: '200',
    ...insight.env(),
    ...oomnitza.env(),
    INSIGHT_TIMEOUT_MS: '10000',
    INSIGHT_RETRY_BASE_MS: '100',
    OOMNITZA_TIMEOUT_MS: '10000'
  }

  let generation = 0
  const gatewayLog = (gen: number): string => join(logsDir, `gateway-${String(gen).padStart(2, '0')}.log`)
  let gateway: GatewayProcess = await startGateway({ root: ROOT, env, base, logPath: gatewayLog(0), generation: 0 })
  log(`gateway generation 0 up on ${base} after ${gateway.readyAt - gateway.startedAt} ms`)
  const gate = new Gate()
  const load = createLoad({ rng: new Rng(seed, 'load'), seed, odoo, odooEmployees: ODOO_EMPLOYEES, insight, boboPool, tracosInbound: dirs.tracosInbound, tracosStaging: dirs.tracosStaging })
  const sender = createSender({ base, apiKey: API_KEY, maxInFlight: 16, generation: () => generation, gate, load, log })
  const disruptions: Disruption[] = []
  const unexpectedExits: Array<{ generation: number, code: number | null }> = []
  const restartMs: number[] = []
  let dbRecovery: { downMs: number, recoveredMs: number | null } | null = null

  // The first full sync writes hr_clean.csv (events would otherwise run a full sync instead).
  gate.set(true)
  const first = load.extra('odoo.sync', '/odoo/sync-csv')
  await sender.sendNow(first)
  if (!first.acked || first.jobId === undefined) throw new Error(`the first /odoo/sync-csv was not accepted: ${JSON.stringify(first.attempts)}`)
  await waitForJob(db, first.jobId, 60_000)

  async function killGateway (reason: string): Promise<void> {
    if (!gateway.alive()) unexpectedExits.push({ generation: gateway.generation, code: gateway.exitCode() })
    const at = Date.now()
    // The load does not know the kill is coming: requests in flight (and any sent before the gate closes)
    // get no answer.
    await gateway.kill()
    gate.set(false)
    disruptions.push({ from: at, to: at, what: `gateway ${gateway.generation} SIGKILL (${reason})` })
  }

  async function restartGateway (): Promise<void> {
    generation++
    gateway = await startGateway({ root: ROOT, env, base, logPath: gatewayLog(generation), generation })
    restartMs.push(gateway.readyAt - gateway.startedAt)
    sender.resetAgent()
    gate.set(true)
  }

  /** A gateway killed while it starts: the next one is started right after. */
  async function startAndKill (delayMs: number, label: string): Promise<void> {
    generation++
    gateway = await startGateway({ root: ROOT, env, base, logPath: gatewayLog(generation), generation, wait: false })
    await sleep(delayMs)
    await killGateway(label)
    log(`${label}: gateway generation ${generation} SIGKILLed ${delayMs} ms after its spawn, while starting`)
  }

  const loop = sender.run()
  for (let i = 0; i < kills && !interrupted;) {
    const plan = killPlan[i] as { during: 'service' | 'start-up', delayMs: number }
    if (i === dbKill.cycle) {
      await sleep(dbKill.after)
      const from = Date.now()
      await ferret.kill()
      log(`FerretDB SIGKILLed under gateway generation ${generation}; down for ${dbKill.downMs} ms`)
      await sleep(dbKill.downMs)
      await ferret.start()
      const up = Date.now()
      const recoveredMs = await untilReady(base, 30_000)
      dbRecovery = { downMs: up - from, recoveredMs }
      disruptions.push({ from, to: Date.now(), what: 'FerretDB SIGKILL and restart' })
      log(recoveredMs === null ? 'gateway did NOT report ready within 30 s of FerretDB coming back' : `FerretDB back; the gateway was ready again ${recoveredMs} ms later, by itself`)
      await sleep(Math.max(0, plan.delayMs - dbKill.after))
    } else {
      await sleep(plan.delayMs)
    }
    const upFor = Date.now() - gateway.readyAt
    await killGateway(`kill ${i + 1}/${kills}`)
    log(`kill ${i + 1}/${kills}: gateway generation ${generation} SIGKILLed ${upFor} ms after it was up (${load.recs.length} requests so far)`)
    await sleep(deadFor[i] as number)
    i++
    // The next kills may land while the replacement is still starting.
    while (i < kills && !interrupted && killPlan[i]?.during === 'start-up') {
      await startAndKill((killPlan[i] as { delayMs: number }).delayMs, `kill ${i + 1}/${kills}`)
      await sleep(deadFor[i] as number)
      i++
    }
    await restartGateway()
  }
  await sleep(tailMs)

  // Load off; keyed requests that never got an answer are sent again until answered; then one sweep.
  await sender.stop()
  const resent = await sender.drainResends(Date.now() + 60_000)
  const sweeps: Rec[] = []
  const sweep = async (): Promise<void> => {
    for (const [kind, path, body] of [['bobo.process', '/bobo/process', undefined], ['tracos.run', '/tracos/run', { direction: 'both' }]] as const) {
      const rec = load.extra(kind, path, body)
      await sender.sendNow(rec)
      sweeps.push(rec)
    }
  }
  await sweep()
  log(`load stopped: ${load.recs.length} requests (${load.recs.filter((r) => r.acked).length} acknowledged), ${resent} re-sends at the end; waiting for quiescence`)

  const quiet = await untilQuiet(db, QUIESCENCE_TIMEOUT_MS, sweep)
  log(quiet.quiet ? `quiescent after ${quiet.ms} ms` : `NOT quiescent after ${quiet.ms} ms: ${JSON.stringify(quiet.last)}`)
  if (!gateway.alive()) unexpectedExits.push({ generation: gateway.generation, code: gateway.exitCode() })
  await gateway.stop()
  await loop

  const verdict = await check({ db, load, dirs, athoc, oomnitza, dutyField: DUTY_FIELD, disruptions })
  const ackedCount = load.recs.filter((r) => r.acked).length
  const noAnswer = load.recs.filter((r) => !r.acked && r.attempts.every((a) => a.status === undefined)).length
  const statuses: Record<string, number> = {}
  for (const r of load.recs) for (const a of r.attempts) statuses[String(a.status ?? 'none')] = (statuses[String(a.status ?? 'none')] ?? 0) + 1
  // Answers other than 2xx, 503 (MongoDB away: nothing acknowledged, documented) or none (the kill): worth a look.
  const unexpected = load.recs.flatMap((r) => r.attempts.filter((a) => a.status !== undefined && ![200, 202, 503].includes(a.status)).map((a) => ({ n: r.n, kind: r.kind, key: r.key, gen: a.gen, at: new Date(a.at).toISOString(), status: a.status, body: a.error?.slice(0, 300) })))
  const summary = {
    seed,
    kills: disruptions.filter((d) => d.what.startsWith('gateway')).length,
    dbKills: disruptions.filter((d) => d.what.startsWith('FerretDB')).length,
    acknowledged: ackedCount,
    ...verdict.counts,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    detail: {
      requests: { total: load.recs.length, acknowledged: ackedCount, unanswered: noAnswer, unexpectedAnswers: unexpected.length, keyed: load.recs.filter((r) => r.key !== undefined).length, resentKeyed: load.recs.filter((r) => r.key !== undefined && r.attempts.length > 1).length, attemptsByStatus: statuses, sweeps: sweeps.length },
      ...verdict.detail,
      gateway: { restarts: restartMs.length, startupKills: killPlan.filter((p) => p.during === 'start-up').length, restartMsMedian: median(restartMs), unexpectedExits },
      ferretdb: dbRecovery,
      quiescenceMs: quiet.ms
    }
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`)
  // Every request with its attempts and answers, for a look at a failed run (the folder is kept then).
  writeFileSync(join(work, 'requests.jsonl'), load.recs.map((r) => JSON.stringify({ ...r, body: r.body?.slice(0, 2000) })).join('\n') + '\n')
  const bad = verdict.counts.lost + verdict.counts.duplicated + verdict.counts.stuck + verdict.counts.partialFiles
  if (verdict.findings.length > 0) report(verdict.findings, bad > 0)
  if (unexpected.length > 0) log(`answers other than 2xx/503 (not acknowledged, the request was not re-sent unless keyed): ${JSON.stringify(unexpected.slice(0, 20))}`)
  if (unexpectedExits.length > 0) log(`gateway processes that exited on their own: ${JSON.stringify(unexpectedExits)}`)
  keepFolder = bad > 0 || unexpected.length > 0 || unexpectedExits.length > 0
  if (values['self-test']) {
    const test = await selfTest({ db, load, dirs, athoc, oomnitza, dutyField: DUTY_FIELD, disruptions }, verdict.findings)
    log(`self-test: sabotaged the end state (${test.applied.join('; ')}); ${test.ok ? 'every sabotage was reported' : `NOT reported: ${test.missed.join('; ')}`}`)
    if (!test.ok) return 1
  }
  return bad > 0 ? 1 : 0
}

/** Prints the findings with their evidence (and the gateway log lines of the jobs involved) to stderr. */
function report (findings: Finding[], failing: boolean): void {
  const byType = new Map<string, Finding[]>()
  for (const f of findings) byType.set(f.type, [...(byType.get(f.type) ?? []), f])
  process.stderr.write(`\n==== chaos seed=${seed} kills=${kills}: ${failing ? 'FAILED' : 'passed, with notes'} ====\n`)
  const logFiles = readdirSync(logsDir).filter((n) => n.startsWith('gateway-')).sort().map((n) => join(logsDir, n))
  const logText = logFiles.map((path) => ({ path, lines: readFileSync(path, 'utf8').split('\n') }))
  for (const [type, list] of byType) {
    process.stderr.write(`\n-- ${type}: ${list.length}\n`)
    for (const f of list.slice(0, 25)) {
      process.stderr.write(`* [${f.integration}] ${f.what}\n`)
      if (f.evidence !== undefined) process.stderr.write(`  evidence: ${JSON.stringify(f.evidence).slice(0, 2500)}\n`)
      const ids = new Set<string>()
      const m = /job ([0-9a-f-]{36})/.exec(f.what)
      if (m !== null) ids.add(m[1] as string)
      for (const id of ids) {
        const lines = logText.flatMap(({ path, lines }) => lines.filter((l) => l.includes(id)).map((l) => `${path.slice(path.lastIndexOf('/') + 1)}: ${l.slice(0, 400)}`))
        if (lines.length > 0) process.stderr.write(`  log lines of job ${id} (${lines.length}):\n${lines.slice(0, 15).map((l) => `    ${l}`).join('\n')}\n`)
      }
    }
    if (list.length > 25) process.stderr.write(`  … and ${list.length - 25} more\n`)
  }
  process.stderr.write(`\nrequests and answers: ${join(work, 'requests.jsonl')}; gateway and FerretDB logs: ${logsDir}\nrepeat with: npm run chaos -- --seed=${seed} --kills=${kills}\n`)
}

function median (values: number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function waitForJob (db: Db, id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const job = await db.collection('jobs_done').findOne({ _id: id as never })
    if (job !== null) {
      if (job.status !== 'succeeded') throw new Error(`set-up job ${id} ${String(job.status)}: ${JSON.stringify(job.error)}`)
      return
    }
    if (Date.now() > deadline) throw new Error(`set-up job ${id} did not finish within ${timeoutMs} ms`)
    await sleep(100)
  }
}

/** How long until /ready answers 200 again (null: not within the limit). */
async function untilReady (base: string, timeoutMs: number): Promise<number | null> {
  const from = Date.now()
  while (Date.now() - from < timeoutMs) {
    const ok = await request(`${base}/ready`, { headers: { 'x-api-key': API_KEY }, headersTimeout: 2000, bodyTimeout: 2000 })
      .then(async (res) => { await res.body.dump(); return res.statusCode === 200 }, () => false)
    if (ok) return Date.now() - from
    await sleep(100)
  }
  return null
}

const visible = (dir: string, suffix = ''): number => {
  try { return readdirSync(dir).filter((n) => !n.startsWith('.') && n.endsWith(suffix)).length } catch { return 0 }
}

/**
 * Waits until no job is queued or running, no webhook event is pending and neither BOBO's incoming nor
 * TracOS's inbound folder holds a file. When the jobs are done but files are still waiting (their job ran out
 * of attempts, say), the sweep is sent again (at most three times): the scheduler that would do it is off.
 */
async function untilQuiet (db: Db, timeoutMs: number, sweep: () => Promise<void>): Promise<{ quiet: boolean, ms: number, last: Record<string, number> }> {
  const from = Date.now()
  let sweepsLeft = 3
  let last: Record<string, number> = {}
  let quietSince: number | null = null
  while (Date.now() - from < timeoutMs) {
    try {
      const live = await db.collection('jobs').countDocuments({ status: { $in: ['queued', 'running'] } })
      const pending = await db.collection('odoo_events').countDocuments({ appliedAt: null })
      last = { live, pending, boboIncoming: visible(dirs.boboIncoming), tracosInbound: visible(dirs.tracosInbound, '.json'), boboBatches: await db.collection('boboBatches').countDocuments({}) }
      const filesWaiting = (last.boboIncoming ?? 0) + (last.tracosInbound ?? 0) + (last.boboBatches ?? 0)
      if (live === 0 && pending === 0 && filesWaiting === 0) {
        // Quiet twice in a row, a poll apart: a job finishing and the next being enqueued cannot both hide.
        if (quietSince !== null) return { quiet: true, ms: Date.now() - from, last }
        quietSince = Date.now()
      } else {
        quietSince = null
        if (live === 0 && pending === 0 && filesWaiting > 0 && sweepsLeft > 0) {
          sweepsLeft--
          log(`jobs done but files still waiting (${JSON.stringify(last)}): sweeping again`)
          await sweep()
        }
      }
    } catch (err) {
      log(`quiescence poll failed: ${(err as Error).message}`)
    }
    await sleep(500)
  }
  return { quiet: false, ms: Date.now() - from, last }
}

let keepFolder = false
let code: number
try {
  code = await main()
} catch (err) {
  log(`the chaos run could not be completed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  log(`seed=${seed}; logs kept in ${logsDir}`)
  killAllGroups()
  process.exit(2)
}
killAllGroups()
if (!keepFolder && !values.keep) rmSync(work, { recursive: true, force: true })
else log(`run folder kept: ${work} (logs in ${logsDir})`)
process.exit(code)
