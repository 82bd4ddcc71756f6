import { DAY_MS, defineIntegration, errorMessage, parseDuration, PermanentError, RetryableError } from '../../integration.js'
import { createArchiveRetention } from './archive-retention.js'
import { createClientFiles } from './client-files.js'
import { tracosConfig } from './config.js'
import { MongoUnavailableError } from './retry.js'
import { tracosRoutes } from './routes.js'
import { tracosSandbox } from './sandbox/index.js'
import { createTracosSync, DIRECTIONS, type Direction } from './sync.js'
import { createWorkOrders } from './workorders.js'

/**
 * TracOS ↔ client ERP work-order sync. TracOS is the MongoDB `workorders` collection; the client exchanges
 * JSON files through folders. One exclusive job, `tracos.run`, does inbound then outbound.
 */
export const tracosIntegration = defineIntegration({
  name: 'tracos',
  title: 'TracOS ↔ client',
  summary: 'Work orders between TracOS (a MongoDB collection) and a client ERP that exchanges JSON files through folders, both ways.',
  config: tracosConfig,
  dashboard: {
    counts: { files: 'files read', inserted: 'orders imported', updated: 'orders updated', rejected: 'files rejected', exported: 'orders exported' },
    action: { label: 'Run now', route: 'tracos/run', fields: [{ name: 'direction', label: 'Direction', type: 'select', options: ['both', 'inbound', 'outbound'] }] }
  },
  sandbox: tracosSandbox,
  setup ({ config, db, jobs, log }) {
    const tracosDb = config.TRACOS_MONGODB_DB === '' ? db : db.client.db(config.TRACOS_MONGODB_DB)
    const workOrders = createWorkOrders(tracosDb, {
      collection: config.TRACOS_COLLECTION,
      log,
      retry: {
        attempts: config.TRACOS_MONGO_ATTEMPTS,
        delayMs: config.TRACOS_MONGO_RETRY_DELAY_MS,
        onRetry: ({ operation, attempt, error }) => { log.warn({ operation, attempt, error: errorMessage(error) }, 'transient MongoDB error, retrying') }
      }
    })
    const concurrency = config.TRACOS_FILE_CONCURRENCY
    const files = createClientFiles({
      inboundDir: config.TRACOS_INBOUND_DIR,
      outboundDir: config.TRACOS_OUTBOUND_DIR,
      archiveDir: config.TRACOS_ARCHIVE_DIR,
      rejectedDir: config.TRACOS_REJECTED_DIR,
      after: config.TRACOS_INBOUND_AFTER,
      concurrency,
      flush: config.TRACOS_OUTBOUND_FLUSH
    })
    const sync = createTracosSync(workOrders, files, {
      inboundDir: config.TRACOS_INBOUND_DIR,
      outboundDir: config.TRACOS_OUTBOUND_DIR,
      batchSize: config.TRACOS_BATCH_SIZE,
      stableMs: config.TRACOS_STABLE_MS
    })
    const everyMs = parseDuration(config.TRACOS_SYNC_INTERVAL)
    const retentionDays = config.TRACOS_ARCHIVE_RETENTION_DAYS
    const archiveRetention = createArchiveRetention({ archiveDir: config.TRACOS_ARCHIVE_DIR, days: retentionDays, concurrency })

    return {
      async init () {
        await workOrders.ensureIndexes()
      },
      jobs: {
        'tracos.run': {
          description: 'Imports client work-order files into TracOS, then exports unsynced TracOS work orders to files.',
          exclusive: 'tracos.run',
          maxAttempts: 3,
          timeoutMs: 30 * 60_000,
          async handler ({ params, log, signal, progress }) {
            const direction = (DIRECTIONS as readonly string[]).includes(String(params.direction)) ? params.direction as Direction : 'both'
            try {
              const result = await sync.run(direction, { log, signal, progress })
              log.info({ ...result, errors: result.errors.length }, 'tracos run finished')
              return result
            } catch (err) {
              if (signal.aborted) throw err
              // Readable one-line messages only, never a stack trace in the job result.
              if (err instanceof MongoUnavailableError) throw new RetryableError(err.message, { code: 'MONGO_UNAVAILABLE' })
              throw new PermanentError(errorMessage(err), { code: 'TRACOS_RUN_FAILED' })
            }
          }
        },
        'tracos.prune-archive': {
          description: 'Deletes archived inbound files older than TRACOS_ARCHIVE_RETENTION_DAYS.',
          exclusive: 'tracos.prune-archive',
          maxAttempts: 3,
          timeoutMs: 30 * 60_000,
          async handler ({ log, signal }) {
            if (retentionDays === 0) return { skipped: 'TRACOS_ARCHIVE_RETENTION_DAYS=0 keeps every archived file' }
            return archiveRetention.run({ log, signal })
          }
        }
      },
      schedules: [{
        id: 'tracos.prune-archive',
        kind: 'tracos.prune-archive',
        everyMs: DAY_MS,
        enabled: retentionDays > 0,
        description: 'Deletes archived inbound files older than TRACOS_ARCHIVE_RETENTION_DAYS'
      }, {
        id: 'tracos.run',
        kind: 'tracos.run',
        params: { direction: 'both' },
        // The scheduler's floor is 1 s.
        everyMs: Math.max(1000, everyMs ?? 60_000),
        enabled: everyMs !== null,
        description: 'TracOS ↔ client sync, both directions'
      }],
      routes: tracosRoutes(jobs)
    }
  }
})
