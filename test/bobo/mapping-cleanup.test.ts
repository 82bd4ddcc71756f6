import t from 'tap'
import { authHeaders, waitForStatus } from '../helpers/app.js'
import { boboHarness, boboRow } from '../helpers/bobo-setup.js'
import { specProblems } from '../helpers/openapi.js'
import { mappingSyncDecision } from '../../src/integrations/bobo/mapping-sync.js'

const FIELD = 'On-Duty-DTG'

t.test('mapping-sync schedule rules follow the original, on a controllable clock', async (t) => {
  const h = await boboHarness(t, { users: [['ann@example.org', '00452'], ['bob@example.org', ' 00453 ']], env: { BOBO_TIMEZONE: 'Europe/London' } })
  const at = (iso: string) => { h.clock.now = new Date(iso) }
  const tick = async () => (await h.runJob('bobo.mapping-sync')).result
  const mappings = async () => (await h.app.mongo.db.collection('workerMappings').find({}).sort({ _id: 1 }).toArray()).map((m) => [m._id, m.login])

  at('2026-06-10T09:00:00Z') // 10:00 in London
  t.match(await tick(), { ran: true, reason: 'first run', status: 'completed' })
  t.same(await mappings(), [['00452', 'ann@example.org'], ['00453', 'bob@example.org']], 'collar trimmed, leading zeros kept')
  at('2026-06-10T18:30:00Z') // 19:30
  t.match(await tick(), { ran: false, reason: 'before 20:00' })
  at('2026-06-10T19:30:00Z') // 20:30, but already synced today
  t.match(await tick(), { ran: false, reason: 'already synced today' })
  at('2026-06-11T18:59:00Z')
  t.match(await tick(), { ran: false })
  h.sim.removeUser('bob@example.org')
  h.sim.addUser('cid@example.org', { 'Collar-Number': '00454' })
  at('2026-06-11T19:01:00Z') // 20:01 the next day: the daily sync
  t.match(await tick(), { ran: true, reason: 'daily sync', status: 'completed', removed: 1 })
  t.same(await mappings(), [['00452', 'ann@example.org'], ['00454', 'cid@example.org']])

  // An AtHoc failure records `error`, keeps the mappings, and the next tick runs again at any hour.
  h.sim.inject({ operation: 'search', status: 500, times: 20 })
  at('2026-06-12T08:00:00Z')
  t.match(await tick(), { ran: false, reason: 'before 20:00' })
  at('2026-06-12T20:00:00Z')
  t.match(await tick(), { ran: true, status: 'error' })
  t.equal((await mappings()).length, 2)
  h.sim.clearFaults()
  at('2026-06-13T06:00:00Z')
  t.match(await tick(), { ran: true, reason: 'last sync ended with error', status: 'completed' })

  // An empty answer is `no_data`: nothing is removed.
  for (const login of [...h.sim.users.keys()]) h.sim.removeUser(login)
  t.match((await h.runJob('bobo.mapping-sync', { force: true })).result, { status: 'no_data' })
  t.equal((await mappings()).length, 2)
  h.sim.addUser('ann@example.org', { 'Collar-Number': '00452' })
  at('2026-06-13T07:00:00Z')
  t.match(await tick(), { ran: true, reason: 'last sync ended with no_data', status: 'completed', removed: 1 })

  // Overdue: more than BOBO_SYNC_RETRY_DAYS calendar days since the last sync runs even in the morning.
  at('2026-06-15T07:00:00Z')
  t.match(await tick(), { ran: false })
  at('2026-06-16T07:00:00Z')
  t.match(await tick(), { ran: true, reason: 'overdue: 3 days since the last sync' })

  const res = await h.app.inject({ method: 'POST', url: '/bobo/mapping-sync', headers: authHeaders() })
  t.equal(res.statusCode, 202)
  t.same(specProblems('POST', '/bobo/mapping-sync', res), [])
  const job = await waitForStatus(h.app, res.json().jobId, ['succeeded', 'failed'])
  t.match(job.result, { ran: true, reason: 'requested' })
})

t.test('mappingSyncDecision: pure rules', async (t) => {
  const rules = { syncHour: 20, retryDays: 2, timeZone: 'UTC' }
  t.match(mappingSyncDecision(new Date('2026-01-05T10:00:00Z'), null, rules), { run: true, reason: 'first run' })
  t.match(mappingSyncDecision(new Date('2026-01-05T10:00:00Z'), { lastSyncDate: 'garbage', status: 'completed' }, rules), { run: true })
  t.match(mappingSyncDecision(new Date('2026-01-05T10:00:00Z'), { lastSyncDate: '2026-01-03', status: 'completed' }, rules), { run: false })
  t.match(mappingSyncDecision(new Date('2026-01-05T10:00:00Z'), { lastSyncDate: '2026-01-02', status: 'completed' }, rules), { run: true })
  t.match(mappingSyncDecision(new Date('2026-01-05T10:00:00Z'), { lastSyncDate: '2026-01-05', status: 'no_data' }, rules), { run: true })
  t.match(mappingSyncDecision(new Date('2026-01-05T20:00:00Z'), { lastSyncDate: '2026-01-04', status: 'completed' }, rules), { run: true, reason: 'daily sync' })
})

t.test('cleanup clears every stale value, past 1000 users, and leaves fresh ones', async (t) => {
  const h = await boboHarness(t, { env: { ATHOC_SYNC_CHUNK: '400' } })
  h.clock.now = new Date('2026-03-10T12:00:00Z')
  for (let i = 0; i < 2600; i++) {
    const value = i < 2500 ? `0${1 + (i % 8)}/03/2026 0${i % 10}:00:00` : '10/03/2026 08:00:00'
    h.sim.addUser(`u${i}@example.org`, { [FIELD]: value, 'Collar-Number': String(i) })
  }
  h.sim.addUser('blank@example.org', { [FIELD]: '' })
  const res = await h.app.inject({ method: 'POST', url: '/bobo/cleanup', headers: authHeaders() })
  t.equal(res.statusCode, 202)
  t.same(specProblems('POST', '/bobo/cleanup', res), [])
  const job = await waitForStatus(h.app, res.json().jobId, ['succeeded', 'failed'], 60_000)
  t.match(job.result, { cutoff: '09/03/2026 12:00:00', stale: 2500, cleared: 2500, failed: 0 })
  t.equal([...h.sim.users.values()].filter((u) => u[FIELD] !== undefined && u[FIELD] !== '').length, 100)
  t.equal(h.sim.field('u2599@example.org', FIELD), '10/03/2026 08:00:00')
  t.ok(h.sim.counts.search >= 3, 'paged')
  t.equal(h.sim.counts.sync, Math.ceil(2500 / 400))
})

t.test('processed files, their records and log entries older than BOBO_PROCESSED_RETENTION_DAYS are purged; failed files stay', async (t) => {
  const h = await boboHarness(t, { users: [['ann@example.org', '00452']], env: { BOBO_PROCESSED_RETENTION_DAYS: '30' } })
  await h.runJob('bobo.mapping-sync', { force: true })
  h.clock.now = new Date('2026-03-01T10:00:00Z')
  await h.drop('BOBO_20260301_100000_old.csv', boboRow('BON', '00452', '20260301095900'))
  await h.drop('garbage.csv', 'this is not,a BOBO export\n')
  t.match(await h.process(), { processed: 1, failed: 1 })
  h.clock.now = new Date('2026-04-01T10:00:00Z') // 31 days later
  await h.drop('BOBO_20260401_100000_new.csv', boboRow('BOF', '00452', '20260401095900'))
  t.match(await h.process(), { processed: 1 })
  t.equal((await h.list(h.dirs.processed)).length, 2)

  const purge = await h.runJob('bobo.purge-processed')
  t.equal(purge.status, 'succeeded')
  t.match(purge.result, { records: 1, filesDeleted: 1, logEntries: 2 }, 'the old processed file and both old log entries')
  t.same(await h.list(h.dirs.processed), ['BOBO_20260401_100000_new.csv'], 'the recent processed file stays')
  t.same(await h.list(h.dirs.failed), ['garbage.csv'], 'failed files wait for a person')
  const listed = await h.app.inject({ method: 'GET', url: '/bobo/files?status=processed', headers: authHeaders('read') })
  t.same(listed.json().files.map((f: { name: string }) => f.name), ['BOBO_20260401_100000_new.csv'])
  t.equal(await h.app.mongo.db.collection('boboProcessingLog').countDocuments({}), 1)
  t.match((await h.runJob('bobo.purge-processed')).result, { records: 0, filesDeleted: 0, logEntries: 0 }, 'a second run finds nothing')
})
