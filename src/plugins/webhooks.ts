import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { httpError } from '../lib/http-errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's bytes as received (signatures are computed over them, not over re-serialised JSON). */
    rawBody: Buffer | null
    /** `webhook-id` of a request whose Standard Webhooks signature was verified; doubles as idempotency key. */
    webhookId: string | null
  }
}

/** Standard Webhooks allow ±5 minutes between the sender's timestamp and ours. */
export const WEBHOOK_TOLERANCE_SECONDS = 300

/** `whsec_<base64>` secrets are base64 bytes (the standard); any other string is used as UTF-8 bytes. */
function secretBytes (secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8')
}

/** `v1,<base64>` for the given secret; what a sender puts in `webhook-signature`. */
export function signWebhook (secret: string, id: string, timestamp: number | string, body: string | Buffer): string {
  const mac = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64')
  return `v1,${mac}`
}

/** Checks the Standard Webhooks headers against every configured secret (space-separated, for rotation). */
export function verifyWebhook (request: FastifyRequest, secrets: string[], nowSeconds = Date.now() / 1000): string {
  const header = (name: string): string | undefined => {
    const value = request.headers[name]
    return typeof value === 'string' && value !== '' ? value : undefined
  }
  const id = header('webhook-id')
  const timestamp = header('webhook-timestamp')
  const signatures = header('webhook-signature')
  // One message for every failure: a caller probing the endpoint learns nothing about which part was wrong.
  const reject = (reason: string) => {
    request.log.info({ reason }, 'webhook signature rejected')
    return httpError(401, 'missing or invalid webhook signature')
  }
  if (id === undefined || timestamp === undefined || signatures === undefined) throw reject('missing headers')
  if (!/^\d{1,12}$/.test(timestamp)) throw reject('malformed timestamp')
  if (Math.abs(nowSeconds - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) throw reject('timestamp outside tolerance')
  const body = request.rawBody ?? Buffer.alloc(0)
  const expected = secrets.map((secret) => Buffer.from(signWebhook(secret, id, timestamp, body).slice(3), 'base64'))
  let valid = false
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2)
    if (version !== 'v1' || value === undefined) continue
    const given = Buffer.from(value, 'base64')
    for (const mac of expected) {
      if (given.length === mac.length && timingSafeEqual(given, mac)) valid = true
    }
  }
  if (!valid) throw reject('no matching signature')
  return id
}

/**
 * Keeps the raw bytes of JSON bodies and verifies Standard Webhooks signatures on routes that configure a
 * `webhookSecret`. Unsigned or badly signed requests get 401 before validation or the handler run.
 */
export default fp(async (app) => {
  const parseJson = app.getDefaultJsonParser('error', 'remove')
  app.decorateRequest('rawBody', null)
  app.decorateRequest('webhookId', null)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer
    request.rawBody = raw
    // An empty body with a JSON content type (n8n and curl do send that) counts as no body.
    if (raw.length === 0) { done(null, undefined); return }
    parseJson(request, raw.toString('utf8'), (err, value) => {
      if (err !== null) done(httpError(400, `the request body is not valid JSON: ${err.message}`, [{ field: 'body', message: 'is not valid JSON' }]))
      else done(null, value)
    })
  })

  app.addHook('preValidation', async (request) => {
    const secret = request.routeOptions.config.webhookSecret
    if (secret === undefined || secret.trim() === '') return
    request.webhookId = verifyWebhook(request, secret.trim().split(/\s+/))
  })
}, { name: 'webhooks' })
