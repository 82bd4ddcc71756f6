/** One day in milliseconds: retention periods and daily schedules count in days. */
export const DAY_MS = 86_400_000

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS }

/** Pattern for duration variables: `90s`, `5m`, `1h`, `250ms`, a plain number of seconds, or `off`. */
export const DURATION_PATTERN = '^(off|0|\\d+(\\.\\d+)?(ms|s|m|h|d)?)$'

/** Milliseconds for a duration string; null for `off` or `0` (a switched-off interval). */
export function parseDuration (value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim())
  if (value.trim() === 'off' || match === null) return null
  const ms = Number(match[1]) * (UNITS[match[2] ?? 's'] as number)
  return ms > 0 ? Math.round(ms) : null
}
