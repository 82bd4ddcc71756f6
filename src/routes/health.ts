import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { UNREACHABLE_WAIT_MS, withinStorageDeadline } from '../lib/storage-deadline.js'
import { answer, ErrorResponse, OPTIONAL_KEY, textAnswer } from '../schemas/common.js'

const Check = Type.Object({ ok: Type.Boolean(), message: Type.Optional(Type.String()) })

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({ mongodb: Check, runner: Check, scheduler: Check })
}, { $id: 'Readiness' })

/** Liveness, readiness, Prometheus metrics and the caller's role, for orchestrators, monitoring and the dashboard. */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app
  const observability = config.METRICS_PUBLIC === true ? 'public' : 'read'

  app.get('/health', {
    config: { access: 'public', rateLimit: false },
    schema: {
      tags: ['health'],
      summary: 'Liveness (the process answers)',
      response: { 200: answer('The process is alive.', Type.Object({ status: Type.Literal('ok') })) }
    }
  }, async () => ({ status: 'ok' as const }))

  // Open like /health: orchestrators' readiness probes send no key, and it tells nothing but ready or not.
  app.get('/ready', {
    config: { access: 'public', rateLimit: false },
    schema: {
      tags: ['health'],
      summary: 'Readiness (MongoDB answers, runner and scheduler running)',
      description: 'Open, like `/health`, for orchestrators\' readiness probes. Answers at once (503) while the driver knows MongoDB to be unreachable, else after a ping of at most a second.',
      response: {
        200: answer('Ready to take work.', Readiness),
        503: answer('Not ready; `checks` says what is missing (or, overloaded, the gateway answers with an `Error`).', Type.Union([Readiness, ErrorResponse]), {
          headers: { 'Retry-After': Type.Integer({ description: 'Seconds until asking again is worth it.' }) }
        })
      }
    }
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
    schema: {
      tags: ['health'],
      summary: 'Prometheus metrics',
      description: 'HTTP durations by route and status, jobs by kind and status, job durations and retries, upstream calls by integration. Open when `METRICS_PUBLIC=true`, else needs a read key.',
      security: OPTIONAL_KEY,
      response: { 200: textAnswer('Prometheus text exposition format.', ['text/plain']) }
    }
  }, async (_request, reply) => {
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })

  // Lets a client (the dashboard) learn what its key may do without trying a trigger route.
  app.get('/auth/whoami', {
    config: { access: 'read' },
    schema: {
      tags: ['health'],
      summary: 'What the presented API key may do',
      description: '`trigger` for a key from `GATEWAY_API_KEYS` (or any request while `ALLOW_NO_AUTH=true` leaves the gateway open), `read` for a key from `GATEWAY_READ_KEYS`. The dashboard uses it to show or hide its action buttons.',
      response: { 200: answer('The key\'s role.', Type.Object({ role: Type.Union([Type.Literal('trigger'), Type.Literal('read')]) })) }
    }
  }, async (request) => ({ role: app.authOpen || request.apiKeyKind === 'trigger' ? 'trigger' as const : 'read' as const }))
}

export default healthRoutes
