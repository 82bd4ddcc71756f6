import { STATUS_CODES } from 'node:http'
import { Ajv2020, type Options as AjvOptions } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { FastifyError, FastifyRequest, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import { MongoError } from 'mongodb'
import { HttpError, httpError, invalidRequest, type ErrorDetail } from '../lib/http-errors.js'
import { isRetryableStorageError } from '../lib/mongo-errors.js'
import { storageUnavailable } from '../lib/storage-deadline.js'
import { describeValidationErrors } from '../lib/validation-messages.js'
import { coreAnswers } from '../schemas/common.js'

/**
 * How requests are checked and refused, the same way on every route:
 * - the route's TypeBox schemas validate it (JSON Schema 2020-12, the dialect of the API document); a JSON body
 *   is checked as sent (`"5"` is not a number, `true` not an id), while the query string, path and headers are
 *   text, converted to the types their schemas name;
 * - a body whose media type the route does not accept (or one without a Content-Type) answers 415 naming the
 *   accepted types;
 * - every failure answers `{statusCode, error, message, details?}`: validation errors name each field and say
 *   what it must be, 5xx answers never carry internal messages (they are logged with the request id);
 * - every route's schema lists the error answers the core may give on it (see coreAnswers), so the API document
 *   generated from the routes shows them.
 */
export default fp(async (app) => {
  app.setValidatorCompiler(validatorCompiler())

  app.addHook('preParsing', async (request, _reply, payload) => {
    const accepted = acceptedMediaTypes(request.routeOptions.schema)
    if (accepted === null) return payload
    const { headers } = request
    const hasBody = headers['content-type'] !== undefined || headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0')
    if (hasBody && !accepted.includes(mediaTypeOf(headers['content-type']))) throw unsupportedMediaType(request, accepted)
    return payload
  })

  app.setErrorHandler((thrown: FastifyError, request, reply) => {
    // MongoDB busy or away is the caller's cue to come back later, not a fault of the gateway.
    const away = thrown instanceof MongoError && request.server.storage?.reachable() === false
    const storage = !(thrown instanceof HttpError) && (isRetryableStorageError(thrown) || away)
    if (storage) request.log.warn({ err: { name: thrown.name, message: thrown.message } }, 'storage unavailable for a request')
    const err = storage ? storageUnavailable() as HttpError : inGatewayTerms(thrown, request)
    let statusCode = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500)
    if (statusCode < 400 || statusCode > 599) statusCode = 500
    let details: ErrorDetail[] | undefined = err instanceof HttpError ? err.details : undefined
    let message = err.message
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
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) entry.methods.add(method)

    // The answers the core gives on this route join the ones the route declares (swagger-ui's assets aside).
    if (route.schema?.hide === true) return
    const schema = route.schema ?? {}
    const core = coreAnswers({ method: methods[0] ?? 'GET', url: route.url, access: route.config?.access, rateLimited: route.config?.rateLimit !== false, schema })
    route.schema = { ...schema, response: { ...core, ...(schema.response as object | undefined) } }
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

/** Fastify's own refusals (schema validation, body parsing) in the gateway's words. */
function inGatewayTerms (err: FastifyError, request: FastifyRequest): FastifyError | HttpError {
  if (err.validation !== undefined) return invalidRequest(describeValidationErrors(err.validation, err.validationContext))
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType(request, acceptedMediaTypes(request.routeOptions.schema) ?? ['application/json'])
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit
    return httpError(413, `the request body is larger than ${limit} bytes, the most this route accepts`, [{ field: 'body', message: `must be at most ${limit} bytes` }])
  }
  return err
}

function unsupportedMediaType (request: FastifyRequest, accepted: string[]): HttpError {
  const given = request.headers['content-type']
  const send = `send ${accepted.length > 1 ? `${accepted.slice(0, -1).join(', ')} or ${accepted[accepted.length - 1] as string}` : accepted[0] as string}`
  const message = given === undefined ? `the body has no Content-Type; ${send}` : `Content-Type ${mediaTypeOf(given)} is not accepted; ${send}`
  return httpError(415, message, [{ field: 'headers/content-type', message: `must be one of ${accepted.map((type) => JSON.stringify(type)).join(', ')}` }])
}

function mediaTypeOf (header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/**
 * The media types a route takes a body in: those its body schema lists under `content` (a route that reads its
 * body itself, like the BOBO upload), else JSON. Null for a route without a body schema (GET routes).
 */
export function acceptedMediaTypes (schema: FastifySchema | undefined): string[] | null {
  const body = schema?.body as { content?: Record<string, unknown> } | undefined
  if (body === undefined) return null
  return body.content === undefined ? ['application/json'] : Object.keys(body.content).map((type) => type.toLowerCase())
}

function isJson (mediaType: string | undefined): boolean {
  return mediaType === undefined || mediaType === 'application/json'
}

/** Ajv for request schemas: exact for JSON bodies, converting text to the schema's types for the other parts. */
function validatorCompiler () {
  const options: AjvOptions = {
    allErrors: true,
    // Errors carry their schema, so a refused field can list the allowed ones (and a union its alternatives).
    verbose: true,
    useDefaults: true,
    removeAdditional: false,
    discriminator: true,
    // As Fastify's own: compiled route schemas are not kept by $id (the same schema serves GET and HEAD).
    addUsedSchema: false
  }
  const exact = new Ajv2020({ ...options, coerceTypes: false })
  const converting = new Ajv2020({ ...options, coerceTypes: 'array' })
  for (const ajv of [exact, converting]) addFormats.default(ajv)
  return ({ schema, httpPart, contentType }: { schema: object, httpPart?: string, contentType?: string }) => {
    if (httpPart !== 'body') return converting.compile(schema)
    // A body in another media type (CSV, a multipart form) is the route's to read; its schema documents it.
    if (!isJson(contentType)) return () => true
    return exact.compile(schema)
  }
}
