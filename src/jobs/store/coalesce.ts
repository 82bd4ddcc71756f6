/**
 * Coalescing (CoalesceOptions): triggers of one key join one job until it starts, and it starts after a quiet
 * moment of `debounceMs`, at the latest `maxWaitMs` after its first trigger. A trigger that surely finds the job
 * not started joins it with no round trip; a runner on another instance may start it up to a quarter debounce early.
 */
import { randomUUID } from 'node:crypto'
import type { CoalescedJob, EnqueueResult, JobDocument } from '../types.js'
import { dedupeKeyId, type StoreContext } from './context.js'

/** Clock difference tolerated between this instance and a runner elsewhere. */
const CLOCK_MARGIN_MS = 100

/**
 * A trigger time is written once it would move the job's start, as other instances see it, by more than this
 * share of the debounce: a runner elsewhere may start the job up to that much early, and a burst of triggers
 * costs a few writes per debounce instead of one per trigger.
 */
const RECORD_SHARE = 0.25

/** The coalesced job of a key that this instance made or joined. */
interface KnownJob {
  /** As last read or written here; `runAfter` moves on as runners here hold it back. */
  job: JobDocument
  /** The latest trigger this instance joined it with. */
  lastTriggerAt: number
  /** The latest trigger time this instance wrote for it; its first trigger, its creation, every runner knows. */
  recordedAt: number
}

/** A trigger's round trip to find or make the key's job; one at a time per key on an instance. */
interface Lookup {
  result: Promise<EnqueueResult>
  /** Triggers up to this arrival number came before it started, so its answer holds for them too. */
  serves: number
}

interface KeyState {
  known: KnownJob | null
  /** The id the next job made here for this key gets, so that callers can name it before it exists. */
  nextJobId: string
  /** Triggers of the key that arrived here so far. */
  arrivals: number
  lookup: Lookup | null
}

/** Makes the key's job under `jobId`, or joins the one its dedupe key leads to (enqueue.ts). */
export type CreateOrJoin = (jobId: string) => Promise<EnqueueResult>

export function createCoalescing (ctx: StoreContext) {
  const { jobs, keys, triggers } = ctx
  /** Names this instance's trigger records. */
  const instance = randomUUID()
  const states = new Map<string, KeyState>()

  function stateOf (kind: string, key: string): KeyState {
    const id = dedupeKeyId(kind, key)
    let state = states.get(id)
    if (state === undefined) {
      state = { known: null, nextJobId: randomUUID(), arrivals: 0, lookup: null }
      states.set(id, state)
    }
    return state
  }

  /** What a trigger of `key` would join now, as far as this instance knows. */
  function coalesced (kind: string, key: string): CoalescedJob {
    const state = stateOf(kind, key)
    const job = state.known?.job
    if (job !== undefined && Date.now() <= job.runAfter.getTime() + CLOCK_MARGIN_MS) {
      return { jobId: job._id, queued: true, runAfter: job.runAfter }
    }
    return { jobId: state.nextJobId, queued: false, runAfter: null }
  }

  /** A job never starts before its runAfter, which only moves later while it has not started. */
  function surelyWaiting (state: KeyState, now: number): state is KeyState & { known: KnownJob } {
    return state.known !== null && now < state.known.job.runAfter.getTime() - CLOCK_MARGIN_MS
  }

  /**
   * Joins the key's job, or has `createOrJoin` make one. With no round trip while the known job surely waits;
   * else through a lookup, which triggers arriving meanwhile wait for (it usually leaves a job known to wait).
   */
  async function trigger (kind: string, key: string, createOrJoin: CreateOrJoin): Promise<EnqueueResult> {
    const state = stateOf(kind, key)
    const arrival = ++state.arrivals
    for (;;) {
      if (surelyWaiting(state, Date.now())) return joinKnown(state.known, Date.now())
      const current = state.lookup
      if (current === null) break
      // One that started after this trigger arrived looked for a job on its behalf too.
      if (arrival <= current.serves) return joined(state, (await current.result).job, Date.now())
      await current.result.catch(() => {})
    }
    const lookup: Lookup = { result: lookUp(kind, key, state, createOrJoin), serves: state.arrivals }
    state.lookup = lookup
    try {
      return await lookup.result
    } finally {
      if (state.lookup === lookup) state.lookup = null
    }
  }

  async function lookUp (kind: string, key: string, state: KeyState, createOrJoin: CreateOrJoin) {
    const now = Date.now()
    const waiting = state.known === null ? null : await stillJoinable(kind, key, state.known.job._id)
    if (waiting !== null) return joinKnown(learn(state, waiting, now), now)
    const jobId = state.nextJobId
    let result: EnqueueResult | null = null
    try {
      result = await createOrJoin(jobId)
    } finally {
      // Once used, or maybe used (an enqueue that failed half way may still make a job with it), never again.
      if (result === null || result.job._id === jobId) state.nextJobId = randomUUID()
    }
    const known = learn(state, result.job, now)
    return result.created ? result : joinKnown(known, now)
  }

  /** The answer for a trigger that joined `job`, through another trigger's lookup. */
  async function joined (state: KeyState, job: JobDocument, now: number): Promise<EnqueueResult> {
    if (state.known?.job._id === job._id) return joinKnown(state.known, now)
    return { job, created: false, reusedBy: 'coalesce' }
  }

  /** The live job `jobId` when its key still leads to it: it has not started, so it takes the trigger. */
  async function stillJoinable (kind: string, key: string, jobId: string): Promise<JobDocument | null> {
    // Both at once: one round trip's wait.
    const [keyDoc, job] = await Promise.all([
      keys.findOne({ _id: dedupeKeyId(kind, key) }),
      jobs.findOne({ _id: jobId })
    ])
    if (keyDoc?.jobId !== jobId || job === null) return null
    return job.status === 'queued' || job.status === 'running' ? job : null
  }

  function learn (state: KeyState, job: JobDocument, now: number): KnownJob {
    const before = state.known?.job._id === job._id ? state.known : null
    const runAfter = Math.max(job.runAfter.getTime(), before?.job.runAfter.getTime() ?? 0)
    state.known = {
      job: { ...job, runAfter: new Date(runAfter) },
      lastTriggerAt: Math.max(now, before?.lastTriggerAt ?? 0),
      recordedAt: before?.recordedAt ?? job.createdAt.getTime()
    }
    return state.known
  }

  async function joinKnown (known: KnownJob, now: number): Promise<EnqueueResult> {
    known.lastTriggerAt = Math.max(known.lastTriggerAt, now)
    await recordTrigger(known, now)
    return { job: known.job, created: false, reusedBy: 'coalesce' }
  }

  /** Writes this instance's latest trigger of the job where runners elsewhere read it, when that matters. */
  async function recordTrigger (known: KnownJob, now: number): Promise<void> {
    const { job, recordedAt } = known
    if (job.coalesce === undefined) return // a plain dedupe job has no quiet moment to wait for
    const { debounceMs, maxWaitMs } = job.coalesce
    const latestStart = job.createdAt.getTime() + maxWaitMs
    // The start a runner elsewhere would give the job from what this instance wrote, and the one this trigger asks.
    const seenElsewhere = Math.max(job.runAfter.getTime(), Math.min(recordedAt + debounceMs, latestStart))
    const wanted = Math.min(now + debounceMs, latestStart)
    if (wanted - seenElsewhere <= debounceMs * RECORD_SHARE) return
    known.recordedAt = now // before the write: triggers meanwhile need not write too
    try {
      const record = { jobId: job._id, at: new Date(now) }
      await triggers.updateOne({ _id: `${job._id}:${instance}` }, { $set: record }, { upsert: true })
      settledAfter(known, Math.min(now + debounceMs, latestStart))
    } catch {
      // The trigger has joined the job all the same; without its time a runner elsewhere may only start the job
      // sooner. The next trigger writes again.
      known.recordedAt = recordedAt
    }
  }

  /**
   * A trigger record just landed. If the job's start was still surely ahead, no runner has read the records
   * since it could claim the job, so every runner from now on reads this one and holds the job until `start`:
   * triggers here join it with no round trip until then, as after a hold.
   */
  function settledAfter (known: KnownJob, start: number): void {
    const { runAfter } = known.job
    if (Date.now() < runAfter.getTime() - CLOCK_MARGIN_MS && start > runAfter.getTime()) {
      known.job = { ...known.job, runAfter: new Date(start) }
    }
  }

  /**
   * When a coalesced job may start, asked by a runner that has won its claim: a quiet `debounceMs` after its
   * latest trigger (this instance's, or one recorded by any), capped at `maxWaitMs` after its creation.
   */
  async function settleAt (job: JobDocument): Promise<Date | null> {
    if (job.coalesce === undefined) return null
    const { debounceMs, maxWaitMs } = job.coalesce
    const latestStart = job.createdAt.getTime() + maxWaitMs
    if (Date.now() >= latestStart) return null
    const here = knownHere(job)?.lastTriggerAt ?? 0
    const recorded = await triggers.find({ jobId: job._id }).toArray()
    const last = Math.max(job.createdAt.getTime(), here, ...recorded.map((r) => r.at.getTime()))
    return new Date(Math.min(last + debounceMs, latestStart))
  }

  function knownHere (job: JobDocument): KnownJob | null {
    if (job.dedupeKey === null) return null
    const known = states.get(dedupeKeyId(job.kind, job.dedupeKey))?.known ?? null
    return known?.job._id === job._id ? known : null
  }

  /** A runner here held the job back until `until`: triggers here join it without a round trip until then. */
  function held (job: JobDocument, until: Date): void {
    const known = knownHere(job)
    if (known !== null && until > known.job.runAfter) known.job = { ...known.job, runAfter: until }
  }

  /** The job started or was cancelled: it takes no more triggers, and its trigger records are done with. */
  async function ended (job: JobDocument): Promise<void> {
    if (knownHere(job) !== null && job.dedupeKey !== null) {
      const state = stateOf(job.kind, job.dedupeKey)
      state.known = null
      if (state.lookup === null) states.delete(dedupeKeyId(job.kind, job.dedupeKey))
    }
    if (job.coalesce !== undefined) await triggers.deleteMany({ jobId: job._id })
  }

  return { coalesced, trigger, settleAt, held, ended }
}

export type Coalescing = ReturnType<typeof createCoalescing>
