import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { answer } from '../schemas/common.js'
import { JobStatusSchema } from '../schemas/jobs.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

export const ScheduleList = Type.Object({
  data: Type.Array(Type.Object({
    id: Type.String(),
    kind: Type.String(),
    type: Type.Union([Type.Literal('interval'), Type.Literal('cron')]),
    everyMs: Nullable(Type.Integer()),
    cron: Nullable(Type.String()),
    timezone: Nullable(Type.String()),
    enabled: Type.Boolean(),
    nextRunAt: Nullable(Type.String({ format: 'date-time' })),
    lastJob: Nullable(Type.Object({
      id: Type.String(),
      status: Nullable(JobStatusSchema),
      slot: Type.String(),
      enqueuedAt: Type.String({ format: 'date-time' })
    }))
  }, { $id: 'Schedule' }))
})

const scheduleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/schedules', {
    schema: {
      tags: ['schedules'],
      summary: 'Every schedule with its next run and last job',
      response: { 200: answer('The schedules.', ScheduleList) }
    }
  }, async () => ({ data: await app.schedules.list() }))
}

export default scheduleRoutes
