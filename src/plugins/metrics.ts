import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface GatewayMetrics {
  registry: Registry
  /** Called by the integrations plugin for every upstream call an integration's client makes. */
  upstreamCall: (integration: string, call: { target: string, operation: string, outcome: 'ok' | 'error', seconds: number }) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

/**
 * Prometheus metrics, one registry per app (tests build many apps in one process): HTTP durations by route and
 * status, jobs by kind and state (counted in MongoDB at scrape time, so every instance reports the same
 * truth), job durations and retries from this instance's runner, and upstream calls per integration.
 */
export default fp(async (app) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'gateway_process_' })

  const httpDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request durations by route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry]
  })
  const store = app.jobs.store
  registry.registerMetric(new Gauge({
    name: 'gateway_jobs',
    help: 'Jobs in the database by kind and status (live and kept finished jobs).',
    labelNames: ['kind', 'status'] as const,
    registers: [],
    async collect () {
      this.reset()
      for (const row of await store.countByStatus()) this.set({ kind: row.kind, status: row.status }, row.count)
    }
  }))
  const jobDuration = new Histogram({
    name: 'gateway_job_duration_seconds',
    help: 'Run time of job attempts on this instance, by kind and outcome.',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800],
    registers: [registry]
  })
  const jobRetries = new Counter({
    name: 'gateway_job_retries_total',
    help: 'Job attempts that failed with a retryable error and were scheduled again, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry]
  })
  const upstreamCalls = new Counter({
    name: 'gateway_upstream_calls_total',
    help: 'Calls to upstream systems by integration, target, operation and outcome.',
    labelNames: ['integration', 'target', 'operation', 'outcome'] as const,
    registers: [registry]
  })
  const upstreamDuration = new Histogram({
    name: 'gateway_upstream_call_duration_seconds',
    help: 'Durations of upstream calls by integration and target.',
    labelNames: ['integration', 'target'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry]
  })

  app.jobs.runner.events.on('finished', ({ job, outcome, durationMs }) => {
    jobDuration.observe({ kind: job.kind, outcome }, durationMs / 1000)
    if (outcome === 'retry') jobRetries.inc({ kind: job.kind })
  })

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded; unknown routes share one label.
    const route = request.routeOptions.url ?? 'unmatched'
    httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  app.decorate('metrics', {
    registry,
    upstreamCall (integration, call) {
      upstreamCalls.inc({ integration, target: call.target, operation: call.operation, outcome: call.outcome })
      upstreamDuration.observe({ integration, target: call.target }, call.seconds)
    }
  } satisfies GatewayMetrics)
}, { name: 'metrics', dependencies: ['jobs'] })
