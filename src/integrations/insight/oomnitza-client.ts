import type { UpstreamMetrics } from '../../integration.js'
import { UpstreamAuthError } from './insight-client.js'
import { request, snippet, UpstreamError, type UpstreamResponse } from './upstream.js'

export interface OomnitzaAsset extends Record<string, unknown> { equipment_id: string }

export interface OomnitzaClientOptions {
  url: string
  token: string
  timeoutMs: number
  retries: number
  retryBaseMs: number
  metrics?: UpstreamMetrics
}

/** A filter value in single quotes (a quote inside is doubled); the whole filter is URL-encoded by the caller. */
function quote (value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** Oomnitza's documented v3 assets API with an `Authorization2` token. */
export function createOomnitzaClient (options: OomnitzaClientOptions) {
  const base = options.url.replace(/\/+$/, '')
  const headers = {
    authorization2: options.token,
    accept: 'application/json',
    'content-type': 'application/json; charset=utf-8',
    'x-connector-source': 'integration-gateway'
  }

  async function call (method: string, path: string, operation: string, signal: AbortSignal, body?: unknown, beforeRetry?: () => Promise<UpstreamResponse | null>): Promise<unknown> {
    const res = await request({
      method,
      url: `${base}${path}`,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: options.timeoutMs,
      signal,
      retries: options.retries,
      retryBaseMs: options.retryBaseMs,
      target: 'oomnitza',
      operation,
      metrics: options.metrics,
      beforeRetry
    })
    if (res.status === 401 || res.status === 403) {
      throw new UpstreamAuthError(`Oomnitza refused the API token (HTTP ${res.status}): check OOMNITZA_API_TOKEN and its permissions`, res.status)
    }
    if (res.status >= 300) throw new UpstreamError(`Oomnitza ${operation} answered HTTP ${res.status}: ${snippet(res.text, 160)}`, { status: res.status })
    if (res.text === '') return null
    try {
      return JSON.parse(res.text)
    } catch {
      throw new UpstreamError(`Oomnitza ${operation} answered a body that is not JSON: ${snippet(res.text, 80)}`, { status: res.status })
    }
  }

  async function find (filter: string, limit: number, signal: AbortSignal): Promise<OomnitzaAsset[]> {
    const found: OomnitzaAsset[] = []
    for (let skip = 0; ; skip += limit) {
      const query = `filter=${encodeURIComponent(filter)}&limit=${limit}&skip=${skip}`
      const page = await call('GET', `/api/v3/assets?${query}`, 'assets.find', signal)
      if (!Array.isArray(page)) throw new UpstreamError('Oomnitza assets.find answered something other than a JSON array')
      found.push(...page as OomnitzaAsset[])
      if (page.length < limit) return found
    }
  }

  return {
    /** Assets whose serial_number is one of `serials` (one `eq` filter for a single serial, `IN [...]` otherwise). */
    async findBySerials (serials: string[], signal: AbortSignal): Promise<OomnitzaAsset[]> {
      const filter = serials.length === 1
        ? `serial_number eq ${quote(serials[0] as string)}`
        : `serial_number IN [${serials.map(quote).join(',')}]`
      return find(filter, Math.max(100, serials.length * 2), signal)
    },
    /**
     * Creates an asset. Retrying a POST that may have landed could create a duplicate, so before each retry
     * the serial is looked up again and an asset that already exists counts as created.
     */
    async create (asset: Record<string, string>, signal: AbortSignal): Promise<unknown> {
      const serial = asset.serial_number as string
      return call('POST', '/api/v3/assets', 'assets.create', signal, asset, async () => {
        const existing = await find(`serial_number eq ${quote(serial)}`, 10, signal)
        return existing.length > 0 ? { status: 200, headers: new Headers(), text: JSON.stringify(existing[0]) } : null
      })
    },
    async update (equipmentId: string, changes: Record<string, string>, signal: AbortSignal): Promise<unknown> {
      return call('PATCH', `/api/v3/assets/${encodeURIComponent(equipmentId)}`, 'assets.update', signal, changes)
    }
  }
}

export type OomnitzaClient = ReturnType<typeof createOomnitzaClient>
