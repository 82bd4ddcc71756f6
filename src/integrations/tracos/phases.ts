/** Wall-clock time a run spends per phase, for operators (`phasesMs` in the job result) and the bench. */
export const PHASES = ['list', 'read', 'validate', 'mongoRead', 'mongoWrite', 'outboundWrite', 'markSynced', 'archive', 'reject'] as const
export type Phase = typeof PHASES[number]
export type PhasesMs = Record<Phase, number>

export interface PhaseTimer {
  /** Runs `fn` and adds its wall-clock time to `phase`. */
  time: <T>(phase: Phase, fn: () => Promise<T>) => Promise<T>
  /** Same for synchronous work. */
  timeSync: <T>(phase: Phase, fn: () => T) => T
  /** Milliseconds per phase, rounded. */
  snapshot: () => PhasesMs
}

export function createPhaseTimer (): PhaseTimer {
  const totals = Object.fromEntries(PHASES.map((p) => [p, 0])) as PhasesMs
  return {
    async time (phase, fn) {
      const started = performance.now()
      try {
        return await fn()
      } finally {
        totals[phase] += performance.now() - started
      }
    },
    timeSync (phase, fn) {
      const started = performance.now()
      try {
        return fn()
      } finally {
        totals[phase] += performance.now() - started
      }
    },
    snapshot () {
      return Object.fromEntries(PHASES.map((p) => [p, Math.round(totals[p])])) as PhasesMs
    }
  }
}
