import { JobAbort } from './errors.js'
import type { JobRegistry } from './registry.js'
import type { JobRunner } from './runner.js'
import type { JobStore } from './store.js'
import type { EnqueueOptions, EnqueueResult, JobDocument, JobParams } from './types.js'

export class JobStateError extends Error {
  readonly job: JobDocument
  constructor (message: string, job: JobDocument) {
    super(message)
    this.name = 'JobStateError'
    this.job = job
  }
}

/** What routes and schedules use: enqueue, retry and cancel, on top of the store and the local runner. */
export function createJobService (store: JobStore, registry: JobRegistry, runner: JobRunner) {
  async function enqueue (kind: string, params: JobParams = {}, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const definition = registry.get(kind)
    if (definition === undefined) throw new Error(`unknown job kind ${kind}`)
    const maxAttempts = options.maxAttempts ?? definition.maxAttempts
    const result = await store.enqueue(kind, params, maxAttempts === undefined ? options : { ...options, maxAttempts })
    if (result.created) runner.wake()
    return result
  }

  /** failed/cancelled → a new queued job with the same kind and params, linked both ways. */
  /** A job's retry: made once (a second request, or two at once, get the same one back, `created: false`). */
  async function retry (id: string, requestId: string | null): Promise<{ job: JobDocument, created: boolean } | null> {
    const job = await store.get(id)
    if (job === null) return null
    if (job.status !== 'failed' && job.status !== 'cancelled') {
      throw new JobStateError(`only failed or cancelled jobs can be retried; this one is ${job.status}`, job)
    }
    const result = await enqueue(job.kind, job.params, { trigger: 'retry', requestId, retryOf: job._id, idempotencyKey: `retry-of:${job._id}` })
    if (result.created) await store.linkRetry(job._id, result.job._id)
    return { job: result.job, created: result.created }
  }

  async function cancel (id: string): Promise<JobDocument | null> {
    const job = await store.requestCancel(id)
    if (job === null) {
      const existing = await store.get(id)
      if (existing === null) return null
      // Still queued: a runner holds its next claim and has neither started nor released it yet (it is
      // asking the kind whether to wait, or died and recovery will free the claim within a lease).
      if (existing.status === 'queued') throw new JobStateError('the job is being claimed by a runner at this moment; try the cancel again in a few seconds', existing)
      throw new JobStateError(`a ${existing.status} job cannot be cancelled`, existing)
    }
    // When this instance runs the job, stop it now instead of at the next heartbeat.
    if (job.status === 'running') runner.abortLocal(job._id, new JobAbort('cancelled', 'the job was cancelled'))
    return job
  }

  return { enqueue, coalesced: store.coalesced, retry, cancel, get: store.get, list: store.list }
}

export type JobService = ReturnType<typeof createJobService>
