import { Cron } from 'croner'
import type { Collection, Db } from 'mongodb'
import type { Logger } from '../lib/logger.js'
import { isDuplicateKeyError } from '../lib/mongo-errors.js'
import { AsyncTask, CronJob, LongIntervalJob, SimpleIntervalJob, type ToadScheduler } from 'toad-scheduler'

/** The longest delay a Node.js timer takes (2^31 - 1 ms, about 24.85 days). */
const MAX_TIMER_MS = 2_147_483_647
import type { JobService } from '../jobs/service.js'
import type { JobStatus } from '../jobs/types.js'
import type { ScheduleDefinition } from './types.js'

interface ScheduleRunDocument {
  _id: string
  lastJobId: string
  lastSlot: string
  lastEnqueuedAt: Date
}

export interface ScheduleView {
  id: string
  kind: string
  type: 'interval' | 'cron'
  everyMs: number | null
  cron: string | null
  timezone: string | null
  enabled: boolean
  nextRunAt: string | null
  lastJob: { id: string, status: JobStatus | null, slot: string, enqueuedAt: string } | null
}

interface Entry {
  definition: ScheduleDefinition
  enabled: boolean
  cron: Cron | null
  nextIntervalRun: number | null
}

/**
 * Timers that only enqueue. Each tick enqueues under an idempotency key derived from its time slot, so when
 * several instances tick for the same slot, one job is created and the others are answered with it. (A dedupe
 * key would not do: it stops coalescing once the job starts, so an instance ticking later in the same slot
 * would make a second job.)
 */
export function createScheduler (toad: ToadScheduler, jobs: JobService, db: Db, log: Logger, disabled: ReadonlySet<string>) {
  const runs: Collection<ScheduleRunDocument> = db.collection<ScheduleRunDocument>('schedule_runs')
  const entries = new Map<string, Entry>()
  let started = false

  function add (definition: ScheduleDefinition): void {
    if (entries.has(definition.id)) throw new Error(`schedule ${definition.id} is defined twice`)
    if ((definition.everyMs === undefined) === (definition.cron === undefined)) {
      throw new Error(`schedule ${definition.id} needs exactly one of everyMs and cron`)
    }
    if (definition.everyMs !== undefined && !(definition.everyMs >= 1000)) {
      throw new Error(`schedule ${definition.id}: interval must be at least 1 s`)
    }
    // Parsing here makes a bad expression or time zone stop start-up with the schedule's name.
    let cron: Cron | null = null
    if (definition.cron !== undefined) {
      try {
        cron = new Cron(definition.cron, { timezone: definition.timezone ?? 'UTC', paused: true })
      } catch (err) {
        throw new Error(`schedule ${definition.id}: invalid cron "${definition.cron}" (${(err as Error).message})`)
      }
    }
    const enabled = definition.enabled !== false && !disabled.has(definition.id)
    entries.set(definition.id, { definition, enabled, cron, nextIntervalRun: null })
  }

  /** The slot a tick belongs to: the cron time it fired for, or the interval window it fell in. */
  function slotOf (entry: Entry, now: number): string {
    if (entry.cron !== null) {
      const [first, second] = entry.cron.nextRuns(2, new Date(now))
      const period = first && second ? second.getTime() - first.getTime() : 60_000
      // The tick fires at (or just after) its scheduled time; look back a little to find that time.
      const tolerance = Math.min(30_000, period / 2)
      const slot = entry.cron.nextRun(new Date(now - tolerance)) ?? new Date(now)
      return slot.toISOString()
    }
    const every = entry.definition.everyMs as number
    return new Date(Math.floor(now / every) * every).toISOString()
  }

  async function fire (entry: Entry): Promise<void> {
    const { id, kind, params } = entry.definition
    const now = Date.now()
    if (entry.definition.everyMs !== undefined) entry.nextIntervalRun = now + entry.definition.everyMs
    const slot = slotOf(entry, now)
    const { job, created } = await jobs.enqueue(kind, params ?? {}, {
      trigger: 'schedule',
      idempotencyKey: `schedule:${id}:${slot}`,
      scheduleId: id
    })
    const update = { $set: { lastJobId: job._id, lastSlot: slot, lastEnqueuedAt: new Date(now) } }
    await runs.updateOne({ _id: id }, update, { upsert: true }).catch(async (err: unknown) => {
      // Two instances upserting the same new schedule at once: one insert wins, the other just updates.
      if (!isDuplicateKeyError(err)) throw err
      await runs.updateOne({ _id: id }, update)
    })
    log.info({ scheduleId: id, jobId: job._id, slot, created }, created ? 'schedule enqueued a job' : 'schedule slot already enqueued')
  }

  function start (): void {
    if (started) return
    started = true
    for (const entry of entries.values()) {
      if (!entry.enabled) continue
      const { id } = entry.definition
      const task = new AsyncTask(id, () => fire(entry), (err) => { log.error({ err, scheduleId: id }, 'schedule could not enqueue its job') })
      if (entry.cron !== null) {
        toad.addCronJob(new CronJob({ cronExpression: entry.definition.cron as string, timezone: entry.definition.timezone ?? 'UTC' }, task, { id, preventOverrun: true }))
      } else {
        const every = entry.definition.everyMs as number
        entry.nextIntervalRun = Date.now() + every
        // setInterval stops at ~24.85 days; toad-scheduler's LongIntervalJob chains timers beyond that.
        if (every > MAX_TIMER_MS) toad.addLongIntervalJob(new LongIntervalJob({ milliseconds: every }, task, { id, preventOverrun: true }))
        else toad.addSimpleIntervalJob(new SimpleIntervalJob({ milliseconds: every }, task, { id, preventOverrun: true }))
      }
    }
  }

  function stop (): void {
    toad.stop()
  }

  async function list (): Promise<ScheduleView[]> {
    const ids = [...entries.keys()]
    const stored = await runs.find({ _id: { $in: ids } }).toArray()
    const byId = new Map(stored.map((r) => [r._id, r]))
    const lastJobs = await Promise.all(stored.map((r) => jobs.get(r.lastJobId)))
    const statusById = new Map(lastJobs.filter((j) => j !== null).map((j) => [j._id, j.status]))
    return [...entries.values()].map((entry) => {
      const { definition: d } = entry
      const run = byId.get(d.id)
      let nextRunAt: string | null = null
      if (entry.enabled && started) {
        nextRunAt = entry.cron !== null
          ? entry.cron.nextRun()?.toISOString() ?? null
          : entry.nextIntervalRun === null ? null : new Date(entry.nextIntervalRun).toISOString()
      }
      return {
        id: d.id,
        kind: d.kind,
        type: d.cron !== undefined ? 'cron' : 'interval',
        everyMs: d.everyMs ?? null,
        cron: d.cron ?? null,
        timezone: d.cron !== undefined ? d.timezone ?? 'UTC' : null,
        enabled: entry.enabled,
        nextRunAt,
        lastJob: run === undefined
          ? null
          : { id: run.lastJobId, status: statusById.get(run.lastJobId) ?? null, slot: run.lastSlot, enqueuedAt: run.lastEnqueuedAt.toISOString() }
      }
    })
  }

  return {
    add,
    start,
    stop,
    list,
    isRunning: (): boolean => started,
    /** Runs one schedule's tick now (tests); keyed by the current slot like a timer tick, so it joins that slot's job. */
    fireNow: async (id: string): Promise<void> => {
      const entry = entries.get(id)
      if (entry === undefined) throw new Error(`unknown schedule ${id}`)
      await fire(entry)
    }
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
