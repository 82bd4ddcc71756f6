import { access, mkdir } from 'node:fs/promises'
import type { Logger } from '../../integration.js'
import type { ClientFiles } from './client-files.js'
import { listInbound, readInboundMany, removeStaleTemps, type ReadOutcome } from './client-files.js'
import { clientToTracos, tracosToClient, type ClientWorkOrder, type Problem, type TracosFields } from './translate.js'
import type { Classified, WorkOrderDocument, WorkOrders } from './workorders.js'
import { createPhaseTimer, type PhasesMs, type PhaseTimer } from './phases.js'

export const DIRECTIONS = ['inbound', 'outbound', 'both'] as const
export type Direction = typeof DIRECTIONS[number]

export interface FileError { file: string, problems: Problem[] }

export interface RunResult {
  direction: Direction
  /** Inbound files looked at. */
  files: number
  /** Work orders read from valid files. */
  read: number
  inserted: number
  updated: number
  unchanged: number
  /** Files rejected (moved to the rejected folder with an error report). */
  rejected: number
  /** Files left in the inbound folder for the next run: they did not parse and were still being modified. */
  waiting: number
  /** Work orders in rejected files. */
  rejectedOrders: number
  /** Same orderNo in several files of one run: the last file (by name) wins. */
  duplicates: number
  exported: number
  /** Orders that could not be exported (unknown status, unwritable folder); they stay unsynced. */
  exportFailed: number
  /** Per-file problems (rejected files, files that could not be archived) and per-order export failures. */
  errors: FileError[]
  /** True when more errors happened than `errors` lists. */
  errorsTruncated: boolean
  /** Wall-clock milliseconds per phase (file listing, reads, validation, MongoDB reads and writes, outbound file writes, marking synced, archiving, rejecting). */
  phasesMs: PhasesMs
}

const MAX_ERRORS = 200
/** Orders whose files are written before their database write starts (see the inbound pipeline). */
const EXPORT_CHUNK = 500

export interface SyncOptions {
  inboundDir: string
  outboundDir: string
  batchSize: number
  /** A file that does not parse and was modified less than this long ago is left for the next run. */
  stableMs?: number
}

export interface RunContext {
  log: Logger
  signal?: AbortSignal
  progress?: (done: number, total?: number | null, message?: string | null) => void
}

/**
 * The TracOS sync service: inbound (client files → workorders) then outbound (unsynced workorders → client
 * files). Files are handled in pages of `batchSize`; each page costs one read query and a few bulk writes.
 */
export function createTracosSync (workOrders: WorkOrders, files: ClientFiles, options: SyncOptions) {
  async function run (direction: Direction, ctx: RunContext): Promise<RunResult> {
    const timer = createPhaseTimer()
    const result: RunResult = { direction, files: 0, read: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, waiting: 0, rejectedOrders: 0, duplicates: 0, exported: 0, exportFailed: 0, errors: [], errorsTruncated: false, phasesMs: timer.snapshot() }
    const addError = (error: FileError): void => {
      if (result.errors.length < MAX_ERRORS) result.errors.push(error)
      else result.errorsTruncated = true
    }
    const found = direction === 'outbound' ? null : await inbound(result, addError, ctx, timer, direction === 'both')
    if (direction !== 'inbound') {
      if (found === null || found.unsynced === null) await outbound(result, addError, ctx, timer)
      else {
        // The inbound scan found every unsynced order: export those the inbound pass did not write itself (it
        // exported them, or stored them unsynced after a failed file write: the next run tries those again).
        await exportPage(found.unsynced.filter((doc) => !found.touched.has(doc.number)), result, addError, timer, found.pending)
        ctx.log.info({ exported: result.exported, failed: result.exportFailed }, 'tracos outbound done')
      }
    }
    result.phasesMs = timer.snapshot()
    return result
  }

  /**
   * Returns, when `exportInline`, the unsynced orders the first page's query found (null: not looked for or
   * too many), the numbers this pass wrote (exported already, or failed to be) and those that failed.
   */
  async function inbound (result: RunResult, addError: (e: FileError) => void, ctx: RunContext, timer: PhaseTimer, exportInline: boolean): Promise<{ unsynced: WorkOrderDocument[] | null, touched: Set<number>, pending: number[] }> {
    if (exportInline) await timer.time('list', () => prepareOutbound(ctx))
    try {
      await access(options.inboundDir)
    } catch {
      throw new Error(`inbound folder ${options.inboundDir} does not exist or cannot be read`)
    }
    const names = await timer.time('list', () => listInbound(options.inboundDir))
    result.files = names.length
    const seen = new Set<number>()
    const touched = new Set<number>()
    const pending: number[] = []
    let unsynced: WorkOrderDocument[] | null = null
    for (let start = 0; start < names.length; start += options.batchSize) {
      ctx.signal?.throwIfAborted()
      const page = names.slice(start, start + options.batchSize)
      const outcomes: ReadOutcome[] = await timer.time('read', () => readInboundMany(options.inboundDir, page))
      // Last write wins inside the page (files are in name order); later pages overwrite earlier ones.
      const byNumber = new Map<number, TracosFields>()
      const imported: string[] = []
      /** The numbers each imported file holds: a file may be archived once all of them are stored. */
      const fileNumbers = new Map<string, number[]>()
      for (const outcome of outcomes) {
        if (!outcome.ok) {
          // Cut JSON in a file modified moments ago is most likely a file the client is still writing:
          // rejecting it would move it away under the writer. It waits for the next run.
          if (outcome.mtimeMs !== undefined && Date.now() - outcome.mtimeMs < (options.stableMs ?? 0)) {
            result.waiting++
            ctx.log.info({ file: outcome.name, problems: outcome.problems }, 'tracos inbound file does not parse yet and was just modified; left for the next run')
            continue
          }
          await rejectFile(outcome.name, outcome.problems, 0)
          continue
        }
        const fields: TracosFields[] = []
        const problems: Problem[] = []
        timer.timeSync('validate', () => {
          outcome.orders.forEach((order, index) => {
            const translated = clientToTracos(order, outcome.single ? undefined : index)
            if (translated.ok) fields.push(translated.fields)
            else problems.push(...translated.problems)
          })
        })
        // A file is imported whole or not at all, so that fixing and re-dropping it is simple.
        if (problems.length > 0) {
          await rejectFile(outcome.name, problems, outcome.orders.length)
          continue
        }
        for (const f of fields) {
          if (seen.has(f.number)) {
            result.duplicates++
            ctx.log.debug({ orderNo: f.number, file: outcome.name }, 'orderNo seen earlier in this run: the later file wins')
          }
          seen.add(f.number)
          byNumber.set(f.number, f)
        }
        result.read += fields.length
        imported.push(outcome.name)
        fileNumbers.set(outcome.name, fields.map((f) => f.number))
      }
      // Both directions: the first page's query also lists the unsynced orders, which spares the outbound
      // pass its own scan of the collection.
      const unsyncedLimit = exportInline && start === 0 ? options.batchSize : undefined
      const classified = await timer.time('mongoRead', () => workOrders.classify([...byNumber.values()], { unsyncedLimit }))
      if (start === 0) unsynced = classified.unsynced
      for (const fields of classified.inserts) touched.add(fields.number)
      for (const { fields } of classified.updates) touched.add(fields.number)
      result.unchanged += classified.unchanged
      if (exportInline) {
        // Both directions: new and changed orders are exported in this pass, so they are stored already
        // synced (one write each instead of an unsynced write plus a mark-synced write). Files first: a crash
        // before the database write leaves the inbound file in place, and the next run does it again.
        // Pipelined by chunks: the database stores chunk k (one writer, in order) while the files of chunk
        // k + 1 are written, so the database time hides behind the file system's.
        const changed: Array<{ fields: TracosFields, update?: Classified['updates'][number] }> = [
          ...classified.inserts.map((fields) => ({ fields })),
          ...classified.updates.map((update) => ({ fields: update.fields, update }))
        ]
        let failedFiles = 0
        let firstFailure: string | undefined
        let dbError: { error: unknown } | null = null
        let stored: Promise<void> = Promise.resolve()
        // Each file is archived as soon as the database holds all its orders (right away when none changed),
        // so that archiving, too, runs alongside the file writes. Never before: see the crash note below.
        const waitingFiles = new Map<string, number>()
        const filesOfNumber = new Map<number, string[]>()
        const changedNumbers = new Set(changed.map(({ fields }) => fields.number))
        for (const [name, numbers] of fileNumbers) {
          const waitFor = new Set(numbers.filter((n) => changedNumbers.has(n)))
          waitingFiles.set(name, waitFor.size)
          for (const n of waitFor) filesOfNumber.set(n, [...(filesOfNumber.get(n) ?? []), name])
        }
        const archiving: Array<Promise<void>> = []
        const archive = (names: string[]): void => {
          if (names.length === 0) return
          archiving.push(timer.time('archive', () => files.finishImported(names)).then(
            (failures) => { for (const failure of failures) addError({ file: failure.name, problems: [{ field: '(file)', message: failure.message }] }) },
            (err: unknown) => { for (const name of names) addError({ file: name, problems: [{ field: '(file)', message: `imported but not archived: ${(err as Error).message}` }] }) }
          ))
        }
        archive([...waitingFiles].filter(([, waiting]) => waiting === 0).map(([name]) => name))
        for (let from = 0; from < changed.length && dbError === null; from += EXPORT_CHUNK) {
          const chunk = changed.slice(from, from + EXPORT_CHUNK)
          const failures = await timer.time('outboundWrite', () => files.writeOutbound(chunk.map(({ fields }) => tracosToClient(fields))))
          failedFiles += failures.size
          firstFailure ??= [...failures.values()][0]
          const written: Pick<Classified, 'inserts' | 'updates'> = { inserts: [], updates: [] }
          const unwritten: Pick<Classified, 'inserts' | 'updates'> = { inserts: [], updates: [] }
          for (const { fields, update } of chunk) {
            const target = failures.has(fields.number) ? unwritten : written
            if (update === undefined) target.inserts.push(fields)
            else target.updates.push(update)
          }
          for (const [number, message] of failures) {
            pending.push(number)
            addError({ file: `workorder_${number}.json`, problems: [{ orderNo: number, field: '(file)', message }] })
          }
          result.exportFailed += failures.size
          stored = stored.then(async () => {
            if (dbError !== null) return
            const synced = await timer.time('mongoWrite', () => workOrders.write(written, new Date()))
            // Not exported: stored unsynced, so a later outbound pass tries again.
            const unsynced = await timer.time('mongoWrite', () => workOrders.write(unwritten, null))
            result.inserted += synced.inserted + unsynced.inserted
            result.updated += synced.updated + unsynced.updated
            result.exported += written.inserts.length + written.updates.length
            const ready: string[] = []
            for (const { fields } of chunk) {
              for (const name of filesOfNumber.get(fields.number) ?? []) {
                const waiting = (waitingFiles.get(name) as number) - 1
                waitingFiles.set(name, waiting)
                if (waiting === 0) ready.push(name)
              }
            }
            archive(ready)
          }).catch((error: unknown) => { dbError ??= { error } })
        }
        await stored
        await Promise.all(archiving)
        if (dbError !== null) throw (dbError as { error: unknown }).error
        if (failedFiles > 0 && failedFiles === changed.length) {
          throw new Error(`outbound folder ${options.outboundDir}: ${firstFailure ?? 'write failed'}`)
        }
      } else {
        const counts = await timer.time('mongoWrite', () => workOrders.write(classified, null))
        result.inserted += counts.inserted
        result.updated += counts.updated
        // Only after the database holds them: a crash before this re-reads the files next run (unchanged then).
        for (const failure of await timer.time('archive', () => files.finishImported(imported))) {
          addError({ file: failure.name, problems: [{ field: '(file)', message: failure.message }] })
        }
      }
      ctx.progress?.(Math.min(start + page.length, names.length), names.length, 'inbound files')
    }
    ctx.log.info({ files: result.files, read: result.read, inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, rejected: result.rejected }, 'tracos inbound done')
    return { unsynced, touched, pending }

    async function rejectFile (name: string, problems: Problem[], orders: number): Promise<void> {
      result.rejected++
      result.rejectedOrders += orders
      addError({ file: name, problems })
      ctx.log.warn({ file: name, problems: problems.slice(0, 5) }, 'tracos inbound file rejected')
      try {
        await timer.time('reject', () => files.reject(name, problems))
      } catch (err) {
        addError({ file: name, problems: [{ field: '(file)', message: `could not be moved to the rejected folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }] })
      }
    }
  }

  async function prepareOutbound (ctx: RunContext): Promise<void> {
    await mkdir(options.outboundDir, { recursive: true })
    const stale = await removeStaleTemps(options.outboundDir)
    if (stale > 0) ctx.log.info({ removed: stale }, 'removed temp files left by an interrupted export')
  }

  async function outbound (result: RunResult, addError: (e: FileError) => void, ctx: RunContext, timer: PhaseTimer): Promise<void> {
    await timer.time('list', () => prepareOutbound(ctx))
    let after = 0
    for (;;) {
      ctx.signal?.throwIfAborted()
      const page = await timer.time('mongoRead', () => workOrders.findUnsynced(after, options.batchSize))
      if (page.length === 0) break
      after = (page[page.length - 1] as WorkOrderDocument).number
      await exportPage(page, result, addError, timer)
      ctx.progress?.(result.exported, null, 'outbound orders')
      if (page.length < options.batchSize) break
    }
    ctx.log.info({ exported: result.exported, failed: result.exportFailed }, 'tracos outbound done')
  }

  /**
   * Writes the files of a page of orders (sorted by number), then marks the written ones synced.
   * `keepUnsynced`: numbers inside the page's range that must stay unsynced although not in the page.
   */
  async function exportPage (page: WorkOrderDocument[], result: RunResult, addError: (e: FileError) => void, timer: PhaseTimer, keepUnsynced: number[] = []): Promise<void> {
    if (page.length === 0) return
    const orders: ClientWorkOrder[] = []
    const exportedDocs: WorkOrderDocument[] = []
    const failed: number[] = []
    const translatedDocs = new Map<number, WorkOrderDocument>()
    for (const doc of page) {
      try {
        orders.push(tracosToClient(doc))
        translatedDocs.set(doc.number, doc)
      } catch (err) {
        failed.push(doc.number)
        addError({ file: `workorder_${doc.number}.json`, problems: [{ orderNo: doc.number, field: 'status', message: (err as Error).message }] })
      }
    }
    const writeFailures = await timer.time('outboundWrite', () => files.writeOutbound(orders))
    if (orders.length > 0 && writeFailures.size === orders.length) {
      // Nothing could be written (folder missing rights, disk full): fail the run, everything stays unsynced.
      throw new Error(`outbound folder ${options.outboundDir}: ${[...writeFailures.values()][0] ?? 'write failed'}`)
    }
    for (const [number, message] of writeFailures) {
      failed.push(number)
      addError({ file: `workorder_${number}.json`, problems: [{ orderNo: number, field: '(file)', message }] })
    }
    for (const order of orders) {
      if (!writeFailures.has(order.orderNo)) exportedDocs.push(translatedDocs.get(order.orderNo) as WorkOrderDocument)
    }
    // Only after the files are in place: a crash before this re-exports the same content next run.
    await timer.time('markSynced', () => workOrders.markSynced(exportedDocs, [...failed, ...keepUnsynced], new Date()))
    result.exported += exportedDocs.length
    result.exportFailed += failed.length
  }

  return { run }
}

export type TracosSync = ReturnType<typeof createTracosSync>
