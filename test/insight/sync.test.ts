import t from 'tap'
import { addDays } from '../../src/integrations/insight/dates.js'
import { exampleOrder, generateOrders } from '../../src/integrations/insight/sandbox/orders.js'
import { authHeaders, waitForStatus } from '../helpers/app.js'
import { buildInsightApp, runSync, startSimulators } from '../helpers/insight-env.js'
import { specProblems } from '../helpers/openapi.js'

const window = { from: '2026-04-01', to: '2026-04-10', dateField: 'creation' }

t.test('POST /insight/sync validates its body and answers 202 with a job', async (t) => {
  const sims = await startSimulators(t)
  const app = await buildInsightApp(t, sims, { JOBS_RUNNER_ENABLED: 'false' })
  const post = async (payload: unknown, headers = authHeaders()) => {
    const res = await app.inject({ method: 'POST', url: '/insight/sync', headers, ...(payload === undefined ? {} : { payload: payload as object }) })
    t.same(specProblems('POST', '/insight/sync', res), [], `${res.statusCode} matches openapi.yaml`)
    return res
  }
  const cases: Array<[unknown, string]> = [
    [{ from: '2026-04-31', to: '2026-05-01' }, 'from'],
    [{ from: '2026-04-10', to: '2026-04-01' }, 'from'],
    [{ from: '2026-01-01', to: '2026-12-31' }, 'to'],
    [{ to: '2026-04-01' }, 'from'],
    [{ dateField: 'invoice' }, 'dateField'],
    [{ dryRun: 'maybe' }, 'dryRun'],
    [{ unknown: 1 }, 'unknown']
  ]
  for (const [payload, field] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, 400, `${JSON.stringify(payload)} → 400`)
    t.same(res.json().details.map((d: { field: string }) => d.field), [field], `names ${field}`)
    t.match(res.json().message, field)
  }
  t.equal((await post({ from: '2026-04-01' }, { 'x-api-key': 'nope' })).statusCode, 401)
  t.equal((await post(undefined, authHeaders('read'))).statusCode, 403)
  const accepted = await post({ ...window, dryRun: true })
  t.equal(accepted.statusCode, 202)
  const job = await app.jobs.get(accepted.json().jobId)
  t.same(job?.params, { ...window, dryRun: true }, 'the validated body becomes the job params')
  t.equal((await post(undefined)).statusCode, 202, 'no body: the default window')
  t.equal((await post({ dryRun: true }, { ...authHeaders(), 'idempotency-key': 'a' })).statusCode, 202)
  t.equal((await post({ dryRun: true }, { ...authHeaders(), 'idempotency-key': 'a' })).statusCode, 200)
})

t.test('the schedule is registered at 06:00 UTC', async (t) => {
  const sims = await startSimulators(t)
  const app = await buildInsightApp(t, sims, { JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'true' })
  const res = await app.inject({ method: 'GET', url: '/schedules', headers: authHeaders('read') })
  const schedule = res.json().data.find((s: { id: string }) => s.id === 'insight.sync')
  t.match(schedule, { kind: 'insight.sync', type: 'cron', cron: '0 6 * * *', timezone: 'UTC', enabled: true })
  const next = new Date(schedule.nextRunAt)
  t.equal(next.toISOString().slice(11, 19), '06:00:00', `next run ${schedule.nextRunAt} is at 06:00 UTC`)
  t.ok(next.getTime() > Date.now() && next.getTime() <= Date.now() + 86_400_000, 'within the next day')
})

t.test('a sync creates one asset per serial; a re-run creates nothing and updates only what changed', async (t) => {
  const sims = await startSimulators(t)
  const { insight, oomnitza } = sims
  insight.state.orders = [exampleOrder(), ...generateOrders({ serials: 40, to: '2026-04-09', days: 5 })]
  const app = await buildInsightApp(t, sims, { OOMNITZA_LOOKUP_BATCH: '7' })
  const first = await runSync(app, window)
  t.equal(first.status, 'succeeded', first.error?.message ?? '')
  const result = first.result as Record<string, any>
  t.match(result, { windowsQueried: 1, serials: 43, assets: { created: 43, updated: 0, unchanged: 0, failed: 0 } })
  t.ok(result.skipped.noSerials > 0, 'cable deliveries counted as skipped')
  t.equal(oomnitza.assets.size, 43)
  t.equal(oomnitza.state.calls.create, 43)
  t.equal(oomnitza.state.calls.find, Math.ceil(43 / 7), 'lookups batched by OOMNITZA_LOOKUP_BATCH')
  t.match(oomnitza.bySerial('PF4ABC14')[0], { serial_number: 'PF4ABC14', insight_delivery_number: '0805550002', tracking_number: '1Z999AA10123456795', vendor: 'Insight' })
  t.equal(oomnitza.bySerial('PF4ABC12 ').length, 0, 'no padded serial stored')

  const second = await runSync(app, window)
  t.match(second.result, { serials: 43, assets: { created: 0, updated: 0, unchanged: 43 } }, 'idempotent re-run')
  t.equal(oomnitza.state.writes.length, 43, 'no write on the re-run')

  const tracking = (insight.state.orders[0] as { Tracking: Array<Record<string, unknown>> }).Tracking
  ;(tracking[1] as Record<string, unknown>).TrackingNumber = '1ZNEW'
  const third = await runSync(app, window)
  t.match(third.result, { assets: { created: 0, updated: 1, unchanged: 42 } })
  t.same(oomnitza.state.writes.at(-1), { method: 'PATCH', path: `/api/v3/assets/${oomnitza.bySerial('PF4ABC14')[0]?.equipment_id}`, body: { tracking_number: '1ZNEW' } }, 'only the changed field is patched')
})

t.test('a dry run reads both sides and writes nothing upstream', async (t) => {
  const sims = await startSimulators(t)
  const { insight, oomnitza } = sims
  insight.state.orders = [exampleOrder(), ...generateOrders({ serials: 30, to: '2026-04-09', days: 3 })]
  oomnitza.seed({ serial_number: 'PF4ABC12', model: 'OLD MODEL', manufacturer: 'LENOVO' })
  oomnitza.seed({ serial_number: 'PF4ABC13', model: 'twin 1' })
  oomnitza.seed({ serial_number: 'PF4ABC13', model: 'twin 2' })
  const app = await buildInsightApp(t, sims, { INSIGHT_DRY_RUN_SAMPLE: '5' })
  const job = await runSync(app, { ...window, dryRun: true })
  t.equal(job.status, 'succeeded')
  const result = job.result as Record<string, any>
  t.match(result, { dryRun: true, serials: 33, assets: { created: 31, updated: 1, skipped: result.skipped.noSerials + 1, failed: 0 }, skipped: { conflict: 1 }, conflicts: ['PF4ABC13'] })
  t.equal(result.wouldCreate.length, 5, 'first INSIGHT_DRY_RUN_SAMPLE payloads in full')
  t.ok(result.wouldCreate.every((a: Record<string, string>) => a.serial_number !== '' && a.vendor === 'Insight'))
  t.match(result.wouldUpdate, [{ serial_number: 'PF4ABC12', changes: { model: 'THINKPAD T14 G5 I7 32GB 1TB W11P' } }])
  t.same(oomnitza.state.writes, [], 'the simulator saw no POST or PATCH')
  t.equal(oomnitza.state.calls.create + oomnitza.state.calls.update, 0)
  t.ok(oomnitza.state.calls.find > 0, 'lookups are allowed')
  t.equal(oomnitza.assets.size, 3)
})

t.test('a 429 storm is ridden out; one failing asset is reported while the others land', async (t) => {
  const sims = await startSimulators(t)
  const { insight, oomnitza } = sims
  insight.state.orders = generateOrders({ serials: 30, to: '2026-04-09', days: 2 })
  // 20 answers of 429 shared by every call in flight: lookups and writes both have to back off and retry.
  oomnitza.state.rateLimited = { remaining: 20, retryAfter: '0' }
  oomnitza.state.failSerials.add('SIM00000007')
  const app = await buildInsightApp(t, sims, { INSIGHT_RETRIES: '10', OOMNITZA_CONCURRENCY: '4', OOMNITZA_LOOKUP_BATCH: '5' })
  const job = await runSync(app, window)
  t.equal(job.status, 'succeeded', job.error?.message ?? '')
  t.match(job.result, { serials: 30, assets: { created: 29, failed: 1 }, failed: [{ serial: 'SIM00000007', error: /HTTP 400.*value not allowed/ }] })
  t.equal(oomnitza.assets.size, 29)
  t.equal(oomnitza.state.rateLimited.remaining, 0, 'the storm happened')
  t.equal(oomnitza.state.calls.rejected, 20)
})

t.test('token expiry mid-run, an E message in one window, several windows without overlap', async (t) => {
  const sims = await startSimulators(t)
  const { insight, oomnitza } = sims
  insight.state.orders = generateOrders({ serials: 60, to: '2026-04-30', days: 29 })
  insight.state.intercept = (request, index) => {
    if (index === 1) insight.expireTokens()
    if (request.OrderCreationDateFrom === '2026-04-21') {
      return { status: 200, body: { StatusOrderResponse: [{ ResponseMessage: [{ MessageType: 'E', MessageCode: 'ZSD_API_REQ099', MessageText: 'Temporary backend error' }] }] } }
    }
    return undefined
  }
  const app = await buildInsightApp(t, sims, { INSIGHT_WINDOW_DAYS: '10' })
  const job = await runSync(app, { from: '2026-04-01', to: '2026-04-30', dateField: 'creation' })
  t.equal(job.status, 'failed', 'a failed window fails the job')
  t.match(job.error, { code: 'INSIGHT_WINDOW_FAILED', retryable: false, message: /1 of 3 Insight windows failed: .*ZSD_API_REQ099/ })
  t.same(insight.state.statusRequests.map((r) => [r.OrderCreationDateFrom, r.OrderCreationDateTo]), [
    ['2026-04-01', '2026-04-10'], ['2026-04-11', '2026-04-20'], ['2026-04-21', '2026-04-30']
  ], 'windows of INSIGHT_WINDOW_DAYS, no day twice')
  t.equal(insight.state.unauthorised, 1, 'the expired token was refused once, then replaced')
  const result = job.result as Record<string, any>
  t.match(result.windows[2], { from: '2026-04-21', error: /ZSD_API_REQ099/ })
  t.ok(result.assets.created > 0, 'the other windows still landed')
  t.equal(oomnitza.assets.size, result.assets.created)
})

t.test('Oomnitza 401 fails the job at once; the default window is computed per run', async (t) => {
  const sims = await startSimulators(t)
  const { insight, oomnitza } = sims
  const yesterday = addDays(new Date().toISOString().slice(0, 10), -1)
  insight.state.orders = [exampleOrder({ created: addDays(yesterday, -2), shipped: yesterday, secondShipped: yesterday.replaceAll('-', '') })]
  const app = await buildInsightApp(t, sims, { OOMNITZA_API_TOKEN: 'revoked-token' })
  const job = await runSync(app, {})
  t.equal(job.status, 'failed')
  t.match(job.error, { code: 'OOMNITZA_AUTH', retryable: false, message: /Oomnitza refused the API token \(HTTP 401\)/ })
  t.equal(job.attempts, 1, 'not retried')
  t.match(job.result, { from: yesterday, to: yesterday, dateField: 'ship', serials: 3 }, 'yesterday by ship date')
  t.notMatch(JSON.stringify(job), /revoked-token/, 'the token is not echoed')
  t.equal(oomnitza.state.writes.length, 0)
})

t.test('the run deadline stops a slow run', async (t) => {
  const sims = await startSimulators(t, { insight: { latencyMs: 5000 } })
  sims.insight.state.orders = [exampleOrder()]
  const app = await buildInsightApp(t, sims, { INSIGHT_RUN_TIMEOUT: '1s' })
  const { job } = await app.jobs.enqueue('insight.sync', window)
  const done = await waitForStatus(app, job._id, ['failed'], 30_000)
  t.match(done.error, { code: 'INSIGHT_RUN_TIMEOUT', retryable: false })
})
