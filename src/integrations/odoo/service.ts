import pLimit from 'p-limit'
import { PermanentError, errorMessage, isRetryable } from '../../jobs/errors.js'
import type { JobContext } from '../../jobs/types.js'
import type { OdooSettings } from './config.js'
import type { OdooClient } from './client.js'
import { parseCsvRows, readIfExists, writeCsvIfChanged } from './csv-file.js'
import { EMPLOYEE_FIELDS, STATUS_ACTIVE, STATUS_INACTIVE, odooId, renderCsv, splitName, toCsvRow, type CsvRow, type OdooEmployee } from './mapping.js'
import type { EmployeeEventDocument, OdooStore } from './store.js'

/** Events one job applies at most; more stay pending for the next job. */
const MAX_EVENTS_PER_JOB = 20_000
const EVENT_RETENTION_MS = 7 * 86_400_000

export interface OdooServiceDeps {
  settings: OdooSettings
  store: OdooStore
  /** The Odoo client, created on first use (a gateway without ODOO_URL still starts). */
  client: () => OdooClient
}

function chunk<T> (items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Full sync and event application: both rebuild hr_clean.csv and write it only when it changed. */
export function createOdooService ({ settings, store, client }: OdooServiceDeps) {
  const context = { lang: 'en_US', active_test: !settings.includeArchived }

  /** Reads employees by id list, a page per call, `concurrency` pages at once; rows come back compact. */
  async function readByIds (ids: number[], ctx: JobContext, archived: boolean, onPage?: (done: number) => void): Promise<Map<number, CsvRow>> {
    const odoo = client()
    const limit = pLimit(settings.concurrency)
    const rows = new Map<number, CsvRow>()
    let done = 0
    await Promise.all(chunk(ids, settings.pageSize).map((page) => limit(async () => {
      ctx.signal.throwIfAborted()
      const employees = await odoo.executeKw<OdooEmployee[]>('hr.employee', 'search_read', [[['id', 'in', page]]], {
        fields: [...EMPLOYEE_FIELDS],
        order: 'id asc',
        context: { ...context, active_test: !archived }
      }, { signal: ctx.signal })
      if (!Array.isArray(employees)) throw new PermanentError('Odoo search_read did not return a list')
      for (const employee of employees) {
        const id = odooId(employee.id)
        if (id !== null) rows.set(id, toCsvRow(employee, settings.offset))
      }
      done += page.length
      onPage?.(done)
    })))
    return rows
  }

  async function fullSync (ctx: JobContext): Promise<Record<string, unknown>> {
    const started = performance.now()
    const fetchStartedAt = new Date()
    const odoo = client()
    const version = await odoo.version({ signal: ctx.signal })
    await odoo.authenticate({ signal: ctx.signal })
    // Ids first (one cheap call), then the records by id pages fetched concurrently: the XML parse is the cost.
    const rawIds = await odoo.executeKw<unknown[]>('hr.employee', 'search', [[]], { order: 'id asc', context }, { signal: ctx.signal })
    if (!Array.isArray(rawIds)) throw new PermanentError('Odoo search did not return a list of ids')
    const ids = rawIds.map(odooId).filter((id): id is number => id !== null)
    ctx.progress(0, ids.length, 'reading employees')
    const existing = await readIfExists(settings.csvPath)
    if (ids.length === 0) {
      const kept = existing === null ? 'no CSV existed' : `the existing CSV (${Math.max(0, parseCsvRows(existing).length)} rows) was kept`
      throw new PermanentError(`Odoo returned no employees; refusing to write an empty HR CSV (${kept})`, { code: 'ODOO_EMPTY' })
    }
    const fetched = await readByIds(ids, ctx, settings.includeArchived, (done) => { ctx.progress(done, ids.length, 'reading employees') })
    if (fetched.size === 0) throw new PermanentError('Odoo returned no employee records; the existing CSV was kept', { code: 'ODOO_EMPTY' })
    const rows: CsvRow[] = [...fetched.values()]
    fetched.clear()
    let keptInactive = 0
    if (existing !== null && settings.deleteMode === 'inactive') {
      // Employees Odoo no longer returns stay in the file as Inactive: midPoint disables them instead of losing them.
      const present = new Set(rows.map((row) => row[0]))
      for (const row of parseCsvRows(existing, (r) => !present.has(r[0]))) {
        row[6] = STATUS_INACTIVE
        rows.push(row)
        keptInactive++
      }
    }
    const content = renderCsv(rows)
    const outcome = await writeCsvIfChanged(settings.csvPath, content, existing)
    const coveredEvents = await store.markAppliedBefore(fetchStartedAt, ctx.job._id)
    await store.purgeApplied(new Date(Date.now() - EVENT_RETENTION_MS))
    const durationMs = Math.round(performance.now() - started)
    await store.recordSync({ kind: 'full', jobId: ctx.job._id, rows: rows.length, hash: outcome.hash, written: outcome.written, durationMs, at: new Date() })
    ctx.progress(ids.length, ids.length, outcome.written ? 'CSV written' : 'CSV unchanged')
    return {
      employees: ids.length,
      rows: rows.length,
      keptInactive,
      written: outcome.written,
      hash: outcome.hash,
      durationMs,
      coveredEvents,
      odooVersion: typeof version.server_version === 'string' ? version.server_version : null
    }
  }

  /** Last resort when Odoo stays unreachable: the payloads' own fields, keeping each row's department. */
  function applyPayloads (rows: Map<string, CsvRow>, events: EmployeeEventDocument[]): { applied: number, skipped: number[] } {
    let applied = 0
    const skipped: number[] = []
    for (const event of events) {
      const key = String(event.employeeId + settings.offset)
      const row = rows.get(key)
      if (event.event === 'delete') {
        if (settings.deleteMode === 'remove') rows.delete(key)
        else if (row !== undefined) row[6] = STATUS_INACTIVE
        applied++
        continue
      }
      const data = event.data
      if (data === null) {
        if (event.event === 'archive' && row !== undefined) {
          row[6] = STATUS_INACTIVE
          applied++
        } else {
          skipped.push(event.employeeId)
        }
        continue
      }
      const next: CsvRow = row ?? [key, '', '', '', '', '', STATUS_ACTIVE]
      if (typeof data.name === 'string') {
        const { givenName, familyName } = splitName(data.name)
        next[1] = givenName
        next[2] = familyName
      }
      if (data.work_email !== undefined) next[3] = typeof data.work_email === 'string' ? data.work_email.trim() : ''
      if (data.job_title !== undefined) next[5] = typeof data.job_title === 'string' ? data.job_title.trim() : ''
      if (event.event === 'archive') next[6] = STATUS_INACTIVE
      else if (typeof data.active === 'boolean') next[6] = data.active ? STATUS_ACTIVE : STATUS_INACTIVE
      rows.set(key, next)
      applied++
    }
    return { applied, skipped }
  }

  async function applyEvents (ctx: JobContext): Promise<Record<string, unknown>> {
    const started = performance.now()
    const events = await store.pendingEvents(MAX_EVENTS_PER_JOB)
    if (events.length === 0) return { events: 0, employees: 0, written: false }
    const ids = [...new Set(events.map((e) => e.employeeId))]
    let fetched: Map<number, CsvRow> | null = null
    let fallbackReason: string | null = null
    try {
      await client().authenticate({ signal: ctx.signal })
      fetched = await readByIds(ids, ctx, true)
    } catch (err) {
      const lastAttempt = ctx.job.attempts >= ctx.job.maxAttempts
      if (!isRetryable(err) || !lastAttempt || ctx.signal.aborted) throw err
      fallbackReason = errorMessage(err)
      ctx.log.warn({ err }, 'Odoo unreachable on the last attempt; applying the webhook payloads')
    }
    const existing = await readIfExists(settings.csvPath)
    const rows = new Map<string, CsvRow>()
    if (existing !== null) for (const row of parseCsvRows(existing)) rows.set(row[0], row)
    let updated = 0
    let missing = 0
    let fallback: { applied: number, skipped: number[] } | null = null
    if (fetched !== null) {
      for (const id of ids) {
        const key = String(id + settings.offset)
        const row = fetched.get(id)
        if (row !== undefined) {
          rows.set(key, row)
          updated++
          continue
        }
        // Deleted in Odoo (or never existed): keep the row as Inactive unless told to remove it.
        missing++
        if (settings.deleteMode === 'remove') rows.delete(key)
        else {
          const current = rows.get(key)
          if (current !== undefined) current[6] = STATUS_INACTIVE
        }
      }
    } else {
      fallback = applyPayloads(rows, events)
    }
    const content = renderCsv([...rows.values()])
    const outcome = await writeCsvIfChanged(settings.csvPath, content, existing)
    await store.markApplied(events.map((e) => e._id), ctx.job._id)
    const durationMs = Math.round(performance.now() - started)
    await store.recordSync({ kind: 'events', jobId: ctx.job._id, rows: rows.size, hash: outcome.hash, written: outcome.written, durationMs, at: new Date() })
    return {
      events: events.length,
      employees: ids.length,
      updated,
      missing,
      rows: rows.size,
      written: outcome.written,
      hash: outcome.hash,
      durationMs,
      ...(fallback === null
        ? {}
        : { fallback: { reason: fallbackReason, appliedFromPayload: fallback.applied, skippedWithoutData: fallback.skipped } })
    }
  }

  return { fullSync, applyEvents }
}

export type OdooService = ReturnType<typeof createOdooService>
