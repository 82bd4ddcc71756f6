import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { MongoClient } from 'mongodb'
import { createJobStore } from '../../src/jobs/store.js'
import { seedTracos } from '../../src/integrations/tracos/seed.js'
import { mongoUri, testEnv, waitFor, waitForStatus } from '../helpers/app.js'
import { spawnTs, stopWorker } from '../helpers/process.js'
import { buildTracos, list, runTracos, tracosDirs, tracosEnv } from '../helpers/tracos-env.js'

for (const flush of ['file', 'filesystem']) {
  t.test(`gateway killed with SIGKILL mid-run (TRACOS_OUTBOUND_FLUSH=${flush}): the next run completes, nothing lost, duplicated or half-written`, async (t) => {
    const dirs = await tracosDirs(t)
    const env = tracosEnv(dirs, { TRACOS_BATCH_SIZE: '50', JOBS_LEASE_MS: '1500', TRACOS_OUTBOUND_FLUSH: flush })
    const client = new MongoClient(mongoUri())
    await client.connect()
    t.teardown(() => client.close())
    const db = client.db(env.MONGODB_DB)
    const total = 1500
    const now = new Date()
    // 40 orders already in TracOS without isSynced (the generator's shape), then client files for 1…1500.
    await seedTracos({ db, inboundDir: join(dirs.root, 'unused'), count: 40, now })
    await seedTracos({ db, inboundDir: dirs.inbound, count: total, filesOnly: true, clientStatus: 'pending', now })

    const worker = spawnTs('test/helpers/tracos-worker.ts', testEnv(env))
    t.teardown(() => stopWorker(worker, 'SIGKILL'))
    await waitFor(async () => worker.stdout().includes('ready') || (worker.child.exitCode !== null && Promise.reject(new Error(worker.stderr()))), 30_000, 'the worker')
    const store = createJobStore(db, { maxAttempts: 5 })
    const { job } = await store.enqueue('tracos.run', { direction: 'both' })
    // Kill once part of the files are done.
    await waitFor(async () => (await list(dirs.archive)).length >= 200, 60_000, 'the run to be under way')
    worker.child.kill('SIGKILL')
    await worker.exited
    const remaining = (await list(dirs.inbound)).length
    t.ok(remaining > 0, `killed mid-run (${remaining} files still inbound)`)

    // A new gateway takes the job over once the lease expires and finishes it.
    const app = await buildTracos(t, dirs, { ...env })
    const done = await waitForStatus(app, job._id, ['succeeded', 'failed'], 120_000)
    t.equal(done.status, 'succeeded', JSON.stringify(done.error))
    t.ok(done.attempts >= 2, 'the killed attempt counted')

    const col = db.collection('workorders')
    t.equal(await col.countDocuments({}), total, 'every order once')
    const numbers = (await col.distinct('number')) as number[]
    t.equal(numbers.length, total, 'no duplicated numbers')
    t.equal(await col.countDocuments({ isSynced: true, status: 'pending' }), total, 'all imported and synced')
    t.same(await list(dirs.inbound), [], 'inbound drained')
    t.equal((await list(dirs.archive)).length, total)
    const outbound = await readdir(dirs.outbound)
    t.same(outbound.filter((n) => !/^workorder_\d+\.json$/.test(n)), [], 'no temp or partial files')
    t.equal(outbound.length, total, 'one outbound file per order')
    let bad = 0
    for (const name of outbound) {
      const order = JSON.parse(await readFile(join(dirs.outbound, name), 'utf8')) as { orderNo: number, isPending: boolean, summary: string }
      if (`workorder_${order.orderNo}.json` !== name || order.isPending !== true || order.summary !== `Example workorder #${order.orderNo}`) bad++
    }
    t.equal(bad, 0, 'every outbound file complete and current')

    const again = await runTracos(app)
    t.match(again.result, { files: 0, exported: 0 }, 'nothing left to export')
  })
}
