import { DAY_MS } from '../../integration.js'
/** Calendar dates as `YYYY-MM-DD` strings in UTC: what Insight's date filters take. */

/** `YYYY-MM-DD` (production) or `YYYYMMDD` (the SOP's DATS) → `YYYY-MM-DD`; null when it is not a real date. */
export function parseInsightDate (value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  const text = String(value).trim()
  const match = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text)
  if (match === null) return null
  const iso = `${match[1]}-${match[2]}-${match[3]}`
  return isCalendarDate(iso) ? iso : null
}

/** True for a `YYYY-MM-DD` string naming a day that exists (no 2026-02-30). */
export function isCalendarDate (value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value
}

export function addDays (day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** Days from `from` to `to`, both included. */
export function spanDays (from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1
}

/**
 * The default window, computed when a run starts (never at boot): the previous UTC day, widened backwards by
 * `lookbackDays` because serials appear only once an order ships, often days after it was created.
 */
export function defaultWindow (now: Date, lookbackDays: number): { from: string, to: string } {
  const to = addDays(now.toISOString().slice(0, 10), -1)
  return { from: addDays(to, -lookbackDays), to }
}

/**
 * Splits an inclusive range into consecutive windows of at most `maxDays` days. Windows do not share a
 * boundary day, so no day is fetched twice; from == to is one window.
 */
export function splitWindows (from: string, to: string, maxDays: number): Array<{ from: string, to: string }> {
  const windows: Array<{ from: string, to: string }> = []
  for (let start = from; start <= to; start = addDays(start, maxDays)) {
    const end = addDays(start, maxDays - 1)
    windows.push({ from: start, to: end < to ? end : to })
  }
  return windows
}
