import type { EmployeeEventDocument, OdooStore } from './store.js'

/** Most events one insertMany carries. */
const MAX_BATCH = 200

export interface BatchJobs {
  /** Called as a batch's write starts: lets the job lookup begin meanwhile when it will need a round trip. */
  beforeStore: () => void
  /** Names a job that will read a batch stored (durably) at `storedAt`. */
  jobFor: (storedAt: number) => Promise<string>
}

/**
 * Group commit for webhook events: requests that arrive while a write is in flight are stored together in the
 * next insertMany, and each request is answered only after its batch is durable and `jobs.jobFor` has named
 * a job that will read it. Under a burst this turns hundreds of single-document writes into a few batches; a
 * lone request is written on the next turn of the event loop.
 */
export function createEventIntake (store: OdooStore, jobs: BatchJobs) {
  interface Waiting { doc: EmployeeEventDocument, resolve: (v: { jobId: string }) => void, reject: (err: unknown) => void }
  let queue: Waiting[] = []
  let flushing = false

  async function flush (): Promise<void> {
    flushing = true
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, MAX_BATCH)
        queue = queue.slice(batch.length)
        try {
          jobs.beforeStore()
          await store.addEvents(batch.map((w) => w.doc))
          const jobId = await jobs.jobFor(Date.now())
          for (const w of batch) w.resolve({ jobId })
        } catch (err) {
          for (const w of batch) w.reject(err)
        }
      }
    } finally {
      flushing = false
    }
  }

  return {
    accept (doc: EmployeeEventDocument): Promise<{ jobId: string }> {
      return new Promise((resolve, reject) => {
        queue.push({ doc, resolve, reject })
        // Flush on the next turn of the event loop, so requests parsed in the same I/O phase share a batch.
        if (!flushing) {
          flushing = true
          setImmediate(() => { void flush() })
        }
      })
    }
  }
}
