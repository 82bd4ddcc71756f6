import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import t from 'tap'
import { startAthocSimulator } from '../../src/integrations/bobo/sandbox/athoc-simulator.js'
import { dropDatabaseAfter, testEnv, waitFor } from '../helpers/app.js'
import { spawnTs, stopWorker } from '../helpers/process.js'
import { boboRow } from '../helpers/bobo-setup.js'
import { readdir, writeFile, utimes, mkdir } from 'node:fs/promises'

const FIELD = 'On-Duty-DTG'

t.test('SIGKILL while AtHoc is being updated: after a restart no file is lost and AtHoc ends with the latest state', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'bobo-crash-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const dirs = { incoming: join(root, 'incoming'), processed: join(root, 'processed'), failed: join(root, 'failed') }
  await mkdir(dirs.incoming, { recursive: true })
  const sim = await startAthocSimulator()
  t.teardown(() => sim.close())
  const env = testEnv({
    ...sim.env(),
    PORT: '0',
    BOBO_INCOMING_DIR: dirs.incoming,
    BOBO_PROCESSED_DIR: dirs.processed,
    BOBO_FAILED_DIR: dirs.failed,
    BOBO_POLL_INTERVAL: '1s',
    BOBO_STABLE_MS: '100',
    ATHOC_SYNC_CHUNK: '10',
    SCHEDULES_DISABLED: 'bobo.mapping-sync,bobo.cleanup'
  })
  dropDatabaseAfter(t, env.MONGODB_DB as string)
  const client = new MongoClient(env.MONGODB_URI as string)
  t.teardown(() => client.close())
  const db = client.db(env.MONGODB_DB)
  const ids = Array.from({ length: 40 }, (_, i) => String(i).padStart(5, '0'))
  for (const id of ids) sim.addUser(`${id}@example.org`, { 'Collar-Number': id })
  await db.collection('workerMappings').insertMany(ids.map((id) => ({ _id: id as any, login: `${id}@example.org`, collar: id, updatedAt: new Date() })))

  const drop = async (name: string, rows: string[], ageMs: number) => {
    const path = join(dirs.incoming, name)
    await writeFile(path, rows.join('\n') + '\n')
    const at = new Date(Date.now() - ageMs)
    await utimes(path, at, at)
  }
  await drop('BOBO_20240617_100000_output.csv', ids.map((id) => boboRow('BON', id, '20240617100000')), 60_000)
  await drop('BOBO_20240617_110000_output.csv', ids.slice(0, 20).map((id) => boboRow('BOF', id, '20240617110000')), 50_000)

  // The first SyncByCommonNames call is held while the gateway is killed; AtHoc still applies it afterwards.
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  sim.hooks.beforeSync = async (n) => { if (n === 1) await held }

  const first = spawnTs('src/server.ts', env)
  t.teardown(() => stopWorker(first, 'SIGKILL'))
  await waitFor(async () => sim.counts.sync >= 1, 30_000, 'the first AtHoc sync call')
  first.child.kill('SIGKILL')
  await first.exited
  release()
  await waitFor(async () => sim.inFlight.sync === 0, 5000, 'the held call to finish')
  sim.hooks.beforeSync = undefined

  // While the gateway is down: a newer file for some, and a late file with older events for others.
  await drop('BOBO_20240617_120000_output.csv', ids.slice(0, 5).map((id) => boboRow('BON', id, '20240617120000')), 40_000)
  await drop('BOBO_20240617_090000_late.csv', ids.slice(30, 40).map((id) => boboRow('BOF', id, '20240617090000')), 30_000)

  const second = spawnTs('src/server.ts', env)
  t.teardown(() => stopWorker(second))
  await waitFor(async () => (await readdir(dirs.processed).catch(() => [])).filter((n) => !n.startsWith('.')).length === 4 ? true : null, 60_000, 'all four files processed')
  await stopWorker(second)

  t.same((await readdir(dirs.incoming)).filter((n) => !n.startsWith('.')), [], 'incoming is empty')
  t.same(await readdir(dirs.failed).catch(() => []), [], 'nothing failed')
  for (const id of ids.slice(0, 5)) t.equal(sim.field(`${id}@example.org`, FIELD), '17/06/2024 12:00:00', `${id}: newest BON`)
  for (const id of ids.slice(5, 20)) t.equal(sim.field(`${id}@example.org`, FIELD), '', `${id}: BOF at 11:00`)
  for (const id of ids.slice(20, 40)) t.equal(sim.field(`${id}@example.org`, FIELD), '17/06/2024 10:00:00', `${id}: BON at 10:00, the late 09:00 BOF did not win`)
  const files = await db.collection('boboFiles').find({}).toArray()
  t.equal(files.length, 4)
  t.ok(files.every((f) => f.status === 'processed'))
  const log = await db.collection('boboProcessingLog').find({}).toArray()
  t.same([...new Set(log.filter((l) => l.outcome === 'processed').map((l) => l.name))].sort(), files.map((f) => f.name).sort(), 'every file has a processed log record')
  t.equal(await db.collection('boboBatches').countDocuments({}), 0, 'no batch left half-done')
})
