import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Db } from 'mongodb'
import pLimit from 'p-limit'

/** The generator's five TracOS statuses and the client side's six (deleted too). */
const TRACOS_SEED_STATUSES = ['pending', 'in_progress', 'completed', 'on_hold', 'cancelled'] as const
const CLIENT_SEED_STATUSES = [...TRACOS_SEED_STATUSES, 'deleted'] as const

const DAY = 86_400_000
const HOUR = 3_600_000

/** A date as the generator writes it: Python isoformat with microseconds and a +00:00 offset. */
function pythonIso (date: Date, micros: number): string {
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds() * 1000 + micros).padStart(6, '0')}+00:00`
}

export interface SeedOptions {
  db: Db
  collection?: string
  inboundDir: string
  count: number
  /** Client-side status drawn once for every file, like the generator (default: random). */
  clientStatus?: typeof CLIENT_SEED_STATUSES[number]
  /** Skip the TracOS documents (only write client files, for orders 1…N). */
  filesOnly?: boolean
  /** First order number; default: one past the highest already in the collection (1 when it is empty). */
  first?: number
  now?: Date
  random?: () => number
}

/**
 * Sample data shaped like the original generator (setup.py): N work orders in `workorders` with no `isSynced`
 * field, numbered after those already there (so seeding a running system adds orders instead of failing on
 * duplicate numbers), and client files `<number>.json` for the same numbers in the inbound folder.
 */
export async function seedTracos (options: SeedOptions): Promise<{ documents: number, files: number, first: number, clientStatus: string }> {
  const random = options.random ?? Math.random
  const now = options.now ?? new Date()
  const clientStatus = options.clientStatus ?? CLIENT_SEED_STATUSES[Math.floor(random() * CLIENT_SEED_STATUSES.length)] as string
  const base = now.getTime() - 30 * DAY
  const created = (i: number): Date => new Date(base + (i % 30) * DAY + i * 1000)
  let documents = 0
  const collection = options.db.collection(options.collection ?? 'workorders')
  const first = options.first ?? (options.filesOnly === true ? 1 : await nextNumber(collection))
  const last = first + options.count - 1
  if (options.filesOnly !== true) {
    for (let start = first; start <= last; start += 1000) {
      const docs = []
      for (let i = start; i < Math.min(start + 1000, last + 1); i++) {
        const createdAt = created(i)
        docs.push({
          number: i,
          status: TRACOS_SEED_STATUSES[Math.floor(random() * TRACOS_SEED_STATUSES.length)],
          title: `Example workorder #${i}`,
          description: `Example workorder #${i} description`,
          createdAt,
          updatedAt: new Date(createdAt.getTime() + HOUR),
          deleted: false
        })
      }
      await collection.insertMany(docs, { ordered: false })
      documents += docs.length
    }
  }
  await mkdir(options.inboundDir, { recursive: true })
  const limit = pLimit(32)
  const flag = (status: string): boolean => clientStatus === status
  await Promise.all(Array.from({ length: options.count }, (_, k) => limit(async () => {
    const i = first + k
    const createdAt = created(i)
    const micros = Math.floor(random() * 1000)
    const lastUpdateDate = pythonIso(new Date(createdAt.getTime() + HOUR), micros)
    const order = {
      orderNo: i,
      isCanceled: flag('cancelled'),
      isDeleted: flag('deleted'),
      isDone: flag('completed'),
      isOnHold: flag('on_hold'),
      isPending: flag('pending'),
      summary: `Example workorder #${i}`,
      creationDate: pythonIso(createdAt, micros),
      lastUpdateDate,
      deletedDate: flag('deleted') ? lastUpdateDate : null
    }
    await writeFile(join(options.inboundDir, `${i}.json`), JSON.stringify(order))
  })))
  return { documents, files: options.count, first, clientStatus }
}

async function nextNumber (collection: ReturnType<Db['collection']>): Promise<number> {
  const [highest] = await collection.find({}, { projection: { number: 1 } }).sort({ number: -1 }).limit(1).toArray()
  return typeof highest?.number === 'number' ? highest.number + 1 : 1
}
