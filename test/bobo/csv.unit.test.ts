import t from 'tap'
import { parseBoboCsv } from '../../src/integrations/bobo/csv.js'
import { formatAthocTime, zonedTime } from '../../src/integrations/bobo/time.js'

t.test('real BOBO export: headerless 10 columns, BOM, CRLF, blank lines, spaces, leading zeros', async (t) => {
  const csv = '\uFEFFBON,00452,PAY001,20240617,143000,20240617143000,1,40.7128,-74.0060,5.0\r\n\r\n  bof , 00452 ,PAY001,20240617,150000,20240617150000,,,,\r\nbon,12345,PAY002,20240617,150000,20240617150100,1,1,1,1,extra\r\n'
  const parsed = parseBoboCsv(csv, 'UTC')
  t.equal(parsed.format, 'bobo')
  t.equal(parsed.rows, 3)
  t.same(parsed.rejected, [])
  t.same(parsed.events.map((e) => [e.employeeId, e.onDuty, e.time.toISOString(), e.line]), [
    ['00452', true, '2024-06-17T14:30:00.000Z', 1],
    ['00452', false, '2024-06-17T15:00:00.000Z', 3],
    ['12345', true, '2024-06-17T15:01:00.000Z', 4]
  ])
})

t.test('bad rows are rejected on their own with line numbers', async (t) => {
  const csv = [
    'BON,1,P,20240101,000000,20240101000000,1,1,1,1',
    'BON,2,P,3',
    'XYZ,3,P,20240101,000000,20240101000000,1,1,1,1',
    'BON,4,P,20240101,000000,20240230000000,1,1,1,1',
    'BON,5,P,20240101,000000,2024-01-01,1,1,1,1',
    'BON,6,P,20240101,000000,20240101000000,1,north,1,1',
    'Transaction_Type,Employee_ID,Payroll_ID,Date,Time,Created,Geo,Lat,Lon,Acc',
    'BON,"7,P,20240101,000000,20240101000000,1,1,1,1',
    'BOF,8,P,20240101,000000,20240101000000,1,1,1,1'
  ].join('\n')
  const parsed = parseBoboCsv(csv, 'UTC')
  t.same(parsed.events.map((e) => e.employeeId), ['1', '8'])
  t.same(parsed.rejected.map((r) => r.line), [2, 3, 4, 5, 6, 7, 8])
  t.match(parsed.rejected[0]?.reason, /10 columns/)
  t.match(parsed.rejected[1]?.reason, /transaction type "XYZ"/)
  t.match(parsed.rejected[2]?.reason, /DateTime_Created "20240230000000"/)
  t.match(parsed.rejected[6]?.reason, /invalid CSV/)
})

t.test('documented header format: On Duty / Off Duty, YYYY-MM-DD HH:MM:SS in the configured zone', async (t) => {
  const csv = '\uFEFFEmployee_ID,Status,Timestamp\r\n00452,On Duty,2024-06-17 14:30:00\r\n00453, off duty ,2024-06-17 14:31:00\r\n00454,Busy,2024-06-17 14:30:00\r\n00455,On Duty,17/06/2024\r\n00456,On Duty\r\n'
  const parsed = parseBoboCsv(csv, 'Europe/London')
  t.equal(parsed.format, 'header')
  t.equal(parsed.rows, 5)
  t.same(parsed.events.map((e) => [e.employeeId, e.onDuty, e.time.toISOString(), e.line]), [
    ['00452', true, '2024-06-17T13:30:00.000Z', 2],
    ['00453', false, '2024-06-17T13:31:00.000Z', 3]
  ])
  t.same(parsed.rejected.map((r) => r.line), [4, 5, 6])
})

t.test('non-CSV content yields no events', async (t) => {
  t.equal(parseBoboCsv(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]), 'UTC').events.length, 0)
  const json = parseBoboCsv('{"hello": "world"}', 'UTC')
  t.equal(json.events.length, 0)
  t.equal(json.rejected.length, 1)
})

t.test('time zone conversions round-trip, DST included', async (t) => {
  const summer = zonedTime({ year: 2024, month: 6, day: 17, hour: 14, minute: 30, second: 0 }, 'Europe/London')
  t.equal(summer?.toISOString(), '2024-06-17T13:30:00.000Z')
  t.equal(formatAthocTime(summer as Date, 'Europe/London'), '17/06/2024 14:30:00')
  const winter = zonedTime({ year: 2024, month: 12, day: 1, hour: 9, minute: 5, second: 7 }, 'Europe/London')
  t.equal(formatAthocTime(winter as Date, 'UTC'), '01/12/2024 09:05:07')
  t.equal(zonedTime({ year: 2023, month: 2, day: 29, hour: 0, minute: 0, second: 0 }, 'UTC'), null)
})
