import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { errorMessage, exists, freeName, insertManyOnce, removeAbandonedTempFiles, syncDirectory, type Logger } from '../../integration.js'
import { userOutcome, type AthocClient, type SyncResult, type UserOutcome } from './athoc-client.js'
import { parseBoboCsv, type DutyEvent, type ParsedFile } from './csv.js'
import { keyedRecordId, listFolder, moveFile } from './files.js'
import { bulkInSlices, type BatchIntent, type BoboFileRecord, type BoboStore, type FileOutcome, type ProcessingLogEntry } from './store.js'
import { formatAthocTime } from './time.js'

export interface ProcessorOptions {
  incomingDir: string
  processedDir: string
  failedDir: string
  stableMs: number
  maxFiles: number
  maxRetries: number
  timeZone: string
  dutyField: string
  chunkSize: number
  now: () => Date
}

/** Rejected rows and failures kept per log record. */
const MAX_LOGGED = 100

interface BatchFile {
  record: BoboFileRecord
  parsed: ParsedFile | null
  readError: string | null
}

/**
 * The processing batch (job bobo.process). Crash safety: the batch intent is stored before AtHoc is called;
 * the per-employee applied times, the processing log and the planned moves are stored before any file moves;
 * a later run finishes planned moves (state `moving`) or re-sends an interrupted batch (state `sending`), which
 * the applied-time guard keeps from letting an older value win.
 */
export function createProcessor (deps: { store: BoboStore, athoc: AthocClient, log: Logger, options: ProcessorOptions }) {
  const { store, athoc, options } = deps

  async function reconcile (log: Logger): Promise<{ finished: number, interrupted: number }> {
    let finished = 0
    let interrupted = 0
    for (const intent of await store.batches.find({}).toArray()) {
      if (intent.state === 'moving') {
        await applyMoves(intent)
        finished++
      } else {
        // Sent or half-sent: the files are still in incoming and go out again in the next batch.
        await store.log.updateMany({ batchId: intent._id }, { $set: { outcome: 'interrupted', error: 'the gateway stopped during this attempt' } })
        await store.batches.deleteOne({ _id: intent._id })
        interrupted++
      }
    }
    if (finished + interrupted > 0) log.warn({ finished, interrupted }, 'reconciled batches left by an interrupted run')
    return { finished, interrupted }
  }

  async function applyMoves (intent: BatchIntent): Promise<void> {
    const moves = intent.moves ?? []
    // Files with the same new state (typically every processed file) are written with one updateMany.
    const groups = new Map<string, { set: Partial<BoboFileRecord>, ids: string[] }>()
    for (const m of moves) {
      const key = JSON.stringify(m.set)
      const group = groups.get(key) ?? { set: m.set, ids: [] }
      group.ids.push(m.fileId)
      groups.set(key, group)
    }
    await bulkInSlices(store.files, [...groups.values()].map((g) => ({ updateMany: { filter: { _id: { $in: g.ids } }, update: { $set: g.set } } })))
    const dirs = new Set<string>()
    for (const m of moves) {
      if (m.to === null) continue
      const result = await moveFile(m.from, m.to, { syncDirs: false })
      if (result === 'missing') deps.log.error({ from: m.from, to: m.to }, 'file to move is in neither place')
      dirs.add(options.incomingDir)
      dirs.add(join(m.to, '..'))
    }
    await Promise.all([...dirs].map(async (d) => { await syncDir(d) }))
    await store.batches.deleteOne({ _id: intent._id })
  }

  /** Files waiting in incoming, oldest first; dropped files are registered once they stopped changing. */
  async function collectFiles (log: Logger, signal: AbortSignal): Promise<{ records: BoboFileRecord[], unsettled: number, added: Set<string> }> {
    // Records first, then the folder: an upload writes its file before its record, so every record read here
    // has its file in the listing (one missing from it really is gone), and an upload landing in between shows
    // up as a young file whose record the late lookup below finds.
    const known = await store.files.find({ status: 'incoming' }).toArray()
    const entries = await listFolder(options.incomingDir)
    const abandoned = await removeAbandonedTempFiles(options.incomingDir)
    if (abandoned > 0) log.warn({ removed: abandoned }, 'removed temp files left by an interrupted upload')
    const byName = new Map(known.map((r) => [r.name, r]))
    const present = new Set(entries.map((e) => e.name))
    const now = options.now()
    for (const record of known) {
      if (present.has(record.name)) continue
      await store.files.updateOne({ _id: record._id, status: 'incoming' }, { $set: { status: 'missing', lastOutcome: 'missing', lastError: 'file disappeared from the incoming folder', updatedAt: now } })
      await store.log.insertOne(logEntry(`missing-${randomUUID()}`, record, null, { outcome: 'missing', error: 'file disappeared from the incoming folder' }))
      log.error({ file: record.name }, 'a registered file disappeared from the incoming folder')
    }
    let fresh = entries.filter((e) => !byName.has(e.name))
    let unsettled = 0
    const young = fresh.filter((e) => Date.now() - e.mtimeMs < options.stableMs)
    if (young.length > 0) {
      // A file written in the last moments may still be growing: look again after the stability wait.
      await sleep(options.stableMs, undefined, { signal })
      const again = new Map((await listFolder(options.incomingDir)).map((e) => [e.name, e]))
      fresh = fresh.filter((e) => {
        const later = again.get(e.name)
        const stable = later !== undefined && later.size === e.size && later.mtimeMs === e.mtimeMs
        if (!stable) unsettled++
        return stable
      })
    }
    if (young.length > 0 && fresh.length > 0) {
      // An upload writes its file, then its record: one seen half-way is registered by now.
      const late = await store.files.find({ status: 'incoming', name: { $in: fresh.map((e) => e.name) } }).toArray()
      const lateNames = new Set(late.map((r) => r.name))
      known.push(...late)
      for (const r of late) present.add(r.name)
      fresh = fresh.filter((e) => !lateNames.has(e.name))
    }
    const added: BoboFileRecord[] = fresh.map((e) => ({
      // A keyed upload whose first attempt died before registering its file: the id its re-send would use,
      // so the file is registered once whichever comes first.
      _id: keyedRecordId(e.name) ?? randomUUID(),
      name: e.name,
      originalName: keyedRecordId(e.name) === null ? e.name : null,
      source: keyedRecordId(e.name) === null ? 'drop' : 'upload',
      status: 'incoming',
      size: e.size,
      receivedAt: new Date(e.mtimeMs),
      firstSeen: now,
      retryCount: 0,
      lastRetry: null,
      lastError: null,
      lastOutcome: null,
      lastJobId: null,
      rows: null,
      accepted: null,
      rejected: null,
      updatedAt: now
    }))
    // Registered once read (with their row counts), in the batch that takes them.
    const records = [...known.filter((r) => present.has(r.name)), ...added]
    records.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return { records, unsettled, added: new Set(added.map((r) => r._id)) }
  }

  function logEntry (batchId: string, record: BoboFileRecord, parsed: ParsedFile | null, fields: Partial<ProcessingLogEntry>): ProcessingLogEntry {
    return {
      _id: `${batchId}:${record._id}`,
      batchId,
      fileId: record._id,
      name: record.name,
      at: options.now(),
      attempt: record.retryCount + 1,
      rows: parsed?.rows ?? 0,
      accepted: parsed?.events.length ?? 0,
      rejected: parsed?.rejected.length ?? 0,
      rejectedRows: parsed?.rejected.slice(0, MAX_LOGGED) ?? [],
      users: 0,
      usersUpdated: 0,
      unknownEmployees: 0,
      skippedOlder: 0,
      failures: [],
      failureCount: 0,
      outcome: 'processed',
      error: null,
      ...fields
    }
  }

  /** `jobId` is recorded on each file it handles, so an upload's status link leads to the job that processed it. */
  async function run (ctx: { log: Logger, signal: AbortSignal, jobId?: string, progress?: (done: number, total?: number | null, message?: string | null) => void }) {
    const { log, signal } = ctx
    const jobId = ctx.jobId ?? null
    athoc.checkConfigured()
    const timings: Record<string, number> = {}
    let mark = performance.now()
    const lap = (name: string): void => { const t = performance.now(); timings[name] = Math.round(t - mark); mark = t }
    const reconciled = await reconcile(log)
    const { records: waiting, unsettled, added } = await collectFiles(log, signal)
    const batch: BatchFile[] = []
    for (const record of waiting.slice(0, options.maxFiles)) {
      try {
        const content = await readFile(join(options.incomingDir, record.name))
        batch.push({ record, parsed: parseBoboCsv(content, options.timeZone), readError: null })
      } catch (err) {
        batch.push({ record, parsed: null, readError: `unreadable file: ${errorMessage(err)}` })
      }
    }
    if (batch.length === 0) return { files: 0, waiting: 0, unsettled, reconciled, athocCalls: 0 }
    const fresh = batch.filter((f) => added.has(f.record._id)).map((f) => ({ ...f.record, rows: f.parsed?.rows ?? 0, accepted: f.parsed?.events.length ?? 0, rejected: f.parsed?.rejected.length ?? 0 }))
    // Once: a keyed upload's re-send may have registered the same file under the same id meanwhile.
    for (let i = 0; i < fresh.length; i += 90) await insertManyOnce(store.files, fresh.slice(i, i + 90))
    lap('readMs')

    // Latest event per employee across the batch: later time wins; on a tie the later file, then the later row.
    const latest = new Map<string, { event: DutyEvent, fileIndex: number }>()
    batch.forEach((file, fileIndex) => {
      for (const event of file.parsed?.events ?? []) {
        const current = latest.get(event.employeeId)
        if (current === undefined || event.time.getTime() >= current.event.time.getTime()) latest.set(event.employeeId, { event, fileIndex })
      }
    })
    const mapping = latest.size === 0 ? new Map<string, string>() : await store.lookupMappings([...latest.keys()])
    const applied = await store.loadDutyState()
    lap('lookupMs')

    // One update per AtHoc login: the newest event of any employee mapped to it.
    const updates = new Map<string, { employeeIds: string[], event: DutyEvent }>()
    const skippedOlder = new Set<string>()
    for (const [employeeId, { event }] of latest) {
      const login = mapping.get(employeeId)
      if (login === undefined) continue
      const last = applied.get(employeeId)
      if (last !== undefined && event.time.getTime() < last) { skippedOlder.add(employeeId); continue }
      const current = updates.get(login)
      if (current === undefined) updates.set(login, { employeeIds: [employeeId], event })
      else {
        current.employeeIds.push(employeeId)
        if (event.time.getTime() >= current.event.time.getTime()) current.event = event
      }
    }

    const batchId = randomUUID()
    await store.batches.insertOne({ _id: batchId, state: 'sending', createdAt: options.now(), fileIds: batch.map((f) => f.record._id) })

    const outcomes = new Map<string, UserOutcome>()
    const logins = [...updates.keys()]
    const callsBefore = athoc.calls()
    for (let i = 0; i < logins.length; i += options.chunkSize) {
      const chunk = logins.slice(i, i + options.chunkSize)
      const body = chunk.map((login) => {
        const { event } = updates.get(login) as { event: DutyEvent }
        return { LOGIN_ID: login, [options.dutyField]: event.onDuty ? formatAthocTime(event.time, options.timeZone) : '' }
      })
      try {
        const answer = await athoc.syncByCommonNames(body, signal)
        const byLogin = new Map<string, SyncResult>()
        for (const entry of answer) byLogin.set(String(entry.LOGIN_ID ?? '').toLowerCase(), entry)
        for (const login of chunk) outcomes.set(login, userOutcome(byLogin.get(login.toLowerCase())))
      } catch (err) {
        if (signal.aborted) throw err
        if (isAuthFailure(err)) {
          // Bad credentials are not the files' fault: fail the job, leave the files and their retry counts alone.
          await store.batches.deleteOne({ _id: batchId })
          throw err
        }
        const reason = `SyncByCommonNames failed: ${errorMessage(err)}`
        log.warn({ users: chunk.length, err: reason }, 'AtHoc chunk failed')
        for (const login of chunk) outcomes.set(login, { ok: false, reason })
      }
      ctx.progress?.(Math.min(i + options.chunkSize, logins.length), logins.length, 'users sent to AtHoc')
    }

    lap('athocMs')
    // Remember what AtHoc now holds, so older events (late files, retries) never overwrite it.
    const changed: string[] = []
    for (const [login, update] of updates) {
      if (outcomes.get(login)?.ok !== true) continue
      for (const employeeId of update.employeeIds) {
        const time = latest.get(employeeId)?.event.time.getTime() as number
        if ((applied.get(employeeId) ?? -Infinity) <= time) { applied.set(employeeId, time); changed.push(employeeId) }
      }
    }
    await store.saveDutyState(applied, changed)
    lap('stateMs')

    const now = options.now()
    const entries: ProcessingLogEntry[] = []
    const moves: NonNullable<BatchIntent['moves']> = []
    const summary = { processed: 0, retry: 0, failed: 0 }
    const reserved = new Set<string>()
    for (const file of batch) {
      const { record, parsed } = file
      const fileLogins = new Set<string>()
      let unknown = 0
      let older = 0
      for (const event of parsed?.events ?? []) {
        const login = mapping.get(event.employeeId)
        if (login === undefined) { unknown++; continue }
        if (skippedOlder.has(event.employeeId)) older++
        fileLogins.add(login)
      }
      const failures: Array<{ login: string, reason: string }> = []
      let updated = 0
      for (const login of fileLogins) {
        const outcome = outcomes.get(login)
        if (outcome === undefined) continue // nothing sent: its event is older than what AtHoc already has
        if (outcome.ok) updated++
        else failures.push({ login, reason: outcome.reason ?? 'failed' })
      }
      const error = file.readError ?? (parsed !== null && parsed.rows > 0 && parsed.events.length === 0 ? `no valid row: line ${parsed.rejected[0]?.line ?? 0}: ${parsed.rejected[0]?.reason ?? ''}` : null) ?? (failures.length > 0 ? `${failures.length} of ${fileLogins.size} users not updated: ${failures[0]?.reason ?? ''}` : null)
      let outcome: FileOutcome = error === null ? 'processed' : 'retry'
      let retryCount = error === null ? 0 : record.retryCount + 1
      if (outcome === 'retry' && retryCount >= options.maxRetries) outcome = 'failed'
      // Rows but not one valid: another attempt cannot help, so it is quarantined at once.
      const invalid = parsed !== null && parsed.rows > 0 && parsed.events.length === 0
      if (invalid) { outcome = 'failed'; retryCount = record.retryCount + 1 }
      summary[outcome as 'processed' | 'retry' | 'failed']++
      entries.push(logEntry(batchId, record, parsed, {
        at: now,
        jobId,
        users: fileLogins.size,
        usersUpdated: updated,
        unknownEmployees: unknown,
        skippedOlder: older,
        failures: failures.slice(0, MAX_LOGGED),
        failureCount: failures.length + (file.readError === null ? 0 : 1),
        outcome,
        error: outcome === 'retry' ? `Retry attempt ${retryCount}/${options.maxRetries}: ${error ?? ''}` : outcome === 'failed' ? (invalid ? error : `Exceeded max retry attempts (${options.maxRetries}): ${error ?? ''}`) : null
      }))
      const set: Partial<BoboFileRecord> = outcome === 'processed'
        ? { lastOutcome: outcome, lastError: null, retryCount: 0, lastJobId: jobId, updatedAt: now }
        : { lastOutcome: outcome, lastError: error, retryCount, lastRetry: now, lastJobId: jobId, updatedAt: now }
      let to: string | null = null
      if (outcome !== 'retry') {
        const dir = outcome === 'processed' ? options.processedDir : options.failedDir
        let name = await freeName(dir, record.name, now)
        for (let n = 1; reserved.has(join(dir, name)); n++) name = name.replace(/(\.[^.]*)?$/, `_${n}$1`)
        reserved.add(join(dir, name))
        to = join(dir, name)
        set.status = outcome
        if (name !== record.name) set.name = name
      }
      moves.push({ fileId: record._id, from: join(options.incomingDir, record.name), to, set })
    }
    for (let i = 0; i < entries.length; i += 90) await store.log.insertMany(entries.slice(i, i + 90), { ordered: false })
    const intent: BatchIntent = { _id: batchId, state: 'moving', createdAt: now, fileIds: batch.map((f) => f.record._id), moves }
    await store.batches.replaceOne({ _id: batchId }, intent)
    lap('logMs')
    await applyMoves(intent)
    lap('moveMs')

    const result = {
      batchId,
      files: batch.length,
      waiting: Math.max(0, waiting.length - batch.length),
      unsettled,
      reconciled,
      ...summary,
      employees: latest.size,
      unknownEmployees: [...latest.keys()].filter((id) => !mapping.has(id)).length,
      skippedOlder: skippedOlder.size,
      usersSent: logins.length,
      usersFailed: [...outcomes.values()].filter((o) => !o.ok).length,
      athocCalls: athoc.calls() - callsBefore,
      timings
    }
    log.info(result, 'BOBO batch processed')
    return result
  }

  return { run, reconcile }
}

function isAuthFailure (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'ATHOC_AUTH' || code === 'ATHOC_NOT_CONFIGURED'
}

async function syncDir (dir: string): Promise<void> {
  if (await exists(dir)) await syncDirectory(dir)
}
