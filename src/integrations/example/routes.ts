import type { FastifyInstance } from 'fastify'
import Type, { type Static } from 'typebox'
import { IdempotencyHeaders, TriggerAnswers, type IntegrationJobs } from '../../integration.js'

const GreetBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, description: 'Who to greet.' }),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000, description: 'How long the job pauses first (to watch it run or cancel it).' }))
}, { additionalProperties: false })

/** `POST /example/greet`: the body is validated by Fastify from its TypeBox schema, then a job is queued. */
export function exampleRoutes (jobs: IntegrationJobs) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/example/greet', {
      schema: {
        tags: ['example'],
        summary: 'Queue an example.greet job',
        description: 'The template integration (src/integrations/example). Its body is validated from the route\'s TypeBox schema.',
        headers: IdempotencyHeaders,
        body: GreetBody,
        response: TriggerAnswers
      }
    }, async (request, reply) => {
      const body = request.body as Static<typeof GreetBody>
      const { body: accepted } = await jobs.trigger(request, reply, 'example.greet', { ...body })
      return accepted
    })
  }
}
