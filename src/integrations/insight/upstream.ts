import { setTimeout as sleep } from 'node:timers/promises'
import type { UpstreamMetrics } from '../../integration.js'

/** An upstream answered with a status we do not retry, or retries ran out. */
export class UpstreamError extends Error {
  readonly status: number | null
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  constructor (message: string, options: { status?: number | null, retryable?: boolean, retryAfterMs?: number, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'UpstreamError'
    this.status = options.status ?? null
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
  }
}

export interface UpstreamResponse {
  status: number
  headers: Headers
  text: string
}

export interface RequestOptions {
  method: string
  url: string
  headers?: Record<string, string>
  body?: string
  /** Per-attempt time limit. */
  timeoutMs: number
  /** Aborts the whole call, retries included (job cancel, run deadline). */
  signal: AbortSignal
  /** Attempts after the first for 429, 5xx and network errors. */
  retries: number
  retryBaseMs: number
  /** Used in error messages and metrics, e.g. `insight GetStatus`. */
  target: string
  operation: string
  metrics?: UpstreamMetrics
  /** Called before a retry of this request (e.g. re-check a serial before re-POSTing it). */
  beforeRetry?: () => Promise<UpstreamResponse | null>
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date), capped at 5 minutes. */
export function retryAfterMs (value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const seconds = Number(value)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now
  if (!Number.isFinite(ms)) return undefined
  return Math.min(Math.max(0, ms), 300_000)
}

/**
 * One HTTP call with a per-attempt timeout and retries on 429, 5xx and network errors. The wait is the longer
 * of an exponential backoff with jitter and the upstream's Retry-After. Non-retryable statuses are returned to
 * the caller, which knows what they mean; retryable ones that run out of attempts throw.
 */
export async function request (options: RequestOptions): Promise<UpstreamResponse> {
  let lastError: UpstreamError | undefined
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    if (attempt > 0) {
      const backoff = Math.min(30_000, options.retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2)
      await sleep(Math.max(backoff, lastError?.retryAfterMs ?? 0), undefined, { signal: options.signal })
      if (options.beforeRetry !== undefined) {
        const settled = await options.beforeRetry()
        if (settled !== null) return settled
      }
    }
    options.signal.throwIfAborted()
    const started = performance.now()
    // One controller per attempt, unhooked afterwards: AbortSignal.any() on the run's long-lived signal would
    // keep a dependent per request for thousands of requests.
    const attemptController = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; attemptController.abort() }, options.timeoutMs)
    const onAbort = () => attemptController.abort(options.signal.reason)
    options.signal.addEventListener('abort', onAbort, { once: true })
    let response: Response
    let text: string
    try {
      response = await fetch(options.url, {
        method: options.method,
        headers: options.headers,
        body: options.body,
        signal: attemptController.signal
      })
      text = await response.text()
    } catch (err) {
      options.metrics?.record({ target: options.target, operation: options.operation, outcome: 'error', seconds: (performance.now() - started) / 1000 })
      if (options.signal.aborted) throw options.signal.reason
      lastError = new UpstreamError(`${options.target} ${options.operation}: ${timedOut ? `no answer within ${options.timeoutMs} ms` : `network error (${(err as Error).message})`}`, { retryable: true, cause: err })
      continue
    } finally {
      clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
    }
    const ok = response.status < 400
    options.metrics?.record({ target: options.target, operation: options.operation, outcome: ok ? 'ok' : 'error', seconds: (performance.now() - started) / 1000 })
    if (!RETRYABLE_STATUS.has(response.status)) return { status: response.status, headers: response.headers, text }
    lastError = new UpstreamError(`${options.target} ${options.operation}: HTTP ${response.status}`, {
      status: response.status,
      retryable: true,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after'))
    })
  }
  throw new UpstreamError(`${lastError?.message ?? options.target} (gave up after ${options.retries + 1} attempts)`, {
    status: lastError?.status ?? null,
    retryable: true,
    retryAfterMs: lastError?.retryAfterMs
  })
}

/** The start of a body for an error message: never the whole payload. */
export function snippet (text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}
