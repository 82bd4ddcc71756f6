import fp from 'fastify-plugin'
import type { Integration, IntegrationParts, UpstreamMetrics } from '../integration.js'

/**
 * Registers each integration's job kinds, schedules and routes through the one contract in integration.ts.
 */
export default fp<{ integrations: Integration[] }>(async (app, opts) => {
  const started: Array<{ name: string, parts: IntegrationParts }> = []
  for (const integration of opts.integrations) {
    const log = app.log.child({ integration: integration.name })
    const upstream: UpstreamMetrics = { record: (call) => { app.metrics.upstreamCall(integration.name, call) } }
    const parts = await integration.setup({ config: app.config, db: app.mongo.db, log, upstream, metrics: app.metrics.registry, storage: app.storage })
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
  }
  app.addHook('onClose', async () => {
    for (const { name, parts } of started.reverse()) {
      await parts.close?.().catch((err: unknown) => { app.log.error({ err, integration: name }, 'integration did not close cleanly') })
    }
  })
}, { name: 'integrations', dependencies: ['config', 'mongo', 'jobs', 'schedules', 'metrics'] })
