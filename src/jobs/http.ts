import type { FastifyReply, FastifyRequest } from 'fastify'
import type { EnqueueOptions, EnqueueResult, JobParams } from './types.js'

/**
 * Enqueues a job for a trigger route and answers the standard way: 202 {jobId, status, statusUrl} for a
 * new or coalesced job, 200 with the first job when the Idempotency-Key was seen before.
 */
export async function triggerJob (
  request: FastifyRequest,
  reply: FastifyReply,
  kind: string,
  params: JobParams,
  options: EnqueueOptions = {}
): Promise<EnqueueResult & { body: { jobId: string, status: string, statusUrl: string } }> {
  const header = request.headers['idempotency-key']
  // A verified Standard Webhooks `webhook-id` stays the same across the sender's retries: the natural key.
  const idempotencyKey = options.idempotencyKey ?? (typeof header === 'string' && header !== '' ? header : undefined) ?? request.webhookId ?? undefined
  // A busy or absent MongoDB answers 503 with Retry-After instead of holding the caller (nothing is acknowledged).
  const result = await request.server.storage.request(() => request.server.jobs.enqueue(kind, params, {
    trigger: 'api',
    requestId: request.id,
    ...options,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey })
  }))
  const statusUrl = `/jobs/${result.job._id}`
  reply.code(result.reusedBy === 'idempotency' ? 200 : 202).header('location', statusUrl)
  return { ...result, body: { jobId: result.job._id, status: result.job.status, statusUrl } }
}
