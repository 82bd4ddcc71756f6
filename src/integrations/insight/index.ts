import Type from 'typebox'
import type { Integration } from '../../integration.js'
import { PermanentError } from '../../jobs/errors.js'
import { DURATION_PATTERN, parseDuration } from '../../lib/duration.js'
import { createInsightClient, type DateField, type InsightClient } from './insight-client.js'
import { createOomnitzaClient, type OomnitzaClient } from './oomnitza-client.js'
import { insightRoutes } from './routes.js'
import { createSyncService, type SyncParams } from './sync.js'
import { loadMapping } from './transform.js'

const config = {
  INSIGHT_URL: Type.String({ default: '', description: 'Insight API base URL; GetStatus is `{INSIGHT_URL}/{INSIGHT_REGION}/GetStatus`.' }),
  INSIGHT_TOKEN_URL: Type.String({ default: '', description: 'Insight OAuth token URL (`…/oauth/token`); `?grant_type=client_credentials` is appended.' }),
  INSIGHT_REGION: Type.String({ default: 'NA', pattern: '^[A-Za-z]+$', description: 'Insight region path segment: `NA` or `EMEA`.' }),
  INSIGHT_CLIENT_ID: Type.String({ default: '', description: 'The ClientID Insight assigned (goes in request bodies; not the OAuth key).' }),
  INSIGHT_CLIENT_KEY: Type.String({ default: '', description: 'Insight OAuth client key (secret).' }),
  INSIGHT_CLIENT_SECRET: Type.String({ default: '', description: 'Insight OAuth client secret (secret).' }),
  INSIGHT_DATE_FIELD: Type.Enum(['ship', 'creation'], { default: 'ship', description: 'Date the default window filters on: `ship` (ShipDate) or `creation` (OrderCreationDate).' }),
  INSIGHT_LOOKBACK_DAYS: Type.Integer({ minimum: 0, maximum: 179, default: 0, description: 'Days the default window (yesterday, UTC) reaches further back.' }),
  INSIGHT_WINDOW_DAYS: Type.Integer({ minimum: 1, maximum: 180, default: 30, description: 'Longest date window of one GetStatus request.' }),
  INSIGHT_MAX_RANGE_DAYS: Type.Integer({ minimum: 1, maximum: 3660, default: 180, description: 'Longest from–to range a trigger may ask for.' }),
  INSIGHT_CRON: Type.String({ default: '0 6 * * *', description: 'When insight.sync runs (cron, UTC); `off` disables it.' }),
  INSIGHT_RUN_TIMEOUT: Type.String({ pattern: DURATION_PATTERN, default: '10m', description: 'Deadline of a whole sync run, e.g. `10m`.' }),
  INSIGHT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 60000, description: 'Time limit of one Insight call.' }),
  INSIGHT_MAPPING_FILE: Type.String({ default: '', description: 'JSON file of `"oomnitza_field": "source"` entries laid over the default mapping.' }),
  INSIGHT_DRY_RUN_SAMPLE: Type.Integer({ minimum: 0, maximum: 1000, default: 20, description: 'Payloads a dry run returns in full (counts cover all).' }),
  INSIGHT_RETRIES: Type.Integer({ minimum: 0, maximum: 20, default: 5, description: 'Retries of an Insight or Oomnitza call on 429, 5xx or network errors.' }),
  INSIGHT_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 500, description: 'First retry delay of an upstream call; doubles each time; Retry-After wins when longer.' }),
  OOMNITZA_URL: Type.String({ default: '', description: 'Oomnitza instance URL, e.g. `https://acme.oomnitza.com`.' }),
  OOMNITZA_API_TOKEN: Type.String({ default: '', description: 'Oomnitza API token, sent as `Authorization2` (secret).' }),
  OOMNITZA_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'Oomnitza calls in flight at once.' }),
  OOMNITZA_LOOKUP_BATCH: Type.Integer({ minimum: 1, maximum: 200, default: 100, description: 'Serials per `serial_number IN [...]` lookup.' }),
  OOMNITZA_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 20000, description: 'Time limit of one Oomnitza call.' })
}

/** Everything a run needs that is not configured: named in one message. */
function missingSettings (c: Record<string, unknown>): string[] {
  return ['INSIGHT_URL', 'INSIGHT_TOKEN_URL', 'INSIGHT_CLIENT_ID', 'INSIGHT_CLIENT_KEY', 'INSIGHT_CLIENT_SECRET', 'OOMNITZA_URL', 'OOMNITZA_API_TOKEN']
    .filter((name) => String(c[name] ?? '') === '')
}

/**
 * Insight → Oomnitza: every serial Insight shipped becomes (or updates) one Oomnitza asset. Runs daily and on
 * demand; the upstreams are configured lazily so a gateway without Insight credentials still starts.
 */
export const insightIntegration: Integration = {
  name: 'insight',
  config,
  setup ({ config: c, upstream }) {
    const mapping = loadMapping(String(c.INSIGHT_MAPPING_FILE))
    const runTimeoutMs = parseDuration(String(c.INSIGHT_RUN_TIMEOUT)) ?? 600_000
    const retries = Number(c.INSIGHT_RETRIES)
    const retryBaseMs = Number(c.INSIGHT_RETRY_BASE_MS)
    const cron = String(c.INSIGHT_CRON)
    // Created on first use (a gateway without Insight credentials still starts) and kept, so runs share the token.
    let insightClient: InsightClient | null = null
    let oomnitzaClient: OomnitzaClient | null = null
    const service = createSyncService({
      insight: () => {
        insightClient ??= createInsightClient({
          url: String(c.INSIGHT_URL),
          tokenUrl: String(c.INSIGHT_TOKEN_URL),
          region: String(c.INSIGHT_REGION),
          clientId: String(c.INSIGHT_CLIENT_ID),
          clientKey: String(c.INSIGHT_CLIENT_KEY),
          clientSecret: String(c.INSIGHT_CLIENT_SECRET),
          timeoutMs: Number(c.INSIGHT_TIMEOUT_MS),
          retries,
          retryBaseMs,
          metrics: upstream
        })
        return insightClient
      },
      oomnitza: () => {
        oomnitzaClient ??= createOomnitzaClient({
          url: String(c.OOMNITZA_URL),
          token: String(c.OOMNITZA_API_TOKEN),
          timeoutMs: Number(c.OOMNITZA_TIMEOUT_MS),
          retries,
          retryBaseMs,
          metrics: upstream
        })
        return oomnitzaClient
      },
      settings: {
        lookbackDays: Number(c.INSIGHT_LOOKBACK_DAYS),
        windowDays: Number(c.INSIGHT_WINDOW_DAYS),
        defaultDateField: c.INSIGHT_DATE_FIELD as DateField,
        runTimeoutMs,
        concurrency: Number(c.OOMNITZA_CONCURRENCY),
        lookupBatch: Number(c.OOMNITZA_LOOKUP_BATCH),
        dryRunSample: Number(c.INSIGHT_DRY_RUN_SAMPLE),
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
      routes: insightRoutes(Number(c.INSIGHT_MAX_RANGE_DAYS))
    }
  }
}
