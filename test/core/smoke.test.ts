import t from 'tap'
import { authHeaders, build, waitForStatus } from '../helpers/app.js'

t.test('a triggered job runs and its status is served', async (t) => {
  const app = await build(t)
  const res = await app.inject({ headers: authHeaders(), method: 'POST', url: '/fixture/trigger', payload: { kind: 'fixture.noop' } })
  t.equal(res.statusCode, 202)
  const { jobId, statusUrl } = res.json()
  t.equal(statusUrl, `/jobs/${jobId}`)
  await waitForStatus(app, jobId, ['succeeded'])
  const status = await app.inject({ headers: authHeaders(), method: 'GET', url: statusUrl })
  t.equal(status.statusCode, 200)
  t.same(status.json().result, { ok: true })
  t.equal(status.headers['retry-after'], undefined)
})
