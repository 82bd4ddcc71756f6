import { STATUS_CODES } from 'node:http'
import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { MongoError } from 'mongodb'
import { HttpError, type ErrorDetail } from '../lib/http-errors.js'
import { isRetryableStorageError } from '../lib/mongo-errors.js'
import { storageUnavailable } from '../lib/storage-deadline.js'
import { describeValidation } from '../lib/validation-messages.js'

/**
 * One JSON error shape for every failure: {statusCode, error, message, details?}. Validation errors list
 * each offending field; 5xx answers never carry internal messages (they are logged with the request id).
 */
export default fp(async (app) => {
  app.setErrorHandler((thrown: FastifyError, request, reply) => {
    // MongoDB busy or away is the caller's cue to come back later, not a fault of the gateway.
    const away = thrown instanceof MongoError && request.server.storage?.reachable() === false
    const storage = !(thrown instanceof HttpError) && (isRetryableStorageError(thrown) || away)
    if (storage) request.log.warn({ err: { name: thrown.name, message: thrown.message } }, 'storage unavailable for a request')
    const err = (storage ? storageUnavailable() : thrown) as FastifyError
    let statusCode = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500)
    if (statusCode < 400 || statusCode > 599) statusCode = 500
    let details: ErrorDetail[] | undefined = err instanceof HttpError ? err.details : undefined
    let message = err.message
    if (err.validation !== undefined) {
      statusCode = 400
      details = err.validation.map((v) => describeValidation(v, err.validationContext))
      message = `invalid request: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`
    }
    if (err instanceof HttpError) reply.headers(err.headers)
    if (statusCode >= 500 && !(err instanceof HttpError)) {
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

  // Route patterns seen so far, to tell "no such route" (404) from "wrong method" (405 with Allow).
  const patterns: Array<{ regex: RegExp, methods: Set<string> }> = []
  app.addHook('onRoute', (route) => {
    const source = `^${route.url.split('/').map((part) => part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')}$`
    let entry = patterns.find((p) => p.regex.source === source)
    if (entry === undefined) {
      entry = { regex: new RegExp(source), methods: new Set() }
      patterns.push(entry)
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) entry.methods.add(method)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = new Set<string>()
    for (const { regex, methods } of patterns) if (regex.test(path)) for (const m of methods) allowed.add(m)
    if (allowed.size > 0) {
      return reply.code(405).header('allow', [...allowed].sort().join(', ')).send({
        statusCode: 405, error: 'Method Not Allowed', message: `${request.method} is not allowed on ${path}; use ${[...allowed].sort().join(', ')}`
      })
    }
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${path}` })
  })
}, { name: 'errors' })
