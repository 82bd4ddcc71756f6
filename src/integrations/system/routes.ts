import type { FastifyInstance } from 'fastify'
import { IdempotencyHeaders, TriggerAnswers, TriggerBody, type IntegrationJobs } from '../../integration.js'

/** `POST /system/purge-jobs`: the daily clean-up, now. */
export function systemRoutes (jobs: IntegrationJobs) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/system/purge-jobs', {
      schema: {
        tags: ['system'],
        summary: 'Delete finished jobs older than JOBS_RETENTION_DAYS now',
        description: 'Triggers coalesce while one is queued. Takes no body (or an empty one).',
        headers: IdempotencyHeaders,
        body: TriggerBody({}),
        response: TriggerAnswers
      }
    }, async (request, reply) => {
      const { body } = await jobs.trigger(request, reply, 'system.purge-jobs', {}, { dedupeKey: 'manual' })
      return body
    })
  }
}
