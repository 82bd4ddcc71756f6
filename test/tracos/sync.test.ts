import { chmod, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { MongoClient } from 'mongodb'
import { seedTracos } from '../../src/integrations/tracos/seed.js'
import { createWorkOrders } from '../../src/integrations/tracos/workorders.js'
import { MongoUnavailableError } from '../../src/integrations/tracos/retry.js'
import { authHeaders, mongoUri, testEnv } from '../helpers/app.js'
import { specProblems } from '../helpers/openapi.js'
import { ROOT } from '../helpers/process.js'
import { spawn } from 'node:child_process'
import { buildTracos, clientOrder, list, readJson, runTracos, tracosDirs, tracosEnv, writeJson } from '../helpers/tracos-env.js'
import pino from 'pino'
import { provisionMongo } from '../../scripts/mongo-server.js'

const FLAGS = ['isDeleted', 'isDone', 'isCanceled', 'isOnHold', 'isPending', 'isActive']

async function workorders (t: { teardown: (fn: () => unknown) => void }, dbName: string) {
  const client = new MongoClient(mongoUri())
  await client.connect()
  t.teardown(() => client.close())
  return client.db(dbName).collection('workorders')
}

t.test('every status row inbound and outbound, dates to the millisecond, files archived', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs)
  const app = await buildTracos(t, dirs, env)
  const rows: Array<[Record<string, unknown>, string, string]> = [
    [{ isDeleted: true, deletedDate: '2026-03-01T10:00:00.5-02:00' }, 'deleted', 'isDeleted'],
    [{ isDone: true }, 'completed', 'isDone'],
    [{ isCanceled: true }, 'cancelled', 'isCanceled'],
    [{ isOnHold: true }, 'on_hold', 'isOnHold'],
    [{ isPending: true }, 'pending', 'isPending'],
    [{}, 'in_progress', 'isActive']
  ]
  for (const [i, [flags]] of rows.entries()) await writeJson(dirs.inbound, `${i + 1}.json`, clientOrder(i + 1, flags))
  // An array file, a naive timestamp (UTC) and an offset timestamp.
  await writeJson(dirs.inbound, 'batch.json', [
    clientOrder(7, { creationDate: '2025-09-30T23:04:29.045089', lastUpdateDate: '2025-10-01T02:04:29.999+03:00', description: 'ERP text' }),
    clientOrder(8, { isDone: true, isPending: true })
  ])

  const { result, response } = await runTracos(app)
  t.same(specProblems('POST', '/tracos/run', response), [])
  t.match(result, { direction: 'both', files: 7, read: 8, inserted: 8, updated: 0, unchanged: 0, rejected: 0, exported: 8 })
  t.same(await list(dirs.inbound), [], 'imported files left the inbound folder')
  t.equal((await list(dirs.archive)).length, 7, 'and are in the archive')

  const col = await workorders(t, env.MONGODB_DB as string)
  for (const [i, [, status, flag]] of rows.entries()) {
    const doc = await col.findOne({ number: i + 1 })
    t.equal(doc?.status, status, `order ${i + 1} stored as ${status}`)
    t.equal(doc?.isSynced, true)
    t.ok(doc?.syncedAt instanceof Date)
    const out = await readJson(dirs.outbound, `workorder_${i + 1}.json`)
    t.same(FLAGS.filter((f) => out[f] === true), [flag], `${status} exported as ${flag} only`)
    t.equal(out.summary, `Order #${i + 1}`)
    t.equal(out.creationDate, '2026-02-10T08:15:00.123Z')
    t.equal(out.lastUpdateDate, '2026-02-11T09:00:00.000Z')
    t.equal(out.deletedDate, status === 'deleted' ? '2026-03-01T12:00:00.500Z' : null)
  }
  const deleted = await col.findOne({ number: 1 })
  t.equal(deleted?.deleted, true)
  t.equal((deleted?.deletedAt as Date).toISOString(), '2026-03-01T12:00:00.500Z')
  const seven = await col.findOne({ number: 7 })
  t.equal((seven?.createdAt as Date).toISOString(), '2025-09-30T23:04:29.045Z', 'naive timestamp read as UTC, microseconds cut')
  t.equal((seven?.updatedAt as Date).toISOString(), '2025-09-30T23:04:29.999Z', 'offset applied')
  t.equal(seven?.description, 'ERP text')
  t.equal((await col.findOne({ number: 2 }))?.description, 'Order #2 description')
  t.equal((await col.findOne({ number: 8 }))?.status, 'completed', 'isDone wins over isPending')
  const raw = await readFile(join(dirs.outbound, 'workorder_7.json'), 'utf8')
  t.match(raw, /^\{\n {2}"orderNo": 7,/, 'indented two spaces')
  t.same((await list(dirs.outbound)).filter((n) => !n.endsWith('.json')), [], 'no temp files left')

  // Same files dropped again: nothing changes, nothing is re-exported.
  const before = (await stat(join(dirs.outbound, 'workorder_2.json'))).mtimeMs
  for (const [i, [flags]] of rows.entries()) await writeJson(dirs.inbound, `${i + 1}.json`, clientOrder(i + 1, flags))
  const again = await runTracos(app)
  t.match(again.result, { read: 6, inserted: 0, updated: 0, unchanged: 6, exported: 0 })
  t.equal((await stat(join(dirs.outbound, 'workorder_2.json'))).mtimeMs, before, 'file not rewritten')

  // A changed order is re-exported, with the new content.
  await writeJson(dirs.inbound, 'change.json', clientOrder(3, { isCanceled: false, isOnHold: true, summary: 'Now on hold', lastUpdateDate: '2026-02-12T00:00:00Z' }))
  const changed = await runTracos(app)
  t.match(changed.result, { read: 1, updated: 1, exported: 1 })
  const out3 = await readJson(dirs.outbound, 'workorder_3.json')
  t.equal(out3.isOnHold, true)
  t.equal(out3.isCanceled, false)
  t.equal(out3.summary, 'Now on hold')
  t.equal(out3.lastUpdateDate, '2026-02-12T00:00:00.000Z')
  const doc3 = await col.findOne({ number: 3 })
  t.equal(doc3?.revision, 2, 'revision counts the change')
  t.equal(doc3?.isSynced, true)

  // A TracOS-side change (isSynced:false) goes out on an outbound-only run.
  await col.updateOne({ number: 4 }, { $set: { status: 'completed', isSynced: false, updatedAt: new Date('2026-02-13T00:00:00Z') } })
  const outbound = await runTracos(app, { direction: 'outbound' })
  t.match(outbound.result, { direction: 'outbound', files: 0, exported: 1 })
  t.equal((await readJson(dirs.outbound, 'workorder_4.json')).isDone, true)
  t.equal((await col.findOne({ number: 4 }))?.isSynced, true)
})

t.test('bad files are rejected with a report, the run goes on', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs)
  const app = await buildTracos(t, dirs, env)
  await writeJson(dirs.inbound, 'good.json', clientOrder(1))
  // Written a minute ago: the client is done with them (see the next tests for files just being written).
  await writeJson(dirs.inbound, 'corrupt.json', '{"orderNo": 2, "summary": "cut off', 60_000)
  await writeJson(dirs.inbound, 'scalar.json', '42')
  await writeJson(dirs.inbound, 'nosummary.json', clientOrder(3, { summary: undefined }))
  await writeJson(dirs.inbound, 'types.json', clientOrder(4, { orderNo: '4', isDone: 'yes', creationDate: 'not a date' }))
  await writeJson(dirs.inbound, 'mixed.json', [clientOrder(5), clientOrder(6, { lastUpdateDate: '2026-02-30T00:00:00Z' })])
  await writeFile(join(dirs.inbound, 'latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]))
  await utimes(join(dirs.inbound, 'latin1.json'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
  await writeJson(dirs.inbound, 'notes.txt', 'ignored: not *.json')

  const { result } = await runTracos(app)
  t.match(result, { files: 7, read: 1, inserted: 1, rejected: 6, exported: 1 })
  t.same(await list(dirs.inbound), ['notes.txt'])
  t.same(await list(dirs.rejected), ['corrupt.error.json', 'corrupt.json', 'latin1.error.json', 'latin1.json', 'mixed.error.json', 'mixed.json', 'nosummary.error.json', 'nosummary.json', 'scalar.error.json', 'scalar.json', 'types.error.json', 'types.json'])
  const report = async (name: string) => (await readJson(dirs.rejected, `${name}.error.json`)).problems as Array<{ field: string, message: string, item?: number }>
  t.match(await report('corrupt'), [{ field: '(file)', message: /invalid JSON/ }])
  t.match(await report('scalar'), [{ field: '(file)', message: /got number/ }])
  t.match(await report('latin1'), [{ field: '(file)', message: /UTF-8/ }])
  t.match(await report('nosummary'), [{ field: 'summary', message: 'is required' }])
  t.same((await report('types')).map((p) => p.field).sort(), ['creationDate', 'isDone', 'orderNo'])
  t.match(await report('mixed'), [{ item: 1, orderNo: 6, field: 'lastUpdateDate', message: /not a valid ISO 8601 date/ }])
  t.equal(result.errors.length, 6, 'per-file errors in the job result')
  const col = await workorders(t, env.MONGODB_DB as string)
  t.equal(await col.countDocuments({}), 1, 'nothing from a rejected file was imported (a file is all or nothing)')
})

t.test('a name the client sends again never replaces the earlier archived or rejected file', async (t) => {
  const dirs = await tracosDirs(t)
  const app = await buildTracos(t, dirs, tracosEnv(dirs))
  await writeJson(dirs.inbound, '1.json', clientOrder(1))
  await writeJson(dirs.inbound, '2.json', '{"orderNo": 2, "summary": "cut off', 60_000)
  t.match((await runTracos(app)).result, { inserted: 1, rejected: 1 })
  await writeJson(dirs.inbound, '1.json', clientOrder(1, { summary: 'changed' }))
  await writeJson(dirs.inbound, '2.json', '42')
  t.match((await runTracos(app)).result, { updated: 1, rejected: 1 })
  const archived = await list(dirs.archive)
  t.equal(archived.length, 2, `both copies of 1.json are archived (${archived.join(', ')})`)
  t.ok(archived.includes('1.json') && archived.some((n) => /^1_\d{8}_\d{6}(_\d+)?\.json$/.test(n)))
  const rejected = await list(dirs.rejected)
  t.equal(rejected.length, 4, `both bad copies of 2.json and their reports are kept (${rejected.join(', ')})`)
  const second = rejected.find((n) => /^2_\d{8}_\d{6}(_\d+)?\.json$/.test(n)) as string
  t.equal(await readFile(join(dirs.rejected, second), 'utf8'), '42')
  const report = await readJson(dirs.rejected, second.replace(/\.json$/, '.error.json'))
  t.match(report, { file: '2.json', storedAs: second, problems: [{ message: /got number/ }] })
  t.match(await readJson(dirs.rejected, '2.error.json'), { file: '2.json', problems: [{ message: /invalid JSON/ }] }, 'the first report is untouched')
})

t.test('a file that does not parse yet and was just modified waits for the next run (the client may still be writing it)', async (t) => {
  const dirs = await tracosDirs(t)
  const app = await buildTracos(t, dirs, tracosEnv(dirs, { TRACOS_STABLE_MS: '3000' }))
  await writeJson(dirs.inbound, '1.json', clientOrder(1))
  // Half written: the client is still writing it.
  const whole = JSON.stringify(clientOrder(2))
  await writeJson(dirs.inbound, '2.json', whole.slice(0, 40))
  await writeJson(dirs.inbound, '3.json', '{"orderNo": 3, "summary": ')
  const first = (await runTracos(app)).result
  t.match(first, { files: 3, inserted: 1, rejected: 0, waiting: 2 })
  t.same(await list(dirs.inbound), ['2.json', '3.json'], 'both stay where the client writes them')
  t.same(await list(dirs.rejected), [])
  // The client finishes 2.json; 3.json stays broken and, once older than TRACOS_STABLE_MS, is rejected.
  await writeJson(dirs.inbound, '2.json', whole, 60_000)
  await utimes(join(dirs.inbound, '3.json'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
  const second = (await runTracos(app)).result
  t.match(second, { files: 2, inserted: 1, rejected: 1, waiting: 0 })
  t.same(await list(dirs.rejected), ['3.error.json', '3.json'])
  t.same(await list(dirs.inbound), [])
})

t.test('a file the gateway may not read is rejected as permission denied', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs)
  await writeJson(dirs.inbound, 'ok.json', clientOrder(1))
  await writeJson(dirs.inbound, 'secret.json', clientOrder(2))
  await chmod(join(dirs.inbound, 'secret.json'), 0o000)
  // root reads any file: run the sync as an unprivileged user in a child process then.
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { chown } = await import('node:fs/promises')
    for (const dir of [dirs.root, dirs.inbound]) await chown(dir, 65534, 65534)
    await chown(join(dirs.inbound, 'ok.json'), 65534, 65534)
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/tracos-once.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...testEnv(env), HOME: '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: 65534, gid: 65534 } : {})
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 0, stderr)
  const result = JSON.parse(stdout) as { read: number, rejected: number }
  t.match(result, { read: 1, rejected: 1 })
  t.match((await readJson(dirs.rejected, 'secret.error.json')).problems, [{ field: '(file)', message: 'permission denied' }])
  t.same(await list(dirs.archive), ['ok.json'])
  dropAfter(t, env.MONGODB_DB as string)
})

t.test('seeded documents without isSynced are exported; sample data like the generator', async (t) => {
  const dirs = await tracosDirs(t)
  const env = tracosEnv(dirs)
  const app = await buildTracos(t, dirs, env)
  const col = await workorders(t, env.MONGODB_DB as string)
  const seeded = await seedTracos({ db: col.db, inboundDir: join(dirs.root, 'elsewhere'), count: 5 })
  t.equal(seeded.documents, 5)
  t.equal(await col.countDocuments({ isSynced: { $exists: false } }), 5, 'no isSynced field, as in the original sample data')
  const { result } = await runTracos(app)
  t.match(result, { files: 0, exported: 5 })
  t.same(await list(dirs.outbound), [1, 2, 3, 4, 5].map((n) => `workorder_${n}.json`).sort())
  t.equal(await col.countDocuments({ isSynced: true }), 5)
  const again = await runTracos(app)
  t.equal(again.result.exported, 0, 'nothing re-exported')

  // Then the client files of the generator (same numbers): the seeded documents are updated, not duplicated.
  await seedTracos({ db: col.db, inboundDir: dirs.inbound, count: 5, filesOnly: true, clientStatus: 'on_hold' })
  const inbound = await runTracos(app)
  t.equal(inbound.result.inserted, 0)
  t.equal(inbound.result.read, 5)
  t.equal(await col.countDocuments({}), 5)
  t.equal(await col.countDocuments({ status: 'on_hold', isSynced: true }), 5)

  // Seeding a running system again adds orders after the highest number (no duplicate-key failure half-way).
  const more = await seedTracos({ db: col.db, inboundDir: join(dirs.root, 'elsewhere'), count: 3 })
  t.match(more, { first: 6, documents: 3 })
  t.equal(await col.countDocuments({}), 8)
})

t.test('POST /tracos/run validates its body and coalesces', async (t) => {
  const dirs = await tracosDirs(t)
  // Runner off: jobs stay queued, so coalescing is visible.
  const app = await buildTracos(t, dirs, { JOBS_RUNNER_ENABLED: 'false' })
  const bad = await app.inject({ method: 'POST', url: '/tracos/run', headers: authHeaders(), payload: { direction: 'sideways' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { message: /direction/, details: [{ field: 'direction' }] })
  t.same(specProblems('POST', '/tracos/run', bad), [])
  const extra = await app.inject({ method: 'POST', url: '/tracos/run', headers: authHeaders(), payload: { direction: 'both', force: true } })
  t.match(extra.json(), { statusCode: 400, details: [{ field: 'force' }] })
  const first = await app.inject({ method: 'POST', url: '/tracos/run', headers: authHeaders(), payload: { direction: 'inbound' } })
  const second = await app.inject({ method: 'POST', url: '/tracos/run', headers: authHeaders(), payload: { direction: 'inbound' } })
  t.equal(first.statusCode, 202)
  t.equal(second.json().jobId, first.json().jobId, 'a queued run absorbs the next trigger')
  const none = await app.inject({ method: 'POST', url: '/tracos/run', headers: authHeaders() })
  t.equal(none.statusCode, 202, 'no body means both')
  t.not(none.json().jobId, first.json().jobId)
  t.equal((await app.jobs.get(none.json().jobId as string))?.params.direction, 'both')
  t.equal((await app.inject({ method: 'POST', url: '/tracos/run' })).statusCode, 401)
  const schedules = (await app.inject({ url: '/schedules', headers: authHeaders('read') })).json() as { data: Array<Record<string, unknown>> }
  t.match(schedules.data.find((s) => s.id === 'tracos.run'), { kind: 'tracos.run', everyMs: 60_000 }, 'scheduled every TRACOS_SYNC_INTERVAL (60 s)')
})

t.test('a missing inbound folder fails the job with a readable message', async (t) => {
  const dirs = await tracosDirs(t)
  const app = await buildTracos(t, dirs, { TRACOS_INBOUND_DIR: join(dirs.root, 'nope') })
  const { job } = await runTracos(app, undefined, ['failed'])
  t.match(job.error, { code: 'TRACOS_RUN_FAILED', retryable: false, message: /inbound folder .*nope does not exist/ })
  t.notMatch(job.error?.message, /\n\s+at /, 'no stack trace')
  await mkdir(dirs.outbound, { recursive: true })
})

t.test('transient MongoDB errors are retried, then reported in one line', async (t) => {
  // A real MongoDB-wire server of its own, stopped under a connected client: operations then fail with
  // server selection timeouts, as when the database goes away mid-run.
  const saved = process.env.MONGODB_URI
  delete process.env.MONGODB_URI
  const server = await provisionMongo().finally(() => { process.env.MONGODB_URI = saved })
  const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 300 })
  t.teardown(() => client.close())
  await client.db('x').command({ ping: 1 })
  await server.stop()
  const retries: number[] = []
  const repo = createWorkOrders(client.db('x'), { collection: 'workorders', log: pino({ level: 'silent' }), retry: { attempts: 3, delayMs: 10, onRetry: ({ attempt }) => { retries.push(attempt) } } })
  const err = await repo.findUnsynced(0, 10).catch((e: unknown) => e)
  t.ok(err instanceof MongoUnavailableError, `a MongoUnavailableError, got ${err instanceof Error ? `${err.name}: ${err.message}` : JSON.stringify(err)}`)
  t.match((err as Error).message, /^MongoDB find unsynced work orders failed after 3 attempts: /)
  t.same(retries, [1, 2], 'two retries after the first failure')
  t.equal((err as Error).message.includes('\n'), false)
})

function dropAfter (t: { teardown: (fn: () => unknown) => void }, dbName: string): void {
  t.teardown(async () => {
    const client = new MongoClient(mongoUri())
    try { await client.db(dbName).dropDatabase() } finally { await client.close() }
  })
}
