import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseInsightDate } from '../dates.js'
import { startServer, type SimAnswer, type SimRequest } from './http.js'

type Raw = Record<string, unknown>

export interface StatusRequest {
  ClientID?: unknown
  TrackingData?: unknown
  OrderCreationDateFrom?: string
  OrderCreationDateTo?: string
  ShipDate?: string
  ShipDateFrom?: string
  ShipDateTo?: string
}

export interface InsightSimulatorOptions {
  clientId?: string
  clientKey?: string
  clientSecret?: string
  /** Token lifetime, sent as a string like Insight does (default "3599"). */
  tokenTtlSeconds?: number
  /** Delay before each GetStatus answer (Insight is slow). */
  latencyMs?: number
  /**
   * `production` (default): every section holding one item is an object, as Insight answers; `arrays`: always
   * arrays. `Order` is an object for one order and an array for several in both.
   */
  shape?: 'production' | 'arrays'
  port?: number
}

const COLLAPSIBLE = ['OrderHeader', 'OrderLineItems', 'Delivery', 'SerialNumbers', 'BillingInformation', 'Tracking']

function list (value: unknown): Raw[] {
  if (value === undefined || value === null) return []
  return (Array.isArray(value) ? value : [value]) as Raw[]
}

/** Turns one-element arrays into objects at every level Insight does it. */
function collapse (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(collapse)
  if (typeof value !== 'object' || value === null) return value
  const out: Raw = {}
  for (const [key, child] of Object.entries(value)) {
    const inner = collapse(child)
    out[key] = COLLAPSIBLE.includes(key) && Array.isArray(inner) && inner.length === 1 ? inner[0] : inner
  }
  return out
}

function stripDetail (order: Raw): Raw {
  const { Tracking: _tracking, ...rest } = order
  return { ...rest, OrderLineItems: list(order.OrderLineItems).map(({ Delivery: _delivery, ...line }) => line) }
}

/**
 * Insight's OAuth token endpoint and Order Status 2 (GetStatus) on loopback. Orders are stored as Insight
 * sends them (padded serials, mixed date formats) and filtered by creation or ship date.
 */
export async function startInsightSimulator (options: InsightSimulatorOptions = {}) {
  const clientId = options.clientId ?? '1234567'
  const clientKey = options.clientKey ?? 'sim-key'
  const clientSecret = options.clientSecret ?? 'sim-secret'
  const tokens = new Map<string, number>()
  const state = {
    orders: [] as Raw[],
    latencyMs: options.latencyMs ?? 0,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3599,
    shape: options.shape ?? 'production',
    /** Every GetStatus request body's StatusRequest, in order. */
    statusRequests: [] as StatusRequest[],
    tokenRequests: 0,
    /** GetStatus calls answered 401 (unknown or expired token). */
    unauthorised: 0,
    /** Answers the next GetStatus calls with these instead (E messages, non-JSON bodies, 5xx…). */
    scripted: [] as SimAnswer[],
    /** Called for each GetStatus request; an answer replaces the normal one. */
    intercept: undefined as ((request: StatusRequest, index: number) => SimAnswer | undefined) | undefined
  }

  function token (req: SimRequest): SimAnswer {
    state.tokenRequests++
    const expected = `Basic ${Buffer.from(`${clientKey}:${clientSecret}`).toString('base64')}`
    if (req.method !== 'POST' || req.query.get('grant_type') !== 'client_credentials') return { status: 400, body: { Error: 'grant_type must be client_credentials' } }
    if (req.headers.authorization !== expected) return { status: 401, body: { ErrorCode: 'invalid_client', Error: 'ClientID is Invalid' } }
    const value = randomBytes(18).toString('base64url')
    const issuedAt = Date.now()
    tokens.set(value, issuedAt + state.tokenTtlSeconds * 1000)
    return {
      status: 200,
      body: { access_token: value, token_type: 'BearerToken', expires_in: String(state.tokenTtlSeconds), issued_at: String(issuedAt), client_id: clientKey, api_product_list: '[GetStatus]', status: 'approved' }
    }
  }

  function matches (order: Raw, request: StatusRequest): boolean {
    const header = list(order.OrderHeader)[0] ?? {}
    if (request.OrderCreationDateFrom !== undefined) {
      const created = parseInsightDate(header.OrderCreationDate)
      return created !== null && created >= request.OrderCreationDateFrom && created <= (request.OrderCreationDateTo ?? request.OrderCreationDateFrom)
    }
    const from = request.ShipDate ?? request.ShipDateFrom as string
    const to = request.ShipDate ?? request.ShipDateTo ?? from
    return list(order.OrderLineItems).some((line) => list(line.Delivery).some((delivery) => {
      const shipped = parseInsightDate(delivery.ActualGoodsIssueDate)
      return shipped !== null && shipped >= from && shipped <= to
    }))
  }

  async function getStatus (req: SimRequest): Promise<SimAnswer> {
    const auth = req.headers.authorization ?? ''
    const expiresAt = tokens.get(auth.replace(/^Bearer /, ''))
    if (!auth.startsWith('Bearer ') || expiresAt === undefined || expiresAt < Date.now()) {
      state.unauthorised++
      return { status: 401, body: { fault: { faultstring: 'Invalid access token' } } }
    }
    let request: StatusRequest
    try {
      request = list((JSON.parse(req.text) as { MT_Status2Request?: { StatusRequest?: unknown } }).MT_Status2Request?.StatusRequest)[0] as StatusRequest
    } catch {
      return { status: 400, body: 'Request body is not valid JSON' }
    }
    if (request === undefined) return { status: 400, body: { StatusRequestMissing: 'MT_Status2Request.StatusRequest is required' } }
    const index = state.statusRequests.push(request) - 1
    if (state.latencyMs > 0) await sleep(state.latencyMs)
    const scripted = state.intercept?.(request, index) ?? state.scripted.shift()
    if (scripted !== undefined) return scripted
    if (String(request.ClientID) !== clientId) return { status: 403, body: { ClientIDAccessProhibited: `Access to ClientID ${String(request.ClientID)} is not allowed` } }
    const hasCreation = request.OrderCreationDateFrom !== undefined
    const hasShip = request.ShipDate !== undefined || request.ShipDateFrom !== undefined
    if (hasCreation === hasShip) {
      return { status: 200, body: { StatusOrderResponse: [{ ResponseMessage: [{ MessageType: 'E', MessageCode: 'ZSD_API_REQ101', MessageText: 'Provide either an order creation date range or a ship date range' }] }] } }
    }
    const found = state.orders.filter((order) => matches(order, request)).map((order) => request.TrackingData === 'X' ? order : stripDetail(order))
    if (found.length === 0) {
      return { status: 200, body: { StatusOrderResponse: [{ ResponseMessage: [{ MessageType: 'W', MessageCode: 'ZSD_API_REQ135', MessageText: 'No orders were found for the specified search criteria' }] }] } }
    }
    const shaped = state.shape === 'production' ? found.map(collapse) : found
    return { status: 200, body: { StatusOrderResponse: [{ Order: shaped.length === 1 ? shaped[0] : shaped }] } }
  }

  const server = await startServer(async (req) => {
    if (req.path === '/oauth/token') return token(req)
    if (/^\/[A-Za-z]+\/GetStatus$/.test(req.path)) {
      if (req.method !== 'POST') return { status: 200, body: '' }
      return getStatus(req)
    }
    return { status: 404, body: { error: `no route ${req.method} ${req.path}` } }
  }, options.port)

  return {
    url: server.url,
    tokenUrl: `${server.url}/oauth/token`,
    clientId,
    clientKey,
    clientSecret,
    state,
    /** Env vars that point the gateway at this simulator. */
    env: (): Record<string, string> => ({
      INSIGHT_URL: server.url,
      INSIGHT_TOKEN_URL: `${server.url}/oauth/token`,
      INSIGHT_REGION: 'NA',
      INSIGHT_CLIENT_ID: clientId,
      INSIGHT_CLIENT_KEY: clientKey,
      INSIGHT_CLIENT_SECRET: clientSecret
    }),
    /** Invalidates every issued token, as if they had expired server-side. */
    expireTokens: () => tokens.clear(),
    close: server.close
  }
}

export type InsightSimulator = Awaited<ReturnType<typeof startInsightSimulator>>
