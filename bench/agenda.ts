/**
 * Agenda 6 (with its MongoDB backend) set up as the jobs bench's reference: the best-known MongoDB job library,
 * tuned as it was in the hand comparison (processEvery 250 ms, concurrency 32, lockLimit 8; each can be set by
 * env), running the same no-op job as the engine.
 */
import { Agenda } from 'agenda'
import { MongoBackend } from '@agendajs/mongo-backend'
import { MongoClient } from 'mongodb'

export const AGENDA_JOB = 'bench-noop'

export const agendaSettings = {
  processEveryMs: Number(process.env.BENCH_AGENDA_PROCESS_EVERY_MS ?? 250),
  concurrency: Number(process.env.BENCH_AGENDA_CONCURRENCY ?? 32),
  lockLimit: Number(process.env.BENCH_AGENDA_LOCK_LIMIT ?? 8)
}

/**
 * Agenda leaves some of its writes unawaited (a lock released, a job saved as it stops); once the bench has
 * closed the connection they reject with MongoClientClosedError, which would end the process. Only those are
 * ignored.
 */
process.on('unhandledRejection', (err) => {
  if ((err as Error | undefined)?.name === 'MongoClientClosedError') return
  throw err
})

export interface BenchAgenda {
  agenda: Agenda
  client: MongoClient
  close: () => Promise<void>
}

/**
 * An Agenda on `dbName`. `onRun(id)` is called as the no-op handler runs, `onDone(id)` once Agenda has written
 * the job's final state ('complete'). It does not process jobs until `agenda.start()`.
 */
export async function createBenchAgenda (uri: string, dbName: string, onRun: (id: string) => void = () => {}, onDone: (id: string) => void = () => {}, settings = agendaSettings): Promise<BenchAgenda> {
  const client = new MongoClient(uri)
  await client.connect()
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: client.db(dbName), collection: 'agendaJobs' }),
    processEvery: settings.processEveryMs,
    maxConcurrency: settings.concurrency,
    defaultConcurrency: settings.concurrency,
    defaultLockLimit: settings.lockLimit
  })
  agenda.define(AGENDA_JOB, async (job) => { onRun(String(job.attrs._id)) }, { concurrency: settings.concurrency, lockLimit: settings.lockLimit })
  agenda.on('complete', (job) => { onDone(String(job.attrs._id)) })
  // A failed lock or save is Agenda's to retry; the bench only counts what ran.
  agenda.on('error', () => {})
  await agenda.ready
  return {
    agenda,
    client,
    close: async () => {
      // Lets the jobs it runs write their final state before the connection goes.
      await agenda.drain(5000).catch(() => {})
      await client.close()
    }
  }
}
