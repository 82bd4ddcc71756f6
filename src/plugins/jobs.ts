import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import { createLocks, type Locks } from '../jobs/locks.js'
import { createJobRegistry, type JobRegistry } from '../jobs/registry.js'
import { createJobRunner, type JobRunner } from '../jobs/runner.js'
import { createJobService, type JobService } from '../jobs/service.js'
import { createJobStore, type JobStore } from '../jobs/store.js'
import { serverSortsClaims } from '../jobs/store/non-atomic-server.js'

export interface JobEngine extends JobService {
  store: JobStore
  registry: JobRegistry
  runner: JobRunner
  locks: Locks
  instanceId: string
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobEngine
  }
}

/** The durable job engine: store, registry, runner. The runner starts once every integration has defined its kinds. */
export default fp(async (app) => {
  const { config } = app
  const { db } = app.mongo
  const instanceId = config.INSTANCE_ID || `${hostname()}:${process.pid}`
  const store = createJobStore(db, { maxAttempts: config.JOBS_MAX_ATTEMPTS, sortedClaims: await serverSortsClaims(db) })
  await store.ensureIndexes()
  const locks = createLocks(db)
  const registry = createJobRegistry()
  const runner = createJobRunner(store, locks, registry, {
    instanceId,
    concurrency: config.JOBS_CONCURRENCY,
    pollIntervalMs: config.JOBS_POLL_INTERVAL_MS,
    leaseMs: config.JOBS_LEASE_MS,
    defaultTimeoutMs: config.JOBS_TIMEOUT_MS,
    backoff: { baseMs: config.JOBS_BACKOFF_BASE_MS, maxMs: config.JOBS_BACKOFF_MAX_MS },
    log: app.log.child({ component: 'job-runner' })
  })
  const service = createJobService(store, registry, runner)
  app.decorate('jobs', { ...service, store, registry, runner, locks, instanceId })
}, { name: 'jobs', dependencies: ['config', 'mongo'] })
