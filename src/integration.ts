/**
 * The one door between the core and an integration. An integration (one folder under src/integrations/)
 * imports from the core only this module; the core registers whatever an integration declares here and never
 * names an integration itself. docs/architecture.md describes the folder layout.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from 'mongodb'
import type { Registry } from 'prom-client'
import type { Static, TObject, TProperties } from 'typebox'
import type { CoreConfig } from './config.js'
import type { CoalescedJob, EnqueueOptions, EnqueueResult, JobDocument, JobKindDefinition, JobParams } from './jobs/types.js'
import type { Logger } from './lib/logger.js'
import type { RequestStorage } from './lib/storage-deadline.js'
import type { ScheduleDefinition } from './schedules/types.js'

// The shared kit an integration may use, re-exported so that this module stays its only way into the core.
export { JobError, PermanentError, RetryableError, errorMessage, isRetryable } from './jobs/errors.js'
export type { CoalesceOptions, CoalescedJob, EnqueueOptions, EnqueueResult, HoldUntil, JobContext, JobDocument, JobKindDefinition, JobParams } from './jobs/types.js'
export { DAY_MS, DURATION_PATTERN, parseDuration } from './lib/duration.js'
export { exists, freeName } from './lib/free-name.js'
export { httpError, invalidRequest, type ErrorDetail } from './lib/http-errors.js'
export { ensureIndexes } from './lib/indexes.js'
export type { Logger } from './lib/logger.js'
export { insertManyOnce, insertOnce, isDuplicateKeyError, isRetryableStorageError } from './lib/mongo-errors.js'
export { withStorageRetry } from './lib/storage-deadline.js'
export { syncDirectory } from './lib/sync-directory.js'
export { removeAbandonedTempFiles, tempFileName } from './lib/temp-files.js'
export { answer, ErrorResponse, IdempotencyHeaders, JobAccepted, TriggerAnswers, TriggerBody } from './schemas/common.js'

/** An integration's own configuration values, typed from its TypeBox properties. */
export type ConfigOf<P extends TProperties> = Static<TObject<P>>

export interface Integration<P extends TProperties = TProperties> {
  /** Short name, the prefix of its job kinds and schedule ids (e.g. `odoo` → `odoo.sync-csv`). */
  name: string
  /** Shown on the dashboard and in the API docs (e.g. `Odoo HR → CSV`). */
  title: string
  /** One sentence: what it connects, for whom. */
  summary: string
  /** Environment variables it reads; merged into the gateway's one configuration schema. */
  config: P
  /** Builds the integration from what the core hands it. Method syntax: lists of integrations stay assignable. */
  setup (deps: IntegrationDeps<ConfigOf<P>>): IntegrationParts | Promise<IntegrationParts>
  /** How the dashboard shows it: result counts worth a label, and the "run now" form. */
  dashboard?: DashboardCard
  /** Stand-in upstreams for `npm run demo` and the browser test (simulators on loopback, seeded folders). */
  sandbox?: (options: SandboxOptions) => Promise<Sandbox>
}

/** Keeps an integration's config type from its properties; `defineIntegration({...})` needs no annotations. */
export function defineIntegration<P extends TProperties> (integration: Integration<P>): Integration<P> {
  return integration
}

export interface IntegrationDeps<C> {
  /** Its own variables, validated and converted (integers are numbers, enums their literal types). */
  config: C
  /** The core's variables (body limit, retention, …), read-only. */
  core: Readonly<CoreConfig>
  /** The gateway's database: an integration keeps its collections under names of its own. */
  db: Db
  jobs: IntegrationJobs
  log: Logger
  /** Counts calls to its upstream systems for /metrics. */
  upstream: UpstreamMetrics
  /** The app's Prometheus registry, for its own gauges (named `gateway_<integration>_…`). */
  metrics: Registry
  /** Storage steps on request paths: 503 with Retry-After instead of waiting on a busy or absent MongoDB. */
  storage: RequestStorage
}

/** The job engine as an integration sees it. */
export interface IntegrationJobs {
  enqueue: (kind: string, params?: JobParams, options?: EnqueueOptions) => Promise<EnqueueResult>
  get: (id: string) => Promise<JobDocument | null>
  /** What a coalescing enqueue of `key` would join now, as far as this instance knows, without a round trip. */
  coalesced: (kind: string, key: string) => CoalescedJob
  /** Deletes finished jobs and used keys older than `before` (housekeeping). */
  purge: (before: Date) => Promise<{ jobs: number, keys: number }>
  /**
   * Enqueues for a trigger route and answers the standard way: 202 {jobId, status, statusUrl} for a new or
   * coalesced job, 200 with the first job when the Idempotency-Key (or verified webhook-id) was seen before.
   */
  trigger: (request: FastifyRequest, reply: FastifyReply, kind: string, params: JobParams, options?: EnqueueOptions) =>
  Promise<EnqueueResult & { body: { jobId: string, status: string, statusUrl: string } }>
}

/** What an integration's clients report about each upstream call (the integration name is added by the core). */
export interface UpstreamMetrics {
  /** `target` names the upstream system (`odoo`, `athoc`, …), `operation` the call (`search_read`, `token`, …). */
  record: (call: { target: string, operation: string, outcome: 'ok' | 'error', seconds: number }) => void
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call the route: `public` (no key), `read` (read or trigger key) or `trigger` (trigger key).
     * Default: `read` for GET/HEAD, `trigger` for every other method.
     */
    access?: 'public' | 'read' | 'trigger'
    /**
     * Standard Webhooks secret(s) for this route (`whsec_…`, space-separated for rotation). When set and not
     * empty, the core rejects unsigned or badly signed requests with 401 and uses `webhook-id` as the
     * idempotency key.
     */
    webhookSecret?: string
  }
}

export interface IntegrationParts {
  /** Job kind → definition. Kinds must start with `<name>.`. */
  jobs?: Record<string, JobKindDefinition>
  /** Routes with their TypeBox schemas, registered as an encapsulated plugin; tag them with the integration's name. */
  routes?: (app: FastifyInstance) => Promise<void>
  /** Timers that enqueue its jobs. */
  schedules?: ScheduleDefinition[]
  /** Indexes or other start-up work on the database, run once before the runner starts. */
  init?: () => Promise<void>
  /** Called on shutdown after the job runner has drained (close upstream clients, …). */
  close?: () => Promise<void>
}

/** A field of the dashboard's "run now" form. The body is JSON of the filled fields; a `file` is posted as multipart. */
export type DashboardField =
  | { name: string, label: string, type: 'text' | 'checkbox' }
  | { name: string, label: string, type: 'select', options: string[] }
  | { name: string, label: string, type: 'date', initialDaysFromToday?: number }
  | { name: string, label: string, type: 'file', accept?: string }

export interface DashboardCard {
  /** Result fields worth showing on the last run, with their labels (`{ written: 'CSV rewritten' }`). */
  counts?: Record<string, string>
  /** The "run now" button: a POST to one of its routes. */
  action?: { label: string, route: string, fields?: DashboardField[] }
}

export interface SandboxOptions {
  /** Folder for the sandbox's files (CSV output, inbound/outbound folders, …), emptied for each demo run. */
  dataDir: string
  /** The MongoDB-wire server, for sandboxes that seed data (e.g. TracOS work orders). */
  mongoUri: string
  /** The database the gateway uses. */
  mongoDb: string
}

/** A sandbox upstream: started before the gateway; `env` points the gateway at it. */
export interface Sandbox {
  /** One line for the demo's banner: what runs where. */
  description: string
  env: Record<string, string>
  /** Lines for the demo's "Try" list, using the shell variables `$KEY` (trigger key) and `$BASE` (gateway URL). */
  examples?: string[]
  close: () => Promise<void>
}
