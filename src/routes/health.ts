import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { UNREACHABLE_WAIT_MS, withinStorageDeadline } from '../lib/storage-deadline.js'
import { ErrorResponse } from '../schemas/common.js'

const Check = Type.Object({ ok: Type.Boolean(), message: Type.Optional(Type.String()) })

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({ mongodb: Check, runner: Check, scheduler: Check })
})

/** Liveness, readiness and Prometheus metrics for orchestrators and monitoring. */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app
  const observability = config.METRICS_PUBLIC === true ? 'public' : 'read'

  app.get('/health', {
    config: { access: 'public', rateLimit: false },
    schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  // Open like /health: orchestrators' readiness probes send no key, and it tells nothing but ready or not.
  app.get('/ready', {
    config: { access: 'public', rateLimit: false },
    schema: { tags: ['health'], response: { 200: Readiness, 503: Readiness, 401: ErrorResponse } }
  }, async (_request, reply) => {
    // Known to be away: say so at once; otherwise a ping, given a second.
    const mongodb = !app.storage.reachable()
      ? { ok: false, message: 'MongoDB is unreachable (the driver lost its server)' }
      : await withinStorageDeadline(UNREACHABLE_WAIT_MS, () => app.mongo.db.command({ ping: 1 }))
        .then(() => ({ ok: true }), (err: unknown) => ({ ok: false, message: `MongoDB did not answer: ${err instanceof Error ? err.message : String(err)}` }))
    // An instance configured without a runner or scheduler is ready without them.
    const runner = config.JOBS_RUNNER_ENABLED === false || app.jobs.runner.isRunning()
      ? { ok: true }
      : { ok: false, message: 'the job runner is not running' }
    const scheduler = config.SCHEDULER_ENABLED === false || app.schedules.isRunning()
      ? { ok: true }
      : { ok: false, message: 'the scheduler is not running' }
    const ready = mongodb.ok && runner.ok && scheduler.ok
    reply.code(ready ? 200 : 503)
    if (!ready) reply.header('retry-after', '5')
    return { status: ready ? 'ready' as const : 'not ready' as const, checks: { mongodb, runner, scheduler } }
  })

  app.get('/metrics', {
    config: { access: observability },
    schema: { tags: ['health'] }
  }, async (_request, reply) => {
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })
}

export default healthRoutes
