import type { AnyBulkWriteOperation, Collection, Db, Document } from 'mongodb'
import { ensureIndexes } from '../../integration.js'
import type { RejectedRow } from './csv.js'

export type FileStatus = 'incoming' | 'processed' | 'failed' | 'missing'
export type FileOutcome = 'processed' | 'retry' | 'failed' | 'interrupted' | 'missing'

/** One CSV file the integration knows about (the original's file_retry_tracking row, plus counts). */
export interface BoboFileRecord {
  _id: string
  /** Current name inside its folder (incoming, processed or failed). */
  name: string
  /** The client's file name for uploads (informational only, never used as a path). */
  originalName: string | null
  source: 'upload' | 'drop'
  status: FileStatus
  size: number
  receivedAt: Date
  firstSeen: Date
  retryCount: number
  lastRetry: Date | null
  lastError: string | null
  lastOutcome: FileOutcome | null
  /** The job that last handled the file (processed it, or counted a failed attempt); absent until one has. */
  lastJobId?: string | null
  rows: number | null
  accepted: number | null
  rejected: number | null
  updatedAt: Date
}

/** Processing log: one record per file per attempt. */
export interface ProcessingLogEntry {
  _id: string
  batchId: string
  fileId: string
  name: string
  at: Date
  attempt: number
  rows: number
  accepted: number
  rejected: number
  /** The first rejected rows (line + reason). */
  rejectedRows: RejectedRow[]
  users: number
  usersUpdated: number
  unknownEmployees: number
  skippedOlder: number
  failures: Array<{ login: string, reason: string }>
  failureCount: number
  outcome: FileOutcome
  error: string | null
  /** The job that made this attempt (absent in entries written before it was recorded). */
  jobId?: string | null
}

export interface MappingRecord { _id: string, login: string, collar: string, updatedAt: Date }

/** Last applied event time per employee, grouped into a few bucket documents so a batch writes them in one go. */
export interface DutyStateBucket { _id: string, entries: Array<{ id: string, t: number }> }

export interface BatchIntent {
  _id: string
  state: 'sending' | 'moving'
  createdAt: Date
  fileIds: string[]
  /** Set in state `moving`: what each file becomes (idempotent to re-apply). */
  moves?: Array<{ fileId: string, from: string, to: string | null, set: Partial<BoboFileRecord> }>
}

export interface SyncTracking {
  _id: string
  lastSyncDate: string | null
  lastSyncAt: Date | null
  lastSuccessAt: Date | null
  status: 'completed' | 'no_data' | 'error'
  message: string | null
  users: number
  /** Changes whenever the mapping collection changes (lets processors reuse a cached copy). */
  mappingVersion?: string
}

export const DUTY_BUCKETS = 16
export const BULK_LIMIT = 90

export function bucketOf (employeeId: string): string {
  let h = 0
  for (let i = 0; i < employeeId.length; i++) h = (h * 31 + employeeId.charCodeAt(i)) >>> 0
  return `b${h % DUTY_BUCKETS}`
}

/** Runs bulk operations in slices FerretDB handles well. */
export async function bulkInSlices<T extends Document> (collection: Collection<T>, ops: Array<AnyBulkWriteOperation<T>>): Promise<void> {
  for (let i = 0; i < ops.length; i += BULK_LIMIT) await collection.bulkWrite(ops.slice(i, i + BULK_LIMIT), { ordered: false })
}

/** Mappings held in memory while their version in syncTracking is unchanged. */
export interface MappingCache { version: string | null, map: Map<string, string> | null }

export function createBoboStore (db: Db) {
  const files = db.collection<BoboFileRecord>('boboFiles')
  const log = db.collection<ProcessingLogEntry>('boboProcessingLog')
  const mappings = db.collection<MappingRecord>('workerMappings')
  const dutyState = db.collection<DutyStateBucket>('boboDutyState')
  const batches = db.collection<BatchIntent>('boboBatches')
  const tracking = db.collection<SyncTracking>('syncTracking')

  const mappingCache: MappingCache = { version: null, map: null }

  /** employee id → login for the given ids; the whole table from cache when its version is current. */
  async function lookupMappings (ids: string[]): Promise<Map<string, string>> {
    const tracking = await db.collection<SyncTracking>('syncTracking').findOne({ _id: 'user_mapping' }, { projection: { mappingVersion: 1 } })
    const version = tracking?.mappingVersion ?? null
    if (version !== null && version === mappingCache.version && mappingCache.map !== null) return mappingCache.map
    const map = new Map<string, string>()
    if (version === null && ids.length <= 2000) {
      for (const m of await mappings.find({ _id: { $in: ids } }).project<{ _id: string, login: string }>({ login: 1 }).toArray()) map.set(m._id, m.login)
      return map
    }
    for (const m of await mappings.find({}).project<{ _id: string, login: string }>({ login: 1 }).toArray()) map.set(m._id, m.login)
    if (version !== null) Object.assign(mappingCache, { version, map })
    return map
  }

  return {
    mappingCache,
    lookupMappings,
    files,
    log,
    mappings,
    dutyState,
    batches,
    tracking,
    async init (): Promise<void> {
      await ensureIndexes(files, [
        { key: { status: 1, receivedAt: 1 }, name: 'status_receivedAt' },
        { key: { updatedAt: -1 }, name: 'updatedAt' }
      ])
      await ensureIndexes(log, [{ key: { fileId: 1, at: -1 }, name: 'fileId_at' }, { key: { batchId: 1 }, name: 'batchId' }])
    },
    async loadDutyState (): Promise<Map<string, number>> {
      const state = new Map<string, number>()
      for (const bucket of await dutyState.find({}).toArray()) for (const { id, t } of bucket.entries) state.set(id, t)
      return state
    },
    /** Writes the buckets that hold any of the changed employees (whole bucket documents, one bulk call). */
    async saveDutyState (state: Map<string, number>, changed: Iterable<string>): Promise<void> {
      const touched = new Set<string>()
      for (const id of changed) touched.add(bucketOf(id))
      if (touched.size === 0) return
      const buckets = new Map<string, Array<{ id: string, t: number }>>()
      for (const b of touched) buckets.set(b, [])
      for (const [id, t] of state) buckets.get(bucketOf(id))?.push({ id, t })
      await bulkInSlices(dutyState, [...buckets].map(([id, entries]) => ({ replaceOne: { filter: { _id: id }, replacement: { entries }, upsert: true } })))
    }
  }
}

export type BoboStore = ReturnType<typeof createBoboStore>
