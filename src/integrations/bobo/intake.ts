import { createHash, randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { httpError, insertManyOnce, type ErrorDetail } from '../../integration.js'
import { parseBoboCsv, type ParsedFile } from './csv.js'
import { generatedFileName, keyedFileName, writeFileAtomic } from './files.js'
import type { BoboFileRecord, BoboStore } from './store.js'

interface StoredUpload { id: string, file: string, originalName: string | null, parsed: ParsedFile }

/** Writes a file atomically unless it exists (then false: a keyed upload's first attempt wrote it). */
async function writeFileOnce (path: string, content: Buffer): Promise<boolean> {
  try {
    await writeFileAtomic(path, content)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}

/**
 * Uploads: every file is validated first; if any has no valid row the request is refused with 400 and nothing
 * is stored. Otherwise each file is written atomically under a server-generated name and registered, before the
 * route answers 202. With an idempotency key the records' ids come from the key, so a repeat (a sender's retry
 * after a timeout) stores nothing and is answered with the files the first request stored.
 */
export function createIntake (deps: { store: BoboStore, incomingDir: string, timeZone: string, now: () => Date }) {
  async function accept (files: Array<{ originalName: string | null, content: Buffer }>, idempotencyKey?: string): Promise<{ stored: StoredUpload[], repeated: boolean }> {
    const parsed = files.map((f, index) => ({ ...f, index, parsed: parseBoboCsv(f.content, deps.timeZone) as ParsedFile }))
    const empty = parsed.filter((f) => f.parsed.events.length === 0)
    if (empty.length > 0) {
      const details: ErrorDetail[] = []
      for (const f of empty) {
        const label = f.originalName ?? `file ${f.index + 1}`
        if (f.parsed.rejected.length === 0) details.push({ field: label, message: 'has no data rows' })
        for (const r of f.parsed.rejected.slice(0, 50)) details.push({ field: `${label} line ${r.line}`, message: r.reason })
      }
      throw httpError(400, `${empty.map((f) => f.originalName ?? `file ${f.index + 1}`).join(', ')}: no valid BOBO row; nothing was stored`, details.slice(0, 200))
    }
    const keyHash = idempotencyKey === undefined ? null : createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)
    const idFor = (index: number): string => keyHash === null ? randomUUID() : `upload-${keyHash}-${index}`
    /** The files the first request with this key stored, described with this request's parse (the same bytes). */
    const repeat = async (): Promise<{ stored: StoredUpload[], repeated: true } | null> => {
      if (keyHash === null) return null
      const first = await deps.store.files.find({ _id: { $in: parsed.map((f) => idFor(f.index)) } }).toArray()
      if (first.length === 0) return null
      const byId = new Map(first.map((r) => [r._id, r]))
      const stored = parsed.flatMap((f) => {
        const record = byId.get(idFor(f.index))
        return record === undefined ? [] : [{ id: record._id, file: record.name, originalName: record.originalName, parsed: f.parsed }]
      })
      return { stored, repeated: true }
    }
    const earlier = await repeat()
    if (earlier !== null) return earlier
    const records: BoboFileRecord[] = []
    const stored: StoredUpload[] = []
    /** Files this request wrote (a keyed one may already be there, left by a first attempt that died). */
    const written: string[] = []
    for (const f of parsed) {
      const now = deps.now()
      const name = keyHash === null ? generatedFileName(new Date()) : keyedFileName(keyHash, f.index)
      if (await writeFileOnce(join(deps.incomingDir, name), f.content)) written.push(name)
      const id = idFor(f.index)
      records.push({
        _id: id,
        name,
        originalName: f.originalName === null ? null : f.originalName.slice(0, 255),
        source: 'upload',
        status: 'incoming',
        size: f.content.length,
        receivedAt: new Date(),
        firstSeen: now,
        retryCount: 0,
        lastRetry: null,
        lastError: null,
        lastOutcome: null,
        lastJobId: null,
        rows: f.parsed.rows,
        accepted: f.parsed.events.length,
        rejected: f.parsed.rejected.length,
        updatedAt: now
      })
      stored.push({ id, file: name, originalName: f.originalName, parsed: f.parsed })
    }
    const inserted = await insertManyOnce(deps.store.files, records)
    if (inserted.every(Boolean)) return { stored, repeated: false }
    // The same key sent twice at once, or a first attempt's file the drop scan registered (under the same id):
    // the upload is stored once. A file this request wrote again after the first copy was processed and moved
    // away is removed, so it is not processed twice.
    const registered = await deps.store.files.find({ _id: { $in: records.map((r) => r._id) } }).toArray()
    const moved = new Set(registered.filter((r) => r.status !== 'incoming').map((r) => r.name))
    await Promise.all(written.filter((name) => moved.has(name)).map(async (name) => await rm(join(deps.incomingDir, name), { force: true })))
    return (await repeat()) ?? { stored, repeated: false }
  }
  return { accept }
}

export type IntakeService = ReturnType<typeof createIntake>
