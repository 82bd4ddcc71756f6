import http from 'node:http'
import https from 'node:https'
import { createRequire } from 'node:module'
import { PassThrough } from 'node:stream'
import { JobError, type UpstreamMetrics } from '../../integration.js'
import { serializeMethodCall } from './xml-request.js'
import { parseMethodResponse, type ParsedResponse } from './xml-response.js'

const require = createRequire(import.meta.url)
// The package's encoder and decoder, for what the fast ones leave to them (its public API only exposes the
// callback-style Client/Server).
const Serializer = require('xmlrpc/lib/serializer.js') as { serializeMethodCall: (method: string, params: unknown[]) => string }
const Deserializer = require('xmlrpc/lib/deserializer.js') as new () => { deserializeMethodResponse: (stream: NodeJS.ReadableStream, cb: (err: (Error & { faultCode?: unknown, faultString?: unknown }) | null | undefined, value?: unknown) => void) => void }

/** The `xmlrpc` package's own Deserializer, for answers the fast reader does not handle. */
function parseWithPackage (text: string): Promise<ParsedResponse> {
  return new Promise((resolve) => {
    const stream = new PassThrough()
    let done = false
    new Deserializer().deserializeMethodResponse(stream, (err, value) => {
      if (done) return
      done = true
      if (err === null || err === undefined) resolve({ ok: true, value })
      else if (err.faultCode !== undefined) resolve({ ok: false, fault: err })
      else resolve({ ok: false, fault: { faultCode: 'PARSE', faultString: `invalid XML-RPC answer: ${err.message}` } })
    })
    stream.end(text)
  })
}

/** What kind of failure an Odoo call ended with; decides whether a retry can help. */
export type OdooErrorKind = 'auth' | 'access' | 'user' | 'server' | 'http' | 'network' | 'timeout' | 'config'

const RETRYABLE_KINDS: ReadonlySet<OdooErrorKind> = new Set(['network', 'timeout', 'http'])

/**
 * A failed Odoo call. It is a JobError so a job handler can let it through: network errors, timeouts and
 * 5xx answers are retried, rejected credentials, missing rights and bad requests are not.
 */
export class OdooError extends JobError {
  readonly kind: OdooErrorKind
  readonly faultCode: number | string | undefined
  readonly httpStatus: number | undefined
  constructor (kind: OdooErrorKind, message: string, options: { faultCode?: number | string, httpStatus?: number, retryable?: boolean, cause?: unknown } = {}) {
    super(message, { code: `ODOO_${kind.toUpperCase()}`, retryable: options.retryable ?? RETRYABLE_KINDS.has(kind), cause: options.cause })
    this.name = 'OdooError'
    this.kind = kind
    this.faultCode = options.faultCode
    this.httpStatus = options.httpStatus
  }
}

export interface OdooClientOptions {
  url: string
  db: string
  username: string
  password: string
  timeoutMs: number
  upstream?: UpstreamMetrics
}

export interface CallOptions {
  signal?: AbortSignal
  /**
   * Runs the HTTP exchange (request sent, answer received, time limit counted from its start), so a caller can
   * bound the calls Odoo serves at once without a slot being held while an answer is read. A slot that throws
   * instead ends the call with its error; the call is then not sent.
   */
  slot?: <T>(exchange: () => Promise<T>) => Promise<T>
}

export type OdooDomain = unknown[]

/** The subset of Odoo's external API the gateway uses; kept small so another transport (JSON-2) can replace it. */
export interface OdooClient {
  version: (options?: CallOptions) => Promise<{ server_version?: string } & Record<string, unknown>>
  /** The uid; throws a non-retryable `auth` error when Odoo answers `false`. */
  authenticate: (options?: CallOptions) => Promise<number>
  executeKw: <T = unknown>(model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>, options?: CallOptions) => Promise<T>
  close: () => void
}

/** Keeps the first useful line of a fault string: Odoo puts a whole Python traceback in code-1 faults. */
export function faultSummary (faultString: string): string {
  const lines = faultString.split('\n').map((line) => line.trim()).filter((line) => line !== '')
  if (lines.length === 0) return 'no message'
  if (lines[0]?.startsWith('Traceback')) {
    // The exception line ("ValueError: Invalid field 'x' on model 'y'") and what Python printed after it (a
    // psycopg2 error continues on the next line: "Is the server running on that host …").
    let at = lines.length - 1
    while (at > 0 && !/^[A-Za-z_][\w.]*: /.test(lines[at] as string)) at--
    const summary = (at > 0 ? lines.slice(at) : lines.slice(-1)).join(' ')
    return summary.length > 300 ? `${summary.slice(0, 297)}...` : summary
  }
  return lines[0] as string
}

function faultError (err: XmlRpcFault, operation: string): OdooError {
  const code = typeof err.faultCode === 'string' && /^\d+$/.test(err.faultCode) ? Number(err.faultCode) : err.faultCode
  const text = faultSummary(String(err.faultString ?? ''))
  // Legacy /xmlrpc/ endpoints send string codes; map them the same way.
  if (code === 3 || code === 'AccessDenied') return new OdooError('auth', `Odoo rejected the credentials (${operation}: ${text})`, { faultCode: 3 })
  if (code === 4 || (typeof code === 'string' && code.includes('AccessError'))) return new OdooError('access', `Odoo denied access (${operation}): ${text}`, { faultCode: 4 })
  if (code === 2 || (typeof code === 'string' && code.startsWith('warning'))) return new OdooError('user', `Odoo refused the request (${operation}): ${text}`, { faultCode: 2 })
  return new OdooError('server', `Odoo server error (${operation}): ${text}`, {
    faultCode: typeof code === 'number' || typeof code === 'string' ? code : 1,
    retryable: transientServerFault(String(err.faultString ?? ''))
  })
}

/** A short description of a non-XML-RPC body: an HTML page's title, or the start of the text. */
function describeBody (body: string | undefined): string {
  if (body === undefined || body.trim() === '') return 'an empty body'
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim()
  const isHtml = /<(!doctype html|html|title|body)\b/i.test(body)
  const text = (title !== undefined && title !== '' ? title : body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim()
  const short = text.length > 120 ? `${text.slice(0, 117)}...` : text
  return `${isHtml ? 'an HTML page' : 'a body that is not XML-RPC'}${short === '' ? '' : ` ("${short}")`}`
}

/** Odoo's code-1 faults that are transient (a concurrent update, a lock): another attempt can succeed. */
const TRANSIENT_SERVER_FAULT = /SerializationFailure|could not serialize|TransactionRollbackError|LockNotAvailable|deadlock/i

/**
 * Also transient: Odoo up while its PostgreSQL is down or restarting (psycopg2.OperationalError: connection
 * refused, the database system is starting up). A database that does not exist is a configuration error.
 */
function transientServerFault (faultString: string): boolean {
  if (TRANSIENT_SERVER_FAULT.test(faultString)) return true
  return /OperationalError/.test(faultString) && !/database "[^"]*" does not exist/.test(faultString)
}

interface XmlRpcFault { faultCode?: unknown, faultString?: unknown }

/**
 * A thin XML-RPC client for Odoo's `common` and `object` services. Calls are written and answers read by fast
 * readers and writers of their own (xml-request.ts, xml-response.ts), with the `xmlrpc` package's Serializer
 * and Deserializer for anything unusual. The package has no timeout, so every call has an AbortSignal that
 * fires after `timeoutMs` and destroys the socket. HTTP is handled here so a proxy's HTML error page is
 * reported with its status.
 */
export function createOdooClient (options: OdooClientOptions): OdooClient {
  if (!/^https?:\/\//.test(options.url)) throw new OdooError('config', 'ODOO_URL must start with http:// or https://')
  const base = new URL(options.url)
  const secure = base.protocol === 'https:'
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 16 }) : new http.Agent({ keepAlive: true, maxSockets: 16 })
  const prefix = base.pathname.replace(/\/+$/, '')
  let uid: number | null = null

  /** POSTs the call; resolves with the HTTP status and the body's bytes (read as bytes, see xml-response.ts). */
  function post (path: string, body: string, signal: AbortSignal): Promise<{ status: number, bytes: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request({
        host: base.hostname,
        port: base.port === '' ? (secure ? 443 : 80) : Number(base.port),
        path,
        method: 'POST',
        agent,
        signal,
        headers: { 'content-type': 'text/xml', accept: 'text/xml', 'content-length': Buffer.byteLength(body), 'user-agent': 'integration-gateway' }
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }) })
        res.on('error', reject)
        res.on('aborted', () => { reject(Object.assign(new Error('the response was cut off'), { code: 'ECONNRESET' })) })
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  /**
   * One HTTP exchange within the time limit, ending with an XML-RPC answer's bytes; an abort of `signal` ends
   * it with the signal's reason. Anything but an XML-RPC answer fails here, inside the caller's slot.
   */
  async function exchange (path: string, body: string, operation: string, signal: AbortSignal | undefined): Promise<Buffer> {
    const { status, bytes } = await send(path, body, operation, signal)
    if (status !== 200 || !bytes.includes('<methodResponse')) {
      const text = bytes.toString('utf8')
      // A proxy error page, a redirect to a login page or an empty body: name the HTTP status.
      const retryable = status >= 500 || status === 429 || status === 408
      const described = text.trim() === '' ? (status === 200 ? ' with an empty body' : '') : ` with ${describeBody(text)}`
      throw new OdooError('http', `Odoo answered HTTP ${status}${described} instead of XML-RPC (${operation})`, { httpStatus: status, retryable })
    }
    return bytes
  }

  /** The POST within the time limit: a timeout, a network failure or the caller's abort, each named. */
  async function send (path: string, body: string, operation: string, signal: AbortSignal | undefined): Promise<{ status: number, bytes: Buffer }> {
    signal?.throwIfAborted()
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; controller.abort() }, options.timeoutMs)
    const onOuterAbort = (): void => { controller.abort() }
    signal?.addEventListener('abort', onOuterAbort, { once: true })
    try {
      return await post(path, body, controller.signal)
    } catch (err) {
      if (signal?.aborted === true && !timedOut) throw signal.reason ?? err
      if (timedOut) throw new OdooError('timeout', `Odoo did not answer ${operation} within ${options.timeoutMs} ms`, { cause: err })
      const code = (err as { code?: string }).code
      throw new OdooError('network', `cannot reach Odoo (${operation}): ${code ?? (err as Error).message}`, { cause: err })
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onOuterAbort)
    }
  }

  async function call<T> (service: 'common' | 'object', method: string, params: unknown[], operation: string, callOptions: CallOptions = {}): Promise<T> {
    let started = performance.now()
    let outcome: 'ok' | 'error' = 'error'
    // A call its slot refused never reached Odoo: it is not counted as one.
    let sent = false
    try {
      const body = serializeMethodCall(method, params) ?? Serializer.serializeMethodCall(method, params)
      const answer = (): Promise<Buffer> => {
        sent = true
        started = performance.now()
        return exchange(`${prefix}/xmlrpc/2/${service}`, body, operation, callOptions.signal)
      }
      const bytes = await (callOptions.slot === undefined ? answer() : callOptions.slot(answer))
      const parsed = parseMethodResponse(bytes) ?? await parseWithPackage(bytes.toString('utf8'))
      if (!parsed.ok) throw faultError(parsed.fault, operation)
      outcome = 'ok'
      return parsed.value as T
    } finally {
      if (sent) options.upstream?.record({ target: 'odoo', operation, outcome, seconds: (performance.now() - started) / 1000 })
    }
  }

  async function authenticate (callOptions?: CallOptions): Promise<number> {
    const result = await call<unknown>('common', 'authenticate', [options.db, options.username, options.password, {}], 'authenticate', callOptions)
    const value = typeof result === 'string' && /^\d+$/.test(result) ? Number(result) : result
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      uid = null
      throw new OdooError('auth', `Odoo rejected the credentials of ${JSON.stringify(options.username)} on database ${JSON.stringify(options.db)}`)
    }
    uid = value
    return value
  }

  async function executeKw<T> (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}, callOptions?: CallOptions): Promise<T> {
    const currentUid = uid ?? await authenticate(callOptions)
    try {
      return await call<T>('object', 'execute_kw', [options.db, currentUid, options.password, model, method, args, kwargs], method, callOptions)
    } catch (err) {
      if (err instanceof OdooError && err.kind === 'auth') uid = null
      throw err
    }
  }

  return {
    version: (callOptions) => call('common', 'version', [], 'version', callOptions),
    authenticate,
    executeKw,
    close: () => { agent.destroy() }
  }
}
