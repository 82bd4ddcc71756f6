import type { JobParams } from '../jobs/types.js'

/** A timer that enqueues a job. Exactly one of `everyMs` and `cron` is set. */
export interface ScheduleDefinition {
  /** Unique id, `<integration>.<name>`; used in dedupe keys and `SCHEDULES_DISABLED`. */
  id: string
  kind: string
  params?: JobParams
  everyMs?: number
  cron?: string
  /** IANA zone for cron expressions (default UTC). */
  timezone?: string
  /** false switches it off (e.g. an interval configured as `off`). */
  enabled?: boolean
  description?: string
}
