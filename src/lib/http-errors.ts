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
