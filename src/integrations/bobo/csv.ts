import { parse } from 'csv-parse/sync'
import { zonedTime } from './time.js'

/** The headerless BOBO export's columns that matter, by position (the file has no header to name them). */
const EXPORT_COL = { code: 0, employeeId: 1, created: 5, firstGeo: 6 } as const
/** One valid duty event from a BOBO file. */
export interface DutyEvent {
  /** Kept as written (trimmed): leading zeros matter for the mapping. */
  employeeId: string
  onDuty: boolean
  time: Date
  /** 1-based line in the file. */
  line: number
}

export interface RejectedRow { line: number, reason: string }

export interface ParsedFile {
  format: 'bobo' | 'header' | 'empty'
  rows: number
  events: DutyEvent[]
  rejected: RejectedRow[]
}

const COMPACT_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/

function parseTime (value: string, pattern: RegExp, timeZone: string): Date | null {
  const m = pattern.exec(value)
  if (m === null) return null
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  return zonedTime({ year, month, day, hour, minute, second }, timeZone)
}

interface Row { record: string[], info: { lines: number }, error?: string }
const OPTIONS = { bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, skip_records_with_empty_values: true, trim: true, info: true } as const

/** The whole file in one go; if the CSV syntax breaks somewhere, line by line so one bad line stays one bad row. */
function parseRecords (text: string): Row[] {
  // BOBO exports never quote: without a quote character CSV is plain splitting, several times faster than the
  // general parser on large batches. Anything quoted goes through csv-parse.
  if (!text.includes('"')) return splitRecords(text)
  try {
    return parse(text, OPTIONS) as unknown as Row[]
  } catch {
    const rows: Row[] = []
    text.split(/\r?\n/).forEach((lineText, index) => {
      if (lineText.trim() === '') return
      try {
        const parsed = parse(lineText, OPTIONS) as unknown as Row[]
        for (const row of parsed) rows.push({ record: row.record, info: { lines: index + 1 } })
      } catch (err) {
        rows.push({ record: [], info: { lines: index + 1 }, error: (err as Error).message })
      }
    })
    return rows
  }
}

function splitRecords (text: string): Row[] {
  const rows: Row[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string
    if (i === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1)
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (line.trim() === '') continue
    const record = line.split(',').map((cell) => cell.trim())
    if (record.every((cell) => cell === '')) continue
    rows.push({ record, info: { lines: i + 1 } })
  }
  return rows
}

/**
 * Parses a BOBO file, detecting its format: a first cell `Employee_ID` means the documented
 * `Employee_ID,Status,Timestamp` form; anything else is the real headerless 10-column export. Each bad row is
 * rejected on its own with its line number; it never fails the file.
 */
export function parseBoboCsv (content: string | Buffer, timeZone: string): ParsedFile {
  const text = typeof content === 'string' ? content : content.toString('utf8')
  if (text.includes('\u0000')) return { format: 'empty', rows: 0, events: [], rejected: [{ line: 1, reason: 'not a text CSV file (contains NUL bytes)' }] }
  const records = parseRecords(text)
  if (records.length === 0) return { format: 'empty', rows: 0, events: [], rejected: [] }
  const header = (records[0]?.record[0] ?? '').replace(/^\uFEFF/, '').trim()
  const events: DutyEvent[] = []
  const rejected: RejectedRow[] = []
  if (header.toLowerCase() === 'employee_id') {
    for (const { record, info, error } of records.slice(1)) {
      const line = info.lines
      if (error !== undefined) { rejected.push({ line, reason: `invalid CSV: ${error}` }); continue }
      if (record.length !== 3) { rejected.push({ line, reason: `expected 3 columns (Employee_ID,Status,Timestamp), got ${record.length}` }); continue }
      const [employeeId, status, timestamp] = record as [string, string, string]
      if (employeeId === '') { rejected.push({ line, reason: 'empty Employee_ID' }); continue }
      const normalised = status.toLowerCase().replace(/\s+/g, ' ')
      if (normalised !== 'on duty' && normalised !== 'off duty') { rejected.push({ line, reason: `unknown Status "${status}" (expected "On Duty" or "Off Duty")` }); continue }
      const time = parseTime(timestamp, ISO_TIME, timeZone)
      if (time === null) { rejected.push({ line, reason: `unparseable Timestamp "${timestamp}" (expected YYYY-MM-DD HH:MM:SS)` }); continue }
      events.push({ employeeId, onDuty: normalised === 'on duty', time, line })
    }
    return { format: 'header', rows: records.length - 1, events, rejected }
  }
  for (const { record, info, error } of records) {
    const line = info.lines
    if (error !== undefined) { rejected.push({ line, reason: `invalid CSV: ${error}` }); continue }
    if (record.length < 10) { rejected.push({ line, reason: `expected 10 columns, got ${record.length}` }); continue }
    const code = (record[EXPORT_COL.code] as string).replace(/^\uFEFF/, '').toUpperCase()
    const employeeId = record[EXPORT_COL.employeeId] as string
    const created = record[EXPORT_COL.created] as string
    if (code !== 'BON' && code !== 'BOF') { rejected.push({ line, reason: `unknown transaction type "${code}" (expected BON or BOF)` }); continue }
    if (employeeId === '') { rejected.push({ line, reason: 'empty employee id' }); continue }
    const geo = record.slice(EXPORT_COL.firstGeo, EXPORT_COL.firstGeo + 4)
    const badGeo = geo.findIndex((v) => v !== '' && !NUMBER.test(v))
    if (badGeo >= 0) { rejected.push({ line, reason: `column ${badGeo + 7} "${geo[badGeo] as string}" is not a number` }); continue }
    const time = parseTime(created, COMPACT_TIME, timeZone)
    if (time === null) { rejected.push({ line, reason: `unparseable DateTime_Created "${created}" (expected YYYYMMDDHHMMSS)` }); continue }
    events.push({ employeeId, onDuty: code === 'BON', time, line })
  }
  return { format: 'bobo', rows: records.length, events, rejected }
}
