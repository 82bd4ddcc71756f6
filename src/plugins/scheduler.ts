import fastifySchedule from '@fastify/schedule'
import fp from 'fastify-plugin'
import { createScheduler, type Scheduler } from '../schedules/scheduler.js'

declare module 'fastify' {
  interface FastifyInstance {
    schedules: Scheduler
  }
}

/** toad-scheduler through @fastify/schedule; ticks only enqueue jobs. */
export default fp(async (app) => {
  await app.register(fastifySchedule)
  const disabled = new Set(app.config.SCHEDULES_DISABLED.split(',').map((s) => s.trim()).filter(Boolean))
  app.decorate('schedules', createScheduler(app.scheduler, app.jobs, app.mongo.db, app.log.child({ component: 'scheduler' }), disabled))
}, { name: 'schedules', dependencies: ['config', 'mongo', 'jobs'] })
