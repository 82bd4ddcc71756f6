import type { UpstreamMetrics } from '../../integration.js'
import { request, snippet, UpstreamError, type UpstreamResponse } from './upstream.js'

/** Credentials were refused: another attempt with the same configuration cannot succeed. */
export class UpstreamAuthError extends UpstreamError {
  constructor (message: string, status: number) {
    super(message, { status, retryable: false })
    this.name = 'UpstreamAuthError'
  }
}

type Raw = Record<string, unknown>

export interface InsightDelivery extends Raw { SerialNumbers: unknown[], BillingInformation: Raw[] }
export interface InsightLine extends Raw { Delivery: InsightDelivery[] }
export interface InsightOrder { OrderHeader: Raw[], OrderLineItems: InsightLine[], Tracking: Raw[] }

export interface InsightClientOptions {
  url: string
  tokenUrl: string
  region: string
  clientId: string
  clientKey: string
  clientSecret: string
  timeoutMs: number
  retries: number
  retryBaseMs: number
  metrics?: UpstreamMetrics
}

export type DateField = 'creation' | 'ship'

/** The code Insight answers with when a search matches nothing: a warning, not an error. */
export const NO_ORDERS_CODE = 'ZSD_API_REQ135'

/** Any section holds an object for one item and an array for several; a missing one is empty. */
export function toArray (value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return []
  return Array.isArray(value) ? value : [value]
}

function objects (value: unknown): Raw[] {
  return toArray(value).filter((item): item is Raw => typeof item === 'object' && item !== null && !Array.isArray(item))
}

/** One order with every level that can be an object or an array turned into an array. */
export function normaliseOrder (order: Raw): InsightOrder {
  return {
    OrderHeader: objects(order.OrderHeader),
    OrderLineItems: objects(order.OrderLineItems).map((line) => ({
      ...line,
      Delivery: objects(line.Delivery).map((delivery) => ({
        ...delivery,
        // A serial entry is normally {SerialNumber}, but a bare string or number is accepted as the serial.
        SerialNumbers: toArray(delivery.SerialNumbers),
        BillingInformation: objects(delivery.BillingInformation)
      }))
    })),
    Tracking: objects(order.Tracking)
  }
}

/**
 * Reads a GetStatus answer: the orders, or none for the "no orders" warning. Throws for an `E` message
 * (even with HTTP 200), a non-JSON body or an unstructured error object.
 */
export function parseStatusResponse (text: string, contentType: string | null): InsightOrder[] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new UpstreamError(`Insight GetStatus answered a body that is not JSON (${contentType ?? 'no content type'}): ${snippet(text, 120)}`)
  }
  if (typeof body !== 'object' || body === null || !('StatusOrderResponse' in body)) {
    const summary = typeof body === 'object' && body !== null
      ? Object.entries(body).slice(0, 3).map(([key, value]) => `${key}: ${snippet(String(typeof value === 'object' ? JSON.stringify(value) : value), 120)}`).join('; ')
      : snippet(text, 120)
    throw new UpstreamError(`Insight GetStatus answered without StatusOrderResponse: ${summary || 'empty object'}`)
  }
  const orders: InsightOrder[] = []
  for (const status of objects((body as Raw).StatusOrderResponse)) {
    for (const message of objects(status.ResponseMessage)) {
      if (String(message.MessageType ?? '').toUpperCase() === 'E') {
        throw new UpstreamError(`Insight GetStatus error ${String(message.MessageCode ?? '')}: ${snippet(String(message.MessageText ?? ''), 200)}`.replace(' :', ':'))
      }
    }
    for (const order of objects(status.Order)) orders.push(normaliseOrder(order))
  }
  return orders
}

/** Insight's Order Status 2 API behind an OAuth client-credentials token. */
export function createInsightClient (options: InsightClientOptions) {
  let token: { value: string, refreshAt: number } | null = null
  let pending: Promise<string> | null = null
  let tokenRequests = 0

  async function fetchToken (signal: AbortSignal): Promise<string> {
    tokenRequests++
    const separator = options.tokenUrl.includes('?') ? '&' : '?'
    const basic = Buffer.from(`${options.clientKey}:${options.clientSecret}`).toString('base64')
    const res = await request({
      method: 'POST',
      url: `${options.tokenUrl}${separator}grant_type=client_credentials`,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: '',
      timeoutMs: options.timeoutMs,
      signal,
      retries: options.retries,
      retryBaseMs: options.retryBaseMs,
      target: 'insight',
      operation: 'token',
      metrics: options.metrics
    })
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new UpstreamAuthError(`Insight refused the client credentials (HTTP ${res.status}): check INSIGHT_CLIENT_KEY and INSIGHT_CLIENT_SECRET`, res.status)
    }
    if (res.status >= 300) throw new UpstreamError(`Insight token endpoint answered HTTP ${res.status}`, { status: res.status })
    let body: { access_token?: unknown, expires_in?: unknown }
    try {
      body = JSON.parse(res.text) as typeof body
    } catch {
      throw new UpstreamError('Insight token endpoint answered a body that is not JSON')
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new UpstreamError('Insight token endpoint answered without access_token')
    // expires_in arrives as a string ("3599"); refresh a tenth of the lifetime (at most a minute) early.
    const lifetimeMs = Math.max(1, Number(body.expires_in) || 3599) * 1000
    token = { value: body.access_token, refreshAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10) }
    return body.access_token
  }

  async function accessToken (signal: AbortSignal, force = false): Promise<string> {
    if (!force && token !== null && Date.now() < token.refreshAt) return token.value
    pending ??= fetchToken(signal).finally(() => { pending = null })
    return pending
  }

  async function getStatusResponse (body: string, signal: AbortSignal): Promise<UpstreamResponse> {
    const send = async (value: string) => request({
      method: 'POST',
      url: `${options.url.replace(/\/+$/, '')}/${options.region}/GetStatus`,
      headers: { authorization: `Bearer ${value}`, accept: 'application/json', 'content-type': 'application/json' },
      body,
      timeoutMs: options.timeoutMs,
      signal,
      retries: options.retries,
      retryBaseMs: options.retryBaseMs,
      target: 'insight',
      operation: 'GetStatus',
      metrics: options.metrics
    })
    const first = await send(await accessToken(signal))
    if (first.status !== 401) return first
    // The token may have been revoked or expired early: fetch a new one, once.
    token = null
    const second = await send(await accessToken(signal, true))
    if (second.status === 401) throw new UpstreamAuthError('Insight GetStatus refused a fresh token (HTTP 401)', 401)
    return second
  }

  return {
    /** Orders whose creation (or ship) date lies in [from, to], both `YYYY-MM-DD`. */
    async getStatus (window: { from: string, to: string }, dateField: DateField, signal: AbortSignal): Promise<InsightOrder[]> {
      const dates = dateField === 'ship'
        ? { ShipDateFrom: window.from, ShipDateTo: window.to }
        : { OrderCreationDateFrom: window.from, OrderCreationDateTo: window.to }
      const body = JSON.stringify({ MT_Status2Request: { StatusRequest: [{ ClientID: options.clientId, TrackingData: 'X', ...dates }] } })
      const res = await getStatusResponse(body, signal)
      if (res.status === 403) throw new UpstreamAuthError(`Insight GetStatus refused access (HTTP 403): ${snippet(res.text, 160)}`, 403)
      if (res.status >= 300) throw new UpstreamError(`Insight GetStatus answered HTTP ${res.status}: ${snippet(res.text, 160)}`, { status: res.status })
      return parseStatusResponse(res.text, res.headers.get('content-type'))
    },
    get tokenRequests () { return tokenRequests }
  }
}

export type InsightClient = ReturnType<typeof createInsightClient>
