export interface ErrorDetail { field: string, message: string }

/** An error that becomes `{statusCode, error, message, details?}` with its status code. */
export class HttpError extends Error {
  readonly statusCode: number
  readonly details: ErrorDetail[] | undefined
  constructor (statusCode: number, message: string, details?: ErrorDetail[]) {
    super(message)
    this.name = 'HttpError'
    this.statusCode = statusCode
    this.details = details
  }
}

export function httpError (statusCode: number, message: string, details?: ErrorDetail[]): HttpError {
  return new HttpError(statusCode, message, details)
}
