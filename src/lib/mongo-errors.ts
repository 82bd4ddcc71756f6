import { MongoBulkWriteError, MongoError, MongoNetworkError, MongoServerSelectionError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb'

const DUPLICATE_KEY_CODES: ReadonlySet<unknown> = new Set([11000, 11001])

export function isDuplicateKeyError (err: unknown): boolean {
  return err instanceof MongoError && DUPLICATE_KEY_CODES.has(err.code)
}

/**
 * Inserts `doc` unless a document with its unique key exists. True when this call inserted it: the one
 * outcome every supported server decides atomically, so contested steps (claims, takeovers) hinge on it.
 */
export async function insertOnce<T extends Document> (collection: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await collection.insertOne(doc)
    return true
  } catch (err) {
    if (isDuplicateKeyError(err)) return false
    throw err
  }
}

/**
 * Inserts `docs` in one unordered `insertMany`; for each, true when this call inserted it, false when a
 * document with its unique key existed. Any other error fails the whole call (the caller cannot tell which
 * documents went in, and inserting them again is harmless: they are then reported as existing).
 */
export async function insertManyOnce<T extends Document> (collection: Collection<T>, docs: Array<OptionalUnlessRequiredId<T>>): Promise<boolean[]> {
  const inserted = docs.map(() => true)
  if (docs.length === 0) return inserted
  try {
    await collection.insertMany(docs, { ordered: false })
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]
    if (writeErrors.length === 0 || writeErrors.some((e) => !DUPLICATE_KEY_CODES.has(e.code))) throw err
    for (const e of writeErrors) inserted[e.index] = false
  }
  return inserted
}

/** Socket errors the driver can let through unwrapped, e.g. EPIPE ("This socket has been ended by the other party"). */
const SOCKET_ERROR_CODES: ReadonlySet<unknown> = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Errors worth another try: the server was unreachable or stepped down, not that the operation was wrong. */
export function isTransientMongoError (err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true
  if (!(err instanceof MongoError) && err instanceof Error && SOCKET_ERROR_CODES.has((err as NodeJS.ErrnoException).code)) return true
  if (err instanceof MongoError) {
    if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError')) return true
    // NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, InterruptedAtShutdown, ShutdownInProgress
    return [10107, 13435, 13436, 11600, 91, 189].includes(Number(err.code))
  }
  return false
}

/**
 * Errors that clear on their own and are worth another try: the transient ones above, plus a busy server's
 * (execution or write-concern time-outs, and FerretDB-on-SQLite's "database is locked" (SQLITE_BUSY), which
 * a concurrent writer such as a job's heartbeat can cause).
 */
export function isRetryableStorageError (err: unknown, depth = 0): boolean {
  if (isTransientMongoError(err)) return true
  // A bulk write that failed without write errors did not get its answer (the connection went): its outcome is
  // unknown, and every bulk write here is an idempotent insert.
  if (err instanceof MongoBulkWriteError && (Array.isArray(err.writeErrors) ? err.writeErrors.length === 0 : err.writeErrors === undefined)) return true
  // Wrapped errors carry the driver's original one as their cause.
  if (err instanceof Error && err.cause !== undefined && depth < 3 && isRetryableStorageError(err.cause, depth + 1)) return true
  if (err instanceof MongoError) {
    // ExceededTimeLimit, MaxTimeMSExpired, WriteConcernFailed, NetworkTimeout
    if ([262, 50, 64, 89].includes(Number(err.code))) return true
    if (/SQLITE_BUSY|database is locked/i.test(err.message)) return true
  }
  return false
}
