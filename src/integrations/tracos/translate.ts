/**
 * Client ⇄ TracOS work-order translation: validation of client orders, date normalisation and the status
 * table (reference tracos.md §3). Pure functions, no I/O.
 */

export const TRACOS_STATUSES = ['deleted', 'completed', 'cancelled', 'on_hold', 'pending', 'in_progress'] as const
export type TracosStatus = typeof TRACOS_STATUSES[number]

/** Client flags in priority order: the first true one decides the status; none true means in progress. */
const FLAG_STATUS: Array<[ClientFlag, TracosStatus]> = [
  ['isDeleted', 'deleted'],
  ['isDone', 'completed'],
  ['isCanceled', 'cancelled'],
  ['isOnHold', 'on_hold'],
  ['isPending', 'pending']
]
export const CLIENT_FLAGS = ['isDeleted', 'isDone', 'isCanceled', 'isOnHold', 'isPending'] as const
export type ClientFlag = typeof CLIENT_FLAGS[number]

/** A work order as the client writes and reads it (one JSON object). */
export interface ClientWorkOrder {
  orderNo: number
  summary: string
  description?: string
  creationDate: string
  lastUpdateDate: string
  deletedDate: string | null
  isDeleted: boolean
  isDone: boolean
  isCanceled: boolean
  isOnHold: boolean
  isPending: boolean
  /** Outbound only: true exactly when the order is in progress (no other flag set). */
  isActive: boolean
}

/** The fields the gateway owns on a TracOS document (`workorders`); compared to detect a change. */
export interface TracosFields {
  number: number
  title: string
  description: string
  status: TracosStatus
  createdAt: Date
  updatedAt: Date
  deleted: boolean
  deletedAt: Date | null
}

export interface TracosWorkOrder extends TracosFields {
  revision?: number
  isSynced?: boolean
  syncedAt?: Date
}

export interface Problem {
  /** Index of the order in a file holding an array (absent for a single-object file). */
  item?: number
  orderNo?: unknown
  field: string
  message: string
}

// YYYY-MM-DD, optional time (T or space), optional fraction, optional Z or ±HH[:]MM offset.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/

/**
 * Parses an ISO 8601 timestamp to a UTC instant with millisecond precision (extra fraction digits are cut,
 * as MongoDB would). Naive timestamps are UTC, never the process's local zone. Null when not a valid date.
 */
export function parseIsoDate (value: string): Date | null {
  const m = ISO_8601.exec(value.trim())
  if (m === null) return null
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = m
  const year = Number(y); const month = Number(mo); const day = Number(d)
  const hour = Number(h); const minute = Number(mi); const second = Number(s)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3))
  let offsetMinutes = 0
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2)); const om = Number(digits.slice(2) || '0')
    if (oh > 23 || om > 59) return null
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om)
  }
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  // Date.UTC rolls 2026-02-30 over into March: reject dates that do not exist.
  const check = new Date(local)
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null
  return new Date(local - offsetMinutes * 60_000)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export type ValidationResult = { ok: true, fields: TracosFields } | { ok: false, problems: Problem[] }

/**
 * Validates one client order and translates it to TracOS fields. Every problem is reported (not just the
 * first), each naming its field. Unknown fields (e.g. `isActive`, `isSynced`) are ignored.
 */
export function clientToTracos (input: unknown, item?: number): ValidationResult {
  const at = item === undefined ? {} : { item }
  if (!isPlainObject(input)) {
    return { ok: false, problems: [{ ...at, field: '(order)', message: `must be a JSON object, got ${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input}` }] }
  }
  const problems: Problem[] = []
  const orderNo = input.orderNo
  const where = { ...at, ...(orderNo === undefined ? {} : { orderNo }) }
  const fail = (field: string, message: string): void => { problems.push({ ...where, field, message }) }

  if (orderNo === undefined || orderNo === null) fail('orderNo', 'is required')
  else if (typeof orderNo !== 'number' || !Number.isSafeInteger(orderNo) || orderNo <= 0) fail('orderNo', `must be a positive integer, got ${JSON.stringify(orderNo)}`)

  const summary = input.summary
  if (summary === undefined || summary === null) fail('summary', 'is required')
  else if (typeof summary !== 'string') fail('summary', `must be a string, got ${typeof summary}`)
  else if (summary.trim() === '') fail('summary', 'must not be empty')

  const description = input.description
  if (description !== undefined && description !== null && typeof description !== 'string') fail('description', `must be a string, got ${typeof description}`)

  const date = (field: string, required: boolean): Date | null => {
    const value = input[field]
    if (value === undefined || value === null) {
      if (required) fail(field, 'is required')
      return null
    }
    if (typeof value !== 'string') {
      fail(field, `must be an ISO 8601 date string, got ${typeof value}`)
      return null
    }
    const parsed = parseIsoDate(value)
    if (parsed === null) fail(field, `is not a valid ISO 8601 date: ${JSON.stringify(value.slice(0, 60))}`)
    return parsed
  }
  const createdAt = date('creationDate', true)
  const lastUpdate = date('lastUpdateDate', false)
  const deletedDate = date('deletedDate', false)

  const flags = {} as Record<ClientFlag, boolean>
  for (const flag of CLIENT_FLAGS) {
    const value = input[flag]
    if (value === undefined || value === null) flags[flag] = false
    else if (typeof value !== 'boolean') fail(flag, `must be a boolean, got ${JSON.stringify(value)}`)
    else flags[flag] = value
  }

  if (problems.length > 0) return { ok: false, problems }
  const status = FLAG_STATUS.find(([flag]) => flags[flag])?.[1] ?? 'in_progress'
  const deleted = status === 'deleted'
  const title = summary as string
  return {
    ok: true,
    fields: {
      number: orderNo as number,
      title,
      description: typeof description === 'string' ? description : `${title} description`,
      status,
      createdAt: createdAt as Date,
      updatedAt: lastUpdate ?? createdAt as Date,
      deleted,
      // A deletedDate on an order that is not deleted is ignored (reference §11).
      deletedAt: deleted ? deletedDate : null
    }
  }
}

function isoOrNull (value: unknown): string | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : null
}

/**
 * Translates a stored TracOS document back to the client shape: exactly one flag true for the status
 * (`isActive` for in progress), dates as UTC ISO 8601 with milliseconds (`toISOString`). Throws on a status
 * the table does not know, so the order is left unsynced rather than exported wrongly.
 */
export function tracosToClient (doc: { number?: unknown, title?: unknown, status?: unknown, deleted?: unknown, createdAt?: unknown, updatedAt?: unknown, deletedAt?: unknown }): ClientWorkOrder {
  const isDeleted = doc.status === 'deleted' || doc.deleted === true
  const status = isDeleted ? 'deleted' : doc.status
  if (!TRACOS_STATUSES.includes(status as TracosStatus)) throw new Error(`unknown TracOS status ${JSON.stringify(doc.status)}`)
  if (typeof doc.number !== 'number') throw new Error('document has no numeric `number`')
  const creationDate = isoOrNull(doc.createdAt)
  if (creationDate === null) throw new Error('document has no valid `createdAt`')
  return {
    orderNo: doc.number,
    summary: String(doc.title ?? ''),
    creationDate,
    lastUpdateDate: isoOrNull(doc.updatedAt) ?? creationDate,
    deletedDate: isDeleted ? isoOrNull(doc.deletedAt) : null,
    isDeleted,
    isDone: status === 'completed',
    isCanceled: status === 'cancelled',
    isOnHold: status === 'on_hold',
    isPending: status === 'pending',
    isActive: status === 'in_progress'
  }
}

function sameDate (a: unknown, b: Date | null): boolean {
  if (b === null) return a === null || a === undefined
  return a instanceof Date && a.getTime() === b.getTime()
}

/** True when the stored document already holds exactly these translated fields (nothing to write). */
export function sameFields (stored: Record<string, unknown>, fields: TracosFields): boolean {
  return stored.title === fields.title &&
    stored.description === fields.description &&
    stored.status === fields.status &&
    (stored.deleted === true) === fields.deleted &&
    sameDate(stored.createdAt, fields.createdAt) &&
    sameDate(stored.updatedAt, fields.updatedAt) &&
    sameDate(stored.deletedAt, fields.deletedAt)
}
