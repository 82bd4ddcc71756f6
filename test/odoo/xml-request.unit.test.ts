import { createRequire } from 'node:module'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { serializeMethodCall } from '../../src/integrations/odoo/xml-request.js'

const require = createRequire(import.meta.url)
const Serializer = require('xmlrpc/lib/serializer.js') as { serializeMethodCall: (method: string, params: unknown[]) => string }
const Deserializer = require('xmlrpc/lib/deserializer.js') as new () => { deserializeMethodCall: (s: NodeJS.ReadableStream, cb: (err: Error | null, method: string, params: unknown[]) => void) => void }

/** What the xmlrpc package's own server side reads from a call's XML. */
function read (xml: string): Promise<{ method: string, params: unknown[] }> {
  return new Promise((resolve, reject) => {
    const stream = new PassThrough()
    new Deserializer().deserializeMethodCall(stream, (err, method, params) => { if (err) reject(err); else resolve({ method, params }) })
    stream.end(xml)
  })
}

const calls: Array<[string, unknown[]]> = [
  ['execute_kw', ['odoo', 7, 'secret & <key>', 'hr.employee', 'search_read', [[['id', 'in', [1, 2, 3]]]],
    { fields: ['name', 'work_email'], order: 'id asc', context: { lang: 'en_US', allowed_company_ids: [1, 2], active_test: false } }]],
  ['authenticate', ['odoo', 'hr-export', 'p"a\'ss]]>word', {}]],
  ['version', []],
  ['x', ['', [], {}, -3, 0, 1.5, -0.25, true, false, null, 'José 李 ✓ 😀', 'line 1\r\nline 2\ttab', [[[]]], { a: { b: { c: [1, 'x'] } } }]]
]

t.test('the package reads these calls exactly as it reads its own', async (t) => {
  for (const [method, params] of calls) {
    const ours = serializeMethodCall(method, params)
    t.type(ours, 'string', method)
    t.same(await read(ours as string), await read(Serializer.serializeMethodCall(method, params)), method)
    t.same((await read(ours as string)).params, params, `${method}: the params themselves`)
  }
})

t.test('values it does not write are left to the package', async (t) => {
  for (const params of [[new Date(0)], [Buffer.from('x')], [[1, undefined]], [Number.NaN], [2 ** 60], ['bell \u0007'], [new Map()], [() => 1]]) {
    t.equal(serializeMethodCall('m', params), undefined, String(params[0]))
  }
})
