import t, { type Test } from 'tap'
import { trickyEmployees } from '../../src/integrations/odoo/sandbox/employees.js'
import { startSimulator } from '../helpers/odoo-sandbox.js'

/** The simulator's POST /jsonrpc, called the way n8n's Odoo node (v2, username/password) calls Odoo 17. */
async function setup (t: Test) {
  const sim = await startSimulator(t, { employees: trickyEmployees() })
  let id = 0
  const rpc = async (params: unknown, body?: string): Promise<{ jsonrpc: string, id: unknown, result?: unknown, error?: { code: number, message: string, data: { name: string, message: string, debug: string, arguments: unknown[] } } }> => {
    const res = await fetch(`${sim.url}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body ?? JSON.stringify({ jsonrpc: '2.0', method: 'call', id: ++id, params })
    })
    t.equal(res.status, 200, 'Odoo answers JSON-RPC errors with HTTP 200')
    return await res.json() as never
  }
  const execute = (method: string, ...args: unknown[]) => rpc({ service: 'object', method: 'execute', args: [sim.db, sim.uid, sim.password, 'hr.employee', method, ...args] })
  return { sim, rpc, execute }
}

t.test('common: version, login and authenticate', async (t) => {
  const { sim, rpc } = await setup(t)
  const version = await rpc({ service: 'common', method: 'version', args: [] })
  t.equal(version.jsonrpc, '2.0')
  t.equal(version.id, 1, 'the request id comes back')
  t.match(version.result, { server_version: '17.0', server_version_info: [17, 0, 0, 'final', 0] })
  t.same((await rpc({ service: 'common', method: 'login', args: [sim.db, sim.login, sim.password] })).result, sim.uid)
  t.same((await rpc({ service: 'common', method: 'authenticate', args: [sim.db, sim.login, sim.password, {}] })).result, sim.uid)
  t.same((await rpc({ service: 'common', method: 'login', args: [sim.db, sim.login, 'wrong'] })).result, false, 'a wrong password is false, not an error')
  t.equal(sim.stats.calls.login, 2)
})

t.test('object: execute with positional arguments, as n8n sends search_read', async (t) => {
  const { execute } = await setup(t)
  const active = await execute('search_read', [], ['name', 'active'], 0)
  t.same((active.result as Array<{ id: number }>).map((e) => e.id), [1, 2, 4, 5, 12], 'archived employees are left out by default')
  t.same((active.result as Array<Record<string, unknown>>)[0], { id: 1, name: 'Mitchell Admin', active: true }, 'only the fields asked for')
  const all = await execute('search_read', [['active', 'in', [1, 0]]], ['name', 'active'], 0)
  t.same((all.result as Array<{ id: number }>).map((e) => e.id), [1, 2, 3, 4, 5, 7, 12], 'active in [1, 0] (n8n\'s "In" filter with "1,0") includes archived employees')
  const booleans = await execute('search_read', [['active', 'in', [true, false]]], ['name'], 0)
  t.equal((booleans.result as unknown[]).length, 7, 'and so does active in [true, false]')
  const strings = await execute('search_read', [['active', 'in', ['true', 'false']]], ['name'], 0)
  t.same(strings.result, [], 'the strings "true"/"false" match nothing, like in Odoo')
  const archived = await execute('search_read', [['active', '=', 0]], ['name'], 0)
  t.same((archived.result as Array<{ id: number }>).map((e) => e.id), [3, 7])
  const limited = await execute('search_read', [['active', 'in', [1, 0]]], ['name'], 1, 2)
  t.same((limited.result as Array<{ id: number }>).map((e) => e.id), [2, 3], 'offset and limit')
  const noLimit = await execute('search_read', [], ['name'], 0, 0)
  t.equal((noLimit.result as unknown[]).length, 5, 'a limit of 0 is no limit')
  t.equal((await execute('search_count', [['active', 'in', [1, 0]]])).result, 7)
})

t.test('execute_kw with kwargs, and write_date', async (t) => {
  const { sim, rpc, execute } = await setup(t)
  const before = new Date(Date.now() - 1000).toISOString().slice(0, 19).replace('T', ' ')
  const res = await rpc({ service: 'object', method: 'execute_kw', args: [sim.db, sim.uid, sim.password, 'hr.employee', 'search_read', [[['active', 'in', [true, false]]]], { fields: ['name', 'write_date'], order: 'id desc', limit: 2 }] })
  const rows = res.result as Array<{ id: number, write_date: string }>
  t.same(rows.map((e) => e.id), [12, 7])
  t.match(rows[0]?.write_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'Odoo\'s datetime form')
  t.ok((rows[0]?.write_date ?? '') >= before)

  // A record written later has a later write_date; a window on write_date finds it alone.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const since = new Date().toISOString().slice(0, 19).replace('T', ' ')
  const plato = sim.employees.get(3)
  if (plato === undefined) throw new Error('employee 3 is missing')
  sim.upsert({ ...plato, name: 'Plato (renamed)' })
  const changed = await execute('search_read', [['write_date', '>=', since], ['active', 'in', [1, 0]]], ['name', 'active', 'write_date'], 0)
  t.same((changed.result as Array<Record<string, unknown>>).map(({ id, name, active }) => ({ id, name, active })), [{ id: 3, name: 'Plato (renamed)', active: false }], 'only the changed one, archived included')
  const withoutActive = await execute('search_read', [['write_date', '>=', since]], ['name'], 0)
  t.same(withoutActive.result, [], 'without a term on active the archived record is left out')
})

t.test('errors have Odoo\'s JSON-RPC shape', async (t) => {
  const { sim, rpc, execute } = await setup(t)
  const denied = await rpc({ service: 'object', method: 'execute', args: [sim.db, sim.uid, 'wrong', 'hr.employee', 'search_read', []] })
  t.equal(denied.result, undefined)
  t.match(denied.error, { code: 200, message: 'Odoo Server Error', data: { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied', arguments: ['Access Denied'] } })
  const badField = await execute('search_read', [], ['bogus'], 0)
  t.match(badField.error?.data, { name: 'builtins.ValueError', message: 'Invalid field \'bogus\' on model \'hr.employee\'' })
  t.match(badField.error?.data.debug, /^Traceback \(most recent call last\):[\s\S]*in jsonrpc\n[\s\S]*ValueError: Invalid field/)
  const restricted = await execute('search_read', [], ['private_email'], 0)
  t.equal(restricted.error?.data.name, 'odoo.exceptions.AccessError')
  const model = await rpc({ service: 'object', method: 'execute', args: [sim.db, sim.uid, sim.password, 'res.nothing', 'search_read', []] })
  t.equal(model.error?.data.name, 'odoo.exceptions.UserError')
  const service = await rpc({ service: 'nope', method: 'x', args: [] })
  t.match(service.error?.data, { name: 'builtins.KeyError', message: '\'nope\'' })
  const missing = await rpc({ service: 'common' })
  t.match(missing.error?.data, { name: 'builtins.TypeError', message: 'jsonrpc() missing 2 required positional arguments: \'method\' and \'args\'' })
  const tooMany = await execute('search_read', [], ['name'], 0, 5, 'id', 'extra')
  t.match(tooMany.error?.data, { name: 'builtins.TypeError', message: 'search_read() takes from 1 to 6 positional arguments but 7 were given' })
  const conflict = await rpc({ service: 'object', method: 'execute_kw', args: [sim.db, sim.uid, sim.password, 'hr.employee', 'search_read', [[], ['name']], { fields: ['name'] }] })
  t.match(conflict.error?.data, { name: 'builtins.TypeError', message: 'search_read() got multiple values for argument \'fields\'' })
  const broken = await rpc(null, '{not json')
  t.match(broken, { id: null, error: { code: 200, data: { name: 'werkzeug.exceptions.BadRequest' } } })
  t.ok(sim.stats.faults >= 8, 'errors are counted as faults')
})

t.test('XML-RPC is unchanged beside it; other paths stay 404', async (t) => {
  const { sim } = await setup(t)
  const xml = await fetch(`${sim.url}/xmlrpc/2/common`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<?xml version="1.0"?><methodCall><methodName>version</methodName><params></params></methodCall>' })
  t.match(await xml.text(), /<name>server_version<\/name><value><string>17.0<\/string>/)
  t.equal((await fetch(`${sim.url}/jsonrpc`)).status, 404, 'GET /jsonrpc')
  t.equal((await fetch(`${sim.url}/json/2/hr.employee/search_read`, { method: 'POST', body: '{}' })).status, 404, 'Odoo 17 has no /json/2 (Odoo 19\'s API)')
})
