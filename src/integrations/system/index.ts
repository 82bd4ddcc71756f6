import { DAY_MS, defineIntegration } from '../../integration.js'
import { systemConfig } from './config.js'
import { systemRoutes } from './routes.js'

/**
 * Housekeeping built into the gateway. MongoDB TTL indexes are not available on every server we support,
 * so finished jobs and old idempotency keys are removed by this scheduled job.
 */
export const systemIntegration = defineIntegration({
  name: 'system',
  title: 'System',
  summary: 'Housekeeping: finished jobs and used keys older than JOBS_RETENTION_DAYS are deleted daily.',
  config: systemConfig,
  dashboard: {
    counts: { deletedJobs: 'jobs deleted', deletedKeys: 'keys deleted' },
    action: { label: 'Purge old jobs now', route: 'system/purge-jobs' }
  },
  setup ({ config, core, jobs }) {
    const retentionMs = core.JOBS_RETENTION_DAYS * DAY_MS
    const cron = config.JOBS_PURGE_CRON
    return {
      jobs: {
        'system.purge-jobs': {
          description: 'Deletes finished jobs and idempotency keys older than JOBS_RETENTION_DAYS.',
          maxAttempts: 3,
          timeoutMs: 10 * 60_000,
          exclusive: 'system.purge-jobs',
          async handler ({ log }) {
            const before = new Date(Date.now() - retentionMs)
            const deleted = await jobs.purge(before)
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
      routes: systemRoutes(jobs)
    }
  }
})
