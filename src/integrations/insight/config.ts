import Type from 'typebox'
import { DURATION_PATTERN, type ConfigOf } from '../../integration.js'

/** The Insight → Oomnitza integration's environment variables (merged into the gateway's configuration schema). */
export const insightConfig = {
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

export type InsightConfig = ConfigOf<typeof insightConfig>
