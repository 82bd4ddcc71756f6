import { defineIntegration, type Integration } from '../src/integration.js'

/**
 * No-op jobs for the job-engine benchmark. `onRun(jobId)` is called as a job's handler runs (the bench counts
 * executions per job id with it, so a job run twice shows up); the handler does nothing else.
 */
export function benchIntegration (onRun: (jobId: string) => void = () => {}): Integration {
  return defineIntegration({
    name: 'bench',
    title: 'Bench',
    summary: 'No-op jobs for bench:jobs.',
    config: {},
    setup () {
      return {
        jobs: {
          'bench.noop': {
            async handler ({ job }) {
              onRun(job._id)
              return null
            }
          }
        }
      }
    }
  })
}
