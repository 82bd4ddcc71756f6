import type { JobDocument } from './types.js'

// `?? null` throughout: some servers drop null fields on upsert (see store/non-atomic-server.ts), so a field
// may be missing.
const iso = (d: Date | null | undefined): string | null => d == null ? null : d.toISOString()

/** The API form of a job: ISO dates, the lease without its token. */
export function jobView (job: JobDocument) {
  return {
    id: job._id,
    kind: job.kind,
    status: job.status,
    trigger: job.trigger,
    requestId: job.requestId ?? null,
    params: job.params,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAfter: job.runAfter.toISOString(),
    lease: job.leaseInstance != null && job.leaseExpiresAt != null
      ? { instance: job.leaseInstance, expiresAt: job.leaseExpiresAt.toISOString() }
      : null,
    cancelRequested: job.cancelRequested === true,
    progress: job.progress == null ? null : { ...job.progress, updatedAt: job.progress.updatedAt.toISOString() },
    result: job.result ?? null,
    error: job.error ?? null,
    scheduleId: job.scheduleId ?? null,
    retryOf: job.retryOf ?? null,
    retriedBy: job.retriedBy ?? null,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    updatedAt: job.updatedAt.toISOString()
  }
}

/** Seconds a client should wait before polling a job again; undefined once the job is finished. */
export function pollHintSeconds (job: JobDocument, now = Date.now()): number | undefined {
  if (job.status === 'running') return 2
  if (job.status !== 'queued') return undefined
  const wait = Math.ceil((job.runAfter.getTime() - now) / 1000)
  return Math.min(60, Math.max(1, wait))
}

export function encodeCursor (job: JobDocument): string {
  return Buffer.from(JSON.stringify([job.createdAt.getTime(), job._id])).toString('base64url')
}

export function decodeCursor (cursor: string): { createdAt: Date, id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') {
      return { createdAt: new Date(value[0] as number), id: value[1] }
    }
  } catch {}
  return null
}
