import Type, { type Static, type TObject, type TProperties } from 'typebox'
import { Value } from 'typebox/value'
import { DURATION_PATTERN } from './lib/duration.js'

/**
 * Every environment variable the gateway reads, in one TypeBox schema: the core's own variables plus the
 * ones each integration declares. Values arrive as strings; TypeBox converts and defaults them.
 */
export const coreConfigProperties = {
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the HTTP server listens on.' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'HTTP port.' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level.' }),
  MONGODB_URI: Type.String({ pattern: '^mongodb(\\+srv)?://', description: 'MongoDB connection string (mongodb:// or mongodb+srv://).' }),
  MONGODB_DB: Type.String({ minLength: 1, default: 'gateway', description: 'Database name.' }),
  INSTANCE_ID: Type.String({ default: '', description: 'Name of this gateway instance in job leases; defaults to host:pid.' }),
  JOBS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 4, description: 'Jobs run at once by this instance.' }),
  JOBS_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 500, description: 'How often an idle runner looks for due jobs.' }),
  JOBS_LEASE_MS: Type.Integer({ minimum: 1000, default: 60000, description: 'Lease length; renewed every third of it while a job runs.' }),
  JOBS_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 5, description: 'Default attempts for kinds that do not set their own.' }),
  JOBS_BACKOFF_BASE_MS: Type.Integer({ minimum: 0, default: 2000, description: 'First retry delay; doubles per attempt, with jitter.' }),
  JOBS_BACKOFF_MAX_MS: Type.Integer({ minimum: 0, default: 600000, description: 'Upper bound of a retry delay.' }),
  JOBS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 1800000, description: 'Default run time limit for kinds that do not set their own.' }),
  JOBS_RETENTION_DAYS: Type.Number({ exclusiveMinimum: 0, default: 30, description: 'Finished jobs older than this are purged.' }),
  JOBS_RUNNER_ENABLED: Type.Boolean({ default: true, description: 'Set false for an instance that only accepts requests.' }),
  SHUTDOWN_DRAIN_MS: Type.Integer({ minimum: 0, default: 25000, description: 'On SIGTERM, how long running jobs may finish before their leases are released.' }),
  SCHEDULER_ENABLED: Type.Boolean({ default: true, description: 'Set false to run no schedules on this instance.' }),
  SCHEDULES_DISABLED: Type.String({ default: '', description: 'Comma-separated schedule ids to switch off.' }),
  GATEWAY_API_KEYS: Type.String({ default: '', description: 'Comma-separated API keys that may trigger jobs and read status.' }),
  GATEWAY_READ_KEYS: Type.String({ default: '', description: 'Comma-separated read-only API keys (status, schedules, metrics).' }),
  ALLOW_NO_AUTH: Type.Boolean({ default: false, description: 'Set true to start without any trigger key (every route is then open).' }),
  METRICS_PUBLIC: Type.Boolean({ default: false, description: 'Serve /metrics without an API key (/health and /ready are always open, for probes).' }),
  DOCS_PUBLIC: Type.Boolean({ default: false, description: 'Serve /docs and /openapi.yaml without an API key.' }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: 10000, description: 'Requests per API key (or client IP without one) per window; 0 disables. Sized for webhook bursts: n8n sends every item of a run at once.' }),
  RATE_LIMIT_WINDOW: Type.String({ pattern: DURATION_PATTERN, default: '1m', description: 'Rate-limit window, e.g. `1m`.' }),
  STORAGE_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000, description: 'How long a request waits for MongoDB (retrying while it is busy) before it answers 503 with Retry-After.' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1048576, description: 'Largest JSON request body (uploads have their own limits).' }),
  TRUST_PROXY: Type.String({ default: 'false', description: 'Fastify trustProxy: `false`, `true`, a hop count or comma-separated addresses/CIDRs.' }),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Answer 503 while the event loop lags more than this; 0 disables.' }),
  PRESSURE_MAX_HEAP_USED_MB: Type.Integer({ minimum: 0, default: 0, description: 'Answer 503 while the V8 heap uses more than this; 0 disables.' }),
  PRESSURE_MAX_RSS_MB: Type.Integer({ minimum: 0, default: 0, description: 'Answer 503 while the process RSS is above this; 0 disables.' }),
  PRESSURE_MAX_EVENT_LOOP_UTILIZATION: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'Answer 503 while event-loop utilisation is above this; 0 disables (the default: a webhook burst keeps the loop busy without being an overload; the event-loop delay is the better sign).' })
} satisfies TProperties

/**
 * The core's variables plus those the given integrations declare. The list is passed in (server.ts passes
 * every integration, tests add their fixture), so this module never depends on the integrations.
 */
export function buildConfigSchema (list: Array<{ name: string, config?: TProperties }>): TObject {
  const properties: TProperties = { ...coreConfigProperties }
  for (const integration of list) {
    for (const [name, schema] of Object.entries(integration.config ?? {})) {
      if (name in properties) throw new Error(`config variable ${name} is declared twice (integration ${integration.name})`)
      properties[name] = schema
    }
  }
  return Type.Object(properties)
}

export type CoreConfig = Static<TObject<typeof coreConfigProperties>>
/** The validated configuration: core fields are typed; integrations read theirs through their own schema types. */
export type Config = CoreConfig & Record<string, unknown>

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/**
 * Validates a set of variables (normally process.env) against the schema. Unknown variables are ignored.
 * Throws one ConfigError that lists every bad variable, so an operator fixes them all in one go.
 */
export function loadConfig (env: Record<string, string | undefined>, schema: TObject): Config {
  const input: Record<string, unknown> = {}
  for (const name of Object.keys(schema.properties)) {
    const raw = env[name]
    // An empty variable counts as unset, so `FOO=` in a compose file falls back to the default.
    if (raw !== undefined && raw !== '') input[name] = raw
  }
  // Default and Convert work in place: keep the raw strings for the error messages.
  const rawInput = { ...input }
  const value = Value.Convert(schema, Value.Default(schema, input)) as Record<string, unknown>
  const problems = new Map<string, string>()
  for (const error of Value.Errors(schema, value)) {
    if (error.keyword === 'required') {
      for (const name of (error.params as { requiredProperties: string[] }).requiredProperties) {
        problems.set(name, `${name} is required${describe(schema, name)}`)
      }
      continue
    }
    const name = error.instancePath.split('/')[1]
    if (name === undefined || problems.has(name)) continue
    problems.set(name, `${name}=${JSON.stringify(rawInput[name])} ${explain(schema, name, error.message)}`)
  }
  if (problems.size === 0 && splitList(value.GATEWAY_API_KEYS).length === 0 && value.ALLOW_NO_AUTH !== true) {
    problems.set('GATEWAY_API_KEYS', 'GATEWAY_API_KEYS is required: set at least one trigger key, or ALLOW_NO_AUTH=true to run without authentication')
  }
  if (problems.size > 0) throw new ConfigError([...problems.values()])
  return value as Config
}

/** A comma-separated variable as a list of its non-empty, trimmed items. */
export function splitList (value: unknown): string[] {
  return String(value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')
}

function describe (schema: TObject, name: string): string {
  const description = (schema.properties[name] as { description?: string }).description
  return description ? ` (${description})` : ''
}

function explain (schema: TObject, name: string, message: string): string {
  const property = schema.properties[name] as { enum?: unknown[], anyOf?: Array<{ const?: unknown }> }
  const allowed = property.enum ?? property.anyOf?.map((s) => s.const)
  if (allowed !== undefined) return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
  return message
}
