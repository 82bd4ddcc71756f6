import type { FastifyInstance } from 'fastify'
import Type, { type Static } from 'typebox'
import { IdempotencyHeaders, TriggerAnswers, TriggerBody, type IntegrationJobs } from '../../integration.js'
import { DIRECTIONS } from './sync.js'

const Count = (description?: string) => Type.Integer(description === undefined ? {} : { description })

const RunBody = TriggerBody({
  direction: Type.Optional(Type.Enum(DIRECTIONS, { default: 'both', description: 'Which way to sync: files into TracOS, orders out to files, or both.' }))
}, { $id: 'TracosRunBody', description: '`null`, `{}` or no body at all: both directions.' })

/** The `result` of a tracos.run job (RunResult in sync.ts). */
const RunResult = Type.Object({
  direction: Type.Enum(DIRECTIONS),
  files: Count('Inbound files looked at.'),
  read: Count('Work orders read from valid files.'),
  inserted: Count(),
  updated: Count(),
  unchanged: Count('Orders whose content TracOS already held (not written, not re-exported).'),
  rejected: Count('Files moved to the rejected folder (with a `<name>.error.json` report).'),
  waiting: Count('Files left in the inbound folder for the next run: not valid JSON yet and modified less than TRACOS_STABLE_MS ago (the client may still be writing them).'),
  rejectedOrders: Count('Work orders in rejected files.'),
  duplicates: Count('Orders whose orderNo appeared in an earlier file of the same run (the later file wins).'),
  exported: Count(),
  exportFailed: Count('Orders that could not be exported (unknown status, unwritable folder); they stay unsynced.'),
  errors: Type.Array(Type.Object({
    file: Type.String(),
    problems: Type.Array(Type.Object({
      item: Type.Optional(Type.Integer({ description: 'Index in a file holding an array.' })),
      orderNo: Type.Optional(Type.Unknown()),
      field: Type.String(),
      message: Type.String()
    }))
  }), { description: 'Per-file problems (rejected files, files that could not be archived) and per-order export failures.' }),
  errorsTruncated: Type.Boolean({ description: 'True when more errors happened than `errors` lists.' }),
  phasesMs: Type.Record(Type.String(), Type.Integer(), { description: 'Wall-clock milliseconds the run spent per phase (phases overlap when pipelined, so they may add up to more than the run).' })
}, { $id: 'TracosRunResult', description: 'Result of a `tracos.run` job.' })

/** `POST /tracos/run` with an optional `{"direction": "inbound" | "outbound" | "both"}`. */
export function tracosRoutes (jobs: IntegrationJobs) {
  return async function routes (app: FastifyInstance): Promise<void> {
    app.post('/tracos/run', {
      schema: {
        tags: ['tracos'],
        summary: 'Sync TracOS work orders with the client ERP\'s files now',
        description: 'Enqueues job `tracos.run` (exclusive; a trigger while a run of the same direction is queued joins it). Inbound reads every `*.json` in TRACOS_INBOUND_DIR into the `workorders` collection (unchanged orders are left alone, invalid files go to TRACOS_REJECTED_DIR with a `<name>.error.json` report); outbound writes `workorder_{number}.json` for every order whose `isSynced` is not true and marks it synced. The job\'s `result` is a `TracosRunResult`.',
        headers: IdempotencyHeaders,
        body: RunBody,
        response: TriggerAnswers,
        'x-job-result': RunResult
      }
    }, async (request, reply) => {
      const direction = (request.body as Static<typeof RunBody>)?.direction ?? 'both'
      // Coalesced: while a run of the same direction is queued, a new trigger joins it.
      const { body: accepted } = await jobs.trigger(request, reply, 'tracos.run', { direction }, { dedupeKey: `run:${direction}` })
      return accepted
    })
  }
}
