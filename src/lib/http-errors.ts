export interface ErrorDetail { field: string, message: string }

/** An error that becomes `{statusCode, error, message, details?}` with its status code (and any headers). */
export class HttpError extends Error {
  readonly statusCode: number
  readonly details: ErrorDetail[] | undefined
  readonly headers: Record<string, string>
  constructor (statusCode: number, message: string, details?: ErrorDetail[], headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
    this.statusCode = statusCode
    this.details = details
    this.headers = headers
  }
}

export function httpError (statusCode: number, message: string, details?: ErrorDetail[], headers?: Record<string, string>): HttpError {
  return new HttpError(statusCode, message, details, headers)
}

/** How many problems the message of a 400 spells out; `details` lists up to MAX_DETAILS. */
const PROBLEMS_IN_MESSAGE = 5
const MAX_DETAILS = 100

/**
 * The 400 for a request that breaks its route's rules, in the one style every route uses: each detail names
 * the field (`from`, `events/3/employee_id`, `querystring/limit`) and says what it must be, as a phrase that
 * follows the field name ("is required", "must be one of …", "must be at most 366 days after from").
 */
export function invalidRequest (details: ErrorDetail[]): HttpError {
  const shown = details.slice(0, PROBLEMS_IN_MESSAGE).map((d) => `${d.field} ${d.message}`)
  const more = details.length > PROBLEMS_IN_MESSAGE ? `; and ${details.length - PROBLEMS_IN_MESSAGE} more problems (see details)` : ''
  return new HttpError(400, `invalid request: ${shown.join('; ')}${more}`, details.slice(0, MAX_DETAILS))
}
