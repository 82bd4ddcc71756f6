import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JobStateError } from '../jobs/service.js'
import { decodeCursor, encodeCursor, jobView, pollHintSeconds } from '../jobs/view.js'
import { ErrorResponse, JobAccepted } from '../schemas/common.js'
import { JobIdParams, JobList, JobView, ListJobsQuery } from '../schemas/jobs.js'
import { httpError } from '../lib/http-errors.js'

/** The status API dashboards poll, plus retry and cancel. */
const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/jobs', {
    schema: {
      tags: ['jobs'],
      querystring: ListJobsQuery,
      response: { 200: JobList, 400: ErrorResponse }
    }
  }, async (request) => {
    const { kind, status, limit, cursor } = request.query
    const position = cursor === undefined ? undefined : decodeCursor(cursor)
    if (position === null) throw httpError(400, 'cursor is not a value returned as nextCursor', [{ field: 'querystring/cursor', message: 'invalid cursor' }])
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
      params: JobIdParams,
      response: { 200: JobView, 404: ErrorResponse }
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
      params: JobIdParams,
      response: { 200: JobAccepted, 202: JobAccepted, 404: ErrorResponse, 409: ErrorResponse }
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
      params: JobIdParams,
      response: { 200: JobView, 404: ErrorResponse, 409: ErrorResponse }
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
