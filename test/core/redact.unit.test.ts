import t from 'tap'
import { createRedactor } from '../../src/lib/redact.js'

const redact = createRedactor(['password', 'x-api-key', 'ODOO_PASSWORD'], '[redacted]')

t.test('secret fields are censored at the top and two levels down; the caller\'s object is left as it was', async (t) => {
  const line = { password: 'p1', req: { headers: { 'x-api-key': 'k1', host: 'gw' } }, list: [{ password: 'p2' }], config: { ODOO_PASSWORD: 'p3', PORT: 3000 } }
  const before = JSON.stringify(line)
  t.same(redact(line), {
    password: '[redacted]',
    req: { headers: { 'x-api-key': '[redacted]', host: 'gw' } },
    list: [{ password: '[redacted]' }],
    config: { ODOO_PASSWORD: '[redacted]', PORT: 3000 }
  })
  t.equal(JSON.stringify(line), before, 'not modified')
  t.equal(redact({ a: { b: { c: { password: 'deep' } } } }).a.b.c.password, 'deep', 'deeper than the paths reached: as pino\'s paths did')
})

t.test('objects without secrets, primitives and non-plain objects come back as they are', async (t) => {
  const line = { reqId: 'abc', user: { name: 'x' } }
  t.equal(redact(line), line, 'the same object: nothing copied')
  t.equal(redact('password'), 'password')
  const date = new Date(0)
  t.equal(redact({ at: date }).at, date)
  const buffer = Buffer.from('password')
  t.equal(redact({ body: buffer }).body, buffer)
})

t.test('an Error keeps its type, message and stack when a field of it is censored', async (t) => {
  const err = Object.assign(new Error('upstream failed'), { config: { password: 'p' } })
  const out = redact({ err }).err as Error & { config: { password: string } }
  t.ok(out instanceof Error)
  t.equal(out.message, 'upstream failed')
  t.equal(out.stack, err.stack)
  t.equal(out.config.password, '[redacted]')
  t.equal(err.config.password, 'p', 'the original error is untouched')
})
