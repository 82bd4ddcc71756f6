import type { Collection, Db } from 'mongodb'
import { isDuplicateKeyError } from '../lib/mongo-errors.js'

interface LockDocument {
  _id: string
  owner: string
  expiresAt: Date
  acquiredAt: Date
}

/**
 * Named leases in the `locks` collection, one document per lock name. A lock whose holder stopped renewing
 * it is free again after it expires. Works without partial indexes or transactions.
 */
export function createLocks (db: Db) {
  const locks: Collection<LockDocument> = db.collection<LockDocument>('locks')

  /** Takes the lock for `owner` (or renews it when owner already holds it). False when someone else holds it. */
  async function acquire (name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = new Date()
    try {
      await locks.updateOne(
        { _id: name, $or: [{ expiresAt: { $lt: now } }, { owner }] },
        { $set: { owner, expiresAt: new Date(now.getTime() + ttlMs), acquiredAt: now } },
        { upsert: true }
      )
      return true
    } catch (err) {
      // The filter did not match an existing document, so the upsert collided with the holder's `_id`.
      if (isDuplicateKeyError(err)) return false
      throw err
    }
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
