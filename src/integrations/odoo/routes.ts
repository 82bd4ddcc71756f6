import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import Type, { type Static } from 'typebox'
import { answer, IdempotencyHeaders, TriggerBody, type CoalesceOptions, type IntegrationJobs } from '../../integration.js'
import type { OdooSettings } from './config.js'
import { createEventIntake, type StorageStep } from './intake.js'
import type { EmployeeEventDocument, OdooStore } from './store.js'
import { asEventsObject, parseWebhookBody, webhookRequestSchema, type WebhookItem, type WebhookRequest } from './webhook.js'

/** The job kind that applies stored webhook events. */
export const EVENTS_JOB = 'odoo.employee-events'

const Location = Type.String({ description: 'Same as statusUrl.' })

const SyncAccepted = Type.Object({
  success: Type.Boolean(),
  message: Type.String({ examples: ['HR CSV sync queued'] }),
  jobId: Type.String(),
  status: Type.String(),
  statusUrl: Type.String()
}, { $id: 'OdooSyncAccepted' })

const SyncBody = TriggerBody({
  allowMassDeactivation: Type.Optional(Type.Boolean({ description: 'Confirms that this run may deactivate more rows than the guard allows (ODOO_DEACTIVATION_GUARD_ROWS and _PERCENT). Such a run never joins an unconfirmed queued one.' }))
})

const WebhookAccepted = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  events: Type.Integer({ minimum: 1, description: 'Events this request carried (for a repeat, the first delivery\'s).' }),
  employee_id: Type.Optional(Type.Integer({ description: 'The employee of a single employee event (absent for a batch).' })),
  department_id: Type.Optional(Type.Integer({ description: 'The department of a single department event.' })),
  jobId: Type.String(),
  status: Type.String(),
  statusUrl: Type.String()
}, { $id: 'OdooWebhookAccepted' })

export interface OdooRouteDeps {
  settings: OdooSettings
  store: OdooStore
  jobs: IntegrationJobs
  storage: StorageStep
  /** How webhook triggers coalesce into one events job (the same key as the job's other enqueues). */
  eventsCoalesce: CoalesceOptions
  /** The gateway's JSON body limit; the webhook allows more when a full batch needs it. */
  bodyLimitBytes: number
}

export function odooRoutes ({ settings, store, jobs, storage, eventsCoalesce, bodyLimitBytes }: OdooRouteDeps) {
  return async function routes (app: FastifyInstance): Promise<void> {
    // Every batch of stored events joins the one waiting events job, or makes it; the job starts after a quiet
    // moment (ODOO_EVENTS_DEBOUNCE_MS), at the latest ODOO_EVENTS_MAX_WAIT_MS after it was made. The engine
    // knows, without a round trip, which job a batch stored now will join while that one surely still waits.
    const triggerEvents = () => jobs.enqueue(EVENTS_JOB, {}, { trigger: 'webhook', coalesce: eventsCoalesce })
    const waiting = () => jobs.coalesced(EVENTS_JOB, eventsCoalesce.key)
    const intake = createEventIntake(store, {
      expectedJob: () => waiting().jobId,
      // With no job known to be waiting (the first batch, or the first of a new burst), the enqueue runs
      // alongside the batch's write instead of after it; jobFor then joins what it made.
      beforeStore () {
        if (!waiting().queued) triggerEvents().catch(() => {})
      },
      jobFor: async () => (await triggerEvents()).job._id,
      status: async (jobId) => (await jobs.get(jobId))?.status ?? null
    }, storage)

    // Events stored by a gateway that died before enqueueing their job are picked up at start.
    app.addHook('onReady', async () => {
      if (await store.countPending() > 0) {
        await jobs.enqueue(EVENTS_JOB, {}, { trigger: 'webhook', dedupeKey: eventsCoalesce.key })
      }
    })

    app.post('/odoo/sync-csv', {
      schema: {
        tags: ['odoo'],
        summary: 'Run a full Odoo HR → hr_clean.csv sync now',
        description: 'Queues `odoo.sync-csv`: reads every `hr.employee` (archived ones too unless `ODOO_INCLUDE_ARCHIVED=false`) of every company the API user belongs to (or `ODOO_COMPANY_IDS`) and rewrites `ODOO_CSV_PATH` atomically when the content changed. Triggers coalesce while one is queued. A sync that gets zero employees fails and keeps the existing file; so does one stopped by the mass-deactivation guard, which an operator overrides for one run with `{"allowMassDeactivation": true}`.',
        headers: IdempotencyHeaders,
        body: SyncBody,
        response: {
          200: answer('The Idempotency-Key was seen before; this is the job it created.', SyncAccepted, { headers: { Location } }),
          202: answer('Sync queued (or joined the queued one). Poll `statusUrl`.', SyncAccepted, { headers: { Location } })
        }
      }
    }, async (request, reply) => {
      const allowMassDeactivation = (request.body as Static<typeof SyncBody>)?.allowMassDeactivation === true
      // A confirmed run never joins an unconfirmed one (nor the other way round): each has its own dedupe key.
      const { body, created } = allowMassDeactivation
        ? await jobs.trigger(request, reply, 'odoo.sync-csv', { allowMassDeactivation: true }, { dedupeKey: 'manual-confirmed' })
        : await jobs.trigger(request, reply, 'odoo.sync-csv', {}, { dedupeKey: 'manual' })
      const what = allowMassDeactivation ? 'HR CSV sync (mass deactivation confirmed)' : 'HR CSV sync'
      return { success: true, message: created ? `${what} queued` : `${what} already queued; this request joined it`, ...body }
    })

    app.post('/odoo/webhook', {
      config: { webhookSecret: settings.webhookSecret },
      // Room for a full batch of ODOO_WEBHOOK_MAX_EVENTS events with their payloads.
      bodyLimit: Math.max(bodyLimitBytes, settings.maxEvents * 1024),
      schema: {
        tags: ['odoo'],
        summary: 'Receive employee changes from Odoo/n8n (one event or a batch)',
        description: `The body is one event, an array of events, or \`{"events": [...]}\` with at most \`ODOO_WEBHOOK_MAX_EVENTS\` (${settings.maxEvents}) events. A batch is all-or-nothing: the first bad item is named by index and field (\`events/3/employee_id\`) and nothing is stored. The events are stored durably before the answer, in one write, then join the queued \`odoo.employee-events\` job (one job for every event that arrives while it is queued). The job reads all changed employees in one \`search_read\` and applies them in one CSV rewrite. An \`Idempotency-Key\` (or a verified \`webhook-id\`) covers the whole request: a repeat answers 200 with the first job and stores nothing, also when both arrive at once on two instances. With \`ODOO_WEBHOOK_SECRET\` set, requests must carry Standard Webhooks signature headers.`,
        headers: IdempotencyHeaders,
        body: webhookRequestSchema(settings.maxEvents),
        response: {
          200: answer('The Idempotency-Key (or `webhook-id`) was seen before; nothing new was stored. The body is the first answer\'s job and count.', WebhookAccepted, { headers: { Location } }),
          202: answer('Events stored; the job that applies them is `jobId`.', WebhookAccepted, { headers: { Location } })
        }
      },
      // An array is validated as `{"events": [...]}`, so its items are named `events/<i>/…` in errors too.
      preValidation: async (request) => { request.body = asEventsObject(request.body) }
    }, async (request, reply) => {
      const parsed = parseWebhookBody(request.body as WebhookRequest)
      const header = request.headers['idempotency-key']
      const key = request.webhookId ?? (typeof header === 'string' && header !== '' ? header : null)
      const receivedAt = new Date()
      const docs: EmployeeEventDocument[] = parsed.items.map((item, index) => ({
        _id: key === null ? randomUUID() : index === 0 ? `delivery:${key}` : `delivery:${key}#${index}`,
        event: item.event,
        employeeId: item.employeeId,
        ...(item.departmentId === undefined ? {} : { departmentId: item.departmentId }),
        data: item.data,
        receivedAt,
        appliedAt: null
      }))
      // The first event of a keyed request is its delivery record: it carries the count and, once stored, the job.
      if (key !== null) Object.assign(docs[0] as EmployeeEventDocument, { deliveryEvents: docs.length, jobId: null })
      // Stored before the answer: a 2xx means the events survive a crash.
      const answer = await intake.accept({ docs, keyed: key !== null })
      const statusUrl = `/jobs/${answer.jobId}`
      reply.code(answer.repeat ? 200 : 202).header('location', statusUrl)
      const single = parsed.batch ? null : parsed.items[0] as WebhookItem
      const what = single === null ? `${answer.events} events` : single.departmentId !== undefined ? `Department ${single.departmentId}: renamed or moved` : `Employee ${single.employeeId}: ${single.event}`
      return {
        success: true,
        message: `${what} ${answer.repeat ? 'accepted before (repeated delivery)' : 'accepted'}; hr_clean.csv is updated by job ${answer.jobId}`,
        timestamp: receivedAt.toISOString(),
        events: answer.events,
        ...(single === null ? {} : single.departmentId === undefined ? { employee_id: single.employeeId } : { department_id: single.departmentId }),
        jobId: answer.jobId,
        status: answer.status,
        statusUrl
      }
    })
  }
}
