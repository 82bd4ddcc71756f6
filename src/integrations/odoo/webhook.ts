import { httpError, type ErrorDetail } from '../../integration.js'
import { odooId } from './mapping.js'
import { WEBHOOK_EVENTS, type EventData, type WebhookEvent } from './store.js'

export interface WebhookItem {
  event: WebhookEvent
  /** 0 for a `department` event. */
  employeeId: number
  /** A `department` event's department. */
  departmentId?: number
  data: EventData | null
}

export interface WebhookBody {
  items: WebhookItem[]
  /** The body was an array or `{events: [...]}` (answered with a count), not one event object. */
  batch: boolean
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A 400 naming one field; `path` is `''` for a single event, `events/3/` for the fourth item of a batch. */
function invalid (path: string, field: string, message: string): Error {
  const name = `${path}${field}`.replace(/\/$/, '')
  const where = path === '' ? field : `events[${path.split('/')[1] ?? ''}]${field === '' ? '' : `.${field.replaceAll('/', '.')}`}`
  const detail: ErrorDetail = { field: name, message }
  return httpError(400, `${where} ${message}${path === '' ? '' : '; nothing of the batch was stored'}`, [detail])
}

/**
 * One event `{event, employee_id, data?}`. `employee_id` may be a positive integer or a numeric string (n8n
 * templates send both); a boolean or a float is refused rather than coerced.
 */
function parseItem (body: unknown, path: string): WebhookItem {
  if (!isObject(body)) throw invalid(path, path === '' ? 'body' : '', 'must be a JSON object')
  const event = body.event
  const allowed = `must be one of ${WEBHOOK_EVENTS.join(', ')}`
  if (event === undefined) throw invalid(path, 'event', `is required (${WEBHOOK_EVENTS.join(', ')})`)
  if (typeof event !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(event)) throw invalid(path, 'event', allowed)
  if (event === 'department') return { event, employeeId: 0, departmentId: parseId(body.department_id, path, 'department_id'), data: null }
  return { event: event as WebhookEvent, employeeId: parseId(body.employee_id, path, 'employee_id'), data: parseData(body.data, path) }
}

/** An Odoo id: a positive integer or a numeric string (n8n templates send both); booleans and floats are refused. */
function parseId (raw: unknown, path: string, field: string): number {
  if (raw === undefined) throw invalid(path, field, 'is required')
  const numeric = typeof raw === 'number' || (typeof raw === 'string' && /^\s*\d{1,15}\s*$/.test(raw))
  const id = numeric ? odooId(typeof raw === 'string' ? raw.trim() : raw) : null
  if (id === null) throw invalid(path, field, 'must be a positive integer or a numeric string')
  return id
}

function parseData (value: unknown, path: string): EventData | null {
  if (value === undefined || value === null) return null
  if (!isObject(value)) throw invalid(path, 'data', 'must be an object')
  const data: EventData = {}
  const { name, work_email: email, job_title: title, active } = value
  if (name !== undefined && name !== false) {
    if (typeof name !== 'string') throw invalid(path, 'data/name', 'must be a string')
    data.name = name
  }
  for (const [field, text] of [['work_email', email], ['job_title', title]] as const) {
    if (text === undefined) continue
    if (typeof text !== 'string' && text !== false && text !== null) throw invalid(path, `data/${field}`, 'must be a string, false or null')
    data[field] = typeof text === 'string' ? text : false
  }
  if (active !== undefined) {
    if (typeof active !== 'boolean') throw invalid(path, 'data/active', 'must be a boolean')
    data.active = active
  }
  return data
}

/**
 * The body of POST /odoo/webhook: one event object, an array of events, or `{"events": [...]}` with at most
 * `maxEvents` items. A batch is all-or-nothing: the first bad item is named (index and field) and nothing is kept.
 */
export function parseWebhookBody (body: unknown, maxEvents: number): WebhookBody {
  const list = Array.isArray(body) ? body : isObject(body) && 'events' in body ? body.events : undefined
  if (list === undefined) return { items: [parseItem(body, '')], batch: false }
  if (!Array.isArray(list)) throw invalid('', 'events', 'must be an array of events')
  if (list.length === 0) throw invalid('', 'events', 'must hold at least 1 event')
  if (list.length > maxEvents) {
    throw invalid('', 'events', `holds ${list.length} events; at most ${maxEvents} per request (ODOO_WEBHOOK_MAX_EVENTS): split the batch`)
  }
  return { items: list.map((item, index) => parseItem(item, `events/${index}/`)), batch: true }
}
