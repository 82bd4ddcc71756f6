import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServer, type SimAnswer, type SimRequest } from './http.js'

export type StoredAsset = Record<string, unknown> & { equipment_id: string }

export interface OomnitzaSimulatorOptions {
  token?: string
  /** Delay before every answer (per-call latency). */
  latencyMs?: number
  port?: number
}

/** Parses `field eq 'v'` and `field IN ['a','b']` (single or double quotes; a doubled quote escapes one). */
export function parseFilter (filter: string): { field: string, values: string[] } | null {
  const eq = /^\s*(\w+)\s+eq\s+(['"])(.*)\2\s*$/s.exec(filter)
  if (eq !== null) return { field: eq[1] as string, values: [(eq[3] as string).replaceAll(`${eq[2]}${eq[2]}`, eq[2] as string)] }
  const inList = /^\s*(\w+)\s+IN\s+\[(.*)\]\s*$/is.exec(filter)
  if (inList === null) return null
  const values: string[] = []
  const item = /\s*(['"])((?:[^'"]|''|"")*)\1\s*(,|$)/gy
  const body = inList[2] as string
  let match: RegExpExecArray | null
  let consumed = 0
  while ((match = item.exec(body)) !== null && match[0] !== '') {
    values.push((match[2] as string).replaceAll(`${match[1]}${match[1]}`, match[1] as string))
    consumed = item.lastIndex
  }
  return consumed === body.length ? { field: inList[1] as string, values } : null
}

/**
 * Oomnitza's v3 assets API on loopback: `Authorization2` check, `GET /api/v3/assets` with `eq`/`IN` filters
 * and limit/skip, POST and PATCH, and hooks for 429 storms and per-asset failures. Tests read `assets` and
 * `writes` directly.
 */
export async function startOomnitzaSimulator (options: OomnitzaSimulatorOptions = {}) {
  const assets = new Map<string, StoredAsset>()
  const bySerial = new Map<string, Set<string>>()
  const state = {
    token: options.token ?? `oomnitza-${randomBytes(8).toString('hex')}`,
    latencyMs: options.latencyMs ?? 0,
    /** POST and PATCH calls that changed state, in order. */
    writes: [] as Array<{ method: string, path: string, body: Record<string, unknown> }>,
    calls: { find: 0, create: 0, update: 0, rejected: 0 },
    /** The next N calls answer 429 with this Retry-After (seconds). */
    rateLimited: { remaining: 0, retryAfter: '1' },
    /** Writes for these serials answer 400 (a dropdown value the tenant does not accept, say). */
    failSerials: new Set<string>(),
    /** Called for each request; an answer replaces the normal one. */
    intercept: undefined as ((req: SimRequest) => SimAnswer | undefined) | undefined
  }

  function index (asset: StoredAsset, add: boolean): void {
    const serial = String(asset.serial_number ?? '')
    if (serial === '') return
    const ids = bySerial.get(serial) ?? new Set<string>()
    if (add) ids.add(asset.equipment_id)
    else ids.delete(asset.equipment_id)
    bySerial.set(serial, ids)
  }

  function insert (fields: Record<string, unknown>): StoredAsset {
    const asset: StoredAsset = { ...fields, equipment_id: randomBytes(16).toString('hex') }
    assets.set(asset.equipment_id, asset)
    index(asset, true)
    return asset
  }

  function find (req: SimRequest): SimAnswer {
    state.calls.find++
    const limit = Math.min(Number(req.query.get('limit') ?? 100) || 100, 1000)
    const skip = Number(req.query.get('skip') ?? 0) || 0
    const filter = req.query.get('filter')
    let found: StoredAsset[]
    if (filter === null) {
      found = [...assets.values()]
    } else {
      const parsed = parseFilter(filter)
      if (parsed === null) return { status: 400, body: { errors: [`Invalid filter: ${filter}`] } }
      found = parsed.field === 'serial_number'
        ? parsed.values.flatMap((serial) => [...bySerial.get(serial) ?? []].map((id) => assets.get(id) as StoredAsset))
        : [...assets.values()].filter((asset) => parsed.values.includes(String(asset[parsed.field] ?? '')))
    }
    return { status: 200, body: found.slice(skip, skip + limit) }
  }

  function writeBody (req: SimRequest, serialOf: (body: Record<string, unknown>) => string): { body: Record<string, unknown> } | { error: SimAnswer } {
    let body: unknown
    try {
      body = JSON.parse(req.text)
    } catch {
      return { error: { status: 400, body: { errors: ['Body is not valid JSON'] } } }
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: { status: 400, body: { errors: ['Body must be an object'] } } }
    const serial = serialOf(body as Record<string, unknown>)
    if (state.failSerials.has(serial)) return { error: { status: 400, body: { errors: [`manufacturer: value not allowed for asset ${serial}`] } } }
    return { body: body as Record<string, unknown> }
  }

  async function handle (req: SimRequest): Promise<SimAnswer> {
    if (state.latencyMs > 0) await sleep(state.latencyMs)
    if (req.headers.authorization2 !== state.token) {
      state.calls.rejected++
      return { status: 401, body: { errors: ['Unauthorized'] } }
    }
    const intercepted = state.intercept?.(req)
    if (intercepted !== undefined) return intercepted
    if (state.rateLimited.remaining > 0) {
      state.rateLimited.remaining--
      state.calls.rejected++
      return { status: 429, body: { errors: ['Too many requests'] }, headers: { 'retry-after': state.rateLimited.retryAfter } }
    }
    if (req.path === '/api/v2/mappings' && req.method === 'GET') return { status: 200, body: [] }
    if (req.path === '/api/v3/assets' && req.method === 'GET') return find(req)
    if (req.path === '/api/v3/assets' && req.method === 'POST') {
      const parsed = writeBody(req, (body) => String(body.serial_number ?? ''))
      if ('error' in parsed) return parsed.error
      const { body } = parsed
      state.calls.create++
      const asset = insert(body)
      state.writes.push({ method: 'POST', path: req.path, body })
      return { status: 201, body: asset }
    }
    const one = /^\/api\/v3\/assets\/([^/]+)$/.exec(req.path)
    if (one !== null) {
      const asset = assets.get(decodeURIComponent(one[1] as string))
      if (asset === undefined) return { status: 404, body: { errors: ['Asset not found'] } }
      if (req.method === 'GET') return { status: 200, body: asset }
      if (req.method === 'PATCH') {
        const parsed = writeBody(req, () => String(asset.serial_number ?? ''))
        if ('error' in parsed) return parsed.error
        const { body } = parsed
        state.calls.update++
        index(asset, false)
        Object.assign(asset, body, { equipment_id: asset.equipment_id })
        index(asset, true)
        state.writes.push({ method: 'PATCH', path: req.path, body })
        return { status: 200, body: asset }
      }
    }
    return { status: 404, body: { errors: [`no route ${req.method} ${req.path}`] } }
  }

  const server = await startServer(handle, options.port)
  return {
    url: server.url,
    state,
    assets,
    /** Stored assets with this serial. */
    bySerial: (serial: string) => [...bySerial.get(serial) ?? []].map((id) => assets.get(id) as StoredAsset),
    /** Adds an asset directly (test set-up), not counted as a write. */
    seed: (fields: Record<string, unknown>) => insert(fields),
    env: (): Record<string, string> => ({ OOMNITZA_URL: server.url, OOMNITZA_API_TOKEN: state.token }),
    close: server.close
  }
}

export type OomnitzaSimulator = Awaited<ReturnType<typeof startOomnitzaSimulator>>
