import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { Integration } from '../../integration.js'
import { PermanentError, RetryableError, errorMessage } from '../../jobs/errors.js'
import { triggerJob } from '../../jobs/http.js'
import { DAY_MS, DURATION_PATTERN, parseDuration } from '../../lib/duration.js'
import { httpError } from '../../lib/http-errors.js'
import { ErrorResponse, IdempotencyHeaders, JobAccepted } from '../../schemas/common.js'
import { createArchiveRetention } from './archive-retention.js'
import { createClientFiles, type InboundAfter, type OutboundFlush } from './client-files.js'
import { MongoUnavailableError } from './retry.js'
import { createTracosSync, type Direction } from './sync.js'
import { createWorkOrders } from './workorders.js'

const config = {
  TRACOS_INBOUND_DIR: Type.String({ default: 'data/inbound', description: 'Folder the client ERP drops work-order JSON files into.' }),
  TRACOS_OUTBOUND_DIR: Type.String({ default: 'data/outbound', description: 'Folder `workorder_{number}.json` files are written to for the client.' }),
  TRACOS_ARCHIVE_DIR: Type.String({ default: 'data/archive', description: 'Where imported inbound files go when TRACOS_INBOUND_AFTER=archive.' }),
  TRACOS_REJECTED_DIR: Type.String({ default: 'data/rejected', description: 'Where invalid inbound files go, each with a `<name>.error.json` report.' }),
  TRACOS_INBOUND_AFTER: Type.Enum(['archive', 'keep', 'delete'], { default: 'archive', description: 'What happens to an imported inbound file: `archive`, `keep` or `delete`.' }),
  TRACOS_ARCHIVE_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 30, description: 'Archived inbound files older than this many days (since they were archived) are deleted daily by tracos.prune-archive; 0 keeps them all. Rejected files are never deleted.' }),
  TRACOS_SYNC_INTERVAL: Type.String({ pattern: DURATION_PATTERN, default: '60s', description: 'How often tracos.run (both directions) is scheduled; `off` disables it.' }),
  TRACOS_MONGODB_DB: Type.String({ default: '', description: 'Database holding the TracOS `workorders` collection; empty = MONGODB_DB.' }),
  TRACOS_COLLECTION: Type.String({ minLength: 1, default: 'workorders', description: 'TracOS work-order collection.' }),
  TRACOS_MONGO_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'Attempts per MongoDB operation on transient errors (network, not primary, SQLITE_BUSY).' }),
  TRACOS_MONGO_RETRY_DELAY_MS: Type.Integer({ minimum: 0, default: 500, description: 'First delay between MongoDB attempts; doubles per retry.' }),
  TRACOS_STABLE_MS: Type.Integer({ minimum: 0, default: 5000, description: 'An inbound file that is not valid JSON (or UTF-8) and was modified less than this long ago is left for the next run instead of being rejected: the client may still be writing it. 0 rejects at once.' }),
  TRACOS_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 20000, default: 10000, description: 'Files (inbound) or orders (outbound) handled per database round (each round reads the existing orders in one query).' }),
  TRACOS_FILE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 32, description: 'Outbound files written (TRACOS_OUTBOUND_FLUSH=file) or files moved at once. Inbound files are read with synchronous calls in short slices.' }),
  TRACOS_OUTBOUND_FLUSH: Type.Enum(['file', 'filesystem'], { default: 'file', description: 'How outbound temp files are made durable before their rename: `file` = one fdatasync each; `filesystem` = one syncfs (`sync -f`) per batch, far cheaper for big batches but it flushes every dirty page of that filesystem (falls back to `file` where `sync -f` is missing).' })
}

const DIRECTIONS = ['inbound', 'outbound', 'both'] as const

/**
 * TracOS ↔ client ERP work-order sync. TracOS is the MongoDB `workorders` collection; the client exchanges
 * JSON files through folders. One exclusive job, `tracos.run`, does inbound then outbound.
 */
export const tracosIntegration: Integration = {
  name: 'tracos',
  config,
  setup ({ config, db, log }) {
    const tracosDb = String(config.TRACOS_MONGODB_DB) === '' ? db : db.client.db(String(config.TRACOS_MONGODB_DB))
    const workOrders = createWorkOrders(tracosDb, {
      collection: String(config.TRACOS_COLLECTION),
      log,
      retry: {
        attempts: Number(config.TRACOS_MONGO_ATTEMPTS),
        delayMs: Number(config.TRACOS_MONGO_RETRY_DELAY_MS),
        onRetry: ({ operation, attempt, error }) => { log.warn({ operation, attempt, error: errorMessage(error) }, 'transient MongoDB error, retrying') }
      }
    })
    const concurrency = Number(config.TRACOS_FILE_CONCURRENCY)
    const files = createClientFiles({
      inboundDir: String(config.TRACOS_INBOUND_DIR),
      outboundDir: String(config.TRACOS_OUTBOUND_DIR),
      archiveDir: String(config.TRACOS_ARCHIVE_DIR),
      rejectedDir: String(config.TRACOS_REJECTED_DIR),
      after: config.TRACOS_INBOUND_AFTER as InboundAfter,
      concurrency,
      flush: config.TRACOS_OUTBOUND_FLUSH as OutboundFlush
    })
    const sync = createTracosSync(workOrders, files, {
      inboundDir: String(config.TRACOS_INBOUND_DIR),
      outboundDir: String(config.TRACOS_OUTBOUND_DIR),
      batchSize: Number(config.TRACOS_BATCH_SIZE),
      stableMs: Number(config.TRACOS_STABLE_MS)
    })
    const everyMs = parseDuration(String(config.TRACOS_SYNC_INTERVAL))
    const retentionDays = Number(config.TRACOS_ARCHIVE_RETENTION_DAYS)
    const archiveRetention = createArchiveRetention({ archiveDir: String(config.TRACOS_ARCHIVE_DIR), days: retentionDays, concurrency })

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
      async routes (app: FastifyInstance) {
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
          const { body: accepted } = await triggerJob(request, reply, 'tracos.run', { direction }, { dedupeKey: `run:${direction}` })
          return accepted
        })
      }
    }
  }
}
