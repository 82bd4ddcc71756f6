import { defineIntegration, parseDuration, PermanentError } from '../../integration.js'
import { insightConfig, type InsightConfig } from './config.js'
import { createInsightClient, type InsightClient } from './insight-client.js'
import { createOomnitzaClient, type OomnitzaClient } from './oomnitza-client.js'
import { insightRoutes } from './routes.js'
import { insightSandbox } from './sandbox/index.js'
import { createSyncService, type SyncParams } from './sync.js'
import { loadMapping } from './transform.js'

/** Everything a run needs that is not configured: named in one message. */
function missingSettings (c: InsightConfig): string[] {
  return ['INSIGHT_URL', 'INSIGHT_TOKEN_URL', 'INSIGHT_CLIENT_ID', 'INSIGHT_CLIENT_KEY', 'INSIGHT_CLIENT_SECRET', 'OOMNITZA_URL', 'OOMNITZA_API_TOKEN']
    .filter((name) => c[name as keyof InsightConfig] === '')
}

/**
 * Insight → Oomnitza: every serial Insight shipped becomes (or updates) one Oomnitza asset. Runs daily and on
 * demand; the upstreams are configured lazily so a gateway without Insight credentials still starts.
 */
export const insightIntegration = defineIntegration({
  name: 'insight',
  title: 'Insight → Oomnitza',
  summary: 'Hardware Insight shipped becomes Oomnitza assets, one per serial: daily and on demand, with a dry run that writes nothing.',
  config: insightConfig,
  dashboard: {
    counts: { orders: 'orders', serials: 'serials', 'assets.created': 'assets created', 'assets.updated': 'assets updated', 'assets.failed': 'failed' },
    action: {
      label: 'Run sync',
      route: 'insight/sync',
      fields: [
        { name: 'from', label: 'From', type: 'date', initialDaysFromToday: -7 },
        { name: 'to', label: 'To', type: 'date', initialDaysFromToday: 0 },
        // Empty = the server's default.
        { name: 'dateField', label: 'Date field', type: 'select', options: ['', 'ship', 'creation'] },
        { name: 'dryRun', label: 'Dry run (write nothing)', type: 'checkbox' }
      ]
    }
  },
  sandbox: insightSandbox,
  setup ({ config: c, jobs, upstream }) {
    const mapping = loadMapping(c.INSIGHT_MAPPING_FILE)
    const runTimeoutMs = parseDuration(c.INSIGHT_RUN_TIMEOUT) ?? 600_000
    const retries = c.INSIGHT_RETRIES
    const retryBaseMs = c.INSIGHT_RETRY_BASE_MS
    const cron = c.INSIGHT_CRON
    // Created on first use (a gateway without Insight credentials still starts) and kept, so runs share the token.
    let insightClient: InsightClient | null = null
    let oomnitzaClient: OomnitzaClient | null = null
    const service = createSyncService({
      insight: () => {
        insightClient ??= createInsightClient({
          url: c.INSIGHT_URL,
          tokenUrl: c.INSIGHT_TOKEN_URL,
          region: c.INSIGHT_REGION,
          clientId: c.INSIGHT_CLIENT_ID,
          clientKey: c.INSIGHT_CLIENT_KEY,
          clientSecret: c.INSIGHT_CLIENT_SECRET,
          timeoutMs: c.INSIGHT_TIMEOUT_MS,
          retries,
          retryBaseMs,
          metrics: upstream
        })
        return insightClient
      },
      oomnitza: () => {
        oomnitzaClient ??= createOomnitzaClient({
          url: c.OOMNITZA_URL,
          token: c.OOMNITZA_API_TOKEN,
          timeoutMs: c.OOMNITZA_TIMEOUT_MS,
          retries,
          retryBaseMs,
          metrics: upstream
        })
        return oomnitzaClient
      },
      settings: {
        lookbackDays: c.INSIGHT_LOOKBACK_DAYS,
        windowDays: c.INSIGHT_WINDOW_DAYS,
        defaultDateField: c.INSIGHT_DATE_FIELD,
        runTimeoutMs,
        concurrency: c.OOMNITZA_CONCURRENCY,
        lookupBatch: c.OOMNITZA_LOOKUP_BATCH,
        dryRunSample: c.INSIGHT_DRY_RUN_SAMPLE,
        mapping
      }
    })
    return {
      jobs: {
        'insight.sync': {
          description: 'Creates or updates one Oomnitza asset per serial Insight shipped in the window.',
          maxAttempts: 3,
          // The run enforces INSIGHT_RUN_TIMEOUT itself and reports what it did; the job limit is a backstop.
          timeoutMs: runTimeoutMs + 60_000,
          exclusive: 'insight.sync',
          async handler ({ params, signal, log, progress }) {
            const missing = missingSettings(c)
            if (missing.length > 0) {
              throw new PermanentError(`Insight sync is not configured: set ${missing.join(', ')}`, { code: 'INSIGHT_NOT_CONFIGURED' })
            }
            return service.run(params as SyncParams, { signal, log, progress })
          }
        }
      },
      schedules: [{
        id: 'insight.sync',
        kind: 'insight.sync',
        cron: cron === 'off' ? '0 6 * * *' : cron,
        timezone: 'UTC',
        enabled: cron !== 'off',
        description: 'Daily Insight → Oomnitza asset sync (default window)'
      }],
      routes: insightRoutes(jobs, c.INSIGHT_MAX_RANGE_DAYS)
    }
  }
})
