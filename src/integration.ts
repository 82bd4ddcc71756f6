import type { FastifyInstance } from 'fastify'
import type { Db } from 'mongodb'
import type { Logger } from './lib/logger.js'
import type { RequestStorage } from './lib/storage-deadline.js'
import type { Registry } from 'prom-client'
import type { TProperties } from 'typebox'
import type { Config } from './config.js'
import type { JobKindDefinition } from './jobs/types.js'
import type { ScheduleDefinition } from './schedules/types.js'

/**
 * The one contract between the core and an integration. The core registers whatever an integration
 * returns from `setup`; it never names an integration itself.
 */
export interface Integration {
  /** Short name, used as the prefix of its job kinds and schedule ids (e.g. `odoo` → `odoo.sync-csv`). */
  name: string
  /** Environment variables the integration reads; merged into the one configuration schema. */
  config?: TProperties
  setup: (deps: IntegrationDeps) => IntegrationParts | Promise<IntegrationParts>
}

export interface IntegrationDeps {
  config: Config
  db: Db
  log: Logger
  /** Counts calls to this integration's upstream systems for /metrics. */
  upstream: UpstreamMetrics
  /** The app's Prometheus registry, for the integration's own gauges (named `gateway_<integration>_…`). */
  metrics: Registry
  /** Storage steps on request paths: 503 with Retry-After instead of waiting on a busy or absent MongoDB. */
  storage: RequestStorage
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
  /** Routes, registered as an encapsulated plugin; `app.jobs` is available inside. */
  routes?: (app: FastifyInstance) => Promise<void>
  /** Timers that enqueue this integration's jobs. */
  schedules?: ScheduleDefinition[]
  /** Indexes or other start-up work on the database, run once before the runner starts. */
  init?: () => Promise<void>
  /** Called on shutdown after the job runner has drained (close upstream clients, simulators, …). */
  close?: () => Promise<void>
}
