/** Reads for the API and metrics, over live and finished jobs alike; they change nothing. */
import type { Collection, Filter } from 'mongodb'
import type { JobDocument, JobStatus } from '../types.js'
import { getJob, type StoreContext } from './context.js'

export interface ListJobsQuery {
  kind?: string
  status?: JobStatus
  limit: number
  cursor?: { createdAt: Date, id: string }
}

function newestFirst (a: JobDocument, b: JobDocument): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0)
}

export function createQueries (ctx: StoreContext) {
  const { jobs, done } = ctx

  async function list (query: ListJobsQuery): Promise<JobDocument[]> {
    const filter: Filter<JobDocument> = {}
    if (query.kind !== undefined) filter.kind = query.kind
    if (query.status !== undefined) filter.status = query.status
    if (query.cursor !== undefined) {
      const { createdAt, id } = query.cursor
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }]
    }
    // Newest first across both collections: take `limit` from each, merge, keep `limit`.
    const fetch = (c: Collection<JobDocument>) => c.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit)
      .toArray()
    const [live, finished] = await Promise.all([fetch(jobs), fetch(done)])
    const byId = new Map<string, JobDocument>()
    for (const job of [...finished, ...live]) byId.set(job._id, job) // a live copy wins over a stale archive
    return [...byId.values()].sort(newestFirst).slice(0, query.limit)
  }

  async function countByStatus (): Promise<Array<{ kind: string, status: JobStatus, count: number }>> {
    const group = [{ $group: { _id: { kind: '$kind', status: '$status' }, count: { $sum: 1 } } }]
    const totals = new Map<string, { kind: string, status: JobStatus, count: number }>()
    for (const collection of [jobs, done]) {
      const rows = await collection.aggregate<{ _id: { kind: string, status: JobStatus }, count: number }>(group)
        .toArray()
      for (const { _id: { kind, status }, count } of rows) {
        const key = `${kind}\u0000${status}`
        const entry = totals.get(key) ?? { kind, status, count: 0 }
        entry.count += count
        totals.set(key, entry)
      }
    }
    return [...totals.values()]
  }

  return { get: (id: string) => getJob(ctx, id), list, countByStatus }
}
