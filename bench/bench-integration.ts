import { defineIntegration } from '../src/integration.js'

/**
 * No-op jobs for the job-engine benchmark. With `params.record` a job notes its execution in `bench_runs` so the
 * multi-instance run can count duplicates; without it the handler does nothing at all.
 */
export const benchIntegration = defineIntegration({
  name: 'bench',
  title: 'Bench',
  summary: 'No-op jobs for bench:jobs.',
  config: {},
  setup ({ db }) {
    const runs = db.collection<{ jobId: string, pid: number }>('bench_runs')
    return {
      jobs: {
        'bench.noop': {
          async handler ({ job, params }) {
            if (params.record === true) await runs.insertOne({ jobId: job._id, pid: process.pid })
            return null
          }
        }
      }
    }
  }
})
