import { stringify } from 'csv-stringify/sync'

export const CSV_COLUMNS = ['personalNumber', 'givenName', 'familyName', 'email', 'department', 'title', 'status'] as const

/** Where each column sits in a CsvRow: rows are addressed by column name, e.g. `row[COL.status]`. */
export const COL = { personalNumber: 0, givenName: 1, familyName: 2, email: 3, department: 4, title: 5, status: 6 } as const

/** One CSV row as its seven fields, in CSV_COLUMNS order (compact: 100k rows stay small); index it with COL. */
export type CsvRow = [string, string, string, string, string, string, string]

/** The `hr.employee` fields the gateway reads. */
export const EMPLOYEE_FIELDS = ['name', 'work_email', 'job_title', 'department_id', 'company_id', 'active'] as const

/** An employee as Odoo's `search_read` returns it: `false` for empty fields, `[id, name]` many2ones. */
export interface OdooEmployee {
  id: number | string
  name?: string | false
  work_email?: string | false
  job_title?: string | false
  department_id?: [number, string] | false
  company_id?: [number, string] | false
  active?: boolean
}

export const STATUS_ACTIVE = 'Active'
export const STATUS_INACTIVE = 'Inactive'

/** Odoo's `false` (and anything that is not text) becomes an empty string; text is trimmed. */
function text (value: unknown): string {
  return typeof value === 'string' ? value.trim() : ''
}

/** Trimmed name split at the first run of whitespace; a one-word name has an empty family name. */
export function splitName (name: unknown): { givenName: string, familyName: string } {
  const trimmed = text(name)
  const match = /^(\S+)\s+([\s\S]+)$/.exec(trimmed)
  if (match === null) return { givenName: trimmed, familyName: '' }
  return { givenName: match[1] as string, familyName: (match[2] as string).trim() }
}

/** Odoo ids come as `<int>` but may come as numeric strings (`<i8>`, future big ids). */
export function odooId (value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null
}

export function toCsvRow (employee: OdooEmployee, offset: number): CsvRow {
  const id = odooId(employee.id)
  if (id === null) throw new Error(`Odoo returned an employee with an invalid id ${JSON.stringify(employee.id)}`)
  const { givenName, familyName } = splitName(employee.name)
  const department = Array.isArray(employee.department_id) ? text(employee.department_id[1]) : ''
  return [
    String(id + offset),
    givenName,
    familyName,
    text(employee.work_email),
    department,
    text(employee.job_title),
    employee.active === false ? STATUS_INACTIVE : STATUS_ACTIVE
  ]
}

export interface CsvOptions {
  /** Prefix `'` to values a spreadsheet would run as a formula (OWASP "CSV injection"); off by default. */
  formulaGuard?: boolean
}

const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029]/g
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g
const FORMULA_START = /^[=+\-@\t\r]/
// eslint-disable-next-line no-control-regex
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/**
 * A value as the CSV carries it: line breaks become a space (every record stays on one line, as the IGA tool's
 * importer expects), other control characters are removed, and with the formula guard a leading `=`, `+`, `-`,
 * `@`, tab or CR gets a `'` in front so a spreadsheet shows the text instead of running it.
 */
export function cleanValue (value: string, options: CsvOptions = {}): string {
  if (value === '') return value
  // One test instead of two replaces: nearly every value has nothing to clean.
  const clean = NEEDS_CLEANING.test(value) ? value.replace(LINE_BREAKS, ' ').replace(CONTROL_CHARACTERS, '') : value
  return options.formulaGuard === true && FORMULA_START.test(clean) ? `'${clean}` : clean
}

/**
 * Rows sorted by personalNumber (numerically), each value cleaned (see cleanValue), serialised by
 * csv-stringify with RFC 4180 quoting (fields with a comma or quote are quoted, quotes doubled), LF line ends;
 * the header first unless told otherwise.
 */
export function renderCsv (rows: CsvRow[], header = true, options: CsvOptions = {}): string {
  rows.sort((a, b) => Number(a[COL.personalNumber]) - Number(b[COL.personalNumber]))
  if (rows.length === 0) return header ? `${CSV_COLUMNS.join(',')}\n` : ''
  const cleaned = rows.map((row) => row.map((value) => cleanValue(value, options)))
  return stringify(cleaned, { header, columns: [...CSV_COLUMNS], record_delimiter: '\n' })
}
