import Type, { type TProperties } from 'typebox'
import { DURATION_PATTERN, parseDuration, type ConfigOf } from '../../integration.js'

/** The Odoo integration's environment variables (merged into the gateway's one configuration schema). */
export const odooConfigProperties = {
  ODOO_URL: Type.String({ default: '', pattern: '^(https?://.+)?$', description: 'Odoo base URL (http:// or https://), e.g. `https://erp.example.com`; empty switches the Odoo jobs off.' }),
  ODOO_DB: Type.String({ default: 'odoo', description: 'Odoo database name.' }),
  ODOO_USERNAME: Type.String({ default: '', description: 'Odoo login of the API user.' }),
  ODOO_PASSWORD: Type.String({ default: '', description: 'Password or API key of the API user (secret; never logged).' }),
  ODOO_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30000, description: 'Time limit of one XML-RPC call; on expiry the socket is destroyed and the call is retried later.' }),
  ODOO_PAGE_SIZE: Type.Integer({ minimum: 1, maximum: 10000, default: 500, description: 'Employees per `search_read` page.' }),
  ODOO_SYNC_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'Calls Odoo serves at once during a full sync (the gateway reads the page before meanwhile); raise it when Odoo is slow to answer (costs memory).' }),
  ODOO_INCLUDE_ARCHIVED: Type.Boolean({ default: true, description: 'Export archived employees as `Inactive` (`active_test: false`); false exports active ones only.' }),
  ODOO_PERSONAL_NUMBER_OFFSET: Type.Integer({ minimum: 0, default: 1000, description: '`personalNumber` = Odoo id + this offset.' }),
  ODOO_CSV_PATH: Type.String({ minLength: 1, default: 'data/hr/hr_clean.csv', description: 'Where the HR CSV is written (atomically).' }),
  ODOO_DELETE_MODE: Type.Enum(['inactive', 'remove'], { default: 'inactive', description: 'What happens to the row of an employee Odoo no longer returns: kept as `Inactive`, or removed.' }),
  ODOO_SYNC_INTERVAL: Type.String({ pattern: DURATION_PATTERN, default: '5m', description: 'How often the full sync runs (`5m`, `1h`, …); `off` disables the schedule.' }),
  ODOO_EVENTS_DEBOUNCE_MS: Type.Integer({ minimum: 0, default: 500, description: 'A webhook-triggered job runs once no event has arrived for this long (every event until then joins it), but see ODOO_EVENTS_MAX_WAIT_MS.' }),
  ODOO_EVENTS_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: 3000, description: 'Longest a webhook-triggered job waits for a quiet moment after it was created: a steady stream of events is still applied this often.' }),
  ODOO_COMPANY_IDS: Type.String({ default: '', pattern: '^\\s*(\\d+\\s*(,\\s*\\d+\\s*)*)?$', description: 'Comma-separated Odoo company ids whose employees belong in the CSV; empty = every company the API user belongs to. A listed company the user cannot read fails the job at once, naming it.' }),
  ODOO_DEACTIVATION_GUARD_ROWS: Type.Integer({ minimum: 0, default: 10, description: 'Mass-deactivation guard: a run that would turn more than this many Active rows Inactive (or remove them) AND more than ODOO_DEACTIVATION_GUARD_PERCENT of them writes nothing and fails, until an operator confirms with POST /odoo/sync-csv {"allowMassDeactivation": true}.' }),
  ODOO_DEACTIVATION_GUARD_PERCENT: Type.Number({ minimum: 0, maximum: 100, default: 5, description: 'The share (percent of the Active rows) the guard also needs exceeded; 100 switches the guard off.' }),
  ODOO_CSV_FORMULA_GUARD: Type.Boolean({ default: false, description: 'Prefix `\'` to values starting with `=`, `+`, `-`, `@`, tab or CR, so a spreadsheet shows them as text (OWASP CSV injection). Off by default: the IGA tool imports raw values.' }),
  ODOO_RETRY_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'Attempts of an Odoo job when Odoo is unreachable or answers 5xx; with the backoff below the default spans more than 5 minutes (an Odoo restart).' }),
  ODOO_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 5000, description: 'First retry delay of an Odoo job; doubles per attempt, with jitter (half to all of it).' }),
  ODOO_RETRY_MAX_MS: Type.Integer({ minimum: 0, default: 120000, description: 'Longest delay between two attempts of an Odoo job.' }),
  ODOO_EVENTS_PER_JOB: Type.Integer({ minimum: 1, maximum: 100000, default: 20000, description: 'Most webhook events one events job applies; what is left goes to the next job.' }),
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
  eventsPerJob: number
  keyRetentionMs: number
  /** Companies whose employees belong in the CSV; empty: every company of the API user. */
  companyIds: number[]
  guard: { rows: number, percent: number }
  formulaGuard: boolean
  retry: { attempts: number, baseMs: number, maxMs: number }
}

export type OdooConfig = ConfigOf<typeof odooConfigProperties>

/** The variables as the integration uses them: durations in ms, lists split, related values grouped. */
export function odooSettings (c: OdooConfig): OdooSettings {
  return {
    url: c.ODOO_URL,
    db: c.ODOO_DB,
    username: c.ODOO_USERNAME,
    password: c.ODOO_PASSWORD,
    timeoutMs: c.ODOO_TIMEOUT_MS,
    pageSize: c.ODOO_PAGE_SIZE,
    concurrency: c.ODOO_SYNC_CONCURRENCY,
    includeArchived: c.ODOO_INCLUDE_ARCHIVED,
    offset: c.ODOO_PERSONAL_NUMBER_OFFSET,
    csvPath: c.ODOO_CSV_PATH,
    deleteMode: c.ODOO_DELETE_MODE,
    syncIntervalMs: parseDuration(c.ODOO_SYNC_INTERVAL),
    debounceMs: c.ODOO_EVENTS_DEBOUNCE_MS,
    maxWaitMs: c.ODOO_EVENTS_MAX_WAIT_MS,
    webhookSecret: c.ODOO_WEBHOOK_SECRET,
    maxEvents: c.ODOO_WEBHOOK_MAX_EVENTS,
    eventsPerJob: c.ODOO_EVENTS_PER_JOB,
    keyRetentionMs: parseDuration(c.ODOO_WEBHOOK_KEY_RETENTION) ?? 0,
    companyIds: c.ODOO_COMPANY_IDS.split(',').map((id) => id.trim()).filter((id) => id !== '').map(Number),
    guard: { rows: c.ODOO_DEACTIVATION_GUARD_ROWS, percent: c.ODOO_DEACTIVATION_GUARD_PERCENT },
    formulaGuard: c.ODOO_CSV_FORMULA_GUARD,
    retry: { attempts: c.ODOO_RETRY_ATTEMPTS, baseMs: c.ODOO_RETRY_BASE_MS, maxMs: c.ODOO_RETRY_MAX_MS }
  }
}
