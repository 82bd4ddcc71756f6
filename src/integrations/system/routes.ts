import type { FastifyInstance } from 'fastify'
import { ErrorResponse, IdempotencyHeaders, JobAccepted, type IntegrationJobs } from '../../integration.js'

/** `POST /system/purge-jobs`: the daily clean-up, now. */
export function systemRoutes (jobs: IntegrationJobs) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/system/purge-jobs', {
      schema: {
        tags: ['system'],
        headers: IdempotencyHeaders,
        response: { 200: JobAccepted, 202: JobAccepted, 400: ErrorResponse }
      }
    }, async (request, reply) => {
      const { body } = await jobs.trigger(request, reply, 'system.purge-jobs', {}, { dedupeKey: 'manual' })
      return body
    })
  }
}
