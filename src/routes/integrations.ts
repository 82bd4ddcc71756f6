import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { answer } from '../schemas/common.js'

const Field = Type.Object({
  name: Type.String(),
  label: Type.String(),
  type: Type.Enum(['text', 'checkbox', 'select', 'date', 'file']),
  options: Type.Optional(Type.Array(Type.String())),
  initialDaysFromToday: Type.Optional(Type.Integer()),
  accept: Type.Optional(Type.String())
})

export const IntegrationList = Type.Object({
  data: Type.Array(Type.Object({
    name: Type.String({ description: 'Prefix of its job kinds and schedule ids.' }),
    title: Type.String(),
    summary: Type.String(),
    jobs: Type.Array(Type.Object({ kind: Type.String(), description: Type.String() })),
    schedules: Type.Array(Type.String(), { description: 'Ids of its schedules (GET /schedules tells their state).' }),
    dashboard: Type.Object({
      counts: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Result field (dotted path) → label.' })),
      action: Type.Optional(Type.Object({
        label: Type.String(),
        route: Type.String({ description: 'Path (without the leading slash) the run-now form POSTs to.' }),
        fields: Type.Optional(Type.Array(Field))
      }))
    })
  }))
})

/** What runs here: each integration with its job kinds, schedules and dashboard card (the dashboard reads this). */
const integrationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/integrations', {
    schema: {
      tags: ['integrations'],
      summary: 'The integrations this gateway runs',
      description: 'Each one\'s title, job kinds, schedule ids and dashboard card (labelled result counts, the run-now form). The dashboard reads it.',
      response: { 200: answer('The integrations, in registration order.', IntegrationList) }
    }
  }, async () => ({ data: app.integrations }))
}

export default integrationRoutes
