import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb'

export function isDuplicateKeyError (err: unknown): boolean {
  return err instanceof MongoError && (err.code === 11000 || err.code === 11001)
}

/** Errors worth another try: the server was unreachable or stepped down, not that the operation was wrong. */
export function isTransientMongoError (err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true
  if (err instanceof MongoError) {
    if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError')) return true
    // NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, InterruptedAtShutdown, ShutdownInProgress
    return [10107, 13435, 13436, 11600, 91, 189].includes(Number(err.code))
  }
  return false
}
