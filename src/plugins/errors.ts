import { STATUS_CODES } from 'node:http'
import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError, type ErrorDetail } from '../lib/http-errors.js'

/**
 * One JSON error shape for every failure: {statusCode, error, message, details?}. Validation errors list
 * each offending field; 5xx answers never carry internal messages (they are logged with the request id).
 */
export default fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let statusCode = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500)
    if (statusCode < 400 || statusCode > 599) statusCode = 500
    let details: ErrorDetail[] | undefined = err instanceof HttpError ? err.details : undefined
    let message = err.message
    if (err.validation !== undefined) {
      statusCode = 400
      details = err.validation.map((v) => {
        const missing = (v.params as { missingProperty?: string }).missingProperty
        const path = [err.validationContext, ...v.instancePath.split('/').filter(Boolean), ...(missing === undefined ? [] : [missing])]
        return { field: path.filter(Boolean).join('/'), message: v.message ?? 'is invalid' }
      })
      message = `invalid request: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`
    }
    if (statusCode >= 500) {
      request.log.error({ err }, 'request failed')
      message = 'internal error; see the gateway log for this request id'
      details = undefined
    } else {
      request.log.info({ statusCode, message }, 'request rejected')
    }
    if (statusCode === 429 || statusCode === 503) {
      const retryAfter = reply.getHeader('retry-after')
      if (retryAfter === undefined) reply.header('retry-after', '1')
    }
    return reply.code(statusCode).send({
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message,
      ...(details === undefined ? {} : { details })
    })
  })

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })
}, { name: 'errors' })
