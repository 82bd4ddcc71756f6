import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { authHeaders, build, dropDatabaseAfter, testConfig, waitFor } from '../helpers/app.js'
import { spawnTs } from '../helpers/process.js'

const noRunner = { JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'false' }

t.test('GET /jobs pages newest first and stays stable while jobs are inserted', async (t) => {
  const app = await build(t, { env: noRunner })
  const original: string[] = []
  for (let i = 0; i < 23; i++) original.push((await app.jobs.enqueue('fixture.noop', { i })).job._id)
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const url: string = `/jobs?limit=5${cursor === null ? '' : `&cursor=${cursor}`}`
    const res = await app.inject({ headers: authHeaders(), method: 'GET', url })
    t.equal(res.statusCode, 200)
    const body = res.json() as { data: Array<{ id: string }>, nextCursor: string | null }
    if (pages === 0) t.equal(body.data[0]?.id, original[original.length - 1], 'newest first')
    seen.push(...body.data.map((j) => j.id))
    cursor = body.nextCursor
    pages++
    // New jobs arrive between page fetches; they belong before page 1 and must not shift later pages.
    await app.jobs.enqueue('fixture.noop', { inserted: pages })
  } while (cursor !== null)
  t.equal(pages, 5)
  t.same(seen, [...original].reverse(), 'every original job exactly once, in order')
})

t.test('GET /jobs filters by kind and status and validates its query', async (t) => {
  const app = await build(t, { env: noRunner })
  await app.jobs.enqueue('fixture.noop', {})
  await app.jobs.enqueue('fixture.sleep', {})
  const byKind = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs?kind=fixture.sleep' })
  t.equal(byKind.json().data.length, 1)
  t.equal(byKind.json().data[0].kind, 'fixture.sleep')
  const byStatus = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs?status=succeeded' })
  t.same(byStatus.json(), { data: [], nextCursor: null })
  const tooMany = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs?limit=251' })
  t.equal(tooMany.statusCode, 400)
  t.match(tooMany.json(), { statusCode: 400, error: 'Bad Request', details: [{ field: 'querystring/limit' }] })
  const badStatus = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs?status=done' })
  t.equal(badStatus.statusCode, 400)
  t.match(badStatus.json().details, [{ field: 'querystring/status' }])
  const badCursor = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs?cursor=nonsense' })
  t.equal(badCursor.statusCode, 400)
  t.match(badCursor.json().details, [{ field: 'querystring/cursor' }])
})

t.test('GET /jobs/:id hints when to poll again and 404s unknown ids', async (t) => {
  const app = await build(t, { env: noRunner })
  const { job } = await app.jobs.enqueue('fixture.noop', {}, { runAfter: new Date(Date.now() + 30_000) })
  const res = await app.inject({ headers: authHeaders(), method: 'GET', url: `/jobs/${job._id}` })
  t.equal(res.statusCode, 200)
  const hint = Number(res.headers['retry-after'])
  t.ok(hint >= 29 && hint <= 30, `queued job hints its start (${hint}s)`)
  t.match(res.json(), { id: job._id, kind: 'fixture.noop', status: 'queued', attempts: 0, trigger: 'api', lease: null })
  const missing = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs/does-not-exist' })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { statusCode: 404, error: 'Not Found', message: 'job does-not-exist not found' })
})

t.test('the request id follows a trigger into the job and its logs', async (t) => {
  const app = await build(t, { env: noRunner })
  const res = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: { ...authHeaders(), 'x-request-id': 'n8n-exec-42' }, payload: { kind: 'fixture.noop' } })
  t.equal(res.headers['x-request-id'], 'n8n-exec-42')
  const job = await app.jobs.get(res.json().jobId)
  t.equal(job?.requestId, 'n8n-exec-42')
  const generated = await app.inject({ headers: authHeaders(), method: 'GET', url: '/jobs' })
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('GET /schedules lists every schedule with its next run and last job', async (t) => {
  const app = await build(t, { env: { FIXTURE_SCHEDULE_MS: '60000', SCHEDULES_DISABLED: 'system.purge-jobs' } })
  await app.schedules.fireNow('fixture.tick')
  const res = await app.inject({ headers: authHeaders(), method: 'GET', url: '/schedules' })
  t.equal(res.statusCode, 200)
  const byId = new Map((res.json().data as Array<{ id: string, nextRunAt: string | null }>).map((s) => [s.id, s]))
  t.match(byId.get('fixture.tick'), { kind: 'fixture.noop', type: 'interval', everyMs: 60000, enabled: true, nextRunAt: String, lastJob: { id: String, slot: String } })
  t.match(byId.get('fixture.daily'), { type: 'cron', cron: '0 6 * * *', timezone: 'UTC', enabled: true })
  const next = new Date(String(byId.get('fixture.daily')?.nextRunAt))
  t.equal(next.getUTCHours(), 6)
  t.ok(next.getTime() > Date.now() && next.getTime() <= Date.now() + 86_400_000)
  t.match(byId.get('system.purge-jobs'), { enabled: false, nextRunAt: null })
})

t.test('an interval longer than a Node.js timer (24.85 days) runs instead of stopping start-up', async (t) => {
  // 3,600,000 read as seconds, as TRACOS_SYNC_INTERVAL=3600000 is: about 41.7 days.
  const app = await build(t, { env: { FIXTURE_SCHEDULE_MS: String(3_600_000_000) } })
  const res = await app.inject({ headers: authHeaders(), method: 'GET', url: '/schedules' })
  const tick = (res.json().data as Array<{ id: string, nextRunAt: string }>).find((s) => s.id === 'fixture.tick')
  const days = (new Date(String(tick?.nextRunAt)).getTime() - Date.now()) / 86_400_000
  t.ok(days > 41 && days < 42, `next run in ${days.toFixed(1)} days`)
})

t.test('a schedule slot is enqueued once by 3 instances, even after its job has run', async (t) => {
  // Runners on: a slot's job starts and finishes at once, before the other instances' ticks for that slot.
  const config = testConfig({ FIXTURE_SCHEDULE_MS: '1000' })
  const apps = [await build(t, { config })]
  apps.push(await build(t, { config, keepDatabase: true }), await build(t, { config, keepDatabase: true }))
  const runs = new Map<string, number>()
  for (const app of apps) app.jobs.runner.events.on('claimed', ({ job }) => runs.set(job._id, (runs.get(job._id) ?? 0) + 1))
  // Three ticks for one slot, at once: one job between them.
  await Promise.all(apps.map((a) => a.schedules.fireNow('fixture.tick')))
  // And the timers: let every instance tick a few times, each at its own moment within the slot.
  await sleep(3500)
  for (const app of apps) app.schedules.stop()
  const { store } = apps[0]!.jobs
  // Read once every job has been moved to jobs_done: one that is being moved is briefly in both collections.
  await waitFor(async () => await store.collection.countDocuments({ scheduleId: 'fixture.tick' }) === 0, 10_000, 'the slots\' jobs to finish')
  const jobs = await store.doneCollection.find({ scheduleId: 'fixture.tick' }).toArray()
  t.ok(jobs.length > 0 && jobs.every((j) => j.status === 'succeeded'), 'slots\' jobs ran')
  const slots = new Map<string, number>()
  for (const job of jobs) slots.set(String(job.idempotencyKey), (slots.get(String(job.idempotencyKey)) ?? 0) + 1)
  t.ok(slots.size >= 3, `several slots ticked (${slots.size})`)
  t.same([...slots.values()].filter((n) => n > 1), [], 'no slot has more than one job')
  t.same([...runs.values()].filter((n) => n > 1), [], 'no job ran twice')
  t.same(jobs.filter((j) => runs.get(j._id) !== 1).map((j) => j._id), [], 'every job ran on one of the instances')
  t.equal(jobs.every((j) => j.trigger === 'schedule'), true)
})

t.test('invalid configuration stops start-up with a message naming each variable', async (t) => {
  const server = spawnTs('src/server.ts', { PORT: 'eighty', JOBS_CONCURRENCY: '0', LOG_LEVEL: 'loud' })
  const code = await server.exited
  t.equal(code, 1)
  const stderr = server.stderr()
  t.match(stderr, /Invalid configuration/)
  t.match(stderr, /PORT="eighty"/)
  t.match(stderr, /JOBS_CONCURRENCY="0"/)
  t.match(stderr, /LOG_LEVEL="loud" must be one of "fatal"/)
  t.match(stderr, /MONGODB_URI is required/)
})

t.test('the server starts from the environment alone and drains on SIGTERM', async (t) => {
  const env = { ...testEnvStrings(), PORT: '0', LOG_LEVEL: 'info' }
  dropDatabaseAfter(t, env.MONGODB_DB)
  const server = spawnTs('src/server.ts', env)
  await waitFor(async () => server.stdout().includes('Server listening'), 20_000, 'the server to listen')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
  t.match(server.stdout(), /job runner stopped/)
})

function testEnvStrings (): { MONGODB_URI: string, MONGODB_DB: string, GATEWAY_API_KEYS: string } {
  const config = testConfig()
  return { MONGODB_URI: config.MONGODB_URI, MONGODB_DB: config.MONGODB_DB, GATEWAY_API_KEYS: config.GATEWAY_API_KEYS }
}
