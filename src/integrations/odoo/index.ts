import { Gauge } from 'prom-client'
import { defineIntegration, PermanentError, type CoalesceOptions } from '../../integration.js'
import { createOdooClient, type OdooClient } from './client.js'
import { odooConfigProperties, odooSettings } from './config.js'
import { EVENTS_JOB, odooRoutes } from './routes.js'
import { odooSandbox } from './sandbox/index.js'
import { createOdooService } from './service.js'
import { createOdooStore } from './store.js'

/** Both kinds rewrite hr_clean.csv: they share one lock so writers never overlap, across instances too. */
const CSV_LOCK = 'odoo.hr-csv'

/**
 * Odoo HR → hr_clean.csv for midPoint: a full sync (scheduled and on demand) and webhook events that are
 * stored durably, coalesced into one job and applied in one CSV rewrite.
 */
export const odooIntegration = defineIntegration({
  name: 'odoo',
  title: 'Odoo HR → CSV',
  summary: 'Odoo employees (XML-RPC) become hr_clean.csv for an IGA tool such as midPoint: a full sync on a timer and on demand, webhook events applied within seconds.',
  config: odooConfigProperties,
  dashboard: {
    counts: { rows: 'rows', written: 'CSV rewritten', events: 'events applied', deactivated: 'deactivated' },
    action: {
      label: 'Run CSV sync now',
      route: 'odoo/sync-csv',
      // Only after checking why the guard stopped a run: lets this one sync deactivate many people.
      fields: [{ name: 'allowMassDeactivation', label: 'Allow mass deactivation (confirm a run the guard stopped)', type: 'checkbox' }]
    }
  },
  sandbox: odooSandbox,
  setup ({ config, core, db, jobs, upstream, metrics, storage }) {
    const settings = odooSettings(config)
    // Long enough to ride out an Odoo restart (minutes), with backoff and jitter.
    const retry = { maxAttempts: settings.retry.attempts, backoff: { baseMs: settings.retry.baseMs, maxMs: settings.retry.maxMs } }
    const store = createOdooStore(db)
    let client: OdooClient | null = null
    const getClient = (): OdooClient => {
      if (settings.url === '') throw new PermanentError('ODOO_URL is not set: the Odoo integration has no upstream', { code: 'ODOO_NOT_CONFIGURED' })
      client ??= createOdooClient({ url: settings.url, db: settings.db, username: settings.username, password: settings.password, timeoutMs: settings.timeoutMs, upstream })
      return client
    }
    // A job that took its full share of events enqueues the next one for what it left.
    // Webhook triggers coalesce into one events job that waits for a quiet moment; a follow-up joins it too.
    const eventsCoalesce: CoalesceOptions = { key: 'pending', debounceMs: settings.debounceMs, maxWaitMs: settings.maxWaitMs }
    const eventsLeft = async (): Promise<void> => { await jobs.enqueue(EVENTS_JOB, {}, { trigger: 'webhook', dedupeKey: eventsCoalesce.key }) }
    const service = createOdooService({ settings, store, client: getClient, eventsLeft })
    // Read at scrape time from MongoDB, so every instance reports the same truth.
    metrics.registerMetric(new Gauge({
      name: 'gateway_odoo_deactivations_blocked',
      help: 'Active rows the last Odoo run would have deactivated when the mass-deactivation guard stopped it; 0 once a run writes again.',
      registers: [],
      async collect () { this.set((await store.getState())?.lastBlocked?.count ?? 0) }
    }))

    return {
      init: () => store.init(),
      close: async () => { client?.close() },
      jobs: {
        'odoo.sync-csv': {
          description: 'Reads every hr.employee from Odoo and rewrites hr_clean.csv when it changed.',
          exclusive: CSV_LOCK,
          timeoutMs: 15 * 60_000,
          ...retry,
          handler: (ctx) => service.fullSync(ctx)
        },
        [EVENTS_JOB]: {
          description: 'Applies every pending webhook event: one search_read for the changed employees, one CSV rewrite.',
          exclusive: CSV_LOCK,
          timeoutMs: 5 * 60_000,
          ...retry,
          handler: (ctx) => service.applyEvents(ctx)
        }
      },
      schedules: [{
        id: 'odoo.sync-csv',
        kind: 'odoo.sync-csv',
        everyMs: settings.syncIntervalMs ?? 300_000,
        enabled: settings.syncIntervalMs !== null && settings.url !== '',
        description: 'Full Odoo HR → CSV sync (ODOO_SYNC_INTERVAL)'
      }],
      routes: odooRoutes({ settings, store, jobs, storage: storage.request, eventsCoalesce, bodyLimitBytes: core.BODY_LIMIT_BYTES })
    }
  }
})
