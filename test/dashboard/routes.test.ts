import { readFileSync } from 'node:fs'
import t from 'tap'
import { DASHBOARD_DIR } from '../../src/plugins/dashboard.js'
import { authHeaders, build } from '../helpers/app.js'
import { startDashboardGateway } from '../helpers/dashboard-gateway.js'
import { specProblems } from '../helpers/openapi.js'

const noRunner = { JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'false' }

t.test('the page and its files are served without a key, from the gateway only', async (t) => {
  const app = await build(t, { env: noRunner })
  const page = await app.inject({ url: '/dashboard' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.headers['content-security-policy'], /script-src 'self'/, 'no inline or foreign scripts')
  t.same(specProblems('GET', '/dashboard', page), [])
  for (const [file, type] of [['dashboard.js', /^text\/javascript/], ['dashboard.css', /^text\/css/], ['favicon.svg', /^image\/svg\+xml/]] as const) {
    const res = await app.inject({ url: `/dashboard/${file}` })
    t.equal(res.statusCode, 200, `${file} served`)
    t.match(res.headers['content-type'], type)
    t.same(specProblems('GET', '/dashboard/{file}', res), [])
  }
  for (const url of ['/dashboard/index.html', '/dashboard/..%2Fplugins%2Fdashboard.ts', '/dashboard/constructor']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, `${url} → 404`)
    t.same(specProblems('GET', '/dashboard/{file}', res), [])
  }
  // Everything the page loads or calls is relative to the gateway: no CDN, no other origin.
  for (const file of ['index.html', 'dashboard.js', 'dashboard.css']) {
    const text = readFileSync(`${DASHBOARD_DIR}${file}`, 'utf8')
    t.same(text.match(/(?:src|href)=["']?(?:https?:)?\/\/[^"'\s>]+/g) ?? [], [], `${file} loads nothing from another origin`)
    t.notMatch(text, /fetch\(\s*['"`]https?:/, `${file} calls no other origin`)
  }
})

t.test('GET /auth/whoami tells the key\'s role', async (t) => {
  const app = await build(t, { env: noRunner })
  const trigger = await app.inject({ url: '/auth/whoami', headers: authHeaders('trigger') })
  t.same(trigger.json(), { role: 'trigger' })
  t.same(specProblems('GET', '/auth/whoami', trigger), [])
  const read = await app.inject({ url: '/auth/whoami', headers: authHeaders('read') })
  t.same(read.json(), { role: 'read' })
  const anonymous = await app.inject({ url: '/auth/whoami' })
  t.equal(anonymous.statusCode, 401)
  t.same(specProblems('GET', '/auth/whoami', anonymous), [])
  const open = await build(t, { env: { ...noRunner, GATEWAY_API_KEYS: '', ALLOW_NO_AUTH: 'true' } })
  t.same((await open.inject({ url: '/auth/whoami' })).json(), { role: 'trigger' }, 'an open gateway lets anyone trigger')
})

t.test('every integration\'s "run now" route (from GET /integrations, the page\'s source) exists on the gateway', async (t) => {
  const gateway = await startDashboardGateway()
  t.teardown(() => gateway.close())
  const listed = await fetch(`${gateway.baseUrl}/integrations`, { headers: { 'x-api-key': gateway.readKey } })
  const routes = ((await listed.json()) as { data: Array<{ dashboard: { action?: { route: string } } }> }).data
    .flatMap((integration) => integration.dashboard.action === undefined ? [] : [integration.dashboard.action.route])
  t.ok(routes.length >= 6, `the integrations name ${routes.length} routes`)
  for (const route of routes) {
    // Without a key a registered route answers 401; an unknown one 404.
    const res = await fetch(`${gateway.baseUrl}/${route}`, { method: 'POST' })
    t.equal(res.status, 401, `POST /${route} is a registered route`)
  }
  t.notOk(readFileSync(`${DASHBOARD_DIR}dashboard.js`, 'utf8').match(/odoo|tracos|bobo|insight/i), 'the page names no integration')
})
