/**
 * The Odoo webhook under the traffic n8n really sends: every item of a run at once, each request with its own
 * Idempotency-Key, over real HTTP; batches; repeats; and storage going away under it.
 */
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'
import type { FastifyInstance } from 'fastify'
import tap, { type Test } from 'tap'
import { Agent, request } from 'undici'
import { generateEmployees, type SimEmployee } from '../../src/integrations/odoo/sandbox/employees.js'
import { odooIntegration } from '../../src/integrations/odoo/index.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { TEST_API_KEY, authHeaders, build, freshDbName, mongoUri, waitFor, waitForStatus } from '../helpers/app.js'
import { specProblems } from '../helpers/openapi.js'
import { buildOdooApp, odooEnv, startSimulator, tempDir } from '../helpers/odoo-sandbox.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'

type Tap = Test
type Answer = { status: number, headers: Record<string, string | string[] | undefined>, json: Record<string, any> }

/** A sender like n8n's HTTP Request node: a pool that opens as many connections as there are items. */
function sender (t: { teardown: (fn: () => unknown) => void }, connections = 1000) {
  const dispatcher = new Agent({ connections })
  t.teardown(() => dispatcher.close())
  return async (base: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await request(`${base}/odoo/webhook`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY, ...headers },
      body: JSON.stringify(body)
    })
    return { status: res.statusCode, headers: res.headers, json: await res.body.json() as Record<string, any> }
  }
}

async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
}

function csvRows (path: string): Map<string, Record<string, string>> {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>
  return new Map(rows.map((r) => [r.personalNumber as string, r]))
}

/** Waits until no event is pending and no events job is open; returns the events the finished jobs applied. */
async function appliedEvents (t: Tap, app: FastifyInstance, expected: number): Promise<number> {
  const db = app.mongo.db
  await waitFor(async () => {
    const pending = await db.collection('odoo_events').countDocuments({ appliedAt: null })
    const open = await db.collection('jobs').countDocuments({ kind: 'odoo.employee-events', status: { $in: ['queued', 'running'] } })
    return pending === 0 && open === 0
  }, 120_000, 'every event to be applied')
  // A finished job is copied to jobs_done, then removed from jobs: read both, once each.
  const finished = new Map<string, Record<string, any>>()
  for (const name of ['jobs_done', 'jobs']) {
    for (const job of await db.collection(name).find({ kind: 'odoo.employee-events', status: { $in: ['succeeded', 'failed'] } }).toArray()) finished.set(String(job._id), job)
  }
  const jobs = [...finished.values()]
  t.ok(jobs.every((job) => job.status === 'succeeded'), 'every events job succeeded')
  const total = jobs.reduce((sum, job) => sum + Number(job.result?.events ?? 0), 0)
  if (total !== expected) t.comment(JSON.stringify(jobs.map((job) => ({ attempts: job.attempts, leaseExpiries: job.leaseExpiries, events: job.result?.events, error: job.error }))))
  return total
}

async function syncedApp (t: Tap, employees: number, env: Record<string, string> = {}) {
  const sim = await startSimulator(t, { employees: generateEmployees(employees) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  // Leases as in production: on a loaded machine a 3 s test lease can lapse between heartbeats, and this test
  // is about the intake, not about lease takeovers.
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_EVENTS_DEBOUNCE_MS: '300', JOBS_LEASE_MS: '30000', ...env }))
  const initial = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  t.equal((await waitForStatus(app, initial.json().jobId, ['succeeded', 'failed'], 60_000)).status, 'succeeded', 'initial full sync')
  return { sim, csvPath, app }
}

tap.test('1,000 keyed single-event requests at once (default rate limit): all 2xx, each event applied once; n8n resending them all gets the same jobs', async (t) => {
  const { sim, csvPath, app } = await syncedApp(t, 1000)
  const base = await listen(app)
  const post = sender(t)
  for (let id = 1; id <= 1000; id++) sim.upsert({ ...(sim.employees.get(id) as SimEmployee), name: `Burst${id} Person` })
  const key = (id: number): string => `odoo-${id}-2026-12-06 10:00:00`
  const send = () => Promise.all(Array.from({ length: 1000 }, (_, i) => {
    const id = i + 1
    return post(base, { event: 'update', employee_id: id % 2 === 0 ? id : String(id), data: { name: `Burst${id} Person` } }, { 'idempotency-key': key(id) })
  }))
  const first = await send()
  const codes = new Map<number, number>()
  for (const answer of first) codes.set(answer.status, (codes.get(answer.status) ?? 0) + 1)
  t.same([...codes.entries()], [[202, 1000]], 'every request answered 202')
  t.same(specProblems('POST', '/odoo/webhook', { statusCode: 202, json: () => first[0]?.json, headers: first[0]?.headers } as never), [], 'answer matches openapi.yaml')
  t.equal(await appliedEvents(t, app, 1000), 1000, 'the events jobs applied 1,000 events between them: each exactly once')
  const rows = csvRows(csvPath)
  t.equal([...rows.values()].filter((row) => row.givenName?.startsWith('Burst')).length, 1000, 'every rename is in the CSV')

  const eventsJobs = async (): Promise<number> => {
    const ids = new Set<string>()
    for (const name of ['jobs', 'jobs_done']) for (const job of await app.mongo.db.collection(name).find({ kind: 'odoo.employee-events' }).toArray()) ids.add(String(job._id))
    return ids.size
  }
  const jobsBefore = await eventsJobs()
  const again = await send()
  const againCodes = new Map<number, number>()
  for (const answer of again) againCodes.set(answer.status, (againCodes.get(answer.status) ?? 0) + 1)
  t.same([...againCodes.entries()], [[200, 1000]], 'every repeat answers 200')
  if (process.env.DEBUG_TEST) console.error(again.filter((a) => a.status !== 200).slice(0, 3).map((a) => a.json))
  t.ok(again.every((answer, i) => answer.json.jobId === first[i]?.json.jobId), 'with the job of its first answer')
  t.equal(await appliedEvents(t, app, 1000), 1000, 'nothing applied again')
  t.equal(await eventsJobs(), jobsBefore, 'no new job')
})

tap.test('a batch: one request, one write, one job; all-or-nothing with the bad index named; a repeat answers 200', async (t) => {
  const { sim, csvPath, app } = await syncedApp(t, 1200, { JOBS_RUNNER_ENABLED: 'true' })
  const base = await listen(app)
  const post = sender(t, 4)
  const events = Array.from({ length: 1000 }, (_, i) => ({ event: 'update', employee_id: i + 1 }))
  for (const { employee_id: id } of events) sim.upsert({ ...(sim.employees.get(id) as SimEmployee), name: `Batch${id} Person` })

  const bad = structuredClone(events) as Array<Record<string, unknown>>
  bad[3] = { event: 'update' }
  const refused = await post(base, { events: bad }, { 'idempotency-key': 'run-1' })
  t.equal(refused.status, 400)
  t.match(refused.json, { details: [{ field: 'events/3/employee_id', message: 'is required' }] }, 'names the index and the field')
  t.equal(refused.json.message, 'invalid request: events/3/employee_id is required')
  const wrongKind = await post(base, [...events.slice(0, 5), { event: 'rename', employee_id: 9 }])
  t.match(wrongKind.json, { details: [{ field: 'events/5/event', message: 'must be one of "create", "update", "delete", "archive", "department"' }] })
  t.equal(await app.mongo.db.collection('odoo_events').countDocuments({}), 0, 'nothing stored')
  const tooMany = await post(base, { events: Array.from({ length: 5001 }, () => events[0]) })
  t.equal(tooMany.status, 400)
  t.equal(tooMany.json.message, 'invalid request: events must hold at most 5000 items', 'the limit is named')
  t.equal((await post(base, { events: [] })).status, 400, 'an empty batch is refused')

  const accepted = await post(base, { events }, { 'idempotency-key': 'run-1' })
  t.equal(accepted.status, 202)
  t.match(accepted.json, { success: true, events: 1000, status: 'queued' })
  t.notOk('employee_id' in accepted.json, 'a batch answer carries the count, not one employee')
  t.same(specProblems('POST', '/odoo/webhook', { statusCode: 202, json: () => accepted.json, headers: accepted.headers } as never), [], 'answer matches openapi.yaml')
  const repeat = await post(base, { events }, { 'idempotency-key': 'run-1' })
  t.equal(repeat.status, 200, 'the same key again answers 200')
  t.match(repeat.json, { jobId: accepted.json.jobId, events: 1000 }, 'with the first job and count')
  t.equal(await appliedEvents(t, app, 1000), 1000, 'the batch is applied once')
  t.equal(csvRows(csvPath).get('1500')?.givenName, 'Batch500')
  const later = await post(`${base}/`, events.slice(0, 10), { 'idempotency-key': 'run-1' })
  t.match({ status: later.status, jobId: later.json.jobId }, { status: 200, jobId: accepted.json.jobId }, 'a repeat after the batch was applied still names its job (sent to //odoo/webhook: a base URL with a trailing slash does no harm)')
  t.equal(await appliedEvents(t, app, 1000), 1000, 'and stores nothing')
})

tap.test('one delivery sent to two instances at the same moment: one event, one job, both answers name it', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(50) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const env = odooEnv(sim, csvPath, { MONGODB_DB: freshDbName(), JOBS_RUNNER_ENABLED: 'false' })
  const integrations = [systemIntegration, odooIntegration]
  const a = await build(t, { env, integrations })
  const b = await build(t, { env, integrations, keepDatabase: true })
  const body = { event: 'update', employee_id: 7 }
  for (let round = 0; round < 5; round++) {
    const headers = { ...authHeaders(), 'idempotency-key': `twice-${round}` }
    const answers = await Promise.all([a, b].map((app) => app.inject({ method: 'POST', url: '/odoo/webhook', headers, payload: body })))
    t.same(answers.map((r) => r.statusCode).sort(), [200, 202], `round ${round}: one first answer, one repeat`)
    t.equal(answers[0]?.json().jobId, answers[1]?.json().jobId, `round ${round}: the same job`)
  }
  t.equal(await a.mongo.db.collection('odoo_events').countDocuments({ appliedAt: null }), 5, 'each delivery stored once')
})

tap.test('storage away: 503 with Retry-After within the deadline, never 500; what was acknowledged is applied once it is back', async (t) => {
  const proxy = await startTcpProxy(t, mongoUri())
  const sim = await startSimulator(t, { employees: generateEmployees(20) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { MONGODB_URI: proxy.uri, STORAGE_REQUEST_TIMEOUT_MS: '3000', JOBS_RUNNER_ENABLED: 'false' }))
  const post = (employeeId: number, key: string) => app.inject({ method: 'POST', url: '/odoo/webhook', headers: { ...authHeaders(), 'idempotency-key': key }, payload: { event: 'update', employee_id: employeeId } })
  const before = await post(1, 'before-outage')
  t.equal(before.statusCode, 202, 'acknowledged before the outage')

  proxy.down()
  const during = await Promise.all([post(2, 'during-1'), post(3, 'during-2'), app.inject({ method: 'POST', url: '/odoo/webhook', headers: authHeaders(), payload: [{ event: 'delete', employee_id: 4 }] })])
  for (const answer of during) {
    t.equal(answer.statusCode, 503, 'storage away → 503')
    t.ok(Number(answer.headers['retry-after']) > 0, 'with Retry-After')
    t.match(answer.json().message, /database did not accept the request within \d+ ms \(busy or unreachable\); nothing was acknowledged/)
    t.same(specProblems('POST', '/odoo/webhook', answer), [], '503 matches openapi.yaml')
  }

  proxy.up()
  const after = await waitFor(async () => {
    const answer = await post(2, 'during-1')
    return answer.statusCode < 300 ? answer : null
  }, 120_000, 'the gateway to accept again')
  // 200 when the write the gateway gave up on at the deadline landed after all: the key makes that harmless.
  t.ok([200, 202].includes(after.statusCode), `a resent delivery is accepted once storage is back (${after.statusCode})`)
  const stored = await app.mongo.db.collection<{ _id: string }>('odoo_events').find({ appliedAt: null }).toArray()
  t.ok(stored.some((event) => event._id === 'delivery:before-outage'), 'the event acknowledged before the outage is kept')
  t.ok(stored.some((event) => event._id === 'delivery:during-1'), 'the resent one is stored')
})
