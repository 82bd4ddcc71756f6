import { setTimeout as sleep } from 'node:timers/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import type { FastifyInstance } from 'fastify'
import pLimit from 'p-limit'
import t from 'tap'
import { generateEmployees, trickyEmployees } from '../../src/integrations/odoo/sandbox/employees.js'
import type { SimEmployee } from '../../src/integrations/odoo/sandbox/employees.js'
import { signWebhook } from '../../src/plugins/webhooks.js'
import { authHeaders, build, freshDbName, waitFor, waitForStatus } from '../helpers/app.js'
import { documentedSchemaAccepts, specProblems } from '../helpers/openapi.js'
import { buildOdooApp, odooEnv, startSimulator, tempDir } from '../helpers/odoo-sandbox.js'
import { odooIntegration } from '../../src/integrations/odoo/index.js'
import { systemIntegration } from '../../src/integrations/system/index.js'

function post (app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/odoo/webhook', payload: payload as object, headers: { ...authHeaders(), ...headers } })
}

function csvRows (path: string): Map<string, Record<string, string>> {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>
  return new Map(rows.map((r) => [r.personalNumber as string, r]))
}

async function allApplied (app: FastifyInstance): Promise<void> {
  const events = app.mongo.db.collection('odoo_events')
  const jobs = app.mongo.db.collection('jobs')
  await waitFor(async () => {
    const pending = await events.countDocuments({ appliedAt: null })
    const open = await jobs.countDocuments({ kind: 'odoo.employee-events', status: { $in: ['queued', 'running'] } })
    return pending === 0 && open === 0
  }, 60_000, 'every event to be applied')
}

t.test('bad payloads → 400 naming the field', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const app = await buildOdooApp(t, odooEnv(sim, join(tempDir(t), 'hr.csv'), { JOBS_RUNNER_ENABLED: 'false' }))
  const cases: Array<[unknown, string]> = [
    [{ event: 'rename', employee_id: 1 }, 'event'],
    [{ employee_id: 1 }, 'event'],
    [{ event: 'update' }, 'employee_id'],
    [{ event: 'update', employee_id: 'abc' }, 'employee_id'],
    [{ event: 'update', employee_id: -4 }, 'employee_id'],
    [{ event: 'update', employee_id: 0 }, 'employee_id'],
    [{ event: 'update', employee_id: 1.5 }, 'employee_id'],
    [{ event: 'update', employee_id: true }, 'employee_id'],
    [{ event: 'update', employee_id: '12a' }, 'employee_id'],
    [{ event: 'update', employee_id: 1, data: 'x' }, 'data'],
    [{ event: 'update', employee_id: 1, data: { active: 'yes' } }, 'data/active'],
    [{ event: 'update', employee_id: 1, data: { name: 5 } }, 'data/name'],
    [{ event: 'update', employee_id: 1, data: { name: null } }, 'data/name'],
    [{ event: 'update', employee_id: 1, data: { work_email: true } }, 'data/work_email'],
    [{ event: 'update', employee_id: '0' }, 'employee_id'],
    [{ event: 'update', employee_id: ' 000 ' }, 'employee_id'],
    [[1, 2], 'events/0']
  ]
  for (const [payload, field] of cases) {
    const res = await post(app, payload)
    t.equal(res.statusCode, 400, `${JSON.stringify(payload)} → 400`)
    t.equal(res.json().details?.[0]?.field, field, `names ${field}`)
    t.same(specProblems('POST', '/odoo/webhook', res), [], 'error matches openapi.yaml')
    t.notOk(documentedSchemaAccepts('OdooWebhookRequest', payload), `openapi.yaml refuses ${JSON.stringify(payload)} too`)
  }
  t.equal(await app.mongo.db.collection('odoo_events').countDocuments({}), 0, 'nothing stored')
  // What the route accepts, the documented schema accepts (and the other way round, above).
  const valid = [
    { event: 'update', employee_id: 55 },
    { event: 'create', employee_id: ' 007 ' },
    { event: 'update', employee_id: '55', data: null },
    { event: 'update', employee_id: 55, data: { name: false, work_email: false, job_title: null, active: true } },
    { event: 'archive', employee_id: 55, data: { name: 'Ada Lovelace', work_email: 'ada@example.com', job_title: '' } }
  ]
  for (const payload of valid) {
    t.ok(documentedSchemaAccepts('OdooWebhookBody', payload), `openapi.yaml accepts ${JSON.stringify(payload)}`)
    t.equal((await post(app, payload)).statusCode, 202, `the route accepts ${JSON.stringify(payload)}`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/odoo/webhook', payload: { event: 'update', employee_id: 1 } })).statusCode, 401, 'an API key is required')
  // A body in another media type is refused the same way whatever the type: 415 naming the one accepted.
  for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
    const res = await app.inject({ method: 'POST', url: '/odoo/webhook', headers: { ...authHeaders(), 'content-type': type }, payload: 'event=update&employee_id=1' })
    t.equal(res.statusCode, 415, `${type} → 415`)
    t.equal(res.json().message, `Content-Type ${type} is not accepted; send application/json`)
    t.same(specProblems('POST', '/odoo/webhook', res), [], '415 matches openapi.yaml')
  }
})

t.test('accepted at once with the seed fields; stored before the answer; events coalesce into one job', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const app = await buildOdooApp(t, odooEnv(sim, join(tempDir(t), 'hr.csv'), { JOBS_RUNNER_ENABLED: 'false' }))
  const first = await post(app, { event: 'update', employee_id: '12', data: { name: 'Ada Lovelace', work_email: 'ada@example.com', job_title: 'Eng', active: true } })
  t.equal(first.statusCode, 202)
  t.same(specProblems('POST', '/odoo/webhook', first), [], 'answer matches openapi.yaml')
  const body = first.json()
  t.match(body, { success: true, employee_id: 12, status: 'queued', statusUrl: `/jobs/${body.jobId as string}` })
  t.ok(!Number.isNaN(Date.parse(body.timestamp)) && body.timestamp.endsWith('Z'), 'ISO 8601 UTC timestamp')
  const stored = await app.mongo.db.collection('odoo_events').findOne({ employeeId: 12 })
  t.match(stored, { event: 'update', employeeId: 12, appliedAt: null, data: { name: 'Ada Lovelace', active: true } })
  const second = await post(app, { event: 'delete', employee_id: 3 })
  t.equal(second.json().jobId, body.jobId, 'a second event joins the queued job')
  const repeated = await post(app, { event: 'delete', employee_id: 3 }, { 'idempotency-key': 'n8n-1' })
  const again = await post(app, { event: 'delete', employee_id: 3 }, { 'idempotency-key': 'n8n-1' })
  t.equal(repeated.statusCode, 202)
  t.equal(again.statusCode, 200, 'a repeated delivery answers 200')
  t.equal(await app.mongo.db.collection('odoo_events').countDocuments({ appliedAt: null }), 3, 'and is stored once')
})

t.test('events stored before their job starts are read by it; one arriving while it runs gets the next job', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr.csv')
  // A long debounce: the second event is answered from what the first enqueue told (no query), the third
  // arrives while that job waits on a slow Odoo.
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_EVENTS_DEBOUNCE_MS: '1500' }))
  sim.upsert({ id: 1, name: 'First Changed', work_email: 'first@example.com', job_title: 'One', department_id: 1, parent_id: false, active: true })
  sim.upsert({ id: 4, name: 'Second Changed', work_email: 'second@example.com', job_title: 'Two', department_id: 4, parent_id: false, active: true })
  const first = await post(app, { event: 'update', employee_id: 1 })
  const second = await post(app, { event: 'update', employee_id: 4 })
  const firstJob = first.json<{ jobId: string }>().jobId
  t.equal(second.json().jobId, firstJob, 'both are taken by the queued job')
  sim.setDelay(1500)
  const logins = sim.stats.calls.authenticate ?? 0
  // The job calls Odoo once it has read the pending events.
  await waitFor(async () => (sim.stats.calls.authenticate ?? 0) > logins, 30_000, 'the first job to have read its events')
  sim.upsert({ id: 12, name: 'Third Changed', work_email: 'third@example.com', job_title: 'Three', department_id: 3, parent_id: false, active: true })
  const third = await post(app, { event: 'update', employee_id: 12 })
  const thirdJob = third.json<{ jobId: string }>().jobId
  t.not(thirdJob, firstJob, 'an event arriving while the job runs is given the next job')
  sim.setDelay(0)
  const done = await waitForStatus(app, firstJob, ['succeeded', 'failed'], 30_000)
  t.match(done, { status: 'succeeded', result: { events: 2 } }, 'the first job applied the two events stored before it started')
  t.match(await waitForStatus(app, thirdJob, ['succeeded', 'failed'], 30_000), { status: 'succeeded', result: { events: 1 } })
  const rows = csvRows(csvPath)
  t.equal(rows.get('1001')?.givenName, 'First')
  t.equal(rows.get('1004')?.givenName, 'Second')
  t.equal(rows.get('1012')?.givenName, 'Third')
  await allApplied(app)
})

t.test('with no HR CSV yet, the events job writes the whole file, not just the changed employees', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_EVENTS_DEBOUNCE_MS: '100' }))
  sim.upsert({ id: 12, name: 'Ada Changed', work_email: 'ada@example.com', job_title: 'Eng', department_id: 1, parent_id: false, active: true })
  const accepted = await post(app, { event: 'update', employee_id: 12 })
  const done = await waitForStatus(app, accepted.json<{ jobId: string }>().jobId, ['succeeded', 'failed'], 30_000)
  t.match(done, { status: 'succeeded', result: { events: 1, fullSyncInstead: String, written: true } })
  const rows = csvRows(csvPath)
  t.equal(rows.get('1012')?.givenName, 'Ada', 'the event is in it')
  t.ok(rows.size > 1, `and so is everyone else (${rows.size} rows)`)
  // A full sync now finds nothing to change: the file already held every employee.
  const sync = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  t.match(await waitForStatus(app, sync.json<{ jobId: string }>().jobId, ['succeeded', 'failed'], 30_000), { status: 'succeeded', result: { written: false, rows: rows.size } })
  await allApplied(app)
})

t.test('a stream of events keeps its job waiting until it quiets down, but no longer than ODOO_EVENTS_MAX_WAIT_MS', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(60) })
  const csvPath = join(tempDir(t), 'hr.csv')
  // A debounce far longer than the gap between events, so that a loaded machine cannot open a quiet moment.
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_EVENTS_DEBOUNCE_MS: '3000', ODOO_EVENTS_MAX_WAIT_MS: '120000' }))
  const jobs = app.mongo.db.collection('jobs')
  // One event every 100 ms or so: each comes within the debounce of the last, so the job waits them all out.
  const jobIds = new Set<string>()
  for (let id = 1; id <= 15; id++) {
    sim.upsert({ ...(sim.employees.get(id) as SimEmployee), name: `Streamed${id} Person` })
    jobIds.add((await post(app, { event: 'update', employee_id: id })).json().jobId)
    t.equal(await jobs.countDocuments({ kind: 'odoo.employee-events', status: 'running' }), 0, `not running while events keep coming (${id})`)
    await sleep(100)
  }
  const lastAnswered = Date.now()
  t.equal(jobIds.size, 1, 'every event joined one job')
  const done = await waitForStatus(app, [...jobIds][0] as string, ['succeeded', 'failed'], 30_000)
  t.match(done, { status: 'succeeded', attempts: 1, result: { events: 15 } }, 'one run applied them all')
  t.ok((done.startedAt as Date).getTime() >= lastAnswered + 2000, 'it started once the stream had been quiet for the debounce')
  const rows = csvRows(csvPath)
  t.equal([...rows.values()].filter((r) => (r.givenName ?? '').startsWith('Streamed')).length, 15)

  // A stream longer than the longest wait: the job runs while events still come, later ones get the next job.
  const capped = await buildOdooApp(t, odooEnv(sim, join(tempDir(t), 'capped.csv'), { ODOO_EVENTS_DEBOUNCE_MS: '3000', ODOO_EVENTS_MAX_WAIT_MS: '800' }))
  const cappedIds = new Set<string>()
  const streamStarted = Date.now()
  while (Date.now() - streamStarted < 2500) {
    cappedIds.add((await post(capped, { event: 'update', employee_id: 1 + (cappedIds.size % 50) })).json().jobId)
    await sleep(100)
  }
  t.ok(cappedIds.size >= 2, `events kept coming past the longest wait: more than one job (${cappedIds.size})`)
  await allApplied(capped)
})

t.test('an instance that did not see its job held back still joins events to it while it waits', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(40) })
  const csvPath = join(tempDir(t), 'hr.csv')
  // Two instances on one database: webhooks reach one that runs no jobs; the other's runner holds the events
  // job back while they keep coming. The intake's idea of when the job is due goes stale, so past it each
  // batch's enqueue runs beside the write: it must find the job still queued, not start another.
  const shared = { MONGODB_DB: freshDbName(), ODOO_EVENTS_DEBOUNCE_MS: '1500', ODOO_EVENTS_MAX_WAIT_MS: '120000' }
  const intake = await build(t, { env: odooEnv(sim, csvPath, { ...shared, JOBS_RUNNER_ENABLED: 'false' }), integrations: [systemIntegration, odooIntegration], keepDatabase: true })
  const runner = await buildOdooApp(t, odooEnv(sim, csvPath, shared))
  const jobs = runner.mongo.db.collection('jobs')
  const jobIds = new Set<string>()
  const streamStarted = Date.now()
  let sent = 0
  while (Date.now() - streamStarted < 3000) {
    const id = 1 + (sent % 40)
    sim.upsert({ ...(sim.employees.get(id) as SimEmployee), name: `Held${id} Person` })
    jobIds.add((await post(intake, { event: 'update', employee_id: id })).json().jobId)
    sent++
    // A pause across the job's first due time (1.5 s in), so no batch of the intake learns the new one.
    const elapsed = Date.now() - streamStarted
    await sleep(elapsed > 1100 && elapsed < 1800 ? 1800 - elapsed : 100)
  }
  t.equal(jobIds.size, 1, `every event joined one job (${sent} events over ${Date.now() - streamStarted} ms)`)
  const jobId = [...jobIds][0] as string
  const held = await jobs.findOne({ _id: jobId as never })
  t.ok(held !== null && held.claimSeq > 0, 'the runner claimed the job and held it back at least once')
  const done = await waitForStatus(runner, jobId, ['succeeded', 'failed'], 30_000)
  t.match(done, { status: 'succeeded', attempts: 1, result: { events: sent } }, 'one run applied them all')
  await allApplied(runner)
})

t.test('a backlog larger than one job takes is applied by follow-up jobs, with no webhook to trigger them', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(200) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_EVENTS_PER_JOB: '50' }))
  const initial = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  t.equal((await waitForStatus(app, initial.json().jobId, ['succeeded', 'failed'], 30_000)).status, 'succeeded')
  // Everything is stored before any job runs: the first job finds 120 pending and takes 50.
  await app.jobs.runner.stop(5000)
  const res = await post(app, { events: Array.from({ length: 120 }, (_, i) => ({ event: 'update', employee_id: i + 1 })) })
  t.equal(res.statusCode, 202)
  app.jobs.runner.start()
  await allApplied(app)
  // A finished job is copied to jobs_done, then removed from jobs: read both (jobs first), by id.
  const jobs = new Map<string, { result?: { events?: number } | null }>()
  for (const name of ['jobs', 'jobs_done']) {
    for (const job of await app.mongo.db.collection(name).find({ kind: 'odoo.employee-events', status: 'succeeded' }).toArray()) jobs.set(String(job._id), job as { result?: { events?: number } | null })
  }
  t.same([...jobs.values()].map((job) => job.result?.events).sort(), [20, 50, 50], 'three jobs: 50, 50 and 20 events')
})

t.test('a burst of 500 events: every employee reflected, a handful of rewrites', async (t) => {
  const employees = generateEmployees(800)
  const sim = await startSimulator(t, { employees })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_EVENTS_DEBOUNCE_MS: '300', ODOO_PAGE_SIZE: '200' }))
  const initial = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  t.equal((await waitForStatus(app, initial.json().jobId, ['succeeded', 'failed'], 30_000)).status, 'succeeded')
  const state = app.mongo.db.collection('odoo_state')
  const rewritesBefore = Number((await state.findOne({ _id: 'hr-csv' as never }))?.rewrites)

  // 500 changes in Odoo: 480 renames, 10 archived, 10 deleted; n8n posts one webhook per employee.
  const events: Array<{ event: string, employee_id: number | string }> = []
  for (let id = 1; id <= 500; id++) {
    const e = sim.employees.get(id)
    if (e === undefined) continue
    if (id % 50 === 0) {
      sim.remove(id)
      events.push({ event: 'delete', employee_id: id })
    } else if (id % 50 === 1) {
      sim.upsert({ ...e, active: false })
      events.push({ event: 'archive', employee_id: String(id) })
    } else {
      sim.upsert({ ...e, name: `Renamed${id} Person`, active: true })
      events.push({ event: 'update', employee_id: id % 2 === 0 ? id : String(id) })
    }
  }
  const limit = pLimit(25)
  const answers = await Promise.all(events.map((event) => limit(() => post(app, event))))
  t.ok(answers.every((r) => r.statusCode === 202), 'every event accepted')
  await allApplied(app)

  const rows = csvRows(csvPath)
  let reflected = 0
  for (let id = 1; id <= 500; id++) {
    const row = rows.get(String(1000 + id))
    if (id % 50 === 0) reflected += row?.status === 'Inactive' ? 1 : 0
    else if (id % 50 === 1) reflected += row?.status === 'Inactive' ? 1 : 0
    else reflected += row?.givenName === `Renamed${id}` && row.familyName === 'Person' && row.status === 'Active' ? 1 : 0
  }
  t.equal(reflected, 500, 'every employee is reflected in the CSV')
  t.equal(rows.size, 800, 'no row lost')
  const rewrites = Number((await state.findOne({ _id: 'hr-csv' as never }))?.rewrites) - rewritesBefore
  // The first job starts one debounce after the first event; events arriving while it runs join the next one.
  // On a loaded machine the burst can straddle a few jobs, so allow a handful (the bench holds the ≤ 5 target).
  t.ok(rewrites >= 1 && rewrites <= 10, `a handful of rewrites (${rewrites})`)
  const searchReads = sim.stats.calls.execute_kw ?? 0
  t.ok(searchReads < 60, `few Odoo calls for 500 events (${searchReads})`)
})

t.test('delete and archive events; ODOO_DELETE_MODE=remove', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const dir = tempDir(t)
  const csvPath = join(dir, 'hr.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath))
  const initial = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  await waitForStatus(app, initial.json().jobId, ['succeeded'], 30_000)
  sim.remove(12)
  sim.upsert({ ...(sim.employees.get(1) as SimEmployee), active: false })
  sim.upsert({ id: 40, name: 'New Hire', work_email: 'new@example.com', job_title: 'Intern', department_id: 2, parent_id: 1, active: true })
  await post(app, { event: 'delete', employee_id: 12 })
  await post(app, { event: 'archive', employee_id: 1 })
  await post(app, { event: 'create', employee_id: 40 })
  await post(app, { event: 'update', employee_id: 999 })
  await allApplied(app)
  const rows = csvRows(csvPath)
  t.equal(rows.get('1012')?.status, 'Inactive', 'a deleted employee stays as Inactive')
  t.equal(rows.get('1001')?.status, 'Inactive', 'an archived employee becomes Inactive')
  t.match(rows.get('1040'), { givenName: 'New', familyName: 'Hire', department: 'Engineering', status: 'Active' }, 'a created employee is added')
  t.notOk(rows.has('1999'), 'an unknown id adds nothing')

  const csvRemove = join(dir, 'remove.csv')
  writeFileSync(csvRemove, readFileSync(csvPath))
  const removing = await buildOdooApp(t, odooEnv(sim, csvRemove, { ODOO_DELETE_MODE: 'remove' }))
  await post(removing, { event: 'delete', employee_id: 12 })
  await allApplied(removing)
  t.notOk(csvRows(csvRemove).has('1012'), 'remove mode drops the row')
})

t.test('Odoo unreachable: retried, then the payload data is applied and the department kept', async (t) => {
  const dir = tempDir(t)
  const csvPath = join(dir, 'hr.csv')
  writeFileSync(csvPath, 'personalNumber,givenName,familyName,email,department,title,status\n1001,Mitchell,Admin,admin@example.com,Management,CEO,Active\n1002,Old,Name,old@example.com,Sales,Rep,Active\n')
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const app = await buildOdooApp(t, { ...odooEnv(sim, csvPath, { ODOO_EVENTS_DEBOUNCE_MS: '1500' }), ODOO_RETRY_ATTEMPTS: '2' })
  await sim.close()
  const res = await post(app, { event: 'update', employee_id: 1, data: { name: 'Mitchell  Admin-Smith', work_email: 'mitchell@example.com', job_title: 'Chair', active: false } })
  await post(app, { event: 'update', employee_id: 2 })
  await post(app, { event: 'delete', employee_id: 2 })
  const last = await post(app, { event: 'create', employee_id: 77, data: { name: 'Solo', active: true } })
  t.equal(last.json().jobId, res.json().jobId, 'the four events share one job')
  const job = await waitForStatus(app, res.json().jobId, ['succeeded', 'failed'], 30_000)
  t.equal(job.status, 'succeeded', JSON.stringify(job.error))
  t.equal(job.attempts, 2, 'every attempt was tried first')
  t.match(job.result, { fallback: { reason: /cannot reach Odoo/, appliedFromPayload: 3, skippedWithoutData: [2] } })
  const rows = csvRows(csvPath)
  t.same(rows.get('1001'), { personalNumber: '1001', givenName: 'Mitchell', familyName: 'Admin-Smith', email: 'mitchell@example.com', department: 'Management', title: 'Chair', status: 'Inactive' }, 'payload applied, department kept')
  t.equal(rows.get('1002')?.status, 'Inactive', 'delete without data still marks Inactive')
  t.match(rows.get('1077'), { givenName: 'Solo', familyName: '', department: '', status: 'Active' })
})

t.test('ODOO_WEBHOOK_SECRET: signatures required when set', async (t) => {
  const secret = 'whsec_' + Buffer.from('odoo-webhook-secret-0123').toString('base64')
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const app = await buildOdooApp(t, odooEnv(sim, join(tempDir(t), 'hr.csv'), { JOBS_RUNNER_ENABLED: 'false', ODOO_WEBHOOK_SECRET: secret }))
  const body = JSON.stringify({ event: 'update', employee_id: 12 })
  t.equal((await post(app, body, { 'content-type': 'application/json' })).statusCode, 401, 'unsigned → 401')
  const ts = Math.floor(Date.now() / 1000)
  const signed = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, 'msg_1', ts, body) }
  t.equal((await post(app, body, signed)).statusCode, 202, 'signed → 202')
  t.equal((await post(app, body, signed)).statusCode, 200, 'the same webhook-id again → 200')
  t.equal(await app.mongo.db.collection('odoo_events').countDocuments({}), 1, 'stored once')
})
