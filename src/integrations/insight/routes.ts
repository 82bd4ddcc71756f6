import type { FastifyInstance } from 'fastify'
import { ErrorResponse, httpError, IdempotencyHeaders, JobAccepted, type ErrorDetail, type IntegrationJobs } from '../../integration.js'
import { isCalendarDate, spanDays } from './dates.js'
import type { SyncParams } from './sync.js'

const FIELDS = new Set(['from', 'to', 'dateField', 'dryRun'])

/** Checks a trigger body; every problem names its field. An absent or empty body means the default run. */
export function parseSyncBody (body: unknown, maxRangeDays: number): SyncParams {
  if (body === undefined || body === null || body === '') return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw httpError(400, 'invalid request: body must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }])
  const input = body as Record<string, unknown>
  const problems: ErrorDetail[] = []
  for (const key of Object.keys(input)) if (!FIELDS.has(key)) problems.push({ field: key, message: 'is not a known field (from, to, dateField, dryRun)' })
  for (const key of ['from', 'to'] as const) {
    const value = input[key]
    if (value !== undefined && (typeof value !== 'string' || !isCalendarDate(value))) problems.push({ field: key, message: 'must be a date YYYY-MM-DD' })
  }
  if ((input.from === undefined) !== (input.to === undefined)) {
    problems.push({ field: input.from === undefined ? 'from' : 'to', message: 'from and to must be given together' })
  }
  if (input.dateField !== undefined && input.dateField !== 'creation' && input.dateField !== 'ship') problems.push({ field: 'dateField', message: 'must be "creation" or "ship"' })
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') problems.push({ field: 'dryRun', message: 'must be true or false' })
  if (problems.length === 0 && typeof input.from === 'string' && typeof input.to === 'string') {
    if (input.from > input.to) problems.push({ field: 'from', message: `must not be after to (${input.to})` })
    else if (spanDays(input.from, input.to) > maxRangeDays) problems.push({ field: 'to', message: `the range spans ${spanDays(input.from, input.to)} days; at most ${maxRangeDays} (INSIGHT_MAX_RANGE_DAYS)` })
  }
  if (problems.length > 0) throw httpError(400, `invalid request: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems)
  return {
    ...(typeof input.from === 'string' ? { from: input.from, to: input.to as string } : {}),
    ...(input.dateField === undefined ? {} : { dateField: input.dateField as 'creation' | 'ship' }),
    ...(input.dryRun === undefined ? {} : { dryRun: input.dryRun as boolean })
  }
}

export function insightRoutes (jobs: IntegrationJobs, maxRangeDays: number) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/insight/sync', {
      schema: {
        tags: ['insight'],
        headers: IdempotencyHeaders,
        response: { 200: JobAccepted, 202: JobAccepted, 400: ErrorResponse }
      }
    }, async (request, reply) => {
      const params = parseSyncBody(request.body, maxRangeDays)
      const { body } = await jobs.trigger(request, reply, 'insight.sync', { ...params })
      return body
    })
  }
}
