import Type, { type TProperties } from 'typebox'
import { DURATION_PATTERN, parseDuration } from '../../lib/duration.js'
import type { Config } from '../../config.js'

/** The Odoo integration's environment variables (merged into the gateway's one configuration schema). */
export const odooConfigProperties = {
  ODOO_URL: Type.String({ default: '', pattern: '^(https?://.+)?$', description: 'Odoo base URL (http:// or https://), e.g. `https://erp.example.com`; empty switches the Odoo jobs off.' }),
  ODOO_DB: Type.String({ default: 'odoo', description: 'Odoo database name.' }),
  ODOO_USERNAME: Type.String({ default: '', description: 'Odoo login of the API user.' }),
  ODOO_PASSWORD: Type.String({ default: '', description: 'Password or API key of the API user (secret; never logged).' }),
  ODOO_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30000, description: 'Time limit of one XML-RPC call; on expiry the socket is destroyed and the call is retried later.' }),
  ODOO_PAGE_SIZE: Type.Integer({ minimum: 1, maximum: 10000, default: 500, description: 'Employees per `search_read` page.' }),
  ODOO_SYNC_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'Pages read at once during a full sync; raise it when Odoo is slow to answer (costs memory).' }),
  ODOO_INCLUDE_ARCHIVED: Type.Boolean({ default: true, description: 'Export archived employees as `Inactive` (`active_test: false`); false exports active ones only.' }),
  ODOO_PERSONAL_NUMBER_OFFSET: Type.Integer({ minimum: 0, default: 1000, description: '`personalNumber` = Odoo id + this offset.' }),
  ODOO_CSV_PATH: Type.String({ minLength: 1, default: 'data/hr/hr_clean.csv', description: 'Where the HR CSV is written (atomically).' }),
  ODOO_DELETE_MODE: Type.Enum(['inactive', 'remove'], { default: 'inactive', description: 'What happens to the row of an employee Odoo no longer returns: kept as `Inactive`, or removed.' }),
  ODOO_SYNC_INTERVAL: Type.String({ pattern: DURATION_PATTERN, default: '5m', description: 'How often the full sync runs (`5m`, `1h`, …); `off` disables the schedule.' }),
  ODOO_EVENTS_DEBOUNCE_MS: Type.Integer({ minimum: 0, default: 500, description: 'A webhook-triggered job runs once no event has arrived for this long (every event until then joins it), but see ODOO_EVENTS_MAX_WAIT_MS.' }),
  ODOO_EVENTS_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: 3000, description: 'Longest a webhook-triggered job waits for a quiet moment after it was created: a steady stream of events is still applied this often.' }),
  ODOO_WEBHOOK_MAX_EVENTS: Type.Integer({ minimum: 1, maximum: 50000, default: 5000, description: 'Most events one POST /odoo/webhook request may carry (a batch is all-or-nothing).' }),
  ODOO_WEBHOOK_KEY_RETENTION: Type.String({ pattern: DURATION_PATTERN, default: '24h', description: 'How long an applied delivery\'s Idempotency-Key is remembered: a repeat within it answers 200 with the first job; after it, the events are applied again (harmless: they re-read Odoo).' }),
  ODOO_WEBHOOK_SECRET: Type.String({ default: '', description: 'Standard Webhooks secret(s) for POST /odoo/webhook (`whsec_…`, space-separated); empty = signatures not required.' })
} satisfies TProperties

export interface OdooSettings {
  url: string
  db: string
  username: string
  password: string
  timeoutMs: number
  pageSize: number
  concurrency: number
  includeArchived: boolean
  offset: number
  csvPath: string
  deleteMode: 'inactive' | 'remove'
  syncIntervalMs: number | null
  debounceMs: number
  maxWaitMs: number
  webhookSecret: string
  maxEvents: number
  keyRetentionMs: number
}

export function odooSettings (config: Config): OdooSettings {
  return {
    url: String(config.ODOO_URL),
    db: String(config.ODOO_DB),
    username: String(config.ODOO_USERNAME),
    password: String(config.ODOO_PASSWORD),
    timeoutMs: Number(config.ODOO_TIMEOUT_MS),
    pageSize: Number(config.ODOO_PAGE_SIZE),
    concurrency: Number(config.ODOO_SYNC_CONCURRENCY),
    includeArchived: config.ODOO_INCLUDE_ARCHIVED !== false,
    offset: Number(config.ODOO_PERSONAL_NUMBER_OFFSET),
    csvPath: String(config.ODOO_CSV_PATH),
    deleteMode: config.ODOO_DELETE_MODE === 'remove' ? 'remove' : 'inactive',
    syncIntervalMs: parseDuration(String(config.ODOO_SYNC_INTERVAL)),
    debounceMs: Number(config.ODOO_EVENTS_DEBOUNCE_MS),
    maxWaitMs: Number(config.ODOO_EVENTS_MAX_WAIT_MS),
    webhookSecret: String(config.ODOO_WEBHOOK_SECRET),
    maxEvents: Number(config.ODOO_WEBHOOK_MAX_EVENTS),
    keyRetentionMs: parseDuration(String(config.ODOO_WEBHOOK_KEY_RETENTION)) ?? 0
  }
}
