import { httpError } from '../../lib/http-errors.js'
import { odooId } from './mapping.js'
import { WEBHOOK_EVENTS, type EventData, type WebhookEvent } from './store.js'

export interface WebhookBody {
  event: WebhookEvent
  employeeId: number
  data: EventData | null
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks the n8n payload `{event, employee_id, data?}`. `employee_id` may be a positive integer or a numeric
 * string (n8n templates send both); a boolean or a float is refused rather than coerced.
 */
export function parseWebhookBody (body: unknown): WebhookBody {
  if (!isObject(body)) throw httpError(400, 'the body must be a JSON object', [{ field: 'body', message: 'must be an object' }])
  const event = body.event
  if (typeof event !== 'string' || !(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
    throw httpError(400, `event must be one of ${WEBHOOK_EVENTS.join(', ')}`, [{ field: 'event', message: `must be one of ${WEBHOOK_EVENTS.join(', ')}` }])
  }
  const raw = body.employee_id
  const employeeId = typeof raw === 'number' || (typeof raw === 'string' && /^\s*\d{1,15}\s*$/.test(raw)) ? odooId(typeof raw === 'string' ? raw.trim() : raw) : null
  if (employeeId === null) {
    throw httpError(400, 'employee_id must be a positive integer or a numeric string', [{ field: 'employee_id', message: 'must be a positive integer or a numeric string' }])
  }
  let data: EventData | null = null
  if (body.data !== undefined && body.data !== null) {
    if (!isObject(body.data)) throw httpError(400, 'data must be an object', [{ field: 'data', message: 'must be an object' }])
    data = {}
    const { name, work_email: email, job_title: title, active } = body.data
    if (name !== undefined && name !== false) {
      if (typeof name !== 'string') throw httpError(400, 'data.name must be a string', [{ field: 'data/name', message: 'must be a string' }])
      data.name = name
    }
    for (const [field, value] of [['work_email', email], ['job_title', title]] as const) {
      if (value === undefined) continue
      if (typeof value !== 'string' && value !== false && value !== null) throw httpError(400, `data.${field} must be a string, false or null`, [{ field: `data/${field}`, message: 'must be a string, false or null' }])
      data[field] = typeof value === 'string' ? value : false
    }
    if (active !== undefined) {
      if (typeof active !== 'boolean') throw httpError(400, 'data.active must be a boolean', [{ field: 'data/active', message: 'must be a boolean' }])
      data.active = active
    }
  }
  return { event: event as WebhookEvent, employeeId, data }
}
