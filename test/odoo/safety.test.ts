/**
 * What real Odoo showed and the simulator now does too: several companies and an API user in some of them,
 * mass deactivations, department renames, restarts, and text that would break the CSV or a spreadsheet.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { odooSettings, type OdooConfig } from '../../src/integrations/odoo/config.js'
import { cleanValue } from '../../src/integrations/odoo/mapping.js'
import { generateEmployees, type SimEmployee } from '../../src/integrations/odoo/sandbox/employees.js'
import { authHeaders, testConfig, waitFor, waitForStatus } from '../helpers/app.js'
import { buildOdooApp, odooEnv, startSimulator, tempDir } from '../helpers/odoo-sandbox.js'

function csvRows (path: string): Map<string, Record<string, string>> {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>
  return new Map(rows.map((r) => [r.personalNumber as string, r]))
}

async function sync (app: FastifyInstance, body?: unknown) {
  const res = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders(), ...(body === undefined ? {} : { payload: body as object }) })
  return waitForStatus(app, res.json<{ jobId: string }>().jobId, ['succeeded', 'failed'], 30_000)
}

async function eventsJob (t: Test, app: FastifyInstance, payload: unknown) {
  const res = await app.inject({ method: 'POST', url: '/odoo/webhook', headers: authHeaders(), payload: payload as object })
  t.equal(res.statusCode, 202, `webhook accepted: ${res.body}`)
  return waitForStatus(app, res.json<{ jobId: string }>().jobId, ['succeeded', 'failed'], 30_000)
}

/** 30 employees in three companies: ids 1-10 in Main (1), 11-20 in Branch (2), 21-30 in Elsewhere (3). */
function companyEmployees (): SimEmployee[] {
  return generateEmployees(30).map((e) => ({ ...e, active: true, company_id: e.id <= 10 ? 1 : e.id <= 20 ? 2 : 3 }))
}
const companies = [{ id: 1, name: 'Main' }, { id: 2, name: 'Branch' }, { id: 3, name: 'Elsewhere' }]

t.test('companies are explicit: every company of the API user is read, whatever its current company', async (t) => {
  const sim = await startSimulator(t, { employees: companyEmployees(), companies, userCompanyIds: [1, 2] })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath))
  const job = await sync(app)
  t.equal(job.status, 'succeeded', JSON.stringify(job.error))
  t.same((job.result as { companies: unknown }).companies, [{ id: 1, name: 'Main', employees: 10 }, { id: 2, name: 'Branch', employees: 10 }], 'the result lists each company read with its count')
  const rows = csvRows(csvPath)
  t.equal(rows.size, 20, 'Main and Branch: the user belongs to both')
  t.ok([...rows.values()].every((row) => row.status === 'Active'), 'nobody of Branch looks deleted')
  t.notOk(rows.has('1025'), 'Elsewhere, where the user is not a member, is not exported')
  // A webhook for a Branch employee reads it, not "missing".
  sim.upsert({ ...(sim.employees.get(15) as SimEmployee), name: 'Branch Renamed' })
  const events = await eventsJob(t, app, { event: 'update', employee_id: 15 })
  t.match(events.result, { updated: 1, missing: 0 })
  t.equal(csvRows(csvPath).get('1015')?.givenName, 'Branch')
})

t.test('ODOO_COMPANY_IDS: only those companies; one the user cannot read fails the job at once, naming it', async (t) => {
  const sim = await startSimulator(t, { employees: companyEmployees(), companies, userCompanyIds: [1, 2] })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const only = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_COMPANY_IDS: '2' }))
  const job = await sync(only)
  t.equal(job.status, 'succeeded')
  t.same((job.result as { companies: unknown }).companies, [{ id: 2, name: 'Branch', employees: 10 }])
  t.same([...csvRows(csvPath).keys()].map(Number).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => 1011 + i), 'Branch only')

  const wrong = await buildOdooApp(t, odooEnv(sim, join(tempDir(t), 'hr.csv'), { ODOO_COMPANY_IDS: '1, 3' }))
  const refused = await sync(wrong)
  t.equal(refused.status, 'failed')
  t.equal(refused.attempts, 1, 'not retried')
  t.match(refused.error, { code: 'ODOO_COMPANY_ACCESS', retryable: false, message: /names company 3, which Odoo user hr-export does not belong to/ })
})

t.test('mass-deactivation guard: a run that would disable many people writes nothing until an operator confirms it', async (t) => {
  const sim = await startSimulator(t, { employees: companyEmployees(), companies, userCompanyIds: [1, 2, 3] })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath))
  t.equal((await sync(app)).status, 'succeeded', 'the first sync into an empty CSV is never stopped')
  const before = readFileSync(csvPath, 'utf8')

  // A small change passes: 3 deleted of 30 (≤ 10 rows).
  for (const id of [1, 2, 3]) sim.remove(id)
  t.equal((await sync(app)).status, 'succeeded')
  t.equal(csvRows(csvPath).get('1001')?.status, 'Inactive')
  const afterSmall = readFileSync(csvPath, 'utf8')

  // The API user loses Elsewhere: its 10 employees plus 2 deletions would turn Inactive (12 rows, 44%).
  sim.setUserCompanies([1, 2])
  sim.remove(11)
  sim.remove(12)
  const stopped = await sync(app)
  t.equal(stopped.status, 'failed')
  t.equal(stopped.attempts, 1, 'not retried')
  t.match(stopped.error, { code: 'ODOO_MASS_DEACTIVATION', retryable: false, message: /refusing to deactivate 12 of 27 Active rows \(44\.4%; the guard stops a run above 10 rows and 5%\), e\.g\. personalNumber 1011, 1012/ })
  t.match(stopped.result, { deactivated: 12, activeRows: 27 })
  t.match(stopped.progress, { message: 'stopped by the mass-deactivation guard' }, 'its progress names its last step')
  t.equal(readFileSync(csvPath, 'utf8'), afterSmall, 'nothing was written')
  t.not(afterSmall, before)
  const metrics = await app.inject({ url: '/metrics', headers: authHeaders('read') })
  t.match(metrics.body, /gateway_odoo_deactivations_blocked 12/, '/metrics shows the stopped run')

  // The webhook path is guarded too.
  const gone = [11, 12, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]
  const events = await eventsJob(t, app, { events: gone.map((id) => ({ event: 'delete', employee_id: id })) })
  t.match({ status: events.status, code: events.error?.code }, { status: 'failed', code: 'ODOO_MASS_DEACTIVATION' })

  const confirmed = await sync(app, { allowMassDeactivation: true })
  t.equal(confirmed.status, 'succeeded', 'an operator confirms one run')
  t.match(confirmed.result, { deactivated: 12, coveredEvents: 12 })
  t.equal(csvRows(csvPath).get('1025')?.status, 'Inactive')
  t.match((await app.inject({ url: '/metrics', headers: authHeaders('read') })).body, /gateway_odoo_deactivations_blocked 0/)
  const bad = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders(), payload: { allowMassDeactivation: 'yes' } })
  t.match({ status: bad.statusCode, field: bad.json().details?.[0]?.field }, { status: 400, field: 'allowMassDeactivation' })
  const unknown = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders(), payload: { force: true } })
  t.match({ status: unknown.statusCode, message: unknown.json().message }, { status: 400, message: 'invalid request: force is not allowed (allowed: allowMassDeactivation)' })
})

t.test('a renamed department reaches every row in it and below it, through one department event', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(60) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath))
  t.equal((await sync(app)).status, 'succeeded')
  const inData = [...sim.employees.values()].filter((e) => e.department_id === 3).map((e) => String(e.id + 1000))
  const inEngineering = [...sim.employees.values()].filter((e) => e.department_id === 2 || e.department_id === 3 || e.department_id === 6).map((e) => String(e.id + 1000))
  t.ok(inData.length > 0 && inEngineering.length > inData.length, 'the generated employees fill the departments')

  sim.renameDepartment(3, 'Research')
  const job = await eventsJob(t, app, { event: 'department', department_id: '3' })
  t.match(job.result, { departments: 1, employees: inData.length })
  t.match(job.progress, { message: 'CSV written' }, 'a finished job names its last step')
  let rows = csvRows(csvPath)
  t.ok(inData.every((key) => rows.get(key)?.department === 'Engineering / Research'), 'every row of the department has the new name')

  sim.renameDepartment(2, 'Technology')
  await eventsJob(t, app, [{ event: 'department', department_id: 2 }])
  rows = csvRows(csvPath)
  t.ok(inEngineering.every((key) => rows.get(key)?.department?.startsWith('Technology') === true), 'sub-departments follow their parent')
  const refused = await app.inject({ method: 'POST', url: '/odoo/webhook', headers: authHeaders(), payload: { event: 'department' } })
  t.match(refused.json(), { details: [{ field: 'department_id', message: 'is required' }] })
})

t.test('retries span an Odoo restart; the job says it is waiting for Odoo and until when', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(20) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const app = await buildOdooApp(t, odooEnv(sim, csvPath, { ODOO_RETRY_BASE_MS: '300', ODOO_RETRY_MAX_MS: '600' }))
  // 502 from the proxy while Odoo restarts, then slow first answers.
  sim.restartFor(2500, 3, 300)
  const res = await app.inject({ method: 'POST', url: '/odoo/sync-csv', headers: authHeaders() })
  const jobId = res.json<{ jobId: string }>().jobId
  const waiting = await waitFor(async () => {
    const job = await app.jobs.get(jobId)
    return job?.status === 'queued' && job.attempts > 0 ? job : null
  }, 30_000, 'the job to wait for a retry')
  t.match(waiting.progress, { message: /^waiting to retry until \d{4}-\d\d-\d\dT[\d:.]+Z: attempt \d+ of 10 failed \(.*502/ })
  const done = await waitForStatus(app, jobId, ['succeeded', 'failed'], 60_000)
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  t.ok(done.attempts > 1, `retried (${done.attempts} attempts)`)
  t.match(done.progress, { message: 'CSV written' })

  // The defaults span at least 5 minutes even when every jittered delay comes out at its shortest (half).
  const defaults = odooSettings(testConfig() as unknown as OdooConfig)
  let shortest = 0
  for (let attempt = 1; attempt < defaults.retry.attempts; attempt++) shortest += Math.min(defaults.retry.maxMs, defaults.retry.baseMs * 2 ** (attempt - 1)) / 2
  t.ok(shortest >= 300_000, `default retries wait at least ${Math.round(shortest / 1000)} s in all`)
})

t.test('CSV hygiene: line breaks become spaces, control characters go, the formula guard is opt-in', async (t) => {
  t.equal(cleanValue('Line 1\r\nLine 2\rthree\nfour'), 'Line 1 Line 2 three four')
  t.equal(cleanValue('A\u0007B\u0085C\tD\u007f'), 'ABCD')
  t.equal(cleanValue('=1+1'), '=1+1', 'raw by default: the IGA tool imports raw values')
  for (const risky of ['=1+1', '+49 30', '-2', '@SUM(A1)', '=HYPERLINK("http://x","y")']) t.equal(cleanValue(risky, { formulaGuard: true }), `'${risky}`)
  t.equal(cleanValue("'=1", { formulaGuard: true }), "'=1", 'a guarded value is not guarded twice')

  const tricky: SimEmployee[] = [
    { id: 1, name: 'Ada\r\nLovelace', work_email: 'ada@example.com', job_title: '=HYPERLINK("http://evil","click")', department_id: 1, parent_id: false, active: true },
    { id: 2, name: 'Grace\u0085 Hopper', work_email: 'grace@example.com', job_title: 'Rear\tAdmiral', department_id: 1, parent_id: false, active: true }
  ]
  const sim = await startSimulator(t, { employees: tricky })
  const plainPath = join(tempDir(t), 'plain.csv')
  t.equal((await sync(await buildOdooApp(t, odooEnv(sim, plainPath)))).status, 'succeeded')
  const plain = readFileSync(plainPath, 'utf8')
  t.equal(plain.split('\n').length, 4, 'header, two records, final LF: no line break inside a value')
  t.match(csvRows(plainPath).get('1001'), { givenName: 'Ada', familyName: 'Lovelace', title: '=HYPERLINK("http://evil","click")' })
  t.match(csvRows(plainPath).get('1002'), { givenName: 'Grace', familyName: 'Hopper', title: 'RearAdmiral' })
  const guardedPath = join(tempDir(t), 'guarded.csv')
  t.equal((await sync(await buildOdooApp(t, odooEnv(sim, guardedPath, { ODOO_CSV_FORMULA_GUARD: 'true' })))).status, 'succeeded')
  t.equal(csvRows(guardedPath).get('1001')?.title, '\'=HYPERLINK("http://evil","click")')
})
