/**
 * A fake AtHoc on loopback speaking the API v2 contract the gateway uses (see bobo-athoc.md §2-4, §10):
 * OAuth2 password grant with expiring tokens, paged users/search/basic with Fields and Criteria (`pr`, `lt`,
 * `eq`), SyncByCommonNames with per-user :SyncStatus. Faults (latency, 429, 5xx, hangs, Partial and other
 * per-user errors, users left out of the answer) can be injected; field values are kept for assertions.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

export interface SimulatorOptions {
  orgCode?: string
  clientId?: string
  clientSecret?: string
  username?: string
  password?: string
  /** Token lifetime in seconds. */
  tokenLifetimeS?: number
  pagingMode?: 'page' | 'record'
  /** Most users returned per search page, whatever Limit asks. */
  maxPageSize?: number
  port?: number
  /** Serve HTTPS with this key and certificate (PEM), e.g. a self-signed pair for ATHOC_TLS_INSECURE tests. */
  tls?: { key: string, cert: string }
}

export interface Fault {
  /** Which calls it applies to. */
  operation: 'token' | 'search' | 'sync' | 'any'
  /** HTTP status to answer instead (429, 500, 503…). */
  status?: number
  retryAfter?: string
  /** Delay before answering (ms). */
  delayMs?: number
  /** Never answer (the client must time out). */
  hang?: boolean
  /** How many calls it affects (default 1). */
  times?: number
}

export interface SyncCall { at: number, users: Array<Record<string, string>> }

const DATE = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/
function athocDate (value: unknown): number | null {
  const m = typeof value === 'string' ? DATE.exec(value) : null
  if (m === null) return null
  const [d, mo, y, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s)
}

type Predicate = (user: Record<string, string>) => boolean

/** The subset of AtHoc's criteria grammar the integration sends: `F pr`, `F lt 'v'`, `F eq 'v'`, `and`, `or`, parentheses. */
function parseCriteria (text: string): Predicate {
  const tokens = text.match(/\(|\)|'(?:[^']|'')*'|[^\s()]+/g) ?? []
  let i = 0
  const peek = (): string | undefined => tokens[i]
  function primary (): Predicate {
    if (peek() === '(') { i++; const p = or(); i++; return p }
    const field = tokens[i++] as string
    const op = (tokens[i++] ?? '').toLowerCase()
    if (op === 'pr') return (u) => (u[field] ?? '') !== ''
    const raw = tokens[i++] ?? "''"
    const value = raw.slice(1, -1).replaceAll("''", "'")
    if (op === 'eq') return (u) => (u[field] ?? '') === value
    if (op === 'lt') {
      const limit = athocDate(value)
      return (u) => { const v = athocDate(u[field]); return v !== null && limit !== null && v < limit }
    }
    throw new Error(`unsupported operator ${op}`)
  }
  function and (): Predicate {
    let left = primary()
    while (peek()?.toLowerCase() === 'and') { i++; const l = left; const r = primary(); left = (u) => l(u) && r(u) }
    return left
  }
  function or (): Predicate {
    let left = and()
    while (peek()?.toLowerCase() === 'or') { i++; const l = left; const r = and(); left = (u) => l(u) || r(u) }
    return left
  }
  return or()
}

export async function startAthocSimulator (options: SimulatorOptions = {}) {
  const org = options.orgCode ?? 'SIMORG'
  const creds = {
    client_id: options.clientId ?? 'sim-client',
    client_secret: options.clientSecret ?? 'sim-secret',
    username: options.username ?? 'sim-operator',
    password: options.password ?? 'sim-password'
  }
  const state = {
    tokenLifetimeS: options.tokenLifetimeS ?? 3600,
    pagingMode: options.pagingMode ?? 'page' as 'page' | 'record',
    maxPageSize: options.maxPageSize ?? 1000
  }
  /** LOGIN_ID → attributes (LOGIN_ID included). Insertion order is the search order. */
  const users = new Map<string, Record<string, string>>()
  let nextId = 0
  const tokens = new Map<string, number>()
  const faults: Fault[] = []
  /** Per-login sync behaviours. */
  const partial = new Set<string>()
  const failing = new Set<string>()
  const omitted = new Set<string>()
  const syncCalls: SyncCall[] = []
  const counts = { token: 0, search: 0, sync: 0, unauthorized: 0 }
  const inFlight = { sync: 0 }
  /** Test hooks: run after each answered SyncByCommonNames call (n = calls so far). */
  const hooks: { afterSync?: (n: number) => void, beforeSync?: (n: number) => Promise<void> | void } = {}
  const sockets = new Set<import('node:net').Socket>()

  function takeFault (operation: Fault['operation']): Fault | undefined {
    const index = faults.findIndex((f) => f.operation === operation || f.operation === 'any')
    if (index < 0) return undefined
    const fault = faults[index] as Fault
    fault.times = (fault.times ?? 1) - 1
    if (fault.times <= 0) faults.splice(index, 1)
    return fault
  }

  function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
    res.end(text)
  }

  async function readBody (req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }

  function authorized (req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? ''
    const token = header.startsWith('Bearer ') ? header.slice(7) : ''
    const expiresAt = tokens.get(token)
    return expiresAt !== undefined && Date.now() < expiresAt
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim')
    const operation: Fault['operation'] = url.pathname.endsWith('/connect/token') ? 'token' : url.pathname.endsWith('/users/search/basic') ? 'search' : url.pathname.endsWith('/users/SyncByCommonNames') ? 'sync' : 'any'
    const body = await readBody(req)
    const fault = operation === 'any' ? undefined : takeFault(operation)
    if (fault?.hang === true) return // the socket stays open; the client's timeout ends it
    if (fault?.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
    if (fault?.status !== undefined) {
      json(res, fault.status, { error: `injected ${fault.status}` }, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter })
      return
    }

    if (req.method === 'POST' && url.pathname === '/AuthServices/Auth/connect/token') {
      counts.token++
      const form = new URLSearchParams(body)
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) { json(res, 400, { error: 'invalid_request' }); return }
      if (form.get('grant_type') !== 'password') { json(res, 400, { error: 'unsupported_grant_type' }); return }
      if (form.get('client_id') !== creds.client_id || form.get('client_secret') !== creds.client_secret) { json(res, 400, { error: 'invalid_client' }); return }
      if (form.get('username') !== creds.username || form.get('password') !== creds.password) { json(res, 400, { error: 'invalid_grant' }); return }
      if (form.get('acr_values') !== `tenant:${org}`) { json(res, 400, { error: 'invalid_request', error_description: 'unknown tenant' }); return }
      const token = randomBytes(18).toString('base64url')
      tokens.set(token, Date.now() + state.tokenLifetimeS * 1000)
      json(res, 200, { access_token: token, expires_in: state.tokenLifetimeS, token_type: 'Bearer', scope: form.get('scope') ?? '' })
      return
    }

    const prefix = `/api/v2/orgs/${org}/`
    if (!url.pathname.startsWith('/api/v2/orgs/')) { json(res, 404, { error: 'not found' }); return }
    if (!authorized(req)) { counts.unauthorized++; json(res, 401, { Message: 'Authorization has been denied for this request.' }); return }
    if (!url.pathname.startsWith(prefix)) { json(res, 403, { Message: 'wrong organization' }); return }

    if (req.method === 'GET' && url.pathname === `${prefix}users/search/basic`) {
      counts.search++
      const fields = (url.searchParams.get('Fields') ?? 'LOGIN_ID').split(',').map((f) => f.trim()).filter(Boolean)
      const limit = Math.min(Number(url.searchParams.get('Limit') ?? url.searchParams.get('limit') ?? 1000) || 1000, state.maxPageSize)
      const offsetParam = Number(url.searchParams.get('Offset') ?? 0) || 0
      const criteria = url.searchParams.get('Criteria')
      let matches = [...users.values()]
      if (criteria !== null && criteria.trim() !== '') {
        let predicate: Predicate
        try { predicate = parseCriteria(criteria) } catch (err) { json(res, 400, { Message: (err as Error).message }); return }
        matches = matches.filter(predicate)
      }
      const start = state.pagingMode === 'page' ? offsetParam * limit : offsetParam
      const page = matches.slice(start, start + limit).map((u) => Object.fromEntries(fields.map((f) => [f, u[f] ?? ''])))
      json(res, 200, { TotalUsers: matches.length, FetchedRecords: page.length, Users: page })
      return
    }

    if (req.method === 'POST' && url.pathname === `${prefix}users/SyncByCommonNames`) {
      counts.sync++
      if (url.searchParams.get('syncExistingUsersOnly')?.toLowerCase() !== 'true') { json(res, 400, { Message: 'this simulator only supports syncExistingUsersOnly=true' }); return }
      let input: unknown
      try { input = JSON.parse(body) } catch { json(res, 400, { Message: 'body is not JSON' }); return }
      if (!Array.isArray(input)) { json(res, 400, { Message: 'body must be an array' }); return }
      inFlight.sync++
      try {
        await hooks.beforeSync?.(counts.sync)
        const items = input as Array<Record<string, string>>
        syncCalls.push({ at: Date.now(), users: items })
        const answer: unknown[] = []
        for (const item of items) {
          const login = String(item.LOGIN_ID ?? '')
          if (omitted.has(login)) continue
          const user = users.get(login)
          if (user === undefined) { answer.push({ ...item, ':SyncStatus': 'Error', ':SyncDetails': `User: ${login} does not exists in the Organization`, USER_ID: null }); continue }
          if (partial.has(login)) { answer.push({ ...item, ':SyncStatus': 'Partial', ':SyncDetails': 'Some attributes were not updated', USER_ID: 1 }); continue }
          if (failing.has(login)) { answer.push({ ...item, ':SyncStatus': 'Error', ':SyncDetails': 'Invalid value for attribute', USER_ID: 1 }); continue }
          for (const [k, v] of Object.entries(item)) if (k !== 'LOGIN_ID') user[k] = String(v)
          answer.push({ ...item, ':SyncStatus': 'OK', ':SyncDetails': 'Updated', USER_ID: Number(user[':USER_ID'] ?? 0) })
        }
        json(res, 200, answer)
        hooks.afterSync?.(counts.sync)
      } finally { inFlight.sync-- }
      return
    }
    json(res, 404, { Message: 'no such endpoint in the simulator' })
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => { if (!res.headersSent) json(res, 500, { Message: String(err) }) })
  }
  const server: Server = options.tls === undefined ? createServer(listener) : createHttpsServer(options.tls, listener)
  server.on('connection', (socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)) })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const base = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`

  return {
    url: base,
    orgCode: org,
    credentials: creds,
    /** Environment variables that point the gateway at this simulator. */
    env (): Record<string, string> {
      return {
        ATHOC_URL: base,
        ATHOC_ORG_CODE: org,
        ATHOC_CLIENT_ID: creds.client_id,
        ATHOC_CLIENT_SECRET: creds.client_secret,
        ATHOC_USERNAME: creds.username,
        ATHOC_PASSWORD: creds.password,
        ATHOC_PAGING_MODE: state.pagingMode
      }
    },
    addUser (login: string, attributes: Record<string, string> = {}): void {
      users.set(login, { LOGIN_ID: login, ...attributes, ':USER_ID': String(users.get(login)?.[':USER_ID'] ?? 2_100_000 + nextId++) })
    },
    removeUser (login: string): void { users.delete(login) },
    user (login: string): Record<string, string> | undefined { return users.get(login) },
    users,
    field (login: string, name: string): string | undefined { return users.get(login)?.[name] },
    inject (fault: Fault): void { faults.push({ times: 1, ...fault }) },
    clearFaults (): void { faults.length = 0 },
    partial,
    failing,
    omitted,
    syncCalls,
    counts,
    inFlight,
    hooks,
    /** Makes every token issued so far expire now (a long run crossing token expiry). */
    expireTokens (): void { for (const t of tokens.keys()) tokens.set(t, 0) },
    setTokenLifetime (seconds: number): void { state.tokenLifetimeS = seconds },
    async close (): Promise<void> {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

export type AthocSimulator = Awaited<ReturnType<typeof startAthocSimulator>>
