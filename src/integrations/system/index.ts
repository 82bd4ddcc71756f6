import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { Integration } from '../../integration.js'
import { triggerJob } from '../../jobs/http.js'
import { createJobStore } from '../../jobs/store.js'
import { DAY_MS } from '../../lib/duration.js'
import { ErrorResponse, IdempotencyHeaders, JobAccepted } from '../../schemas/common.js'

const config = {
  JOBS_PURGE_CRON: Type.String({ default: '30 3 * * *', description: 'When system.purge-jobs runs (cron, UTC); `off` disables it.' })
}

/**
 * Housekeeping built into the gateway. MongoDB TTL indexes are not available on every server we support,
 * so finished jobs and old idempotency keys are removed by this scheduled job.
 */
export const systemIntegration: Integration = {
  name: 'system',
  config,
  setup ({ config, db }) {
    const store = createJobStore(db, { maxAttempts: config.JOBS_MAX_ATTEMPTS })
    const retentionMs = config.JOBS_RETENTION_DAYS * DAY_MS
    const cron = String(config.JOBS_PURGE_CRON)
    return {
      jobs: {
        'system.purge-jobs': {
          description: 'Deletes finished jobs and idempotency keys older than JOBS_RETENTION_DAYS.',
          maxAttempts: 3,
          timeoutMs: 10 * 60_000,
          exclusive: 'system.purge-jobs',
          async handler ({ log }) {
            const before = new Date(Date.now() - retentionMs)
            const deleted = await store.purge(before)
            log.info({ before, ...deleted }, 'purged old jobs')
            return { before: before.toISOString(), deletedJobs: deleted.jobs, deletedKeys: deleted.keys }
          }
        }
      },
      schedules: [{
        id: 'system.purge-jobs',
        kind: 'system.purge-jobs',
        cron: cron === 'off' ? '30 3 * * *' : cron,
        timezone: 'UTC',
        enabled: cron !== 'off',
        description: 'Daily clean-up of finished jobs'
      }],
      async routes (app: FastifyInstance) {
        app.post('/system/purge-jobs', {
          schema: {
            tags: ['system'],
            headers: IdempotencyHeaders,
            response: { 200: JobAccepted, 202: JobAccepted, 400: ErrorResponse }
          }
        }, async (request, reply) => {
          const { body } = await triggerJob(request, reply, 'system.purge-jobs', {}, { dedupeKey: 'manual' })
          return body
        })
      }
    }
  }
}
