import t, { type Test } from 'tap'
import { createOdooClient, faultSummary, OdooError } from '../../src/integrations/odoo/client.js'
import { trickyEmployees } from '../../src/integrations/odoo/sandbox/employees.js'
import { waitFor } from '../helpers/app.js'
import { startSimulator } from '../helpers/odoo-sandbox.js'

async function setup (t: Test, timeoutMs = 5000) {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  const client = createOdooClient({ url: sim.url, db: sim.db, username: sim.login, password: sim.password, timeoutMs })
  t.teardown(() => { client.close() })
  return { sim, client }
}

async function failure (promise: Promise<unknown>): Promise<OdooError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof OdooError) return err
    throw err
  }
  throw new Error('expected the call to fail')
}

t.test('version, authenticate and search_read with Odoo shapes', async (t) => {
  const { client } = await setup(t)
  const version = await client.version()
  t.equal(version.server_version, '17.0')
  t.equal(await client.authenticate(), 7)
  const active = await client.executeKw<Array<{ id: number }>>('hr.employee', 'search_read', [[]], { fields: ['name', 'active'], order: 'id asc' })
  t.same(active.map((e) => e.id), [1, 2, 4, 5, 12], 'archived employees are filtered by default')
  const all = await client.executeKw<Array<Record<string, unknown>>>('hr.employee', 'search_read', [[]], { fields: ['name', 'work_email', 'department_id', 'active'], order: 'id asc', context: { active_test: false } })
  t.same(all.map((e) => e.id), [1, 2, 3, 4, 5, 7, 12], 'active_test: false returns archived ones too')
  t.same(all[2], { id: 3, name: 'Plato', work_email: false, department_id: false, active: false }, 'empty fields are false')
  t.same(all[1]?.department_id, [3, 'Engineering / Data'], 'many2one is [id, complete name]')
  const archivedOnly = await client.executeKw<number[]>('hr.employee', 'search', [[['active', '=', false]]], { order: 'id asc' })
  t.same(archivedOnly, [3, 7], 'a domain on active disables the implicit filter')
  t.equal(await client.executeKw('hr.employee', 'search_count', [[['active', 'in', [true, false]]]]), 7)
  const page = await client.executeKw<Array<{ id: number }>>('hr.employee', 'search_read', [[]], { fields: ['name'], order: 'id desc', limit: 2, offset: 1, context: { active_test: false } })
  t.same(page.map((e) => e.id), [7, 5], 'limit/offset/order')
  const read = await client.executeKw<Array<{ id: number }>>('hr.employee', 'read', [[3, 999]], { fields: ['name'] })
  t.same(read.map((e) => e.id), [3], 'read drops unknown ids and does not filter archived ones')
})

t.test('faults map to typed errors by code', async (t) => {
  const { sim, client } = await setup(t)
  const unknownField = await failure(client.executeKw('hr.employee', 'search_read', [[]], { fields: ['bogus'] }))
  t.equal(unknownField.kind, 'server')
  t.equal(unknownField.faultCode, 1)
  t.equal(unknownField.retryable, false)
  t.match(unknownField.message, /Invalid field 'bogus'/)
  t.notMatch(unknownField.message, /Traceback|\n/, 'only the exception line of the traceback is kept')
  const access = await failure(client.executeKw('hr.employee', 'search_read', [[]], { fields: ['private_email'] }))
  t.equal(access.kind, 'access')
  t.equal(access.retryable, false)
  const user = await failure(client.executeKw('res.nothing', 'search_read', [[]], {}))
  t.equal(user.kind, 'user')
  t.match(user.message, /Object res.nothing doesn't exist/)
  sim.password = 'rotated'
  const denied = await failure(client.executeKw('hr.employee', 'search', [[]], {}))
  t.equal(denied.kind, 'auth')
  t.equal(denied.retryable, false)
  t.equal(faultSummary('Traceback (most recent call last):\n  File "x"\nValueError: boom\n'), 'ValueError: boom')

  // Real Odoo 17 with its PostgreSQL stopped: transient, and the message keeps the exception's name.
  sim.password = 'secret-api-key'
  sim.fail({ mode: 'dbDown' })
  const dbDown = await failure(client.executeKw('hr.employee', 'search', [[]], {}))
  t.match(dbDown, { kind: 'server', retryable: true })
  t.match(dbDown.message, /psycopg2\.OperationalError: connection to server at .* Connection refused Is the server running on that host/)
  // A database that does not exist stays a configuration error.
  const wrongDb = createOdooClient({ url: sim.url, db: 'nosuchdb', username: sim.login, password: sim.password, timeoutMs: 5000 })
  t.teardown(() => { wrongDb.close() })
  t.match(await failure(wrongDb.authenticate()), { kind: 'server', retryable: false, message: /database "nosuchdb" does not exist/ })
})

t.test('a false uid is a clear non-retryable error', async (t) => {
  const { sim } = await setup(t)
  const client = createOdooClient({ url: sim.url, db: sim.db, username: sim.login, password: 'wrong', timeoutMs: 5000 })
  t.teardown(() => { client.close() })
  const err = await failure(client.authenticate())
  t.equal(err.kind, 'auth')
  t.equal(err.retryable, false)
  t.match(err.message, /Odoo rejected the credentials/)
  t.notMatch(err.message, /wrong/, 'the password is not in the message')
})

t.test('HTML and non-XML bodies name the HTTP status; 5xx and network errors are retryable', async (t) => {
  const { sim, client } = await setup(t)
  sim.fail({ mode: 'html502' })
  const bad = await failure(client.version())
  t.equal(bad.kind, 'http')
  t.equal(bad.httpStatus, 502)
  t.equal(bad.retryable, true)
  t.match(bad.message, /HTTP 502 with an HTML page \("502 Bad Gateway"\)/)
  sim.fail({ mode: 'html404' })
  const notFound = await failure(client.version())
  t.equal(notFound.httpStatus, 404)
  t.equal(notFound.retryable, false)
  sim.fail({ mode: 'text500' })
  t.equal((await failure(client.version())).httpStatus, 500)
  sim.fail({ mode: 'reset' })
  const reset = await failure(client.version())
  t.equal(reset.kind, 'network')
  t.equal(reset.retryable, true)
  t.equal((await client.version()).server_version, '17.0', 'the next call works again')
})

t.test('the timeout is enforced and the socket is destroyed', async (t) => {
  const { sim, client } = await setup(t, 300)
  sim.fail({ mode: 'slow', delayMs: 5000 })
  const started = Date.now()
  const err = await failure(client.version())
  t.equal(err.kind, 'timeout')
  t.equal(err.retryable, true)
  t.ok(Date.now() - started < 4500, 'the call gave up before the server answered')
  await waitFor(async () => sim.stats.abortedByClient === 1, 5000, 'the server to see the connection closed')
  t.pass('the server saw the connection closed before it answered')
})

t.test('an unreachable Odoo and a bad URL', async (t) => {
  const client = createOdooClient({ url: 'http://127.0.0.1:9', db: 'odoo', username: 'u', password: 'p', timeoutMs: 2000 })
  t.teardown(() => { client.close() })
  const err = await failure(client.version())
  t.equal(err.kind, 'network')
  t.equal(err.retryable, true)
  t.throws(() => createOdooClient({ url: 'odoo:8069', db: 'odoo', username: 'u', password: 'p', timeoutMs: 1000 }), /must start with http/)
})
