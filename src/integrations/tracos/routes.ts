import type { FastifyInstance } from 'fastify'
import { ErrorResponse, httpError, IdempotencyHeaders, JobAccepted, type IntegrationJobs } from '../../integration.js'
import { DIRECTIONS, type Direction } from './sync.js'

/** `POST /tracos/run` with an optional `{"direction": "inbound" | "outbound" | "both"}`. */
export function tracosRoutes (jobs: IntegrationJobs) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/tracos/run', {
      schema: {
        tags: ['tracos'],
        headers: IdempotencyHeaders,
        response: { 200: JobAccepted, 202: JobAccepted, 400: ErrorResponse }
      }
    }, async (request, reply) => {
      const body = request.body
      let direction: Direction = 'both'
      if (body !== undefined && body !== null) {
        if (typeof body !== 'object' || Array.isArray(body)) throw httpError(400, 'body must be a JSON object', [{ field: '(body)', message: 'must be an object like {"direction":"both"}' }])
        const extra = Object.keys(body).filter((key) => key !== 'direction')
        if (extra.length > 0) throw httpError(400, `unknown field ${extra[0] as string}`, extra.map((field) => ({ field, message: 'is not allowed' })))
        const value = (body as { direction?: unknown }).direction
        if (value !== undefined) {
          if (!(DIRECTIONS as readonly unknown[]).includes(value)) throw httpError(400, 'direction must be one of inbound, outbound, both', [{ field: 'direction', message: 'must be one of inbound, outbound, both' }])
          direction = value as Direction
        }
      }
      // Coalesced: while a run of the same direction is queued, a new trigger joins it.
      const { body: accepted } = await jobs.trigger(request, reply, 'tracos.run', { direction }, { dedupeKey: `run:${direction}` })
      return accepted
    })
  }
}
