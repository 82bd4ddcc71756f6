/** Wall-clock time a run spends per phase, for operators (`phasesMs` in the job result) and the bench. */
export const PHASES = ['list', 'read', 'validate', 'mongoRead', 'mongoWrite', 'outboundWrite', 'markSynced', 'archive', 'reject'] as const
export type Phase = typeof PHASES[number]
export type PhasesMs = Record<Phase, number>

export interface PhaseTimer {
  /** Runs `fn` and counts its time under `phase`. */
  time: <T>(phase: Phase, fn: () => Promise<T>) => Promise<T>
  /** Same for synchronous work. */
  timeSync: <T>(phase: Phase, fn: () => T) => T
  /** Milliseconds per phase, rounded. */
  snapshot: () => PhasesMs
}

/**
 * Counts, per phase, the time during which at least one call of it was running: overlapping calls of one
 * phase (pipelined chunks) are not counted twice. Different phases may overlap each other.
 */
export function createPhaseTimer (now: () => number = () => performance.now()): PhaseTimer {
  const totals = Object.fromEntries(PHASES.map((p) => [p, 0])) as PhasesMs
  const active = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>
  const since = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>
  const enter = (phase: Phase): void => {
    if (active[phase]++ === 0) since[phase] = now()
  }
  const leave = (phase: Phase): void => {
    if (--active[phase] === 0) totals[phase] += now() - since[phase]
  }
  return {
    async time (phase, fn) {
      enter(phase)
      try {
        return await fn()
      } finally {
        leave(phase)
      }
    },
    timeSync (phase, fn) {
      enter(phase)
      try {
        return fn()
      } finally {
        leave(phase)
      }
    },
    snapshot () {
      return Object.fromEntries(PHASES.map((p) => [p, Math.round(totals[p] + (active[p] > 0 ? now() - since[p] : 0))])) as PhasesMs
    }
  }
}
