import { mkdir, readdir, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { MongoClient } from 'mongodb'
import { mongoUri } from '../helpers/app.js'
import { createClientFiles } from '../../src/integrations/tracos/client-files.js'
import { tracosToClient, type TracosFields } from '../../src/integrations/tracos/translate.js'
import { buildTracos, clientOrder, list, readJson, runTracos, tracosDirs, tracosEnv, writeJson } from '../helpers/tracos-env.js'

async function workorders (t: { teardown: (fn: () => unknown) => void }, dbName: string) {
  const client = new MongoClient(mongoUri())
  await client.connect()
  t.teardown(async () => {
    await client.db(dbName).dropDatabase().catch(() => {})
    await client.close()
  })
  return client.db(dbName).collection('workorders')
}

/** A TracOS-side order changed by someone else (not synced). */
function tracosOrder (number: number, status: string): Record<string, unknown> {
  return { number, title: `TracOS #${number}`, description: 'set in TracOS', status, createdAt: new Date('2026-01-01T00:00:00Z'), updatedAt: new Date('2026-01-02T00:00:00Z'), deleted: false, deletedAt: null, isSynced: false }
}

t.test('a both run exports the unsynced orders its inbound query found, and leaves a failed one unsynced', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs)
  const app = await buildTracos(t, dirs, env)
  const col = await workorders(t, env.MONGODB_DB as string)

  // 6 and 7 imported inbound-only: stored unsynced.
  await writeJson(dirs.inbound, '6.json', clientOrder(6, { isDone: true }))
  await writeJson(dirs.inbound, '7.json', clientOrder(7))
  t.match((await runTracos(app, { direction: 'inbound' })).result, { inserted: 2, exported: 0 })
  await col.insertOne(tracosOrder(4, 'on_hold'))

  // Then: 6 again unchanged, 7 changed, 5 new but its outbound file cannot be written (a folder is in the way).
  await writeJson(dirs.inbound, '5.json', clientOrder(5, { isPending: true }))
  await writeJson(dirs.inbound, '6.json', clientOrder(6, { isDone: true }))
  await writeJson(dirs.inbound, '7.json', clientOrder(7, { isCanceled: true, lastUpdateDate: '2026-02-12T00:00:00Z' }))
  await mkdir(join(dirs.outbound, 'workorder_5.json'), { recursive: true })
  const { result } = await runTracos(app)
  t.match(result, { direction: 'both', files: 3, inserted: 1, updated: 1, unchanged: 1, exported: 3, exportFailed: 1 })
  t.match(result.errors, [{ file: 'workorder_5.json', problems: [{ orderNo: 5, field: '(file)' }] }])
  t.equal((await readJson(dirs.outbound, 'workorder_4.json')).isOnHold, true, 'TracOS-side change exported')
  t.equal((await readJson(dirs.outbound, 'workorder_6.json')).isDone, true, 'unchanged but unsynced: exported')
  t.equal((await readJson(dirs.outbound, 'workorder_7.json')).isCanceled, true, 'changed: the new content')
  for (const n of [4, 6, 7]) t.equal((await col.findOne({ number: n }))?.isSynced, true, `${n} synced`)
  t.equal((await col.findOne({ number: 5 }))?.isSynced, false, '5 stays unsynced although inside the marked range')
  t.ok(typeof result.phasesMs.outboundWrite === 'number' && typeof result.phasesMs.mongoRead === 'number', 'phase timings reported')

  // The folder gone, the next run (no inbound files) exports 5.
  await rmdir(join(dirs.outbound, 'workorder_5.json'))
  t.match((await runTracos(app)).result, { files: 0, exported: 1, exportFailed: 0 })
  t.equal((await readJson(dirs.outbound, 'workorder_5.json')).isPending, true)
  t.equal(await col.countDocuments({ isSynced: true }), 4)
})

t.test('more unsynced orders than a batch: the outbound pass pages through them', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs, { TRACOS_BATCH_SIZE: '2' })
  const app = await buildTracos(t, dirs, env)
  const col = await workorders(t, env.MONGODB_DB as string)
  await col.insertMany([1, 2, 3, 4, 5].map((n) => tracosOrder(n, 'pending')))
  await writeJson(dirs.inbound, '10.json', clientOrder(10))
  await writeJson(dirs.inbound, '3.json', clientOrder(3, { isDone: true }))
  const { result } = await runTracos(app)
  t.match(result, { files: 2, inserted: 1, updated: 1, exported: 6, exportFailed: 0 })
  t.same(await list(dirs.outbound), [1, 2, 3, 4, 5, 10].map((n) => `workorder_${n}.json`).sort())
  t.equal((await readJson(dirs.outbound, 'workorder_3.json')).isDone, true, 'the inbound content, not the stored one')
  t.equal(await col.countDocuments({ isSynced: true }), 6)
  t.match((await runTracos(app)).result, { exported: 0 })
})

t.test('TRACOS_OUTBOUND_FLUSH=filesystem: same files, same results, no temp file left', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs, { TRACOS_OUTBOUND_FLUSH: 'filesystem' })
  const app = await buildTracos(t, dirs, env)
  const col = await workorders(t, env.MONGODB_DB as string)
  await col.insertOne(tracosOrder(1, 'cancelled'))
  for (const n of [2, 3, 4]) await writeJson(dirs.inbound, `${n}.json`, clientOrder(n, { isOnHold: n === 3 }))
  await mkdir(join(dirs.outbound, 'workorder_4.json'), { recursive: true })
  const { result } = await runTracos(app)
  t.match(result, { inserted: 3, exported: 3, exportFailed: 1 })
  t.equal((await readJson(dirs.outbound, 'workorder_1.json')).isCanceled, true)
  t.equal((await readJson(dirs.outbound, 'workorder_3.json')).isOnHold, true)
  t.same((await readdir(dirs.outbound)).sort(), ['workorder_1.json', 'workorder_2.json', 'workorder_3.json', 'workorder_4.json'], 'no temp file left (4 is the folder in the way)')
  t.equal((await col.findOne({ number: 4 }))?.isSynced, false)
})

t.test('filesystem flush without `sync -f`: each temp file is flushed instead', async (t) => {
  const dirs = await tracosDirs(t)
  const files = createClientFiles({ inboundDir: dirs.inbound, outboundDir: dirs.inbound, archiveDir: dirs.archive, rejectedDir: dirs.rejected, after: 'archive', concurrency: 4, flush: 'filesystem' })
  const order = (number: number): TracosFields => ({ number, title: `T${number}`, description: 'd', status: 'pending', createdAt: new Date(0), updatedAt: new Date(0), deleted: false, deletedAt: null })
  const path = process.env.PATH
  process.env.PATH = join(dirs.root, 'no-such-bin')
  let failures: Map<number, string>
  try {
    failures = await files.writeOutbound([1, 2].map((n) => tracosToClient(order(n))))
  } finally {
    process.env.PATH = path
  }
  t.same([...failures.entries()], [])
  t.same((await readdir(dirs.inbound)).sort(), ['workorder_1.json', 'workorder_2.json'])
  t.equal((await readJson(dirs.inbound, 'workorder_2.json')).isPending, true)
})

t.test('files whose orders span several pipeline chunks are archived once all their orders are stored', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs)
  const app = await buildTracos(t, dirs, env)
  const col = await workorders(t, env.MONGODB_DB as string)
  const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
  await writeJson(dirs.inbound, 'a.json', range(1, 700).map((n) => clientOrder(n)))
  await writeJson(dirs.inbound, 'b.json', range(650, 1300).map((n) => clientOrder(n, { isDone: true })))
  await writeJson(dirs.inbound, 'c.json', clientOrder(5, { isPending: true }))
  const { result } = await runTracos(app)
  t.match(result, { files: 3, read: 1352, duplicates: 52, inserted: 1300, exported: 1300, exportFailed: 0, errors: [] })
  t.same(await list(dirs.inbound), [])
  t.same(await list(dirs.archive), ['a.json', 'b.json', 'c.json'])
  t.equal(await col.countDocuments({ isSynced: true }), 1300)
  t.equal((await readJson(dirs.outbound, 'workorder_5.json')).isPending, true, 'the later file wins')
  t.equal((await readJson(dirs.outbound, 'workorder_650.json')).isDone, true)
  t.equal((await readJson(dirs.outbound, 'workorder_649.json')).isActive, true)
})
