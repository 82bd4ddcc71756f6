import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { parseDuration } from '../lib/duration.js'
import { httpError } from '../lib/http-errors.js'

/**
 * What every route gets at the edge (security headers aside: security-headers.ts): a per-key (else per-IP) rate
 * limit answering 429 with Retry-After, and 503 while the process is overloaded. Limits are in memory, so they
 * apply per instance.
 */
/** How long after start the overload checks only watch (see pressureHandler). */
const PRESSURE_WARM_UP_MS = 10_000

/** `1 minute`, `30 seconds`, `1.5 hours`: a window as people say it. */
function describeWindow (ms: number): string {
  for (const [unit, size] of [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]] as const) {
    if (ms >= size) {
      const count = Number((ms / size).toFixed(2))
      return `${count} ${unit}${count === 1 ? '' : 's'}`
    }
  }
  return `${ms} ms`
}

export default fp(async (app) => {
  const { config } = app
  if (config.RATE_LIMIT_MAX > 0) {
    const windowMs = parseDuration(String(config.RATE_LIMIT_WINDOW)) ?? 60_000
    await app.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: windowMs,
      keyGenerator: (request) => request.apiKeyId === null ? `ip:${request.ip}` : `key:${request.apiKeyId}`,
      errorResponseBuilder: (request, context) => {
        // context.after is the time left, not the window: name the configured window.
        const who = request.apiKeyId === null ? 'client address' : 'API key'
        const err = new Error(`rate limit exceeded: at most ${context.max} requests per ${describeWindow(windowMs)} per ${who} ` +
          `(RATE_LIMIT_MAX, RATE_LIMIT_WINDOW); retry in ${Math.ceil(context.ttl / 1000)} s`) as Error & { statusCode: number }
        err.statusCode = context.statusCode
        return err
      }
    })
  }
  const mb = 1024 * 1024
  // The first samples after start measure start-up itself (module loading, cold code): no load shedding then.
  let readyAt = Number.POSITIVE_INFINITY
  app.addHook('onReady', async () => { readyAt = Date.now() })
  await app.register(underPressure, {
    // A rejection reaches the error handler (one error shape); resolving lets the request through.
    pressureHandler: async (_request, _reply, type) => {
      if (Date.now() - readyAt < PRESSURE_WARM_UP_MS) return
      throw httpError(503, `the gateway is overloaded (${type}); try again shortly`, undefined, { 'retry-after': '10' })
    },
    maxEventLoopDelay: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.PRESSURE_MAX_HEAP_USED_MB * mb,
    maxRssBytes: config.PRESSURE_MAX_RSS_MB * mb,
    maxEventLoopUtilization: config.PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
    retryAfter: 10
  })
}, { name: 'edge', dependencies: ['config', 'auth'] })
