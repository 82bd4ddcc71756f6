import Type, { type Static, type TObject, type TProperties, type TSchema } from 'typebox'

declare module 'fastify' {
  interface FastifySchema {
    /** The `result` of the job a trigger route queues (read with GET /jobs/{id}), shown in the API document. */
    'x-job-result'?: TSchema
  }
}

/*
 * The pieces every route's schema is made of. A schema with an `$id` is one named schema of the API document
 * (components/schemas/<$id>); an answer built by `named` is one named response (components/responses/<name>).
 */

/** The one error shape every failure answers with. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({
    field: Type.String({ description: 'The body field (`from`, `events/3/employee_id`; `body` for the body as a whole), or `querystring/<name>`, `params/<name>`, `headers/<name>`.', examples: ['querystring/limit'] }),
    message: Type.String({ description: 'What the field must be, as it reads after the field name.', examples: ['must be at most 250'] })
  })))
}, { $id: 'Error' })

/** What every trigger route answers: 202 for a new (or coalesced) job, 200 for a repeated Idempotency-Key. */
export const JobAccepted = Type.Object({
  jobId: Type.String(),
  status: Type.String(),
  statusUrl: Type.String({ examples: ['/jobs/3f0c…'] })
}, { $id: 'JobAccepted' })

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'A repeat with the same key answers 200 with the first answer\'s job instead of creating another.'
  }))
})

/**
 * The JSON body of a trigger route: an object of optional fields, `null`, or no body at all (all three mean
 * "the defaults"). Fields it does not list are refused, the same way on every trigger route.
 */
export function TriggerBody<P extends TProperties> (properties: P, options: { $id?: string, description?: string, dependentRequired?: Record<string, string[]> } = {}) {
  return Type.Unsafe<Static<TObject<P>> | null | undefined>({ ...Type.Object(properties, { additionalProperties: false, ...options }), type: ['object', 'null'] })
}

/** A response with a body of the given media type, for the route's schema and the API document. */
export function answer<T extends TSchema, M extends string = 'application/json'> (description: string, schema: T, options: { headers?: Record<string, TSchema>, mediaType?: M } = {}) {
  const mediaType = (options.mediaType ?? 'application/json') as M
  return {
    description,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    content: { [mediaType]: { schema } } as { [K in M]: { schema: T } }
  }
}

/** A response without a JSON schema: its body is text of the given media types (a page, metrics, a file). */
export function textAnswer (description: string, mediaTypes: string[]) {
  return { description, content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: Type.String() }])) }
}

/** The security of a route a setting may open (METRICS_PUBLIC, DOCS_PUBLIC): a key, or none. */
export const OPTIONAL_KEY: Array<Record<string, string[]>> = [{ ApiKey: [] }, { Bearer: [] }, {}]

/** Marks an answer as one of the API document's named responses (components/responses/<name>). */
export const ANSWER_NAME = Symbol.for('gateway.answer-name')

function named<T extends object> (name: string, value: T): T {
  Object.defineProperty(value, ANSWER_NAME, { value: name, enumerable: false })
  return value
}

const Location = Type.String({ description: 'Same as statusUrl.' })
const RetryAfter = (description: string) => Type.Integer({ description })

export const Accepted = named('Accepted', answer('Job recorded (or joined a queued job with the same dedupe key). Poll `statusUrl`.', JobAccepted, { headers: { Location } }))
export const Repeated = named('Repeated', answer('The Idempotency-Key was seen before; this is the job it created.', JobAccepted, { headers: { Location } }))
/** 200 and 202 of a route that queues a job through `jobs.trigger`. */
export const TriggerAnswers = { 200: Repeated, 202: Accepted }

export const InvalidRequest = named('InvalidRequest', answer('The request is invalid; `details` names each offending field and says what it must be.', ErrorResponse))
export const Unauthorized = named('Unauthorized', answer('No API key, or one the gateway does not know (or, on a webhook with a secret, a missing or invalid signature).', ErrorResponse))
export const Forbidden = named('Forbidden', answer('A read key on a route that needs a trigger key.', ErrorResponse))
export const PayloadTooLarge = named('PayloadTooLarge', answer('The body is larger than this route accepts; the message gives the limit in bytes.', ErrorResponse))
export const UnsupportedMediaType = named('UnsupportedMediaType', answer('The body\'s Content-Type (or its lack of one) is not one this route accepts; the message names the accepted types.', ErrorResponse))
export const TooManyRequests = named('TooManyRequests', answer('Rate limit reached for this API key (or client IP without one); the message gives the limit and window.', ErrorResponse, {
  headers: { 'Retry-After': RetryAfter('Seconds until the window resets.') }
}))
export const Unavailable = named('Unavailable', answer('The gateway is overloaded, or MongoDB was busy or unreachable for longer than `STORAGE_REQUEST_TIMEOUT_MS`; nothing was acknowledged. Send the request again after Retry-After (with the same Idempotency-Key, a repeat is harmless).', ErrorResponse, {
  headers: { 'Retry-After': RetryAfter('Seconds to wait before sending again.') }
}))

/** What the core itself may answer on a route, besides what the route answers. */
export interface RouteTraits {
  method: string
  url: string
  /** From `config.access`; GET and HEAD default to `read`, other methods to `trigger`. */
  access?: 'public' | 'read' | 'trigger' | undefined
  /** `config.rateLimit === false` exempts the route from the rate limit. */
  rateLimited: boolean
  schema: { body?: unknown, querystring?: unknown, params?: unknown, headers?: unknown }
}

/**
 * The error answers the core gives on a route: 400 when it validates anything, 401/403 by its access level,
 * 413/415 when it takes a body, 429 unless exempt from the rate limit, and 503 (overload, MongoDB away) on every
 * route. The error handler answers all of them in the `Error` shape.
 */
export function coreAnswers (route: RouteTraits): Record<number, unknown> {
  const access = route.access ?? (route.method === 'GET' || route.method === 'HEAD' ? 'read' : 'trigger')
  const { schema } = route
  const validates = schema.body !== undefined || schema.querystring !== undefined || schema.params !== undefined ||
    schema.headers !== undefined || route.url.includes(':')
  return {
    ...(validates ? { 400: InvalidRequest } : {}),
    ...(access === 'public' ? {} : { 401: Unauthorized }),
    ...(access === 'trigger' ? { 403: Forbidden } : {}),
    ...(schema.body === undefined ? {} : { 413: PayloadTooLarge, 415: UnsupportedMediaType }),
    ...(route.rateLimited ? { 429: TooManyRequests } : {}),
    503: Unavailable
  }
}
