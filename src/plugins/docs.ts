import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifySchema, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { ANSWER_NAME, OPTIONAL_KEY, textAnswer } from '../schemas/common.js'

/** openapi.yaml at the repository root: the API document as `npm run openapi` generates it from the routes. */
export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url))

const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version

const DESCRIPTION = [
  'Trigger routes validate a request, record a durable job in MongoDB and answer `202` at once; background runners do the work. Dashboards and scripts poll the job-status routes. Every response carries `X-Request-Id` (the caller\'s, when it sent a sane one).',
  '**Authentication.** Send an API key as `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys from `GATEWAY_API_KEYS` may trigger and read; keys from `GATEWAY_READ_KEYS` may only read (GET routes). No or an unknown key answers 401, a read key on a trigger route 403. `/health` and `/ready` are open (probes send no key); `/metrics` follows `METRICS_PUBLIC` and `/docs`, `/openapi.yaml` follow `DOCS_PUBLIC`.',
  '**Webhooks.** A source with a secret configured (e.g. `ODOO_WEBHOOK_SECRET`) must sign with Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds, ±5 min) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several space-separated entries allowed). `webhook-id` doubles as the idempotency key.',
  '**Errors.** Every error answers with the `Error` shape. A 400 names each offending field in `details` (a body field by its path in the body, `from` or `events/3/employee_id`, the body as a whole `body`; the other parts with their name in front, `querystring/limit`) and says what it must be: `is required`, `is not allowed (allowed: …)`, `must be one of …`, limits as numbers. Trigger routes refuse fields they do not know. A body in a media type the route does not take (or one without a Content-Type) answers 415 naming the accepted types; a body over the route\'s limit (`BODY_LIMIT_BYTES` for JSON) answers 413 with the limit.',
  '**Limits.** Requests are rate-limited per key (per client IP without one): 429 with `Retry-After`. A known path with another method answers 405 with `Allow`, an unknown path 404. While the process is overloaded every route answers 503.',
  'This document is generated from the routes\' schemas: `npm run openapi` writes it to openapi.yaml.'
].join('\n\n')

/** The core's tags, before one tag per integration (described by its title and summary). */
const CORE_TAGS = [
  { name: 'health', description: 'Liveness, readiness, metrics, this document and the caller\'s role.' },
  { name: 'jobs', description: 'The status of jobs; retry and cancel.' },
  { name: 'schedules', description: 'The timers that enqueue jobs.' },
  { name: 'integrations', description: 'What this gateway runs.' },
  { name: 'dashboard', description: 'The operator page.' }
]

/** Keys whose values are data (allowed values, examples), not schemas. */
const VALUE_KEYS = new Set(['enum', 'const', 'default', 'examples', 'example'])
const SCHEMA_REF = '#/components/schemas/'

/**
 * A schema with every subschema that has an `$id` replaced by a reference to components/schemas/<$id>, which
 * `named` receives (with its own named subschemas replaced the same way). One name, one schema.
 */
function hoist (node: unknown, named: Record<string, object>): unknown {
  if (Array.isArray(node)) return node.map((item) => hoist(item, named))
  if (typeof node !== 'object' || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = VALUE_KEYS.has(key) ? value : hoist(value, named)
  // A reference by $id (a schema that holds its named parts under $defs) points at the named schema.
  if (typeof out.$ref === 'string' && !out.$ref.includes('#')) out.$ref = `${SCHEMA_REF}${out.$ref}`
  const defs = out.$defs as Record<string, { $ref?: string }> | undefined
  if (defs !== undefined && Object.values(defs).every((def) => def.$ref?.startsWith(SCHEMA_REF) === true)) delete out.$defs
  const id = out.$id
  if (typeof id !== 'string' || id.startsWith('#')) return out
  delete out.$id
  const known = named[id]
  if (known !== undefined && JSON.stringify(known) !== JSON.stringify(out)) throw new Error(`two different schemas are named ${id}: the API document needs one $id per schema`)
  named[id] = out
  return { $ref: `${SCHEMA_REF}${id}` }
}

type Schema = FastifySchema & Record<string, unknown>
type Answer = { content?: Record<string, { schema: unknown }> } & Record<string, unknown>

/** A route's schema as the API document shows it: named schemas as references (parameters keep their own). */
function documented (schema: Schema, named: Record<string, object>): Schema {
  const out: Schema = { ...schema }
  for (const part of ['querystring', 'params', 'headers'] as const) {
    const value = schema[part] as Record<string, unknown> | undefined
    if (value !== undefined) out[part] = { ...value, properties: hoist(value.properties, named) }
  }
  for (const key of Object.keys(schema)) if (key.startsWith('x-')) out[key] = hoist(schema[key], named)
  const body = schema.body as Answer | undefined
  if (body !== undefined) out.body = body.content === undefined ? hoist(body, named) : { ...body, content: hoistContent(body.content, named) }
  if (schema.response !== undefined) {
    out.response = Object.fromEntries(Object.entries(schema.response as Record<string, Answer>).map(([code, value]) =>
      [code, value.content === undefined ? hoist(value, named) : { ...value, content: hoistContent(value.content, named) }]))
  }
  return out
}

function hoistContent (content: Record<string, { schema: unknown }>, named: Record<string, object>): Record<string, { schema: unknown }> {
  return Object.fromEntries(Object.entries(content).map(([type, media]) => [type, { ...media, schema: hoist(media.schema, named) }]))
}

function accessOf (route: RouteOptions): string {
  const method = Array.isArray(route.method) ? route.method[0] : route.method
  return route.config?.access ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'trigger')
}

function operationKey (url: string, method: string): string {
  return `${url.replace(/:(\w+)/g, '{$1}')} ${method.toLowerCase()}`
}

/** `idempotency-key` → `Idempotency-Key`: header parameters as people write them (HTTP does not mind). */
function headerName (name: string): string {
  return name.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('-')
}

interface Operation {
  summary?: string
  description?: string
  security?: unknown
  tags?: string[]
  parameters?: Array<Record<string, unknown>>
  requestBody?: { required?: boolean }
  responses: Record<string, unknown>
}
interface Document {
  tags?: Array<{ name: string, description?: string }>
  paths: Record<string, Record<string, Operation>>
  components: Record<string, Record<string, unknown>>
}

/**
 * The API document, generated from the routes' schemas (@fastify/swagger, dynamic mode) over a static base
 * (info, servers, security schemes, tags): served at /openapi.yaml, rendered at /docs (swagger-ui), and written to
 * openapi.yaml by `npm run openapi` (a test fails when the committed file differs). Both follow DOCS_PUBLIC.
 */
export default fp(async (app) => {
  const access = app.config.DOCS_PUBLIC === true ? 'public' : 'read'
  // components/schemas, filled as routes are added (the document is built from it after ready).
  const named: Record<string, object> = {}
  // What the generation learns about each operation ("/jobs/{id} get") from its route.
  const answerNames = new Map<string, Map<string, string>>()
  const optionalBodies = new Set<string>()

  app.addHook('onRoute', (route) => {
    // swagger-ui's own routes (page, assets, json/yaml) take the access level of /docs.
    if (route.url === '/docs' || route.url.startsWith('/docs/')) route.config = { ...(route.config ?? {}), access }
    if (route.schema !== undefined && route.schema.hide !== true) documented(route.schema as Schema, named)
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Integration gateway', version: VERSION, description: DESCRIPTION },
      servers: [{ url: 'http://127.0.0.1:3000' }],
      security: [{ ApiKey: [] }, { Bearer: [] }],
      components: {
        securitySchemes: {
          ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          Bearer: { type: 'http', scheme: 'bearer' }
        },
        schemas: named
      }
    },
    convertConstToEnum: false,
    transform ({ schema, url, route }) {
      if (schema === undefined || schema.hide === true) return { schema, url }
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      const out = documented(schema as Schema, named)
      if (out.security === undefined && accessOf(route) === 'public') out.security = []
      const body = schema.body as { type?: unknown } | undefined
      const responses = (schema.response ?? {}) as Record<string, object>
      for (const method of methods) {
        const key = operationKey(url, method)
        // A body that may be null may also be left out (a trigger route's optional fields).
        if (Array.isArray(body?.type) && body.type.includes('null')) optionalBodies.add(key)
        const names = new Map<string, string>()
        for (const [code, value] of Object.entries(responses)) {
          const name = (value as Record<symbol, unknown>)[ANSWER_NAME]
          if (typeof name === 'string') names.set(code, name)
        }
        answerNames.set(key, names)
      }
      return { schema: out, url }
    },
    transformObject (documentObject) {
      return finish((documentObject as { openapiObject: unknown }).openapiObject as Document) as never
    }
  })

  /** Named answers and the Idempotency-Key become references; tags, paths and components get a stable order. */
  function finish (document: Document): Document {
    const responses: Record<string, unknown> = {}
    const parameters: Record<string, unknown> = {}
    const components: Record<string, unknown> = {}
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const key = `${path} ${method}`
        if (optionalBodies.has(key) && operation.requestBody !== undefined) operation.requestBody.required = false
        for (const [code, name] of answerNames.get(key) ?? []) {
          const value = operation.responses[code]
          if (value === undefined) continue
          const known = responses[name]
          if (known !== undefined && JSON.stringify(known) !== JSON.stringify(value)) throw new Error(`answer ${name} differs between operations`)
          responses[name] = value
          operation.responses[code] = { $ref: `#/components/responses/${name}` }
        }
        operation.parameters = operation.parameters?.map((parameter) => {
          // A query parameter with a default may be left out.
          if (parameter.in === 'query' && (parameter.schema as { default?: unknown } | undefined)?.default !== undefined) return { ...parameter, required: false }
          if (parameter.in !== 'header') return parameter
          const canonical = { ...parameter, name: headerName(String(parameter.name)) }
          if (canonical.name !== 'Idempotency-Key') return canonical
          parameters.IdempotencyKey ??= canonical
          return { $ref: '#/components/parameters/IdempotencyKey' }
        })
        if (operation.parameters === undefined) delete operation.parameters
      }
    }
    // swagger-ui's page: its routes are hidden (assets and all), so the document describes it here.
    document.paths['/docs'] = { get: docsPage(responses) }
    const tags = [...CORE_TAGS, ...app.integrations.map((i) => ({ name: i.name, description: `${i.title}: ${i.summary}` }))]
    const rank = (operations: Record<string, Operation>): number => {
      const tag = Object.values(operations)[0]?.tags?.[0]
      const index = tags.findIndex((t) => t.name === tag)
      return index === -1 ? tags.length : index
    }
    const paths = Object.entries(document.paths).map((entry, index) => ({ entry, index, rank: rank(entry[1]) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index).map(({ entry }) => entry)
    const sorted = (record: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)))
    components.securitySchemes = document.components.securitySchemes
    components.parameters = parameters
    components.responses = sorted(responses)
    components.schemas = sorted(document.components.schemas ?? {})
    for (const ref of JSON.stringify(document).match(/"#\/components\/\w+\/[^"]+"/g) ?? []) {
      const [, kind, name] = ref.slice(1, -1).split('/').slice(1)
      if ((components[kind as string] as Record<string, unknown> | undefined)?.[name as string] === undefined) throw new Error(`the API document refers to ${ref}, which it does not define`)
    }
    // Plain data: no object appears twice, so the YAML has no anchors and aliases.
    const { openapi, info, servers, security } = document as unknown as Record<string, unknown>
    return JSON.parse(JSON.stringify({ openapi, info, servers, security, tags, paths: Object.fromEntries(paths), components })) as Document
  }

  /** GET /docs, in the terms of the generated operations (its answers are the named ones every route shares). */
  function docsPage (responses: Record<string, unknown>): Operation {
    const shared = { 401: 'Unauthorized', 429: 'TooManyRequests', 503: 'Unavailable' }
    return {
      summary: 'This document rendered by Swagger UI',
      tags: ['health'],
      description: 'Open when `DOCS_PUBLIC=true`, else needs a read key.',
      security: OPTIONAL_KEY,
      responses: {
        200: { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
        ...Object.fromEntries(Object.entries(shared).filter(([code]) => code !== '401' || access !== 'public')
          .filter(([, name]) => responses[name] !== undefined).map(([code, name]) => [code, { $ref: `#/components/responses/${name}` }]))
      }
    } as Operation
  }

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true, showExtensions: true },
    logLevel: 'warn'
  })
  app.get('/openapi.yaml', {
    config: { access },
    schema: {
      tags: ['health'],
      summary: 'This document',
      description: 'Open when `DOCS_PUBLIC=true`, else needs a read key.',
      security: OPTIONAL_KEY,
      response: { 200: textAnswer('The OpenAPI document (generated from the routes).', ['application/yaml']) }
    }
  }, async (_request, reply) => {
    return reply.type('application/yaml; charset=utf-8').send(app.swagger({ yaml: true }))
  })
}, { name: 'docs', dependencies: ['config'] })
