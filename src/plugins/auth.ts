import { hash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { splitList } from '../config.js'
import { httpError } from '../lib/http-errors.js'

export type AccessLevel = 'public' | 'read' | 'trigger'

declare module 'fastify' {
  interface FastifyRequest {
    /** Which kind of key authenticated the request (`none` on public routes or with ALLOW_NO_AUTH). */
    apiKeyKind: 'trigger' | 'read' | 'none'
    /** A short, non-reversible id of the key, for rate limiting and logs. */
    apiKeyId: string | null
  }
  interface FastifyInstance {
    /** ALLOW_NO_AUTH with no trigger key: every route is open (GET /auth/whoami then answers `trigger`). */
    authOpen: boolean
  }
}

// One-shot hashing (Node ≥ 20.12): no Hash object per request.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

/** The key a request carries: `X-API-Key`, else `Authorization: Bearer <key>`. */
export function presentedKey (request: FastifyRequest): string | null {
  const header = request.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  const authorization = request.headers.authorization
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match?.[1] !== undefined) return match[1]
  }
  return null
}

/**
 * API keys from GATEWAY_API_KEYS (trigger and read) and GATEWAY_READ_KEYS (read only). A route's access level
 * comes from its `config.access`; by default GET/HEAD need a read key and every other method a trigger key.
 * Runs on `onRequest`, before the body is read, so an unauthenticated upload costs nothing.
 */
export default fp(async (app) => {
  const { config } = app
  // Keys are compared as SHA-256 digests: equal lengths for timingSafeEqual, and every key is checked.
  const triggerKeys = splitList(config.GATEWAY_API_KEYS).map(digest)
  const readKeys = splitList(config.GATEWAY_READ_KEYS).map(digest)
  const open = triggerKeys.length === 0 && config.ALLOW_NO_AUTH === true
  if (open) app.log.warn('ALLOW_NO_AUTH=true and no GATEWAY_API_KEYS: every route is open')
  app.decorate('authOpen', open)

  const matches = (candidate: Buffer, keys: Buffer[]): boolean => {
    let found = false
    for (const key of keys) found = timingSafeEqual(candidate, key) || found
    return found
  }

  app.decorateRequest('apiKeyKind', 'none')
  app.decorateRequest('apiKeyId', null)

  app.addHook('onRequest', async (request) => {
    const key = presentedKey(request)
    if (key !== null) {
      const candidate = digest(key)
      if (matches(candidate, triggerKeys)) request.apiKeyKind = 'trigger'
      else if (matches(candidate, readKeys)) request.apiKeyKind = 'read'
      if (request.apiKeyKind !== 'none') request.apiKeyId = candidate.toString('hex').slice(0, 12)
    }
    const access = accessOf(request)
    if (access === 'public' || open) return
    if (request.apiKeyKind === 'none') {
      throw httpError(401, key === null ? 'an API key is required (X-API-Key header or Authorization: Bearer)' : 'the API key is not valid')
    }
    if (access === 'trigger' && request.apiKeyKind !== 'trigger') {
      throw httpError(403, 'this API key may only read; this route needs a trigger key')
    }
  })
}, { name: 'auth', dependencies: ['config'] })

function accessOf (request: FastifyRequest): AccessLevel {
  // Unknown routes fall through to the 404 handler without a key: there is nothing behind them to protect.
  if (request.routeOptions.url === undefined) return 'public'
  const configured = request.routeOptions.config.access
  if (configured !== undefined) return configured
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'trigger'
}
