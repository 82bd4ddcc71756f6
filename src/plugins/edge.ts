import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { parseDuration } from '../lib/duration.js'

/**
 * What every route gets at the edge: security headers, a per-key (else per-IP) rate limit answering 429 with
 * Retry-After, and 503 while the process is overloaded. Limits are in memory, so they apply per instance.
 */
export default fp(async (app) => {
  const { config } = app
  await app.register(helmet, {
    // The API serves JSON; only /docs serves a page, and swagger-ui sets its own CSP for it.
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' }
  })
  if (config.RATE_LIMIT_MAX > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: parseDuration(String(config.RATE_LIMIT_WINDOW)) ?? 60_000,
      keyGenerator: (request) => request.apiKeyId === null ? `ip:${request.ip}` : `key:${request.apiKeyId}`,
      errorResponseBuilder: (_request, context) => {
        const err = new Error(`rate limit exceeded: ${context.max} requests per ${context.after}; retry in ${Math.ceil(context.ttl / 1000)} s`) as Error & { statusCode: number }
        err.statusCode = context.statusCode
        return err
      }
    })
  }
  const mb = 1024 * 1024
  await app.register(underPressure, {
    maxEventLoopDelay: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.PRESSURE_MAX_HEAP_USED_MB * mb,
    maxRssBytes: config.PRESSURE_MAX_RSS_MB * mb,
    maxEventLoopUtilization: config.PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
    retryAfter: 10,
    message: 'the gateway is overloaded; try again shortly'
  })
}, { name: 'edge', dependencies: ['config', 'auth'] })
