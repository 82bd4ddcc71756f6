import { randomUUID } from 'node:crypto'
import type { AnyBulkWriteOperation } from 'mongodb'
import { DAY_MS, errorMessage, type Logger } from '../../integration.js'
import type { AthocClient } from './athoc-client.js'
import { bulkInSlices, type BoboStore, type MappingRecord, type SyncTracking } from './store.js'
import { localDate, wallClock } from './time.js'

export const MAPPING_SYNC_ID = 'user_mapping'

export interface MappingScheduleRules { syncHour: number, retryDays: number, timeZone: string }

/**
 * The original's schedule rules (bobo-athoc.md §6), first match decides: never synced or more than retryDays
 * since the last sync date → run; last outcome no_data/error → run; before syncHour → skip; already synced
 * today → skip; otherwise run (the daily sync).
 */
export function mappingSyncDecision (now: Date, tracking: Pick<SyncTracking, 'lastSyncDate' | 'status'> | null, rules: MappingScheduleRules): { run: boolean, reason: string } {
  const w = wallClock(now, rules.timeZone)
  const todayMs = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(tracking?.lastSyncDate ?? '')
  const daysSince = m === null ? 999 : Math.floor((todayMs - Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) / DAY_MS)
  if (daysSince > rules.retryDays) return { run: true, reason: m === null ? 'first run' : `overdue: ${daysSince} days since the last sync` }
  if (tracking?.status === 'no_data' || tracking?.status === 'error') return { run: true, reason: `last sync ended with ${tracking.status}` }
  if (w.hour < rules.syncHour) return { run: false, reason: `before ${rules.syncHour}:00` }
  if (tracking?.lastSyncDate === localDate(now, rules.timeZone)) return { run: false, reason: 'already synced today' }
  return { run: true, reason: 'daily sync' }
}

/** Job bobo.mapping-sync: employee id (collar attribute) → AtHoc LOGIN_ID. */
export function createMappingSync (deps: { store: BoboStore, athoc: AthocClient, collarField: string, rules: MappingScheduleRules, now: () => Date }) {
  const { store, athoc } = deps

  async function record (status: SyncTracking['status'], message: string | null, users: number, success: boolean): Promise<void> {
    const now = deps.now()
    await store.tracking.updateOne({ _id: MAPPING_SYNC_ID }, {
      $set: { lastSyncDate: localDate(now, deps.rules.timeZone), lastSyncAt: now, status, message, users, ...(success ? { lastSuccessAt: now } : {}) },
      $setOnInsert: success ? {} : { lastSuccessAt: null }
    }, { upsert: true })
  }

  async function run (ctx: { log: Logger, signal: AbortSignal, force: boolean }) {
    const { log, signal } = ctx
    athoc.checkConfigured()
    const tracking = await store.tracking.findOne({ _id: MAPPING_SYNC_ID })
    const decision = ctx.force ? { run: true, reason: 'requested' } : mappingSyncDecision(deps.now(), tracking, deps.rules)
    if (!decision.run) return { ran: false, reason: decision.reason }

    let users
    try {
      users = await athoc.searchAllUsers(['LOGIN_ID', deps.collarField], undefined, signal)
    } catch (err) {
      if (signal.aborted) throw err
      await record('error', errorMessage(err), 0, false)
      log.warn({ err: errorMessage(err) }, 'mapping sync failed; existing mappings kept')
      return { ran: true, reason: decision.reason, status: 'error', message: errorMessage(err) }
    }
    if (users.length === 0) {
      await record('no_data', 'AtHoc returned no users', 0, false)
      return { ran: true, reason: decision.reason, status: 'no_data' }
    }
    const wanted = new Map<string, { login: string, collar: string }>()
    let invalid = 0
    let clashes = 0
    for (const user of users) {
      const login = user.LOGIN_ID
      const collar = user[deps.collarField]
      if (typeof login !== 'string' || login === '') { invalid++; continue }
      if (collar === undefined || collar === null || collar === '') continue
      if (typeof collar !== 'string' && typeof collar !== 'number') { invalid++; continue }
      const employeeId = String(collar).trim()
      if (employeeId === '') continue
      const previous = wanted.get(employeeId)
      if (previous !== undefined && previous.login !== login) {
        clashes++
        log.warn({ employeeId, logins: [previous.login, login] }, 'two AtHoc users share a collar number; the last one wins')
      }
      wanted.set(employeeId, { login, collar: String(collar) })
    }
    const existing = new Map((await store.mappings.find({}).toArray()).map((m) => [m._id, m]))
    const now = deps.now()
    const ops: Array<AnyBulkWriteOperation<MappingRecord>> = []
    for (const [employeeId, { login, collar }] of wanted) {
      const current = existing.get(employeeId)
      if (current?.login === login && current.collar === collar) continue
      ops.push({ replaceOne: { filter: { _id: employeeId }, replacement: { login, collar, updatedAt: now }, upsert: true } })
    }
    // The fetch was complete and not empty: mappings AtHoc no longer has can go.
    const removed = [...existing.keys()].filter((id) => !wanted.has(id))
    for (let i = 0; i < removed.length; i += 500) ops.push({ deleteMany: { filter: { _id: { $in: removed.slice(i, i + 500) } } } })
    await bulkInSlices(store.mappings, ops)
    await record('completed', null, users.length, true)
    if (ops.length > 0 || store.mappingCache.version === null) {
      // A new version makes other instances reload; this one already holds the new table.
      const version = randomUUID()
      await store.tracking.updateOne({ _id: MAPPING_SYNC_ID }, { $set: { mappingVersion: version } })
      store.mappingCache.version = version
      store.mappingCache.map = new Map([...wanted].map(([id, m]) => [id, m.login]))
    }
    const result = { ran: true, reason: decision.reason, status: 'completed', users: users.length, mappings: wanted.size, upserted: ops.length - Math.ceil(removed.length / 500), removed: removed.length, clashes, invalid }
    log.info(result, 'mapping sync done')
    return result
  }

  return { run }
}
