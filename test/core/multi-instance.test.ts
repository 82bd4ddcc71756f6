import t from 'tap'
import { MongoClient } from 'mongodb'
import { createJobStore } from '../../src/jobs/store.js'
import { dropDatabaseAfter, freshDbName, mongoUri, testEnv, waitFor } from '../helpers/app.js'
import { startWorker, stopWorker } from '../helpers/process.js'

async function database (t: { teardown: (fn: () => unknown) => void }, dbName: string) {
  const client = new MongoClient(mongoUri())
  await client.connect()
  t.teardown(() => client.close())
  dropDatabaseAfter(t, dbName)
  return client.db(dbName)
}

t.test('a runner killed with SIGKILL loses its job to another, which completes it exactly once', async (t) => {
  const dbName = freshDbName()
  const env = testEnv({ MONGODB_DB: dbName, JOBS_LEASE_MS: '1500', SCHEDULER_ENABLED: 'false' })
  const db = await database(t, dbName)
  const store = createJobStore(db, { maxAttempts: 5 })
  const executions = db.collection('executions')

  const doomed = await startWorker(env)
  t.teardown(() => stopWorker(doomed, 'SIGKILL'))
  const { job } = await store.enqueue('fixture.record', { ms: 3000 })
  await waitFor(() => executions.findOne({ jobId: job._id, event: 'started' }), 15_000, 'the first runner to start the job')
  doomed.child.kill('SIGKILL')
  await doomed.exited

  const survivor = await startWorker(env)
  t.teardown(() => stopWorker(survivor))
  const done = await waitFor(async () => {
    const j = await store.get(job._id)
    return j?.status === 'succeeded' ? j : null
  }, 30_000, 'the job to complete on the surviving runner')
  t.equal(done.attempts, 2, 'the crashed attempt counted')
  t.equal(await executions.countDocuments({ jobId: job._id, event: 'started' }), 2)
  t.equal(await executions.countDocuments({ jobId: job._id, event: 'completed' }), 1, 'completed exactly once')
  t.equal((done.result as { pid: number }).pid, survivor.child.pid, 'by the surviving process')
})

t.test('3 gateway processes share 600 jobs with no job run twice', { timeout: 2_300_000 }, async (t) => {
  const dbName = freshDbName()
  const env = testEnv({ MONGODB_DB: dbName, JOBS_CONCURRENCY: '8', JOBS_POLL_INTERVAL_MS: '20', SCHEDULER_ENABLED: 'false', JOBS_LEASE_MS: '30000' })
  const db = await database(t, dbName)
  const store = createJobStore(db, { maxAttempts: 5 })
  // Enough for the three processes to contend for claims hundreds of times each (what the test proves); the
  // volume is bench:jobs' business (6,000 jobs across 3 processes).
  const total = 600
  // Enqueue through the store (as a trigger route would) while the workers are already claiming.
  const workers = await Promise.all([startWorker(env), startWorker(env), startWorker(env)])
  t.teardown(() => Promise.all(workers.map((w) => stopWorker(w))))
  // A steady stream of triggers (live backlog capped), as in production, rather than one giant burst. The
  // backlog is checked every 250 ms: on FerretDB-on-SQLite a count decodes every live document, and polling
  // it back to back took a third of the server's CPU away from the workers.
  for (let i = 0; i < total; i += 100) {
    while ((await store.collection.countDocuments({})) > 200) await new Promise((resolve) => setTimeout(resolve, 250))
    await Promise.all(Array.from({ length: 100 }, () => store.enqueue('fixture.record', {})))
  }
  await waitFor(async () => (await store.doneCollection.countDocuments({ status: 'succeeded' })) === total, 300_000, 'all jobs to succeed')
  const executions = db.collection('executions')
  const duplicates = await executions.aggregate([
    { $match: { event: 'started' } },
    { $group: { _id: '$jobId', n: { $sum: 1 } } },
    { $match: { n: { $gt: 1 } } }
  ]).toArray()
  t.equal(duplicates.length, 0, 'no job started twice')
  t.equal(await executions.countDocuments({ event: 'completed' }), total)
  const byProcess = await executions.aggregate<{ _id: number, n: number }>([
    { $match: { event: 'completed' } },
    { $group: { _id: '$pid', n: { $sum: 1 } } }
  ]).toArray()
  t.equal(byProcess.length, 3, 'all three processes took part')
})
