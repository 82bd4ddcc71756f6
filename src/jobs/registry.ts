import type { JobKindDefinition } from './types.js'

/** Job kind → definition, filled by the integrations at start-up. */
export function createJobRegistry () {
  const definitions = new Map<string, JobKindDefinition>()
  let kindList: string[] = []
  return {
    define (kind: string, definition: JobKindDefinition): void {
      if (definitions.has(kind)) throw new Error(`job kind ${kind} is defined twice`)
      // Handlers are typed per kind by their integration; the registry stores them uniformly.
      definitions.set(kind, definition as JobKindDefinition)
      kindList = [...definitions.keys()]
    },
    get: (kind: string): JobKindDefinition | undefined => definitions.get(kind),
    has: (kind: string): boolean => definitions.has(kind),
    kinds: (): string[] => kindList
  }
}

export type JobRegistry = ReturnType<typeof createJobRegistry>
