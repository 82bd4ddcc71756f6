import { access } from 'node:fs/promises'
import { setImmediate } from 'node:timers/promises'
import pLimit from 'p-limit'
import { errorMessage, isRetryable, PermanentError, RetryableError, withStorageRetry, type JobContext } from '../../integration.js'
import type { OdooSettings } from './config.js'
import type { OdooClient } from './client.js'
import { readCsvFileRows, writeStreamIfChanged } from './csv-file.js'
import { COL, EMPLOYEE_FIELDS, STATUS_ACTIVE, STATUS_INACTIVE, odooId, renderCsv, splitName, toCsvRow, type CsvRow, type OdooEmployee } from './mapping.js'
import { blockedDeactivation, countCompanies, readCompanyScope, type CompanyScope } from './safety.js'
import type { EmployeeEventDocument, OdooStore } from './store.js'

export interface OdooServiceDeps {
  settings: OdooSettings
  store: OdooStore
  /** The Odoo client, created on first use (a gateway without ODOO_URL still starts). */
  client: () => OdooClient
  /** Makes sure a job will apply the events one job left pending (it takes ODOO_EVENTS_PER_JOB at most). */
  eventsLeft: () => Promise<void>
}

/** A page not asked for because another page failed first. */
class SyncStopped extends Error {}

function chunk<T> (items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Full sync and event application: both rebuild hr_clean.csv and write it only when it changed. */
export function createOdooService ({ settings, store, client, eventsLeft }: OdooServiceDeps) {
  const csvOptions = { formulaGuard: settings.formulaGuard }
  const render = (rows: CsvRow[], header = true): string => renderCsv(rows, header, csvOptions)

  /**
   * The rows of the employees matching `domain`, by Odoo id, in one `search_read` in the scope's companies.
   * Archived included: an event for an archived employee turns its row Inactive.
   */
  async function readRows (domain: unknown[], ctx: JobContext, scope: CompanyScope): Promise<Map<number, CsvRow>> {
    const employees = await client().executeKw<OdooEmployee[]>('hr.employee', 'search_read', [domain], {
      fields: [...EMPLOYEE_FIELDS],
      order: 'id asc',
      context: { ...scope.context, active_test: false }
    }, { signal: ctx.signal })
    if (!Array.isArray(employees)) throw new PermanentError('Odoo search_read did not return a list')
    const rows = new Map<number, CsvRow>()
    for (const employee of employees) {
      const id = odooId(employee.id)
      if (id !== null) rows.set(id, toCsvRow(employee, settings.offset))
    }
    return rows
  }

  /** Reads employees by id list, a page per call, `concurrency` pages at once; rows come back compact. */
  async function readByIds (ids: number[], ctx: JobContext, scope: CompanyScope, onPage?: (done: number) => void): Promise<Map<number, CsvRow>> {
    const limit = pLimit(settings.concurrency)
    const rows = new Map<number, CsvRow>()
    let done = 0
    await Promise.all(chunk(ids, settings.pageSize).map((page) => limit(async () => {
      ctx.signal.throwIfAborted()
      for (const [id, row] of await readRows([...scope.domain, ['id', 'in', page]], ctx, scope)) rows.set(id, row)
      done += page.length
      onPage?.(done)
    })))
    return rows
  }

  /**
   * Full sync, streamed: the ids come first (one `search`), then pages of records are read concurrently and
   * written in id order to a temp file as they arrive, so memory stays flat at 100k+ employees. Rows of
   * employees Odoo no longer returns are merged in from the current file as Inactive.
   */
  async function fullSync (ctx: JobContext): Promise<Record<string, unknown>> {
    const started = performance.now()
    const fetchStartedAt = new Date()
    const odoo = client()
    ctx.progress(0, null, 'connecting to Odoo')
    const version = await odoo.version({ signal: ctx.signal })
    const scope = await readCompanyScope(odoo, settings, ctx.signal)
    const context = { ...scope.context, active_test: !settings.includeArchived }
    const rawIds = await odoo.executeKw<unknown[]>('hr.employee', 'search', [scope.domain], { order: 'id asc', context }, { signal: ctx.signal })
    if (!Array.isArray(rawIds)) throw new PermanentError('Odoo search did not return a list of ids')
    const ids = [...new Set(rawIds.map(odooId).filter((id): id is number => id !== null))].sort((a, b) => a - b)
    if (ids.length === 0) {
      const existing = await readCsvFileRows(settings.csvPath, () => true)
      const kept = existing === null ? 'no CSV existed' : `the existing CSV (${existing.length} rows) was kept`
      throw new PermanentError(`Odoo returned no employees; refusing to write an empty HR CSV (${kept})`, { code: 'ODOO_EMPTY' })
    }
    const present = new Set(ids)
    // One pass over the current file: which rows are Active now (for the guard), which are no longer in Odoo.
    const activeNow = new Set<string>()
    const gone: CsvRow[] = []
    await readCsvFileRows(settings.csvPath, (row) => {
      if (row[COL.status] === STATUS_ACTIVE) activeNow.add(row[COL.personalNumber])
      if (!present.has(Number(row[COL.personalNumber]) - settings.offset)) gone.push(row)
      return false
    })
    const deactivated = gone.filter((row) => row[COL.status] === STATUS_ACTIVE).map((row) => row[COL.personalNumber])
    const kept = settings.deleteMode === 'inactive' ? gone : []
    for (const row of kept) row[COL.status] = STATUS_INACTIVE
    kept.sort((a, b) => Number(a[COL.personalNumber]) - Number(b[COL.personalNumber]))
    let keptIndex = 0

    const pages = chunk(ids, settings.pageSize)
    // Odoo serves `concurrency` pages at once; one more page is read (parsed, mapped, written) meanwhile, so
    // the gateway's work on a page overlaps Odoo's on the next instead of following it.
    const atOdoo = pLimit(settings.concurrency)
    const limit = pLimit(settings.concurrency + 1)
    // After one page fails the sync is over: pages still waiting for their turn are not read. A failed
    // exchange says so before its slot is free, so no further page is asked for (an XML-RPC fault is only
    // known once read, by which time the next page may be on its way).
    let stopped = false
    const slot = <T>(exchange: () => Promise<T>): Promise<T> => atOdoo(async () => {
      if (stopped) throw new SyncStopped()
      try {
        return await exchange()
      } catch (err) {
        stopped = true
        throw err
      }
    })
    const perCompany = new Map<number, number>()
    let fetched = 0
    let vanished = 0
    const outcome = await writeStreamIfChanged(settings.csvPath, async (write) => {
      await write(render([]))
      const ready = new Map<number, CsvRow[]>()
      let nextPage = 0
      /** Writes every page that is next in order, merging kept rows into their sorted place. */
      const drain = async (): Promise<void> => {
        for (let rows = ready.get(nextPage); rows !== undefined; rows = ready.get(nextPage)) {
          ready.delete(nextPage)
          const lastKey = (pages[nextPage]?.at(-1) ?? 0) + settings.offset
          while (keptIndex < kept.length && Number((kept[keptIndex] as CsvRow)[COL.personalNumber]) < lastKey) rows.push(kept[keptIndex++] as CsvRow)
          nextPage++
          if (rows.length > 0) await write(render(rows, false))
        }
      }
      let writing = Promise.resolve()
      await Promise.all(pages.map((page, index) => limit(async () => {
        if (stopped) return
        ctx.signal.throwIfAborted()
        try {
          const employees = await odoo.executeKw<OdooEmployee[]>('hr.employee', 'search_read', [[['id', 'in', page]]], {
            fields: [...EMPLOYEE_FIELDS],
            order: 'id asc',
            context
          }, { signal: ctx.signal, slot })
          if (!Array.isArray(employees)) throw new PermanentError('Odoo search_read did not return a list')
          countCompanies(employees, perCompany)
          const rows = employees.map((employee) => toCsvRow(employee, settings.offset))
          for (const row of rows) if (row[COL.status] === STATUS_INACTIVE && activeNow.has(row[COL.personalNumber])) deactivated.push(row[COL.personalNumber])
          fetched += rows.length
          vanished += page.length - rows.length
          ready.set(index, rows)
          writing = writing.then(drain)
          await writing
          ctx.progress(fetched, ids.length, 'reading employees')
        } catch (err) {
          if (err instanceof SyncStopped) return // the page that failed says why
          stopped = true
          throw err
        }
      })))
      await writing
      if (keptIndex < kept.length) await write(render(kept.slice(keptIndex), false))
      if (vanished > 0 && settings.deleteMode === 'inactive') {
        // Deleted between `search` and `search_read`: their rows must be kept as Inactive, which the next
        // attempt does (they are then absent from `search`). Nothing is written by this one.
        throw new RetryableError(`${vanished} employees were deleted in Odoo during the sync; retrying`, { code: 'ODOO_CHANGED' })
      }
      // Inside the write, so that it is abandoned: a file of kept rows alone (or none) never replaces the CSV.
      if (fetched === 0) throw new PermanentError('Odoo returned no employee records; the existing CSV was kept', { code: 'ODOO_EMPTY' })
      await refuseMassDeactivation(ctx, deactivated, activeNow.size)
    })
    const coveredEvents = await withStorageRetry(() => store.removeReceivedBefore(fetchStartedAt))
    const durationMs = Math.round(performance.now() - started)
    const rows = fetched + kept.length
    await withStorageRetry(() => store.recordSync({ kind: 'full', jobId: ctx.job._id, rows, hash: outcome.hash, written: outcome.written, durationMs, at: new Date() }))
    ctx.progress(ids.length, ids.length, outcome.written ? 'CSV written' : 'CSV unchanged')
    return {
      employees: fetched,
      rows,
      keptInactive: kept.length,
      deactivated: deactivated.length,
      companies: scope.companies.map((company) => ({ ...company, employees: perCompany.get(company.id) ?? 0 })),
      written: outcome.written,
      hash: outcome.hash,
      durationMs,
      coveredEvents,
      odooVersion: typeof version.server_version === 'string' ? version.server_version : null
    }
  }

  /**
   * The mass-deactivation guard: throws (so nothing is written) when a run would turn more Active rows
   * Inactive, or remove them, than the configured limits allow, unless this job was confirmed by an operator.
   */
  async function refuseMassDeactivation (ctx: JobContext, deactivated: string[], activeRows: number): Promise<void> {
    const blocked = blockedDeactivation(deactivated, activeRows, settings.guard, ctx.params.allowMassDeactivation === true)
    if (blocked === null) return
    await store.recordBlocked({ jobId: ctx.job._id, at: new Date(), count: deactivated.length, activeRows, sample: blocked.sample })
    ctx.progress(0, null, 'stopped by the mass-deactivation guard')
    throw new PermanentError(blocked.message, { code: 'ODOO_MASS_DEACTIVATION', result: { deactivated: deactivated.length, activeRows, sample: blocked.sample } })
  }

  /** Last resort when Odoo stays unreachable: the payloads' own fields, keeping each row's department. */
  function applyPayloads (rows: Map<string, CsvRow>, events: EmployeeEventDocument[]): { applied: number, skipped: number[] } {
    let applied = 0
    const skipped: number[] = []
    for (const event of events) {
      if (event.departmentId !== undefined) continue // a department's rows need Odoo: nothing in the payload
      const key = String(event.employeeId + settings.offset)
      const row = rows.get(key)
      if (event.event === 'delete') {
        if (settings.deleteMode === 'remove') rows.delete(key)
        else if (row !== undefined) row[COL.status] = STATUS_INACTIVE
        applied++
        continue
      }
      const data = event.data
      if (data === null) {
        if (event.event === 'archive' && row !== undefined) {
          row[COL.status] = STATUS_INACTIVE
          applied++
        } else {
          skipped.push(event.employeeId)
        }
        continue
      }
      const next: CsvRow = row ?? [key, '', '', '', '', '', STATUS_ACTIVE]
      if (typeof data.name === 'string') {
        const { givenName, familyName } = splitName(data.name)
        next[COL.givenName] = givenName
        next[COL.familyName] = familyName
      }
      if (data.work_email !== undefined) next[COL.email] = typeof data.work_email === 'string' ? data.work_email.trim() : ''
      if (data.job_title !== undefined) next[COL.title] = typeof data.job_title === 'string' ? data.job_title.trim() : ''
      if (event.event === 'archive') next[COL.status] = STATUS_INACTIVE
      else if (typeof data.active === 'boolean') next[COL.status] = data.active ? STATUS_ACTIVE : STATUS_INACTIVE
      rows.set(key, next)
      applied++
    }
    return { applied, skipped }
  }

  /** Every employee (archived too) of these departments and their sub-departments, by Odoo id. */
  async function readDepartments (departmentIds: number[], ctx: JobContext, scope: CompanyScope): Promise<Map<number, CsvRow>> {
    if (departmentIds.length === 0) return new Map()
    return await readRows([...scope.domain, ['department_id', 'child_of', departmentIds]], ctx, scope)
  }

  async function applyEvents (ctx: JobContext): Promise<Record<string, unknown>> {
    const started = performance.now()
    const events = await store.pendingEvents(settings.eventsPerJob)
    if (events.length === 0) return { events: 0, employees: 0, written: false }
    if (!(await access(settings.csvPath).then(() => true, () => false))) {
      // No HR CSV yet (no full sync has run since the gateway was set up): the changed employees alone would
      // make a file in which everyone else looks deleted to the IGA tool. The whole file is written instead;
      // it covers these events. If Odoo stays unreachable nothing is written and the events wait.
      ctx.log.info('no HR CSV yet: a full sync instead of applying the events alone')
      const full = await fullSync(ctx)
      return { events: full.coveredEvents, ...full, fullSyncInstead: 'no HR CSV existed yet' }
    }
    const departmentIds = [...new Set(events.flatMap((e) => e.departmentId === undefined ? [] : [e.departmentId]))]
    const ids = [...new Set(events.filter((e) => e.departmentId === undefined).map((e) => e.employeeId))]
    let fetched: Map<number, CsvRow> | null = null
    let fallbackReason: string | null = null
    try {
      ctx.progress(0, null, 'reading the changed employees from Odoo')
      const scope = await readCompanyScope(client(), settings, ctx.signal)
      fetched = await readByIds(ids, ctx, scope)
      // A renamed department changes the rows of everyone in it (and in its sub-departments).
      for (const [id, row] of await readDepartments(departmentIds, ctx, scope)) {
        fetched.set(id, row)
        if (!ids.includes(id)) ids.push(id)
      }
    } catch (err) {
      const lastAttempt = ctx.job.attempts >= ctx.job.maxAttempts
      if (!isRetryable(err) || !lastAttempt || ctx.signal.aborted) throw err
      fallbackReason = errorMessage(err)
      ctx.log.warn({ err }, 'Odoo unreachable on the last attempt; applying the webhook payloads')
    }
    // Streamed read and chunked write below: the work yields to the event loop, so webhook answers arriving
    // meanwhile are not held up by one long synchronous parse or render.
    const rows = new Map<string, CsvRow>()
    for (const row of (await readCsvFileRows(settings.csvPath, () => true)) ?? []) rows.set(row[COL.personalNumber], row)
    const activeBefore = [...rows.values()].filter((row) => row[COL.status] === STATUS_ACTIVE).map((row) => row[COL.personalNumber])
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
          if (current !== undefined) current[COL.status] = STATUS_INACTIVE
        }
      }
    } else {
      fallback = applyPayloads(rows, events)
    }
    const deactivated = activeBefore.filter((key) => rows.get(key)?.[COL.status] !== STATUS_ACTIVE)
    await refuseMassDeactivation(ctx, deactivated, activeBefore.length)
    const sorted = [...rows.values()].sort((a, b) => Number(a[COL.personalNumber]) - Number(b[COL.personalNumber]))
    ctx.progress(0, null, 'writing the CSV')
    const outcome = await writeStreamIfChanged(settings.csvPath, async (write) => {
      await write(render([]))
      for (let i = 0; i < sorted.length; i += 1000) {
        await write(render(sorted.slice(i, i + 1000), false))
        await setImmediate()
      }
    })
    // The CSV is written: a busy database must not fail the job now (its events would be applied again).
    await withStorageRetry(() => store.removeApplied(events))
    await withStorageRetry(() => store.purgeDeliveries(new Date(Date.now() - settings.keyRetentionMs)))
    // A full job may have left events behind, and no webhook may come to make the job that reads them.
    if (events.length === settings.eventsPerJob) await withStorageRetry(eventsLeft)
    const durationMs = Math.round(performance.now() - started)
    await withStorageRetry(() => store.recordSync({ kind: 'events', jobId: ctx.job._id, rows: rows.size, hash: outcome.hash, written: outcome.written, durationMs, at: new Date() }))
    ctx.progress(events.length, events.length, outcome.written ? 'CSV written' : 'CSV unchanged')
    return {
      events: events.length,
      employees: ids.length,
      departments: departmentIds.length,
      deactivated: deactivated.length,
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
