import { stringify } from 'csv-stringify/sync'

export const CSV_COLUMNS = ['personalNumber', 'givenName', 'familyName', 'email', 'department', 'title', 'status'] as const

/** One CSV row as its seven fields, in CSV_COLUMNS order (compact: 100k rows stay small). */
export type CsvRow = [string, string, string, string, string, string, string]

/** The `hr.employee` fields the gateway reads. */
export const EMPLOYEE_FIELDS = ['name', 'work_email', 'job_title', 'department_id', 'active'] as const

/** An employee as Odoo's `search_read` returns it: `false` for empty fields, `[id, name]` many2ones. */
export interface OdooEmployee {
  id: number | string
  name?: string | false
  work_email?: string | false
  job_title?: string | false
  department_id?: [number, string] | false
  active?: boolean
}

export const STATUS_ACTIVE = 'Active'
export const STATUS_INACTIVE = 'Inactive'

/**
 * A copy of `s` that does not point into the string it was cut from. Values parsed from an XML page are
 * slices of the page: keeping one would keep the whole page (≈0.5 MB) alive for as long as the row lives.
 */
function detached (s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1)
}

/** Odoo's `false` (and anything that is not text) becomes an empty string; text is trimmed. */
function text (value: unknown): string {
  return typeof value === 'string' ? detached(value.trim()) : ''
}

/** Trimmed name split at the first run of whitespace; a one-word name has an empty family name. */
export function splitName (name: unknown): { givenName: string, familyName: string } {
  const trimmed = text(name)
  const match = /^(\S+)\s+([\s\S]+)$/.exec(trimmed)
  if (match === null) return { givenName: trimmed, familyName: '' }
  return { givenName: detached(match[1] as string), familyName: detached((match[2] as string).trim()) }
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

/**
 * Rows sorted by personalNumber (numerically), serialised by csv-stringify with RFC 4180 quoting (fields with
 * a comma, quote, CR or LF are quoted, quotes doubled), LF line ends; the header first unless told otherwise.
 */
export function renderCsv (rows: CsvRow[], header = true): string {
  rows.sort((a, b) => Number(a[0]) - Number(b[0]))
  if (rows.length === 0) return header ? `${CSV_COLUMNS.join(',')}\n` : ''
  return stringify(rows, { header, columns: [...CSV_COLUMNS], record_delimiter: '\n' })
}
