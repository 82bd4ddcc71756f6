import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { renderOpenapi } from '../../scripts/openapi.js'
import { buildApp } from '../../src/app.js'
import { OPENAPI_PATH } from '../../src/plugins/docs.js'
import { authHeaders, build, dropDatabaseAfter, mongoUri, testConfig, waitForStatus } from '../helpers/app.js'
import { specProblems } from '../helpers/openapi.js'
import { ROOT } from '../helpers/process.js'

t.test('openapi.yaml is the document generated from the routes', async (t) => {
  const committed = readFileSync(OPENAPI_PATH, 'utf8')
  t.equal(await renderOpenapi(mongoUri()), committed, 'openapi.yaml is current (run `npm run openapi` and commit it)')
})

t.test('openapi.yaml documents exactly the routes the gateway registers', async (t) => {
  const config = testConfig({ JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'false' })
  dropDatabaseAfter(t, config.MONGODB_DB)
  const app = await buildApp({ config })
  t.teardown(() => app.close())
  await app.ready()
  const toOpenApi = (r: string): string => r.replace(/:(\w+)/g, '{$1}')
  const registered = new Set(app.registeredRoutes.filter((r) => !r.hidden).map((r) => toOpenApi(r.route)))
  const hidden = new Set(app.registeredRoutes.filter((r) => r.hidden).map((r) => toOpenApi(r.route)))
  const spec = parse(readFileSync(`${ROOT}/openapi.yaml`, 'utf8')) as { paths: Record<string, Record<string, unknown>> }
  const documented = new Set<string>()
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${path}`)
  }
  t.same([...registered].filter((r) => !documented.has(r)).sort(), [], 'every registered route is documented')
  t.same([...documented].filter((r) => !registered.has(r) && !hidden.has(r)).sort(), [], 'every documented route is registered')
})

t.test('real responses of the core routes match their documented schemas', async (t) => {
  const app = await build(t, { env: { SCHEDULER_ENABLED: 'false', JOBS_PURGE_CRON: '0 4 * * *' } })
  const check = async (method: 'GET' | 'POST', path: string, url: string, headers: Record<string, string> = authHeaders(), expected?: number) => {
    const res = await app.inject({ method, url, headers })
    if (expected !== undefined) t.equal(res.statusCode, expected, `${method} ${url} → ${expected}`)
    t.same(specProblems(method, path, res), [], `${method} ${url} (${res.statusCode}) matches openapi.yaml`)
    return res
  }
  await check('GET', '/health', '/health', {}, 200)
  await check('GET', '/ready', '/ready', authHeaders('read'), 200)
  await check('GET', '/metrics', '/metrics', authHeaders('read'), 200)
  await check('GET', '/openapi.yaml', '/openapi.yaml', authHeaders('read'), 200)
  await check('GET', '/jobs', '/jobs', {}, 401)
  await check('POST', '/system/purge-jobs', '/system/purge-jobs', authHeaders('read'), 403)
  const accepted = await check('POST', '/system/purge-jobs', '/system/purge-jobs', { ...authHeaders(), 'idempotency-key': 'k1' }, 202)
  await check('POST', '/system/purge-jobs', '/system/purge-jobs', { ...authHeaders(), 'idempotency-key': 'k1' }, 200)
  const id = accepted.json().jobId as string
  await waitForStatus(app, id, ['succeeded'])
  await check('GET', '/jobs', '/jobs?limit=2', authHeaders('read'), 200)
  await check('GET', '/jobs', '/jobs?limit=999', authHeaders('read'), 400)
  await check('GET', '/jobs/{id}', `/jobs/${id}`, authHeaders('read'), 200)
  await check('GET', '/jobs/{id}', '/jobs/missing', authHeaders('read'), 404)
  await check('POST', '/jobs/{id}/cancel', `/jobs/${id}/cancel`, authHeaders(), 409)
  await check('POST', '/jobs/{id}/cancel', '/jobs/missing/cancel', authHeaders(), 404)
  await check('POST', '/jobs/{id}/retry', `/jobs/${id}/retry`, authHeaders(), 409)
  await check('POST', '/jobs/{id}/retry', '/jobs/missing/retry', authHeaders(), 404)
  const queued = await app.jobs.enqueue('fixture.sleep', { ms: 60_000 }, { runAfter: new Date(Date.now() + 3_600_000) })
  await check('POST', '/jobs/{id}/cancel', `/jobs/${queued.job._id}/cancel`, authHeaders(), 200)
  await check('POST', '/jobs/{id}/retry', `/jobs/${queued.job._id}/retry`, authHeaders(), 202)
  await check('GET', '/schedules', '/schedules', authHeaders('read'), 200)
  // Paths the router refuses before any route runs (schemathesis found them undocumented, as bare 414s).
  const longId = 'x'.repeat(101)
  const tooLong = await check('GET', '/jobs/{id}', `/jobs/${longId}`, authHeaders('read'), 400)
  t.match(tooLong.json(), { error: 'Bad Request', details: [{ field: 'params' }] })
  await check('POST', '/jobs/{id}/cancel', `/jobs/${longId}/cancel`, authHeaders(), 400)
  await check('POST', '/jobs/{id}/retry', `/jobs/${longId}/retry`, authHeaders(), 400)
  await check('GET', '/dashboard/{file}', `/dashboard/${longId}`, {}, 400)
  const badEscape = await check('GET', '/jobs/{id}', '/jobs/%zz', authHeaders('read'), 400)
  t.match(badEscape.json().message, /percent-escape/)
})
