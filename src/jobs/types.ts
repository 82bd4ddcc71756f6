import type { Logger } from '../lib/logger.js'

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type JobStatus = typeof JOB_STATUSES[number]

export const JOB_TRIGGERS = ['api', 'webhook', 'schedule', 'retry'] as const
export type JobTrigger = typeof JOB_TRIGGERS[number]

export type JobParams = Record<string, unknown>

export interface JobProgress {
  done: number
  total: number | null
  message: string | null
  updatedAt: Date
}

export interface JobErrorInfo {
  message: string
  code: string
  retryable: boolean
  /** True when the job failed because its last allowed attempt failed with a retryable error. */
  attemptsExhausted?: boolean
}

/** A job as stored in the `jobs` collection. */
export interface JobDocument {
  _id: string
  kind: string
  params: JobParams
  status: JobStatus
  trigger: JobTrigger
  requestId: string | null
  /** Runs started, those whose runner died included. */
  attempts: number
  maxAttempts: number
  /** Runs that ended because their runner stopped renewing the lease (killed, crashed); not handler failures. */
  leaseExpiries?: number
  runAfter: Date
  /** Random token of the claim that holds the job; every write of a runner filters on it. */
  leaseOwner: string | null
  /** Which gateway instance holds the lease (for operators). */
  leaseInstance: string | null
  leaseExpiresAt: Date | null
  /** How many times the job was claimed; each claim's `<id>:<claimSeq>` record in job_claims is unique. */
  claimSeq: number
  cancelRequested: boolean
  progress: JobProgress | null
  result: unknown
  error: JobErrorInfo | null
  dedupeKey: string | null
  /** Set on a job made by a coalescing enqueue (its key is `dedupeKey`): when it may start, see CoalesceOptions. */
  coalesce?: { debounceMs: number, maxWaitMs: number }
  idempotencyKey: string | null
  scheduleId: string | null
  retryOf: string | null
  retriedBy: string | null
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
  updatedAt: Date
}

export interface JobContext<P extends JobParams = JobParams> {
  job: Readonly<JobDocument>
  params: P
  /** Aborted on cancel, timeout, lost lease or shutdown; `signal.reason` says which. */
  signal: AbortSignal
  /** pino child carrying jobId, kind, attempt and the triggering requestId. */
  log: Logger
  /** Records progress on the job; writes are coalesced so calling it per item is cheap. */
  progress: (done: number, total?: number | null, message?: string | null) => void
}

export type JobHandler<P extends JobParams = JobParams> = (ctx: JobContext<P>) => Promise<unknown>

/** When a due job should run after all (see JobKindDefinition.holdUntil). */
export type HoldUntil = (job: JobDocument) => Promise<Date | null>

export interface JobKindDefinition<P extends JobParams = JobParams> {
  handler: JobHandler<P>
  /** Attempts before a retryable failure becomes final (default JOBS_MAX_ATTEMPTS). */
  maxAttempts?: number
  /** Run time limit; on expiry the handler's signal aborts and the job fails (default JOBS_TIMEOUT_MS). */
  timeoutMs?: number
  /**
   * Name of a lock shared by kinds that must never run at the same time, across instances too
   * (e.g. two kinds that rewrite the same file). Held in the `locks` collection.
   */
  exclusive?: string
  /**
   * Asked when a runner has won a due job of this kind, before it marks it running: a time still ahead leaves
   * the job queued until then (no attempt counted, never shown as running, its dedupe key still coalescing
   * triggers): a debounce that waits for a quiet moment. Null or a time passed: run now.
   */
  holdUntil?: HoldUntil
  backoff?: { baseMs?: number, maxMs?: number }
  description?: string
}

/**
 * Debounce with a maximum wait. Every enqueue with the same key joins the job it made while that job has not
 * started (queued, or claimed but waiting for its exclusive lock). The job starts once no trigger came for
 * `debounceMs`, and no later than `maxWaitMs` after its first trigger (the enqueue that made it); a busy runner
 * may start it later than either, never sooner.
 */
export interface CoalesceOptions {
  /** Shared with dedupe keys: a plain `dedupeKey` enqueue of the same key joins the same job (without debounce). */
  key: string
  debounceMs: number
  maxWaitMs: number
}

/** What a coalescing trigger of a key would join now, as far as this instance knows (no round trip). */
export interface CoalescedJob {
  /** The known queued job; else the id the next coalescing enqueue here gives a job it makes (unless it joins one). */
  jobId: string
  /** True when `jobId` is a queued job known here that has likely not started (its start time has not passed). */
  queued: boolean
  /** The known job's earliest start: a trigger well before it joins it without a round trip. Null when none. */
  runAfter: Date | null
}

export interface EnqueueOptions {
  trigger?: JobTrigger
  requestId?: string | null
  /** While a job with this key is queued, enqueueing again returns that job (coalescing). */
  dedupeKey?: string
  /** Join the key's job, which starts after a quiet moment (see CoalesceOptions); sets `dedupeKey` and `runAfter`. */
  coalesce?: CoalesceOptions
  /** Caller-supplied key: a repeat returns the first job, whatever its state. */
  idempotencyKey?: string
  runAfter?: Date
  maxAttempts?: number
  scheduleId?: string
  retryOf?: string
  /** The new job's id, chosen by the caller (who may record it before the enqueue); random by default. */
  jobId?: string
}

export interface EnqueueResult {
  job: JobDocument
  /** false when an existing job was returned (dedupe, coalesce or idempotency). */
  created: boolean
  /** Why an existing job was returned. */
  reusedBy?: 'dedupe' | 'coalesce' | 'idempotency'
}
