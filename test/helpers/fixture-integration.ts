import { setTimeout as sleep } from 'node:timers/promises'
import { MongoServerError } from 'mongodb'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { defineIntegration } from '../../src/integration.js'
import { PermanentError, RetryableError } from '../../src/jobs/errors.js'

/**
 * A small integration used by the core's tests: real job kinds plugged in through the same contract as
 * the real integrations, so the engine under test is the real one.
 */
export const fixtureIntegration = defineIntegration({
  name: 'fixture',
  title: 'Fixture',
  summary: 'Test-only job kinds that exercise the engine.',
  config: {
    FIXTURE_SCHEDULE_MS: Type.Integer({ default: 0, description: 'test only: interval of fixture.tick, 0 = off' }),
    FIXTURE_WEBHOOK_SECRET: Type.String({ default: '', description: 'test only: Standard Webhooks secret(s) of /fixture/webhook' })
  },
  setup ({ config, db, jobs }) {
    const executions = db.collection<{ jobId: string, event: string, pid: number, at: Date }>('executions')
    const record = (jobId: string, event: string) => executions.insertOne({ jobId, event, pid: process.pid, at: new Date() })
    const scheduleMs = Number(config.FIXTURE_SCHEDULE_MS)
    return {
      jobs: {
        'fixture.noop': { handler: async () => ({ ok: true }) },
        'fixture.record': {
          async handler ({ job, params, signal }) {
            await record(job._id, 'started')
            const ms = Number(params.ms ?? 0)
            if (ms > 0) await sleep(ms, undefined, { signal })
            await record(job._id, 'completed')
            return { pid: process.pid }
          }
        },
        'fixture.sleep': {
          async handler ({ params, signal, progress }) {
            const steps = 10
            for (let i = 0; i < steps; i++) {
              progress(i, steps, `step ${i}`)
              await sleep(Number(params.ms ?? 1000) / steps, undefined, { signal })
            }
            return { slept: params.ms }
          }
        },
        'fixture.held': {
          // Waits until `holdMs` after it was created, taking `askMs` to say so; every question is recorded.
          async holdUntil (job) {
            await record(job._id, 'asked')
            await sleep(Number(job.params.askMs ?? 0))
            return new Date(job.createdAt.getTime() + Number(job.params.holdMs ?? 0))
          },
          async handler ({ job }) {
            await record(job._id, 'started')
            return { attempts: job.attempts }
          }
        },
        'fixture.flaky': {
          maxAttempts: 4,
          async handler ({ job, params }) {
            if (job.attempts <= Number(params.failTimes ?? 0)) throw new RetryableError(`flaky failure ${job.attempts}`, { code: 'FLAKY' })
            return { attempts: job.attempts }
          }
        },
        // What FerretDB on SQLite answers a writer while another holds the database: clears on its own.
        'fixture.storage-busy': {
          maxAttempts: 4,
          async handler ({ job, params }) {
            if (job.attempts <= Number(params.failTimes ?? 0)) throw new MongoServerError({ message: 'database is locked (5) (SQLITE_BUSY)', code: 1, codeName: 'InternalError' })
            return { attempts: job.attempts }
          }
        },
        'fixture.permanent': {
          async handler () { throw new PermanentError('the input is invalid', { code: 'BAD_INPUT' }) }
        },
        'fixture.crash': {
          async handler () { throw new TypeError('cannot read properties of undefined') }
        },
        'fixture.hang': {
          timeoutMs: 300,
          // Ignores its signal on purpose: the runner must still time it out.
          async handler () { await new Promise(() => {}) }
        },
        'fixture.exclusive-a': {
          exclusive: 'fixture.file',
          async handler ({ job, params }) {
            await record(job._id, 'started')
            await sleep(Number(params.ms ?? 200))
            await record(job._id, 'completed')
          }
        },
        'fixture.exclusive-b': {
          exclusive: 'fixture.file',
          async handler ({ job, params }) {
            await record(job._id, 'started')
            await sleep(Number(params.ms ?? 200))
            await record(job._id, 'completed')
          }
        }
      },
      schedules: [
        { id: 'fixture.tick', kind: 'fixture.noop', everyMs: scheduleMs > 0 ? scheduleMs : 60_000, enabled: scheduleMs > 0 },
        { id: 'fixture.daily', kind: 'fixture.noop', cron: '0 6 * * *', timezone: 'UTC' }
      ],
      async routes (app: FastifyInstance) {
        app.post('/fixture/trigger', {
          schema: {
            body: Type.Object({
              kind: Type.String(),
              params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
              dedupeKey: Type.Optional(Type.String())
            })
          }
        }, async (request, reply) => {
          const body = request.body as { kind: string, params?: Record<string, unknown>, dedupeKey?: string }
          const result = await jobs.trigger(request, reply, body.kind, body.params ?? {}, body.dedupeKey === undefined ? {} : { dedupeKey: body.dedupeKey })
          return result.body
        })
        app.post('/fixture/webhook', {
          config: { webhookSecret: String(config.FIXTURE_WEBHOOK_SECRET) },
          schema: { body: Type.Object({ event: Type.String() }) }
        }, async (request, reply) => {
          const result = await jobs.trigger(request, reply, 'fixture.noop', { event: (request.body as { event: string }).event }, { trigger: 'webhook' })
          return result.body
        })
      }
    }
  }
})
