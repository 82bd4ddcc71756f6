import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient, type Db } from 'mongodb'
import t from 'tap'
import { createJobStore, type JobStore } from '../../src/jobs/store.js'
import type { CoalesceOptions, JobDocument } from '../../src/jobs/types.js'
import { build, dropDatabaseAfter, freshDbName, mongoUri, waitForStatus } from '../helpers/app.js'

// Time is driven by moving a job's dates in the database (as if it was made, or last triggered, that long ago),
// with debounces of a minute: no assertion depends on how fast this machine runs, except the last test's
// (which has seconds of margin).

const KIND = 'fixture.record'

interface Instance {
  store: JobStore
  db: Db
  /** Commands this instance has sent to the server so far. */
  roundTrips: () => number
}

/** Gateway instances sharing one database, each with its own store (and so its own knowledge) and connection. */
async function instances (t: { teardown: (fn: () => unknown) => void }, count: number): Promise<Instance[]> {
  const dbName = freshDbName()
  dropDatabaseAfter(t, dbName)
  const result: Instance[] = []
  for (let i = 0; i < count; i++) {
    const client = new MongoClient(mongoUri(), { monitorCommands: true })
    await client.connect()
    t.teardown(() => client.close())
    let commands = 0
    client.on('commandStarted', () => { commands++ })
    const db = client.db(dbName)
    result.push({ store: createJobStore(db, { maxAttempts: 3 }), db, roundTrips: () => commands })
  }
  return result
}

/** Moves a job's dates, as if time had passed. */
async function setDates (store: JobStore, job: JobDocument, dates: Partial<Pick<JobDocument, 'createdAt' | 'runAfter'>>) {
  await store.collection.updateOne({ _id: job._id }, { $set: dates })
}

const ago = (ms: number): Date => new Date(Date.now() - ms)
const claimFor = (instance: Instance) => instance.store.claim([KIND], 5, () => 'runner', 'runner', 60_000)

t.test('triggers while the job waits join it, with no round trip once the instance knows it', async (t) => {
  const [a] = await instances(t, 1) as [Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 600_000 }
  const expected = a.store.coalesced(KIND, 'k')
  t.equal(expected.queued, false, 'no job known yet')
  const first = await a.store.enqueue(KIND, {}, { coalesce })
  t.ok(first.created)
  t.equal(first.job._id, expected.jobId, 'made under the id coalesced() named beforehand')
  t.match(first.job, { status: 'queued', dedupeKey: 'k', coalesce: { debounceMs: 60_000, maxWaitMs: 600_000 } })
  t.ok(Math.abs(first.job.runAfter.getTime() - first.job.createdAt.getTime() - 60_000) < 1000, 'due one debounce later')
  t.same(a.store.coalesced(KIND, 'k'), { jobId: first.job._id, queued: true, runAfter: first.job.runAfter })

  const before = a.roundTrips()
  const joins = await Promise.all(Array.from({ length: 50 }, () => a.store.enqueue(KIND, {}, { coalesce })))
  t.equal(a.roundTrips(), before, 'no round trip for 50 triggers')
  t.same(new Set(joins.map((r) => `${r.job._id} ${r.created} ${r.reusedBy}`)), new Set([`${first.job._id} false coalesce`]))
  t.equal(await a.store.collection.countDocuments({}), 1)
  const plain = await a.store.enqueue(KIND, {}, { dedupeKey: 'k' })
  t.equal(plain.job._id, first.job._id, 'a plain dedupe enqueue of the key joins it too')
  await t.rejects(a.store.enqueue(KIND, {}, { coalesce, runAfter: new Date() }), /sets runAfter itself/)
  await t.rejects(a.store.enqueue(KIND, {}, { coalesce, dedupeKey: 'other' }), /coalesce.key is the dedupe key/)
})

t.test('debounce: a due job waits until debounceMs after its latest trigger, made on any instance', async (t) => {
  const [a, b, runner] = await instances(t, 3) as [Instance, Instance, Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 600_000 }
  const { job } = await a.store.enqueue(KIND, {}, { coalesce })
  // Made 40 s ago (due in 20 s); then b takes a trigger.
  const made = ago(40_000)
  await setDates(a.store, job, { createdAt: made, runAfter: new Date(made.getTime() + 60_000) })
  const triggeredAt = Date.now()
  const joined = await b.store.enqueue(KIND, {}, { coalesce })
  t.match(joined, { created: false, reusedBy: 'coalesce', job: { _id: job._id } }, 'b joins the job a made')
  // b wrote its trigger before the job was due: every runner reads it, so b knows the job waits until a
  // debounce after it and joins it without a round trip until then.
  t.ok((b.store.coalesced(KIND, 'k').runAfter?.getTime() ?? 0) >= triggeredAt + 60_000, 'b knows the job waits a debounce after its trigger')
  const beforeJoins = b.roundTrips()
  await Promise.all(Array.from({ length: 10 }, () => b.store.enqueue(KIND, {}, { coalesce })))
  t.equal(b.roundTrips(), beforeJoins, 'b\'s next triggers join with no round trip')

  // Due now: a runner on a third instance, which never saw a trigger, holds it back.
  await setDates(a.store, job, { runAfter: ago(1) })
  t.same(await claimFor(runner), [], 'not started')
  const held = await runner.store.get(job._id) as JobDocument
  t.match(held, { status: 'queued', attempts: 0 }, 'still queued, no attempt counted')
  t.ok(held.runAfter.getTime() >= triggeredAt + 60_000, 'due a debounce after b\'s trigger')
  t.ok(held.runAfter.getTime() <= Date.now() + 60_000)
  t.equal(a.store.coalesced(KIND, 'k').queued, true, 'a still knows it waits')
  t.equal((await a.store.enqueue(KIND, {}, { coalesce })).job._id, job._id, 'and its triggers still join it')

  // Quiet for a debounce since b's trigger (and made 100 s ago): it starts.
  await runner.db.collection('job_triggers').updateMany({ jobId: job._id }, { $set: { at: ago(61_000) } })
  await setDates(a.store, job, { createdAt: ago(100_000), runAfter: ago(1) })
  const [started] = await claimFor(runner)
  t.match(started, { _id: job._id, status: 'running', attempts: 1 })
})

t.test('a runner counts the triggers of its own instance, which need not be written', async (t) => {
  const [a] = await instances(t, 1) as [Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 600_000 }
  const { job } = await a.store.enqueue(KIND, {}, { coalesce })
  // Made 50 s ago; a trigger now is a's own, written nowhere (it would move the start by 50 s, written or not).
  await setDates(a.store, job, { createdAt: ago(50_000), runAfter: ago(1) })
  const triggeredAt = Date.now()
  t.equal((await a.store.enqueue(KIND, {}, { coalesce })).job._id, job._id)
  t.same(await claimFor(a), [], 'a holds it back')
  const held = await a.store.get(job._id) as JobDocument
  t.ok(held.runAfter.getTime() >= triggeredAt + 60_000, 'until a debounce after its own trigger')
  t.equal(a.store.coalesced(KIND, 'k').runAfter?.getTime(), held.runAfter.getTime(), 'and knows it waits until then')
})

t.test('max wait: a job starts at the latest maxWaitMs after its first trigger, triggers or not', async (t) => {
  const [a, b, runner] = await instances(t, 3) as [Instance, Instance, Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 90_000 }
  const { job } = await a.store.enqueue(KIND, {}, { coalesce })
  await setDates(a.store, job, { createdAt: ago(60_000), runAfter: ago(1) })
  t.equal((await b.store.enqueue(KIND, {}, { coalesce })).job._id, job._id, 'a trigger now')
  t.same(await claimFor(runner), [], 'held back')
  const held = await runner.store.get(job._id) as JobDocument
  t.equal(held.runAfter.getTime(), held.createdAt.getTime() + 90_000, 'until maxWaitMs after it was made, not later')

  await setDates(a.store, job, { createdAt: ago(91_000), runAfter: ago(1) })
  t.equal((await b.store.enqueue(KIND, {}, { coalesce })).job._id, job._id, 'another trigger now')
  const [started] = await claimFor(runner)
  t.equal(started?._id, job._id, 'it starts all the same')
})

t.test('a job claimed but not started still takes triggers; once it started, a trigger makes the next job', async (t) => {
  const [a, b, runner] = await instances(t, 3) as [Instance, Instance, Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 60_000 }
  const first = await b.store.enqueue(KIND, {}, { coalesce })
  await setDates(b.store, first.job, { createdAt: ago(60_001), runAfter: ago(1) }) // made a minute ago
  const [claimed] = await claimFor(runner)
  t.equal(claimed?._id, first.job._id, 'claimed')
  // Claimed, but its handler has not started (it waits for its exclusive lock, say): triggers join it.
  t.match(await a.store.enqueue(KIND, {}, { coalesce }), { created: false, reusedBy: 'coalesce', job: { _id: first.job._id } })
  await runner.store.dropDedupeKey(claimed as JobDocument) // what the runner does as the handler starts
  const second = await a.store.enqueue(KIND, {}, { coalesce })
  t.ok(second.created, 'a trigger after the start makes a new job')
  t.not(second.job._id, first.job._id)
  t.equal((await runner.store.enqueue(KIND, {}, { coalesce })).job._id, second.job._id, 'which other instances join')
  t.match(a.store.coalesced(KIND, 'k'), { jobId: second.job._id, queued: true })
})

t.test('two instances triggering at once make one job, and then both join it without a round trip', async (t) => {
  const [a, b] = await instances(t, 2) as [Instance, Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 600_000 }
  const results = await Promise.all([a, b].flatMap((instance) => Array.from({ length: 10 }, () => instance.store.enqueue(KIND, {}, { coalesce }))))
  t.equal(new Set(results.map((r) => r.job._id)).size, 1, 'one job')
  t.equal(results.filter((r) => r.created).length, 1, 'made once')
  const jobId = results[0]?.job._id
  for (const instance of [a, b]) {
    t.match(instance.store.coalesced(KIND, 'k'), { jobId, queued: true })
    const before = instance.roundTrips()
    t.equal((await instance.store.enqueue(KIND, {}, { coalesce })).job._id, jobId)
    t.equal(instance.roundTrips(), before, 'joined with no round trip')
  }
})

t.test('a cancelled coalesced job takes no more triggers on the instance that cancelled it', async (t) => {
  const [a] = await instances(t, 1) as [Instance]
  const coalesce: CoalesceOptions = { key: 'k', debounceMs: 60_000, maxWaitMs: 600_000 }
  const { job } = await a.store.enqueue(KIND, {}, { coalesce })
  t.match(await a.store.requestCancel(job._id), { status: 'cancelled' })
  t.equal(a.store.coalesced(KIND, 'k').queued, false)
  const next = await a.store.enqueue(KIND, {}, { coalesce })
  t.ok(next.created)
  t.not(next.job._id, job._id)
})

t.test('with a runner: a burst of triggers makes one run, a debounce after the last of them', async (t) => {
  const app = await build(t)
  const coalesce: CoalesceOptions = { key: 'burst', debounceMs: 3000, maxWaitMs: 60_000 }
  const ids = new Set<string>()
  let lastTrigger = 0
  for (let i = 0; i < 8; i++) {
    lastTrigger = Date.now()
    ids.add((await app.jobs.enqueue(KIND, {}, { coalesce })).job._id)
    await sleep(100)
  }
  t.equal(ids.size, 1, 'every trigger joined one job')
  const jobId = [...ids][0] as string
  t.match(app.jobs.coalesced(KIND, 'burst'), { jobId, queued: true }, 'which app.jobs knows waits')
  const done = await waitForStatus(app, jobId, ['succeeded'], 30_000)
  t.ok((done.startedAt as Date).getTime() >= lastTrigger + 3000, 'started a debounce after the last trigger')
  t.equal(await app.mongo.db.collection('executions').countDocuments({ event: 'started' }), 1, 'ran once')
  t.equal(await app.mongo.db.collection('job_triggers').countDocuments({}), 0, 'its trigger records are gone')
})
