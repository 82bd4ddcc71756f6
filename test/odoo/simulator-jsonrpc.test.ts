import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import t, { type Test } from 'tap'
import { answerJsonRpc, type JsonRpcBackend } from '../../src/integrations/odoo/sandbox/jsonrpc.js'
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

/** hr.department the way the workflow's second Odoo node reads it: execute search_read with positional arguments. */
t.test('hr.department: search_read with positional arguments, write_date and active', async (t) => {
  const { sim, rpc } = await setup(t)
  const departments = (method: string, ...args: unknown[]) => rpc({ service: 'object', method: 'execute', args: [sim.db, sim.uid, sim.password, 'hr.department', method, ...args] })
  const ids = (res: { result?: unknown }) => (res.result as Array<{ id: number }>).map((d) => d.id)
  const all = await departments('search_read', [['active', 'in', [1, 0]]], ['name', 'complete_name', 'parent_id', 'active', 'write_date'], 0)
  t.same(ids(all), [3, 2, 1, 6, 5, 4], 'every department, in hr.department\'s order (name)')
  const data = (all.result as Array<Record<string, unknown>>)[0]
  t.match(data, { id: 3, name: 'Data', complete_name: 'Engineering / Data', parent_id: [2, 'Engineering'], active: true })
  t.match(data?.write_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'Odoo\'s datetime form')
  t.same(Object.keys(data ?? {}).sort(), ['active', 'complete_name', 'id', 'name', 'parent_id', 'write_date'], 'only the fields asked for, and id')
  t.same(ids(await departments('search_read', [], ['name'], 0)), [3, 2, 1, 6, 5, 4], 'without a term on active: the active ones (all of them here)')
  t.same((await departments('search_read', [['active', 'in', ['true', 'false']]], ['name'], 0)).result, [], 'the strings "true"/"false" match nothing')
  t.same((await departments('search_read', [['active', '=', 0]], ['name'], 0)).result, [], 'none archived')
  t.same(ids(await departments('search_read', [['parent_id', '=', 2]], ['name'], 1)), [6], 'parent_id compares by id; offset 1 (Data, then R&D, Labs)')
  t.same(ids(await departments('search_read', [['parent_id', '=', 2]], ['name'], 0, 1)), [3], 'limit 1')
  t.same(ids(await departments('search_read', ['|', ['id', '=', 1], ['name', 'ilike', 'sales']], ['name'], 0, 0, 'id desc')), [4, 1], '| and ilike, order id desc, limit 0 is no limit')
  t.same((await departments('search', [['parent_id', '=', false]])).result, [2, 1, 5, 4], 'search: ids of the top-level departments')
  t.equal((await departments('search_count', [['parent_id', '!=', false]])).result, 2)
  t.same((await departments('read', [6, 99, 1], ['name', 'write_date'])).result, [
    { id: 6, name: 'R&D, Labs', write_date: (all.result as Array<{ id: number, write_date: string }>).find((d) => d.id === 6)?.write_date },
    { id: 1, name: 'Management', write_date: (all.result as Array<{ id: number, write_date: string }>).find((d) => d.id === 1)?.write_date }
  ], 'read keeps the order of the ids and drops unknown ones')

  // What the workflow filters on: write_date >= the start of its window.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const since = new Date().toISOString().slice(0, 19).replace('T', ' ')
  const changed = () => departments('search_read', [['write_date', '>=', since], ['active', 'in', [1, 0]]], ['name', 'complete_name', 'write_date'], 0)
  t.same((await changed()).result, [], 'nothing renamed since: nothing')
  sim.renameDepartment(3, 'Research')
  const renamed = await changed()
  t.same((renamed.result as Array<Record<string, unknown>>).map(({ id, name, complete_name: complete }) => ({ id, name, complete })), [{ id: 3, name: 'Research', complete: 'Engineering / Research' }], 'a rename gives the department a new write_date')
  t.ok(String((renamed.result as Array<{ write_date: string }>)[0]?.write_date) >= since)
  const earlier = (await departments('read', [3], ['write_date'])).result
  t.same((await departments('read', [3], ['write_date'])).result, earlier, 'the write_date stays until the next change')

  await new Promise((resolve) => setTimeout(resolve, 1100))
  const later = new Date().toISOString().slice(0, 19).replace('T', ' ')
  const control = await fetch(`${sim.url}/__sim/control`, { method: 'POST', body: JSON.stringify({ action: 'renameDepartment', id: 2, name: 'R&D' }) })
  t.equal(control.status, 200, 'the control action renames too')
  const viaControl = await departments('search_read', [['write_date', '>=', later]], ['complete_name'], 0)
  t.same((viaControl.result as Array<Record<string, unknown>>).map(({ id, complete_name: complete }) => ({ id, complete })), [
    { id: 2, complete: 'R&D' }, { id: 6, complete: 'R&D / R&D, Labs' }, { id: 3, complete: 'R&D / Research' }
  ], 'a parent\'s rename changes its sub-departments\' complete_name, so they get a new write_date too (as in Odoo)')
  t.same(ids(await departments('search_read', [['write_date', '<', later]], ['name'], 0)), [1, 5, 4], 'write_date < compares too')
})

t.test('hr.department: errors, and employees keep their write_date when a department is renamed', async (t) => {
  const { sim, rpc, execute } = await setup(t)
  const departments = (method: string, ...args: unknown[]) => rpc({ service: 'object', method: 'execute', args: [sim.db, sim.uid, sim.password, 'hr.department', method, ...args] })
  t.match((await departments('search_read', [], ['bogus'], 0)).error?.data, { name: 'builtins.ValueError', message: 'Invalid field \'bogus\' on model \'hr.department\'' })
  t.match((await departments('search_read', [['bogus', '=', 1]], ['name'], 0)).error?.data, { name: 'builtins.ValueError', message: /^Invalid field hr\.department\.bogus in leaf/ })
  t.match((await departments('search_read', [['name', 'child_of', 1]], ['name'], 0)).error?.data, { name: 'builtins.ValueError', message: /^Invalid leaf/ })
  t.match((await departments('search_read', [], ['name'], 0, 0, 'manager_id')).error?.data, { name: 'builtins.ValueError', message: 'Invalid "order" specified (manager_id)' })
  const denied = await rpc({ service: 'object', method: 'execute', args: [sim.db, sim.uid, 'wrong', 'hr.department', 'search_read', [], ['name']] })
  t.match(denied.error?.data, { name: 'odoo.exceptions.AccessDenied' }, 'a wrong password is still Access Denied')

  const before = await execute('search_read', [['department_id', '=', 3]], ['name', 'write_date'], 0)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  sim.renameDepartment(3, 'Research')
  const after = await execute('search_read', [['department_id', '=', 3]], ['name', 'department_id', 'write_date'], 0)
  t.same((after.result as Array<{ department_id: unknown }>).map((e) => e.department_id), [[3, 'Engineering / Research'], [3, 'Engineering / Research']], 'the employees show the new name')
  t.same((after.result as Array<{ write_date: string }>).map((e) => e.write_date), (before.result as Array<{ write_date: string }>).map((e) => e.write_date), 'but their write_date is unchanged: only a department event tells the gateway')
})

t.test('hr.department: archived departments only when the domain names active (the layer alone, on a stub backend)', async (t) => {
  const Serializer = createRequire(import.meta.url)('xmlrpc/lib/serializer.js') as { serializeMethodResponse: (value: unknown) => string }
  const stored = [
    { id: 1, name: 'Sales', complete_name: 'Sales', parent_id: false },
    { id: 2, name: 'Old Lab', complete_name: 'Old Lab', parent_id: false, active: false }
  ]
  const backend: JsonRpcBackend = {
    common: () => { throw new Error('unused') },
    object: (params) => {
      if (params[3] !== 'hr.department' || params[4] !== 'search_read') throw Object.assign(new Error('Object x doesn\'t exist'), { faultCode: 2 })
      return Serializer.serializeMethodResponse(stored)
    },
    stats: { calls: {}, faults: 0 },
    employees: new Map()
  }
  const server = http.createServer((req, res) => { void answerJsonRpc(req, res, backend) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => { resolve() })))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jsonrpc`
  const call = async (method: string, ...args: unknown[]) => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute', args: ['odoo', 7, 'x', 'hr.department', method, ...args] } }) })
    return (await res.json() as { result: Array<{ id: number, active: boolean }> }).result
  }
  t.same((await call('search_read', [], ['active'], 0)).map((d) => d.id), [1], 'left out by default')
  t.same((await call('search_read', [['active', 'in', [1, 0]]], ['active'], 0)).map((d) => [d.id, d.active]), [[2, false], [1, true]], 'active in [1, 0]: archived too (the workflow\'s filter)')
  t.same((await call('search_read', [['active', '=', false]], ['name'], 0)).map((d) => d.id), [2])
  const kw = await fetch(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute_kw', args: ['odoo', 7, 'x', 'hr.department', 'search_read', [[]], { fields: ['name'], context: { active_test: false } }] } }) })
  t.same((await kw.json() as { result: Array<{ id: number }> }).result.map((d) => d.id), [2, 1], 'or with active_test false in the context')
  t.same((await call('read', [2], ['name', 'active'])), [{ id: 2, name: 'Old Lab', active: false }], 'read does not filter archived records')
})
