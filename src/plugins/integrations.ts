import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { TProperties } from 'typebox'
import type { CoreConfig } from '../config.js'
import type { DashboardCard, Integration, IntegrationJobs, IntegrationParts, UpstreamMetrics } from '../integration.js'
import { triggerJob } from '../jobs/http.js'

/** What the core tells about an integration (GET /integrations, the dashboard). */
export interface IntegrationInfo {
  name: string
  title: string
  summary: string
  jobs: Array<{ kind: string, description: string }>
  schedules: string[]
  dashboard: DashboardCard
}

declare module 'fastify' {
  interface FastifyInstance {
    integrations: IntegrationInfo[]
  }
}

/** Only the integration's own variables: it cannot come to depend on another's by accident. */
function ownConfig (integration: Integration, config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(integration.config as TProperties).map((name) => [name, config[name]]))
}

function jobsFor (app: FastifyInstance): IntegrationJobs {
  return {
    enqueue: async (kind, params, options) => await app.jobs.enqueue(kind, params, options),
    get: async (id) => await app.jobs.get(id),
    coalesced: (kind, key) => app.jobs.coalesced(kind, key),
    purge: async (before) => await app.jobs.store.purge(before),
    trigger: async (request, reply, kind, params, options) => await triggerJob(request, reply, kind, params, options)
  }
}

/**
 * Registers each integration's job kinds, schedules and routes through the one contract in integration.ts.
 */
export default fp<{ integrations: Integration[] }>(async (app, opts) => {
  const started: Array<{ name: string, parts: IntegrationParts }> = []
  const infos: IntegrationInfo[] = []
  app.decorate('integrations', infos)
  const jobs = jobsFor(app)
  for (const integration of opts.integrations) {
    const log = app.log.child({ integration: integration.name })
    const upstream: UpstreamMetrics = { record: (call) => { app.metrics.upstreamCall(integration.name, call) } }
    const parts = await integration.setup({
      config: ownConfig(integration, app.config),
      core: app.config as CoreConfig,
      db: app.mongo.db,
      jobs,
      log,
      upstream,
      metrics: app.metrics.registry,
      storage: app.storage
    })
    for (const [kind, definition] of Object.entries(parts.jobs ?? {})) {
      if (!kind.startsWith(`${integration.name}.`)) throw new Error(`job kind ${kind} must start with "${integration.name}."`)
      app.jobs.registry.define(kind, definition)
    }
    for (const schedule of parts.schedules ?? []) {
      if (!app.jobs.registry.has(schedule.kind)) throw new Error(`schedule ${schedule.id} enqueues unknown job kind ${schedule.kind}`)
      app.schedules.add(schedule)
    }
    if (parts.init !== undefined) await parts.init()
    if (parts.routes !== undefined) await app.register(parts.routes)
    started.push({ name: integration.name, parts })
    infos.push({
      name: integration.name,
      title: integration.title,
      summary: integration.summary,
      jobs: Object.entries(parts.jobs ?? {}).map(([kind, definition]) => ({ kind, description: definition.description ?? '' })),
      schedules: (parts.schedules ?? []).map((schedule) => schedule.id),
      dashboard: integration.dashboard ?? {}
    })
  }
  app.addHook('onClose', async () => {
    for (const { name, parts } of started.reverse()) {
      await parts.close?.().catch((err: unknown) => { app.log.error({ err, integration: name }, 'integration did not close cleanly') })
    }
  })
}, { name: 'integrations', dependencies: ['config', 'mongo', 'jobs', 'schedules', 'metrics'] })
