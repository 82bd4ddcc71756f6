import { setTimeout as sleep } from 'node:timers/promises'
import multipart from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import type { Integration } from '../../src/integration.js'
import { PermanentError } from '../../src/jobs/errors.js'
import { triggerJob } from '../../src/jobs/http.js'
import type { JobContext } from '../../src/jobs/types.js'
import { httpError } from '../../src/lib/http-errors.js'

/**
 * Stand-ins for the four integrations while they live on other branches: the same trigger routes, job kinds,
 * schedules and 202 answers, with handlers that do a few seconds of visible, progress-reporting work instead
 * of talking to an upstream. The dashboard under test is real; only what it looks at is simplified.
 */
export interface StandInControls {
  /** While true, tracos.run fails the way an upstream outage does (so a failed job can be retried). */
  tracosDown: boolean
}

/** Steps of `stepMs` with progress after each: slow enough for a browser to watch the bar move. */
async function work ({ progress, signal }: JobContext, steps: number, stepMs: number, message: (i: number) => string): Promise<void> {
  progress(0, steps, 'starting')
  for (let i = 1; i <= steps; i++) {
    await sleep(stepMs, undefined, { signal })
    progress(i, steps, message(i))
  }
}

export function dashboardStandIns (controls: StandInControls, stepMs = 600): Integration[] {
  const odoo: Integration = {
    name: 'odoo',
    setup: () => ({
      jobs: {
        'odoo.sync-csv': {
          async handler (ctx) {
            // Long enough that a page polling every 2 s sees the bar at several points even on a busy machine.
            await work(ctx, 12, stepMs + 150, (i) => `employees page ${i} of 12`)
            return { employees: 40, written: 40, departments: 6 }
          }
        },
        'odoo.employee-events': { handler: async () => ({ events: 0 }) }
      },
      schedules: [{ id: 'odoo.sync-csv', kind: 'odoo.sync-csv', cron: '0 2 * * *', timezone: 'UTC' }],
      async routes (app: FastifyInstance) {
        app.post('/odoo/sync-csv', async (request, reply) => {
          const { body } = await triggerJob(request, reply, 'odoo.sync-csv', {}, { dedupeKey: 'manual' })
          return { success: true, message: 'Odoo CSV sync queued', ...body }
        })
      }
    })
  }

  const tracos: Integration = {
    name: 'tracos',
    setup: () => ({
      jobs: {
        'tracos.run': {
          maxAttempts: 1,
          async handler (ctx) {
            await work(ctx, 3, stepMs, (i) => `work orders batch ${i}`)
            if (controls.tracosDown) throw new PermanentError('TracOS upstream answered 503 Service Unavailable', { code: 'UPSTREAM_UNAVAILABLE' })
            return { direction: ctx.params.direction ?? 'both', inbound: 12, outbound: 7, skipped: 1 }
          }
        }
      },
      schedules: [{ id: 'tracos.run', kind: 'tracos.run', everyMs: 15 * 60_000, params: { direction: 'both' } }],
      async routes (app: FastifyInstance) {
        app.post('/tracos/run', {
          schema: { body: Type.Optional(Type.Object({ direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('both')])) })) }
        }, async (request, reply) => {
          const direction = (request.body as { direction?: string } | undefined)?.direction ?? 'both'
          const { body } = await triggerJob(request, reply, 'tracos.run', { direction })
          return { success: true, message: `TracOS ${direction} run queued`, ...body }
        })
      }
    })
  }

  const bobo: Integration = {
    name: 'bobo',
    setup: () => ({
      jobs: {
        'bobo.process': {
          async handler (ctx) {
            const rows = Number(ctx.params.rows)
            await work(ctx, Math.max(1, Math.min(rows, 5)), stepMs, (i) => `rows batch ${i}`)
            return { rows, alertsSent: rows, skipped: 0 }
          }
        },
        'bobo.mapping-sync': { handler: async () => ({ mappings: 3 }) },
        'bobo.cleanup': { handler: async () => ({ deletedFiles: 0 }) }
      },
      schedules: [
        { id: 'bobo.mapping-sync', kind: 'bobo.mapping-sync', cron: '15 * * * *', timezone: 'UTC' },
        { id: 'bobo.cleanup', kind: 'bobo.cleanup', cron: '0 4 * * *', timezone: 'UTC' }
      ],
      async routes (app: FastifyInstance) {
        await app.register(multipart, { limits: { fileSize: 1_000_000, files: 5 } })
        app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
        // Like the real route: one raw text/csv body or the file parts of a multipart form.
        app.post('/bobo/upload', async (request, reply) => {
          const files: Array<{ name: string | null, text: string }> = []
          if (request.isMultipart()) {
            for await (const part of request.files()) files.push({ name: part.filename || null, text: (await part.toBuffer()).toString('utf8') })
          } else if (Buffer.isBuffer(request.body)) {
            files.push({ name: null, text: request.body.toString('utf8') })
          }
          if (files.length === 0) throw httpError(400, 'send the CSV as text/csv or multipart/form-data', [{ field: 'body', message: 'must be CSV or multipart' }])
          const rows = files.map((f) => Math.max(0, f.text.split(/\r?\n/).filter((line) => line.trim() !== '').length - 1))
          const { body } = await triggerJob(request, reply, 'bobo.process', { rows: rows.reduce((a, b) => a + b, 0), fileName: files[0]?.name ?? null }, { dedupeKey: 'bobo.process' })
          return { files: files.map((f, i) => ({ originalName: f.name, rows: rows[i] })), ...body }
        })
      }
    })
  }

  const insight: Integration = {
    name: 'insight',
    setup: () => ({
      jobs: {
        'insight.sync': {
          async handler (ctx) {
            const dryRun = ctx.params.dryRun === true
            await work(ctx, 4, stepMs, (i) => `${dryRun ? 'checking' : 'writing'} orders page ${i}`)
            return { dryRun, orders: 9, serials: 14, [dryRun ? 'wouldWrite' : 'written']: 14 }
          }
        }
      },
      schedules: [{ id: 'insight.sync', kind: 'insight.sync', cron: '30 5 * * *', timezone: 'UTC' }],
      async routes (app: FastifyInstance) {
        app.post('/insight/sync', {
          schema: {
            body: Type.Object({
              from: Type.Optional(Type.String({ format: 'date' })),
              to: Type.Optional(Type.String({ format: 'date' })),
              dateField: Type.Optional(Type.Union([Type.Literal('creation'), Type.Literal('ship')])),
              dryRun: Type.Optional(Type.Boolean())
            }, { additionalProperties: false })
          }
        }, async (request, reply) => {
          const params = request.body as { from?: string, to?: string, dateField?: string, dryRun?: boolean }
          if (params.from !== undefined && params.to !== undefined && params.from > params.to) {
            throw httpError(400, 'from is after to', [{ field: 'body/from', message: 'must not be after to' }])
          }
          const { body } = await triggerJob(request, reply, 'insight.sync', { ...params, dryRun: params.dryRun === true })
          return { success: true, message: `Insight sync queued${params.dryRun === true ? ' (dry run)' : ''}`, ...body }
        })
      }
    })
  }

  return [odoo, tracos, bobo, insight]
}
