import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { createLocks } from '../../src/jobs/locks.js'
import { authHeaders, build, testConfig, waitFor, waitForStatus } from '../helpers/app.js'

const noRunner = { JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'false' }

/** Ids of the jobs matching `filter`, live or finished, each once (a job being archived is briefly in both). */
async function jobIds (app: FastifyInstance, filter: Record<string, unknown>): Promise<string[]> {
  const ids = new Set<string>()
  for (const collection of [app.jobs.store.collection, app.jobs.store.doneCollection]) {
    for (const found of await collection.find(filter).toArray()) ids.add(found._id)
  }
  return [...ids].sort()
}

t.test('two concurrent enqueues with one dedupe key coalesce into one job', async (t) => {
  const app = await build(t, { env: noRunner })
  const results = await Promise.all(Array.from({ length: 5 }, () =>
    app.jobs.enqueue('fixture.noop', {}, { dedupeKey: 'same' })))
  const ids = new Set(results.map((r) => r.job._id))
  t.equal(ids.size, 1, 'every enqueue returned the same job')
  t.equal(results.filter((r) => r.created).length, 1, 'exactly one enqueue created it')
  t.equal(await app.jobs.store.collection.countDocuments({ kind: 'fixture.noop' }), 1)
  const other = await app.jobs.enqueue('fixture.noop', {}, { dedupeKey: 'other' })
  t.ok(other.created, 'another key makes another job')
})

t.test('two app instances racing to enqueue one dedupe key create one job', async (t) => {
  const config = testConfig(noRunner)
  const a = await build(t, { config })
  const b = await build(t, { config, keepDatabase: true })
  const results = await Promise.all([
    ...Array.from({ length: 4 }, () => a.jobs.enqueue('fixture.noop', {}, { dedupeKey: 'k' })),
    ...Array.from({ length: 4 }, () => b.jobs.enqueue('fixture.noop', {}, { dedupeKey: 'k' }))
  ])
  t.equal(new Set(results.map((r) => r.job._id)).size, 1)
  t.equal(await a.jobs.store.collection.countDocuments({}), 1)
})

t.test('once the coalesced job starts, a new trigger makes a new job', async (t) => {
  const app = await build(t)
  const first = await app.jobs.enqueue('fixture.sleep', { ms: 400 }, { dedupeKey: 'x' })
  await waitForStatus(app, first.job._id, ['running'])
  // Its handler has started once it dropped its key (claimed but not yet started, it still takes triggers).
  await waitFor(async () => await app.mongo.db.collection('job_keys').countDocuments({ _id: 'dedupe:fixture.sleep:x' as never }) === 0, 15_000, 'the handler to start')
  const second = await app.jobs.enqueue('fixture.sleep', { ms: 10 }, { dedupeKey: 'x' })
  t.ok(second.created)
  t.not(second.job._id, first.job._id)
  await waitForStatus(app, second.job._id, ['succeeded'])
})

t.test('a job claimed but waiting for its exclusive lock still takes triggers: one queued job, not one per trigger', async (t) => {
  const app = await build(t)
  const holder = await app.jobs.enqueue('fixture.exclusive-a', { ms: 2000 })
  await waitForStatus(app, holder.job._id, ['running'])
  const ids = new Set<string>()
  // Meanwhile the waiting job is claimed, finds the lock busy and goes back to the queue, again and again.
  for (let i = 0; i < 15; i++) {
    ids.add((await app.jobs.enqueue('fixture.exclusive-b', { ms: 10 }, { dedupeKey: 'waiting' })).job._id)
    await sleep(100)
  }
  t.equal(ids.size, 1, 'every trigger joined the one waiting job')
  await waitForStatus(app, [...ids][0] as string, ['succeeded'], 30_000)
})

t.test('holdUntil: a job asked to wait stays queued, keeps coalescing, and runs once the time has come', async (t) => {
  const app = await build(t)
  const executions = app.mongo.db.collection<{ jobId: string, event: string }>('executions')
  const { job } = await app.jobs.enqueue('fixture.held', { holdMs: 1500 }, { dedupeKey: 'held' })
  const seen = new Set<string>()
  let joined = 0
  for (;;) {
    const now = await app.jobs.get(job._id)
    if (now === null) throw new Error('the job vanished')
    if (Date.now() < job.createdAt.getTime() + 1400) {
      seen.add(now.status)
      // Triggers while it waits join it.
      if ((await app.jobs.enqueue('fixture.held', { holdMs: 1500 }, { dedupeKey: 'held' })).job._id === job._id) joined++
    }
    if (now.status === 'succeeded' || now.status === 'failed') break
    await sleep(40)
  }
  const done = await app.jobs.get(job._id)
  t.same([...seen], ['queued'], 'seen only as queued while it waited')
  t.ok(joined > 5, `triggers meanwhile joined it (${joined})`)
  t.match(done, { status: 'succeeded', attempts: 1, result: { attempts: 1 } }, 'waiting counted no attempt')
  t.ok((done?.startedAt as Date).getTime() >= job.createdAt.getTime() + 1500, 'started once its time had come')
  const asked = await executions.countDocuments({ jobId: job._id, event: 'asked' })
  t.ok(asked >= 2, `asked when claimed, then again when due (${asked})`)
  // Counted across both collections by id: a finished job is copied to jobs_done, then removed from jobs.
  t.same(await jobIds(app, { kind: 'fixture.held' }), [job._id], 'no second job was made')
})

t.test('holdUntil: a job waiting for its time can be cancelled, even while a runner is asking', async (t) => {
  const app = await build(t)
  const executions = app.mongo.db.collection<{ jobId: string, event: string }>('executions')
  // The cancel arrives while a runner holds the job's next claim to ask whether it should wait (askMs): it
  // loses that claim, and must compete for the one after once the job is back to waiting.
  const { job } = await app.jobs.enqueue('fixture.held', { holdMs: 60_000, askMs: 400 })
  await waitFor(async () => (await executions.countDocuments({ jobId: job._id, event: 'asked' })) > 0 ? true : null, 15_000, 'a runner to ask')
  const res = await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${job._id}/cancel` })
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'cancelled')
  t.equal(await executions.countDocuments({ jobId: job._id, event: 'started' }), 0, 'never ran')
  const { job: waiting } = await app.jobs.enqueue('fixture.held', { holdMs: 60_000 })
  await waitFor(async () => (await executions.countDocuments({ jobId: waiting._id, event: 'asked' })) > 0 ? true : null, 15_000, 'the job to be held')
  await sleep(100)
  const again = await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${waiting._id}/cancel` })
  t.equal(again.json().status, 'cancelled', 'a job between two questions is cancelled at once')
})

t.test('Idempotency-Key: a repeat answers 200 with the first job', async (t) => {
  const app = await build(t, { env: noRunner })
  const send = () => app.inject({ method: 'POST', url: '/fixture/trigger', headers: { ...authHeaders(), 'idempotency-key': 'delivery-1' }, payload: { kind: 'fixture.noop' } })
  const first = await send()
  const again = await send()
  t.equal(first.statusCode, 202)
  t.equal(again.statusCode, 200)
  t.equal(again.json().jobId, first.json().jobId)
  const without = await app.inject({ headers: authHeaders(), method: 'POST', url: '/fixture/trigger', payload: { kind: 'fixture.noop' } })
  t.equal(without.statusCode, 202)
  t.not(without.json().jobId, first.json().jobId, 'no key, no dedupe')
})

t.test('a retryable failure is retried with backoff, then succeeds', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.flaky', { failTimes: 2 })
  const done = await waitForStatus(app, job._id, ['succeeded', 'failed'])
  t.equal(done.status, 'succeeded')
  t.equal(done.attempts, 3)
  t.same(done.result, { attempts: 3 })
})

t.test('MongoDB busy inside a handler (SQLITE_BUSY) is another attempt, not a handler error', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.storage-busy', { failTimes: 1 })
  const done = await waitForStatus(app, job._id, ['succeeded', 'failed'])
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  t.equal(done.attempts, 2)
})

t.test('retryable failures stop at maxAttempts and say so', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.flaky', { failTimes: 10 })
  const done = await waitForStatus(app, job._id, ['succeeded', 'failed'])
  t.equal(done.status, 'failed')
  t.equal(done.attempts, 4)
  t.match(done.error, { code: 'FLAKY', retryable: true, attemptsExhausted: true })
})

t.test('a non-retryable failure fails at once', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.permanent', {})
  const done = await waitForStatus(app, job._id, ['failed'])
  t.equal(done.attempts, 1)
  t.match(done.error, { code: 'BAD_INPUT', retryable: false, message: 'the input is invalid' })
  const crash = await app.jobs.enqueue('fixture.crash', {})
  const crashed = await waitForStatus(app, crash.job._id, ['failed'])
  t.equal(crashed.attempts, 1, 'an unmarked error is not retried')
  t.match(crashed.error, { code: 'HANDLER_ERROR', retryable: false })
})

t.test('a job over its time limit fails with a timeout error, even if it ignores its signal', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.hang', {})
  const done = await waitForStatus(app, job._id, ['failed'], 5000)
  t.match(done.error, { code: 'JOB_TIMEOUT', retryable: false })
  // The status is readable as soon as the final write lands; the runner frees the slot once it has also
  // moved the job to jobs_done.
  t.ok(await waitFor(async () => app.jobs.runner.activeCount() === 0, 5000, 'the slot to be freed'), 'the slot is free again')
})

t.test('cancel: a queued job is cancelled at once, a running one is aborted', async (t) => {
  const app = await build(t, { env: { JOBS_RUNNER_ENABLED: 'false' } })
  const queued = await app.jobs.enqueue('fixture.noop', {})
  const res = await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${queued.job._id}/cancel` })
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'cancelled')
  const again = await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${queued.job._id}/cancel` })
  t.equal(again.statusCode, 409)
  t.equal((await app.inject({ headers: authHeaders(), method: 'POST', url: '/jobs/nope/cancel' })).statusCode, 404)

  app.jobs.runner.start()
  const running = await app.jobs.enqueue('fixture.sleep', { ms: 20_000 })
  await waitForStatus(app, running.job._id, ['running'])
  const started = Date.now()
  const cancel = await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${running.job._id}/cancel` })
  t.equal(cancel.statusCode, 200)
  t.equal(cancel.json().cancelRequested, true)
  const done = await waitForStatus(app, running.job._id, ['cancelled', 'succeeded', 'failed'])
  t.equal(done.status, 'cancelled')
  t.ok(Date.now() - started < 2000, 'stopped promptly')
})

t.test('cancel reaches a job running on another instance through its heartbeat', async (t) => {
  const config = testConfig({ JOBS_LEASE_MS: '1500' })
  const runnerApp = await build(t, { config })
  const apiApp = await build(t, { config: { ...config, JOBS_RUNNER_ENABLED: false }, keepDatabase: true })
  const { job } = await apiApp.jobs.enqueue('fixture.sleep', { ms: 20_000 })
  await waitForStatus(apiApp, job._id, ['running'])
  await apiApp.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${job._id}/cancel` })
  const done = await waitForStatus(runnerApp, job._id, ['cancelled', 'succeeded', 'failed'], 5000)
  t.equal(done.status, 'cancelled')
})

t.test('retry: a failed job becomes a new queued job linked to the old one', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.permanent', {})
  await waitForStatus(app, job._id, ['failed'])
  const res = await app.inject({ method: 'POST', url: `/jobs/${job._id}/retry`, headers: { ...authHeaders(), 'x-request-id': 'retry-req-1' } })
  t.equal(res.statusCode, 202)
  const { jobId } = res.json()
  t.not(jobId, job._id)
  const retried = await app.jobs.get(jobId)
  t.equal(retried?.retryOf, job._id)
  t.equal(retried?.trigger, 'retry')
  t.equal(retried?.requestId, 'retry-req-1')
  t.equal((await app.jobs.get(job._id))?.retriedBy, jobId)
  // Retrying it again, or twice at once, answers with the same retry instead of making more jobs.
  const again = await Promise.all([1, 2].map(() => app.inject({ method: 'POST', url: `/jobs/${job._id}/retry`, headers: authHeaders() })))
  t.same(again.map((r) => [r.statusCode, r.json().jobId]), [[200, jobId], [200, jobId]], 'the existing retry, with 200')
  t.same(await jobIds(app, { retryOf: job._id }), [jobId], 'one retry job')
  const succeeded = await app.jobs.enqueue('fixture.noop', {})
  await waitForStatus(app, succeeded.job._id, ['succeeded'])
  t.equal((await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${succeeded.job._id}/retry` })).statusCode, 409)
})

t.test('kinds sharing an exclusive lock never overlap', async (t) => {
  const app = await build(t, { env: { JOBS_CONCURRENCY: '4' } })
  const ids = []
  for (let i = 0; i < 3; i++) {
    ids.push((await app.jobs.enqueue('fixture.exclusive-a', { ms: 150 })).job._id)
    ids.push((await app.jobs.enqueue('fixture.exclusive-b', { ms: 150 })).job._id)
  }
  for (const id of ids) await waitForStatus(app, id, ['succeeded'], 30_000)
  const events = await app.mongo.db.collection('executions').find({}).sort({ at: 1 }).toArray()
  let inside = 0
  let maxInside = 0
  for (const e of events) {
    inside += e.event === 'started' ? 1 : -1
    maxInside = Math.max(maxInside, inside)
  }
  t.equal(maxInside, 1, 'at most one holder of the lock at any time')
  t.equal(events.length, 12)
})

t.test('exclusive locks: one holder; an expired lock is taken over by exactly one of several instances', async (t) => {
  const app = await build(t, { env: noRunner })
  const locks = createLocks(app.mongo.db)
  t.equal(await locks.acquire('csv', 'a', 60_000), true, 'a free lock is taken')
  t.equal(await locks.acquire('csv', 'b', 60_000), false, 'a held lock is refused')
  t.equal(await locks.acquire('csv', 'a', 60_000), true, 'its holder may take it again')
  await locks.release('csv', 'a')
  t.equal(await locks.acquire('csv', 'b', 50), true, 'a released lock is taken')
  await sleep(100)
  const takers = ['c', 'd', 'e', 'f']
  const won = await Promise.all(takers.map((owner) => locks.acquire('csv', owner, 60_000)))
  t.equal(won.filter(Boolean).length, 1, 'one of four instances takes the expired lock over')
  const winner = takers[won.indexOf(true)] as string
  t.equal((await locks.holder('csv'))?.owner, winner)
  t.equal(await locks.renew('csv', 'b', 60_000), false, 'the old holder can no longer renew it')
  t.equal(await locks.acquire('csv', 'b', 60_000), false, 'nor take it back')
})

t.test('exclusive locks: a taker that died before taking an expired lock over blocks it for one TTL only', async (t) => {
  const app = await build(t, { env: noRunner })
  const locks = createLocks(app.mongo.db)
  t.equal(await locks.acquire('csv', 'a', 50), true)
  await sleep(100)
  // Instance b won the takeover record of a's expired lease, then died before it wrote the lock.
  const lease = await app.mongo.db.collection<{ _id: string, owner: string, expiresAt: Date }>('locks').findOne({ _id: 'csv' })
  const records = app.mongo.db.collection<{ _id: string, jobId: string, owner: string, at: Date }>('job_claims')
  const recordId = `lock:csv:a:${lease?.expiresAt.getTime()}`
  await records.insertOne({ _id: recordId, jobId: 'lock:csv', owner: 'b', at: new Date() })
  t.equal(await locks.acquire('csv', 'c', 60_000), false, 'a fresh record still stands for its taker')
  await records.updateOne({ _id: recordId }, { $set: { at: new Date(Date.now() - 120_000) } })
  t.equal(await locks.acquire('csv', 'c', 60_000), true, 'a record older than the TTL no longer blocks the lock')
  t.equal((await locks.holder('csv'))?.owner, 'c')
  t.equal(await locks.acquire('csv', 'd', 60_000), false, 'and the new holder keeps it')
})

/** Starts a `fixture.sleep` job of `jobMs`, closes the app while it runs, and reads the job back afterwards. */
async function jobAfterCloseDuring (t: Parameters<typeof build>[0], drainMs: number, jobMs: number) {
  const config = testConfig({ SHUTDOWN_DRAIN_MS: String(drainMs) })
  const app = await build(t, { config })
  const { job } = await app.jobs.enqueue('fixture.sleep', { ms: jobMs })
  await waitForStatus(app, job._id, ['running'])
  const observer = await build(t, { config: { ...config, JOBS_RUNNER_ENABLED: false }, keepDatabase: true })
  await app.close()
  return observer.jobs.get(job._id)
}

t.test('graceful drain: running jobs finish within SHUTDOWN_DRAIN_MS', async (t) => {
  const after = await jobAfterCloseDuring(t, 5000, 500)
  t.equal(after?.status, 'succeeded')
})

t.test('graceful drain longer than a Fastify close step (10 s): the job finishes and MongoDB stays open for it', async (t) => {
  const after = await jobAfterCloseDuring(t, 15_000, 11_000)
  t.equal(after?.status, 'succeeded', 'the drain was not cut short')
})

t.test('graceful drain: jobs still running at the deadline go back to the queue', async (t) => {
  const after = await jobAfterCloseDuring(t, 200, 30_000)
  t.equal(after?.status, 'queued')
  t.equal(after?.attempts, 0, 'the interrupted attempt does not count')
  t.equal(after?.leaseOwner ?? null, null)
})

t.test('a runner that lost its lease cannot complete the job', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const { job } = await app.jobs.enqueue('fixture.noop', {})
  const [first] = await store.claim(['fixture.noop'], 1, () => 'runner-a', 'a', 50)
  t.equal(first?._id, job._id)
  t.same(await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000), [], 'not claimable while leased')
  await sleep(100)
  t.equal(await store.recoverJobs(), 1, 'the expired job is put back in the queue')
  const [second] = await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000)
  t.equal(second?._id, job._id)
  t.equal(second?.attempts, 2)
  t.equal(await store.succeed(job._id, 'runner-a', { from: 'a' }), false, 'stale owner is refused')
  t.equal(await store.recordProgress(job._id, 'runner-a', { done: 1, total: 1, message: null, updatedAt: new Date() }), false)
  t.equal(await store.heartbeat(job._id, 'runner-a', 1000), null, 'its heartbeat reports the loss')
  t.equal(await store.succeed(job._id, 'runner-b', { from: 'b' }), true)
  t.same((await store.get(job._id))?.result, { from: 'b' })
})

t.test('a job whose runner dies is run again, beyond its attempts, until it looks like the cause (5 dead runners)', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const { job } = await app.jobs.enqueue('fixture.flaky', {}, { maxAttempts: 2 })
  for (let death = 1; death <= 5; death++) {
    // A runner claims it with a short lease and is killed: nothing renews the lease.
    const [claimed] = await store.claim(['fixture.flaky'], 1, () => `runner-${death}`, `host-${death}`, 20)
    t.equal(claimed?._id, job._id, `run ${death} claimed`)
    await sleep(60)
    t.equal(await store.recoverJobs(20), 1, `death ${death} recovered`)
    const after = await store.get(job._id)
    if (death < 5) t.match(after, { status: 'queued', attempts: death, leaseExpiries: death }, `queued again after ${death} dead runners (maxAttempts 2)`)
    else t.match(after, { status: 'failed', leaseExpiries: 5, error: { code: 'LEASE_EXPIRED', message: /stopped renewing the lease 5 times .*may be crashing its runner/ } })
  }
})

t.test('a finished job written back as running by a late concurrent update is dropped by recovery, not rerun', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const { job } = await app.jobs.enqueue('fixture.noop', {})
  const [claimed] = await store.claim(['fixture.noop'], 1, () => 'runner-a', 'a', 50)
  t.ok(claimed)
  t.equal(await store.succeed(job._id, 'runner-a', { ok: true }), true)
  // What a cancel request racing the finish leaves on a server that updates by read-then-write-whole-document:
  // the running document, written back after the job was finished and moved to jobs_done.
  await store.collection.insertOne({ ...(claimed as NonNullable<typeof claimed>), cancelRequested: true })
  await sleep(100)
  t.equal(await store.recoverJobs(), 1, 'recovery acts on it')
  t.equal(await store.collection.countDocuments({ _id: job._id }), 0, 'the stale live copy is gone')
  t.same(await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000), [], 'nothing to run again')
  t.match(await store.get(job._id), { status: 'succeeded', result: { ok: true } }, 'the job stays succeeded')
})

t.test('a runner that died between winning a claim and marking the job running does not strand the job', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const { job } = await app.jobs.enqueue('fixture.noop', {})
  // The dead runner's claim record: the job's next claim number is taken, the job itself still queued.
  const claims = app.mongo.db.collection<{ _id: string, jobId: string, owner: string, at: Date }>('job_claims')
  await claims.insertOne({ _id: `${job._id}:1`, jobId: job._id, owner: 'dead-runner', at: new Date(Date.now() - 1000) })
  t.same(await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000), [], 'nobody can claim it meanwhile')
  await sleep(100)
  t.equal(await store.recoverJobs(50), 1, 'recovery moves it past the stalled claim')
  const [claimed] = await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000)
  t.equal(claimed?._id, job._id, 'it runs')
  t.equal(claimed?.claimSeq, 2)
  t.equal(await store.succeed(job._id, 'runner-b', null), true)
})

t.test('a queued copy of a job that already ran (a slow enqueue raced by a key follower) is dropped, never run again', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const { job } = await app.jobs.enqueue('fixture.noop', {})
  const [claimed] = await store.claim(['fixture.noop'], 1, () => 'runner-a', 'a', 10_000)
  t.equal(claimed?._id, job._id)
  t.equal(await store.succeed(job._id, 'runner-a', { ok: true }), true)
  // What an idempotency-key follower inserts when it finds no job under the key: the job as first enqueued.
  await store.collection.insertOne({ ...job, runAfter: new Date(Date.now() - 1000) })
  t.same(await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000), [], 'its first claim number is taken')
  await sleep(100)
  await store.recoverJobs(50)
  t.equal(await store.collection.countDocuments({ _id: job._id }), 0, 'recovery drops the copy instead of freeing a claim number for it')
  t.same(await store.claim(['fixture.noop'], 1, () => 'runner-b', 'b', 10_000), [], 'nothing to run again')
  t.match(await store.get(job._id), { status: 'succeeded', result: { ok: true } })
})

t.test('cancelling a job a runner is just claiming flags it instead of cancelling it under the runner', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const { job } = await app.jobs.enqueue('fixture.noop', {})
  // A runner has won the claim record and marks the job running a moment later.
  const claims = app.mongo.db.collection<{ _id: string, jobId: string, owner: string, at: Date }>('job_claims')
  await claims.insertOne({ _id: `${job._id}:1`, jobId: job._id, owner: 'runner-a', at: new Date() })
  const marking = sleep(300).then(async () => {
    await store.collection.updateOne({ _id: job._id }, { $set: { status: 'running', claimSeq: 1, leaseOwner: 'runner-a', leaseExpiresAt: new Date(Date.now() + 60_000) } })
  })
  const cancelled = await store.requestCancel(job._id)
  await marking
  t.match(cancelled, { status: 'running', cancelRequested: true, leaseOwner: 'runner-a' }, 'the runner keeps the job and is told to stop')
  t.equal(await app.jobs.store.doneCollection.countDocuments({ _id: job._id }), 0, 'not archived as cancelled')

  const { job: other } = await app.jobs.enqueue('fixture.noop', { n: 2 })
  t.match(await store.requestCancel(other._id), { status: 'cancelled' }, 'a queued job nobody claims is cancelled at once')
  t.same(await store.claim(['fixture.noop'], 5, () => 'runner-b', 'b', 10_000), [], 'and can no longer be claimed')
})

t.test('cancelling a job whose claim a runner holds and neither uses nor gives back says so', async (t) => {
  const app = await build(t, { env: noRunner })
  const { job } = await app.jobs.enqueue('fixture.noop', {})
  // A runner won the job's next claim and died before marking it running (recovery frees it after a lease).
  const claims = app.mongo.db.collection<{ _id: string, jobId: string, owner: string, at: Date }>('job_claims')
  await claims.insertOne({ _id: `${job._id}:1`, jobId: job._id, owner: 'dead-runner', at: new Date() })
  const res = await app.inject({ headers: authHeaders(), method: 'POST', url: `/jobs/${job._id}/cancel` })
  t.equal(res.statusCode, 409)
  t.match(res.json().message, /being claimed by a runner at this moment; try the cancel again/)
  t.equal((await app.jobs.get(job._id))?.status, 'queued')
})

t.test('a job turning running at any moment of a cancel request is flagged, never refused', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const claims = app.mongo.db.collection<{ _id: string, jobId: string, owner: string, at: Date }>('job_claims')
  // Many jobs, each marked running a little later than the last, so that some turn running between the
  // cancel request's conditional update and its re-read.
  const ids: string[] = []
  for (let n = 0; n < 30; n++) ids.push((await app.jobs.enqueue('fixture.noop', { n })).job._id)
  await claims.insertMany(ids.map((id) => ({ _id: `${id}:1`, jobId: id, owner: 'runner-a', at: new Date() })))
  const markings = ids.map(async (id, n) => {
    await sleep(20 + n * 7)
    await store.collection.updateOne({ _id: id }, { $set: { status: 'running', claimSeq: 1, leaseOwner: 'runner-a', leaseExpiresAt: new Date(Date.now() + 60_000) } })
  })
  const answers = await Promise.all(ids.map(async (id) => await app.jobs.cancel(id).then((job) => job?.status, (err: Error) => err.message)))
  await Promise.all(markings)
  t.same(answers, ids.map(() => 'running'), 'every request flags its running job')
})

t.test('a running handler whose lease is taken over is aborted and writes nothing', async (t) => {
  const config = testConfig({ JOBS_LEASE_MS: '1200' })
  const app = await build(t, { config })
  const { job } = await app.jobs.enqueue('fixture.sleep', { ms: 20_000 })
  const running = await waitForStatus(app, job._id, ['running'])
  // Another runner steals the job, as if this runner had stalled past its lease.
  const steal = async (): Promise<unknown> => await app.jobs.store.collection.updateOne({ _id: job._id }, { $set: { leaseOwner: 'thief', leaseExpiresAt: new Date(Date.now() + 60_000) } })
  await steal()
  await waitFor(async () => {
    if (app.jobs.runner.activeCount() === 0) return true
    // FerretDB applies an update as read-then-write, so a heartbeat of the old runner that was in flight at the
    // moment of the theft can write its own lease back over it. A real new owner would then find the job
    // is not its own and claim it again; the thief does the same here.
    if ((await app.jobs.get(job._id))?.leaseOwner !== 'thief') await steal()
    return false
  }, 5000, 'the runner to drop the job')
  const after = await app.jobs.get(job._id)
  t.equal(after?.status, 'running')
  t.equal(after?.leaseOwner, 'thief', 'the old runner did not overwrite the new owner')
  t.equal(after?.attempts, running.attempts)
})

t.test('a claim that fails does not hide the jobs claimed beside it', async (t) => {
  const app = await build(t, { env: noRunner })
  const { store } = app.jobs
  const first = (await app.jobs.enqueue('fixture.noop', { n: 1 })).job
  const second = (await app.jobs.enqueue('fixture.noop', { n: 2 })).job
  // The kind's hold check fails for one of the two jobs claimed together.
  const claimed = await store.claim(['fixture.noop'], 2, () => `runner-${Math.random()}`, 'test', 10_000, async (job) => {
    if (job._id === first._id) throw new Error('hold check failed')
    return null
  })
  t.same(claimed.map((j) => j._id), [second._id], 'the job claimed is handed to the runner')
  t.equal((await app.jobs.get(second._id))?.status, 'running')
  t.equal((await app.jobs.get(first._id))?.status, 'queued', 'the other one was not marked running')
  await app.jobs.enqueue('fixture.noop', { n: 3 })
  await t.rejects(store.claim(['fixture.noop'], 1, () => 'runner-x', 'test', 10_000, async () => { throw new Error('hold check failed') }), /hold check failed/, 'with nothing claimed the failure is reported')
})

t.test('a job cancelled while it ran and put back in the queue before its runner saw the request never runs again', async (t) => {
  const config = testConfig()
  const observer = await build(t, { config: { ...config, JOBS_RUNNER_ENABLED: false } })
  const claims = observer.mongo.db.collection<{ _id: string, jobId: string, owner: string, at: Date }>('job_claims')
  // Both ways a request can be left behind: the flag on the job, or only the cancel record (the flag lost to
  // a racing heartbeat).
  const flagged = (await observer.jobs.enqueue('fixture.noop', { n: 1 })).job
  const recorded = (await observer.jobs.enqueue('fixture.noop', { n: 2 })).job
  await observer.jobs.store.collection.updateOne({ _id: flagged._id }, { $set: { attempts: 1, cancelRequested: true } })
  await observer.jobs.store.collection.updateOne({ _id: recorded._id }, { $set: { attempts: 1 } })
  await claims.insertOne({ _id: `${recorded._id}:cancel`, jobId: recorded._id, owner: 'cancel', at: new Date() })
  const runner = await build(t, { config, keepDatabase: true })
  for (const job of [flagged, recorded]) {
    const done = await waitForStatus(runner, job._id, ['cancelled', 'succeeded'])
    t.equal(done.status, 'cancelled')
    t.equal(done.attempts, 1, 'no new attempt')
  }
})

t.test('a running exclusive job whose lock is taken over stops and goes back to the queue', async (t) => {
  const config = testConfig({ JOBS_LEASE_MS: '1200' })
  const app = await build(t, { config })
  const { job } = await app.jobs.enqueue('fixture.exclusive-a', { ms: 20_000 })
  const running = await waitForStatus(app, job._id, ['running'])
  // Another runner took the lock over, as if this runner's heartbeats had failed for a whole lease.
  const locks = app.mongo.db.collection<{ _id: string, owner: string, expiresAt: Date }>('locks')
  const steal = async (): Promise<unknown> => await locks.updateOne({ _id: 'fixture.file' }, { $set: { owner: 'thief', expiresAt: new Date(Date.now() + 60_000) } })
  await steal()
  const after = await waitFor(async () => {
    const current = await app.jobs.get(job._id)
    if (current?.status === 'queued') return current
    // As above: an in-flight renewal can write the old lease back over the theft on FerretDB.
    if ((await locks.findOne({ _id: 'fixture.file' }))?.owner !== 'thief') await steal()
    return null
  }, 5000, 'the job to go back to the queue')
  t.equal(after.attempts, running.attempts - 1, 'the interrupted attempt does not count')
  t.equal((await locks.findOne({ _id: 'fixture.file' }))?.owner, 'thief', 'the lock stays with its new holder')
})

t.test('progress is recorded while a job runs', async (t) => {
  const app = await build(t)
  const { job } = await app.jobs.enqueue('fixture.sleep', { ms: 1500 })
  const withProgress = await waitFor(async () => {
    const j = await app.jobs.get(job._id)
    return j?.progress != null && j.progress.done > 0 ? j : null
  }, 5000, 'progress')
  t.equal(withProgress.progress?.total, 10)
  const res = await app.inject({ headers: authHeaders(), method: 'GET', url: `/jobs/${job._id}` })
  t.ok(Number(res.headers['retry-after']) >= 1, 'a running job carries a polling hint')
  t.match(res.json().progress, { total: 10, message: /^step / })
  t.match(res.json().lease, { instance: String })
  await waitForStatus(app, job._id, ['succeeded'])
})
