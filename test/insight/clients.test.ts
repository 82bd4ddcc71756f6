import t from 'tap'
import { createInsightClient, UpstreamAuthError } from '../../src/integrations/insight/insight-client.js'
import { createOomnitzaClient } from '../../src/integrations/insight/oomnitza-client.js'
import { exampleOrder, generateOrders } from '../../src/integrations/insight/sandbox/orders.js'
import { startSimulators } from '../helpers/insight-env.js'

const never = new AbortController().signal

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

async function setup (t: { teardown: (fn: () => unknown) => void }, insightOptions = {}) {
  const sims = await startSimulators(t, { insight: insightOptions })
  const { insight } = sims
  const client = createInsightClient({
    url: insight.url,
    tokenUrl: insight.tokenUrl,
    region: 'NA',
    clientId: insight.clientId,
    clientKey: insight.clientKey,
    clientSecret: insight.clientSecret,
    timeoutMs: 2000,
    retries: 3,
    retryBaseMs: 10
  })
  return { ...sims, client }
}

t.test('GetStatus: one order as an object, several as an array, an empty day, date filters', async (t) => {
  const { insight, client } = await setup(t)
  insight.state.orders = [exampleOrder({ created: '2026-04-06', shipped: '2026-04-08', secondShipped: '20260410' }), ...generateOrders({ serials: 5, to: '2026-04-08', days: 1 })]
  const one = await client.getStatus({ from: '2026-04-06', to: '2026-04-06' }, 'creation', never)
  t.equal(one.length, 1, 'single order object')
  t.equal(one[0]?.OrderLineItems[0]?.Delivery.length, 2)
  t.equal(one[0]?.OrderLineItems[0]?.Delivery[1]?.SerialNumbers.length, 1, 'SerialNumbers object → array')
  const several = await client.getStatus({ from: '2026-04-06', to: '2026-04-07' }, 'creation', never)
  t.ok(several.length > 1, 'several orders as an array')
  t.same(await client.getStatus({ from: '2026-05-01', to: '2026-05-01' }, 'creation', never), [], 'ZSD_API_REQ135 → zero orders')
  const shipped = await client.getStatus({ from: '2026-04-10', to: '2026-04-10' }, 'ship', never)
  t.equal(shipped.length, 1, 'the second delivery (YYYYMMDD) matches a ship-date window')
  t.match(insight.state.statusRequests.at(-1), { ClientID: insight.clientId, TrackingData: 'X', ShipDateFrom: '2026-04-10', ShipDateTo: '2026-04-10' })
  t.match(insight.state.statusRequests[0], { OrderCreationDateFrom: '2026-04-06', OrderCreationDateTo: '2026-04-06' })
  t.equal(insight.state.tokenRequests, 1, 'the token is cached across calls')
})

t.test('GetStatus errors: E message with 200, non-JSON, unstructured 403, 503 then success, slow answer', async (t) => {
  const { insight, client } = await setup(t)
  insight.state.orders = [exampleOrder()]
  const window = { from: '2026-04-06', to: '2026-04-06' }
  insight.state.scripted.push({ status: 200, body: { StatusOrderResponse: [{ ResponseMessage: [{ MessageType: 'E', MessageCode: 'ZSD_API_REQ017', MessageText: 'Request rejected' }] }] } })
  await t.rejects(client.getStatus(window, 'creation', never), /ZSD_API_REQ017: Request rejected/)
  insight.state.scripted.push({ status: 200, body: '<html>Service Unavailable</html>', contentType: 'text/html' })
  await t.rejects(client.getStatus(window, 'creation', never), /not JSON \(text\/html\)/)
  const wrongClient = createInsightClient({ url: insight.url, tokenUrl: insight.tokenUrl, region: 'NA', clientId: '999', clientKey: insight.clientKey, clientSecret: insight.clientSecret, timeoutMs: 2000, retries: 0, retryBaseMs: 10 })
  const prohibited = await rejection(wrongClient.getStatus(window, 'creation', never))
  t.ok(prohibited instanceof UpstreamAuthError, 'an unstructured 403 is an auth failure')
  t.match(prohibited.message, /ClientIDAccessProhibited.*Access to ClientID 999/)
  insight.state.scripted.push({ status: 503, body: 'busy', headers: { 'retry-after': '0' } }, { status: 502, body: 'bad gateway' })
  t.equal((await client.getStatus(window, 'creation', never)).length, 1, 'recovers after two retryable failures')
  insight.state.latencyMs = 3000
  await t.rejects(client.getStatus(window, 'creation', never), /no answer within 2000 ms.*gave up after 4 attempts/)
})

t.test('tokens: string expires_in, refresh before expiry, one refresh on a 401, bad credentials', async (t) => {
  const { insight, client } = await setup(t, { tokenTtlSeconds: 1 })
  insight.state.orders = [exampleOrder()]
  const window = { from: '2026-04-06', to: '2026-04-06' }
  await client.getStatus(window, 'creation', never)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await client.getStatus(window, 'creation', never)
  t.equal(insight.state.tokenRequests, 2, 'an expiring token is replaced before use')
  t.equal(insight.state.unauthorised, 0, 'without a 401 first')
  insight.state.tokenTtlSeconds = 3599
  await client.getStatus(window, 'creation', never)
  insight.expireTokens()
  t.equal((await client.getStatus(window, 'creation', never)).length, 1, 'a token revoked mid-run is refreshed once and the call repeated')
  t.equal(insight.state.unauthorised, 1)
  t.equal(insight.state.tokenRequests, 3)
  const bad = createInsightClient({ url: insight.url, tokenUrl: insight.tokenUrl, region: 'NA', clientId: insight.clientId, clientKey: 'k', clientSecret: 'wrong', timeoutMs: 2000, retries: 2, retryBaseMs: 10 })
  const refused = await rejection(bad.getStatus(window, 'creation', never))
  t.ok(refused instanceof UpstreamAuthError, 'bad credentials are not retried')
  t.match(refused.message, /refused the client credentials \(HTTP 401\)/)
  t.notMatch(refused.message, /wrong/, 'the secret is not in the message')
})

t.test('Oomnitza client: Authorization2, batched IN lookups with paging, 429 with Retry-After, revoked token', async (t) => {
  const { oomnitza } = await startSimulators(t)
  const client = createOomnitzaClient({ url: oomnitza.url, token: oomnitza.state.token, timeoutMs: 2000, retries: 4, retryBaseMs: 10 })
  for (let i = 0; i < 150; i++) oomnitza.seed({ serial_number: `S${i}`, model: 'M' })
  oomnitza.seed({ serial_number: "O'BRIEN 1&2", model: 'quoted' })
  const serials = [...Array.from({ length: 150 }, (_, i) => `S${i}`), "O'BRIEN 1&2", 'MISSING']
  const found = await client.findBySerials(serials, never)
  t.equal(found.length, 151, 'every stored serial found; special characters survive URL encoding and quoting')
  t.equal((await client.findBySerials(["O'BRIEN 1&2"], never))[0]?.model, 'quoted', 'one serial uses the eq filter')
  oomnitza.state.rateLimited = { remaining: 3, retryAfter: '0' }
  const created = await client.create({ serial_number: 'NEW-1', model: 'X' }, never) as { equipment_id: string }
  t.ok(created.equipment_id, 'created after three 429s')
  await client.update(created.equipment_id, { model: 'Y' }, never)
  t.equal(oomnitza.bySerial('NEW-1')[0]?.model, 'Y')
  // A create that lands but whose answer is lost (503): the retry finds the serial and does not POST again.
  let lost = 0
  oomnitza.state.intercept = (req) => {
    if (req.method !== 'POST' || lost > 0) return undefined
    lost++
    oomnitza.seed(JSON.parse(req.text) as Record<string, unknown>)
    return { status: 503, body: 'upstream timeout' }
  }
  await client.create({ serial_number: 'LOST-1', model: 'X' }, never)
  t.equal(oomnitza.bySerial('LOST-1').length, 1, 'no duplicate after retrying a create that had landed')
  oomnitza.state.intercept = undefined
  oomnitza.state.token = 'revoked'
  await t.rejects(client.findBySerials(['S1'], never), /Oomnitza refused the API token \(HTTP 401\)/)
})
