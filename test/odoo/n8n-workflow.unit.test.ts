import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseWebhookBody } from '../../src/integrations/odoo/webhook.js'
import { documentedSchemaAccepts } from '../helpers/openapi.js'

/*
 * The shipped n8n workflow (docker/n8n/odoo-employee-webhook.json), checked as a file: n8n is not needed.
 * The node types, typeVersions and option names below were read from n8n 2.41.1's own node descriptions
 * (n8n-nodes-base 2.41.1); docs/n8n.md tells how the workflow was run for real against the gateway demo.
 */

const FILE = new URL('../../docker/n8n/odoo-employee-webhook.json', import.meta.url)
const raw = readFileSync(FILE, 'utf8')

interface WorkflowNode {
  id: string
  name: string
  type: string
  typeVersion: number
  parameters: Record<string, unknown>
  credentials?: Record<string, { id: string, name: string }>
  retryOnFail?: boolean
  maxTries?: number
  waitBetweenTries?: number
}
interface Connection { node: string, type: string, index: number }
interface Workflow {
  id?: unknown
  name: string
  nodes: WorkflowNode[]
  connections: Record<string, Record<string, Array<Connection[] | null>>>
  settings?: Record<string, unknown>
}

const workflow = JSON.parse(raw) as Workflow

/** type → typeVersions that exist in n8n 2.41.1. */
const ALLOWED: Record<string, number[]> = {
  'n8n-nodes-base.scheduleTrigger': [1, 1.1, 1.2, 1.3, 1.4],
  'n8n-nodes-base.manualTrigger': [1],
  'n8n-nodes-base.set': [3, 3.1, 3.2, 3.3, 3.4, 3.5],
  // Version 2: `filters.filter`, `authentication` and a comma-separated `fieldsList` (version 1 has none of these).
  'n8n-nodes-base.odoo': [2],
  'n8n-nodes-base.splitInBatches': [3],
  // Version 3.x: `mode: append` with `numberInputs`, and requiredInputs 1 (runs when either input has items).
  'n8n-nodes-base.merge': [3, 3.1, 3.2],
  'n8n-nodes-base.aggregate': [1],
  'n8n-nodes-base.httpRequest': [4, 4.1, 4.2, 4.3, 4.4, 4.5]
}

/** The HTTP Request node's `options` collection in typeVersions 4 to 4.5 (there is no `retry` option). */
const HTTP_OPTIONS = ['batching', 'allowUnauthorizedCerts', 'queryParameterArrays', 'lowercaseHeaders', 'redirect', 'response', 'pagination', 'proxy', 'timeout', 'sendCredentialsOnCrossOriginRedirect', 'webdavMethods']

/** The gateway's limit on events per request (ODOO_WEBHOOK_MAX_EVENTS). */
const GATEWAY_MAX_EVENTS = 5000

function nodesOfType (type: string): WorkflowNode[] {
  return workflow.nodes.filter((n) => n.type === type)
}
function only (type: string): WorkflowNode {
  const found = nodesOfType(type)
  if (found.length !== 1) throw new Error(`expected exactly one ${type} node, found ${found.length}`)
  return found[0] as WorkflowNode
}
function byName (name: string): WorkflowNode | undefined {
  return workflow.nodes.find((n) => n.name === name)
}
/** Every connection into `target`: [source node, source output index]. */
function incoming (target: string): Array<[string, number]> {
  const found: Array<[string, number]> = []
  for (const [source, kinds] of Object.entries(workflow.connections)) {
    for (const outputs of Object.values(kinds)) {
      outputs.forEach((links, output) => { for (const link of links ?? []) if (link.node === target) found.push([source, output]) })
    }
  }
  return found
}
/** The Odoo node reading this model. */
function odooReading (model: string): WorkflowNode {
  const found = nodesOfType('n8n-nodes-base.odoo').filter((n) => (n.parameters.customResource as { value?: unknown } | undefined)?.value === model)
  if (found.length !== 1) throw new Error(`expected exactly one Odoo node reading ${model}, found ${found.length}`)
  return found[0] as WorkflowNode
}
/** The nodes `source` feeds: [target, target input index]. */
function outgoing (source: string): Array<[string, number]> {
  return (workflow.connections[source]?.main ?? []).flatMap((links) => (links ?? []).map((link): [string, number] => [link.node, link.index]))
}
/** The only node fed by `source`. */
function next (source: string): WorkflowNode {
  const targets = outgoing(source)
  if (targets.length !== 1) throw new Error(`${source} feeds ${targets.length} nodes`)
  return byName(targets[0]?.[0] as string) as WorkflowNode
}
type Assignment = { name: string, value: unknown, type: string }
function assignmentsOf (node: WorkflowNode): Assignment[] {
  return (node.parameters.assignments as { assignments: Assignment[] }).assignments
}
/** What a Set node (manual mapping, no other fields) makes of one item. */
function mapItem (node: WorkflowNode, $json: Record<string, unknown>): Record<string, unknown> {
  if (node.parameters.includeOtherFields !== false) throw new Error(`${node.name} passes the Odoo record's other fields on`)
  return Object.fromEntries(assignmentsOf(node).map((a) => [a.name, String(a.value).startsWith('=') ? evaluate(expression(a.value)[0], { $json }) : a.value]))
}
/** `={{ js }}rest` → [js, rest]. */
function expression (value: unknown): [string, string] {
  const match = /^=\{\{([\s\S]*?)\}\}([\s\S]*)$/.exec(String(value))
  if (match === null) throw new Error(`not an n8n expression: ${String(value)}`)
  return [match[1] as string, match[2] as string]
}
/** Evaluates a plain-JS n8n expression with the given variables ($json, $ …). */
function evaluate (js: string, vars: Record<string, unknown>): unknown {
  // eslint-disable-next-line no-new-func
  return new Function(...Object.keys(vars), `return (${js})`)(...Object.values(vars))
}

t.test('a stable top-level id, so `n8n import:workflow` works and a re-import updates the same workflow', async (t) => {
  t.type(workflow.id, 'string')
  t.match(workflow.id, /^[A-Za-z0-9]+$/)
  // n8n's CLI (`n8n execute --id`) accepts ids of at most 21 characters; the column holds 36.
  t.ok((workflow.id as string).length <= 21, 'at most 21 characters')
  t.ok(Array.isArray(workflow.nodes) && typeof workflow.connections === 'object', 'nodes and connections, as import:workflow requires')
  t.equal(workflow.settings?.executionOrder, 'v1')
})

t.test('every node type and typeVersion exists in n8n 2.41.1', async (t) => {
  for (const node of workflow.nodes) {
    const versions = ALLOWED[node.type]
    t.ok(versions !== undefined, `${node.name}: type ${node.type} is one of the checked ones`)
    t.ok(versions?.includes(node.typeVersion), `${node.name}: ${node.type} version ${node.typeVersion}`)
  }
  const names = workflow.nodes.map((n) => n.name)
  t.equal(new Set(names).size, names.length, 'node names are unique')
  const ids = workflow.nodes.map((n) => n.id)
  t.equal(new Set(ids).size, ids.length, 'node ids are unique')
})

t.test('no $env (denied by n8n 2.x) and no $vars (a paid feature) anywhere', async (t) => {
  t.notMatch(raw, /\$env\b/)
  t.notMatch(raw, /\$vars\b/)
  t.notMatch(raw, /X-API-Key"\s*,\s*"value"/i, 'the API key is not written into a header parameter')
})

t.test('retries are node settings within what n8n applies (2-5 tries, at most 5 s apart)', async (t) => {
  for (const node of workflow.nodes) {
    if (node.retryOnFail !== true) continue
    t.ok((node.maxTries ?? 3) >= 2 && (node.maxTries ?? 3) <= 5, `${node.name}: maxTries ${node.maxTries}`)
    t.ok((node.waitBetweenTries ?? 1000) >= 0 && (node.waitBetweenTries ?? 1000) <= 5000, `${node.name}: waitBetweenTries ${node.waitBetweenTries}`)
  }
  t.equal(only('n8n-nodes-base.httpRequest').retryOnFail, true, 'the gateway request is retried')
  for (const odoo of nodesOfType('n8n-nodes-base.odoo')) t.equal(odoo.retryOnFail, true, `${odoo.name}: the Odoo read is retried`)
})

t.test('the HTTP Request node uses only options its typeVersion has, and a Header Auth credential', async (t) => {
  const http = only('n8n-nodes-base.httpRequest')
  const options = (http.parameters.options ?? {}) as Record<string, unknown>
  for (const key of Object.keys(options)) t.ok(HTTP_OPTIONS.includes(key), `option ${key}`)
  t.notOk('retry' in options, 'no options.retry')
  t.equal(http.parameters.method, 'POST')
  t.equal(http.parameters.authentication, 'genericCredentialType')
  t.equal(http.parameters.genericAuthType, 'httpHeaderAuth')
  t.type(http.credentials?.httpHeaderAuth?.id, 'string')
  t.equal(http.parameters.sendBody, true)
  t.equal(http.parameters.specifyBody, 'json')
})

t.test('the gateway URL comes from the Settings node and a trailing slash is stripped', async (t) => {
  const settings = byName('Settings')
  t.ok(settings !== undefined && settings.type === 'n8n-nodes-base.set', 'a Set node named Settings')
  const assignments = ((settings?.parameters.assignments as { assignments: Array<{ name: string, value: unknown, type: string }> }).assignments)
  const gatewayUrl = assignments.find((a) => a.name === 'gatewayUrl')
  t.equal(gatewayUrl?.type, 'string')
  t.match(String(gatewayUrl?.value), /^https?:\/\/[^/]+\/?$/, 'a base URL without a path')
  t.same(incoming('Settings').map(([source]) => byName(source)?.type).sort(), ['n8n-nodes-base.manualTrigger', 'n8n-nodes-base.scheduleTrigger'], 'both triggers start at Settings')

  const http = only('n8n-nodes-base.httpRequest')
  const [js, rest] = expression(http.parameters.url)
  t.equal(rest, '/odoo/webhook')
  t.match(js, /\$\('Settings'\)/, 'read from the Settings node')
  for (const configured of ['http://gateway:3000', 'http://gateway:3000/', 'http://gateway:3000//', ' http://gateway:3000/ ']) {
    const $ = (name: string) => ({ first: () => ({ json: name === 'Settings' ? { gatewayUrl: configured } : {} }) })
    t.equal(`${String(evaluate(js, { $ }))}${rest}`, 'http://gateway:3000/odoo/webhook', JSON.stringify(configured))
  }
})

t.test('the Odoo read includes archived employees and the mapping turns active === false into archive', async (t) => {
  const odoo = odooReading('hr.employee')
  t.equal(odoo.parameters.authentication, 'odooApi', 'username/password over /jsonrpc (the API-key mode needs Odoo 19+)')
  t.type(odoo.credentials?.odooApi?.id, 'string')
  t.equal(odoo.parameters.resource, 'custom')
  t.same(odoo.parameters.customResource, { __rl: true, value: 'hr.employee', mode: 'id' })
  t.equal(odoo.parameters.operation, 'getAll')
  t.equal(odoo.parameters.returnAll, true)
  const fields = String((odoo.parameters.options as { fieldsList: string }).fieldsList).split(',').map((f) => f.trim())
  for (const field of ['name', 'work_email', 'job_title', 'active', 'write_date']) t.ok(fields.includes(field), `reads ${field}`)

  const filters = (odoo.parameters.filters as { filter: Array<{ fieldName: string, operator: string, value: string }> }).filter
  const active = filters.find((f) => f.fieldName === 'active')
  t.ok(active !== undefined, 'a filter on active: Odoo leaves archived records out unless the domain names active')
  t.equal(active?.operator, 'in')
  // n8n's Odoo node (v2 buildDomain) splits an In value on commas and turns numeric parts into numbers.
  const values = String(active?.value).split(',').map((v) => v.trim()).map((v) => (v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v))
  t.same([...values].sort(), [0, 1], 'active in [1, 0]: Odoo compares booleans with Python equality, so this is active or archived ("true,false" would be strings and match nothing)')
  const since = filters.find((f) => f.fieldName === 'write_date')
  t.equal(since?.operator, 'greaterOrEqual')
  t.match(String(since?.value), /lookbackMinutes/, 'the window comes from Settings')
  t.match(String(since?.value), /toUTC\(\)[\s\S]*yyyy-MM-dd HH:mm:ss/, 'Odoo\'s UTC datetime format')

  const mapper = next(odoo.name)
  t.equal(mapper.type, 'n8n-nodes-base.set')
  const record = (active: boolean) => ({ id: 12, name: 'Ada Lovelace', work_email: false, job_title: 'Engineer', active, write_date: '2026-01-01 10:00:00' })
  t.same(mapItem(mapper, record(false)), { event: 'archive', employee_id: 12, data: { name: 'Ada Lovelace', work_email: false, job_title: 'Engineer', active: false } })
  t.same(mapItem(mapper, record(true)), { event: 'update', employee_id: 12, data: { name: 'Ada Lovelace', work_email: false, job_title: 'Engineer', active: true } })
  t.same(incoming(mapper.name), [[odoo.name, 0]], 'the mapping reads the Odoo records')
})

t.test('departments changed in the same window (archived too) become department events', async (t) => {
  const employees = odooReading('hr.employee')
  const departments = odooReading('hr.department')
  t.equal(departments.parameters.authentication, 'odooApi')
  t.same(departments.credentials, employees.credentials, 'the same Odoo credential')
  t.equal(departments.parameters.resource, 'custom')
  t.same(departments.parameters.customResource, { __rl: true, value: 'hr.department', mode: 'id' })
  t.equal(departments.parameters.operation, 'getAll')
  t.equal(departments.parameters.returnAll, true)
  t.same(incoming(departments.name), [['Settings', 0]], 'started by Settings, beside the employee read')
  t.same(incoming(employees.name), [['Settings', 0]])

  const filters = (departments.parameters.filters as { filter: Array<{ fieldName: string, operator: string, value: string }> }).filter
  const employeeFilters = (employees.parameters.filters as { filter: Array<{ fieldName: string, operator: string, value: string }> }).filter
  const since = filters.find((f) => f.fieldName === 'write_date')
  t.equal(since?.operator, 'greaterOrEqual', 'write_date >= the start of the window')
  t.equal(since?.value, employeeFilters.find((f) => f.fieldName === 'write_date')?.value, 'the same window as the employees')
  const active = filters.find((f) => f.fieldName === 'active')
  t.equal(active?.operator, 'in')
  t.same(String(active?.value).split(',').map((v) => Number(v.trim())).sort(), [0, 1], 'archived departments too: their employees keep them and show their name')
  t.same(filters.map((f) => f.fieldName).sort(), ['active', 'write_date'], 'nothing else')

  const mapper = next(departments.name)
  t.equal(mapper.type, 'n8n-nodes-base.set')
  t.same(incoming(mapper.name), [[departments.name, 0]])
  t.same(mapItem(mapper, { id: 3, name: 'Research', complete_name: 'Engineering / Research', active: true, write_date: '2026-01-01 10:00:00' }), { event: 'department', department_id: 3 })
  t.equal(assignmentsOf(mapper).find((a) => a.name === 'department_id')?.type, 'number')
})

t.test('employee and department events join one list before the batching, so a run sends one request', async (t) => {
  const merge = only('n8n-nodes-base.merge')
  const loop = only('n8n-nodes-base.splitInBatches')
  t.equal(merge.parameters.mode, 'append', 'append: every item of both inputs, employees first')
  t.equal(merge.parameters.numberInputs ?? 2, 2)
  const employeeEvents = next(odooReading('hr.employee').name).name
  const departmentEvents = next(odooReading('hr.department').name).name
  t.same(incoming(merge.name).sort(), [[departmentEvents, 0], [employeeEvents, 0]].sort())
  t.same(outgoing(employeeEvents), [[merge.name, 0]], 'employee events on input 1')
  t.same(outgoing(departmentEvents), [[merge.name, 1]], 'department events on input 2')
  t.same(outgoing(merge.name), [[loop.name, 0]], 'the merged list goes to the batching')
  t.same(outgoing('Settings').map(([node]) => node).sort(), [odooReading('hr.department').name, odooReading('hr.employee').name].sort(), 'Settings starts both reads')

  // The request the run sends, from one employee change and one department change, is one the gateway accepts.
  const events = [
    mapItem(byName(employeeEvents) as WorkflowNode, { id: 12, name: 'Ada Lovelace', work_email: 'ada@example.com', job_title: 'Engineer', active: true }),
    mapItem(byName(departmentEvents) as WorkflowNode, { id: 3, name: 'Research' })
  ]
  const [body] = expression(only('n8n-nodes-base.httpRequest').parameters.jsonBody)
  const sent = JSON.parse(String(evaluate(body, { $json: { events } })))
  t.same(sent, { events: [{ event: 'update', employee_id: 12, data: { name: 'Ada Lovelace', work_email: 'ada@example.com', job_title: 'Engineer', active: true } }, { event: 'department', department_id: 3 }] })
  t.ok(documentedSchemaAccepts('OdooWebhookRequest', sent), 'the webhook route\'s schema (as openapi.yaml shows it) accepts it')
  const parsed = parseWebhookBody(sent)
  t.equal(parsed.batch, true)
  t.match(parsed.items, [{ event: 'update', employeeId: 12 }, { event: 'department', departmentId: 3 }], 'the gateway\'s own parser accepts both kinds in one batch')
})

t.test('one aggregated request per run (at most 5,000 events each), keyed the same across retries', async (t) => {
  const http = only('n8n-nodes-base.httpRequest')
  const aggregate = only('n8n-nodes-base.aggregate')
  const loop = only('n8n-nodes-base.splitInBatches')
  t.same(incoming(http.name), [[aggregate.name, 0]], 'the request node gets its item from the aggregate node only')
  t.equal(aggregate.parameters.aggregate, 'aggregateAllItemData', 'all items into one')
  t.equal(aggregate.parameters.destinationFieldName, 'events')
  t.same(incoming(aggregate.name), [[loop.name, 1]], 'the aggregate takes the loop output of the batching node')
  const batchSize = Number(loop.parameters.batchSize)
  t.ok(batchSize >= 1 && batchSize <= GATEWAY_MAX_EVENTS, `batches of ${batchSize}`)
  t.same(incoming(loop.name).map(([source]) => source).sort(), [http.name, only('n8n-nodes-base.merge').name].sort(), 'fed by the merged events, and by the request for the next batch')
  t.same(workflow.connections[loop.name]?.main?.[0] ?? [], [], 'nothing hangs off the done output')

  const [body] = expression(http.parameters.jsonBody)
  const events = [{ event: 'update', employee_id: 1 }, { event: 'archive', employee_id: 2 }, { event: 'department', department_id: 3 }]
  t.same(JSON.parse(String(evaluate(body, { $json: { events } }))), { events }, 'the body is {"events": [...]}')

  const headers = (http.parameters.headerParameters as { parameters: Array<{ name: string, value: string }> }).parameters
  t.same(headers.map((h) => h.name), ['Idempotency-Key'])
  const key = String(headers[0]?.value)
  t.match(key, /\$execution\.id/, 'the key names the execution (the same on every retry of the node)')
  t.match(key, /\$json\.events/, 'and the whole batch it carries, department events included (different batches, different keys)')
  t.notMatch(key, /\$now|\$today|Date\.now|Math\.random|\$runIndex/, 'nothing that changes between retries')
})

t.test('connections reference existing nodes and every node is reachable from a trigger', async (t) => {
  const names = new Set(workflow.nodes.map((n) => n.name))
  for (const [source, kinds] of Object.entries(workflow.connections)) {
    t.ok(names.has(source), `source ${source}`)
    for (const outputs of Object.values(kinds)) for (const links of outputs) for (const link of links ?? []) t.ok(names.has(link.node), `${source} → ${link.node}`)
  }
  const reached = new Set<string>()
  const queue = workflow.nodes.filter((n) => /Trigger$/.test(n.type)).map((n) => n.name)
  while (queue.length > 0) {
    const name = queue.shift() as string
    if (reached.has(name)) continue
    reached.add(name)
    for (const outputs of Object.values(workflow.connections[name] ?? {})) for (const links of outputs) for (const link of links ?? []) queue.push(link.node)
  }
  t.same([...names].filter((n) => !reached.has(n)), [], 'no orphan node')
})
