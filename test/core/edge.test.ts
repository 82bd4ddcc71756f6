import { createServer, connect, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { signWebhook } from '../../src/plugins/webhooks.js'
import { TEST_API_KEY, TEST_READ_KEY, authHeaders, build, dropDatabaseAfter, mongoUri, testConfig, waitFor, waitForStatus } from '../helpers/app.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { fixtureIntegration } from '../helpers/fixture-integration.js'
import { specProblems } from '../helpers/openapi.js'

const noRunner = { JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'false' }

/** A log destination tests can read back: every line pino writes, as text. */
function captureLogs (): { stream: Writable, text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { chunks.push(String(chunk)); done() } })
  return { stream, text: () => chunks.join('') }
}

/** Routes open without a key (they hold no data), with the status an anonymous request gets here. */
const OPEN_ROUTES: Record<string, number> = { '/health': 200, '/ready': 200, '/dashboard': 200, '/dashboard/:file': 404 }

t.test('every route needs a key; read keys cannot trigger; /health and the dashboard page are open', async (t) => {
  const app = await build(t, { env: noRunner })
  const routes = app.registeredRoutes.filter((r) => !r.hidden).map((r) => r.route)
  t.ok(routes.length >= 10, `checks ${routes.length} routes`)
  for (const route of routes) {
    const [method, pattern] = route.split(' ') as [string, string]
    const url = pattern.replace(/:\w+/g, 'some-id').replace('*', 'x')
    const anonymous = await app.inject({ method: method as 'GET', url })
    if (Object.hasOwn(OPEN_ROUTES, pattern)) {
      t.equal(anonymous.statusCode, OPEN_ROUTES[pattern], `${route} is open`)
      continue
    }
    t.equal(anonymous.statusCode, 401, `${route} without a key → 401`)
    t.equal(anonymous.json().statusCode, 401)
    const wrong = await app.inject({ method: method as 'GET', url, headers: { 'x-api-key': 'not-a-key' } })
    t.equal(wrong.statusCode, 401, `${route} with an unknown key → 401`)
    const read = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${TEST_READ_KEY}` } })
    if (method === 'GET') t.not(read.statusCode, 401, `${route} accepts a read key`)
    else t.equal(read.statusCode, 403, `${route} with a read key → 403`)
    const trigger = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${TEST_API_KEY}` } })
    t.notOk([401, 403].includes(trigger.statusCode), `${route} accepts a trigger key (${trigger.statusCode})`)
  }
})

t.test('METRICS_PUBLIC and DOCS_PUBLIC open their routes', async (t) => {
  const closed = await build(t, { env: noRunner })
  for (const url of ['/metrics', '/docs', '/openapi.yaml']) {
    t.equal((await closed.inject({ url })).statusCode, 401, `${url} closed by default`)
  }
  const open = await build(t, { env: { ...noRunner, METRICS_PUBLIC: 'true', DOCS_PUBLIC: 'true' } })
  t.equal((await open.inject({ url: '/ready' })).statusCode, 200)
  t.equal((await open.inject({ url: '/metrics' })).statusCode, 200)
  t.equal((await open.inject({ url: '/openapi.yaml' })).statusCode, 200)
  const docs = await open.inject({ url: '/docs' })
  t.ok([200, 302].includes(docs.statusCode), 'the docs page is served')
  t.equal((await open.inject({ method: 'POST', url: '/system/purge-jobs' })).statusCode, 401, 'trigger routes stay closed')
})

t.test('start-up is refused without a trigger key unless ALLOW_NO_AUTH=true', async (t) => {
  t.throws(() => testConfig({ GATEWAY_API_KEYS: '' }), /GATEWAY_API_KEYS is required/)
  const config = testConfig({ ...noRunner, GATEWAY_API_KEYS: '', ALLOW_NO_AUTH: 'true' })
  const app = await build(t, { config })
  t.equal((await app.inject({ method: 'POST', url: '/system/purge-jobs' })).statusCode, 202)
})

t.test('Standard Webhooks signatures: valid, rotated, invalid, expired, missing; webhook-id is the idempotency key', async (t) => {
  const oldSecret = 'whsec_' + Buffer.from('old-secret-0123456789').toString('base64')
  const newSecret = 'whsec_' + Buffer.from('new-secret-9876543210').toString('base64')
  const app = await build(t, { env: { ...noRunner, FIXTURE_WEBHOOK_SECRET: `${newSecret} ${oldSecret}` } })
  const body = JSON.stringify({ event: 'created', note: 'spacing  and ünïcode kept as sent' })
  const now = Math.floor(Date.now() / 1000)
  const send = (headers: Record<string, string>) => app.inject({
    method: 'POST', url: '/fixture/webhook', payload: body, headers: { ...authHeaders(), 'content-type': 'application/json', ...headers }
  })
  const signed = (secret: string, id: string, ts = now) => ({ 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) })

  const first = await send(signed(newSecret, 'msg_1'))
  t.equal(first.statusCode, 202, 'signed with the current secret')
  const repeat = await send(signed(newSecret, 'msg_1'))
  t.equal(repeat.statusCode, 200, 'the same webhook-id again → 200')
  t.equal(repeat.json().jobId, first.json().jobId, 'with the first job')
  t.equal((await send(signed(oldSecret, 'msg_2'))).statusCode, 202, 'signed with the rotated-out secret')
  const both = signed(newSecret, 'msg_3')
  both['webhook-signature'] = `v1,${Buffer.from('nonsense').toString('base64')} ${both['webhook-signature']}`
  t.equal((await send(both)).statusCode, 202, 'any matching entry of several passes')

  const tampered = signed(newSecret, 'msg_4')
  const res = await app.inject({ method: 'POST', url: '/fixture/webhook', payload: body.replace('created', 'deleted'), headers: { ...authHeaders(), 'content-type': 'application/json', ...tampered } })
  t.equal(res.statusCode, 401, 'a changed body fails')
  t.equal((await send(signed('whsec_' + Buffer.from('other').toString('base64'), 'msg_5'))).statusCode, 401, 'a wrong secret fails')
  t.equal((await send(signed(newSecret, 'msg_6', now - 400))).statusCode, 401, 'older than 5 minutes fails')
  t.equal((await send(signed(newSecret, 'msg_7', now + 400))).statusCode, 401, 'more than 5 minutes ahead fails')
  const unsigned = await send({})
  t.equal(unsigned.statusCode, 401, 'unsigned fails')
  t.match(unsigned.json(), { statusCode: 401, error: 'Unauthorized', message: String })
})

t.test('uniform errors: 400 details, 404, 405, 413, 415, 429', async (t) => {
  const app = await build(t, { env: { ...noRunner, BODY_LIMIT_BYTES: '2048', RATE_LIMIT_MAX: '1000' } })
  const invalid = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: authHeaders(), payload: { params: {} } })
  t.equal(invalid.statusCode, 400)
  t.match(invalid.json(), { statusCode: 400, error: 'Bad Request', message: 'invalid request: kind is required', details: [{ field: 'kind', message: 'is required' }] })
  const badJson = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: { ...authHeaders(), 'content-type': 'application/json' }, payload: '{"kind":' })
  t.equal(badJson.statusCode, 400)
  t.match(badJson.json(), { details: [{ field: 'body' }] })

  const missing = await app.inject({ url: '/nowhere', headers: authHeaders() })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { statusCode: 404, error: 'Not Found' })
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/jobs', headers: authHeaders() })
  t.equal(wrongMethod.statusCode, 405)
  t.match(wrongMethod.headers.allow, /GET/)
  t.match(wrongMethod.json(), { statusCode: 405, error: 'Method Not Allowed' })

  const big = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: authHeaders(), payload: { kind: 'fixture.noop', params: { blob: 'x'.repeat(4096) } } })
  t.equal(big.statusCode, 413)
  t.match(big.json(), { statusCode: 413, error: 'Payload Too Large', message: /larger than 2048 bytes/ })
  const text = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: { ...authHeaders(), 'content-type': 'application/xml' }, payload: '<kind/>' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), { statusCode: 415, error: 'Unsupported Media Type', message: 'Content-Type application/xml is not accepted; send application/json' })

  const limited = await build(t, { env: { ...noRunner, RATE_LIMIT_MAX: '3' } })
  const codes: number[] = []
  let last
  for (let i = 0; i < 5; i++) {
    last = await limited.inject({ url: '/schedules', headers: authHeaders('read') })
    codes.push(last.statusCode)
  }
  t.same(codes, [200, 200, 200, 429, 429])
  t.ok(Number(last?.headers['retry-after']) > 0, 'Retry-After says when')
  t.match(last?.json(), { statusCode: 429, error: 'Too Many Requests' })
  t.match(last?.json().message, /at most 3 requests per 1 minute per API key \(RATE_LIMIT_MAX, RATE_LIMIT_WINDOW\); retry in \d+ s/, 'names the real window')
  t.equal((await limited.inject({ url: '/schedules', headers: authHeaders('trigger') })).statusCode, 200, 'another key has its own budget')
})

t.test('security headers on every answer: a route\'s, an error, an unknown path', async (t) => {
  const app = await build(t)
  const answers = [
    await app.inject({ url: '/jobs', headers: authHeaders('read') }),
    await app.inject({ url: '/jobs' }),
    await app.inject({ url: '/no/such/path' })
  ]
  t.same(answers.map((res) => res.statusCode), [200, 401, 404])
  for (const res of answers) {
    t.match(res.headers, {
      'strict-transport-security': /max-age=\d+/,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer'
    }, `${res.statusCode}`)
    t.notOk('content-security-policy' in res.headers, 'no CSP on JSON answers (the pages set their own)')
  }
})

t.test('the request id reaches the job log; secrets never reach any log', async (t) => {
  const logs = captureLogs()
  const secret = 'whsec_' + Buffer.from('webhook-secret-value').toString('base64')
  const config = testConfig({ LOG_LEVEL: 'trace', FIXTURE_WEBHOOK_SECRET: secret })
  dropDatabaseAfter(t, config.MONGODB_DB)
  const app = await buildApp({ config, logStream: logs.stream, integrations: [systemIntegration, fixtureIntegration] })
  t.teardown(() => app.close())
  await app.ready()

  const res = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: { 'x-api-key': TEST_API_KEY, 'x-request-id': 'n8n-run-77' }, payload: { kind: 'fixture.sleep', params: { ms: 50 } } })
  t.equal(res.statusCode, 202)
  t.equal(res.headers['x-request-id'], 'n8n-run-77')
  await waitForStatus(app, res.json().jobId, ['succeeded'])
  const jobLines = logs.text().split('\n').filter((l) => l.includes(res.json().jobId)).map((l) => JSON.parse(l) as Record<string, unknown>)
  t.ok(jobLines.length > 0, 'the job logged')
  t.ok(jobLines.some((l) => l.requestId === 'n8n-run-77'), 'its lines carry the request id')

  await app.inject({ url: '/jobs', headers: { authorization: `Bearer ${TEST_READ_KEY}`, authorization2: 'oomnitza-token-secret', cookie: 'session=cookie-secret' } })
  const body = JSON.stringify({ event: 'x' })
  await app.inject({ method: 'POST', url: '/fixture/webhook', payload: body, headers: { ...authHeaders(), 'content-type': 'application/json', 'webhook-id': 'm', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signWebhook(secret, 'm', Math.floor(Date.now() / 1000), body) } })
  app.log.info({ config: app.config }, 'configuration dump a careless plugin might write')
  app.log.info({ upstream: { password: 'odoo-password-secret', client_secret: 'client-secret-value', access_token: 'token-value' } }, 'upstream call')
  const text = logs.text()
  for (const value of [TEST_API_KEY, TEST_READ_KEY, 'oomnitza-token-secret', 'cookie-secret', secret, 'odoo-password-secret', 'client-secret-value', 'token-value']) {
    t.notOk(text.includes(value), `${value.slice(0, 12)}… is not in the log`)
  }
  t.ok(text.includes('[redacted]'), 'redaction happened')
})

t.test('/ready answers 503 when MongoDB is unreachable, 200 otherwise; responses match openapi.yaml', async (t) => {
  // A real TCP hop in front of the real server: closing it is MongoDB going away for the gateway.
  const target = new URL(mongoUri())
  const sockets = new Set<Socket>()
  const proxy = createServer((client) => {
    const upstream = connect(Number(target.port || 27017), target.hostname)
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const drop = () => { client.destroy(); upstream.destroy() }
    client.on('error', drop); upstream.on('error', drop); client.on('close', drop); upstream.on('close', drop)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const port = (proxy.address() as { port: number }).port
  t.teardown(() => { proxy.close() })
  const app = await build(t, { env: { MONGODB_URI: `mongodb://127.0.0.1:${port}/?directConnection=true` } })
  const ok = await app.inject({ url: '/ready', headers: authHeaders('read') })
  t.equal(ok.statusCode, 200)
  t.same(specProblems('GET', '/ready', ok), [])

  proxy.close()
  for (const socket of sockets) socket.destroy()
  const asked = performance.now()
  const down = await app.inject({ url: '/ready' })
  t.equal(down.statusCode, 503, 'a probe without a key learns it at once')
  t.ok(performance.now() - asked < 5_000, `answered in ${Math.round(performance.now() - asked)} ms, not after the driver's 10 s`)
  t.match(down.json(), { status: 'not ready', checks: { mongodb: { ok: false } } })
  t.same(specProblems('GET', '/ready', down), [])
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'still alive')
  const triggered = performance.now()
  const refused = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: authHeaders(), payload: { kind: 'fixture.noop' } })
  t.equal(refused.statusCode, 503, 'a trigger route answers 503 while storage is away')
  t.ok(Number(refused.headers['retry-after']) > 0, 'with Retry-After')
  t.ok(performance.now() - triggered < 5_000, `within about a second (${Math.round(performance.now() - triggered)} ms)`)

  // The runner's next claim now waits for a server that is gone (10 s of server selection): shutting down
  // does not wait for it beyond the drain (2 s in tests).
  const closing = performance.now()
  await app.close()
  t.ok(performance.now() - closing < 8_000, `closed in ${Math.round(performance.now() - closing)} ms, not after the claim gave up`)
})

t.test('/metrics exposes job counts and durations after a job runs', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/fixture/trigger', headers: authHeaders(), payload: { kind: 'fixture.noop' } })
  await waitForStatus(app, res.json().jobId, ['succeeded'])
  // The runner records the duration just after the job's final write: wait for the scrape to show it.
  const metrics = await waitFor(async () => {
    const res = await app.inject({ url: '/metrics', headers: authHeaders('read') })
    return res.body.includes('gateway_job_duration_seconds_count{kind="fixture.noop"') ? res : null
  }, 10_000, 'the job duration metric')
  t.equal(metrics.statusCode, 200)
  t.match(metrics.headers['content-type'], /text\/plain/)
  t.match(metrics.body, /gateway_jobs\{kind="fixture.noop",status="succeeded"\} 1/)
  t.match(metrics.body, /gateway_job_duration_seconds_count\{kind="fixture.noop",outcome="succeeded"\} 1/)
  t.match(metrics.body, /gateway_http_request_duration_seconds_count\{method="POST",route="\/fixture\/trigger",status_code="202"\} 1/)
})

t.test('load shedding: not in the first seconds after start (they measure start-up), then 503 with Retry-After', async (t) => {
  // 1 MB of RSS: always "under pressure", so what decides is only the warm-up.
  const app = await build(t, { env: { ...noRunner, PRESSURE_MAX_RSS_MB: '1' } })
  const readyAt = performance.now()
  const early = await app.inject({ url: '/schedules', headers: authHeaders('read') })
  if (performance.now() - readyAt < 9_000) t.equal(early.statusCode, 200, 'served during the warm-up')
  await sleep(10_500 - (performance.now() - readyAt))
  const shed = await app.inject({ url: '/schedules', headers: authHeaders('read') })
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['retry-after'], '10')
  t.match(shed.json(), { statusCode: 503, message: /the gateway is overloaded \(rssBytes\); try again shortly/ })
})
