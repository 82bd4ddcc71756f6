import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'
import type { Integration } from './integration.js'
import { serializeError } from './lib/logger.js'
import { createRedactor } from './lib/redact.js'
import { integrations as defaultIntegrations } from './integrations/index.js'
import configPlugin from './plugins/config.js'
import errorsPlugin from './plugins/errors.js'
import integrationsPlugin from './plugins/integrations.js'
import jobsPlugin from './plugins/jobs.js'
import metricsPlugin from './plugins/metrics.js'
import mongoPlugin, { MONGO_SERVER_SELECTION_TIMEOUT_MS } from './plugins/mongo.js'
import schedulerPlugin from './plugins/scheduler.js'
import authPlugin from './plugins/auth.js'
import dashboardPlugin from './plugins/dashboard.js'
import docsPlugin from './plugins/docs.js'
import edgePlugin from './plugins/edge.js'
import securityHeadersPlugin from './plugins/security-headers.js'
import webhooksPlugin from './plugins/webhooks.js'
import healthRoutes from './routes/health.js'
import integrationRoutes from './routes/integrations.js'
import jobRoutes from './routes/jobs.js'
import scheduleRoutes from './routes/schedules.js'

export interface AppOptions {
  config: Config
  /** Defaults to every integration in src/integrations/index.ts; tests may pass their own. */
  integrations?: Integration[]
}

/** The whole gateway as one plugin: core plugins, integrations, core routes, start and drain hooks. */
declare module 'fastify' {
  interface FastifyInstance {
    /** `METHOD /path` of every route, for the openapi.yaml check; `hidden` ones are swagger-ui's assets. */
    registeredRoutes: Array<{ route: string, hidden: boolean }>
  }
}

async function gateway (fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  const { config } = opts
  const routes: Array<{ route: string, hidden: boolean }> = []
  fastify.decorate('registeredRoutes', routes)
  fastify.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (method !== 'HEAD') routes.push({ route: `${method} ${route.url}`, hidden: route.schema?.hide === true })
    }
  })
  await fastify.register(configPlugin, { config })
  await fastify.register(securityHeadersPlugin)
  await fastify.register(errorsPlugin)
  await fastify.register(authPlugin)
  await fastify.register(edgePlugin)
  await fastify.register(webhooksPlugin)
  await fastify.register(mongoPlugin)
  await fastify.register(jobsPlugin)
  await fastify.register(schedulerPlugin)
  await fastify.register(metricsPlugin)
  await fastify.register(docsPlugin)
  await fastify.register(dashboardPlugin)
  await fastify.register(integrationsPlugin, { integrations: opts.integrations ?? defaultIntegrations })
  await fastify.register(healthRoutes)
  await fastify.register(integrationRoutes)
  await fastify.register(jobRoutes)
  await fastify.register(scheduleRoutes)

  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  fastify.addHook('onReady', async () => {
    if (config.JOBS_RUNNER_ENABLED) fastify.jobs.runner.start()
    if (config.SCHEDULER_ENABLED) fastify.schedules.start()
  })

  // Order matters: stop enqueueing, then drain the runner, and only then (onClose) close MongoDB.
  fastify.addHook('preClose', async () => {
    fastify.schedules.stop()
    const stopped = fastify.jobs.runner.stop(config.SHUTDOWN_DRAIN_MS)
    // With MongoDB gone, handing running jobs back would wait for the driver's server selection: give it a few
    // seconds after the drain, then go. Their leases expire and another instance (or the next start) runs them.
    let timer: NodeJS.Timeout | undefined
    const handBackLimit = new Promise<null>((resolve) => { timer = setTimeout(() => { resolve(null) }, config.SHUTDOWN_DRAIN_MS + HAND_BACK_MS) })
    const result = await Promise.race([stopped, handBackLimit])
    clearTimeout(timer)
    if (result !== null) fastify.log.info(result, 'job runner stopped')
    else {
      stopped.catch(() => {}) // settles (or fails) once the client closes; nothing more to say about it
      fastify.log.warn({ running: fastify.jobs.runner.activeCount(), leaseMs: config.JOBS_LEASE_MS }, 'MongoDB unreachable at shutdown: running jobs could not be handed back; they run again once their leases expire')
    }
  })
}

// Not encapsulated, so whoever registers the gateway (server.ts, tests) sees its decorators.
export const app = fp(gateway, { name: 'gateway' })

const SAFE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/** Field names that hold secrets wherever they appear in a log line (headers, config, upstream payloads). */
const SECRET_FIELDS = [
  'authorization', 'authorization2', 'x-api-key', 'cookie', 'set-cookie', 'webhook-signature',
  'password', 'client_secret', 'clientSecret', 'access_token', 'accessToken', 'refresh_token', 'token',
  'apiKey', 'api_key', 'secret'
]

/** The fields redacted in logs: SECRET_FIELDS plus every secret-looking config variable. */
function secretFields (config: Config): string[] {
  return [...SECRET_FIELDS, ...Object.keys(config).filter((name) => /(PASSWORD|SECRET|TOKEN|_KEY|_KEYS|_URI)$/.test(name))]
}

function trustProxy (value: string): boolean | string {
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  // A hop count is a number for Fastify (its types only admit the other forms).
  return /^\d+$/.test(value) ? Number(value) as unknown as string : value
}

/**
 * Longest `close()` may take: the job drain, then releasing the jobs it interrupted, which waits for MongoDB's
 * server selection when the server is gone, plus a margin. Fastify's default of 10 s for a close step would cut
 * a longer drain short and close MongoDB under the jobs still finishing.
 */
export function shutdownBudgetMs (config: Config): number {
  return config.SHUTDOWN_DRAIN_MS + MONGO_SERVER_SELECTION_TIMEOUT_MS + 5_000
}

/** How long after the drain a shutdown waits for running jobs to be handed back to MongoDB. */
const HAND_BACK_MS = 3_000

export function serverOptions (config: Config, logStream?: DestinationStream): FastifyServerOptions {
  // Humans at a terminal get pino-pretty; everything else (containers, files, tests) gets JSON lines.
  const pretty = logStream === undefined && process.stdout.isTTY === true
  const redact = createRedactor(secretFields(config), '[redacted]')
  return {
    logger: {
      level: config.LOG_LEVEL,
      ...(logStream === undefined ? {} : { stream: logStream }),
      ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } } : {}),
      formatters: { log: redact, bindings: redact },
      serializers: { err: serializeError }
    },
    trustProxy: trustProxy(String(config.TRUST_PROXY)),
    // Accept a caller's X-Request-Id when it is sane, so one id follows a request from n8n into job logs.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID()
    },
    // Request schemas are compiled by the errors plugin's own Ajv (JSON bodies checked without type coercion).
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A base URL configured with a trailing slash (`https://gw/` + `/odoo/webhook`) still reaches the route.
    routerOptions: { ignoreDuplicateSlashes: true },
    frameworkErrors: answerUnroutablePath,
    return503OnClosing: true,
    // Also bounds each start-up step (MongoDB's first connection included), which needs far less.
    pluginTimeout: shutdownBudgetMs(config),
    connectionTimeout: 60_000,
    requestTimeout: 120_000,
    keepAliveTimeout: 72_000
  }
}

/**
 * A path the router refuses (a bad %-escape, a segment longer than its 100 characters) never reaches a route:
 * answer it in the gateway's error shape, as the 400 it is, instead of Fastify's bare 400 or 414. Built here:
 * an error sent from this hook reaches Fastify's default error handler, not the gateway's.
 */
function answerUnroutablePath (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? 'a path parameter is longer than 100 characters'
    : 'the path holds an invalid percent-escape'
  request.log.info({ statusCode: 400, message }, 'request rejected')
  void reply.code(400).send({ statusCode: 400, error: 'Bad Request', message, details: [{ field: 'params', message }] })
}

/** Builds a ready-to-listen gateway; tests call this with an injected config and `inject` requests. */
export async function buildApp (opts: AppOptions & { logStream?: DestinationStream }): Promise<FastifyInstance> {
  const fastify = Fastify(serverOptions(opts.config, opts.logStream)).withTypeProvider<TypeBoxTypeProvider>()
  await fastify.register(app, opts)
  return fastify as unknown as FastifyInstance
}
