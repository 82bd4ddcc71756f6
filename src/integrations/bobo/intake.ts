import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { httpError, type ErrorDetail } from '../../lib/http-errors.js'
import { parseBoboCsv, type ParsedFile } from './csv.js'
import { generatedFileName, writeFileAtomic } from './files.js'
import type { BoboFileRecord, BoboStore } from './store.js'

/**
 * Uploads: every file is validated first; if any has no valid row the request is refused with 400 and nothing
 * is stored. Otherwise each file is written atomically under a server-generated name and registered, before the
 * route answers 202.
 */
export function createIntake (deps: { store: BoboStore, incomingDir: string, timeZone: string, now: () => Date }) {
  async function accept (files: Array<{ originalName: string | null, content: Buffer }>) {
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
    const records: BoboFileRecord[] = []
    const stored: Array<{ file: string, originalName: string | null, parsed: ParsedFile }> = []
    for (const f of parsed) {
      const now = deps.now()
      const name = generatedFileName(new Date())
      await writeFileAtomic(join(deps.incomingDir, name), f.content)
      records.push({
        _id: randomUUID(),
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
        rows: f.parsed.rows,
        accepted: f.parsed.events.length,
        rejected: f.parsed.rejected.length,
        updatedAt: now
      })
      stored.push({ file: name, originalName: f.originalName, parsed: f.parsed })
    }
    await deps.store.files.insertMany(records)
    return stored
  }
  return { accept }
}

export type IntakeService = ReturnType<typeof createIntake>
