import type { Integration } from '../src/integration.js'

/** No-op jobs for the job-engine benchmark; `bench.record` notes each execution so duplicates can be counted. */
export const benchIntegration: Integration = {
  name: 'bench',
  setup ({ db }) {
    const runs = db.collection<{ jobId: string, pid: number }>('bench_runs')
    return {
      jobs: {
        'bench.noop': {
          async handler ({ job }) {
            await runs.insertOne({ jobId: job._id, pid: process.pid })
            return null
          }
        }
      }
    }
  }
}
