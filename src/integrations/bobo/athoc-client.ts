import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request, type Dispatcher } from 'undici'
import { PermanentError, RetryableError, type UpstreamMetrics } from '../../integration.js'

export interface AthocClientOptions {
  baseUrl: string
  orgCode: string
  clientId: string
  clientSecret: string
  username: string
  password: string
  scope: string
  tlsInsecure: boolean
  timeoutMs: number
  retries: number
  retryBaseMs: number
  retryMaxWaitMs: number
  pageSize: number
  pagingMode: 'page' | 'record'
  upstream?: UpstreamMetrics
  now?: () => number
}

export type AthocUser = Record<string, unknown> & { LOGIN_ID?: unknown }
export interface SyncResult { [key: string]: unknown, LOGIN_ID?: unknown, ':SyncStatus'?: unknown, ':SyncDetails'?: unknown }

export interface UserOutcome { ok: boolean, reason: string | null }

const UNKNOWN_USER = /does not exists? in the organi[sz]ation/i

/** AtHoc's per-user answer → success or failure, by the original's rule (bobo-athoc.md §4). */
export function userOutcome (entry: SyncResult | undefined): UserOutcome {
  if (entry === undefined) return { ok: false, reason: 'missing from the AtHoc response' }
  const status = String(entry[':SyncStatus'] ?? '')
  const details = String(entry[':SyncDetails'] ?? '')
  if (status === 'OK') return { ok: true, reason: null }
  if (status === 'Error' && UNKNOWN_USER.test(details)) return { ok: true, reason: 'user does not exist in AtHoc' }
  return { ok: false, reason: `${status || 'no status'}: ${details}`.slice(0, 300) }
}

function retryAfterMs (header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value.trim() === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * AtHoc API v2 client: OAuth2 password grant with a cached token (refreshed before expiry and once after a
 * 401), a timeout on every call, and retries on 429, 5xx and network errors that honour Retry-After.
 */
export function createAthocClient (options: AthocClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '')
  const now = options.now ?? Date.now
  const dispatcher: Dispatcher = new Agent({
    connect: { rejectUnauthorized: !options.tlsInsecure },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs
  })
  let token: { value: string, expiresAt: number } | null = null
  let pendingToken: Promise<string> | null = null
  let calls = 0

  function checkConfigured (): void {
    const missing = [['ATHOC_URL', options.baseUrl], ['ATHOC_ORG_CODE', options.orgCode], ['ATHOC_CLIENT_ID', options.clientId], ['ATHOC_CLIENT_SECRET', options.clientSecret], ['ATHOC_USERNAME', options.username], ['ATHOC_PASSWORD', options.password]]
      .filter(([, v]) => v === '').map(([k]) => k)
    if (missing.length > 0) throw new PermanentError(`AtHoc is not configured: set ${missing.join(', ')}`, { code: 'ATHOC_NOT_CONFIGURED' })
  }

  /** One HTTP exchange with retries; returns status and parsed JSON body. */
  async function send (operation: string, method: 'GET' | 'POST', url: string, headers: Record<string, string>, body: string | undefined, signal?: AbortSignal): Promise<{ status: number, json: unknown }> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now()
      let waitMs: number | undefined
      let failure: Error
      try {
        calls++
        const timeout = AbortSignal.timeout(options.timeoutMs)
        const res = await request(url, { method, headers, body, dispatcher, signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]) })
        const text = await res.body.text()
        const seconds = (performance.now() - started) / 1000
        if (res.statusCode === 429 || res.statusCode >= 500) {
          options.upstream?.record({ target: 'athoc', operation, outcome: 'error', seconds })
          waitMs = retryAfterMs(res.headers['retry-after'], now())
          failure = new RetryableError(`AtHoc ${operation} answered ${res.statusCode}`, { code: `ATHOC_${res.statusCode}`, ...(waitMs === undefined ? {} : { retryAfterMs: waitMs }) })
        } else {
          options.upstream?.record({ target: 'athoc', operation, outcome: res.statusCode < 400 ? 'ok' : 'error', seconds })
          let json: unknown = null
          if (text !== '') {
            try { json = JSON.parse(text) } catch {
              if (res.statusCode < 400) throw new RetryableError(`AtHoc ${operation} answered ${res.statusCode} with a body that is not JSON`, { code: 'ATHOC_BAD_BODY' })
              json = text.slice(0, 300)
            }
          }
          return { status: res.statusCode, json }
        }
      } catch (err) {
        if (signal?.aborted === true) throw err
        if (err instanceof RetryableError && err.code === 'ATHOC_BAD_BODY') throw err
        options.upstream?.record({ target: 'athoc', operation, outcome: 'error', seconds: (performance.now() - started) / 1000 })
        const name = (err as Error).name
        failure = new RetryableError(`AtHoc ${operation} failed: ${name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${options.timeoutMs} ms` : (err as Error).message}`, { code: 'ATHOC_NETWORK', cause: err })
      }
      if (attempt >= options.retries) throw failure
      const backoff = options.retryBaseMs * 2 ** attempt
      await sleep(Math.min(waitMs ?? backoff, options.retryMaxWaitMs), undefined, signal === undefined ? undefined : { signal })
    }
  }

  async function fetchToken (signal?: AbortSignal): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: options.clientId,
      client_secret: options.clientSecret,
      username: options.username,
      password: options.password,
      scope: options.scope,
      acr_values: `tenant:${options.orgCode}`
    })
    const requestedAt = now()
    const { status, json } = await send('token', 'POST', `${base}/AuthServices/Auth/connect/token`, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, form.toString(), signal)
    const body = (json ?? {}) as { access_token?: unknown, expires_in?: unknown, error?: unknown }
    if (status >= 400) throw new PermanentError(`AtHoc token request rejected (${status}${typeof body.error === 'string' ? `: ${body.error}` : ''}); check ATHOC_CLIENT_ID/SECRET, ATHOC_USERNAME/PASSWORD and ATHOC_ORG_CODE`, { code: 'ATHOC_AUTH' })
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new PermanentError('AtHoc token response has no access_token', { code: 'ATHOC_AUTH' })
    const lifetimeMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600) * 1000
    // Refresh ahead of expiry: a minute early, or at 80 % of a short lifetime.
    token = { value: body.access_token, expiresAt: requestedAt + Math.max(lifetimeMs - 60_000, lifetimeMs * 0.8) }
    return token.value
  }

  async function accessToken (signal?: AbortSignal): Promise<string> {
    if (token !== null && now() < token.expiresAt) return token.value
    pendingToken ??= fetchToken(signal).finally(() => { pendingToken = null })
    return pendingToken
  }

  /** An authenticated API call; a 401 drops the cached token and retries once with a fresh one. */
  async function api (operation: string, method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    checkConfigured()
    for (let authAttempt = 0; ; authAttempt++) {
      const bearer = await accessToken(signal)
      const { status, json } = await send(operation, method, `${base}${path}`, {
        authorization: `Bearer ${bearer}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' })
      }, body === undefined ? undefined : JSON.stringify(body), signal)
      if (status === 401 && authAttempt === 0) {
        if (token?.value === bearer) token = null
        continue
      }
      if (status >= 400) {
        const detail = typeof json === 'string' ? json : JSON.stringify(json ?? '').slice(0, 300)
        throw new PermanentError(`AtHoc ${operation} answered ${status}: ${detail}`, { code: `ATHOC_${status}` })
      }
      return json
    }
  }

  const orgPath = (): string => `/api/v2/orgs/${encodeURIComponent(options.orgCode)}`

  /**
   * Every user matching the query, page by page. Stops on an empty or short page, when TotalUsers is reached,
   * or when a page starts with the same LOGIN_ID as the previous one (a server ignoring Offset).
   */
  async function searchAllUsers (fields: string[], criteria: string | undefined, signal?: AbortSignal): Promise<AthocUser[]> {
    const users: AthocUser[] = []
    let previousFirst: unknown
    for (let page = 0; ; page++) {
      const query = new URLSearchParams({ Fields: fields.join(','), Limit: String(options.pageSize), Offset: String(options.pagingMode === 'page' ? page : page * options.pageSize) })
      if (criteria !== undefined) query.set('Criteria', criteria)
      const json = await api('users.search', 'GET', `${orgPath()}/users/search/basic?${query.toString()}`, undefined, signal) as { Users?: unknown, TotalUsers?: unknown }
      const batch = Array.isArray(json?.Users) ? json.Users as AthocUser[] : []
      if (batch.length === 0) break
      if (page > 0 && batch[0]?.LOGIN_ID === previousFirst) break
      previousFirst = batch[0]?.LOGIN_ID
      users.push(...batch)
      const total = typeof json.TotalUsers === 'number' ? json.TotalUsers : undefined
      if (batch.length < options.pageSize || (total !== undefined && users.length >= total)) break
    }
    return users
  }

  /** One SyncByCommonNames call: never creates users, all-or-nothing per user. Returns AtHoc's per-user echo. */
  async function syncByCommonNames (users: Array<Record<string, string>>, signal?: AbortSignal): Promise<SyncResult[]> {
    const json = await api('users.sync', 'POST', `${orgPath()}/users/SyncByCommonNames?syncExistingUsersOnly=true&AllowPartialUpdate=false`, users, signal)
    if (!Array.isArray(json)) throw new RetryableError('AtHoc SyncByCommonNames answered something other than an array', { code: 'ATHOC_BAD_BODY' })
    return json as SyncResult[]
  }

  return {
    checkConfigured,
    searchAllUsers,
    syncByCommonNames,
    /** HTTP requests made so far (token calls and retries included). */
    calls: () => calls,
    close: async () => { await dispatcher.close() }
  }
}

export type AthocClient = ReturnType<typeof createAthocClient>
