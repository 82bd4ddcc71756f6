import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defaultWindow, parseInsightDate, splitWindows } from '../../src/integrations/insight/dates.js'
import { parseStatusResponse } from '../../src/integrations/insight/insight-client.js'
import { exampleOrder, pad } from '../../src/integrations/insight/sandbox/orders.js'
import { DEFAULT_MAPPING, extractSerials, loadMapping, toAsset } from '../../src/integrations/insight/transform.js'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { insightRoutes } from '../../src/integrations/insight/routes.js'
import type { IntegrationJobs, JobParams } from '../../src/integration.js'
import errorsPlugin from '../../src/plugins/errors.js'

/** A GetStatus body as Insight sends it: `Order` an object for one order, an array for several. */
const body = (orders: unknown[]) => JSON.stringify({ StatusOrderResponse: [{ Order: orders.length === 1 ? orders[0] : orders }] })

t.test('the worked example: 3 serials across two deliveries, cables skipped, tracking joined', async (t) => {
  const orders = parseStatusResponse(body([exampleOrder()]), 'application/json')
  t.equal(orders.length, 1, 'a single Order object is one order')
  const { records, skipped, serialsSeen } = extractSerials(orders)
  t.same(records.map((r) => r.serial).sort(), ['PF4ABC12', 'PF4ABC13', 'PF4ABC14'], 'quantity 3 with 3 serials → 3 records, padding trimmed')
  t.equal(serialsSeen, 3)
  t.equal(skipped.noSerials, 1, 'the non-serialised cable delivery is skipped and counted')
  const bySerial = new Map(records.map((r) => [r.serial, r]))
  t.equal(bySerial.get('PF4ABC12')?.trackingNumber, '1Z999AA10123456784', 'tracking by serial')
  t.equal(bySerial.get('PF4ABC13')?.trackingNumber, '1Z999AA10123456784', 'no tracking row for this serial: falls back to delivery number + item')
  t.equal(bySerial.get('PF4ABC14')?.trackingNumber, '1Z999AA10123456795', 'second delivery: tracking by delivery number + item')
  t.equal(bySerial.get('PF4ABC14')?.shipDate, '2026-04-10', 'YYYYMMDD ship date parsed')
  t.equal(bySerial.get('PF4ABC14')?.billingNumber, '', 'not billed yet')
  t.equal(bySerial.get('PF4ABC12')?.billingNumber, '0915550001')
  const asset = toAsset(bySerial.get('PF4ABC12')!, DEFAULT_MAPPING)
  t.match(asset, {
    serial_number: 'PF4ABC12',
    manufacturer: 'LENOVO',
    model: 'THINKPAD T14 G5 I7 32GB 1TB W11P',
    po_number: 'PO-88231',
    vendor: 'Insight',
    purchase_date: '2026-04-06T00:00:00Z',
    insight_order_number: '0419876543',
    insight_order_item: '000010',
    insight_sku: '20XW00ABUS',
    insight_delivery_number: '0805550001',
    insight_billing_number: '0915550001',
    tracking_number: '1Z999AA10123456784',
    shipping_carrier: 'UPS'
  })
  t.notOk('insight_billing_number' in toAsset(bySerial.get('PF4ABC14')!, DEFAULT_MAPPING), 'empty values are left out')
})

t.test('every level may be an object or an array', async (t) => {
  const collapsed = {
    OrderHeader: { CustomerOrderNumber: 'PO-1', InsightOrderNumber: '0400000001', OrderCreationDate: '20260401' },
    OrderLineItems: {
      InsightOrderItem: '000010',
      Manufacturer: 'APPLE',
      MaterialDescription: 'MACBOOK',
      Delivery: { DeliveryNumber: 'D1', DeliveryItem: '000010', ActualGoodsIssueDate: '2026-04-02', SerialNumbers: { SerialNumber: 123456789 }, BillingInformation: { BillingNumber: 'B1' } }
    },
    Tracking: { DeliveryNumber: 'D1', DeliveryItem: '000010', TrackingNumber: 'T1', ExpDelivCompany: 'FDE' }
  }
  const arrays = structuredClone(exampleOrder())
  const orders = parseStatusResponse(JSON.stringify({ StatusOrderResponse: { Order: [collapsed, arrays] } }), 'application/json')
  t.equal(orders.length, 2, 'Order array, StatusOrderResponse object')
  const { records } = extractSerials(orders)
  const numeric = records.find((r) => r.serial === '123456789')
  t.ok(numeric, 'a numeric serial is stringified')
  t.match(numeric, { billingNumber: 'B1', trackingNumber: 'T1', carrier: 'FDE', orderCreationDate: '2026-04-01', customerOrderNumber: 'PO-1' })
  t.equal(records.length, 4)
})

t.test('empty day, E message, unstructured and non-JSON bodies', async (t) => {
  const empty = JSON.stringify({ StatusOrderResponse: [{ ResponseMessage: [{ MessageType: 'W', MessageCode: 'ZSD_API_REQ135', MessageText: 'No orders were found for the specified search criteria' }] }] })
  t.same(parseStatusResponse(empty, 'application/json'), [], 'ZSD_API_REQ135 is success with zero orders')
  const single = JSON.stringify({ StatusOrderResponse: { ResponseMessage: { MessageType: 'W', MessageCode: 'ZSD_API_REQ135', MessageText: 'none' } } })
  t.same(parseStatusResponse(single, 'application/json'), [], 'also when every level is an object')
  const error = JSON.stringify({ StatusOrderResponse: [{ ResponseMessage: [{ MessageType: 'E', MessageCode: 'ZSD_API_REQ017', MessageText: 'Invoice type is required' }] }] })
  t.throws(() => parseStatusResponse(error, 'application/json'), /ZSD_API_REQ017: Invoice type is required/, 'an E message is an error even with HTTP 200')
  t.throws(() => parseStatusResponse('{"ClientIDAccessProhibited":"Access to ClientID 1234567 is not allowed"}', 'application/json'), /ClientIDAccessProhibited: Access to ClientID 1234567/)
  t.throws(() => parseStatusResponse('<html><body>Bad Gateway</body></html>', 'text/html'), /not JSON \(text\/html\)/)
})

t.test('lines without deliveries, deliveries without serials, blank serials and duplicates are counted, never assets', async (t) => {
  const order = {
    OrderHeader: { InsightOrderNumber: '1', OrderCreationDate: '2026-04-01' },
    OrderLineItems: [
      { InsightOrderItem: '000010', Quantity: '5.000', ItemStatus: 'In Process' },
      { InsightOrderItem: '000020', Quantity: '704.000', Delivery: [{ DeliveryNumber: 'D1', DeliveryItem: '000020', ActualGoodsIssueDate: '2026-04-02' }] },
      { InsightOrderItem: '000030', Quantity: '2.000', Delivery: [{ DeliveryNumber: 'D2', DeliveryItem: '000030', ActualGoodsIssueDate: '2026-04-02', SerialNumbers: [{ SerialNumber: pad('') }, { SerialNumber: pad('X1') }] }] },
      // A kit child shipping the same serial later: one record, the later ship date wins.
      { InsightOrderItem: '000040', InsightHigherLevelItem: 30, Delivery: [{ DeliveryNumber: 'D3', DeliveryItem: '000040', ActualGoodsIssueDate: '20260405', SerialNumbers: { SerialNumber: 'X1' } }] }
    ]
  }
  const { records, skipped } = extractSerials(parseStatusResponse(body([order]), null))
  t.same(records.map((r) => [r.serial, r.deliveryNumber, r.shipDate]), [['X1', 'D3', '2026-04-05']])
  t.same(skipped, { notShipped: 1, noSerials: 1, emptySerial: 1, duplicate: 1 })
})

t.test('dates: both formats, windows without overlap, default window per run', async (t) => {
  t.equal(parseInsightDate('20260410'), '2026-04-10')
  t.equal(parseInsightDate('2026-04-10'), '2026-04-10')
  t.equal(parseInsightDate('2026-02-30'), null)
  t.same(splitWindows('2026-04-01', '2026-04-01', 30), [{ from: '2026-04-01', to: '2026-04-01' }], 'from == to is one window')
  const windows = splitWindows('2026-01-01', '2026-03-15', 30)
  t.same(windows, [{ from: '2026-01-01', to: '2026-01-30' }, { from: '2026-01-31', to: '2026-03-01' }, { from: '2026-03-02', to: '2026-03-15' }])
  t.same(defaultWindow(new Date('2026-03-01T06:00:00Z'), 0), { from: '2026-02-28', to: '2026-02-28' }, 'the previous UTC day')
  t.same(defaultWindow(new Date('2026-03-01T00:30:00Z'), 3), { from: '2026-02-25', to: '2026-02-28' }, 'widened by the look-back')
})

t.test('the mapping file overrides the default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'insight-mapping-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'mapping.json')
  writeFileSync(file, JSON.stringify({ tracking_number: null, custom_tracking: 'trackingNumber', purchase_date: 'shipDate', vendor: { value: 'Insight Enterprises' } }))
  const mapping = loadMapping(file)
  const record = extractSerials(parseStatusResponse(body([exampleOrder()]), null)).records.find((r) => r.serial === 'PF4ABC14')!
  const asset = toAsset(record, mapping)
  t.equal(asset.custom_tracking, '1Z999AA10123456795')
  t.notOk('tracking_number' in asset, 'null removes a default field')
  t.equal(asset.purchase_date, '2026-04-10T00:00:00Z')
  t.equal(asset.vendor, 'Insight Enterprises')
  writeFileSync(file, JSON.stringify({ serial_number: 'sku', model: 'price' }))
  t.throws(() => loadMapping(file), /"model": source "price" must be one of .*"serial_number" must map to "serial"/s)
  writeFileSync(file, '{not json')
  t.throws(() => loadMapping(file), /INSIGHT_MAPPING_FILE .*mapping\.json/)
})

t.test('trigger body validation names the field', async (t) => {
  // The route alone, with the core's validation and error handling: the job it would queue is recorded.
  const queued: JobParams[] = []
  const trigger = async (_request: FastifyRequest, reply: FastifyReply, _kind: string, params: JobParams) => {
    queued.push(params)
    reply.code(202)
    return { body: { jobId: 'j', status: 'queued', statusUrl: '/jobs/j' } }
  }
  const jobs = { trigger } as unknown as IntegrationJobs
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(errorsPlugin)
  await app.register(insightRoutes(jobs, 180))
  const post = (payload?: unknown) => app.inject({ method: 'POST', url: '/insight/sync', ...(payload === undefined ? {} : { payload: payload as object }) })
  t.equal((await post()).statusCode, 202)
  t.equal((await post({ from: '2026-01-01', to: '2026-01-31', dateField: 'ship', dryRun: true })).statusCode, 202)
  t.same(queued, [{}, { from: '2026-01-01', to: '2026-01-31', dateField: 'ship', dryRun: true }])
  const field = async (input: unknown) => {
    const res = await post(input)
    return res.statusCode === 400 ? (res.json().details as Array<{ field: string }>).map((d) => d.field) : null
  }
  t.same(await field({ from: '2026-13-01', to: '2026-12-31' }), ['from'])
  t.same(await field({ from: '2026-02-01', to: '2026-01-31' }), ['from'])
  t.same(await field({ from: '2026-01-01', to: '2026-12-31' }), ['to'], 'span above INSIGHT_MAX_RANGE_DAYS')
  t.same(await field({ from: '2026-01-01' }), ['to'])
  t.same(await field({ dateField: 'invoice' }), ['dateField'])
  t.same(await field({ dryRun: 'yes' }), ['dryRun'])
  t.same(await field({ form: '2026-01-01' }), ['form'])
  t.same(await field([1]), ['body'])
})
