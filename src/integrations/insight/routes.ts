import type { FastifyInstance } from 'fastify'
import Type, { type Static } from 'typebox'
import { IdempotencyHeaders, invalidRequest, TriggerAnswers, TriggerBody, type IntegrationJobs } from '../../integration.js'
import { spanDays } from './dates.js'
import type { SyncParams } from './sync.js'

const DATE_FIELDS = ['creation', 'ship'] as const

const SyncBody = TriggerBody({
  from: Type.Optional(Type.String({ format: 'date', examples: ['2026-04-01'] })),
  to: Type.Optional(Type.String({ format: 'date', examples: ['2026-04-10'] })),
  dateField: Type.Optional(Type.Enum(DATE_FIELDS, { description: 'Filter on OrderCreationDate or ShipDate (default INSIGHT_DATE_FIELD).' })),
  dryRun: Type.Optional(Type.Boolean({ description: 'Read Insight and Oomnitza but write nothing upstream (default false).' }))
}, {
  $id: 'InsightSyncBody',
  description: '`from` and `to` go together: inclusive, from ≤ to, at most INSIGHT_MAX_RANGE_DAYS days. `null`, `{}` or no body at all: the default window.',
  dependentRequired: { from: ['to'], to: ['from'] }
})

const Counts = Type.Integer()

/** The `result` of an insight.sync job (SyncResult in sync.ts). */
const SyncResult = Type.Object({
  runId: Type.String(),
  dryRun: Type.Boolean(),
  dateField: Type.Enum(DATE_FIELDS),
  from: Type.String({ format: 'date' }),
  to: Type.String({ format: 'date' }),
  windows: Type.Array(Type.Object({
    from: Type.String({ format: 'date' }),
    to: Type.String({ format: 'date' }),
    orders: Counts,
    error: Type.Optional(Type.String())
  })),
  windowsQueried: Counts,
  windowsFailed: Counts,
  orders: Counts,
  serials: Type.Integer({ description: 'Distinct trimmed serials found.' }),
  assets: Type.Object({ created: Counts, updated: Counts, unchanged: Counts, skipped: Counts, failed: Counts }),
  skipped: Type.Record(Type.String(), Type.Integer(), { description: 'Counts per reason: notShipped (lines), noSerials (deliveries), emptySerial, duplicate, conflict (several Oomnitza assets share the serial).' }),
  conflicts: Type.Array(Type.String()),
  failed: Type.Array(Type.Object({ serial: Type.String(), error: Type.String() })),
  failedTruncated: Type.Boolean(),
  warnings: Type.Array(Type.String()),
  wouldCreate: Type.Optional(Type.Array(Type.Record(Type.String(), Type.String()), { description: 'Dry run only: the first INSIGHT_DRY_RUN_SAMPLE payloads that would be written.' })),
  wouldUpdate: Type.Optional(Type.Array(Type.Object({
    equipment_id: Type.String(),
    serial_number: Type.String(),
    changes: Type.Record(Type.String(), Type.String())
  }), { description: 'Dry run only.' })),
  seconds: Type.Number()
}, { $id: 'InsightSyncResult', description: 'The `result` of an insight.sync job (also kept on a failed job, as far as the run got).' })

/**
 * The job params of a body the schema accepted. What JSON Schema does not say well is checked here, in the same
 * error style: the range must not run backwards, nor span more than INSIGHT_MAX_RANGE_DAYS days.
 */
export function syncParams (body: Static<typeof SyncBody>, maxRangeDays: number): SyncParams {
  if (body === null || body === undefined) return {}
  const { from, to, dateField, dryRun } = body
  if (from !== undefined && to !== undefined) {
    if (from > to) throw invalidRequest([{ field: 'from', message: `must not be after to (${to})` }])
    const days = spanDays(from, to)
    if (days > maxRangeDays) throw invalidRequest([{ field: 'to', message: `must be within ${maxRangeDays} days of from, both included (INSIGHT_MAX_RANGE_DAYS); this range spans ${days} days` }])
  }
  return {
    ...(from !== undefined && to !== undefined ? { from, to } : {}),
    ...(dateField === undefined ? {} : { dateField }),
    ...(dryRun === undefined ? {} : { dryRun })
  }
}

export function insightRoutes (jobs: IntegrationJobs, maxRangeDays: number) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/insight/sync', {
      schema: {
        tags: ['insight'],
        summary: 'Sync shipped Insight serials into Oomnitza assets (job insight.sync)',
        description: 'Enqueues `insight.sync`; two syncs never overlap. Without `from`/`to` the run uses the previous UTC day widened by `INSIGHT_LOOKBACK_DAYS`, computed when the run starts. Serials exist only once an order ships, so a creation-date window of yesterday mostly finds unshipped orders: prefer `dateField: ship` (the default, `INSIGHT_DATE_FIELD`) or a look-back. `dryRun: true` reads Insight and Oomnitza but writes nothing upstream. The job\'s `result` is an `InsightSyncResult`.',
        headers: IdempotencyHeaders,
        body: SyncBody,
        response: TriggerAnswers,
        'x-job-result': SyncResult
      }
    }, async (request, reply) => {
      const params = syncParams(request.body as Static<typeof SyncBody>, maxRangeDays)
      const { body } = await jobs.trigger(request, reply, 'insight.sync', { ...params })
      return body
    })
  }
}
