import { randomUUID } from 'node:crypto'
import pLimit from 'p-limit'
import { errorMessage, isRetryable, JobError, PermanentError, type Logger } from '../../integration.js'
import { defaultWindow, splitWindows } from './dates.js'
import { UpstreamAuthError, type DateField, type InsightClient, type InsightOrder } from './insight-client.js'
import type { OomnitzaAsset, OomnitzaClient } from './oomnitza-client.js'
import { extractSerials, toAsset, type Mapping, type SkipReason } from './transform.js'

export interface SyncParams {
  from?: string
  to?: string
  dateField?: DateField
  dryRun?: boolean
}

export interface SyncSettings {
  lookbackDays: number
  windowDays: number
  defaultDateField: DateField
  runTimeoutMs: number
  concurrency: number
  lookupBatch: number
  dryRunSample: number
  mapping: Mapping
}

type SkipCode = SkipReason | 'conflict' | 'lookupFailed'

export interface SyncResult {
  runId: string
  dryRun: boolean
  dateField: DateField
  from: string
  to: string
  windows: Array<{ from: string, to: string, orders: number, error?: string }>
  windowsQueried: number
  windowsFailed: number
  orders: number
  /** Distinct serials found (after trimming and dedupe). */
  serials: number
  assets: { created: number, updated: number, unchanged: number, skipped: number, failed: number }
  /** Counts per reason: notShipped (lines), noSerials (deliveries), emptySerial, duplicate, conflict (several Oomnitza assets share the serial). */
  skipped: Partial<Record<SkipCode, number>>
  conflicts: string[]
  failed: Array<{ serial: string, error: string }>
  failedTruncated: boolean
  warnings: string[]
  /** Dry run only: the first INSIGHT_DRY_RUN_SAMPLE payloads that would be written. */
  wouldCreate?: Array<Record<string, string>>
  wouldUpdate?: Array<{ equipment_id: string, serial_number: string, changes: Record<string, string> }>
  seconds: number
}

interface RunContext {
  signal: AbortSignal
  log: Logger
  progress: (done: number, total?: number | null, message?: string | null) => void
  now?: Date
}

const MAX_FAILED_LISTED = 200

/** Fields of the payload whose value differs from the stored asset (compared as strings). */
export function changedFields (asset: Record<string, string>, existing: OomnitzaAsset): Record<string, string> {
  const changes: Record<string, string> = {}
  for (const [field, value] of Object.entries(asset)) {
    const current = existing[field]
    if (current === undefined || current === null || String(current) !== value) changes[field] = value
  }
  return changes
}

/**
 * One Insight → Oomnitza run: fetch the windows, turn shipped serials into asset payloads, look them up in
 * Oomnitza in batches, then create the new ones and patch the changed ones (nothing is written on a dry run).
 */
export function createSyncService (deps: { insight: () => InsightClient, oomnitza: () => OomnitzaClient, settings: SyncSettings }) {
  const { settings } = deps

  async function run (params: SyncParams, ctx: RunContext): Promise<SyncResult> {
    const started = performance.now()
    const range = params.from !== undefined && params.to !== undefined
      ? { from: params.from, to: params.to }
      : defaultWindow(ctx.now ?? new Date(), settings.lookbackDays)
    const dateField = params.dateField ?? settings.defaultDateField
    const dryRun = params.dryRun === true
    const result: SyncResult = {
      runId: randomUUID(),
      dryRun,
      dateField,
      ...range,
      windows: [],
      windowsQueried: 0,
      windowsFailed: 0,
      orders: 0,
      serials: 0,
      assets: { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
      skipped: {},
      conflicts: [],
      failed: [],
      failedTruncated: false,
      warnings: [],
      seconds: 0,
      ...(dryRun ? { wouldCreate: [], wouldUpdate: [] } : {})
    }
    const log = ctx.log.child({ runId: result.runId })
    const deadline = AbortSignal.timeout(settings.runTimeoutMs)
    // Aborted by the job (cancel, shutdown), the run deadline, or an auth failure that makes further calls pointless.
    const stop = new AbortController()
    const signal = AbortSignal.any([ctx.signal, deadline, stop.signal])
    const finish = () => ({ ...result, seconds: Math.round((performance.now() - started) / 10) / 100 })
    const fail = (serial: string, err: unknown) => {
      result.assets.failed++
      if (result.failed.length < MAX_FAILED_LISTED) result.failed.push({ serial, error: errorMessage(err) })
      else result.failedTruncated = true
    }
    const skip = (reason: SkipCode, count = 1) => {
      if (count === 0) return
      result.skipped[reason] = (result.skipped[reason] ?? 0) + count
      result.assets.skipped += count
    }

    try {
      // Insight: windows one after another (the API is slow and has no paging); one failing window does not hide the others.
      const insight = deps.insight()
      const orders: InsightOrder[] = []
      const windowErrors: unknown[] = []
      for (const window of splitWindows(range.from, range.to, settings.windowDays)) {
        result.windowsQueried++
        try {
          const found = await insight.getStatus(window, dateField, signal)
          orders.push(...found)
          result.windows.push({ ...window, orders: found.length })
        } catch (err) {
          if (err instanceof UpstreamAuthError || signal.aborted) throw err
          windowErrors.push(err)
          result.windowsFailed++
          result.windows.push({ ...window, orders: 0, error: errorMessage(err) })
          log.warn({ window, err: errorMessage(err) }, 'insight window failed')
        }
      }
      result.orders = orders.length

      const extraction = extractSerials(orders)
      result.serials = extraction.records.length
      for (const reason of ['notShipped', 'noSerials', 'emptySerial', 'duplicate'] as const) skip(reason, extraction.skipped[reason])
      if (extraction.ambiguousBilling > 0) result.warnings.push(`${extraction.ambiguousBilling} deliveries had several billing entries; billing number left out`)
      const assets = extraction.records.map((record) => toAsset(record, settings.mapping))
      log.info({ windows: result.windowsQueried, orders: result.orders, serials: result.serials }, 'insight orders read')

      // Oomnitza: batched lookups, then writes, all bounded by OOMNITZA_CONCURRENCY.
      const oomnitza = assets.length > 0 ? deps.oomnitza() : null
      const limit = pLimit(settings.concurrency)
      const existing = new Map<string, OomnitzaAsset[]>()
      const lookupFailed = new Map<string, unknown>()
      let authError: UpstreamAuthError | null = null
      const guard = async (work: () => Promise<void>, onError: (err: unknown) => void) => {
        if (authError !== null || signal.aborted) return
        try {
          await work()
        } catch (err) {
          if (err instanceof UpstreamAuthError) {
            authError ??= err
            stop.abort(err)
          } else if (!signal.aborted) {
            onError(err)
          }
        }
      }
      const serials = assets.map((asset) => asset.serial_number as string)
      const batches: string[][] = []
      for (let i = 0; i < serials.length; i += settings.lookupBatch) batches.push(serials.slice(i, i + settings.lookupBatch))
      let done = 0
      const total = batches.length + assets.length
      await Promise.all(batches.map((batch) => limit(() => guard(async () => {
        const found = await (oomnitza as OomnitzaClient).findBySerials(batch, signal)
        for (const asset of found) {
          const serial = String(asset.serial_number ?? '').trim()
          if (!batch.includes(serial)) continue
          existing.set(serial, [...existing.get(serial) ?? [], asset])
        }
        ctx.progress(++done, total, 'looking up assets in Oomnitza')
      }, (err) => { for (const serial of batch) lookupFailed.set(serial, err) }))))
      if (authError !== null) throw authError
      signal.throwIfAborted()

      const writes: Array<() => Promise<void>> = []
      for (const asset of assets) {
        const serial = asset.serial_number as string
        if (lookupFailed.has(serial)) {
          fail(serial, lookupFailed.get(serial))
          continue
        }
        const matches = existing.get(serial) ?? []
        if (matches.length > 1) {
          skip('conflict')
          if (result.conflicts.length < MAX_FAILED_LISTED) result.conflicts.push(serial)
          continue
        }
        const match = matches[0]
        if (match === undefined) {
          if (dryRun) {
            result.assets.created++
            if ((result.wouldCreate as unknown[]).length < settings.dryRunSample) result.wouldCreate?.push(asset)
            continue
          }
          writes.push(() => guard(async () => {
            await (oomnitza as OomnitzaClient).create(asset, signal)
            result.assets.created++
          }, (err) => fail(serial, err)))
          continue
        }
        const changes = changedFields(asset, match)
        if (Object.keys(changes).length === 0) {
          result.assets.unchanged++
          continue
        }
        if (dryRun) {
          result.assets.updated++
          if ((result.wouldUpdate as unknown[]).length < settings.dryRunSample) result.wouldUpdate?.push({ equipment_id: match.equipment_id, serial_number: serial, changes })
          continue
        }
        writes.push(() => guard(async () => {
          await (oomnitza as OomnitzaClient).update(match.equipment_id, changes, signal)
          result.assets.updated++
        }, (err) => fail(serial, err)))
      }
      done += assets.length - writes.length
      await Promise.all(writes.map((write) => limit(async () => {
        await write()
        ctx.progress(++done, total, dryRun ? 'dry run: nothing written' : 'writing assets to Oomnitza')
      })))
      if (authError !== null) throw authError
      signal.throwIfAborted()
      ctx.progress(total, total, dryRun ? 'dry run finished: nothing written' : 'finished')

      log.info({ ...result.assets, windowsFailed: result.windowsFailed, dryRun }, 'insight sync finished')
      if (windowErrors.length > 0) {
        // The serials of the other windows landed; the job still fails so the gap is visible and retried.
        throw new JobError(`${windowErrors.length} of ${result.windowsQueried} Insight windows failed: ${errorMessage(windowErrors[0])}`, {
          code: 'INSIGHT_WINDOW_FAILED',
          retryable: windowErrors.every(isRetryable),
          result: finish()
        })
      }
      return finish()
    } catch (err) {
      if (err instanceof JobError) throw err
      if (err instanceof UpstreamAuthError) {
        throw new PermanentError(err.message, { code: err.message.startsWith('Oomnitza') ? 'OOMNITZA_AUTH' : 'INSIGHT_AUTH', result: finish() })
      }
      if (deadline.aborted && !ctx.signal.aborted) {
        throw new PermanentError(`the run exceeded INSIGHT_RUN_TIMEOUT (${settings.runTimeoutMs} ms); what was written so far is kept`, { code: 'INSIGHT_RUN_TIMEOUT', result: finish() })
      }
      if (ctx.signal.aborted) throw err
      throw new JobError(errorMessage(err), { code: 'INSIGHT_SYNC_FAILED', retryable: isRetryable(err), result: finish() })
    }
  }

  return { run }
}
