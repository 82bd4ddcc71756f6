import { readFileSync, statSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse } from 'csv-parse/sync'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { trickyEmployees, generateEmployees } from '../../src/integrations/odoo/sandbox/employees.js'
import type { SimEmployee } from '../../src/integrations/odoo/sandbox/employees.js'
import { authHeaders, waitFor, waitForStatus } from '../helpers/app.js'
import { specProblems } from '../helpers/openapi.js'
import { buildOdooApp, odooEnv, startSimulator, tempDir } from '../helpers/odoo-sandbox.js'

const EXPECTED_TRICKY = [
  'personalNumber,givenName,familyName,email,department,title,status',
  '1001,Mitchell,Admin,admin@yourcompany.example.com,Management,Chief Executive Officer,Active',
  '1002,José,María Ñúñez,jose.nunez@example.com,Engineering / Data,Ingénieur,Active',
  '1003,Plato,,,,,Inactive',
  '1004,Anne,"""Nan"" O\'Neil",anne@example.com,Sales,"Sales, EMEA",Active',
  '1005,李,小龙,li@example.com,"Engineering / R&D, Labs",Line 1 Line 2,Active',
  '1007,Zoë,Ärger-Øst,zoe@example.com,Ressources humaines,Analyst,Inactive',
  '1012,Ada,Lovelace,ada.lovelace@example.com,Engineering / Data,Data Engineer,Active',
  ''
].join('\n')

async function sync (app: FastifyInstance) {
  const res = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  if (res.statusCode !== 202) throw new Error(`sync-csv answered ${res.statusCode}: ${res.body}`)
  const body = res.json<{ jobId: string }>()
  return waitForStatus(app, body.jobId, ['succeeded', 'failed'], 30_000)
}

t.test('exact CSV for tricky employees; route answer matches openapi.yaml; facts stored', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr', 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath))
  const res = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  t.equal(res.statusCode, 202)
  t.same(specProblems('POST', '/odoo/sync-csv', res), [], 'answer matches openapi.yaml')
  const body = res.json<{ success: boolean, jobId: string, statusUrl: string }>()
  t.equal(body.success, true)
  t.equal(body.statusUrl, `/jobs/${body.jobId}`)
  const job = await waitForStatus(app, body.jobId, ['succeeded', 'failed'], 30_000)
  t.equal(job.status, 'succeeded', JSON.stringify(job.error))
  const content = readFileSync(csvPath, 'utf8')
  t.equal(content, EXPECTED_TRICKY, 'exact CSV')
  const parsed = parse(content, { columns: true }) as Array<Record<string, string>>
  t.equal(parsed.length, 7)
  t.equal(parsed[3]?.familyName, '"Nan" O\'Neil', 'quotes round-trip')
  t.equal(parsed[4]?.title, 'Line 1 Line 2', 'a line break inside a value becomes a space: every record is one line')
  t.equal(parsed[4]?.department, 'Engineering / R&D, Labs', 'commas round-trip')
  t.match(job.result, { employees: 7, rows: 7, written: true })
  const state = await app.mongo.db.collection('odoo_state').findOne({ _id: 'hr-csv' as never })
  t.match(state, { rewrites: 1, lastFullSync: { kind: 'full', rows: 7, written: true, jobId: body.jobId } })
  t.type(state?.lastFullSync?.hash, 'string')
  t.type(state?.lastFullSync?.durationMs, 'number')
  t.same(readdirSync(join(csvPath, '..')), ['hr_clean.csv'], 'no temp file left behind')
})

t.test('archived → Inactive; unchanged data → file not rewritten; deleted employees kept Inactive', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(1200) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_PAGE_SIZE: '100', ODOO_SYNC_CONCURRENCY: '3' }))
  const first = await sync(app)
  t.equal(first.status, 'succeeded', JSON.stringify(first.error))
  t.match(first.result, { employees: 1200, rows: 1200, written: true })
  const rows = () => parse(readFileSync(csvPath, 'utf8'), { columns: true }) as Array<Record<string, string>>
  const all = rows()
  t.same(all.map((r) => Number(r.personalNumber)), Array.from({ length: 1200 }, (_, i) => 1001 + i), 'sorted by personalNumber')
  t.ok(sim.stats.maxInFlight <= 3, `Odoo served at most ODOO_SYNC_CONCURRENCY pages at once (${sim.stats.maxInFlight})`)
  t.equal(all.find((r) => r.personalNumber === '1017')?.status, 'Inactive', 'an archived employee is exported as Inactive')
  const mtime = statSync(csvPath).mtimeMs
  await sleep(30)
  const second = await sync(app)
  t.match(second.result, { written: false }, 'unchanged data is not written')
  t.equal(statSync(csvPath).mtimeMs, mtime, 'mtime is stable')

  sim.upsert({ ...(sim.employees.get(10) as SimEmployee), active: false })
  sim.remove(11)
  const third = await sync(app)
  t.match(third.result, { written: true, employees: 1199, rows: 1200, keptInactive: 1 })
  const after = rows()
  t.equal(after.find((r) => r.personalNumber === '1010')?.status, 'Inactive', 'archived in Odoo → Inactive')
  t.equal(after.find((r) => r.personalNumber === '1011')?.status, 'Inactive', 'deleted in Odoo → kept as Inactive')
  const state = await app.mongo.db.collection('odoo_state').findOne({ _id: 'hr-csv' as never })
  t.equal(state?.rewrites, 2)
})

t.test('ODOO_DELETE_MODE=remove drops employees Odoo no longer returns', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_DELETE_MODE: 'remove' }))
  t.equal((await sync(app)).status, 'succeeded')
  sim.remove(12)
  t.equal((await sync(app)).status, 'succeeded')
  t.notMatch(readFileSync(csvPath, 'utf8'), /^1012,/m)
})

t.test('empty Odoo: the old CSV is kept and the job fails', async (t) => {
  const sim = await startSimulator(t, { employees: [] })
  const dir = tempDir(t)
  const csvPath = join(dir, 'hr_clean.csv')
  mkdirSync(dir, { recursive: true })
  const old = 'personalNumber,givenName,familyName,email,department,title,status\n1001,Old,Row,old@example.com,X,Y,Active\n'
  writeFileSync(csvPath, old)
  const app = await buildOdooApp(t, odooEnv(sim, csvPath))
  const job = await sync(app)
  t.equal(job.status, 'failed')
  t.equal(job.attempts, 1, 'not retried')
  t.match(job.error, { code: 'ODOO_EMPTY', retryable: false, message: /no employees.*1 rows\) was kept/ })
  t.equal(readFileSync(csvPath, 'utf8'), old, 'the old CSV is untouched')
})

t.test('ODOO_DELETE_MODE=remove: every employee gone between search and search_read → the old CSV is kept', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_DELETE_MODE: 'remove' }))
  t.equal((await sync(app)).status, 'succeeded')
  const before = readFileSync(csvPath, 'utf8')
  const calls = sim.stats.calls.execute_kw ?? 0
  sim.setDelay(500)
  const running = sync(app)
  // The fourth execute_kw (after the user's companies, their names and the search) is the search_read: it is
  // answered after the delay, by then from an empty Odoo.
  await waitFor(async () => (sim.stats.calls.execute_kw ?? 0) >= calls + 4, 10_000, 'the search_read call')
  for (const id of [...sim.employees.keys()]) sim.remove(id)
  const job = await running
  t.equal(job.status, 'failed')
  t.match(job.error, { code: 'ODOO_EMPTY', message: /existing CSV was kept/ })
  t.equal(readFileSync(csvPath, 'utf8'), before, 'and it was')
})

t.test('wrong password: the job fails at once, not retried', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, { ...odooEnv(sim, csvPath), ODOO_PASSWORD: 'not-the-password' })
  const job = await sync(app)
  t.equal(job.status, 'failed')
  t.equal(job.attempts, 1)
  t.match(job.error, { code: 'ODOO_AUTH', retryable: false, message: /Odoo rejected the credentials/ })
  t.notMatch(JSON.stringify(job), /not-the-password/, 'the password is not stored with the job')
})

t.test('HTML 502 page: retried, then failed with a clear message', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, { ...odooEnv(sim, csvPath), ODOO_RETRY_ATTEMPTS: '3' })
  sim.fail({ mode: 'html502' }, { mode: 'html502' }, { mode: 'html502' })
  const job = await sync(app)
  t.equal(job.status, 'failed')
  t.equal(job.attempts, 3, 'every attempt was used')
  t.match(job.error, { code: 'ODOO_HTTP', retryable: true, attemptsExhausted: true, message: /HTTP 502 with an HTML page \("502 Bad Gateway"\)/ })
  t.equal(sim.stats.calls.version, 3)
})

t.test('a timeout on one page is retried and the sync completes', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(300) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_TIMEOUT_MS: '300', ODOO_PAGE_SIZE: '100' }))
  sim.fail({ mode: 'slow', delayMs: 3000, methods: ['execute_kw'] })
  const job = await sync(app)
  t.equal(job.status, 'succeeded', JSON.stringify(job.error))
  t.ok(job.attempts >= 2, 'the timed-out attempt was retried')
  t.match(job.result, { rows: 300 })
  await waitFor(async () => sim.stats.abortedByClient >= 1, 5000, 'the simulator to see the socket closed')
})

t.test('ODOO_SYNC_CONCURRENCY=1: Odoo serves one call at a time while the gateway reads the page before', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(1000) })
  sim.setDelay(5) // every answer takes a while, so a second call sent meanwhile would overlap it
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_PAGE_SIZE: '50', ODOO_SYNC_CONCURRENCY: '1' }))
  const job = await sync(app)
  t.equal(job.status, 'succeeded', JSON.stringify(job.error))
  t.match(job.result, { employees: 1000, rows: 1000 })
  t.equal(sim.stats.maxInFlight, 1, 'never two calls at once')
  t.equal(parse(readFileSync(csvPath, 'utf8'), { columns: true }).length, 1000)
})

t.test('a failure in the middle of the streamed write keeps the old CSV (bytes and mtime) and leaves no temp file', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(300) })
  const dir = tempDir(t)
  const csvPath = join(dir, 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_PAGE_SIZE: '50', ODOO_RETRY_ATTEMPTS: '1' }))
  t.equal((await sync(app)).status, 'succeeded')
  const before = readFileSync(csvPath, 'utf8')
  const mtime = statSync(csvPath).mtimeMs
  await sleep(20)
  sim.upsert({ id: 299, name: 'Changed Late', work_email: 'late@example.com', job_title: 'Late', department_id: 2, parent_id: false, active: true })
  // The user's companies, their names, `search`, then three pages written to the temp file; the fourth page fails.
  sim.fail({ mode: 'html502', methods: ['execute_kw'], skip: 6 })
  const failed = await sync(app)
  t.equal(failed.status, 'failed')
  t.match(failed.error, { code: 'ODOO_HTTP' })
  t.equal(sim.stats.calls.execute_kw, 9 + 7, `the failed sync read the companies, the ids and three pages, then the fourth failed (${JSON.stringify(sim.stats.calls)})`)
  t.equal(readFileSync(csvPath, 'utf8'), before, 'the old CSV is intact')
  t.equal(statSync(csvPath).mtimeMs, mtime, 'and not touched')
  t.same(readdirSync(dir), ['hr_clean.csv'], 'no temp file left behind')
  const next = await sync(app)
  t.equal(next.status, 'succeeded')
  t.match(readFileSync(csvPath, 'utf8'), /1299,Changed,Late,late@example.com/, 'the next sync writes the change')
  t.same(readdirSync(dir), ['hr_clean.csv'])
})

t.test('sync triggers coalesce while one is queued', async (t) => {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { JOBS_RUNNER_ENABLED: 'false' }))
  const ids = new Set<string>()
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
    t.equal(res.statusCode, 202)
    ids.add(res.json<{ jobId: string }>().jobId)
  }
  t.equal(ids.size, 1, 'one job for three triggers')
  const unauthenticated = await app.inject({ method: 'POST', url: '/odoo/sync-csv' })
  t.equal(unauthenticated.statusCode, 401)
})
