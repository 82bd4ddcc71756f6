import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JobStateError } from '../jobs/service.js'
import { decodeCursor, encodeCursor, jobView, pollHintSeconds } from '../jobs/view.js'
import Type from 'typebox'
import { answer, ErrorResponse, JobAccepted, TriggerBody } from '../schemas/common.js'
import { JobIdParams, JobList, JobView, ListJobsQuery } from '../schemas/jobs.js'
import { httpError, invalidRequest } from '../lib/http-errors.js'

const NotFound = answer('No job with this id.', ErrorResponse)
const Conflict = (description: string) => answer(description, ErrorResponse)
const Location = Type.String({ description: 'Same as statusUrl.' })

/** The status API dashboards poll, plus retry and cancel. */
const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/jobs', {
    schema: {
      tags: ['jobs'],
      summary: 'List jobs, newest first',
      description: 'Cursor pagination stays stable while new jobs are inserted.',
      querystring: ListJobsQuery,
      response: { 200: answer('One page of jobs.', JobList) }
    }
  }, async (request) => {
    const { kind, status, limit, cursor } = request.query
    const position = cursor === undefined ? undefined : decodeCursor(cursor)
    if (position === null) throw invalidRequest([{ field: 'querystring/cursor', message: 'must be a nextCursor this API returned' }])
    const rows = await app.jobs.list({
      limit: limit + 1,
      ...(kind === undefined ? {} : { kind }),
      ...(status === undefined ? {} : { status }),
      ...(position === undefined ? {} : { cursor: position })
    })
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    return { data: page.map(jobView), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null }
  })

  app.get('/jobs/:id', {
    schema: {
      tags: ['jobs'],
      summary: 'One job',
      params: JobIdParams,
      response: {
        200: answer('The job. While it is queued or running, `Retry-After` says when to poll again.', JobView, {
          headers: { 'Retry-After': Type.Integer({ description: 'Seconds until the next poll is worth it (queued or running jobs only).' }) }
        }),
        404: NotFound
      }
    }
  }, async (request, reply) => {
    const job = await app.jobs.get(request.params.id)
    if (job === null) throw httpError(404, `job ${request.params.id} not found`)
    const hint = pollHintSeconds(job)
    if (hint !== undefined) reply.header('retry-after', String(hint))
    return jobView(job)
  })

  app.post('/jobs/:id/retry', {
    schema: {
      tags: ['jobs'],
      summary: 'Run a failed or cancelled job again',
      description: 'Creates a new queued job with the same kind and params, linked by `retryOf` / `retriedBy`. A job is retried once: asking again (or twice at once) answers 200 with the existing retry. Takes no body (or an empty one).',
      params: JobIdParams,
      body: TriggerBody({}),
      response: {
        200: answer('The job was retried before: this is its retry.', JobAccepted, { headers: { Location } }),
        202: answer('The retry, queued. Poll `statusUrl`.', JobAccepted, { headers: { Location } }),
        404: NotFound,
        409: Conflict('The job is queued or running (only a failed or cancelled job can be retried).')
      }
    }
  }, async (request, reply) => {
    const retried = await guardState(() => app.jobs.retry(request.params.id, request.id))
    if (retried === null) throw httpError(404, `job ${request.params.id} not found`)
    const { job, created } = retried
    const statusUrl = `/jobs/${job._id}`
    // A job already retried answers with its retry (200), as a repeated Idempotency-Key does.
    reply.code(created ? 202 : 200).header('location', statusUrl)
    return { jobId: job._id, status: job.status, statusUrl }
  })

  app.post('/jobs/:id/cancel', {
    schema: {
      tags: ['jobs'],
      summary: 'Cancel a job',
      description: 'A queued job becomes `cancelled` at once. A running job gets `cancelRequested: true`; its handler is aborted (at once on this instance, at the next lease heartbeat elsewhere) and the job ends `cancelled`. 409 for a finished job, and for a queued one whose next claim a runner holds without starting or releasing it (a runner that died at that moment; recovery frees the claim within a lease): try again. Takes no body (or an empty one).',
      params: JobIdParams,
      body: TriggerBody({}),
      response: {
        200: answer('The job after the request.', JobView),
        404: NotFound,
        409: Conflict('The job has finished, or a runner holds its claim (try again).')
      }
    }
  }, async (request) => {
    const job = await guardState(() => app.jobs.cancel(request.params.id))
    if (job === null) throw httpError(404, `job ${request.params.id} not found`)
    return jobView(job)
  })
}

async function guardState<T> (action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err) {
    if (err instanceof JobStateError) throw httpError(409, err.message)
    throw err
  }
}

export default jobRoutes
