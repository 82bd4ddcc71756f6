import t from 'tap'
import { clientToTracos, parseIsoDate, sameFields, tracosToClient } from '../../src/integrations/tracos/translate.js'
import { isTransientTracosError } from '../../src/integrations/tracos/retry.js'
import { MongoServerError } from 'mongodb'

const base = { orderNo: 7, summary: 'Replace pump seal', creationDate: '2026-02-10T08:15:00.123456+00:00' }

t.test('date normalisation: offsets, Z, naive (UTC), fractions cut to ms', async (t) => {
  const cases: Array<[string, string]> = [
    ['2026-02-10T08:15:00Z', '2026-02-10T08:15:00.000Z'],
    ['2026-02-10T08:15:00.123456+00:00', '2026-02-10T08:15:00.123Z'],
    ['2026-02-10T08:15:00.9999-03:00', '2026-02-10T11:15:00.999Z'],
    ['2026-02-10T08:15:00+0530', '2026-02-10T02:45:00.000Z'],
    ['2026-02-10T08:15:00+05', '2026-02-10T03:15:00.000Z'],
    ['2025-09-30T23:04:29.045089', '2025-09-30T23:04:29.045Z'],
    ['2025-09-30 23:04:29', '2025-09-30T23:04:29.000Z'],
    ['2026-02-10T08:15', '2026-02-10T08:15:00.000Z'],
    ['2026-02-10', '2026-02-10T00:00:00.000Z'],
    ['2024-02-29T00:00:00z', '2024-02-29T00:00:00.000Z'],
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000Z']
  ]
  for (const [input, expected] of cases) t.equal(parseIsoDate(input)?.toISOString(), expected, input)
  for (const bad of ['2026-02-30T00:00:00Z', '2026-13-01', '2026-02-10T24:00:00Z', 'yesterday', '10/02/2026', '2026-02-10T08:15:00+25:00', '']) {
    t.equal(parseIsoDate(bad), null, `rejects ${JSON.stringify(bad)}`)
  }
})

t.test('every row of the status table, client → TracOS → client', async (t) => {
  const rows: Array<[Record<string, boolean>, string, string]> = [
    [{ isDeleted: true }, 'deleted', 'isDeleted'],
    [{ isDone: true }, 'completed', 'isDone'],
    [{ isCanceled: true }, 'cancelled', 'isCanceled'],
    [{ isOnHold: true }, 'on_hold', 'isOnHold'],
    [{ isPending: true }, 'pending', 'isPending'],
    [{}, 'in_progress', 'isActive']
  ]
  for (const [flags, status, outFlag] of rows) {
    const r = clientToTracos({ ...base, ...flags, deletedDate: '2026-03-01T00:00:00Z' })
    if (!r.ok) throw new Error('unexpected invalid')
    t.equal(r.fields.status, status, `${JSON.stringify(flags)} → ${status}`)
    t.equal(r.fields.deleted, status === 'deleted')
    t.equal(r.fields.deletedAt?.toISOString() ?? null, status === 'deleted' ? '2026-03-01T00:00:00.000Z' : null, 'deletedAt only when deleted')
    const back = tracosToClient(r.fields)
    const trueFlags = ['isDeleted', 'isDone', 'isCanceled', 'isOnHold', 'isPending', 'isActive'].filter((f) => (back as unknown as Record<string, boolean>)[f])
    t.same(trueFlags, [outFlag], `${status} → exactly ${outFlag}`)
  }
  // Priority order when several flags are true.
  const many = clientToTracos({ ...base, isDone: true, isDeleted: true, isPending: true })
  t.equal(many.ok && many.fields.status, 'deleted')
  const doneAndCanceled = clientToTracos({ ...base, isCanceled: true, isDone: true, isOnHold: true })
  t.equal(doneAndCanceled.ok && doneAndCanceled.fields.status, 'completed')
  const nullFlags = clientToTracos({ ...base, isDone: null, isPending: null })
  t.equal(nullFlags.ok && nullFlags.fields.status, 'in_progress', 'null flags count as false')
  t.equal(tracosToClient({ number: 1, title: 'x', status: 'cancelled', deleted: true, createdAt: new Date(0) }).isDeleted, true, 'deleted:true wins outbound')
  t.throws(() => tracosToClient({ number: 1, title: 'x', status: 'archived', createdAt: new Date(0) }), /unknown TracOS status "archived"/)
})

t.test('fields: description, updatedAt fallback, change detection', async (t) => {
  const r = clientToTracos(base)
  if (!r.ok) throw new Error('invalid')
  t.equal(r.fields.description, 'Replace pump seal description', 'the seed\'s default description')
  t.equal(r.fields.updatedAt.toISOString(), '2026-02-10T08:15:00.123Z', 'updatedAt falls back to creationDate')
  const withDescription = clientToTracos({ ...base, description: 'From the ERP' })
  t.equal(withDescription.ok && withDescription.fields.description, 'From the ERP')
  t.ok(sameFields({ ...r.fields }, r.fields))
  t.notOk(sameFields({ ...r.fields, title: 'other' }, r.fields))
  t.notOk(sameFields({ ...r.fields, updatedAt: new Date(r.fields.updatedAt.getTime() + 1) }, r.fields), 'a millisecond counts')
})

t.test('required fields and types: every problem named by field', async (t) => {
  const r = clientToTracos({ orderNo: '7', summary: 42, isDone: 'yes', lastUpdateDate: 12, deletedDate: 'soon' }, 3)
  t.equal(r.ok, false)
  const problems = r.ok ? [] : r.problems
  t.same(problems.map((p) => p.field).sort(), ['creationDate', 'deletedDate', 'isDone', 'lastUpdateDate', 'orderNo', 'summary'])
  t.ok(problems.every((p) => p.item === 3), 'array index reported')
  t.match(problems.find((p) => p.field === 'orderNo')?.message, /positive integer/)
  for (const [input, field] of [[{ ...base, orderNo: 0 }, 'orderNo'], [{ ...base, orderNo: 1.5 }, 'orderNo'], [{ ...base, orderNo: undefined }, 'orderNo'], [{ ...base, summary: ' ' }, 'summary'], [{ ...base, creationDate: null }, 'creationDate'], [{ ...base, description: 5 }, 'description']] as const) {
    const res = clientToTracos(input)
    t.same(res.ok ? [] : res.problems.map((p) => p.field), [field], `${field}: ${JSON.stringify(input[field as keyof typeof input])}`)
  }
  const notObject = clientToTracos([1, 2])
  t.match(notObject.ok ? '' : notObject.problems[0]?.message, /must be a JSON object, got an array/)
})

t.test('SQLITE_BUSY and not-primary are transient; duplicate keys are not', async (t) => {
  t.ok(isTransientTracosError(new MongoServerError({ code: 1, errmsg: 'database is locked (5) (SQLITE_BUSY)' })))
  t.ok(isTransientTracosError(new MongoServerError({ code: 10107, errmsg: 'not primary' })))
  t.notOk(isTransientTracosError(new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' })))
  t.notOk(isTransientTracosError(new Error('database is locked')), 'only server errors')
  // What the driver let through when the server went away mid-write (seen in the test below on a busy machine).
  const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' })
  t.ok(isTransientTracosError(epipe), 'a socket error from the connection is transient')
  t.notOk(isTransientTracosError(Object.assign(new Error('no such file'), { code: 'ENOENT' })), 'a file error is not')
})
