import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { DEPARTMENTS, type SimCompany, type SimDepartment, type SimEmployee } from './employees.js'
import { answerJsonRpc } from './jsonrpc.js'

/*
 * A fake Odoo 17 that speaks real XML-RPC on loopback: requests are decoded with the `xmlrpc` package's own
 * Deserializer (its server side), faults are encoded with its Serializer. Employee lists take a fast path
 * (each record's XML is built once and cached) so that 100,000 employees can be served quickly for the bench.
 */
const require = createRequire(import.meta.url)
interface XmlRpcDeserializer { deserializeMethodCall: (stream: NodeJS.ReadableStream, cb: (err: Error | null, method: string, params: unknown[]) => void) => void }
const Deserializer = require('xmlrpc/lib/deserializer.js') as new () => XmlRpcDeserializer
const Serializer = require('xmlrpc/lib/serializer.js') as { serializeMethodResponse: (value: unknown) => string, serializeFault: (fault: unknown) => string }

export type FailureMode = 'html502' | 'html404' | 'slow' | 'empty' | 'reset' | 'fault1' | 'text500' | 'dbDown'

export interface Failure {
  mode: FailureMode
  /** For `slow`: how long before the answer (default 10 s). */
  delayMs?: number
  /** Only calls of these XML-RPC methods (`execute_kw`, `authenticate`, …) are affected; default all. */
  methods?: string[]
  /** Matching calls let through before this failure applies (to fail in the middle of a sync). */
  skip?: number
}

export interface OdooSimulatorOptions {
  employees?: SimEmployee[]
  departments?: SimDepartment[]
  db?: string
  login?: string
  password?: string
  uid?: number
  port?: number
  /** Fields that need HR rights (reading them gives fault 4). */
  restrictedFields?: string[]
  /** Companies (default one, id 1). Employees belong to company 1 unless they say otherwise. */
  companies?: SimCompany[]
  /**
   * The companies the API user belongs to (default all), the first being its current company. As in Odoo 17
   * (odoo/api.py, Environment.companies), a call sees the employees of the companies in its context's
   * `allowed_company_ids`, or of every company the user belongs to when the context names none; naming a company
   * the user is not in is an AccessError. Employees of other companies are invisible either way.
   */
  userCompanyIds?: number[]
}

export interface SimulatorStats {
  requests: number
  calls: Record<string, number>
  /** Requests whose client went away before the answer (e.g. a client-side timeout destroyed the socket). */
  abortedByClient: number
  faults: number
  /** The most requests Odoo was serving at one time (what ODOO_SYNC_CONCURRENCY bounds). */
  maxInFlight: number
}

class Fault extends Error {
  readonly faultCode: number
  constructor (code: number, message: string) {
    super(message)
    this.faultCode = code
  }
}

const EMPLOYEE_FIELDS = new Set(['id', 'name', 'work_email', 'job_title', 'department_id', 'parent_id', 'active', 'private_email', 'display_name', 'company_id'])

function traceback (line: string): string {
  return `Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/odoo/addons/base/controllers/rpc.py", line 150, in xmlrpc_2\n    response = self._xmlrpc(service)\n  File "/usr/lib/python3/dist-packages/odoo/service/model.py", line 62, in dispatch\n    res = execute_kw(db, uid, *params[3:])\n${line}\n`
}

function escapeXml (text: string): string {
  // Odoo strips control characters; XML 1.0 cannot carry them anyway.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Plain XML-RPC value encoding for the fast path (ints, booleans, strings, arrays, structs). */
function valueXml (value: unknown): string {
  if (value === false || value === true) return `<value><boolean>${value ? 1 : 0}</boolean></value>`
  if (typeof value === 'number') return Number.isInteger(value) ? `<value><int>${value}</int></value>` : `<value><double>${value}</double></value>`
  if (typeof value === 'string') return `<value><string>${escapeXml(value)}</string></value>`
  if (Array.isArray(value)) return `<value><array><data>${value.map(valueXml).join('')}</data></array></value>`
  if (value !== null && typeof value === 'object') {
    let out = '<value><struct>'
    for (const [key, member] of Object.entries(value)) out += `<member><name>${escapeXml(key)}</name>${valueXml(member)}</member>`
    return `${out}</struct></value>`
  }
  return '<value><boolean>0</boolean></value>'
}

function responseXml (inner: string): string {
  return `<?xml version="1.0"?>\n<methodResponse><params><param>${inner}</param></params></methodResponse>`
}

const HTML_502 = '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>\n'
const HTML_404 = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n'

type Predicate = (e: SimEmployee) => boolean

export function createOdooSimulator (options: OdooSimulatorOptions = {}) {
  const db = options.db ?? 'odoo'
  const login = options.login ?? 'hr-export'
  let password = options.password ?? 'secret-api-key'
  const uid = options.uid ?? 7
  const restricted = new Set(options.restrictedFields ?? ['private_email'])
  const departments = new Map<number, SimDepartment>((options.departments ?? DEPARTMENTS).map((d) => [d.id, { ...d }]))
  const companies = new Map<number, SimCompany>((options.companies ?? [{ id: 1, name: 'YourCompany' }]).map((c) => [c.id, c]))
  let userCompanyIds = options.userCompanyIds ?? [...companies.keys()]
  /** Until when the server is "restarting" (502 from the proxy in front), then how many slow first answers. */
  const restart = { downUntil: 0, slowCalls: 0, slowMs: 0 }
  const employees = new Map<number, SimEmployee>()
  const xmlCache = new Map<number, Map<string, string>>()
  let sortedIds: number[] | null = null
  const failures: Failure[] = []
  let delayMs = 0
  const stats: SimulatorStats = { requests: 0, calls: {}, abortedByClient: 0, faults: 0, maxInFlight: 0 }
  let inFlight = 0

  function upsert (employee: SimEmployee): void {
    if (!employees.has(employee.id)) sortedIds = null
    const previous = employees.get(employee.id)
    employees.set(employee.id, { ...employee })
    // A renamed employee may be someone's manager (parent_id carries the name): drop every cached record then.
    if (previous !== undefined && previous.name !== employee.name) xmlCache.clear()
    else xmlCache.delete(employee.id)
  }
  function remove (id: number): void {
    employees.delete(id)
    sortedIds = null
    xmlCache.delete(id)
  }
  function setEmployees (list: SimEmployee[]): void {
    employees.clear()
    xmlCache.clear()
    sortedIds = null
    for (const e of list) employees.set(e.id, { ...e })
  }
  setEmployees(options.employees ?? [])

  function ids (): number[] {
    sortedIds ??= [...employees.keys()].sort((a, b) => a - b)
    return sortedIds
  }

  /** hr.department's display name is its complete name ("Parent / Child"). */
  function departmentName (id: number): string {
    const d = departments.get(id)
    if (d === undefined) return `hr.department,${id}`
    return d.parentId === null ? d.name : `${departmentName(d.parentId)} / ${d.name}`
  }
  /** Whether department `id` is `root` or one of its sub-departments. */
  function descends (id: number, root: number): boolean {
    for (let current: number | null | undefined = id; current != null; current = departments.get(current)?.parentId) {
      if (current === root) return true
    }
    return false
  }
  function employeeName (id: number): string {
    return employees.get(id)?.name ?? `hr.employee,${id}`
  }

  function fieldValue (e: SimEmployee, field: string): unknown {
    switch (field) {
      case 'id': return e.id
      case 'display_name': return e.name
      case 'department_id': return e.department_id === false ? false : [e.department_id, departmentName(e.department_id)]
      case 'company_id': return [e.company_id ?? 1, companies.get(e.company_id ?? 1)?.name ?? `res.company,${e.company_id ?? 1}`]
      case 'parent_id': return e.parent_id === false ? false : [e.parent_id, employeeName(e.parent_id)]
      default: return (e as unknown as Record<string, unknown>)[field] ?? false
    }
  }

  function checkFields (fields: string[]): void {
    for (const field of fields) {
      if (!EMPLOYEE_FIELDS.has(field)) throw new Fault(1, traceback(`ValueError: Invalid field '${field}' on model 'hr.employee'`))
      if (restricted.has(field)) throw new Fault(4, `You do not have enough rights to access the fields "${field}" on Employee (hr.employee). Please contact your system administrator.\n\nOperation: read\nUser: ${uid}\nGroups allowed: Employees / Officer: Manage all employees`)
    }
  }

  /** The record as XML for the requested fields; cached per (id, fields). */
  function recordXml (e: SimEmployee, fields: string[]): string {
    const key = fields.join(',')
    let perRecord = xmlCache.get(e.id)
    if (perRecord === undefined) {
      perRecord = new Map()
      xmlCache.set(e.id, perRecord)
    }
    let xml = perRecord.get(key)
    if (xml === undefined) {
      const record: Record<string, unknown> = { id: e.id }
      for (const field of fields) record[field] = fieldValue(e, field)
      xml = valueXml(record)
      perRecord.set(key, xml)
    }
    return xml
  }

  function compare (actual: unknown, operator: string, value: unknown, field: string): boolean {
    const norm = (v: unknown): unknown => Array.isArray(v) ? v[0] : v
    const a = norm(actual)
    switch (operator) {
      case '=': return a === value || (value === false && (a === false || a === null))
      case '!=': return !(a === value || (value === false && a === false))
      case 'in': return Array.isArray(value) && value.includes(a)
      case 'not in': return Array.isArray(value) && !value.includes(a)
      case '>': return (a as number) > (value as number)
      case '>=': return (a as number) >= (value as number)
      case '<': return (a as number) < (value as number)
      case '<=': return (a as number) <= (value as number)
      case 'ilike': return typeof a === 'string' && a.toLowerCase().includes(String(value).toLowerCase())
      case 'child_of': return typeof a === 'number' && (Array.isArray(value) ? value : [value]).some((root) => descends(a, Number(root)))
      default: throw new Fault(1, traceback(`ValueError: Invalid leaf ['${field}', '${operator}', ${JSON.stringify(value)}]`))
    }
  }

  /** Odoo's prefix-notation domains: terms are ANDed unless `|`, `&` or `!` say otherwise. */
  function compileDomain (domain: unknown): { predicate: Predicate, mentionsActive: boolean, idsOnly: number[] | null } {
    if (!Array.isArray(domain)) throw new Fault(1, traceback('TypeError: domain must be a list'))
    let mentionsActive = false
    let i = 0
    const parseTerm = (): Predicate => {
      const item = domain[i++]
      if (item === '&' || item === '|') {
        const left = parseTerm()
        const right = parseTerm()
        return item === '&' ? (e) => left(e) && right(e) : (e) => left(e) || right(e)
      }
      if (item === '!') {
        const inner = parseTerm()
        return (e) => !inner(e)
      }
      if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== 'string' || typeof item[1] !== 'string') {
        throw new Fault(1, traceback(`ValueError: Invalid leaf ${JSON.stringify(item)}`))
      }
      const [field, operator, value] = item as [string, string, unknown]
      if (!EMPLOYEE_FIELDS.has(field)) throw new Fault(1, traceback(`ValueError: Invalid field hr.employee.${field} in leaf ('${field}', '${operator}', ${JSON.stringify(value)})`))
      if (field === 'active') mentionsActive = true
      return (e) => compare(fieldValue(e, field), operator, value, field)
    }
    const terms: Predicate[] = []
    while (i < domain.length) terms.push(parseTerm())
    const single = domain.length === 1 ? domain[0] as unknown[] : null
    const idsOnly = single !== null && Array.isArray(single) && single[0] === 'id' && single[1] === 'in' && Array.isArray(single[2])
      ? (single[2] as unknown[]).map(Number)
      : null
    return { predicate: (e) => terms.every((t) => t(e)), mentionsActive, idsOnly }
  }

  /** The companies a call may see (its context's allowed_company_ids, else all of the user's). */
  function visibleCompanies (context: Record<string, unknown>): Set<number> {
    const asked = context.allowed_company_ids
    if (!Array.isArray(asked) || asked.length === 0) return new Set(userCompanyIds)
    const wanted = asked.map(Number)
    if (wanted.some((id) => !userCompanyIds.includes(id))) throw new Fault(4, 'Access to unauthorized or invalid companies.')
    return new Set(wanted)
  }

  function search (domain: unknown, kwargs: Record<string, unknown>): SimEmployee[] {
    const { predicate, mentionsActive, idsOnly } = compileDomain(domain)
    const context = (kwargs.context ?? {}) as Record<string, unknown>
    // Odoo's multi-company record rule: only the employees of the companies in the call's context.
    const visible = visibleCompanies(context)
    // Odoo adds ('active', '=', True) unless active_test is false or the domain names `active` itself.
    const activeFilter = context.active_test !== false && !mentionsActive
    let found: SimEmployee[]
    if (idsOnly !== null) {
      found = [...new Set(idsOnly)].map((id) => employees.get(id)).filter((e): e is SimEmployee => e !== undefined)
    } else {
      found = []
      for (const id of ids()) {
        const e = employees.get(id) as SimEmployee
        if (predicate(e)) found.push(e)
      }
    }
    if (activeFilter) found = found.filter((e) => e.active)
    found = found.filter((e) => visible.has(e.company_id ?? 1))
    const order = String(kwargs.order ?? 'name')
    const [orderField = 'name', direction = 'asc'] = order.trim().split(/\s+/)
    if (!['id', 'name'].includes(orderField)) throw new Fault(1, traceback(`ValueError: Invalid "order" specified (${order})`))
    const sign = direction.toLowerCase() === 'desc' ? -1 : 1
    if (orderField === 'id') found.sort((a, b) => sign * (a.id - b.id))
    else found.sort((a, b) => sign * (a.name.localeCompare(b.name) || a.id - b.id))
    const offset = Number(kwargs.offset ?? 0)
    const limit = kwargs.limit === undefined || kwargs.limit === false ? undefined : Number(kwargs.limit)
    return found.slice(offset, limit === undefined ? undefined : offset + limit)
  }

  function fieldsOf (kwargs: Record<string, unknown>): string[] {
    const fields = Array.isArray(kwargs.fields) && kwargs.fields.length > 0 ? kwargs.fields.map(String) : [...EMPLOYEE_FIELDS].filter((f) => !restricted.has(f) && f !== 'id')
    checkFields(fields)
    return fields.filter((f) => f !== 'id')
  }

  /** Returns ready XML for the response value. */
  function executeKw (params: unknown[]): string {
    const [dbName, callerUid, secret, model, method, args = [], kwargs = {}] = params as [unknown, unknown, unknown, unknown, unknown, unknown[], Record<string, unknown>]
    if (dbName !== db) throw new Fault(1, traceback(`psycopg2.OperationalError: connection to server failed: FATAL:  database "${String(dbName)}" does not exist`))
    if (callerUid !== uid || secret !== password) throw new Fault(3, 'Access Denied')
    if (typeof method !== 'string' || method.startsWith('_')) throw new Fault(1, traceback(`Exception: Private methods (such as ${String(method)}) cannot be called remotely.`))
    const kw = kwargs ?? {}
    if (model === 'res.users' || model === 'res.company' || model === 'hr.department') return otherModel(model, method, args, kw)
    if (model !== 'hr.employee') throw new Fault(2, `Object ${String(model)} doesn't exist`)
    switch (method) {
      case 'search':
        return valueXml(search(args[0] ?? [], kw).map((e) => e.id))
      case 'search_count':
        return valueXml(search(args[0] ?? [], { ...kw, limit: undefined, offset: 0, order: 'id' }).length)
      case 'search_read': {
        const fields = fieldsOf(kw)
        const found = search(args[0] ?? [], { ...kw, order: kw.order ?? 'id asc' })
        return `<value><array><data>${found.map((e) => recordXml(e, fields)).join('')}</data></array></value>`
      }
      case 'read': {
        const fields = fieldsOf(kw.fields === undefined && Array.isArray(args[1]) ? { fields: args[1] } : kw)
        const wanted = Array.isArray(args[0]) ? args[0] : [args[0]]
        // read() silently drops ids that no longer exist and does not filter archived records.
        const found = wanted.map(Number).map((id) => employees.get(id)).filter((e): e is SimEmployee => e !== undefined)
        return `<value><array><data>${found.map((e) => recordXml(e, fields)).join('')}</data></array></value>`
      }
      default:
        throw new Fault(2, `The method '${method}' does not exist on the model 'hr.employee'`)
    }
  }

  /** The few other models the gateway (and n8n's workflow) read: the API user, companies, departments. */
  function otherModel (model: string, method: string, args: unknown[], kw: Record<string, unknown>): string {
    const wanted = (Array.isArray(args[0]) ? args[0] : [args[0]]).map(Number)
    if (model === 'res.users' && method === 'read') {
      // A user may read its own record.
      return valueXml(wanted.filter((id) => id === uid).map((id) => ({ id, company_ids: userCompanyIds, company_id: [userCompanyIds[0] ?? 1, companies.get(userCompanyIds[0] ?? 1)?.name ?? ''] })))
    }
    if (model === 'res.company' && method === 'read') {
      if (wanted.some((id) => !userCompanyIds.includes(id))) throw new Fault(4, 'Access to unauthorized or invalid companies.')
      return valueXml(wanted.flatMap((id) => { const c = companies.get(id); return c === undefined ? [] : [{ id, name: c.name }] }))
    }
    if (model === 'hr.department' && (method === 'search_read' || method === 'read')) {
      const all = [...departments.values()].sort((a, b) => a.id - b.id)
      const list = method === 'read' ? all.filter((d) => wanted.includes(d.id)) : all
      return valueXml(list.map((d) => ({ id: d.id, name: d.name, complete_name: departmentName(d.id), parent_id: d.parentId === null ? false : [d.parentId, departmentName(d.parentId)] })))
    }
    throw new Fault(2, `The method '${method}' does not exist on the model '${model}'`)
  }

  /** Renames a department: every employee in it or below it now shows the new name (no employee changed). */
  function renameDepartment (id: number, name: string): void {
    const department = departments.get(id)
    if (department === undefined) throw new Error(`no department ${id}`)
    department.name = name
    xmlCache.clear()
  }

  function common (method: string, params: unknown[]): string {
    switch (method) {
      case 'version':
        return Serializer.serializeMethodResponse({ server_version: '17.0', server_version_info: [17, 0, 0, 'final', 0], server_serie: '17.0', protocol_version: 1 })
      case 'authenticate':
      case 'login': {
        const [dbName, user, secret] = params
        if (dbName !== db) throw new Fault(1, traceback(`psycopg2.OperationalError: connection to server failed: FATAL:  database "${String(dbName)}" does not exist`))
        // A wrong login or password is not a fault: Odoo answers `false`.
        return Serializer.serializeMethodResponse(user === login && secret === password ? uid : false)
      }
      default:
        throw new Fault(1, traceback(`NameError: name '${method}' is not defined`))
    }
  }

  function send (res: http.ServerResponse, status: number, body: string, type = 'text/xml; charset=utf-8'): void {
    if (res.destroyed) return
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  function takeFailure (method: string): Failure | undefined {
    const index = failures.findIndex((f) => f.methods === undefined || f.methods.includes(method))
    const failure = failures[index]
    if (failure === undefined) return undefined
    if ((failure.skip ?? 0) > 0) {
      failure.skip = (failure.skip ?? 0) - 1
      return undefined
    }
    return failures.splice(index, 1)[0]
  }

  async function control (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let raw = ''
    for await (const part of req) raw += String(part)
    const body = JSON.parse(raw === '' ? '{}' : raw) as Record<string, unknown>
    switch (body.action) {
      case 'upsert': for (const e of body.employees as SimEmployee[]) upsert(e); break
      case 'update': {
        // An edit in Odoo: some fields of one employee (what the demo does before sending the webhook).
        const current = employees.get(Number(body.id))
        if (current === undefined) { send(res, 404, JSON.stringify({ error: `no employee ${String(body.id)}` }), 'application/json'); return }
        upsert({ ...current, ...(body.changes as Partial<SimEmployee>), id: current.id })
        break
      }
      case 'remove': for (const id of body.ids as number[]) remove(id); break
      case 'fail': failures.push(...(body.failures as Failure[])); break
      case 'delay': delayMs = Number(body.ms ?? 0); break
      case 'password': password = String(body.password); break
      case 'renameDepartment': renameDepartment(Number(body.id), String(body.name)); break
      case 'restart': restartFor(Number(body.downMs ?? 0), Number(body.slowCalls ?? 0), Number(body.slowMs ?? 0)); break
      case 'stats': break
      default: send(res, 400, JSON.stringify({ error: 'unknown action; one of upsert, update, remove, fail, delay, password, renameDepartment, restart, stats' }), 'application/json'); return
    }
    send(res, 200, JSON.stringify({ ok: true, employees: employees.size, stats }), 'application/json')
  }

  const server = http.createServer((req, res) => {
    if (req.url === '/__sim/control' && req.method === 'POST') {
      control(req, res).catch((err: unknown) => { send(res, 400, JSON.stringify({ error: String(err) }), 'application/json') })
      return
    }
    stats.requests++
    stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight)
    let answered = false
    res.on('finish', () => { answered = true })
    res.on('close', () => {
      inFlight--
      if (!answered) stats.abortedByClient++
    })
    if (req.method === 'POST' && req.url === '/jsonrpc') {
      answerJsonRpc(req, res, { common, object: (params) => responseXml(executeKw(params)), stats, employees }).catch(() => { send(res, 500, 'Internal Server Error', 'text/plain') })
      return
    }
    const match = /^\/xmlrpc\/2\/(common|object)$/.exec(req.url ?? '')
    if (req.method !== 'POST' || match === null) {
      req.resume()
      send(res, 404, HTML_404, 'text/html')
      return
    }
    const service = match[1] as 'common' | 'object'
    new Deserializer().deserializeMethodCall(req, (err, method, params) => {
      void (async () => {
        if (err !== null && err !== undefined) {
          // An empty or broken body: Odoo answers fault 1 with a traceback (odoo/odoo#32889).
          stats.faults++
          send(res, 200, Serializer.serializeFault({ faultCode: 1, faultString: traceback('xml.parsers.expat.ExpatError: no element found: line 1, column 0') }))
          return
        }
        stats.calls[method] = (stats.calls[method] ?? 0) + 1
        // Restarting: the proxy in front answers 502 until Odoo is back, whose first answers are slow.
        if (Date.now() < restart.downUntil) { send(res, 502, HTML_502, 'text/html'); return }
        if (restart.slowCalls > 0) {
          restart.slowCalls--
          await new Promise((resolve) => setTimeout(resolve, restart.slowMs))
        }
        const failure = takeFailure(method)
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
        if (failure !== undefined) {
          switch (failure.mode) {
            case 'html502': send(res, 502, HTML_502, 'text/html'); return
            case 'html404': send(res, 404, HTML_404, 'text/html'); return
            case 'text500': send(res, 500, 'Internal Server Error', 'text/plain'); return
            case 'empty': send(res, 200, ''); return
            case 'reset': req.socket.destroy(); return
            case 'fault1': stats.faults++; send(res, 200, Serializer.serializeFault({ faultCode: 1, faultString: traceback('psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update') })); return
            // Odoo up, its PostgreSQL down (what real Odoo 17 answered while its database was stopped).
            case 'dbDown': stats.faults++; send(res, 200, Serializer.serializeFault({ faultCode: 1, faultString: traceback('psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?') })); return
            case 'slow': await new Promise((resolve) => setTimeout(resolve, failure.delayMs ?? 10_000)); break
          }
        }
        try {
          const xml = service === 'common' ? common(method, params) : responseXml(executeKw(params))
          send(res, 200, xml)
        } catch (error) {
          if (!(error instanceof Fault)) throw error
          stats.faults++
          send(res, 200, Serializer.serializeFault({ faultCode: error.faultCode, faultString: error.message }))
        }
      })().catch(() => { send(res, 500, 'Internal Server Error', 'text/plain') })
    })
  })
  server.keepAliveTimeout = 5000

  /** An Odoo restart: 502 for `downMs`, then the next `slowCalls` answers take `slowMs` each. */
  function restartFor (downMs: number, slowCalls = 0, slowMs = 0): void {
    Object.assign(restart, { downUntil: Date.now() + downMs, slowCalls, slowMs })
  }

  return {
    server,
    employees,
    stats,
    db,
    login,
    get password () { return password },
    set password (value: string) { password = value },
    uid,
    upsert,
    remove,
    setEmployees,
    /** Queues failures: each applies to one later call (matching `methods` when given). */
    fail (...list: Failure[]) { failures.push(...list) },
    clearFailures () { failures.length = 0 },
    /** Builds the cached XML of every record for these fields now (the bench's simulator starts warm). */
    warm (fields: string[]) { for (const e of employees.values()) recordXml(e, fields.filter((f) => f !== 'id')) },
    /** Delay before every answer. */
    setDelay (ms: number) { delayMs = ms },
    renameDepartment,
    restartFor,
    companies,
    /** Changes the companies the API user belongs to (the first is its current company). */
    setUserCompanies (ids: number[]) { userCompanyIds = [...ids] },
    url: '',
    async listen (port = options.port ?? 0, host = '127.0.0.1'): Promise<string> {
      await new Promise<void>((resolve) => server.listen(port, host, resolve))
      const address = server.address() as AddressInfo
      this.url = `http://${host}:${address.port}`
      return this.url
    },
    async close (): Promise<void> {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}

export type OdooSimulator = ReturnType<typeof createOdooSimulator>
