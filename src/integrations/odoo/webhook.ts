import Type, { type TSchema } from 'typebox'
import { odooId } from './mapping.js'
import type { EventData, WebhookEvent } from './store.js'

/*
 * The body of POST /odoo/webhook, as the route's schema: one event object, an array of events, or
 * `{"events": [...]}`. Fastify validates it; the errors name the field (`events/3/employee_id`; the route turns
 * an array into `{"events": [...]}` first, so its items are named the same way). A batch is all-or-nothing.
 */

/** An Odoo id: a positive integer or a numeric string (n8n templates send both); booleans and floats are refused. */
function OdooId (model: string) {
  return Type.Union([
    Type.Integer({ minimum: 1, maximum: 999_999_999_999_999, title: 'a positive integer' }),
    Type.String({ pattern: '^\\s*(?!0+\\s*$)[0-9]{1,15}\\s*$', title: 'a numeric string' })
  ], { description: `The Odoo \`${model}\` id, as a positive integer or a numeric string.` })
}

/** Odoo's empty value is `false`; `null` empties a field too. */
const Text = Type.Union([Type.String(), Type.Literal(false), Type.Null()], { description: '`false` or `null` empties the field.' })

const EventDataSchema = Type.Union([Type.Object({
  name: Type.Optional(Type.Union([Type.String(), Type.Literal(false)], { description: '`false` (Odoo\'s empty value) leaves the name as it is.' })),
  work_email: Type.Optional(Text),
  job_title: Type.Optional(Text),
  active: Type.Optional(Type.Boolean())
}), Type.Null()], { description: 'Optional payload; applied only when Odoo stays unreachable after every attempt.' })

const EMPLOYEE_EVENTS = ['create', 'update', 'delete', 'archive'] as const

export const EmployeeEvent = Type.Object({
  event: Type.Enum(EMPLOYEE_EVENTS),
  employee_id: OdooId('hr.employee'),
  data: Type.Optional(EventDataSchema)
}, {
  $id: 'OdooEmployeeEvent',
  examples: [{ event: 'update', employee_id: 55, data: { name: 'Alain Doe', work_email: 'alain.doe@example.com', job_title: 'Senior Developer', active: true } }]
})

export const DepartmentEvent = Type.Object({
  event: Type.Literal('department'),
  department_id: OdooId('hr.department')
}, {
  $id: 'OdooDepartmentEvent',
  description: 'A department renamed or moved: its employees (and its sub-departments\') are read again.',
  examples: [{ event: 'department', department_id: 3 }]
})

/** One event; `event` says which kind (employee events name the employee, a department event the department). */
export const WebhookEventSchema = Type.Unsafe<WebhookEventInput>({
  $id: 'OdooWebhookBody',
  type: 'object',
  description: 'One event. An employee event names the employee; a `department` event (a department renamed or moved) names the department, whose employees (and its sub-departments\') are read again.',
  required: ['event'],
  discriminator: { propertyName: 'event' },
  oneOf: [EmployeeEvent, DepartmentEvent]
})

export type WebhookEventInput =
  | { event: typeof EMPLOYEE_EVENTS[number], employee_id: number | string, data?: RawEventData | null }
  | { event: 'department', department_id: number | string }
interface RawEventData { name?: string | false, work_email?: string | false | null, job_title?: string | false | null, active?: boolean }

/**
 * The request body's schema, with at most `maxEvents` events per request. Its named parts are defined once (under
 * `$defs`) and referenced by their `$id`, so each appears once in the API document.
 */
export function webhookRequestSchema (maxEvents: number): TSchema {
  const events = Type.Array(Type.Unsafe({ $ref: 'OdooWebhookBody' }), {
    $id: 'OdooWebhookEvents',
    minItems: 1,
    maxItems: maxEvents,
    description: `Events of one request, all-or-nothing: at most ${maxEvents} (\`ODOO_WEBHOOK_MAX_EVENTS\`).`,
    examples: [[{ event: 'update', employee_id: 55 }, { event: 'archive', employee_id: '56' }]]
  })
  return Type.Unsafe<WebhookRequest>({
    $id: 'OdooWebhookRequest',
    description: `One event, an array of events, or \`{"events": [...]}\`; at most \`ODOO_WEBHOOK_MAX_EVENTS\` (${maxEvents}) events per request.`,
    $defs: { event: WebhookEventSchema, events },
    if: { type: 'array' },
    then: { $ref: 'OdooWebhookEvents' },
    else: {
      if: { type: 'object', required: ['events'] },
      then: { type: 'object', required: ['events'], properties: { events: { $ref: 'OdooWebhookEvents' } } },
      else: { $ref: 'OdooWebhookBody' }
    }
  })
}

export type WebhookRequest = WebhookEventInput | WebhookEventInput[] | { events: WebhookEventInput[] }

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

/** An array body as `{events: [...]}`: validation then names its items `events/<i>/…` as for the other batch form. */
export function asEventsObject (body: unknown): unknown {
  return Array.isArray(body) ? { events: body } : body
}

/**
 * The events of a body the route's schema has accepted, with ids as numbers and the payload in the CSV's terms
 * (`false`/`null` empty a field; a `false` name leaves it).
 */
export function parseWebhookBody (body: WebhookRequest): WebhookBody {
  const list = Array.isArray(body) ? body : 'events' in body ? body.events : null
  return { items: (list ?? [body as WebhookEventInput]).map(toItem), batch: list !== null }
}

function toItem (input: WebhookEventInput): WebhookItem {
  if (input.event === 'department') return { event: 'department', employeeId: 0, departmentId: idOf(input.department_id), data: null }
  return { event: input.event, employeeId: idOf(input.employee_id), data: toData(input.data) }
}

function idOf (raw: number | string): number {
  const id = odooId(typeof raw === 'string' ? raw.trim() : raw)
  if (id === null) throw new Error(`an Odoo id the schema accepted is not one: ${JSON.stringify(raw)}`)
  return id
}

function toData (value: RawEventData | null | undefined): EventData | null {
  if (value === undefined || value === null) return null
  const data: EventData = {}
  if (typeof value.name === 'string') data.name = value.name
  for (const field of ['work_email', 'job_title'] as const) {
    const text = value[field]
    if (text !== undefined) data[field] = typeof text === 'string' ? text : false
  }
  if (value.active !== undefined) data.active = value.active
  return data
}
