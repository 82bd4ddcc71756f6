import type http from 'node:http'
import { parseMethodResponse } from '../xml-response.js'
import type { SimEmployee } from './employees.js'

/*
 * Odoo's JSON-RPC endpoint for the simulator, as Odoo 17 serves it beside XML-RPC (n8n's Odoo node and many
 * scripts use this one):
 *   POST /jsonrpc {"jsonrpc":"2.0","method":"call","params":{"service":"common"|"object","method":"…","args":[…]},"id":…}
 *   → 200 {"jsonrpc":"2.0","id":…,"result":…}
 *   or 200 {"jsonrpc":"2.0","id":…,"error":{"code":200,"message":"Odoo Server Error","data":{name, debug, message, arguments, context}}}
 * Odoo runs the same dispatch (odoo.service.common / odoo.service.model) for both protocols, so the answers come
 * from the simulator's own XML-RPC handlers: their XML is read back into plain values. Failure injection and
 * the answer delay of the simulator apply to XML-RPC only.
 *
 * On the way in, this endpoint does what Odoo's ORM does and the simulator's XML-RPC dispatch (written for the
 * gateway's own client, which never needs it) does not:
 * - positional arguments of search_read(domain, fields, offset, limit, order), search(domain, offset, limit,
 *   order) and search_count(domain, limit), which n8n's Odoo node sends through `execute`; a limit of 0 or false
 *   means no limit;
 * - Python's equality on the boolean field `active`: 1 and 0 are True and False, so ('active', 'in', [1, 0])
 *   matches active and archived employees alike (what n8n's "In" filter with the value "1,0" sends), while
 *   the strings 'true'/'false' match nothing;
 * - `write_date` (the simulator keeps no such field): a record's write_date is the time of the first `object`
 *   call after that version of it was stored (the simulator stores a new object on every upsert), in Odoo's
 *   'YYYY-MM-DD HH:MM:SS' UTC form. It can be read and compared (=, !=, <, <=, >, >=) in a domain.
 * - `hr.department` for search_read, search, search_count and read, with the same positional arguments, Odoo's
 *   domains (&, |, ! and leaves on id, name, complete_name, parent_id, active, write_date), the implicit
 *   ('active', '=', True) unless the domain names `active` or the context has active_test false, and Odoo's
 *   default order (name). The departments come from the simulator's own hr.department search_read, which ignores
 *   its domain; this layer filters them. A department is active unless the simulator's record says
 *   `active: false`. Its write_date is the time of the first `object` call that saw its current name, parent and
 *   complete_name: the simulator renames a department in place (`renameDepartment`), so this layer remembers each
 *   department's last version. A parent's rename gives its sub-departments a new write_date too, as in Odoo,
 *   where the stored complete_name is recomputed and a recompute writes write_date.
 */

/** What the simulator lends this endpoint: its XML-RPC dispatch, which throws an Error with `faultCode` for a fault. */
export interface JsonRpcBackend {
  /** The `common` service: a complete XML-RPC methodResponse document. */
  common: (method: string, params: unknown[]) => string
  /** The `object` service (`execute_kw` and its older alias `execute`): a complete methodResponse document. */
  object: (params: unknown[]) => string
  stats: { calls: Record<string, number>, faults: number }
  /** The simulator's records (for write_date). The map also keys this layer's memory of the simulator's departments. */
  employees: Map<number, SimEmployee>
}

interface OdooErrorData {
  name: string
  debug: string
  message: string
  arguments: unknown[]
  context: Record<string, never>
}

/** An exception on its way out, as Odoo's `serialize_exception` describes it. */
class RpcError extends Error {
  constructor (readonly data: OdooErrorData, readonly code = 200, readonly title = 'Odoo Server Error') {
    super(data.message)
  }
}

function pythonError (name: string, message: string, debug?: string): RpcError {
  const qualified = name.includes('.') ? name : `builtins.${name}`
  return new RpcError({
    name: qualified,
    debug: debug ?? `Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/odoo/http.py", line 1767, in _serve_db\n    return service_model.retrying(self._serve_ir_http, self.env)\n${name}: ${message}\n`,
    message,
    arguments: [message],
    context: {}
  })
}

/**
 * An XML-RPC fault turned into the JSON-RPC error Odoo gives for the same exception: code 3 is
 * odoo.exceptions.AccessDenied, 4 AccessError, 2 UserError; code 1 carries a Python traceback whose last line
 * names the exception ("ValueError: Invalid field …").
 */
function fromFault (faultCode: number, faultString: string): RpcError {
  switch (faultCode) {
    case 2: return pythonError('odoo.exceptions.UserError', faultString)
    case 3: return pythonError('odoo.exceptions.AccessDenied', faultString)
    case 4: return pythonError('odoo.exceptions.AccessError', faultString)
    default: {
      const last = faultString.trimEnd().split('\n').pop() ?? faultString
      const match = /^([A-Za-z_][\w.]*): ?([\s\S]*)$/.exec(last)
      // The simulator's traceback names the XML-RPC controller; Odoo's JSON-RPC one goes through jsonrpc().
      const debug = faultString.replace('in xmlrpc_2\n    response = self._xmlrpc(service)', 'in jsonrpc\n    return dispatch_rpc(service, method, args)')
      return match === null ? pythonError('Exception', faultString, debug) : pythonError(match[1] as string, match[2] as string, debug)
    }
  }
}

function valueOf (xml: string): unknown {
  const parsed = parseMethodResponse(xml)
  if (parsed === undefined) throw pythonError('ValueError', 'the simulator produced an answer it cannot read back')
  if (!parsed.ok) throw fromFault(Number(parsed.fault.faultCode), String(parsed.fault.faultString))
  return parsed.value
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Positional parameters after the domain, by ORM method (Odoo 17 signatures). */
const POSITIONAL: Record<string, string[]> = {
  search_read: ['fields', 'offset', 'limit', 'order'],
  search: ['offset', 'limit', 'order'],
  search_count: ['limit']
}

/** Now in Odoo's datetime form (UTC, seconds). */
function odooNow (): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ')
}

/** write_date per record version: a new object in the simulator's map is a new write. */
const writeDates = new WeakMap<object, string>()
function writeDate (record: SimEmployee): string {
  let stamp = writeDates.get(record)
  if (stamp === undefined) {
    stamp = odooNow()
    writeDates.set(record, stamp)
  }
  return stamp
}

/** An hr.department record as this layer serves it. */
type Department = Record<string, unknown> & { id: number, active: boolean, write_date: string }

/** Fields of hr.department this layer serves (the simulator's, plus active, display_name and write_date). */
const DEPARTMENT_FIELDS = new Set(['id', 'name', 'complete_name', 'display_name', 'parent_id', 'active', 'write_date'])

/** Per simulator (keyed by its employee map, which lives as long as it does): each department's last version and its write_date. */
const departmentVersions = new WeakMap<object, Map<number, { version: string, stamp: string }>>()

/**
 * Every department of the simulator with its write_date, read through the simulator's own dispatch with the
 * caller's credentials; null when that read fails (wrong credentials, or a simulator without hr.department).
 */
function readDepartments (backend: JsonRpcBackend, head: unknown[]): Department[] | null {
  let list: unknown
  try {
    list = valueOf(backend.object([head[0], head[1], head[2], 'hr.department', 'search_read', [[]], {}]))
  } catch {
    return null
  }
  if (!Array.isArray(list)) return null
  let versions = departmentVersions.get(backend.employees)
  if (versions === undefined) {
    versions = new Map()
    departmentVersions.set(backend.employees, versions)
  }
  const now = odooNow()
  const out: Department[] = []
  for (const item of list) {
    if (!isObject(item)) continue
    const id = Number(item.id)
    const active = item.active !== false
    const version = JSON.stringify([item.name, item.complete_name ?? null, item.parent_id ?? false, active])
    let known = versions.get(id)
    if (known === undefined || known.version !== version) {
      known = { version, stamp: now }
      versions.set(id, known)
    }
    out.push({ ...item, id, active, display_name: item.complete_name ?? item.name, write_date: known.stamp })
  }
  return out
}

/** Python-like comparison of one department field with a domain value. */
function departmentLeaf (record: Department, field: string, operator: string, raw: unknown): boolean {
  const many2one = (v: unknown): unknown => Array.isArray(v) ? v[0] ?? false : v
  const norm = (v: unknown): unknown => field === 'active' ? asBoolean(v) : v
  const actual = many2one(record[field])
  const value = Array.isArray(raw) ? raw.map(norm) : norm(raw)
  const equal = (a: unknown, b: unknown): boolean => a === b || ((a === false || a === null || a === undefined) && b === false)
  switch (operator) {
    case '=': return equal(actual, value)
    case '!=':
    case '<>': return !equal(actual, value)
    case 'in': return (Array.isArray(value) ? value : [value]).some((v) => equal(actual, v))
    case 'not in': return !(Array.isArray(value) ? value : [value]).some((v) => equal(actual, v))
    case '<':
    case '<=':
    case '>':
    case '>=': {
      // SQL: a comparison with NULL (Odoo's false) is never true; mixed types do not compare.
      if (actual === false || actual === null || actual === undefined || typeof actual !== typeof value) return false
      const a = actual as string | number
      const b = value as string | number
      return operator === '<' ? a < b : operator === '<=' ? a <= b : operator === '>' ? a > b : a >= b
    }
    case 'like':
    case 'ilike':
    case 'not like':
    case 'not ilike': {
      const insensitive = operator.endsWith('ilike')
      const text = typeof actual === 'string' ? actual : ''
      const found = insensitive ? text.toLowerCase().includes(String(value).toLowerCase()) : text.includes(String(value))
      return operator.startsWith('not') ? !found : found
    }
    default: throw pythonError('ValueError', `Invalid leaf ('${field}', '${operator}', ${JSON.stringify(raw)})`)
  }
}

/** Odoo's prefix-notation domain over departments: terms are ANDed unless `|`, `&` or `!` say otherwise. */
function compileDepartmentDomain (domain: unknown): { test: (d: Department) => boolean, mentionsActive: boolean } {
  if (!Array.isArray(domain)) throw pythonError('TypeError', 'domain must be a list')
  let mentionsActive = false
  let i = 0
  const term = (): ((d: Department) => boolean) => {
    if (i >= domain.length) throw pythonError('ValueError', `Invalid domain ${JSON.stringify(domain)}`)
    const item: unknown = domain[i++]
    if (item === '&' || item === '|') {
      const left = term()
      const right = term()
      return item === '&' ? (d) => left(d) && right(d) : (d) => left(d) || right(d)
    }
    if (item === '!') {
      const inner = term()
      return (d) => !inner(d)
    }
    if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== 'string' || typeof item[1] !== 'string') throw pythonError('ValueError', `Invalid leaf ${JSON.stringify(item)}`)
    const [field, operator, value] = item as [string, string, unknown]
    if (!DEPARTMENT_FIELDS.has(field) || field === 'display_name') throw pythonError('ValueError', `Invalid field hr.department.${field} in leaf ('${field}', '${operator}', ${JSON.stringify(value)})`)
    if (field === 'active') mentionsActive = true
    return (d) => departmentLeaf(d, field, operator.toLowerCase(), value)
  }
  const terms: Array<(d: Department) => boolean> = []
  while (i < domain.length) terms.push(term())
  return { test: (d) => terms.every((t) => t(d)), mentionsActive }
}

/** Only the fields asked for (all of them for none), id always. */
function departmentFields (fields: unknown): (d: Department) => Record<string, unknown> {
  const list = Array.isArray(fields) ? fields.map(String) : []
  for (const field of list) if (!DEPARTMENT_FIELDS.has(field)) throw pythonError('ValueError', `Invalid field '${field}' on model 'hr.department'`)
  const wanted = list.length === 0 ? [...DEPARTMENT_FIELDS] : ['id', ...list.filter((f) => f !== 'id')]
  return (d) => Object.fromEntries(wanted.map((f) => [f, d[f] ?? false]))
}

/** hr.department's search_read, search, search_count and read over the departments read above. */
function departmentCall (all: Department[], method: string, args: unknown[], domain: unknown, kw: Record<string, unknown>): unknown {
  if (method === 'read') {
    const ids = (Array.isArray(args[0]) ? args[0] : [args[0]]).map(Number)
    const pick = departmentFields(kw.fields ?? args[1])
    // read() keeps the order of the ids, drops unknown ones and does not filter archived records.
    return ids.flatMap((id) => { const d = all.find((x) => x.id === id); return d === undefined ? [] : [pick(d)] })
  }
  const { test, mentionsActive } = compileDepartmentDomain(domain)
  const context = isObject(kw.context) ? kw.context : {}
  let found = all.filter(test)
  if (context.active_test !== false && !mentionsActive) found = found.filter((d) => d.active)
  if (method === 'search_count') return kw.limit === undefined ? found.length : Math.min(found.length, Number(kw.limit))
  // hr.department's _order is "name"; ties (and everything else) by id.
  const order = String(kw.order ?? 'name')
  const keys = order.split(',').map((part) => part.trim().split(/\s+/)).map(([field = '', direction = 'asc']) => {
    if (!['id', 'name', 'complete_name', 'write_date'].includes(field) || !['asc', 'desc'].includes(direction.toLowerCase())) throw pythonError('ValueError', `Invalid "order" specified (${order})`)
    return { field, sign: direction.toLowerCase() === 'desc' ? -1 : 1 }
  })
  found = [...found].sort((a, b) => {
    for (const { field, sign } of keys) {
      const x = a[field]
      const y = b[field]
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''))
      if (c !== 0) return sign * c
    }
    return a.id - b.id
  })
  const offset = Number(kw.offset ?? 0)
  found = found.slice(offset, kw.limit === undefined ? undefined : offset + Number(kw.limit))
  if (method === 'search') return found.map((d) => d.id)
  return found.map(departmentFields(kw.fields))
}

const DEPARTMENT_METHODS = new Set(['search_read', 'search', 'search_count', 'read'])

function compareText (actual: string, operator: string, value: unknown): boolean {
  if (typeof value !== 'string') return operator === '!='
  switch (operator) {
    case '=': return actual === value
    case '!=': return actual !== value
    case '>': return actual > value
    case '>=': return actual >= value
    case '<': return actual < value
    case '<=': return actual <= value
    default: throw pythonError('ValueError', `Invalid leaf ('write_date', '${operator}', ${JSON.stringify(value)})`)
  }
}

/** Python: 1 == True and 0 == False. */
function asBoolean (value: unknown): unknown {
  return value === 1 ? true : value === 0 ? false : value
}

/** The domain with write_date leaves turned into id leaves and `active` values compared the way Python does. */
function rewriteDomain (domain: unknown, employees: Map<number, SimEmployee>): unknown {
  if (!Array.isArray(domain)) return domain
  return domain.map((item: unknown) => {
    if (!Array.isArray(item) || item.length !== 3) return item
    const [field, operator, value] = item as [unknown, unknown, unknown]
    if (field === 'active') return [field, operator, Array.isArray(value) ? value.map(asBoolean) : asBoolean(value)]
    if (field !== 'write_date') return item
    const ids: number[] = []
    for (const record of employees.values()) if (compareText(writeDate(record), String(operator), value)) ids.push(record.id)
    return ['id', 'in', ids]
  })
}

/** An `object` service call: Odoo's argument handling, then the simulator's execute_kw. */
function objectCall (backend: JsonRpcBackend, head: unknown[], method: string, args: unknown[], kwargs: Record<string, unknown>): unknown {
  // Every record version gets its write_date on the first call that could see it, whatever that call reads.
  for (const record of backend.employees.values()) writeDate(record)
  const departments = readDepartments(backend, head)
  const kw: Record<string, unknown> = { ...kwargs }
  const positional = POSITIONAL[method]
  let ormArgs = args
  let domain: unknown = []
  if (positional !== undefined) {
    if (args.length > positional.length + 1) throw pythonError('TypeError', `${method}() takes from 1 to ${positional.length + 2} positional arguments but ${args.length + 1} were given`)
    positional.forEach((key, index) => {
      const value = args[index + 1]
      if (value === undefined) return
      if (key in kw) throw pythonError('TypeError', `${method}() got multiple values for argument '${key}'`)
      kw[key] = value
    })
    domain = args[0] ?? kw.domain ?? []
    delete kw.domain
    if (kw.limit === 0 || kw.limit === false || kw.limit === null) delete kw.limit
    if (kw.offset === false || kw.offset === null) delete kw.offset
  }
  // Without departments (the read failed) the call goes to the simulator, whose answer or fault is Odoo's.
  if (head[3] === 'hr.department' && departments !== null && DEPARTMENT_METHODS.has(method)) return departmentCall(departments, method, args, domain, kw)
  if (positional !== undefined) ormArgs = [head[3] === 'hr.department' ? domain : rewriteDomain(domain, backend.employees)]
  // write_date is this layer's: taken out of the field list, added to the records read.
  let wantsWriteDate = false
  const dropWriteDate = (fields: unknown): unknown => {
    if (!Array.isArray(fields)) return fields
    if (fields.length === 0) wantsWriteDate = true
    if (fields.includes('write_date')) wantsWriteDate = true
    const rest = fields.filter((f) => f !== 'write_date')
    // Only write_date asked for: read the id alone rather than every field.
    return fields.length > 0 && rest.length === 0 ? ['id'] : rest
  }
  if (method === 'search_read' || method === 'read') {
    if (kw.fields !== undefined) kw.fields = dropWriteDate(kw.fields)
    if (method === 'read' && Array.isArray(ormArgs[1])) ormArgs = [ormArgs[0], dropWriteDate(ormArgs[1]), ...ormArgs.slice(2)]
  }
  const result = valueOf(backend.object([...head, ormArgs, kw]))
  if (wantsWriteDate && head[3] === 'hr.employee' && Array.isArray(result)) {
    for (const record of result as Array<Record<string, unknown>>) {
      const stored = backend.employees.get(Number(record.id))
      if (stored !== undefined) record.write_date = writeDate(stored)
    }
  }
  return result
}

function call (backend: JsonRpcBackend, params: unknown): unknown {
  if (!isObject(params)) throw pythonError('TypeError', 'jsonrpc() missing 3 required positional arguments: \'service\', \'method\', and \'args\'')
  const { service, method, args } = params
  const missing = (['service', 'method', 'args'] as const).filter((key) => params[key] === undefined)
  if (missing.length > 0) {
    // Python's wording: 'a', 'a' and 'b', 'a', 'b', and 'c'.
    const quoted = missing.map((m) => `'${m}'`)
    const names = quoted.length === 1 ? quoted[0] : quoted.length === 2 ? quoted.join(' and ') : `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`
    throw pythonError('TypeError', `jsonrpc() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${names}`)
  }
  if (service !== 'common' && service !== 'object' && service !== 'db') throw pythonError('KeyError', `'${String(service)}'`)
  const list = Array.isArray(args) ? args : []
  const name = String(method)
  backend.stats.calls[name] = (backend.stats.calls[name] ?? 0) + 1
  try {
    if (service === 'common') return valueOf(backend.common(name, list))
    if (service === 'db') {
      if (name === 'list') throw pythonError('odoo.exceptions.AccessDenied', 'Access Denied')
      throw pythonError('KeyError', `'exp_${name}'`)
    }
    if (name !== 'execute_kw' && name !== 'execute') throw pythonError('NameError', `Method not available ${name}`)
    // execute(db, uid, password, model, method, *args) is execute_kw without kwargs.
    const [db, uid, password, model, ormMethod, ormArgs, ormKwargs] = name === 'execute' ? [...list.slice(0, 5), list.slice(5), {}] : list
    return objectCall(backend, [db, uid, password, model, ormMethod], String(ormMethod), Array.isArray(ormArgs) ? ormArgs : [], isObject(ormKwargs) ? ormKwargs : {})
  } catch (error) {
    if (error instanceof RpcError) throw error
    const fault = error as { faultCode?: unknown, message?: unknown }
    if (typeof fault.faultCode === 'number') throw fromFault(fault.faultCode, String(fault.message))
    throw error
  }
}

function reply (res: http.ServerResponse, body: unknown): void {
  if (res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Answers one `POST /jsonrpc` request the way Odoo 17 does. */
export async function answerJsonRpc (req: http.IncomingMessage, res: http.ServerResponse, backend: JsonRpcBackend): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  let id: unknown = null
  try {
    let request: unknown
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      throw pythonError('werkzeug.exceptions.BadRequest', '400 Bad Request: Invalid JSON data')
    }
    if (!isObject(request)) throw pythonError('werkzeug.exceptions.BadRequest', '400 Bad Request: Invalid JSON-RPC data')
    id = request.id ?? null
    reply(res, { jsonrpc: '2.0', id, result: call(backend, request.params) })
  } catch (error) {
    if (!(error instanceof RpcError)) throw error
    backend.stats.faults++
    reply(res, { jsonrpc: '2.0', id, error: { code: error.code, message: error.title, data: error.data } })
  }
}
