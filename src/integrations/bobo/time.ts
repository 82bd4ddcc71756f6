/**
 * Wall-clock conversions in an IANA zone with Intl only: BOBO writes naive local times and AtHoc expects
 * `dd/MM/yyyy HH:mm:ss` in the same zone.
 */
const formatters = new Map<string, Intl.DateTimeFormat>()
const offsets = new Map<string, number>()

function formatter (timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'
    })
    formatters.set(timeZone, f)
  }
  return f
}

export interface WallClock { year: number, month: number, day: number, hour: number, minute: number, second: number }

export function wallClock (date: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(date)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return { year: parts.year as number, month: parts.month as number, day: parts.day as number, hour: parts.hour as number, minute: parts.minute as number, second: parts.second as number }
}

/** Throws on an unknown zone, so config mistakes surface at start-up. */
export function checkTimeZone (timeZone: string): void {
  formatter(timeZone)
}

/** The instant of a local wall-clock time in a zone; null when that time does not exist (invalid date). */
export function zonedTime (w: WallClock, timeZone: string): Date | null {
  if (w.month < 1 || w.month > 12 || w.day < 1 || w.day > 31 || w.hour > 23 || w.minute > 59 || w.second > 59) return null
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  const check = new Date(asUtc)
  if (check.getUTCDate() !== w.day || check.getUTCMonth() !== w.month - 1) return null
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return check
  // The offset is the same for every time in one wall-clock hour (DST switches on the hour): cache it per hour.
  const hourKey = `${timeZone}|${w.year}-${w.month}-${w.day}-${w.hour}`
  const cached = offsets.get(hourKey)
  if (cached !== undefined) return new Date(asUtc - cached)
  // Two passes settle the offset, DST transitions included.
  let guess = asUtc
  for (let i = 0; i < 2; i++) {
    const seen = wallClock(new Date(guess), timeZone)
    const seenUtc = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second)
    guess += asUtc - seenUtc
  }
  if (offsets.size > 10_000) offsets.clear()
  offsets.set(hourKey, asUtc - guess)
  return new Date(guess)
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** `dd/MM/yyyy HH:mm:ss` in the zone: the format AtHoc's duty field takes. */
export function formatAthocTime (date: Date, timeZone: string): string {
  const w = wallClock(date, timeZone)
  return `${pad(w.day)}/${pad(w.month)}/${pad(w.year, 4)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`
}

/** `YYYY-MM-DD` of the instant in the zone. */
export function localDate (date: Date, timeZone: string): string {
  const w = wallClock(date, timeZone)
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`
}
