import { resolve } from 'node:path'
import { DAY_MS, defineIntegration, parseDuration, removeAbandonedTempFiles } from '../../integration.js'
import { createAthocClient } from './athoc-client.js'
import { createCleanup } from './cleanup.js'
import { boboConfig } from './config.js'
import { createIntake } from './intake.js'
import { createMappingSync } from './mapping-sync.js'
import { createProcessor } from './processor.js'
import { createProcessedRetention } from './retention.js'
import { boboRoutes } from './routes.js'
import { boboSandbox } from './sandbox/index.js'
import { createBoboStore } from './store.js'
import { checkTimeZone } from './time.js'

export interface BoboOptions {
  /** The clock for schedule rules, cleanup cutoffs and record times; tests pass a controllable one. */
  now?: () => Date
}

/**
 * BOBO book-on/book-off → BlackBerry AtHoc duty field: CSV intake (upload and drop folder), batched
 * SyncByCommonNames with latest-wins, employee → login mapping sync, and stale-value cleanup.
 */
export function createBoboIntegration (options: BoboOptions = {}) {
  return defineIntegration({
    name: 'bobo',
    title: 'BOBO → AtHoc',
    summary: 'Book-on/book-off CSVs (uploaded or dropped in a folder) set the duty field of AtHoc users, batched, latest event wins.',
    config: boboConfig,
    dashboard: {
      counts: { files: 'files', processed: 'processed', retry: 'to retry', failed: 'failed', usersSent: 'users sent', athocCalls: 'AtHoc calls' },
      action: { label: 'Upload and process', route: 'bobo/upload', fields: [{ name: 'file', label: 'CSV file', type: 'file', accept: '.csv,text/csv' }] }
    },
    sandbox: boboSandbox,
    setup ({ config, db, jobs, log, upstream }) {
      const now = options.now ?? (() => new Date())
      try {
        checkTimeZone(config.BOBO_TIMEZONE)
      } catch {
        throw new Error(`BOBO_TIMEZONE=${JSON.stringify(config.BOBO_TIMEZONE)} is not a known IANA time zone (e.g. UTC, Europe/London)`)
      }
      const store = createBoboStore(db)
      const athoc = createAthocClient({
        baseUrl: config.ATHOC_URL,
        orgCode: config.ATHOC_ORG_CODE,
        clientId: config.ATHOC_CLIENT_ID,
        clientSecret: config.ATHOC_CLIENT_SECRET,
        username: config.ATHOC_USERNAME,
        password: config.ATHOC_PASSWORD,
        scope: config.ATHOC_SCOPE,
        tlsInsecure: config.ATHOC_TLS_INSECURE,
        timeoutMs: config.ATHOC_TIMEOUT_MS,
        retries: config.ATHOC_RETRIES,
        retryBaseMs: config.ATHOC_RETRY_BASE_MS,
        retryMaxWaitMs: config.ATHOC_RETRY_MAX_WAIT_MS,
        pageSize: config.ATHOC_PAGE_SIZE,
        pagingMode: config.ATHOC_PAGING_MODE,
        upstream
      })
      const dirs = {
        incomingDir: resolve(config.BOBO_INCOMING_DIR),
        processedDir: resolve(config.BOBO_PROCESSED_DIR),
        failedDir: resolve(config.BOBO_FAILED_DIR)
      }
      const processor = createProcessor({
        store,
        athoc,
        log,
        options: {
          ...dirs,
          stableMs: config.BOBO_STABLE_MS,
          maxFiles: config.BOBO_MAX_FILES_PER_BATCH,
          maxRetries: config.BOBO_MAX_RETRIES,
          timeZone: config.BOBO_TIMEZONE,
          dutyField: config.ATHOC_DUTY_FIELD,
          chunkSize: config.ATHOC_SYNC_CHUNK,
          now
        }
      })
      const mappingSync = createMappingSync({
        store,
        athoc,
        collarField: config.ATHOC_COLLAR_FIELD,
        rules: { syncHour: config.BOBO_SYNC_HOUR, retryDays: config.BOBO_SYNC_RETRY_DAYS, timeZone: config.BOBO_TIMEZONE },
        now
      })
      const cleanup = createCleanup({ athoc, dutyField: config.ATHOC_DUTY_FIELD, hours: config.BOBO_AUTO_CLEANUP_HOURS, timeZone: config.BOBO_TIMEZONE, chunkSize: config.ATHOC_SYNC_CHUNK, now })
      const retention = createProcessedRetention({ store, processedDir: dirs.processedDir, days: config.BOBO_PROCESSED_RETENTION_DAYS, now })
      const intake = createIntake({ store, incomingDir: dirs.incomingDir, timeZone: config.BOBO_TIMEZONE, now })

      const athocConfigured = config.ATHOC_URL !== ''
      const pollMs = parseDuration(config.BOBO_POLL_INTERVAL)
      const cleanupMs = parseDuration(config.BOBO_CLEANUP_INTERVAL)
      return {
        init: async () => {
          await store.init()
          // Temp files of uploads interrupted by a crash (their writer is gone) are removed at start.
          await removeAbandonedTempFiles(dirs.incomingDir)
        },
        close: athoc.close,
        jobs: {
          'bobo.process': {
            description: 'Processes every CSV waiting in BOBO_INCOMING_DIR as one batch into AtHoc (latest event per employee wins).',
            exclusive: 'bobo.duty-field',
            maxAttempts: 3,
            timeoutMs: 15 * 60_000,
            handler: async ({ job, log, signal, progress }) => processor.run({ jobId: job._id, log, signal, progress })
          },
          'bobo.mapping-sync': {
            description: 'Refreshes employee id → AtHoc login mappings when the schedule rules say so (or always when forced).',
            exclusive: 'bobo.mapping-sync',
            maxAttempts: 1,
            timeoutMs: 15 * 60_000,
            handler: async ({ log, signal, params }) => mappingSync.run({ log, signal, force: params.force === true })
          },
          'bobo.cleanup': {
            description: 'Clears duty values older than BOBO_AUTO_CLEANUP_HOURS in AtHoc.',
            exclusive: 'bobo.duty-field',
            maxAttempts: 3,
            timeoutMs: 15 * 60_000,
            handler: async ({ log, signal }) => cleanup.run({ log, signal })
          },
          'bobo.purge-processed': {
            description: 'Deletes processed files, their records and processing-log entries older than BOBO_PROCESSED_RETENTION_DAYS.',
            maxAttempts: 3,
            timeoutMs: 15 * 60_000,
            handler: async ({ log }) => retention.run({ log })
          }
        },
        schedules: [
          { id: 'bobo.process', kind: 'bobo.process', everyMs: Math.max(1000, pollMs ?? 60_000), enabled: athocConfigured && pollMs !== null, description: 'Picks up CSV files in the drop folder' },
          { id: 'bobo.mapping-sync', kind: 'bobo.mapping-sync', everyMs: Math.max(1000, pollMs ?? 60_000), enabled: athocConfigured && pollMs !== null, description: 'Checks the mapping-sync rules (first run, overdue, retry after no_data/error, daily after BOBO_SYNC_HOUR)' },
          { id: 'bobo.cleanup', kind: 'bobo.cleanup', everyMs: Math.max(1000, cleanupMs ?? 3_600_000), enabled: athocConfigured && cleanupMs !== null && config.BOBO_AUTO_CLEANUP_HOURS > 0, description: 'Clears stale AtHoc duty values' },
          { id: 'bobo.purge-processed', kind: 'bobo.purge-processed', everyMs: DAY_MS, enabled: config.BOBO_PROCESSED_RETENTION_DAYS > 0, description: 'Deletes processed files older than BOBO_PROCESSED_RETENTION_DAYS' }
        ],
        routes: boboRoutes({ jobs, store, intake, maxBytes: config.BOBO_UPLOAD_MAX_BYTES, maxFiles: config.BOBO_UPLOAD_MAX_FILES, processOnUpload: config.BOBO_PROCESS_ON_UPLOAD })
      }
    }
  })
}

export const boboIntegration = createBoboIntegration()
