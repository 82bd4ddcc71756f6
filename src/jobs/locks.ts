import type { Collection, Db } from 'mongodb'
import { insertOnce } from '../lib/mongo-errors.js'

interface LockDocument {
  _id: string
  owner: string
  expiresAt: Date
  acquiredAt: Date
}

/** Who took over an expired lock: `_id` names the lock and the expired lease, so one taker wins it. */
interface TakeoverDocument {
  _id: string
  jobId: string
  owner: string
  at: Date
}

/**
 * Named leases in the `locks` collection, one document per lock name. A lock whose holder stopped renewing
 * it is free again after it expires. Works without partial indexes or transactions.
 *
 * Every contested step is decided by a unique `_id`, never by a conditional update alone, so two instances
 * taking over one expired lock cannot both win ("lock takeover records" in store/non-atomic-server.ts).
 * A free lock is taken by inserting it; an expired one by inserting a takeover record for that exact lease
 * (kept in `job_claims`, purged with the claims).
 */
export function createLocks (db: Db) {
  const locks: Collection<LockDocument> = db.collection<LockDocument>('locks')
  const takeovers: Collection<TakeoverDocument> = db.collection<TakeoverDocument>('job_claims')

  /** Takes the lock for `owner` (or renews it when owner already holds it). False when someone else holds it. */
  async function acquire (name: string, owner: string, ttlMs: number): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = new Date()
      const lease = { owner, expiresAt: new Date(now.getTime() + ttlMs), acquiredAt: now }
      if (await insertOnce(locks, { _id: name, ...lease })) return true
      const current = await locks.findOne({ _id: name })
      if (current === null) continue // released in between: try to insert again
      if (current.owner === owner) return renew(name, owner, ttlMs)
      if (current.expiresAt >= now) return false
      // Another instance taking this expired lease over first wins it.
      const takeoverId = `lock:${name}:${current.owner}:${current.expiresAt.getTime()}`
      if (!(await insertOnce(takeovers, { _id: takeoverId, jobId: `lock:${name}`, owner, at: now }))) {
        // A taker that died (or failed) between its record and the lock's update would block the lock until
        // the records are purged: a record counts for one TTL, then it may be won again.
        const record = await takeovers.findOne({ _id: takeoverId })
        if (record !== null && now.getTime() - record.at.getTime() <= ttlMs) return false
        if (record !== null) await takeovers.deleteOne({ _id: takeoverId, at: record.at })
        continue
      }
      const r = await locks.updateOne({ _id: name, owner: current.owner, expiresAt: current.expiresAt }, { $set: lease })
      return r.matchedCount === 1
    }
    return false
  }

  async function renew (name: string, owner: string, ttlMs: number): Promise<boolean> {
    const r = await locks.updateOne({ _id: name, owner }, { $set: { expiresAt: new Date(Date.now() + ttlMs) } })
    return r.matchedCount === 1
  }

  async function release (name: string, owner: string): Promise<void> {
    await locks.deleteOne({ _id: name, owner })
  }

  async function holder (name: string): Promise<LockDocument | null> {
    return locks.findOne({ _id: name, expiresAt: { $gte: new Date() } })
  }

  return { acquire, renew, release, holder }
}

export type Locks = ReturnType<typeof createLocks>
